"""`qwen-lsp eval [PATH]`: which model pays off on this code.

Cuts `--samples` holes from the repository (seeded: `--seed` gives the same holes every
time), fills each with each `--models` SPEC (`provider:model[@baseUrl]`; default: the
configured completion model) through the editor's completion path, and prints a table (text),
the JSON report or a self-contained HTML page with charts. A progress bar goes to stderr when
it is a terminal. `--dry-run` prints what filling would cost and sends nothing; `--max-cost`
stops paying once this run spent that much (in `spend.currency`): the report is partial
(`complete: false`), as it is after Ctrl-C or when an endpoint keeps failing.

Exit: 0 done (also a partial report cut by `--max-cost` or a signal); 2 usage, config or
provider error (the report of what was done is still written).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from qwen_lsp.cli import EXIT_OK, EXIT_PROBLEM
from qwen_lsp.config import LoadedSettings, load_settings, needs_key
from qwen_lsp.context.files import ReadPolicy
from qwen_lsp.engine import (
    KEY_HELP,
    ChartsUnavailable,
    EvalSpend,
    ModelSpec,
    TestRunner,
    cut_holes,
    estimate_eval,
    eval_html,
    eval_report,
    eval_rows,
    eval_table,
    run_eval,
    workspace_folder,
)
from qwen_lsp.spend import load_prices

DEFAULT_SAMPLES = 100
DEFAULT_SEED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository or folder (default: .)")
    parser.add_argument(
        "--models",
        help="comma-separated provider:model[@baseUrl] (default: the configured model)",
    )
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="holes to cut")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="which holes (stable)")
    parser.add_argument("--test-cmd", help="shell command run in a copy of the repository")
    parser.add_argument(
        "--test-timeout", type=float, default=120.0, help="seconds per test run (default 120)"
    )
    parser.add_argument(
        "--include-tests", action="store_true", help="cut holes from test files too"
    )
    parser.add_argument("--format", choices=["text", "json", "html"], default="text")
    parser.add_argument("--output", help="write the report to this file (default: stdout)")
    parser.add_argument("--dry-run", action="store_true", help="estimate the cost, send nothing")
    parser.add_argument("--max-cost", type=float, help="stop paying at this much (spend.currency)")


def _err(message: str) -> None:
    print(f"qwen-lsp eval: {message}", file=sys.stderr)


def _models(
    args: argparse.Namespace, root: Path, overrides: dict[str, Any]
) -> list[tuple[ModelSpec, LoadedSettings]]:
    base = load_settings(root, roots=(root,), cli=overrides)
    for problem in base.problems:
        _err(problem)
    if not args.models:
        settings = base.settings
        url = f"@{base.base_url}" if base.base_url else ""
        spec = ModelSpec.parse(f"{settings.provider}:{settings.completion_model}{url}")
        return [(spec, base)]
    models = []
    for text in args.models.split(","):
        if not text.strip():
            continue
        spec = ModelSpec.parse(text)
        loaded = load_settings(root, roots=(root,), cli={**overrides, **spec.overrides()})
        models.append((spec, loaded))
    if len({spec.spec for spec, _ in models}) != len(models):
        raise ValueError("a model is named twice in --models")
    return models


def _keys_missing(models: list[tuple[ModelSpec, LoadedSettings]]) -> list[str]:
    return [
        f"no API key for {spec.spec}: {KEY_HELP[loaded.settings.provider]}"
        for spec, loaded in models
        if loaded.api_key is None and needs_key(loaded.settings, loaded.base_url)
    ]


class ProgressBar:
    """A one-line bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.started = time.monotonic()

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.live or total <= 0:
            return
        width = 30
        filled = width * done // total
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {label} {elapsed:5.0f} s")
        self.stream.flush()
        if done == total:
            self.stream.write("\n")


def run_eval_command(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.samples < 1:
        _err("--samples must be at least 1")
        return EXIT_PROBLEM
    if args.format == "html" and importlib.util.find_spec("plotly") is None:
        _err(
            "the HTML report draws its charts with plotly: install the eval extra "
            "(from a clone: pip install '.[eval]'), or use --format text or json"
        )
        return EXIT_PROBLEM
    if args.max_cost is not None and args.max_cost < 0:
        _err("--max-cost must not be negative")
        return EXIT_PROBLEM
    path = Path(args.path).resolve()
    if not path.is_dir():
        _err(f"{args.path}: not a folder")
        return EXIT_PROBLEM
    root = workspace_folder(path)  # the git work tree holding it, else the folder
    if path != root and root not in path.parents:
        root = path
    try:
        models = _models(args, root, overrides)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_PROBLEM
    if not models:
        _err("--models names no model")
        return EXIT_PROBLEM
    missing = _keys_missing(models)
    if missing and not args.dry_run:
        for line in missing:
            _err(line)
        return EXIT_PROBLEM
    settings = models[0][1].settings
    policy = ReadPolicy(tuple(settings.exclude), settings.max_file_size)
    relative = path.relative_to(root).as_posix() if path != root else "."
    holes, texts = cut_holes(
        root,
        samples=args.samples,
        seed=args.seed,
        policy=policy,
        include_tests=args.include_tests,
        paths=[relative],
    )
    if not holes:
        _err(f"no holes to cut under {path}: no source file of a parsed language")
        return EXIT_PROBLEM
    pairs = [(hole, texts[hole.path]) for hole in holes]

    def show(message: str) -> None:
        print(message, file=sys.stderr)

    if args.dry_run:
        estimates = asyncio.run(estimate_eval(models, root, pairs, show=show))
        print(f"{len(holes)} holes (seed {args.seed}); nothing sent.")
        for e in estimates:
            print(
                f"  {e.spec.spec}: {e.holes - e.cached} to ask ({e.cached} cached), "
                f"~{e.input_tokens} input + ~{e.output_tokens} output tokens, "
                f"~{e.cost:.4f} {e.currency or '(no price)'}"
            )
        return EXIT_OK
    tests: TestRunner | None = None
    if args.test_cmd:
        tests = TestRunner(root, args.test_cmd, timeout=args.test_timeout)
        if not tests.passes():
            tests.close()
            _err(f"the tests fail before any hole is cut ({args.test_cmd!r}); fix them first")
            return EXIT_PROBLEM
    spend = EvalSpend(args.max_cost, settings.spend.currency)
    bar = ProgressBar(sys.stderr)

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()

        def interrupt() -> None:
            spend.interrupted = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupt)
        try:
            return await run_eval(
                models, root, pairs, show=show, spend=spend, tests=tests, progress=bar
            )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    started = time.monotonic()
    try:
        runs = asyncio.run(main())
    finally:
        if tests is not None:
            tests.close()
    price_file = settings.spend.price_file
    prices = load_prices(Path(price_file).expanduser() if price_file else None)
    data = eval_report(runs, holes, seed=args.seed, prices=prices, complete=True)
    for run in runs:
        if run.stopped:
            _err(f"{run.spec.spec} stopped after {len(run.filled)} holes: {run.stopped}")
    show(f"{len(holes)} holes x {len(models)} models in {time.monotonic() - started:.1f} s")
    table = eval_table(data)
    if args.format == "json":
        text = json.dumps(data, indent=2) + "\n"
    elif args.format == "html":
        try:
            currency = settings.spend.currency
            per_100 = [
                prices.convert(m["cost"]["per_100"], m["cost"]["currency"], currency)
                for m in data["models"]
            ]
            text = eval_html(data, eval_rows(runs), table, per_100=per_100, currency=currency)
        except ChartsUnavailable as exc:
            _err(str(exc))
            return EXIT_PROBLEM
    else:
        text = table + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _err(f"cannot write {args.output}: {exc}")
            return EXIT_PROBLEM
    else:
        sys.stdout.write(text)
    return EXIT_PROBLEM if any(run.failed for run in runs) else EXIT_OK
