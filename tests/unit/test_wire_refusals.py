"""What the user reads when an endpoint refuses a request, and which DashScope models get raw
FIM prompts (a wrong answer sends a prompt the model treats as text)."""

from __future__ import annotations

import pytest

from qwen_lsp.errors import AuthError, EndpointUnavailable
from qwen_lsp.providers.wire import dashscope_fim_offered, dashscope_serves_fim, refusal


@pytest.mark.parametrize(
    ("status", "message", "kind", "said"),
    [
        (
            401,
            "Invalid API-key provided.",
            AuthError,
            "DashScope: HTTP 401: Invalid API-key provided.",
        ),
        (503, "", EndpointUnavailable, "DashScope: HTTP 503"),
    ],
)
def test_the_refusal_names_the_endpoint_the_status_and_the_message(
    status: int, message: str, kind: type, said: str
):
    error = refusal(status, message, "DashScope")
    assert isinstance(error, kind)
    assert str(error) == said


@pytest.mark.parametrize(
    ("model", "fim"),
    [
        ("qwen-coder-turbo", True),
        ("qwen-coder-turbo-latest", True),
        ("qwen-coder-turbo-0919", True),
        ("qwen2.5-coder-7b-instruct", True),
        ("Qwen2.5-Coder-32B-Instruct", True),
        ("qwen2.5-coder-7b", False),  # a base model DashScope does not serve
        ("qwen3-coder-plus-instruct", False),
        ("qwen3-coder-flash", False),
        ("qwen-coder-turbo2", False),
    ],
)
def test_which_dashscope_models_take_a_raw_fim_prompt(model: str, fim: bool):
    assert dashscope_serves_fim(model) is fim
    assert dashscope_fim_offered(model, "beijing") is fim
    assert dashscope_fim_offered(model, "singapore") is False
