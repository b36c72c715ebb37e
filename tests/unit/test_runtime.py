"""The runtime's failure policy: a circuit breaker, one message per incident, local-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp import errors
from qwen_lsp.config import load_settings
from qwen_lsp.engine.failures import CircuitBreaker, Incidents
from qwen_lsp.engine.runtime import Runtime


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_repeated_failures_and_recovers_by_itself():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed" and not breaker.is_open()
    breaker.record_failure()
    assert breaker.state == "open" and breaker.retry_in() == 5.0
    clock.now += 5.1
    assert breaker.state == "half-open" and not breaker.is_open()  # one trial may go
    breaker.record_failure()  # the trial failed: open again, for longer
    assert breaker.is_open() and breaker.retry_in() == 10.0
    clock.now += 10.1
    breaker.record_success()  # the endpoint is back
    assert breaker.state == "closed"
    for _ in range(3):
        breaker.record_failure()
    assert breaker.retry_in() == 5.0  # the backoff started over


def test_backoff_is_capped():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    for _ in range(20):
        breaker.record_failure()
        clock.now += breaker.retry_in() + 0.1
    breaker.record_failure()
    assert breaker.retry_in() == CircuitBreaker.MAX_BACKOFF


def test_a_rate_limit_pauses_for_what_the_endpoint_asked():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    breaker.pause(12.0)
    assert breaker.is_open() and breaker.retry_in() == 12.0


def test_one_message_per_incident_until_it_is_resolved():
    clock = Clock()
    shown: list[str] = []
    incidents = Incidents(shown.append, clock=clock)
    for _ in range(5):
        incidents.report("unavailable", "cannot reach the endpoint")
    incidents.report("auth", "the key was refused")
    assert shown == ["cannot reach the endpoint", "the key was refused"]
    incidents.resolve()
    clock.now += 61
    incidents.report("unavailable", "cannot reach the endpoint")
    assert len(shown) == 3


def test_a_flapping_endpoint_is_told_at_most_once_a_minute():
    clock = Clock()
    shown: list[str] = []
    incidents = Incidents(shown.append, clock=clock)
    for _ in range(10):
        incidents.report("unavailable", "down")
        clock.now += 5
        incidents.resolve()  # a success in between
    assert shown == ["down"]
    clock.now += 60
    incidents.report("unavailable", "down")
    assert shown == ["down", "down"]


def test_a_failure_recorded_quietly_is_told_once_when_a_feature_tells_it():
    clock = Clock()
    shown: list[str] = []
    incidents = Incidents(shown.append, clock=clock)
    incidents.report("unavailable", "cannot reach the endpoint", show=False)
    incidents.report("unavailable", "cannot reach the endpoint", show=False)
    assert shown == []
    assert incidents.last is not None and incidents.last.count == 2  # the status bar has it
    incidents.tell("unavailable", "cannot reach the endpoint")
    incidents.tell("unavailable", "cannot reach the endpoint")
    incidents.report("unavailable", "cannot reach the endpoint")
    assert shown == ["cannot reach the endpoint"]
    incidents.tell("auth", "the key was refused")  # never recorded: opened and told
    assert shown == ["cannot reach the endpoint", "the key was refused"]


def test_the_breaker_says_whether_a_rate_limit_holds_it_open():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    breaker.pause(2.0)
    assert breaker.rate_limited
    for _ in range(3):
        breaker.record_failure()  # open for 5 s: longer than the endpoint asked
    assert breaker.is_open() and not breaker.rate_limited
    breaker.pause(1.0)  # a shorter wait does not shorten or rename the open circuit
    assert not breaker.rate_limited and breaker.retry_in() == 5.0
    clock.now += 5.1
    assert not breaker.is_open() and not breaker.rate_limited


def _runtime(tmp_path: Path, **editor) -> Runtime:
    env = {"QWEN_LSP_CONFIG": str(tmp_path / "none.toml"), "QWEN_LSP_CACHE_DIR": str(tmp_path)}
    return Runtime(load_settings(tmp_path, env=env, editor=editor), show=lambda m: None)


def test_failures_of_the_endpoint_pause_requests(tmp_path: Path):
    runtime = _runtime(tmp_path)
    for _ in range(3):
        assert not runtime.paused()
        runtime.fail(errors.EndpointUnavailable("connection refused"))
    assert runtime.paused()
    assert runtime.breaker.state == "open"


def test_local_only_refuses_a_cloud_endpoint(tmp_path: Path):
    runtime = _runtime(tmp_path, privacy={"localOnly": True}, apiKey="sk-test")
    with pytest.raises(errors.ConfigError, match="localOnly"):
        runtime.provider()
    local = _runtime(
        tmp_path,
        privacy={"localOnly": True},
        provider="openai-compatible",
        baseUrl="http://127.0.0.1:8000/v1",
    )
    assert local.provider().endpoint.base_url == "http://127.0.0.1:8000/v1"
