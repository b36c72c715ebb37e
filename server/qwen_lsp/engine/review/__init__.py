"""The review use case, shared by `qwen-lsp --check` and review on save: the code cut into
chunks (`chunks`), the lines a diff changed (`diff`), the prompt (`prompt`), the answer read
back as findings (`answers`) and the run that pays for them (`run`)."""
