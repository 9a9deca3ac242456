"""Shared timing helper of the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import time
from typing import Any, Callable


def best_of(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Call ``fn`` ``repeat`` times; return the smallest wall time in seconds and the last result."""
    best, out = float("inf"), None
    for _ in range(max(int(repeat), 1)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out
