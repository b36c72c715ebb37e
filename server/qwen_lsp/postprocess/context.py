"""What the filters know about the place the answer goes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FilterContext:
    prefix: str
    suffix: str
    language: str | None = None
    from_chat: bool = False  # the answer came from a chat model (fences, prose, echoes)

    @property
    def line_prefix(self) -> str:
        return self.prefix.rsplit("\n", 1)[-1]

    @property
    def line_suffix(self) -> str:
        return self.suffix.split("\n", 1)[0]
