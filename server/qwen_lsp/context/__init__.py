"""What the model gets to read: the server's own copy of each document and its tree-sitter
tree, the window of text around the cursor cut at syntactic boundaries, and token estimates.

Pure functions and small classes over text and trees; nothing here imports pygls or
lsprotocol, so the CLI and the tests use it without a language server.
"""
