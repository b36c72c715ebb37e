"""`qwen-lsp` with no arguments, as a person types it in a terminal and as an editor starts it.

On a terminal (a pseudo-terminal here, so Ctrl-C is the terminal's own SIGINT to the
foreground process) it says in one line what it is and how editors start it, and Ctrl-C ends
it without a traceback. With stdin a pipe (every editor) it is the language server and says
nothing on stderr's first line that an editor would show as an error.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.harness import clean_env

COMMAND = [sys.executable, "-m", "qwen_lsp"]


def _read_until(fd: int, predicate, timeout: float) -> bytes:
    """What the terminal showed until `predicate(output)` or end of output or `timeout`."""
    output = b""
    deadline = time.monotonic() + timeout
    while not predicate(output) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    return output


def _exit_status(pid: int, timeout: float) -> int:
    """The child's wait status; it is killed (and the test fails) if it has not ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"still running {timeout} s after Ctrl-C")


def test_on_a_terminal_it_says_what_it_is_and_ctrl_c_ends_it(tmp_path: Path):
    env = clean_env(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        try:
            os.execve(sys.executable, COMMAND, env)
        finally:
            os._exit(127)
    try:
        shown = _read_until(fd, lambda out: b"\n" in out, 30.0)
        # one line: what it is, how editors start it, where help is
        line = shown.decode(errors="replace").strip()
        assert "language server" in line and "--stdio" in line and "--help" in line, line
        time.sleep(0.3)  # let it reach its read of stdin
        os.write(fd, b"\x03")  # Ctrl-C
        rest = _read_until(fd, lambda out: False, 15.0)
        status = _exit_status(pid, timeout=10.0)
    finally:
        os.close(fd)
    assert b"Traceback" not in shown + rest, (shown + rest).decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_with_a_pipe_it_is_the_server_and_prints_no_banner(tmp_path: Path):
    body = b'{"jsonrpc":"2.0","id":1,"method":"shutdown"}'
    exit_ = b'{"jsonrpc":"2.0","method":"exit"}'
    message = b"".join(
        b"Content-Length: %d\r\n\r\n%s" % (len(part), part) for part in (body, exit_)
    )
    done = subprocess.run(
        COMMAND, input=message, capture_output=True, env=clean_env(tmp_path), timeout=60
    )
    assert b'"id":1' in done.stdout.replace(b" ", b"")  # answered the request
    assert b"language server" not in done.stderr and b"Ctrl-C" not in done.stderr
