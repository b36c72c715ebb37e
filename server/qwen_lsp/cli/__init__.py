"""The `qwen-lsp` command line: `main` dispatches, one module per command (check, doctor,
prompt, stats, cache) calls the engine. Exit codes are the same for every command."""

EXIT_OK, EXIT_FINDINGS, EXIT_PROBLEM = 0, 1, 2
EXIT_INTERRUPTED = 128  # plus the signal's number, as shells report it: 130 SIGINT, 143 SIGTERM
