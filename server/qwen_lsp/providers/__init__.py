"""Model endpoints behind one small async interface (`base`), one implementation per wire
(`dashscope`, `openai`), their shared plumbing (`wire`), the redaction every prompt passes
(`redacting`) and the memory of which prompt mode an endpoint takes (`probing`). SDKs are
imported when first used."""

from __future__ import annotations

from qwen_lsp.providers.base import Endpoint, Provider

__all__ = ["Endpoint", "Provider", "create_provider"]


def create_provider(endpoint: Endpoint) -> Provider:
    """Build the provider for `endpoint.provider`, importing its SDK only now."""
    if endpoint.provider == "dashscope":
        from qwen_lsp.providers.dashscope import DashScopeProvider

        return DashScopeProvider(endpoint)
    if endpoint.provider in ("openai", "openai-compatible"):
        from qwen_lsp.providers.openai import OpenAIProvider

        return OpenAIProvider(endpoint)
    raise ValueError(f"unknown provider {endpoint.provider!r}")
