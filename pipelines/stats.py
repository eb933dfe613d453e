"""Run statistics: Beam counters (live in the runner's UI) → the stats JSON written beside the
shards.

Counters are the single source: the DoFns increment them, and after the run `stats_from_counters`
turns the committed values into the JSON (docs/recipe.md §4: documents read/skipped, sentences,
instances, tokens, masked tokens, NSP label counts, length histogram, flags).

Example:
    >>> stats_from_counters({"instances": 4, "nsp_is_random": 1, "nsp_is_next": 3, "length_113_128": 4,
    ...                      "skipped.wiki_redirect": 2}, {"dupe_factor": 1})["nsp_labels"]
    {'is_next': 3, 'is_random': 1}
"""

from __future__ import annotations

import json

import apache_beam as beam

from bert_tf.core import storage

NAMESPACE = "bert_tf"
LENGTH_BUCKET = 16


def inc(name: str, value: int = 1) -> None:
    beam.metrics.Metrics.counter(NAMESPACE, name).inc(value)


def inc_all(counts: dict[str, int]) -> None:
    """Adds locally tallied counts (one counter update per name instead of one per event)."""
    for name, value in counts.items():
        inc(name, value)


def per_file_skip(reason: str, path: str) -> str:
    """Counter name of a skip in one file (the stats JSON groups them under skipped_by_file)."""
    return f"skipped_in|{reason}|{path}"


def _skips_by_file(counters: dict[str, int]) -> dict[str, dict[str, int]]:
    by_file: dict[str, dict[str, int]] = {}
    for name, value in sorted(counters.items()):
        if name.startswith("skipped_in|"):
            _, reason, path = name.split("|", 2)
            by_file.setdefault(path, {})[reason] = value
    return by_file


def length_bucket(length: int) -> str:
    """Histogram bucket name of a sequence length: 1–16 → 'length_001_016', 128 →
    'length_113_128'."""
    low = ((length - 1) // LENGTH_BUCKET) * LENGTH_BUCKET
    return f"length_{low + 1:03d}_{low + LENGTH_BUCKET:03d}"


def counters_of(result) -> dict[str, int]:
    """Committed counter values of a finished Beam run (attempted where the runner has no
    committed)."""
    counters = {}
    for metric in result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))[
        "counters"
    ]:
        value = metric.committed if metric.committed is not None else metric.attempted
        counters[metric.key.metric.name] = counters.get(metric.key.metric.name, 0) + int(value or 0)
    return counters


def stats_from_counters(counters: dict[str, int], flags: dict) -> dict:
    def get(name: str) -> int:
        return counters.get(name, 0)

    return {
        "documents_read": get("documents_read"),
        "documents_used": get("documents_used"),
        "skipped": {
            k.split(".", 1)[1]: v for k, v in sorted(counters.items()) if k.startswith("skipped.")
        },
        "skipped_by_file": _skips_by_file(counters),
        "sentences": get("sentences"),
        "instances": get("instances"),
        "tokens": get("tokens"),
        "masked_tokens": get("masked_tokens"),
        "nsp_labels": {"is_next": get("nsp_is_next"), "is_random": get("nsp_is_random")},
        "length_histogram": {
            k[len("length_") :]: v for k, v in sorted(counters.items()) if k.startswith("length_")
        },
        "flags": flags,
    }


def write_json_atomically(path: str, data: dict) -> None:
    """Writes to `path.tmp` then renames, so readers never see half a file (local or gs://)."""
    with storage.written_whole(path) as f:
        json.dump(data, f, indent=2, sort_keys=True)
