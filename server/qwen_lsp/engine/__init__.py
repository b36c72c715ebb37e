"""Use cases shared by the language server and the command line; no JSON-RPC in here."""
