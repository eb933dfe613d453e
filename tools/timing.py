"""Timing for the benchmarks: the median wall time of a call after warm-up calls (tracing, caches), and
one command's wall time, CPU time and peak memory of its whole process tree.

Example:
    >>> seconds = median_seconds(lambda: sum(range(1000)), iterations=5, warmup=1)
    >>> seconds > 0
    True
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
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


def _children() -> dict[int, list[int]]:
    """parent pid → child pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
            children.setdefault(parent, []).append(int(entry))
    return children


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (e.g. a Beam job's worker processes)."""
    children, total, stack = _children(), 0, [pid]
    while stack:
        current = stack.pop()
        stack += children.get(current, [])
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_measured(command: list[str], env: dict | None = None, interval: float = 0.25) -> dict:
    """Runs `command`; its wall seconds, CPU seconds (user + sys of it and every descendant), the peak of
    the whole process tree's summed RSS in MB (sampled every `interval` s), its output and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=env
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_bytes(process.pid))
            time.sleep(interval)
        wall = time.perf_counter() - start
        output.seek(0)
        text = output.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mb": peak / 2**20,
        "output": text,
        "returncode": process.returncode,
    }
