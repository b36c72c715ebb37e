"""How long a suggestion waits after the last key, for typing rhythms a user has: the wait is
exact for each rhythm (a longer one shows suggestions late, a shorter one pays for answers
cut off by the next key)."""

from __future__ import annotations

import pytest

from qwen_lsp.engine.completion.debounce import DEFAULT_DELAY, MAX_DELAY, TypingRhythm


def wait_after(times: list[float]) -> float:
    rhythm = TypingRhythm()
    for now in times:
        rhythm.keystroke(now)
    return rhythm.delay()


def keys(*gaps: float) -> list[float]:
    times = [0.0]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


RHYTHMS = [
    # (description, key times in seconds, the wait)
    ("a steady 60 ms typist: 1.2 times the usual gap", keys(0.06, 0.06, 0.06), 0.072),
    ("two gaps are not enough to learn from", keys(0.06, 0.06), DEFAULT_DELAY),
    # 0.02 s (MIN_GAP) is still a key typed; 0.5 s (PAUSE) is a pause, not typing
    ("gaps of exactly the shortest typed gap count", [0.0, 0.02, 0.04, 0.08], 0.042),
    ("a gap of exactly the pause length does not", [0.0, 0.5, 0.5625, 0.625, 0.6875], 0.075),
    ("the median decides when most gaps are alike", keys(*[0.06] * 3, *[0.1] * 3), 0.12),
    ("one slow gap in ten is covered", keys(*[0.05] * 9, 0.3), 0.315),
    ("a slow typist waits no longer than the cap", keys(0.45, 0.45, 0.45), MAX_DELAY),
]


@pytest.mark.parametrize(
    ("times", "expected"), [r[1:] for r in RHYTHMS], ids=[r[0] for r in RHYTHMS]
)
def test_the_wait_after_the_last_key(times: list[float], expected: float):
    assert wait_after(times) == pytest.approx(expected)
