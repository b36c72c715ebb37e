"""The self-hosted servers' own wires, which no SDK speaks: which server it is (Ollama answers
`GET /api/version`, the llama.cpp server `GET /props`), Ollama's `POST /api/generate` with
`"raw": true` and the llama.cpp server's `POST /infill`.

Why not their OpenAI-compatible `/v1/completions` for FIM: Ollama builds a generate request
without `raw` there, so the model's template wraps a raw FIM string into a chat turn for
instruct tags; the llama.cpp server's `/infill` carries the other files of the repository as
`input_extra` chunks and lays them out in the model's own repo-level format. Both stream one
candidate per request (no `n`). Everything goes through the HTTP library the openai SDK is
built on, imported on first use; failures leave as `qwen_lsp.errors.ProviderError`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from qwen_lsp.errors import BadResponse, DeadlineExceeded, EndpointUnavailable, ProviderError
from qwen_lsp.model import Generation, GenerationRequest, Usage
from qwen_lsp.providers.wire import FimParts, redact, refusal, retry_after

log = logging.getLogger(__name__)

# The kinds of OpenAI-compatible server the `serverKind` setting names.
OLLAMA = "ollama"
LLAMACPP = "llamacpp"
GENERIC = "generic"  # vLLM and any other server that takes the raw prompt on /v1/completions
DETECT_TIMEOUT = 2.0  # seconds for the two GETs that say which server it is


def http_module() -> Any:
    """The openai SDK's HTTP library (httpx2 in openai 3.x, httpx before)."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ProviderError("neither httpx2 nor httpx is installed")


def server_root(base_url: str) -> str:
    """The server's root from its OpenAI-compatible base URL (`http://host:11434/v1`)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


async def detect_kind(client: Any, base_url: str) -> str:
    """Which server answers at `base_url`: OLLAMA, LLAMACPP or GENERIC. Two quick GETs, sent
    together; a server that answers neither (vLLM, a proxy) is GENERIC."""
    root = server_root(base_url)

    async def answers(path: str, field: str) -> bool:
        try:
            response = await client.get(root + path, timeout=DETECT_TIMEOUT)
            return response.status_code == 200 and field in response.json()
        except Exception as exc:  # not that server, or none at all: the request will say
            log.debug("GET %s: %s", path, type(exc).__name__)
            return False

    # Ollama's server/routes.go: GET /api/version -> {"version": ...}; the llama.cpp server's
    # tools/server: GET /props -> {"default_generation_settings": ..., ...}.
    ollama, llamacpp = await asyncio.gather(
        answers("/api/version", "version"), answers("/props", "default_generation_settings")
    )
    kind = OLLAMA if ollama else LLAMACPP if llamacpp else GENERIC
    log.info("the server at %s is %s", base_url, kind)
    return kind


async def ollama_generate(
    client: Any, base_url: str, request: GenerationRequest, key: str | None, where: str
) -> Generation:
    """`request.prompt` verbatim through Ollama's `/api/generate` with `raw: true` (no
    template), streamed as JSON lines."""
    options: dict[str, Any] = {
        "num_predict": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.top_p is not None:
        options["top_p"] = request.top_p
    if request.stop:
        options["stop"] = list(request.stop)
    body = {
        "model": request.model,
        "prompt": request.prompt,
        "raw": True,
        "stream": True,
        "options": options,
    }
    parts: list[str] = []
    usage = Usage()
    done = False
    url = server_root(base_url) + "/api/generate"
    async for line in _stream_lines(client, url, body, key, where):
        event = _json(line, where)
        if event.get("error"):
            raise ProviderError(f"{where}: {redact(str(event['error']), key)}")
        parts.append(str(event.get("response") or ""))
        if event.get("done"):
            done = True
            usage = Usage(
                int(event.get("prompt_eval_count") or 0), int(event.get("eval_count") or 0)
            )
    if not done:
        raise BadResponse(f"{where}: the stream ended before the answer was complete")
    return Generation(texts=("".join(parts),), usage=usage, model=request.model)


async def llamacpp_infill(
    client: Any,
    base_url: str,
    request: GenerationRequest,
    fim: FimParts,
    key: str | None,
    where: str,
) -> Generation:
    """A FIM request through the llama.cpp server's `/infill`: the cursor's prefix and suffix,
    and the other files as `input_extra` chunks; streamed as server-sent events."""
    body: dict[str, Any] = {
        "input_prefix": fim.prefix,
        "input_suffix": fim.suffix,
        "input_extra": [{"filename": path, "text": text} for path, text in fim.files],
        "n_predict": request.max_tokens,
        "temperature": request.temperature,
        "stream": True,
        "cache_prompt": True,  # the repo part rarely changes between keystrokes
    }
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    parts: list[str] = []
    usage = Usage()
    done = False
    url = server_root(base_url) + "/infill"
    async for line in _stream_lines(client, url, body, key, where):
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        event = _json(data, where)
        if isinstance(event.get("error"), dict):
            raise ProviderError(f"{where}: {redact(str(event['error'].get('message')), key)}")
        parts.append(str(event.get("content") or ""))
        if event.get("stop"):
            done = True
            timings = event.get("timings") if isinstance(event.get("timings"), dict) else {}
            usage = Usage(
                int(event.get("tokens_evaluated") or timings.get("prompt_n") or 0),
                int(event.get("tokens_predicted") or timings.get("predicted_n") or 0),
            )
    if not done:
        raise BadResponse(f"{where}: the stream ended before the answer was complete")
    return Generation(texts=("".join(parts),), usage=usage, model=request.model)


async def _stream_lines(
    client: Any, url: str, body: dict[str, Any], key: str | None, where: str
) -> AsyncIterator[str]:
    http = http_module()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                raw = (await response.aread()).decode("utf-8", "replace")
                raise refusal(
                    response.status_code,
                    redact(_error_message(raw), key),
                    where,
                    retry_in=retry_after(response.headers),
                )
            async for line in response.aiter_lines():
                if line.strip():
                    yield line
    except ProviderError:
        raise
    except http.TimeoutException:
        raise DeadlineExceeded(f"{where}: timed out") from None
    except (http.TransportError, OSError) as exc:
        raise EndpointUnavailable(f"{where}: connection lost ({type(exc).__name__})") from None


def _json(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise BadResponse(f"{where}: the answer is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadResponse(f"{where}: the answer is not a JSON object")
    return value


def _error_message(raw: str) -> str:
    """The message of an error body: Ollama `{"error": "..."}`, llama.cpp
    `{"error": {"message": "..."}}`, or the text itself."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw.strip()
    error = value.get("error") if isinstance(value, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error if error is not None else raw).strip()
