"""Report formats that are pure text: colours, escaping, caps."""

from __future__ import annotations

from qwen_lsp.model import Finding
from qwen_lsp.reporting import Report, render
from qwen_lsp.reporting.github import ANNOTATIONS_PER_LEVEL, render_github


def finding(line: int, severity: str = "warning", message: str = "m", **kw) -> Finding:
    return Finding("a.py", line, line, severity, "rule", message, fingerprint=f"f{line}", **kw)


def test_text_colours_only_when_asked():
    report = Report((finding(1, "error"),))
    assert "\x1b[31m" in render("text", report, color=True)
    assert "\x1b[" not in render("text", report, color=False)


def test_text_without_findings():
    assert render("text", Report(())) == "no findings\n"


def test_github_escapes_data_and_properties():
    f = Finding("dir/a,b.py", 3, 4, "info", "r:1", "50% done\nnext", suggestion="x = 1")
    [line] = render_github(Report((f,))).commands.splitlines()
    assert line == (
        "::notice file=dir/a%2Cb.py,line=3,endLine=4,title=qwen-lsp%3A r%3A1::"
        "50%25 done%0Anext%0A%0ASuggested change:%0Ax = 1"
    )


def test_github_caps_each_level_separately():
    findings = tuple(finding(n, "error") for n in range(1, 13)) + tuple(
        finding(n, "warning") for n in range(13, 16)
    )
    output = render_github(Report(findings))
    assert output.shown == ANNOTATIONS_PER_LEVEL + 3
    assert output.summary.count("| `a.py` |") == 15
    assert render_github(Report(findings), capped=False).shown == 15
