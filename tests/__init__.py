"""qwen-lsp test suite; a package so `tests.fakes` imports from the repository root."""
