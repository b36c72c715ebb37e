"""`python -m qwen_lsp` runs the same entry point as the `qwen-lsp` console script."""

import sys

# Guarded: the symbol index's worker processes ("spawn") import this module again as
# `__mp_main__`, and must not start a second server, nor pay for importing one.
if __name__ == "__main__":
    from qwen_lsp.cli.main import main

    sys.exit(main())
