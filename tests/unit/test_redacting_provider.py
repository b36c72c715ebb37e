"""The one door to a model, with the real SDKs against the fake LLM on 127.0.0.1: the model is
sent numbered placeholders and never a secret; whatever it answers comes back to the caller
with the real values in place of the placeholders; an answer holding a placeholder that was
never sent is refused, so no edit ever writes one."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable

import pytest

from qwen_lsp.errors import BadResponse
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.providers import Endpoint, create_provider
from qwen_lsp.providers.redacting import RedactingProvider
from qwen_lsp.redaction import PLACEHOLDER_STEMS
from tests.fakes.llm_server import FakeLLM
from tests.secrets_corpus import CorpusFile, build_corpus

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

KEY = "sk-test-0123456789abcdef"  # the endpoint's own key; prompts never hold it
STEM = PLACEHOLDER_STEMS[0]
FIM_MODEL = "qwen2.5-coder-7b"


@pytest.fixture
async def door(fake_llm: FakeLLM) -> AsyncIterator[Callable[[str, str], RedactingProvider]]:
    """RedactingProviders around real providers, closed after the test."""
    made: list[RedactingProvider] = []

    def make(kind: str = "openai-compatible", base_url: str = "") -> RedactingProvider:
        endpoint = Endpoint(kind, base_url or fake_llm.openai_base_url, api_key=KEY)
        provider = RedactingProvider(create_provider(endpoint))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def corpus_file(name: str) -> CorpusFile:
    [found] = [f for f in build_corpus(int.from_bytes(os.urandom(4), "big")) if f.name == name]
    return found


def fim(text: str) -> GenerationRequest:
    prompt = f"<|fim_prefix|>{text}<|fim_suffix|>\n<|fim_middle|>"
    return GenerationRequest(model=FIM_MODEL, prompt=prompt, stop=("<|endoftext|>",))


async def test_the_model_gets_placeholders_and_the_caller_gets_the_real_values(
    fake_llm: FakeLLM, door: Callable[..., RedactingProvider]
) -> None:
    settings = corpus_file("app/settings.py")
    provider = door()
    fake_llm.reply("pass")
    await provider.generate(fim(settings.text))
    sent = fake_llm.requests[0].body["prompt"]
    assert [p.shape for p in settings.planted if p.value in sent] == []
    assert f"{STEM}1" in sent

    # The model echoes every line that held a secret, as it received them (streamed to the
    # client in small chunks that split the placeholders).
    sent_lines = sent.removeprefix("<|fim_prefix|>").split("\n")
    echoed = [i for i, line in enumerate(sent_lines) if STEM in line]
    assert len(echoed) >= 30
    fake_llm.reply("\n".join(sent_lines[i] for i in echoed))
    result = await provider.generate(fim(settings.text))
    original = settings.text.split("\n")
    assert result.texts == ("\n".join(original[i] for i in echoed),)
    assert STEM not in result.texts[0]
    # The same text is sent the same way again: the numbers are stable.
    assert fake_llm.requests[1].body["prompt"] == sent


async def test_one_value_one_placeholder_across_the_messages_of_a_request(
    fake_llm: FakeLLM, door: Callable[..., RedactingProvider]
) -> None:
    password = "Pw9-" + os.urandom(6).hex()
    token = "ghp_" + os.urandom(18).hex()
    messages = (
        Message("system", "Complete the code."),
        Message("user", f'Suffix:\nDB_PASSWORD = "{password}"\nGITHUB = "{token}"\n'),
        Message("assistant", f'login("admin", "{password}")\ntoken = "{token}"\n', partial=True),
    )
    provider = door("dashscope", fake_llm.dashscope_base_url)
    fake_llm.reply(f'\nassert check("{STEM}1", "{STEM}2")')
    request = GenerationRequest(model="qwen3-coder-flash", messages=messages)
    result = await provider.generate(request)
    assert result.texts == (f'\nassert check("{password}", "{token}")',)
    sent = fake_llm.requests[0].body["input"]["messages"]
    assert sent[1]["content"] == f'Suffix:\nDB_PASSWORD = "{STEM}1"\nGITHUB = "{STEM}2"\n'
    assert sent[2]["content"] == f'login("admin", "{STEM}1")\ntoken = "{STEM}2"\n'
    assert sent[2]["partial"] is True
    assert password not in json.dumps(sent) and token not in json.dumps(sent)


@pytest.mark.parametrize(
    "answer",
    [
        f'db_password = "{STEM}99"',  # never sent
        f'db_password = "{STEM.lower()}1"',  # mangled
        f'db_password = "{STEM}"',  # mangled
    ],
    ids=["unknown", "lower-case", "no-number"],
)
async def test_an_answer_with_a_placeholder_not_sent_is_refused(
    answer: str, fake_llm: FakeLLM, door: Callable[..., RedactingProvider]
) -> None:
    provider = door()
    fake_llm.reply(answer)
    text = f'db_password = "Pw9-{os.urandom(6).hex()}"\n'
    with pytest.raises(BadResponse, match="placeholder"):
        await provider.generate(fim(text))


async def test_only_the_candidates_with_a_placeholder_not_sent_are_dropped(
    fake_llm: FakeLLM, door: Callable[..., RedactingProvider]
) -> None:
    password = "Pw9-" + os.urandom(6).hex()
    fake_llm.enqueue(f'check("{STEM}7")', f'check("{STEM}1")')
    request = GenerationRequest(
        model="gpt-4.1-mini",
        messages=(Message("user", f'db_password = "{password}"\nFinish the check.'),),
        n=2,
    )
    result = await door("openai").generate(request)
    assert result.texts == (f'check("{password}")',)


async def test_a_review_answer_in_json_gets_the_values_escaped(
    fake_llm: FakeLLM, door: Callable[..., RedactingProvider]
) -> None:
    """A review quotes code inside JSON strings: a quote in the real value must not break it."""
    password = 'Pw"9-' + os.urandom(4).hex()
    line = f"db_password = '{password}'"
    reply = json.dumps({"findings": [{"line": 1, "suggestion": f"db_password = '{STEM}1'"}]})
    fake_llm.reply(reply)
    request = GenerationRequest(
        model="gpt-4.1-mini", messages=(Message("user", f"Review:\n{line}\n"),), json_mode=True
    )
    result = await door("openai").generate(request)
    assert json.loads(result.texts[0])["findings"][0]["suggestion"] == line
    assert password not in json.dumps(fake_llm.requests[0].body)
