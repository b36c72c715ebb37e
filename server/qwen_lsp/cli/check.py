"""`qwen-lsp --check`: the AI review as a CI step, with a linter's output formats and exit codes.

It picks the files (paths honouring .gitignore and `exclude`, or the hunks of `--diff`) and
reads them through the workspace's door (`context/files.py`: a committed link to a file outside
the repository, into .git/ or to an ignored or secret file is named once on stderr and never
read), cuts them into chunks, runs the review engine with `--jobs` requests at a time, drops
what the baseline accepted, writes the report (`--format`, `--output`) and says on stderr
what the run cost and what the cache saved. Paths are relative to the repository root (the
folder holding `.git`) wherever the command runs, so reports and cache keys do not depend on
the folder it was started in; paths given on the command line are relative to that folder.
Progress goes to stderr: a bar on a terminal, a line every tenth of the work in a CI log.
`--dry-run` shows what would be sent and its price on every model of the price table (as JSON
with `--format json`), and sends nothing.

It never reports a clean run it did not make: a path that does not exist, an invalid setting,
or a run that did not review every chunk (a failing endpoint, `--timeout`, a signal) exits 2,
and the report written with what finished says it is incomplete. SIGINT and SIGTERM end the
run there: the report is written and the exit code is 130 or 143. Exit codes: 0 nothing at or
above the fail level, 1 findings, 2 a usage, settings or provider problem or an incomplete
review (whatever it found), 130/143 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from qwen_lsp import __version__, errors
from qwen_lsp.cli import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEM
from qwen_lsp.config import CheckEnvironment, check_environment, load_settings, project_root
from qwen_lsp.context.files import BINARY, Refusal, WorkspaceFiles
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine import (
    ChangedFile,
    Chunk,
    ChunkPreview,
    DiffError,
    MalformedAnswer,
    ModelEstimate,
    Progress,
    ReviewRun,
    Runtime,
    changed_chunks,
    estimate_costs,
    git_changes,
    git_range_changes,
    git_staged_changes,
    parse_unified_diff,
    preview,
    revision_range,
    run_review,
    whole_file_chunks,
)
from qwen_lsp.log import escape_controls
from qwen_lsp.model import SEVERITIES, Finding
from qwen_lsp.reporting import FORMATS, Report, RunSummary, render
from qwen_lsp.reporting.baseline import BaselineError, baseline_text, load_baseline
from qwen_lsp.reporting.github import render_github
from qwen_lsp.storage import write_text_no_follow

FAIL_LEVELS = (*SEVERITIES, "none")
DEFAULT_BASELINE = ".qwen-lsp-baseline.json"
MAX_JOBS = 64
DRY_RUN_FORMATS = ("text", "json")
# Settings problems that mean a value was invalid and replaced or dropped (not a setting the
# folder's trust level refused): a review run on defaults it was not given is not the review
# that was asked for.
_INVALID_SETTING = re.compile(
    r"(^|: )setting '[^']*': .*; (using the default|using defaults|ignored)$"
    r"|^unknown setting '"
    r"|^config file .*; ignoring it$"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--check` options, on the top-level parser (`--check` itself takes the paths)."""
    group = parser.add_argument_group("review (with --check)")
    # Paths may also come after the other options: `--check --diff main src`.
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    group.add_argument(
        "--diff",
        metavar="REF",
        help="review only the lines changed since git REF (its merge base with HEAD); "
        "'-' reads a unified diff from standard input",
    )
    group.add_argument(
        "--staged",
        action="store_true",
        help="review only the lines staged for the next commit (the index against HEAD)",
    )
    group.add_argument(
        "--pre-commit",
        dest="pre_commit",
        action="store_true",
        help="what a pre-commit hook reviews: the range pre-commit passes "
        "(PRE_COMMIT_FROM_REF...PRE_COMMIT_TO_REF) when set, else the staged lines; a named "
        "file with nothing staged is reviewed whole (pre-commit run --all-files)",
    )
    group.add_argument("--format", choices=FORMATS, help="report format (default: text)")
    group.add_argument(
        "--fail-level",
        dest="fail_level",
        choices=FAIL_LEVELS,
        help="exit 1 when a finding is at this severity or above (default: error)",
    )
    group.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    group.add_argument("--jobs", type=int, metavar="N", help="requests at a time (default: 4)")
    group.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="show what would be sent and its cost on each model; send nothing",
    )
    group.add_argument(
        "--baseline",
        metavar="FILE",
        help="accept the findings listed in FILE: report only new ones",
    )
    group.add_argument(
        "--write-baseline",
        dest="write_baseline",
        action="store_true",
        help=f"write the findings to the baseline file (default {DEFAULT_BASELINE}) and exit 0",
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="end the run after SECONDS and report what finished as incomplete "
        "(default: review.runTimeout, 1800)",
    )
    group.add_argument(
        "--max-cost",
        dest="max_cost",
        type=float,
        metavar="AMOUNT",
        help="stop before a request could take the run's spend past AMOUNT (in spend.currency)",
    )


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...] = ()
    diff: str | None = None
    format: str = "text"
    fail_level: str = "error"
    output: str | None = None
    jobs: int = 4
    dry_run: bool = False
    baseline: str | None = None
    write_baseline: bool = False
    max_cost: float | None = None
    staged: bool = False
    pre_commit: bool = False
    timeout: float | None = None  # seconds; None: review.runTimeout


def options_from(args: argparse.Namespace) -> CheckOptions:
    """CheckOptions from parsed arguments; ValueError names a bad value."""
    jobs = 4 if args.jobs is None else args.jobs
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    if args.max_cost is not None and args.max_cost < 0:
        raise ValueError(f"--max-cost must not be negative, got {args.max_cost:g}")
    if sum((args.diff is not None, bool(args.staged), bool(args.pre_commit))) > 1:
        raise ValueError("give one of --diff, --staged and --pre-commit")
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not timeout > 0:
        raise ValueError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if args.dry_run and (args.format or "text") not in DRY_RUN_FORMATS:
        raise ValueError(f"--dry-run writes {' or '.join(DRY_RUN_FORMATS)}, not {args.format}")
    return CheckOptions(
        paths=(*(args.check or ()), *(args.paths or ())),
        diff=args.diff,
        format=args.format or "text",
        fail_level=args.fail_level or "error",
        output=args.output,
        jobs=jobs,
        dry_run=args.dry_run,
        baseline=args.baseline,
        write_baseline=args.write_baseline,
        max_cost=args.max_cost,
        staged=bool(args.staged),
        pre_commit=bool(args.pre_commit),
        timeout=timeout,
    )


def _for_pre_commit(options: CheckOptions, environment: CheckEnvironment) -> CheckOptions:
    """`--pre-commit` as the range pre-commit passes (--from-ref/--to-ref, a pre-push hook),
    else the staged lines."""
    if not options.pre_commit or environment.pre_commit_range is None:
        return options
    start, end = environment.pre_commit_range
    return replace(options, diff=f"{start}...{end}", pre_commit=False)


# -- running ---------------------------------------------------------------------------------


class Console:
    """stderr for people: messages, and progress as a bar on a terminal or lines in a log."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self._last_tenth = -1
        self._bar_open = False

    def say(self, message: str) -> None:
        self._close_bar()
        # Messages carry data (settings, an endpoint's error text): control characters escaped.
        print(f"qwen-lsp: {escape_controls(message)}", file=self.err, flush=True)

    def progress(self, p: Progress) -> None:
        money = f" · {p.cost:.4f} {p.currency}" if p.cost else ""
        text = f"{p.done}/{p.total} chunks · {p.findings} findings{money}"
        if self.tty:
            filled = round(24 * p.done / max(p.total, 1))
            bar = "#" * filled + "-" * (24 - filled)
            self.err.write(f"\rreview [{bar}] {text}\x1b[K")
            self.err.flush()
            self._bar_open = True
            if p.done == p.total:
                self._close_bar()
            return
        tenth = 10 * p.done // max(p.total, 1)
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            print(f"qwen-lsp: review {tenth * 10}% ({text})", file=self.err, flush=True)

    def _close_bar(self) -> None:
        if self._bar_open:
            self.err.write("\n")
            self._bar_open = False


@dataclass
class Work:
    chunks: list[Chunk]
    files: int
    # each read file's text, for reports that must know where a file ends
    texts: dict[str, str] = field(default_factory=dict)


class _Terminated(Exception):
    """SIGTERM outside the review (during it, the event loop's handler takes it)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


@dataclass
class _Places:
    """Where a run is: `root` the repository root every path is relative to, `cwd` the folder
    it was started in (paths the user typed are relative to it)."""

    root: Path
    cwd: Path


def run_check(
    options: CheckOptions,
    overrides: dict[str, Any],
    *,
    root: Path | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environment: CheckEnvironment | None = None,
) -> int:
    console = Console(stderr or sys.stderr)
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: no SIGTERM handler of ours
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _check(options, overrides, root, stdin, stdout, console, environment)
    except KeyboardInterrupt:
        console.say("interrupted by SIGINT before there was a report to write")
        return EXIT_INTERRUPTED + signal.SIGINT
    except _Terminated:
        console.say("interrupted by SIGTERM before there was a report to write")
        return EXIT_INTERRUPTED + signal.SIGTERM
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _check(
    options: CheckOptions,
    overrides: dict[str, Any],
    root: Path | None,
    stdin: TextIO | None,
    stdout: TextIO | None,
    console: Console,
    environment: CheckEnvironment | None,
) -> int:
    cwd = (root or Path.cwd()).resolve()
    places = _Places(project_root(cwd), cwd)
    stdout = stdout or sys.stdout
    environment = environment or check_environment()
    options = _for_pre_commit(options, environment)
    loaded = load_settings(cwd, roots=(places.root,), cli=overrides)
    for problem in loaded.problems:
        console.say(problem)
    invalid = [p for p in loaded.problems if _INVALID_SETTING.search(p)]
    if invalid:
        console.say(
            f"{len(invalid)} invalid setting{'s' if len(invalid) != 1 else ''} (above): "
            "--check does not run on defaults it was not given; fix the settings"
        )
        return EXIT_PROBLEM
    baseline: frozenset[str] = frozenset()
    if options.baseline and not options.write_baseline:
        try:
            baseline = load_baseline(cwd / options.baseline)
        except BaselineError as exc:
            console.say(str(exc))
            return EXIT_PROBLEM
    runtime = Runtime(loaded, show=console.say)
    outcome = asyncio.run(_run(runtime, options, places, stdin or sys.stdin, stdout, console))
    if outcome is None:
        return EXIT_PROBLEM
    run, work, signalled = outcome
    if run is None:
        return EXIT_OK  # a dry run
    code = _finish(run, work, options, baseline, places, stdout, console, environment, runtime)
    return EXIT_INTERRUPTED + signalled if signalled is not None else code


async def _run(
    runtime: Runtime,
    options: CheckOptions,
    places: _Places,
    stdin: TextIO,
    stdout: TextIO,
    console: Console,
) -> tuple[ReviewRun | None, Work, int | None] | None:
    """The review (None for a dry run) and the signal that ended it, or None when there was
    nothing to be had."""
    try:
        work = _collect(options, runtime, places, stdin, console)
        if work is None:
            return None
        if options.dry_run:
            try:
                _dry_run(runtime, work, options, places, stdout, console)
            except errors.ConfigError as exc:  # a refused prompt template
                console.say(str(exc).removeprefix("qwen-lsp: "))
                return None
            except OSError as exc:
                console.say(f"cannot write the estimate: {exc.strerror or exc}")
                return None
            return None, work, None
        if not work.chunks:
            console.say("nothing to review")
        with _stopper(options.timeout or runtime.settings.review.run_timeout) as stopper:
            run = await run_review(
                runtime,
                work.chunks,
                jobs=options.jobs,
                max_cost=options.max_cost,
                on_progress=console.progress,
                root=places.root,
                stop=stopper.stop,
            )
        return run, work, stopper.signalled
    finally:
        await runtime.aclose()  # waits for the cache writes and the ledger


class _Stopper:
    """What ends a run early from outside: SIGINT, SIGTERM, and the whole-run time limit."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.stop: asyncio.Future[str] = loop.create_future()
        self.signalled: int | None = None
        self.timer = loop.call_later(
            timeout,
            self._end,
            f"--timeout {timeout:g} s reached (review.runTimeout or --timeout sets it)",
        )

    def _end(self, reason: str) -> None:
        if not self.stop.done():
            self.stop.set_result(reason)

    def on_signal(self, signum: int) -> None:
        if self.signalled is None:
            self.signalled = signum
        self._end(f"interrupted by {signal.Signals(signum).name}")


@contextlib.contextmanager
def _stopper(timeout: float) -> Iterator[_Stopper]:
    loop = asyncio.get_running_loop()
    stopper = _Stopper(loop, timeout)
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopper.on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal handlers here (Windows, a thread): Ctrl-C ends the process
    try:
        yield stopper
    finally:
        stopper.timer.cancel()
        for signum in installed:
            loop.remove_signal_handler(signum)
        if not stopper.stop.done():
            stopper.stop.cancel()


def _collect(
    options: CheckOptions, runtime: Runtime, places: _Places, stdin: TextIO, console: Console
) -> Work | None:
    """The chunks to review, or None after saying why there are none to be had."""
    settings = runtime.settings
    root = places.root
    files = runtime.workspace.files(root)
    paths: list[str] = []
    for given in options.paths:
        full = os.path.normpath(os.path.join(places.cwd, given))
        relative = files.relative(full)
        if relative is None:
            console.say(f"{given} is outside {root}: run --check in a folder that holds it")
            return None
        if not os.path.lexists(full):
            console.say(f"{given}: no such file or folder")
            return None
        paths.append(relative or ".")
    if not paths and places.cwd != root:
        paths = [files.relative(places.cwd) or "."]  # started in a subfolder: review it
    changes: dict[str, ChangedFile] | None = None
    whole: set[str] = set()  # files reviewed whole although the run reviews changes
    named = list(paths)
    if options.diff is not None or options.staged or options.pre_commit:
        try:
            found = _changes(options, paths, root, stdin)
        except DiffError as exc:
            console.say(str(exc))
            return None
        changes = {c.path: c for c in found if _under(c.path, tuple(paths))}
        paths = list(changes)
        if options.pre_commit:
            # pre-commit names the files to check; one with nothing staged was named on
            # purpose (run --all-files, run --files): it is reviewed whole, not skipped.
            whole = {p for p in named if p not in changes and (root / p).is_file()}
            if whole:
                console.say(f"{len(whole)} named files have nothing staged: reviewed whole")
            paths += sorted(whole)
        if not paths:
            since = (
                "in the patch"
                if options.diff == "-"
                else f"since {options.diff}"
                if options.diff is not None
                else "in the staged changes"
            )
            under = f" under {', '.join(options.paths)}" if options.paths else ""
            console.say(f"no lines changed {since}{under}")
            return Work([], 0)
    selection = files.select(paths, named_any_kind=changes is None)
    for note in selection.skipped:
        console.say(f"skipped {note}")
    chunks: list[Chunk] = []
    texts: dict[str, str] = {}
    read = 0
    budget = settings.review.chunk_tokens
    for path in selection.files:
        text = _read(files, path, console)
        if text is None:
            continue
        read += 1
        doc = SourceDocument(text, language_for(None, path), encoding="utf-32")
        texts[path] = text
        if changes is None or path in whole:
            chunks.extend(whole_file_chunks(doc, path, budget))
        else:
            chunks.extend(changed_chunks(doc, path, changes[path].hunks, budget))
    return Work(chunks, read, texts)


def _file_lines(text: str) -> tuple[str, ...]:
    """The file's lines, as its chunks count them; a final line break ends the last line and
    starts none."""
    doc = SourceDocument(text, None, encoding="utf-32")
    lines = tuple(doc.line(n) for n in range(doc.line_count))
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _changes(
    options: CheckOptions, paths: list[str], root: Path, stdin: TextIO
) -> list[ChangedFile]:
    if options.staged or options.pre_commit:
        return git_staged_changes(paths, root)
    assert options.diff is not None
    if options.diff == "-":
        return parse_unified_diff(stdin.read())
    span = revision_range(options.diff)
    if span is not None:
        return git_range_changes(span, paths, root)
    return git_changes(options.diff, paths, root)


def _under(path: str, given: tuple[str, ...]) -> bool:
    """Whether `path` is one of the `given` paths or inside one (all of them when none)."""
    if not given:
        return True
    wanted = PurePosixPath(path)
    for prefix in given:
        clean = PurePosixPath(prefix.replace("\\", "/"))
        if str(clean) == "." or wanted == clean or clean in wanted.parents:
            return True
    return False


def _read(files: WorkspaceFiles, path: str, console: Console) -> str | None:
    got = files.read(path)
    if not isinstance(got, Refusal):
        return got
    if got.kind != BINARY:  # binary: nothing to review, and not worth a message
        console.say(f"skipped {got}")
    return None


# -- reporting -------------------------------------------------------------------------------


def _summary(run: ReviewRun, baselined: int) -> RunSummary:
    return RunSummary(
        chunks=len(run.outcomes),
        cached=run.cached,
        failed=len(run.failed),
        skipped=len(run.skipped),
        malformed=run.malformed,
        outside=run.outside,
        over_limit=run.over_limit,
        baselined=baselined,
        calls=run.calls,
        input_tokens=run.usage.input_tokens,
        output_tokens=run.usage.output_tokens,
        cost=run.cost,
        saved=run.saved,
        currency=run.currency,
        stopped=run.stopped,
    )


def _finish(
    run: ReviewRun,
    work: Work,
    options: CheckOptions,
    baseline: frozenset[str],
    places: _Places,
    stdout: TextIO,
    console: Console,
    environment: CheckEnvironment,
    runtime: Runtime,
) -> int:
    findings = tuple(f for f in run.findings if f.fingerprint not in baseline)
    summary = _summary(run, len(run.findings) - len(findings))
    _say_cost(summary, work, console)
    problem = _problem(run, console, runtime)
    if options.write_baseline:
        target = (
            places.cwd / options.baseline if options.baseline else places.root / DEFAULT_BASELINE
        )
        if problem:
            console.say(f"{target} not written: the review is incomplete")
            return EXIT_PROBLEM
        try:
            write_text_no_follow(target, baseline_text(findings))
        except OSError as exc:  # a symbolic link there is refused (ELOOP)
            console.say(f"cannot write {target}: {exc.strerror or exc}")
            return EXIT_PROBLEM
        console.say(f"wrote {len(findings)} findings to {target}")
        return EXIT_OK
    report = Report(
        findings,
        summary,
        __version__,
        # only deletions need to know where their file ends
        file_lines={
            f.path: _file_lines(work.texts[f.path])
            for f in findings
            if f.suggestion == "" and f.path in work.texts
        },
        reviewed_files=tuple(dict.fromkeys(c.path for c in work.chunks)),
    )
    try:
        _write_report(report, options, places.cwd, stdout, console, environment)
    except OSError as exc:
        console.say(f"cannot write the report: {exc}")
        return EXIT_PROBLEM
    if problem:
        return EXIT_PROBLEM
    return EXIT_FINDINGS if _fails(findings, options.fail_level) else EXIT_OK


def _fails(findings: tuple[Finding, ...], fail_level: str) -> bool:
    if fail_level == "none":
        return False
    threshold = SEVERITIES.index(fail_level)
    return any(f.rank <= threshold for f in findings)


def _write_report(
    report: Report,
    options: CheckOptions,
    root: Path,
    stdout: TextIO,
    console: Console,
    environment: CheckEnvironment,
) -> None:
    if options.format == "github":
        output = render_github(report, capped=environment.step_summary is not None)
        text = output.commands
        if environment.step_summary is not None:
            with environment.step_summary.open("a", encoding="utf-8") as fh:
                fh.write(output.summary)
            hidden = len(report.findings) - output.shown
            if hidden:
                console.say(
                    f"{hidden} findings past GitHub's annotation limit are in the job summary"
                )
    else:
        color = (
            options.format == "text"
            and options.output is None
            and stdout.isatty()
            and not environment.no_color
        )
        text = render(options.format, report, color=color)
    _emit(text, "report", options.output, root, stdout, console)


def _emit(
    text: str, what: str, output: str | None, folder: Path, stdout: TextIO, console: Console
) -> None:
    """`text` to `output` (relative to `folder`; never through a link), else to stdout."""
    if output:
        target = folder / output
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_no_follow(target, text)
        console.say(f"{what} written to {target}")
    else:
        stdout.write(text)
        stdout.flush()


def _say_cost(summary: RunSummary, work: Work, console: Console) -> None:
    dropped = summary.malformed + summary.outside
    parts = [
        f"reviewed {summary.chunks - summary.failed - summary.skipped} of {summary.chunks} "
        f"chunks in {work.files} files ({summary.cached} answered from the cache)"
    ]
    if dropped:
        parts.append(
            f"dropped {dropped} findings ({summary.malformed} malformed, "
            f"{summary.outside} outside the reviewed lines)"
        )
    if summary.over_limit:
        parts.append(f"{summary.over_limit} findings over review.maxFindings left out")
    if summary.baselined:
        parts.append(f"{summary.baselined} findings accepted by the baseline")
    console.say("; ".join(parts))
    console.say(
        f"cost: {summary.calls} requests, {summary.input_tokens:,} input + "
        f"{summary.output_tokens:,} output tokens, {summary.cost:.4f} {summary.currency}; "
        f"saved by the cache: {summary.saved:.4f} {summary.currency}"
    )


def _problem(run: ReviewRun, console: Console, runtime: Runtime) -> bool:
    """Say what kept the review from being complete; True when something did."""
    if run.stopped:
        console.say(f"review stopped: {run.stopped}")
    failed = run.failed
    if failed:
        first = failed[0]
        where = f"{first.chunk.path}:{first.chunk.start}-{first.chunk.end}"
        assert first.error is not None
        console.say(
            f"{len(failed)} of {len(run.outcomes)} chunks got no usable answer "
            f"(first: {where}: {_explain(runtime, first.error)})"
        )
    skipped = run.skipped
    if skipped:
        console.say(f"{len(skipped)} chunks were not sent; the report covers the rest")
    return bool(run.stopped or failed or skipped)


def _explain(runtime: Runtime, exc: Exception) -> str:
    if isinstance(exc, MalformedAnswer):
        return str(exc)  # the endpoint worked; the model's answer did not
    return runtime.explain(exc).removeprefix("qwen-lsp: ")


# -- dry run ---------------------------------------------------------------------------------


def _dry_run(
    runtime: Runtime,
    work: Work,
    options: CheckOptions,
    places: _Places,
    stdout: TextIO,
    console: Console,
) -> None:
    previews = preview(runtime, work.chunks, places.root)
    estimates = estimate_costs(runtime, previews)
    if options.format == "json":
        text = json.dumps(_dry_run_json(runtime, work, previews, estimates), indent=2) + "\n"
    else:
        text = _dry_run_text(runtime, work, previews, estimates)
    _emit(text, "estimate", options.output, places.cwd, stdout, console)


def _dry_run_json(
    runtime: Runtime,
    work: Work,
    previews: list[ChunkPreview],
    estimates: list[ModelEstimate],
) -> dict[str, Any]:
    """The estimate for a machine: what would be sent, and its price on every model."""
    to_send = [p for p in previews if not p.cached]
    model = runtime.settings.resolved_chat_model
    table = runtime.ledger.prices
    configured = table.price(model)
    return {
        "version": 1,
        "dryRun": True,
        "files": work.files,
        "chunks": len(previews),
        "toSend": len(to_send),
        "cached": len(previews) - len(to_send),
        "inputTokens": sum(p.input_tokens for p in to_send),
        "maxOutputTokensPerChunk": runtime.settings.review.max_tokens,
        "chatModel": model,
        "pricesDate": table.date,
        "costs": [
            {
                "model": e.model,
                "currency": e.currency,
                "inputCost": round(e.input_cost, 6),
                "worstCost": round(e.worst_cost, 6),
                "configured": configured is not None and configured is table.prices[e.model],
            }
            for e in estimates
        ],
        "perChunk": [
            {
                "path": p.chunk.path,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "reviewedLines": p.chunk.reviewed_lines,
                "inputTokens": p.input_tokens,
                "cached": p.cached,
            }
            for p in previews
        ],
    }


def _dry_run_text(
    runtime: Runtime,
    work: Work,
    previews: list[ChunkPreview],
    estimates: list[ModelEstimate],
) -> str:
    out = io.StringIO()
    print("qwen-lsp --check --dry-run: nothing is sent.", file=out)
    for p in previews:
        chunk = p.chunk
        where = f"{escape_controls(chunk.path)}:{chunk.start}-{chunk.end}"  # a repository's name
        reviewed = (
            "all lines"
            if chunk.reviewed_lines == len(chunk.lines)
            else (f"{chunk.reviewed_lines} lines")
        )
        cached = "  (cached: free)" if p.cached else ""
        print(f"  {where:<48} {reviewed:>10} {p.input_tokens:>8,} tokens{cached}", file=out)
    to_send = [p for p in previews if not p.cached]
    settings = runtime.settings
    print(
        f"{len(previews)} chunks from {work.files} files: {len(to_send)} to send, "
        f"{len(previews) - len(to_send)} answered from the cache",
        file=out,
    )
    input_tokens = sum(p.input_tokens for p in to_send)
    print(
        f"input: {input_tokens:,} tokens (estimated); each answer up to "
        f"{settings.review.max_tokens:,} tokens",
        file=out,
    )
    model = settings.resolved_chat_model
    table = runtime.ledger.prices
    print(
        f"\n{'model':<24} {'input cost':>16} {'at most':>16}   (prices of {table.date})", file=out
    )
    for estimate in estimates:
        mark = " *" if table.price(model) is table.prices[estimate.model] else ""
        print(
            f"{estimate.model + mark:<24} {estimate.input_cost:>12.4f} {estimate.currency} "
            f"{estimate.worst_cost:>12.4f} {estimate.currency}",
            file=out,
        )
    if table.price(model) is None:
        print(f"(no price is known for {model}, the configured chatModel)", file=out)
    else:
        print(f"* the configured chatModel ({model})", file=out)
    return out.getvalue()
