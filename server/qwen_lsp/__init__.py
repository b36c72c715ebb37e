"""qwen-lsp: AI inline completions and code actions over the Language Server Protocol."""

__version__ = "0.1.0"
