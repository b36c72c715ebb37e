"""The adaptive debounce learns each typist's speed from the gaps between keystrokes."""

from __future__ import annotations

import random

from qwen_lsp.engine.completion.debounce import DEFAULT_DELAY, MAX_DELAY, MIN_DELAY, TypingRhythm


def typed(gaps: list[float]) -> TypingRhythm:
    rhythm = TypingRhythm()
    now = 100.0
    rhythm.keystroke(now)
    for gap in gaps:
        now += gap
        rhythm.keystroke(now)
    return rhythm


def test_until_a_few_keys_are_seen_the_default_applies():
    assert TypingRhythm().delay() == DEFAULT_DELAY
    assert typed([0.06]).delay() == DEFAULT_DELAY


def test_a_fast_typist_gets_a_short_wait_just_longer_than_their_keystrokes():
    delay = typed([0.06] * 20).delay()
    assert 0.06 < delay < 0.09


def test_a_slow_typist_waits_longer_than_a_fast_one():
    assert typed([0.25] * 20).delay() > typed([0.08] * 20).delay()


def test_pauses_between_bursts_do_not_count_as_typing_speed():
    gaps = ([0.06] * 8 + [0.9]) * 3
    assert typed(gaps).delay() == typed([0.06] * 24).delay()


def test_the_wait_covers_nearly_all_gaps_of_an_uneven_typist():
    rng = random.Random(4)
    gaps = [rng.uniform(0.05, 0.12) for _ in range(24)]
    delay = typed(gaps).delay()
    assert sum(gap < delay for gap in gaps) >= 21  # a key within the wait: no request sent


def test_the_wait_stays_within_bounds():
    assert typed([0.025] * 20).delay() == MIN_DELAY
    assert typed([0.45] * 20).delay() == MAX_DELAY


def test_bursts_no_person_types_are_not_learnt():
    # an auto-closed bracket, or a client catching up after a stall: keys 1 ms apart
    gaps = [0.06] * 20 + [0.001] * 20
    assert typed(gaps).delay() == typed([0.06] * 20).delay()


def test_it_follows_a_change_of_pace():
    rhythm = typed([0.2] * 24)
    slow = rhythm.delay()
    now = 1000.0
    for _ in range(24):
        now += 0.06
        rhythm.keystroke(now)
    assert rhythm.delay() < slow / 2
