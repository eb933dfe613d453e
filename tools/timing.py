"""Timing for the benchmarks: the median wall time of a call after warm-up calls (tracing, caches).

Example:
    >>> seconds = median_seconds(lambda: sum(range(1000)), iterations=5, warmup=1)
    >>> seconds > 0
    True
"""

from __future__ import annotations

import statistics
import time


def median_seconds(call, iterations: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
