"""Typed errors, mapped once.

Providers raise these; the engine decides what the user sees. Messages never carry an API key.
"""

from __future__ import annotations


class QwenLspError(Exception):
    """Base of every error qwen-lsp raises on purpose."""


class ConfigError(QwenLspError):
    """A setting is missing or wrong in a way that stops a feature (for example no API key)."""


class ProviderError(QwenLspError):
    """The model endpoint failed. `kind` groups incidents for one user-visible message each."""

    kind = "provider"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ProviderError):
    """401/403: the key is missing, wrong, or from another region."""

    kind = "auth"


class RateLimitError(ProviderError):
    """429: too many requests; `retry_after` in seconds when the endpoint said."""

    kind = "rate-limit"

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class QuotaExhausted(ProviderError):
    """The account cannot pay for more requests (OpenAI's 429 `insufficient_quota`, DashScope's
    `Arrearage`): unlike a rate limit, waiting does not help."""

    kind = "quota"


class EndpointUnavailable(ProviderError):
    """Connection refused, DNS failure, 5xx: the endpoint is down or unreachable."""

    kind = "unavailable"


class DeadlineExceeded(ProviderError):
    """The request did not finish within its deadline."""

    kind = "deadline"


class BadResponse(ProviderError):
    """The endpoint answered something that is not a valid completion (malformed JSON or SSE)."""

    kind = "bad-response"


class UnsupportedMode(ProviderError):
    """The endpoint or model does not support the prompt mode that was tried (400/404)."""

    kind = "unsupported-mode"


class PromptTooLong(ProviderError):
    """400 saying the prompt exceeds the model's context ("maximum context length"): the
    request was too long, the mode itself works."""

    kind = "context-length"


class EndpointPaused(ProviderError):
    """Nothing was sent: the circuit breaker holds requests back for `retry_in` seconds, because
    the endpoint kept failing or (`rate_limited`) asked to wait; or (`halted`) the endpoint
    refused the key or every prompt mode, so nothing goes out until the settings change."""

    kind = "paused"

    def __init__(
        self, message: str, *, retry_in: float, rate_limited: bool, halted: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_in = retry_in
        self.rate_limited = rate_limited
        self.halted = halted
