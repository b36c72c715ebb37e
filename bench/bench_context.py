"""Benchmark of the per-keystroke context work on a 5,000-line file, against its targets.

What a keystroke costs the server before any model is asked: `SourceDocument.apply_change`
for a one-character insertion (text, line index and incremental tree-sitter reparse), and
`extract_window` for a cursor in the middle of the file with the default budget.

Run: python bench/bench_context.py [--samples N]. Prints p50 and p99 beside each target and
exits 1 if a p50 misses its target. Not a test: wall-clock figures depend on the machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable

from qwen_lsp.context.extract import extract_window
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position

TARGETS_MS = {"apply_change": 2.0, "extract_window": 1.0}  # p50

UNIT = '''

class Inventory{i}:
    """Items on hand for warehouse {i} (entrepôt, 仓库)."""

    def __init__(self, items: dict[str, int] | None = None) -> None:
        self.items = dict(items or {{}})
        self.log: list[str] = []

    def add(self, name: str, count: int = 1) -> int:
        if count <= 0:
            raise ValueError(f"count must be positive, got {{count}}")
        self.items[name] = self.items.get(name, 0) + count
        self.log.append(f"+{{count}} {{name}}")
        return self.items[name]

    def remove(self, name: str, count: int = 1) -> int:
        left = self.items.get(name, 0) - count
        if left < 0:
            raise KeyError(name)
        self.items[name] = left
        return left


def restock_{i}(inventory: Inventory{i}, wanted: dict[str, int]) -> list[str]:
    missing = []
    for name, count in sorted(wanted.items()):
        if inventory.items.get(name, 0) < count:
            missing.append(name)
            inventory.add(name, count)
    return missing
'''

TYPED = "        total = sum(self.items.values()) + len(self.log)\n"


def python_file(lines: int = 5000) -> str:
    unit_lines = UNIT.count("\n")
    return "".join(UNIT.format(i=i) for i in range(lines // unit_lines + 1))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench_apply_change(text: str, samples: int) -> list[float]:
    """Type a statement into methods around the middle of the file, one character at a time
    (with the transient syntax errors typing makes), then delete it again."""
    doc = SourceDocument(text, "python")
    rng = random.Random(1)
    anchors = [n for n in range(doc.line_count) if doc.line(n).startswith("        return left")]
    middle = anchors[len(anchors) // 3 : 2 * len(anchors) // 3]
    times: list[float] = []
    while len(times) < samples:
        line = rng.choice(middle)  # type above the `return`: inside the method body
        for column, char in enumerate(TYPED):
            at = Position(line, column)
            times.append(timed(lambda at=at, char=char: doc.apply_change(at, at, char)))
        doc.apply_change(Position(line, 0), Position(line + 1, 0), "")
    return times[:samples]


def bench_extract_window(text: str, samples: int) -> list[float]:
    doc = SourceDocument(text, "python")
    rng = random.Random(2)
    middle = range(doc.line_count * 2 // 5, doc.line_count * 3 // 5)
    times = []
    for _ in range(samples):
        pos = Position(rng.choice(middle), rng.randrange(0, 30))
        times.append(timed(lambda pos=pos: extract_window(doc, pos)))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()

    text = python_file()
    doc = SourceDocument(text, "python")
    print(
        f"5,000-line Python file: {doc.line_count} lines, {doc.size / 1024:.0f} KB, "
        f"UTF-16 positions, {args.samples} samples each"
    )
    missed = False
    for name, run in (
        ("apply_change", bench_apply_change),
        ("extract_window", bench_extract_window),
    ):
        run(text, 50)  # warm up: grammar load, allocator, caches
        p50, p99 = percentiles(run(text, args.samples))
        target = TARGETS_MS[name]
        verdict = "ok" if p50 <= target else "MISSED"
        missed |= p50 > target
        figures = f"p50 {p50:6.3f} ms  p99 {p99:6.3f} ms"
        print(f"{name:<15} {figures}   target p50 <= {target} ms  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
