"""The OpenAI and DashScope providers against the fake LLM server, with the real SDKs.

Each provider path (OpenAI-compatible FIM, OpenAI chat, DashScope raw FIM through the openai
SDK on its compatible-mode Completions endpoint, DashScope partial mode through the 2.x client)
is checked for what goes on the wire, how the stream is assembled, how every fault maps to a
`qwen_lsp.errors` type, and that cancelling or timing out closes the HTTP request.
Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from qwen_lsp.errors import (
    AuthError,
    BadResponse,
    DeadlineExceeded,
    EndpointUnavailable,
    ProviderError,
    RateLimitError,
    UnsupportedMode,
)
from qwen_lsp.model import GenerationRequest, Message, PromptMode
from qwen_lsp.providers import Endpoint, Provider, create_provider
from qwen_lsp.providers.dashscope import DashScopeProvider
from qwen_lsp.providers.openai import OpenAIProvider
from tests.fakes.llm_server import (
    COMPATIBLE_COMPLETIONS_PATH,
    DASHSCOPE_PATH,
    FakeLLM,
    estimate_tokens,
)

KEY = "sk-test-0123456789abcdef"
FIM_PROMPT = "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>"
FIM_STOP = ("<|endoftext|>", "<|fim_prefix|>", "<|file_sep|>")
ANSWER = "return a + b"


def fim_request(model: str, **kw: object) -> GenerationRequest:
    return GenerationRequest(model=model, prompt=FIM_PROMPT, stop=FIM_STOP, **kw)  # type: ignore[arg-type]


def partial_request(model: str, **kw: object) -> GenerationRequest:
    messages = (
        Message("system", "Complete the code."),
        Message("user", "Suffix:\n\nprint(add(1, 2))"),
        Message("assistant", "def add(a, b):\n    ", partial=True),
    )
    return GenerationRequest(model=model, messages=messages, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Path_:
    """One way a provider reaches a model: endpoint kind, base URL, request, expected path."""

    name: str
    provider: str
    base: Callable[[FakeLLM], str]
    request: Callable[..., GenerationRequest]
    path: str


PATHS = [
    Path_(
        "openai-compatible-fim",
        "openai-compatible",
        lambda f: f.openai_base_url,
        lambda **kw: fim_request("qwen2.5-coder-7b", **kw),
        "/v1/completions",
    ),
    Path_(
        "openai-chat",
        "openai",
        lambda f: f.openai_base_url,
        lambda **kw: partial_request("gpt-4.1-mini", **kw),
        "/v1/chat/completions",
    ),
    Path_(
        "dashscope-fim",
        "dashscope",
        lambda f: f.dashscope_base_url,
        lambda **kw: fim_request("qwen-coder-turbo", **kw),
        COMPATIBLE_COMPLETIONS_PATH,
    ),
    Path_(
        "dashscope-partial",
        "dashscope",
        lambda f: f.dashscope_base_url,
        lambda **kw: partial_request("qwen3-coder-flash", **kw),
        DASHSCOPE_PATH,
    ),
]
PATH_IDS = [p.name for p in PATHS]


@pytest.fixture
async def make_provider() -> AsyncIterator[Callable[..., Provider]]:
    """Build providers that are closed after the test."""
    made: list[Provider] = []

    def make(kind: str, base_url: str | None, **kw: object) -> Provider:
        provider = create_provider(Endpoint(kind, base_url, **{"api_key": KEY, **kw}))  # type: ignore[arg-type]
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- import cost and modes ---------------------------------------------------------------


def test_sdks_are_imported_only_when_a_request_is_made() -> None:
    code = (
        "import sys\n"
        "import qwen_lsp.providers\n"
        "from qwen_lsp.providers import Endpoint, create_provider\n"
        "for kind in ('openai', 'openai-compatible', 'dashscope'):\n"
        "    create_provider(Endpoint(kind, 'http://127.0.0.1:9', api_key='k')).modes('m')\n"
        "heavy = [m for m in ('openai', 'dashscope', 'httpx', 'httpx2', 'aiohttp')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_modes() -> None:
    openai = OpenAIProvider(Endpoint("openai", None))
    compatible = OpenAIProvider(Endpoint("openai-compatible", "http://127.0.0.1:9/v1"))
    dashscope = DashScopeProvider(Endpoint("dashscope", None))
    assert openai.modes("gpt-4.1-mini") == (PromptMode.CHAT,)
    assert compatible.modes("qwen2.5-coder-7b") == (PromptMode.FIM, PromptMode.CHAT)
    full = (PromptMode.FIM, PromptMode.PARTIAL, PromptMode.CHAT)
    assert dashscope.modes("qwen-coder-turbo") == full
    assert dashscope.modes("qwen2.5-coder-32b-instruct") == full
    assert dashscope.modes("qwen3-coder-flash") == (PromptMode.PARTIAL, PromptMode.CHAT)


# -- what goes on the wire, what comes back ----------------------------------------------


async def test_openai_compatible_fim_sends_prompt_verbatim(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.reply(ANSWER)
    provider = make_provider("openai-compatible", fake_llm.openai_base_url)
    result = await provider.generate(fim_request("qwen2.5-coder-7b", max_tokens=64))
    assert result.texts == (ANSWER,)
    assert result.usage.input_tokens == estimate_tokens(FIM_PROMPT)
    assert result.usage.output_tokens == estimate_tokens(ANSWER)
    assert result.model == "qwen2.5-coder-7b"
    [sent] = fake_llm.requests
    assert (sent.path, sent.wire, sent.stream) == ("/v1/completions", "openai-completions", True)
    assert sent.body["prompt"] == FIM_PROMPT
    assert sent.body["stop"] == list(FIM_STOP)
    assert sent.body["max_tokens"] == 64
    assert sent.body["stream_options"] == {"include_usage": True}
    assert "n" not in sent.body
    assert sent.headers["authorization"] == f"Bearer {KEY}"


async def test_openai_chat_messages_partial_json_mode_and_two_candidates(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.enqueue("first answer", "second answer")
    provider = make_provider("openai", fake_llm.openai_base_url)
    result = await provider.generate(partial_request("gpt-4.1-mini", n=2, json_mode=True))
    assert result.texts == ("first answer", "second answer")
    assert result.usage.output_tokens == estimate_tokens("first answer") + estimate_tokens(
        "second answer"
    )
    [sent] = fake_llm.requests
    assert (sent.path, sent.wire) == ("/v1/chat/completions", "openai-chat")
    assert sent.body["n"] == 2
    assert sent.body["response_format"] == {"type": "json_object"}
    assert sent.body["messages"] == [
        {"role": "system", "content": "Complete the code."},
        {"role": "user", "content": "Suffix:\n\nprint(add(1, 2))"},
        {"role": "assistant", "content": "def add(a, b):\n    ", "partial": True},
    ]


async def test_openai_compatible_without_key_and_dashscope_compatible_mode(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.reply(ANSWER)
    provider = make_provider("openai-compatible", fake_llm.compatible_base_url, api_key=None)
    result = await provider.generate(partial_request("qwen3-coder-plus"))
    assert result.texts == (ANSWER,)
    [sent] = fake_llm.requests
    assert sent.path == "/compatible-mode/v1/chat/completions"
    assert sent.body["messages"][-1]["partial"] is True


async def test_dashscope_fim_goes_to_compatible_mode_completions_on_the_same_host(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    # The native endpoint would answer a FIM string with prose (a user turn), HTTP 200.
    fake_llm.reply(ANSWER)
    provider = make_provider("dashscope", fake_llm.dashscope_base_url)
    result = await provider.generate(fim_request("qwen-coder-turbo", max_tokens=32, top_p=0.9))
    assert result.texts == (ANSWER,)
    assert result.usage.input_tokens == estimate_tokens(FIM_PROMPT)
    assert result.usage.output_tokens == estimate_tokens(ANSWER)
    [sent] = fake_llm.requests
    assert (sent.path, sent.wire, sent.stream) == (
        COMPATIBLE_COMPLETIONS_PATH,
        "openai-completions",
        True,
    )
    assert sent.body["prompt"] == FIM_PROMPT
    assert sent.body["model"] == "qwen-coder-turbo"
    assert sent.body["stop"] == list(FIM_STOP)
    assert (sent.body["max_tokens"], sent.body["top_p"]) == (32, 0.9)
    assert sent.headers["authorization"] == f"Bearer {KEY}"


def test_dashscope_offers_fim_only_in_beijing_for_its_fim_models() -> None:
    full = (PromptMode.FIM, PromptMode.PARTIAL, PromptMode.CHAT)
    chat = (PromptMode.PARTIAL, PromptMode.CHAT)
    local = "http://127.0.0.1:9/api/v1"
    beijing = DashScopeProvider(Endpoint("dashscope", local, region="beijing"))
    assert beijing.modes("qwen-coder-turbo-0919") == full
    assert beijing.modes("qwen2.5-coder-7b-instruct") == full
    assert beijing.modes("qwen3-coder-flash") == chat
    for region in ("singapore", "us", "hongkong"):
        elsewhere = DashScopeProvider(Endpoint("dashscope", local, region=region))
        assert elsewhere.modes("qwen-coder-turbo") == chat, region
    # a known host says its region, whatever the setting
    intl = DashScopeProvider(
        Endpoint("dashscope", "https://dashscope-intl.aliyuncs.com/api/v1", region="beijing")
    )
    assert intl.modes("qwen-coder-turbo") == chat
    # openai-compatible pointed at DashScope's compatible mode also offers partial mode
    compat = OpenAIProvider(Endpoint("openai-compatible", "http://127.0.0.1:9/compatible-mode/v1"))
    assert compat.modes("qwen3-coder-flash") == chat
    assert compat.modes("qwen-coder-turbo") == full


async def test_dashscope_partial_mode_keeps_partial_on_the_wire(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.reply(ANSWER)
    provider = make_provider("dashscope", fake_llm.dashscope_base_url)
    result = await provider.generate(partial_request("qwen3-coder-flash"))
    assert result.texts == (ANSWER,)
    assert result.usage.output_tokens == estimate_tokens(ANSWER)
    [sent] = fake_llm.requests
    assert (sent.path, sent.stream) == (DASHSCOPE_PATH, True)
    messages = sent.body["input"]["messages"]
    assert messages[-1] == {"role": "assistant", "content": "def add(a, b):\n    ", "partial": True}
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert "partial" not in messages[1]
    assert sent.body["parameters"]["incremental_output"] is True


async def test_dashscope_chat_two_candidates_and_json_mode(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.enqueue('{"findings": []}', '{"findings": [1]}')
    provider = make_provider("dashscope", fake_llm.dashscope_base_url)
    request = GenerationRequest(
        model="qwen3-coder-plus", messages=(Message("user", "review"),), n=2, json_mode=True
    )
    result = await provider.generate(request)
    assert result.texts == ('{"findings": []}', '{"findings": [1]}')
    params = fake_llm.requests[0].body["parameters"]
    assert params["n"] == 2
    assert params["response_format"] == {"type": "json_object"}


async def test_dashscope_without_key_fails_before_sending(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    provider = make_provider("dashscope", fake_llm.dashscope_base_url, api_key=None)
    with pytest.raises(AuthError):
        await provider.generate(partial_request("qwen3-coder-flash"))
    assert fake_llm.requests == []


async def test_two_dashscope_providers_keep_their_own_base_urls(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    with FakeLLM(reply="from the other") as other:
        fake_llm.reply("from the first")
        first = make_provider("dashscope", fake_llm.dashscope_base_url)
        second = make_provider("dashscope", other.dashscope_base_url)
        for request in (fim_request("qwen-coder-turbo"), partial_request("qwen3-coder-flash")):
            a, b = await asyncio.gather(first.generate(request), second.generate(request))
            assert (a.texts, b.texts) == (("from the first",), ("from the other",))
        assert len(fake_llm.requests) == len(other.requests) == 2


# -- faults ------------------------------------------------------------------------------

FAULTS = [
    ("500", EndpointUnavailable),
    ("503", EndpointUnavailable),
    ("429", RateLimitError),
    ("401", AuthError),
    ("403", AuthError),
    ("400", ProviderError),  # a 400 that does not say the mode is missing demotes nothing
    ("404", UnsupportedMode),
    ("malformed", BadResponse),
    ("disconnect", EndpointUnavailable),
    ("truncated-sse", BadResponse),
    ("refuse", EndpointUnavailable),
]


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize(("fault", "error"), FAULTS, ids=[f for f, _ in FAULTS])
async def test_fault_maps_to_error(
    fake_llm: FakeLLM,
    make_provider: Callable[..., Provider],
    path: Path_,
    fault: str,
    error: type[ProviderError],
) -> None:
    fake_llm.reply("x" * 40)
    fake_llm.fault(fault, retry_after=7 if fault == "429" else None)
    provider = make_provider(path.provider, path.base(fake_llm))
    with pytest.raises(error) as caught:
        await provider.generate(path.request(), timeout=5)
    assert type(caught.value) is error
    assert KEY not in str(caught.value)
    if fault == "429":
        assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_recovers_after_a_fault(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    fake_llm.reply(ANSWER)
    fake_llm.fault("500", times=1)
    provider = make_provider(path.provider, path.base(fake_llm))
    with pytest.raises(EndpointUnavailable):
        await provider.generate(path.request())
    assert (await provider.generate(path.request())).texts == (ANSWER,)
    assert len(fake_llm.requests) == 2  # max_retries defaults to 0: the engine retries


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_hang_hits_the_deadline_and_closes_the_request(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    fake_llm.fault("hang")
    provider = make_provider(path.provider, path.base(fake_llm))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await provider.generate(path.request(), timeout=0.5)
    assert time.monotonic() - started < 0.5 + 1.5
    assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 2)


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_deadline_covers_a_slow_stream_and_defaults_to_endpoint_timeout(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    # Each chunk arrives well within any per-read timeout; only the whole-request deadline
    # (from the endpoint, as no timeout is passed) can stop it.
    fake_llm.reply("y" * 400)
    fake_llm.chunk_delay = 0.05
    provider = make_provider(path.provider, path.base(fake_llm), timeout=0.5)
    with pytest.raises(DeadlineExceeded):
        await provider.generate(path.request())
    assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 2)


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_latency_within_the_deadline_is_fine(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    fake_llm.reply(ANSWER)
    fake_llm.latency = 0.2
    fake_llm.chunk_delay = 0.01
    provider = make_provider(path.provider, path.base(fake_llm))
    assert (await provider.generate(path.request(), timeout=5)).texts == (ANSWER,)
    assert fake_llm.disconnects == 0


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_closed_port_is_endpoint_unavailable(
    make_provider: Callable[..., Provider], path: Path_
) -> None:
    base = f"http://127.0.0.1:{closed_port()}" + (
        "/api/v1" if path.provider == "dashscope" else "/v1"
    )
    provider = make_provider(path.provider, base)
    with pytest.raises(EndpointUnavailable):
        await provider.generate(path.request(), timeout=5)


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_wrong_path_is_unsupported_mode(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    native = "/api/v1" if path.provider == "dashscope" else ""
    provider = make_provider(path.provider, fake_llm.url + "/no-such-prefix" + native)
    with pytest.raises(UnsupportedMode) as caught:
        await provider.generate(path.request(), timeout=5)
    assert caught.value.status == 404


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
async def test_cancelling_closes_the_http_request(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider], path: Path_
) -> None:
    fake_llm.reply("z" * 400)
    fake_llm.chunk_delay = 0.05
    provider = make_provider(path.provider, path.base(fake_llm))
    task = asyncio.create_task(provider.generate(path.request(), timeout=30))
    assert await asyncio.to_thread(fake_llm.wait_for_requests, 5)
    await asyncio.sleep(0.2)  # let the stream get going
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 2)


async def test_aclose_is_idempotent_and_the_provider_reopens(
    fake_llm: FakeLLM, make_provider: Callable[..., Provider]
) -> None:
    fake_llm.reply(ANSWER)
    for path in PATHS:
        provider = make_provider(path.provider, path.base(fake_llm))
        await provider.generate(path.request())
        await provider.aclose()
        await provider.aclose()
        assert (await provider.generate(path.request())).texts == (ANSWER,)
    assert json.dumps([r.to_json() for r in fake_llm.requests])  # the log is JSON-ready


def test_dashscope_without_base_url_uses_the_sdk_default_from_the_environment(
    fake_llm: FakeLLM,
) -> None:
    # The 1.x SDK reads DASHSCOPE_HTTP_BASE_URL when it is imported: a fresh process.
    code = (
        "import asyncio\n"
        "from qwen_lsp.model import GenerationRequest, Message\n"
        "from qwen_lsp.providers import Endpoint, create_provider\n"
        "async def main():\n"
        "    provider = create_provider(Endpoint('dashscope', None, api_key='k'))\n"
        "    chat = GenerationRequest(model='qwen-plus', messages=(Message('user', 'y'),))\n"
        "    assert (await provider.generate(chat, timeout=10)).texts == ('ok',)\n"
        "    await provider.aclose()\n"
        "asyncio.run(main())\n"
    )
    fake_llm.reply("ok")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASHSCOPE_", "OPENAI_", "QWEN_LSP_"))
    }
    env["DASHSCOPE_HTTP_BASE_URL"] = fake_llm.dashscope_base_url
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
    assert [r.path for r in fake_llm.requests] == [DASHSCOPE_PATH]
