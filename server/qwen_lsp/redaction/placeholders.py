"""The numbered placeholders that stand for the secrets of one request, and the real values
put back into an answer."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping

# Upper-case identifiers, so a model copies them as they are (inside strings, URLs, YAML) and
# no escaping changes them; none occurs in real code. The first stem that a request does not
# already hold is used, so a user's own text is never taken for a placeholder.
PLACEHOLDER_STEMS = ("REDACTED_SECRET_", "HIDDEN_SECRET_", "MASKED_SECRET_", "QWENLSP_SECRET_")


class UnknownPlaceholder(ValueError):
    """An answer held a placeholder that the request never gave out, or a mangled one."""


class Placeholders:
    """The numbered placeholders of one request: value -> `REDACTED_SECRET_<n>` and back."""

    def __init__(self, stem: str = PLACEHOLDER_STEMS[0]) -> None:
        self.stem = stem
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        words = stem.strip("_").split("_")
        self._first_word = words[0].lower()
        self._exact = re.compile(re.escape(stem) + r"[1-9][0-9]*(?![0-9])")
        # A model that mangles a placeholder still writes its words: any of these that is not
        # exactly a placeholder given out makes the answer refused.
        self._mention = re.compile("[_-]?".join(map(re.escape, words)), re.IGNORECASE)

    @classmethod
    def for_texts(cls, texts: Iterable[str]) -> Placeholders:
        """Placeholders whose stem none of `texts` mentions."""
        texts = list(texts)
        stems = itertools.chain(
            PLACEHOLDER_STEMS, (f"REDACTED{n}_SECRET_" for n in itertools.count(2))
        )
        for stem in stems:
            candidate = cls(stem)
            if not any(candidate.mentioned_in(text) for text in texts):
                return candidate
        raise AssertionError("unreachable: the stems never run out")

    def mentioned_in(self, text: str) -> bool:
        # A fast scan first: a case-insensitive search of a whole prompt is slow.
        return self._first_word in text.lower() and self._mention.search(text) is not None

    def placeholder(self, value: str) -> str:
        """The placeholder of `value`, numbered in order of first use."""
        name = self._by_value.get(value)
        if name is None:
            name = f"{self.stem}{len(self._by_value) + 1}"
            self._by_value[value] = name
            self._by_placeholder[name] = value
        return name

    @property
    def values(self) -> Mapping[str, str]:
        """Placeholder -> the real value it stands for."""
        return dict(self._by_placeholder)

    def __len__(self) -> int:
        return len(self._by_value)

    def restore(self, text: str, *, json_document: bool | None = None) -> str:
        """`text` with each placeholder replaced by its real value; UnknownPlaceholder when it
        holds one this request never gave out, or a mangled one ("redacted_secret_1",
        "REDACTED_SECRET_").

        A value goes back as it was in the prompt: source text. An answer that is a JSON
        document quoting code (a review) needs it escaped as JSON string content instead, or a
        quote or backslash in it would break the document. `json_document` says which the
        answer is; None: escape only when the answer is JSON that the plain values would break.
        """
        mentions = list(self._mention.finditer(text))
        if not mentions:
            return text
        for mention in mentions:
            exact = self._exact.match(text, mention.start())
            if exact is None or exact.group(0) not in self._by_placeholder:
                shown = text[mention.start() : mention.end() + 6].split("\n")[0]
                raise UnknownPlaceholder(f"the answer holds {shown!r}, not a placeholder sent")

        def put_back(escape: bool) -> str:
            def real(match: re.Match[str]) -> str:
                value = self._by_placeholder[match.group(0)]
                return _json_escaped(value) if escape else value

            return self._exact.sub(real, text)

        if json_document is not None:
            return put_back(json_document)
        plain = put_back(False)
        if plain != put_back(True) and _is_json(text) and not _is_json(plain):
            return put_back(True)
        return plain


def _json_escaped(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True
