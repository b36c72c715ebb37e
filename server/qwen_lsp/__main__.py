"""`python -m qwen_lsp` runs the same entry point as the `qwen-lsp` console script."""

import sys

from qwen_lsp.cli.main import main

sys.exit(main())
