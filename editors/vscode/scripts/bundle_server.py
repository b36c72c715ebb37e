"""Puts the qwen-lsp server into the VS Code extension before it is packaged.

The extension installs the server it carries into a private virtual environment (see the
extension's README). This script fills editors/vscode/server/, which git ignores:

- `server/qwen_lsp-<version>-py3-none-any.whl`, the built wheel (always);
- with --offline-for PYTHON (once per interpreter), `server/wheels/`: every dependency wheel
  for that Python's version on 64-bit Linux with glibc 2.28 or newer (manylinux), so the
  linux-x64 package installs the server with no package index at all
  (`pip install --no-index --find-links`). Each Python fetches its own wheels because pip
  evaluates a requirement's markers (`tomli; python_version < '3.11'`) with the interpreter
  that runs it, whatever `--python-version` says. CI passes CPython 3.10, 3.11, 3.12 and 3.13.

    python -m build --outdir artifacts                        # the wheel (and the sdist)
    python editors/vscode/scripts/bundle_server.py artifacts/qwen_lsp-0.1.0-py3-none-any.whl
    (cd editors/vscode && npm run package)                    # the .vsix for every platform
    python editors/vscode/scripts/bundle_server.py artifacts/qwen_lsp-0.1.0-py3-none-any.whl \\
        --offline-for python3.10 --offline-for python3.11 --offline-for python3.12 ...
    (cd editors/vscode && npm run package:linux-x64)          # the offline linux-x64 .vsix

The dependency wheels are fetched by pip from the package index pip is configured with.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

EXTENSION = Path(__file__).resolve().parent.parent
BUNDLE = EXTENSION / "server"
WHEELS = BUNDLE / "wheels"

# manylinux tags up to glibc 2.28 (pip takes each --platform literally, so each is listed).
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)


def python_version(python: str) -> str:
    """`3.12` for a CPython 3.12 interpreter."""
    out = subprocess.run(
        [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def download_dependencies(wheel: Path, pythons: list[str]) -> list[str]:
    """Every wheel the server needs on each Python, binary only (nothing to build there)."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    versions = []
    for python in pythons:
        version = python_version(python)
        versions.append(version)
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        command = [
            python,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            version,
            *platforms,
            "--dest",
            str(WHEELS),
            str(wheel),
        ]
        print(f"bundle_server: dependency wheels for CPython {version} (manylinux x86_64)")
        subprocess.run(command, check=True)
    # pip copies the server's own wheel too; the extension takes it from server/ only.
    (WHEELS / wheel.name).unlink(missing_ok=True)
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the built qwen_lsp-*.whl")
    parser.add_argument(
        "--offline-for",
        action="append",
        default=[],
        metavar="PYTHON",
        help="also carry every dependency wheel for linux-x64 on this interpreter's version",
    )
    args = parser.parse_args(argv)
    wheel: Path = args.wheel.resolve()
    if not (wheel.is_file() and wheel.name.startswith("qwen_lsp-") and wheel.suffix == ".whl"):
        parser.error(f"{args.wheel} is not a qwen_lsp-*.whl file")
    shutil.rmtree(BUNDLE, ignore_errors=True)
    BUNDLE.mkdir()
    shutil.copy2(wheel, BUNDLE / wheel.name)
    versions = download_dependencies(wheel, args.offline_for) if args.offline_for else []
    count = len(list(WHEELS.glob("*.whl"))) if WHEELS.is_dir() else 0
    covers = f" for CPython {', '.join(versions)} on linux-x64" if versions else ""
    print(f"bundle_server: {BUNDLE} holds {wheel.name} and {count} dependency wheels{covers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
