"""Token estimates: how much of a model's context a piece of text will use, without a tokenizer.

`estimate_tokens` runs on every keystroke over the ~8 KB cursor window, so it counts character
classes with C-speed bytes operations (one translate, a few counts, one split: about 50 µs for
8 KB) instead of running a BPE tokenizer. Its weights are a least-squares fit to the Qwen
tokenizer (the `qwen.tiktoken` vocabulary that the dashscope package ships, the BPE that
Qwen2.5/Qwen3-Coder use) on 160 chunks of 8,000 characters: the Python 3.11 standard library,
C headers, Rust core sources, JavaScript, Markdown, and Python with Chinese, accented and emoji
comments. Measured error, estimate / true count: mean 1.00, standard deviation 8 %, 95 % of
chunks within 17 %; the worst outlier (OpenSSL macro tables, 8-KB chunk) was 41 % over.
Short texts are rougher: treat it as a budget, not a count.
"""

from __future__ import annotations

from qwen_lsp.model import GenerationRequest


def _classes() -> bytes:
    """A bytes.translate table putting each UTF-8 byte into one class letter."""
    table = bytearray(256)
    for byte in range(256):
        char = chr(byte)
        if byte >= 0x80:
            cls = "u"  # lead byte of a non-ASCII character (continuation bytes are deleted)
        elif char == "_":
            cls = "_"  # splits snake_case words: Qwen's pre-tokenizer starts a new word there
        elif char.isalpha():
            cls = "a"
        elif char.isdigit():
            cls = "0"
        elif char == "\n":
            cls = "\n"
        elif char.isspace():
            cls = " "
        else:
            cls = "."
        table[byte] = ord(cls)
    return bytes(table)


_CLASSES = _classes()
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))

# Tokens per unit of each feature (least-squares fit, rounded; see the module docstring).
_PER_LETTER = 0.12  # long identifiers split into several tokens
_PER_DIGIT = 1.5  # Qwen splits numbers into single digits
_PER_PUNCTUATION = 0.42  # common pairs like "):" or "->" merge into one token
_PER_NEWLINE = 1.4  # the break plus the indentation run after it
_PER_NON_ASCII = 0.8  # CJK is about one token a character; emoji a little more
_PER_UNDERSCORE = 0.8
_PER_CHUNK = 0.55  # each whitespace-separated run starts at least one new token


def estimate_tokens(text: str) -> int:
    """Roughly how many Qwen BPE tokens `text` is (see the module docstring for the error)."""
    if not text:
        return 0
    data = text.encode("utf-8", "surrogatepass")
    classes = data.translate(_CLASSES, _CONTINUATION_BYTES)
    count = classes.count
    estimate = (
        _PER_LETTER * count(b"a")
        + _PER_DIGIT * count(b"0")
        + _PER_PUNCTUATION * count(b".")
        + _PER_NEWLINE * count(b"\n")
        + _PER_NON_ASCII * count(b"u")
        + _PER_UNDERSCORE * count(b"_")
        + _PER_CHUNK * len(data.split())
    )
    return max(1, round(estimate))


_MESSAGE_OVERHEAD_TOKENS = 4  # the role and separators of each chat message


def request_tokens(request: GenerationRequest) -> int:
    """The estimated input tokens of a whole request: its raw prompt or its messages."""
    if request.prompt is not None:
        return estimate_tokens(request.prompt)
    return sum(estimate_tokens(m.content) + _MESSAGE_OVERHEAD_TOKENS for m in request.messages)
