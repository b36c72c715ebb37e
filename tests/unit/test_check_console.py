"""`--check` progress: a bar on a terminal, a line per tenth of the work in a CI log."""

from __future__ import annotations

import io

from qwen_lsp.cli.check import Console
from qwen_lsp.engine.review.run import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(console: Console, total: int) -> None:
    for done in range(1, total + 1):
        console.progress(Progress(done, total, findings=done // 10, cost=0.0, currency="USD"))


def test_a_log_gets_one_plain_line_per_tenth():
    log = io.StringIO()
    run(Console(log), 40)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11  # the first chunk says the work started, then every tenth
    assert lines[0] == "qwen-lsp: review 0% (1/40 chunks · 0 findings)"
    assert lines[1] == "qwen-lsp: review 10% (4/40 chunks · 0 findings)"
    assert lines[-1] == "qwen-lsp: review 100% (40/40 chunks · 4 findings)"
    assert "\r" not in log.getvalue()


def test_a_terminal_gets_a_bar_redrawn_in_place():
    terminal = Terminal()
    console = Console(terminal)
    run(console, 4)
    console.say("done")
    out = terminal.getvalue()
    assert out.count("\r") == 4
    assert "\rreview [############------------] 2/4 chunks" in out
    assert out.endswith("4/4 chunks · 0 findings\x1b[K\nqwen-lsp: done\n")
