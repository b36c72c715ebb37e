"""`python -m qwen_lsp`, started inside a repository, never imports the repository's modules
in place of the standard library's (the working folder is first on `python -m`'s path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_python_m_in_a_hostile_repository_imports_none_of_its_modules(tmp_path: Path):
    marker = tmp_path / "ran"
    planted = f"open({str(marker)!r}, 'w').write('imported')\n"
    # names the server imports from the standard library on its way to the CLI
    for name in ("secrets", "json", "logging", "argparse", "typing", "dataclasses"):
        (tmp_path / f"{name}.py").write_text(planted)
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
