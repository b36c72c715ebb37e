"""estimate_tokens stays near the Qwen tokenizer's count and grows with the text.

The expected counts were measured with the Qwen BPE vocabulary (`qwen.tiktoken`, shipped in the
dashscope package) when the estimator was calibrated; the samples are written for this test.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from qwen_lsp.context.budget import estimate_tokens

PYTHON = '''\
import os
from dataclasses import dataclass, field


@dataclass
class LineBuffer:
    """Lines read from a stream, with the offsets where each one starts."""

    lines: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)

    def append(self, line: str) -> None:
        start = self.offsets[-1] + len(self.lines[-1]) if self.lines else 0
        self.lines.append(line)
        self.offsets.append(start)

    def line_at(self, offset: int) -> int:
        low, high = 0, len(self.offsets)
        while low < high:
            middle = (low + high) // 2
            if self.offsets[middle] <= offset:
                low = middle + 1
            else:
                high = middle
        return max(low - 1, 0)


def read_config(path: str, defaults: dict[str, str] | None = None) -> dict[str, str]:
    values = dict(defaults or {})
    if not os.path.exists(path):
        return values
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"{path}:{number}: expected key = value, got {line!r}")
            values[key.strip()] = value.strip()
    return values
'''

TYPESCRIPT = """\
export interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export class DebouncedRequest<T> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly run: (signal: AbortSignal) => Promise<T>,
  ) {}

  async schedule(): Promise<T | undefined> {
    this.cancel();
    const controller = new AbortController();
    this.controller = controller;
    await new Promise<void>((resolve) => {
      this.timer = setTimeout(resolve, this.delayMs);
    });
    if (controller.signal.aborted) {
      return undefined;
    }
    try {
      return await this.run(controller.signal);
    } catch (error) {
      if ((error as Error).name === "AbortError") return undefined;
      throw error;
    }
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.controller?.abort();
    this.timer = undefined;
  }
}
"""

GO = """\
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// ErrMiss is returned when a key has no entry.
var ErrMiss = errors.New("cache: miss")

type Store struct {
	mu   sync.Mutex
	root string
	hits int64
}

func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &Store{root: root}, nil
}

func (s *Store) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(s.root, name[:2], name[2:])
}

func (s *Store) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrMiss
	}
	if err == nil {
		s.hits++
	}
	return data, err
}
"""

CHINESE = '''\
def 计算总价(商品列表, 折扣=0.9):
    """计算购物车中所有商品的总价，并应用折扣。

    参数:
        商品列表: 每个元素是 (名称, 单价, 数量) 的元组
        折扣: 0 到 1 之间的小数，默认九折 😀
    """
    总价 = 0
    for 名称, 单价, 数量 in 商品列表:
        if 数量 <= 0:
            raise ValueError(f"{名称} 的数量必须大于零")
        总价 += 单价 * 数量  # 累加每种商品的金额
    return round(总价 * 折扣, 2)


# 示例：café 和 crème brûlée 的订单 🚀
订单 = [("咖啡", 28.5, 2), ("蛋糕", 35, 1), ("茶", 18, 3)]
print(计算总价(订单))
'''

# (sample, tokens counted by the Qwen tokenizer)
SAMPLES = {
    "python": (PYTHON, 329),
    "typescript": (TYPESCRIPT, 226),
    "go": (GO, 245),
    "chinese": (CHINESE, 218),
}

TOLERANCE = 0.2  # the calibration measured 8 % standard deviation on 8-KB chunks


@pytest.mark.parametrize("name", SAMPLES)
def test_estimate_is_near_the_qwen_count(name: str) -> None:
    text, qwen_tokens = SAMPLES[name]
    assert abs(estimate_tokens(text) - qwen_tokens) <= TOLERANCE * qwen_tokens


@pytest.mark.parametrize("name", SAMPLES)
def test_estimate_grows_with_the_text(name: str) -> None:
    text, _ = SAMPLES[name]
    lines = text.splitlines(keepends=True)
    estimates = [estimate_tokens("".join(lines[:n])) for n in range(len(lines) + 1)]
    # "monotone-ish": joining two runs can take back a fraction of a token, never more
    assert all(later >= earlier - 1 for earlier, later in pairwise(estimates))
    assert estimates[-1] > estimates[len(lines) // 2] > estimates[1]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("", 0, 0),
        ("x", 1, 1),
        ("return", 1, 2),
        ("    return self.value\n", 3, 8),
        ("1234567890", 10, 16),  # Qwen: one token a digit; the fit leans high on them
        ("中文注释", 3, 5),
        ("😀😀", 1, 4),
    ],
)
def test_small_texts(text: str, low: int, high: int) -> None:
    assert low <= estimate_tokens(text) <= high


def test_repeating_a_text_repeats_its_estimate() -> None:
    text, _ = SAMPLES["python"]
    assert abs(estimate_tokens(text * 4) - 4 * estimate_tokens(text)) <= 4


def test_a_lone_surrogate_does_not_raise() -> None:
    assert estimate_tokens("x = '\ud83d'") >= 3
