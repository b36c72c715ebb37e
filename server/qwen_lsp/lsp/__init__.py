"""The Language Server Protocol layer: the only package that imports pygls or lsprotocol.

Each handler translates LSP params into plain data, calls the engine, and translates back.
"""
