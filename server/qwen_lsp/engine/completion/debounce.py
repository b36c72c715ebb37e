"""Adaptive debounce: how long to wait after a keystroke before paying for a completion.

Editors ask for a completion on every key. Asking the model each time would pay for answers
nobody sees; waiting a fixed time is too long for fast typists and too short for slow ones.
`TypingRhythm` learns, per document, the gaps between a user's keystrokes while they type
(gaps longer than `PAUSE` are pauses, and gaps shorter than `MIN_GAP` are not keys a person
typed) and waits a little longer than nearly all of them: a key that comes within the wait
cancels the request before it is sent, and a pause is answered after one short wait. A
manual trigger is never delayed.
"""

from __future__ import annotations

from collections import deque

PAUSE = 0.5  # seconds: a longer gap between keys is a pause, not the user's typing speed
# A shorter gap is not a person typing (auto-closed brackets, a snippet, a client catching
# up after a stall): it says nothing about the user's speed.
MIN_GAP = 0.02
DEFAULT_DELAY = 0.15  # until a few keystrokes have been seen
MIN_DELAY = 0.04
MAX_DELAY = 0.4
# The wait is a little longer than the usual gap, and longer than nearly all gaps of an
# uneven typist: 72 ms for a steady 60 ms typist, who then sees a pause answered one backend
# latency plus about 85 ms after the last key.
MEDIAN_MARGIN = 1.2
SLOW_MARGIN = 1.05
SAMPLES = 24  # recent gaps remembered
_MIN_SAMPLES = 3
_SLOW = 0.9  # the quantile of the gaps taken as "nearly all"


class TypingRhythm:
    """The recent gaps between one document's keystrokes, and the wait they call for."""

    __slots__ = ("_gaps", "_last")

    def __init__(self) -> None:
        self._gaps: deque[float] = deque(maxlen=SAMPLES)
        self._last: float | None = None

    def keystroke(self, now: float) -> None:
        """A request arrived at `now` (seconds, monotonic): one key was typed."""
        if self._last is not None:
            gap = now - self._last
            if MIN_GAP <= gap < PAUSE:
                self._gaps.append(gap)
        self._last = now

    def delay(self) -> float:
        """Seconds to wait before asking the model."""
        if len(self._gaps) < _MIN_SAMPLES:
            return DEFAULT_DELAY
        ordered = sorted(self._gaps)
        median = ordered[len(ordered) // 2]
        slow = ordered[min(len(ordered) - 1, int(_SLOW * len(ordered)))]
        wait = max(median * MEDIAN_MARGIN, slow * SLOW_MARGIN)
        return min(max(wait, MIN_DELAY), MAX_DELAY)
