"""Qwen-Coder's special tokens (Qwen2.5-Coder README), shared by prompts and post-processing."""

from __future__ import annotations

FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_PAD = "<|fim_pad|>"
REPO_NAME = "<|repo_name|>"
FILE_SEP = "<|file_sep|>"
END_OF_TEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# Generation stops at any of these: none of them can be part of a good completion.
QWEN_STOP_TOKENS = (
    FIM_PREFIX,
    FIM_SUFFIX,
    FIM_MIDDLE,
    FIM_PAD,
    REPO_NAME,
    FILE_SEP,
    END_OF_TEXT,
    IM_END,
)

# The hole marker of the chat hole-filler prompt.
HOLE = "<FILL_HERE>"
