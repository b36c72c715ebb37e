"""The warm-up before the first completion: it readies the provider for the settings and sends
nothing (no request, no spend), it never fails the server, and it is skipped where
completions are off."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qwen_lsp.config import load_settings
from qwen_lsp.engine.completion.warmup import COMPLETION_MODULES, modules_for, warm_up
from qwen_lsp.engine.runtime import Runtime
from tests.fakes.llm_server import FakeLLM
from tests.unit.test_completion_engine import make_runtime, settings_for


@pytest.mark.parametrize(
    ("provider", "needs"),
    [
        ("dashscope", ("dashscope", "aiohttp", "openai")),  # its compatible mode is the openai SDK
        ("openai", ("openai", "openai.resources.completions", "httpcore")),
        ("openai-compatible", ("openai", "openai.resources.chat", "anyio")),
        ("no-such-provider", ()),
    ],
)
def test_the_modules_the_first_completion_needs(provider: str, needs: tuple[str, ...]):
    modules = modules_for(provider)
    assert modules[: len(COMPLETION_MODULES)] == COMPLETION_MODULES
    assert set(needs) <= set(modules)
    if not needs:
        assert modules == COMPLETION_MODULES


async def test_the_warm_up_readies_the_provider_and_sends_nothing(
    fake_llm: FakeLLM, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), [])
    with caplog.at_level(logging.INFO, logger="qwen_lsp.engine.completion.warmup"):
        await warm_up(runtime)
    assert fake_llm.requests == []
    assert runtime.provider().inner._client is not None  # type: ignore[attr-defined]
    [said] = [r.getMessage() for r in caplog.records if "warmed up" in r.getMessage()]
    assert "qwen_lsp.postprocess" in said and "openai" in said


async def test_no_warm_up_where_completions_are_off(fake_llm: FakeLLM, tmp_path: Path):
    settings = settings_for(fake_llm, completion={"enabled": False})
    runtime = make_runtime(tmp_path, settings, [])
    await warm_up(runtime)
    assert runtime.provider().inner._client is None  # type: ignore[attr-defined]


async def test_a_provider_that_cannot_work_does_not_fail_the_warm_up(tmp_path: Path):
    env = {"QWEN_LSP_CONFIG": str(tmp_path / "none.toml"), "QWEN_LSP_CACHE_DIR": str(tmp_path)}
    no_key = load_settings(tmp_path, env=env, editor={"provider": "dashscope"})
    shown: list[str] = []
    await warm_up(Runtime(no_key, show=shown.append))
    assert shown == []  # said when a completion is asked, not at start


async def test_a_provider_that_cannot_be_readied_does_not_fail_the_warm_up(
    fake_llm: FakeLLM, tmp_path: Path
):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), [])
    provider = runtime.provider()

    async def broken() -> None:
        raise RuntimeError("no TLS")

    provider.prepare = broken  # type: ignore[method-assign]
    await warm_up(runtime)
    assert fake_llm.requests == []
