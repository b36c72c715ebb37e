"""Shared fixtures: a fake LLM server on 127.0.0.1 per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLM


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A started FakeLLM, stopped after the test."""
    fake = FakeLLM()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
