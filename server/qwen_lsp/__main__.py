"""`python -m qwen_lsp` runs the same entry point as the `qwen-lsp` console script."""

import os
import sys

# Guarded: the symbol index's worker processes ("spawn") import this module again as
# `__mp_main__`, and must not start a second server, nor pay for importing one.
if __name__ == "__main__":
    # `python -m` puts the working folder first on the import path. Started in a repository
    # someone else wrote, its `secrets.py` or `json.py` would be imported in place of the
    # standard library's, and run: take that entry out before anything else is imported (the
    # console script never has it).
    first = sys.path[0] if sys.path else None
    unsafe = first is not None and not getattr(sys.flags, "safe_path", False)
    if unsafe and (first in ("", os.curdir) or os.path.abspath(first) == os.getcwd()):
        del sys.path[0]
    from qwen_lsp.cli.main import main

    sys.exit(main())
