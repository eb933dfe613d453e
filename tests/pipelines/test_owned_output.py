"""The pipeline's output directory is owned and swapped whole: a failed or killed run never removes, mixes
or half-writes an earlier run, a second writer is refused, and manifest.json describes exactly the shards."""

import glob
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from bert_tf.core.outputs import OutputError, exclusive
from pipelines.config import ConfigError, PipelineConfig
from pipelines.create_pretraining_data import run
from tests.conftest import write_kjv_chapters

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def corpus(samples, tmp_path_factory):
    return write_kjv_chapters(samples, tmp_path_factory.mktemp("owned") / "kjv.txt", 0, 6)


def config(corpus, vocab_file, out, **overrides):
    values = dict(
        inputs=(corpus,),
        output_dir=str(out),
        vocab_file=vocab_file,
        input_format="lines",
        max_seq_length=64,
        max_predictions_per_seq=10,
        dupe_factor=1,
        num_shards=2,
    )
    return PipelineConfig(**{**values, **overrides})


def snapshot(directory) -> dict:
    """name → sha256 of every file below `directory`."""
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "**"), recursive=True)):
        if os.path.isfile(path):
            out[os.path.relpath(path, directory)] = hashlib.sha256(
                open(path, "rb").read()
            ).hexdigest()
    return out


def assert_complete_run(directory) -> dict:
    """The directory is one whole run: its manifest lists exactly its shards, with their bytes and counts."""
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    files = snapshot(directory)
    assert set(files) == {"manifest.json", "stats.json"} | {s["file"] for s in manifest["shards"]}
    for shard in manifest["shards"]:
        assert files[shard["file"]] == shard["sha256"]
        assert shard["records"] == sum(
            1 for _ in tf.data.TFRecordDataset(os.path.join(directory, shard["file"]))
        )
    stats = json.load(open(os.path.join(directory, "stats.json")))
    assert manifest["records"] == stats["instances"]
    return manifest


def test_manifest_counts_and_checksums_equal_the_records(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    stats = run(config(corpus, vocab_file, out, num_shards=3), [])
    manifest = assert_complete_run(out)
    assert [s["file"] for s in manifest["shards"]] == [
        f"train-0000{i}-of-00003.tfrecord" for i in range(3)
    ]
    assert manifest["records"] == stats["instances"] > 0 and manifest["flags"]["num_shards"] == 3
    # no staging directory or lock file left beside it
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_failed_rerun_leaves_the_previous_run_whole(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    run(config(corpus, vocab_file, out), [])
    before = snapshot(out)
    useless = tmp_path / "one-word.txt"
    useless.write_text("Amen.\n")  # a document too short for any instance
    with pytest.raises(ConfigError, match="no training instance"):
        run(config(str(useless), vocab_file, out), [], overwrite=True)
    assert snapshot(out) == before


def test_rerun_needs_overwrite_and_then_replaces_the_run_as_a_whole(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    run(config(corpus, vocab_file, out, num_shards=4), [])
    before = snapshot(out)
    with pytest.raises(OutputError, match="--overwrite"):
        run(config(corpus, vocab_file, out, num_shards=2), [])
    assert snapshot(out) == before
    run(config(corpus, vocab_file, out, num_shards=2), [], overwrite=True)
    assert sorted(glob.glob(str(out / "train-*"))) == [
        str(out / f"train-0000{i}-of-00002.tfrecord") for i in range(2)
    ]
    assert_complete_run(out)


def test_foreign_files_are_refused_and_kept(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not an earlier pipeline run"):
        run(config(corpus, vocab_file, out), [], overwrite=True)
    assert os.listdir(out) == ["notes.txt"]


def test_stale_temporaries_are_removed_and_never_match_the_shard_glob(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()  # what the old writer left after a SIGKILL: a shard and a partial temporary beside it
    (out / "train-00000-of-00001.tfrecord").write_bytes(b"")
    (out / "train-00000-of-00001.tfrecord.tmp-0a1b").write_bytes(b"partial")
    stale = tmp_path / ".out.partial-20261124-000000-deadbeef"  # a killed run's staging directory
    stale.mkdir()
    (stale / "train-00000-of-00002.tfrecord").write_bytes(b"partial")
    run(config(corpus, vocab_file, out), [], overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert_complete_run(out)


def test_a_second_writer_is_refused_and_a_dead_writers_lock_taken_over(
    corpus, vocab_file, tmp_path
):
    out = tmp_path / "out"
    with exclusive(str(out)):
        with pytest.raises(OutputError, match=f"in use by .*{os.getpid()}"):
            run(config(corpus, vocab_file, out), [])
    assert not out.exists()
    # its holder died: no flock held
    (tmp_path / ".out.lock").write_text('{"host": "gone", "pid": 999999}')
    run(config(corpus, vocab_file, out), [])
    assert_complete_run(out)


def test_input_inside_the_output_directory_is_refused(corpus, vocab_file, tmp_path):
    out = tmp_path / "out"
    run(config(corpus, vocab_file, out), [])
    with pytest.raises(ConfigError, match="inside --output_dir"):
        run(config(str(tmp_path / "**"), vocab_file, out, input_format="books"), [], overwrite=True)


@pytest.mark.slow
def test_killed_runs_leave_the_previous_or_the_new_run_never_a_mixture(
    corpus, vocab_file, tmp_path
):
    """SIGKILL at random moments (start-up, reading, writing shards, publishing); after each kill the
    output is one complete run (the last finished one, or the killed one if it got to publish)."""
    out = tmp_path / "out"
    system_tmp = tmp_path / "system_tmp"  # the runs' TMPDIR: a killed run leaves nothing there
    system_tmp.mkdir()

    def start(seed):
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.create_pretraining_data",
                f"--input={corpus}",
                "--input_format=lines",
                f"--vocab={vocab_file}",
                f"--output_dir={out}",
                "--max_seq_length=64",
                "--max_predictions_per_seq=10",
                "--dupe_factor=3",
                "--num_shards=3",
                f"--random_seed={seed}",
                "--overwrite",
            ],
            cwd=ROOT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(system_tmp)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    began = time.time()
    assert start(0).wait(timeout=300) == 0
    full = time.time() - began
    finished_seeds, phases = {0}, []
    rng = random.Random(11)
    for seed in range(1, 11):
        process = start(seed)
        time.sleep(rng.uniform(0.3, full * 1.1))
        staging = glob.glob(str(tmp_path / ".out.partial-*"))
        phases.append("writing" if staging else "starting or publishing")
        process.send_signal(signal.SIGKILL)
        if process.wait(timeout=60) == 0:  # it finished before the kill
            finished_seeds.add(seed)
        manifest = assert_complete_run(out)
        assert manifest["flags"]["random_seed"] in finished_seeds | {seed}
        if manifest["flags"]["random_seed"] == seed:
            finished_seeds.add(seed)
    assert "writing" in phases  # the kills did reach the write phase
    assert start(99).wait(timeout=300) == 0  # the next run cleans up what the killed ones left
    assert sorted(os.listdir(tmp_path)) == ["out", "system_tmp"]
    assert [name for name in os.listdir(system_tmp) if "progress" in name] == []
    assert assert_complete_run(out)["flags"]["random_seed"] == 99
