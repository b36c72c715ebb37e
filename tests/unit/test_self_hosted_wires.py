"""The wires of self-hosted servers and OpenAI's reasoning models, with the real openai SDK
(and its HTTP library) against the fake playing each server: Ollama, the llama.cpp server,
vLLM, OpenAI's gpt-5 / o-series. What a user would notice when one goes wrong: prose instead
of code, a failed request, a lost candidate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from qwen_lsp.errors import PromptTooLong, ProviderError, UnsupportedMode
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.providers import Endpoint, Provider, create_provider
from qwen_lsp.providers.openai import is_reasoning_model
from qwen_lsp.providers.wire import FimParts, fim_parts, refusal
from tests.fakes.llm_server import PROSE, FakeLLM

ANSWER = "return a + b"
REPO_PROMPT = (
    "<|repo_name|>calc\n"
    "<|file_sep|>util.py\ndef sub(a, b):\n    return a - b\n\n"
    "<|file_sep|>calc.py\n"
    "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\nprint(add(1, 2))<|fim_middle|>"
)
STOP = ("<|endoftext|>", "<|file_sep|>")


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Provider]]:
    made: list[Provider] = []

    def build(kind: str, base_url: str, **kw: object) -> Provider:
        provider = create_provider(Endpoint(kind, base_url, **kw))  # type: ignore[arg-type]
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


def fim(model: str, **kw: object) -> GenerationRequest:
    return GenerationRequest(model=model, prompt=REPO_PROMPT, stop=STOP, **kw)  # type: ignore[arg-type]


# -- pure parts ----------------------------------------------------------------------------


def test_fim_parts_take_the_repo_prompt_apart() -> None:
    assert fim_parts(REPO_PROMPT) == FimParts(
        prefix="def add(a, b):\n    ",
        suffix="\nprint(add(1, 2))",
        files=(("util.py", "def sub(a, b):\n    return a - b\n"),),
        repo_name="calc",
    )
    assert fim_parts("<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>") == FimParts("x = ", "\n")
    assert fim_parts("just text") is None


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (404, "no such endpoint", UnsupportedMode),
        (405, "", UnsupportedMode),
        (501, "not implemented", UnsupportedMode),
        (400, "The model `x` does not support the completions API", UnsupportedMode),
        (400, "Unsupported parameter: 'suffix'", UnsupportedMode),
        (400, "This model's maximum context length is 8192 tokens.", PromptTooLong),
        (400, "Range of input length should be [1, 30720]", PromptTooLong),
        (400, "Input data may contain inappropriate content.", ProviderError),
        (400, "'temperature' must be <= 2", ProviderError),
        (422, "value is not a valid float", ProviderError),
    ],
)
def test_only_a_missing_mode_demotes_and_a_long_prompt_is_its_own_error(
    status: int, message: str, error: type[ProviderError]
) -> None:
    assert type(refusal(status, message, "here")) is error


def test_reasoning_models_by_name() -> None:
    for name in ("gpt-5", "gpt-5-mini", "gpt-5.1-codex", "o1", "o3-mini", "o4-mini"):
        assert is_reasoning_model(name), name
    for name in ("gpt-4.1-mini", "gpt-4o", "omni", "qwen3-coder-plus"):
        assert not is_reasoning_model(name), name


# -- Ollama ----------------------------------------------------------------------------------


async def test_ollama_is_detected_and_fim_goes_raw_through_api_generate(make) -> None:
    with FakeLLM(server="ollama", reply=ANSWER) as ollama:
        provider = make("openai-compatible", ollama.openai_base_url)
        result = await provider.generate(fim("qwen2.5-coder:7b-instruct", max_tokens=40))
        assert result.texts == (ANSWER,)  # not the prose its template would make of it
        assert result.usage.output_tokens > 0 and result.usage.input_tokens > 0
        [sent] = ollama.requests
        assert sent.path == "/api/generate"
        assert sent.body["raw"] is True and sent.body["prompt"] == REPO_PROMPT
        assert sent.body["options"]["num_predict"] == 40
        assert sent.body["options"]["stop"] == list(STOP)
        assert "/api/version" in ollama.gets
        await provider.generate(fim("qwen2.5-coder:7b-instruct"))
        assert ollama.gets.count("/api/version") == 1  # found out once


async def test_ollama_v1_completions_would_have_answered_prose(make) -> None:
    # What the detection saves users from: the template turns the FIM string into a user turn.
    with FakeLLM(server="ollama", reply=ANSWER) as ollama:
        provider = make("openai-compatible", ollama.openai_base_url, server_kind="generic")
        result = await provider.generate(fim("qwen2.5-coder:7b-instruct"))
        assert result.texts[0].startswith(PROSE)
        assert ollama.requests[0].path == "/v1/completions"


async def test_ollama_ignores_n_and_the_one_candidate_is_kept(make) -> None:
    with FakeLLM(server="ollama", reply=ANSWER) as ollama:
        provider = make("openai-compatible", ollama.openai_base_url, server_kind="generic")
        request = GenerationRequest(
            model="qwen2.5-coder:7b-base", prompt="<|fim_prefix|>x<|fim_suffix|><|fim_middle|>", n=3
        )
        result = await provider.generate(request)
        assert result.texts == (ANSWER,)  # one came, it is kept; not a failed request


async def test_serverkind_setting_skips_detection(make) -> None:
    with FakeLLM(server="ollama", reply=ANSWER) as ollama:
        provider = make("openai-compatible", ollama.openai_base_url, server_kind="ollama")
        assert (await provider.generate(fim("qwen2.5-coder:7b"))).texts == (ANSWER,)
        assert ollama.gets == [] and ollama.requests[0].path == "/api/generate"


# -- llama.cpp and vLLM ----------------------------------------------------------------------


async def test_llamacpp_is_detected_and_served_by_infill_with_the_other_files(make) -> None:
    with FakeLLM(server="llamacpp", reply=ANSWER) as llama:
        provider = make("openai-compatible", llama.openai_base_url)
        result = await provider.generate(fim("qwen2.5-coder-7b", max_tokens=24))
        assert result.texts == (ANSWER,)
        [sent] = llama.requests
        assert sent.path == "/infill"
        assert sent.body["input_prefix"] == "def add(a, b):\n    "
        assert sent.body["input_suffix"] == "\nprint(add(1, 2))"
        assert sent.body["input_extra"] == [
            {"filename": "util.py", "text": "def sub(a, b):\n    return a - b\n"}
        ]
        assert sent.body["n_predict"] == 24 and sent.body["stop"] == list(STOP)


async def test_vllm_takes_the_raw_prompt_on_v1_completions_with_n(make) -> None:
    with FakeLLM(server="vllm") as vllm:
        vllm.enqueue("one", "two")
        provider = make("openai-compatible", vllm.openai_base_url)
        result = await provider.generate(fim("qwen2.5-coder-7b", n=2))
        assert result.texts == ("one", "two")
        [sent] = vllm.requests
        assert sent.path == "/v1/completions" and sent.body["prompt"] == REPO_PROMPT


async def test_context_length_400_is_prompt_too_long(make) -> None:
    with FakeLLM(server="vllm") as vllm:
        vllm.context_limit = 5
        provider = make("openai-compatible", vllm.openai_base_url)
        with pytest.raises(PromptTooLong):
            await provider.generate(fim("qwen2.5-coder-7b"))


# -- OpenAI reasoning models -----------------------------------------------------------------


def chat(model: str) -> GenerationRequest:
    return GenerationRequest(
        model=model, messages=(Message("user", "fill the hole"),), stop=("<|im_end|>",)
    )


async def test_reasoning_model_gets_max_completion_tokens_and_lowest_effort(
    fake_llm: FakeLLM, make
) -> None:
    fake_llm.reply(ANSWER)
    provider = make("openai", fake_llm.openai_base_url, api_key="sk-test-000000")
    assert (await provider.generate(chat("gpt-5-mini"))).texts == (ANSWER,)
    [sent] = fake_llm.requests
    assert sent.body["max_completion_tokens"] == 128
    assert sent.body["reasoning_effort"] == "minimal"
    for refused in ("max_tokens", "temperature", "stop", "top_p"):
        assert refused not in sent.body
    await provider.generate(chat("o4-mini"))
    assert fake_llm.requests[-1].body["reasoning_effort"] == "low"


async def test_an_unknown_model_refusing_parameters_is_learnt_from_its_400s(
    fake_llm: FakeLLM, make
) -> None:
    fake_llm.reply(ANSWER)
    fake_llm.reasoning_models.add("house-reasoner")
    provider = make("openai", fake_llm.openai_base_url, api_key="sk-test-000000")
    assert (await provider.generate(chat("house-reasoner"))).texts == (ANSWER,)
    first = len(fake_llm.requests)
    assert first > 1  # each refusal retried once without what it refused
    last = fake_llm.requests[-1].body
    assert "max_completion_tokens" in last and "temperature" not in last and "stop" not in last
    # remembered: the next request goes right at once
    assert (await provider.generate(chat("house-reasoner"))).texts == (ANSWER,)
    assert len(fake_llm.requests) == first + 1
