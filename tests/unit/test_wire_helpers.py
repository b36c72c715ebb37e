"""What every provider shares (`providers/wire.py`), as a user meets it: how long a rate limit
pauses completions, what an endpoint's error shows of the key, what goes on the wire."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from qwen_lsp.errors import DeadlineExceeded, ProviderError
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.providers.wire import (
    import_sdk,
    redact,
    retry_after,
    sampling_params,
    wire_message,
    within_deadline,
)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),  # the finer one wins
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"retry-after-ms": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"retry-after-ms": "soon"}, None),
        ({}, None),
    ],
)
def test_a_rate_limit_pauses_as_long_as_the_endpoint_asked(headers, seconds):
    assert retry_after(headers) == seconds


def test_a_retry_after_date_is_the_time_until_then():
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    assert 100 < retry_after({"Retry-After": later}) <= 120  # type: ignore[operator]
    earlier = email.utils.formatdate(time.time() - 120, usegmt=True)
    assert retry_after({"Retry-After": earlier}) == 0.0


def test_an_error_shown_to_the_user_never_holds_the_key():
    key = "sk-live-0123456789abcdef"
    assert redact(f"invalid key {key} for this model", key) == "invalid key *** for this model"
    assert redact(f"bad: {key.upper()}", key) == "bad: ***"
    # a key pasted with spaces around it is found with and without them
    assert redact(f"got ' {key} ' and {key}", f" {key} ") == "got '***' and ***"
    assert redact("Authorization: Bearer abc.def", None) == "Authorization: Bearer ***"
    assert redact("token sk-abcdefgh12 refused", None) == "token *** refused"
    assert redact("x" * 500, None) == "x" * 300
    assert redact("plain message", "") == "plain message"
    assert redact("plain message", "   ") == "plain message"  # a blank key hides nothing
    # a key of any shape, echoed in another case, is still hidden
    assert redact("bad key DS-KEY-ABC123XYZ", "ds-key-abc123xyz") == "bad key ***"


async def test_a_missing_sdk_is_a_clear_error_and_an_imported_one_is_not_imported_again():
    with pytest.raises(ProviderError, match="the qwen_lsp_no_such_sdk package is not installed"):
        await import_sdk("qwen_lsp_no_such_sdk")
    await import_sdk("json")  # already imported: returns at once
    await import_sdk("colorsys")
    import sys

    assert "colorsys" in sys.modules


async def test_an_answer_past_its_deadline_is_cut():
    with pytest.raises(DeadlineExceeded, match=r"endpoint X: no complete answer within 0\.05s"):
        await within_deadline(asyncio.sleep(1), 0.05, "endpoint X")
    assert await within_deadline(asyncio.sleep(0, result=3), 1.0, "endpoint X") == 3


def test_the_sampling_parameters_sent():
    request = GenerationRequest(prompt="x", model="m", max_tokens=64, temperature=0.2)
    assert sampling_params(request) == {"max_tokens": 64, "temperature": 0.2}
    tuned = GenerationRequest(
        prompt="x", model="m", max_tokens=8, temperature=0.0, top_p=0.9, stop=("\n\n",), n=3
    )
    assert sampling_params(tuned) == {
        "max_tokens": 8,
        "temperature": 0.0,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "n": 3,
    }


def test_a_partial_message_keeps_its_flag_on_the_wire():
    assert wire_message(Message("user", "hi")) == {"role": "user", "content": "hi"}
    assert wire_message(Message("assistant", "def f(", partial=True)) == {
        "role": "assistant",
        "content": "def f(",
        "partial": True,
    }
