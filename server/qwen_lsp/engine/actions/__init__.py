"""The code action use case: the plain data (`model`), listing for free (`offers`), running one
with at most one paid call (`running`), the regions actions work on (`regions`), the smallest
edits (`edits`), and the "Write unit tests" job with the project's conventions
(`writing_tests`, `conventions`). Templates come through `qwen_lsp.prompts`."""
