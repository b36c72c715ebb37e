"""Model endpoints behind one small async interface; SDKs are imported when first used."""

from __future__ import annotations

from qwen_lsp.providers.base import Provider, create_provider

__all__ = ["Provider", "create_provider"]
