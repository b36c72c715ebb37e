"""The completion use case: debounce (`debounce`), per-document state (`sessions`),
typing-through and hot-streak reuse (`reuse`), `complete()` itself (`complete`) and the prompt
inspector that shows what it would send (`inspection`)."""
