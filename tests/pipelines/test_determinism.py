"""Output depends only on input content, flags and seed: byte-identical shards across Beam's local
running modes and worker counts, and when the same documents come in differently named/split files."""

import glob
import os

import pytest

from pipelines.config import PipelineConfig
from pipelines.create_pretraining_data import run
from tests.conftest import write_kjv_chapters


def shard_bytes(output_dir: str) -> dict[str, bytes]:
    return {
        os.path.basename(p): open(p, "rb").read()
        for p in sorted(glob.glob(f"{output_dir}/train-*"))
    }


@pytest.fixture(scope="module")
def reference(samples, vocab_file, tmp_path_factory):
    """40 KJV chapters in one file, run in memory with one worker."""
    corpus = write_kjv_chapters(samples, tmp_path_factory.mktemp("one") / "kjv.txt", 0, 40)
    out = str(tmp_path_factory.mktemp("reference"))
    stats = run(
        PipelineConfig(
            inputs=(corpus,),
            output_dir=out,
            vocab_file=vocab_file,
            input_format="lines",
            max_seq_length=64,
            max_predictions_per_seq=10,
            dupe_factor=2,
            num_shards=3,
        ),
        [],
    )
    return {"corpus": corpus, "shards": shard_bytes(out), "stats": stats}


def run_again(reference, vocab_file, out, inputs, beam_args):
    stats = run(
        PipelineConfig(
            inputs=inputs,
            output_dir=str(out),
            vocab_file=vocab_file,
            input_format="lines",
            max_seq_length=64,
            max_predictions_per_seq=10,
            dupe_factor=2,
            num_shards=3,
        ),
        beam_args,
    )
    assert stats["instances"] == reference["stats"]["instances"] > 500
    return shard_bytes(str(out))


@pytest.mark.slow
@pytest.mark.parametrize("mode,workers", [("multi_threading", 2), ("multi_processing", 2)])
def test_same_bytes_for_every_running_mode_and_worker_count(
    reference, vocab_file, tmp_path, mode, workers
):
    shards = run_again(
        reference,
        vocab_file,
        tmp_path,
        (reference["corpus"],),
        [f"--direct_running_mode={mode}", f"--direct_num_workers={workers}"],
    )
    assert list(shards) == [f"train-0000{i}-of-00003.tfrecord" for i in range(3)]
    assert shards == reference["shards"]


def test_same_bytes_when_input_is_renamed_and_split(reference, samples, vocab_file, tmp_path):
    later = write_kjv_chapters(samples, tmp_path / "a-second-half.txt", 20, 20)
    earlier = write_kjv_chapters(samples, tmp_path / "z-first-half.txt", 0, 20)
    assert (
        run_again(reference, vocab_file, tmp_path / "out", (later, earlier), [])
        == reference["shards"]
    )


def test_a_different_seed_gives_different_bytes(reference, vocab_file, tmp_path):
    stats = run(
        PipelineConfig(
            inputs=(reference["corpus"],),
            output_dir=str(tmp_path),
            vocab_file=vocab_file,
            input_format="lines",
            max_seq_length=64,
            max_predictions_per_seq=10,
            dupe_factor=2,
            num_shards=3,
            random_seed=7,
        ),
        [],
    )
    assert stats["documents_used"] == reference["stats"]["documents_used"]
    assert shard_bytes(str(tmp_path)) != reference["shards"]


@pytest.mark.slow
def test_a_big_lines_file_read_in_byte_ranges_gives_the_same_bytes(samples, vocab_file, tmp_path):
    """The whole KJV (4.1 MB) in one file is read in ~1 MiB ranges by 2 worker processes; the same 1,189
    chapters in 4 files read whole give the same shards."""
    from pipelines.sources.lines import plan_ranges

    whole = samples["kjv_lines"]
    assert len(plan_ranges(os.path.getsize(whole))) >= 4
    chapters = open(whole, encoding="utf-8").read().split("\n\n")
    parts = []
    for i in range(4):
        parts.append(str(tmp_path / f"part{i}.txt"))
        with open(parts[-1], "w", encoding="utf-8") as f:
            f.write("\n\n".join(chapters[i::4]).strip("\n") + "\n")

    def shards_of(inputs, out, beam_args):
        stats = run(
            PipelineConfig(
                inputs=tuple(inputs),
                output_dir=str(out),
                vocab_file=vocab_file,
                max_seq_length=64,
                max_predictions_per_seq=5,
                dupe_factor=1,
                num_shards=2,
            ),
            beam_args,
        )
        assert stats["documents_used"] == 1189 and stats["warnings"] == []
        return shard_bytes(str(out))

    ranged = shards_of(
        [whole],
        tmp_path / "ranged",
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    )
    assert shards_of(parts, tmp_path / "files", []) == ranged
