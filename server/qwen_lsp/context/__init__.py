"""What the model gets to read: the server's own copy of each document and its tree-sitter
tree, the window of text around the cursor cut at syntactic boundaries, the workspace symbol
index (definitions and imports from tag queries kept as `.scm` data, stored on disk), the
related code proposed from it and from open documents, and the token budget they share.

Functions and small classes over text, trees and a folder's files; nothing here imports
pygls or lsprotocol, so the CLI and the tests use it without a language server. Reading order:
parsing → extract (the window) → tags, imports → index → snippets (sources) → ranking (budget
and layout).
"""
