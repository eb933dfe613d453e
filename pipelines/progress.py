"""How far a pipeline run is while it runs: input bytes read out of the total known before the job
starts (compressed files count compressed bytes), instances made, and an ETA.

Workers call `report()` from their DoFns; what they report goes to
- Beam counters in the `progress` namespace (`pool_bytes`, `bytes`, `instances`), which Dataflow's
  job page shows live, and
- on local runs, one small JSON file per worker process in a directory the launcher watches:
  `ProgressLine` sums those files every second and shows one updating line on a terminal, or a log
  line every `LOG_SECONDS` otherwise.

The job reads its input twice: once to pick the NotNext sample (`pool_bytes`, fast; the sample is
then tokenized), then to make instances (`bytes`, most of the run); the shards are merged after
that.

Example:
    >>> render({"pool_bytes": 50e6, "bytes": 12.5e6, "instances": 300_000}, total_bytes=50e6, main_seconds=30)
    'making instances: 12.5 of 50.0 MB read (25%), 300,000 instances, ETA 1m30s'
"""

from __future__ import annotations

import collections
import glob
import json
import logging
import os
import sys
import threading
import time

import apache_beam as beam

from bert_tf.core import storage

log = logging.getLogger(__name__)

NAMESPACE = "progress"
FLUSH_SECONDS = 1.0
LOG_SECONDS = 15.0


class _ProcessTally:
    """What this worker process has reported to one run's directory, and what of it was passed
    on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: collections.Counter = collections.Counter()
        self.counted: collections.Counter = collections.Counter()
        self.flushed_at = 0.0


_TALLIES: dict[str | None, _ProcessTally] = {}  # one per run (directory) seen by this process
_TALLIES_LOCK = threading.Lock()


def report(directory: str | None, force: bool = False, **amounts: int) -> None:
    """Adds `amounts` (pool_bytes=, bytes=, instances=) and, at most once a second (or when
    `force`), passes the new totals on: Beam counters, and `directory`'s file for this process on
    local runs. Call it from a DoFn's process/finish_bundle (Beam counters belong to the running
    bundle)."""
    with _TALLIES_LOCK:
        tally = _TALLIES.setdefault(directory, _ProcessTally())
    with tally.lock:
        tally.counts.update(amounts)
        now = time.monotonic()
        if not force and now - tally.flushed_at < FLUSH_SECONDS:
            return
        tally.flushed_at = now
        delta = tally.counts - tally.counted
        tally.counted = collections.Counter(tally.counts)
        totals = dict(tally.counts)
    for name, value in delta.items():
        beam.metrics.Metrics.counter(NAMESPACE, name).inc(value)
    if directory:
        path = os.path.join(directory, f"{os.getpid()}.json")
        with storage.written_whole(path) as f:
            json.dump(totals, f)


def read_totals(directory: str) -> collections.Counter:
    """The sum over every worker process's file (a file being replaced is read at the next tick)."""
    totals: collections.Counter = collections.Counter()
    for path in glob.glob(os.path.join(directory, "*.json")):
        try:
            with open(path) as f:
                totals.update(json.load(f))
        except (OSError, ValueError):
            continue
    return totals


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
        if seconds >= 60
        else f"{seconds}s"
    )


def render(
    totals: dict, total_bytes: float, main_seconds: float | None, sampling: bool = True
) -> str:
    """One progress line from the summed totals; `main_seconds`: time since instances started;
    `sampling`: the run reads its input for the NotNext sample first (not with --no_nsp)."""
    read, pool = (
        min(totals.get("bytes", 0), total_bytes),
        min(totals.get("pool_bytes", 0), total_bytes),
    )
    mb = total_bytes / 1e6
    if sampling and not read:
        return (
            f"NotNext sample: {pool / 1e6:.1f} of {mb:.1f} MB read ({pool / total_bytes:.0%})"
            if pool < total_bytes
            else f"NotNext sample: all {mb:.1f} MB read, tokenizing the sample"
        )
    instances = f"{int(totals.get('instances', 0)):,} instances"
    if read >= total_bytes:
        return f"writing shards: all {mb:.1f} MB read, {instances}"
    eta = (
        f", ETA {_duration(main_seconds * (total_bytes - read) / read)}"
        if read and main_seconds
        else ""
    )
    return f"making instances: {read / 1e6:.1f} of {mb:.1f} MB read ({read / total_bytes:.0%}), {instances}{eta}"


class ProgressLine:
    """While the `with` block runs, shows `render(...)` of `directory`'s totals: rewritten in place
    on a terminal, a log line every LOG_SECONDS otherwise."""

    def __init__(self, directory: str, total_bytes: int, sampling: bool = True, stream=None):
        self._directory, self._total, self._sampling = directory, max(1, total_bytes), sampling
        self._stream = stream or sys.stderr
        self._tty = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._stop = threading.Event()
        self._main_started: float | None = None
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def __enter__(self) -> "ProgressLine":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self._tty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()

    def _line(self) -> str:
        totals = read_totals(self._directory)
        if totals.get("bytes") and self._main_started is None:
            self._main_started = time.monotonic()
        main_seconds = time.monotonic() - self._main_started if self._main_started else None
        return render(totals, self._total, main_seconds, self._sampling)

    def _run(self) -> None:
        last_logged = time.monotonic()
        while not self._stop.wait(1.0):
            line = self._line()  # every second: it also notes when instances start, for the ETA
            if self._tty:
                self._stream.write(f"\r\x1b[K{line}")
                self._stream.flush()
            elif time.monotonic() - last_logged >= LOG_SECONDS:
                log.info("%s", line)
                last_logged = time.monotonic()
