"""The `qwen-lsp` command: the language server by default, and the tools around it.

`qwen-lsp [--stdio]` serves LSP on stdin/stdout; `doctor`, `stats` (the spend ledger),
`cache stats|clear`, `prompt`, `eval` (which model pays off on this code) and `--version` are
for people. Setting flags (`--provider`, `--model`,
...) are the highest-priority source. Heavy modules (pygls, the SDKs) are imported only by the
commands that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qwen_lsp import __version__
from qwen_lsp.cli import EXIT_OK, EXIT_PROBLEM

COMMANDS = ("doctor", "cache", "stats", "prompt", "eval")


def _setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (override every other source)")
    group.add_argument("--provider", choices=["dashscope", "openai", "openai-compatible"])
    group.add_argument("--model", help="completion model")
    group.add_argument("--chat-model", dest="chatModel", help="model for actions and reviews")
    group.add_argument("--base-url", dest="baseUrl", help="endpoint URL")
    group.add_argument("--region", choices=["beijing", "singapore", "us", "hongkong"])
    group.add_argument(
        "--prompt-mode", dest="promptMode", choices=["auto", "fim", "partial", "chat"]
    )
    group.add_argument("--cache-dir", dest="cache_dir", help="answer cache folder")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in ("provider", "model", "chatModel", "baseUrl", "region", "promptMode"):
        value = getattr(args, key, None)
        if value is not None:
            raw[key] = value
    if getattr(args, "cache_dir", None):
        # cache.dir must be absolute; on a command line a relative one means the current folder.
        raw["cache"] = {"dir": str(Path(args.cache_dir).expanduser().absolute())}
    return raw


def _server_parser(review_options: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-lsp",
        description="AI completions from Qwen-Coder or GPT over LSP. "
        f"Commands: {', '.join(COMMANDS)} (qwen-lsp COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve LSP on stdio (the default)")
    parser.add_argument(
        "--check",
        nargs="*",
        metavar="PATH",
        help="AI review of PATHs (default: .) as a CI step; see the review options below",
    )
    if review_options:  # only then: the server's start-up does not pay for the review engine
        from qwen_lsp.cli.check import add_arguments

        add_arguments(parser)
    _setting_flags(parser)
    return parser


def _command_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qwen-lsp")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check settings, key, endpoint and prompt modes")
    doctor.add_argument("--offline", action="store_true", help="do not contact the endpoint")
    doctor.add_argument("folder", nargs="?", default=".", help="project folder (default: .)")
    _setting_flags(doctor)
    cache = sub.add_parser("cache", help="disk cache size and hit rate, or empty it")
    cache.add_argument("action", choices=["stats", "clear"])
    _setting_flags(cache)
    stats = sub.add_parser("stats", help="spend and savings: today, last 7 days, all time")
    stats.add_argument("--format", choices=["text", "json"], default="text")
    _setting_flags(stats)
    prompt = sub.add_parser("prompt", help="show the prompt that would be sent at FILE:LINE:COL")
    prompt.add_argument("location", help="FILE:LINE:COL, 1-based")
    _setting_flags(prompt)
    evaluate = sub.add_parser("eval", help="which model pays off on this code: holes filled")
    from qwen_lsp.cli.eval import add_arguments

    add_arguments(evaluate)
    _setting_flags(evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        args = _command_parser().parse_args(argv)
        if args.command == "doctor":
            from qwen_lsp.cli.doctor import run_doctor

            return run_doctor(Path(args.folder), _overrides(args), offline=args.offline)
        if args.command == "cache":
            from qwen_lsp.cli.cache import run_cache_command

            return run_cache_command(args.action, _overrides(args))
        if args.command == "prompt":
            from qwen_lsp.cli.prompt import run_prompt_inspector

            return run_prompt_inspector(args.location, _overrides(args))
        if args.command == "eval":
            from qwen_lsp.cli.eval import run_eval_command
            from qwen_lsp.log import setup_logging

            setup_logging("warning")
            return run_eval_command(args, _overrides(args))
        if args.command == "stats":
            from qwen_lsp.cli.stats import run_stats

            return run_stats(_overrides(args), output_format=args.format)
        print(f"qwen-lsp {args.command}: not available in this version yet", file=sys.stderr)
        return EXIT_PROBLEM
    review = any(a in ("--check", "-h", "--help") or a.startswith("--check=") for a in argv)
    args = _server_parser(review).parse_args(argv)
    if args.check is not None:
        return _check(args)
    return _serve(_overrides(args))


def _check(args: argparse.Namespace) -> int:
    from qwen_lsp.cli.check import options_from, run_check
    from qwen_lsp.log import setup_logging

    setup_logging("warning")
    try:
        options = options_from(args)
    except ValueError as exc:
        print(f"qwen-lsp: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    return run_check(options, _overrides(args))


def _serve(overrides: dict[str, Any]) -> int:
    if _stdin_is_a_terminal():
        _greet_a_person()
    from qwen_lsp.log import setup_logging

    setup_logging("info")
    with loading():
        # The symbol index's workers start first, and list the workspace folder the editor's
        # `initialize` names (read now, replayed to pygls): that overlaps loading the server
        # (pygls and lsprotocol take most of a second), and a restart's index check ends
        # sooner.
        from qwen_lsp.engine import start_index_workers, start_listing
        from qwen_lsp.lsp.first_message import Replay, first_folder, read_first_message

        # A person at a terminal gets no workers before an `initialize` (a Ctrl-C would end
        # them with their own tracebacks); the server starts them then, as for any client.
        person = _stdin_is_a_terminal()
        first = None if person else read_first_message(sys.stdin.buffer)
        folder = first_folder(first.message) if first is not None else None
        workers, ahead = None, {}
        if folder is not None:
            workers, ahead = start_listing(folder)
        elif not person:
            workers = start_index_workers(at_start=True)
        from qwen_lsp.lsp import create_server

        server = create_server(overrides, index_workers=workers, listed_ahead=ahead)
    server.start_io(stdin=Replay(first.raw, sys.stdin.buffer) if first is not None else None)
    return EXIT_OK


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Loading the server makes hundreds of thousands of objects (lsprotocol alone makes 600
    attrs classes) that live as long as it does: the garbage collector's passes over them while
    they are made take a seventh of the start, and each later full pass would walk them again.
    No collection while loading; what was loaded is then set aside for good (`gc.freeze`)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _stdin_is_a_terminal() -> bool:
    """Whether a person started the server by hand (editors give it a pipe)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):  # closed or detached stdin: not a person
        return False


def _greet_a_person() -> None:
    """One line on stderr (stdout belongs to the protocol) for whoever typed `qwen-lsp`, and a
    Ctrl-C that ends it: pygls's reader thread blocks on the terminal and would keep the
    process alive after its KeyboardInterrupt. Nothing has been served to a terminal, so
    leaving at once loses nothing."""
    import os
    import signal

    print(
        f"qwen-lsp {__version__}: an AI language server, waiting for an editor to talk LSP on "
        "stdin; editors start it themselves as `qwen-lsp --stdio`. Try `qwen-lsp doctor` or "
        "`qwen-lsp --help`; Ctrl-C quits.",
        file=sys.stderr,
        flush=True,
    )

    def leave(_signal: int, _frame: object) -> None:
        os._exit(EXIT_OK)

    signal.signal(signal.SIGINT, leave)
