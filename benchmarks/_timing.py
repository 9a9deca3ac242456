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


def best_wall_and_cpu(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float]:
    """One warm-up call, then ``repeat`` calls; return the smallest wall time and the smallest CPU time (s).

    CPU time (``time.process_time``, every thread of the process) is the fairer figure on a loaded machine.
    """
    fn()
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(max(int(repeat), 1)):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu
