"""Is it really BERT? Scaled-down versions of tools/conformance.py and tools/convergence.py: our records
follow the recipe's statistics, and our trainer learns like keras-hub's reference on real text."""

import glob
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from pipelines.inspection import decode
from pipelines.mask_statistics import ks_statistic, mask_statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_our_records_follow_the_recipe(pretraining_records, vocab):
    examples = [
        decode(r.numpy())
        for r in tf.data.TFRecordDataset(sorted(glob.glob(pretraining_records["pattern"])))
    ]
    stats = mask_statistics(examples, vocab.mask_id, vocab.non_wordpiece_ids, max_seq_length=64)
    assert stats["instances"] > 500
    # round(15% of all tokens incl. [CLS]/[SEP]) / non-special
    assert 14.5 < stats["masked_percent"] < 17.5
    assert abs(stats["replaced_by_mask_percent"] - 80) < 2.5
    assert abs(stats["kept_percent"] - 10) < 2 and abs(stats["random_percent"] - 10) < 2
    assert abs(stats["nsp_random_percent"] - 50) < 5
    # our fix: random tokens are real wordpieces
    assert stats["random_not_wordpiece_percent"] == 0.0
    # Chunks fill to the target; a short target (10%) rarely shortens KJV pairs, as verses are long and
    # truncation is to max_num_tokens, as in the original. Most sequences are near full length.
    assert stats["short_percent"] < 10 and stats["tokens_per_instance"] > 50


def test_ks_statistic():
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0 and ks_statistic([1, 1], [5, 5]) == 1.0
    assert ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)


def test_shuffle_words_keeps_each_masked_token_findable_and_padding_in_place():
    from tools.word_order import shuffle_words

    rng = np.random.default_rng(3)
    ids = rng.integers(5, 1000, size=(8, 16))
    mask = (np.arange(16)[None, :] < rng.integers(4, 17, size=(8, 1))).astype(int)
    ids = ids * mask
    positions = np.stack([np.sort(rng.choice(m.sum(), 3, replace=False)) for m in mask])
    positions[:, 2] = 0  # padded prediction slot (weight 0) stays 0
    shuffled, moved = shuffle_words(ids, mask, positions, rng)
    assert not np.array_equal(shuffled, ids)
    for row in range(8):
        length = mask[row].sum()
        assert (
            sorted(shuffled[row, :length]) == sorted(ids[row, :length])
            and not shuffled[row, length:].any()
        )
        assert list(shuffled[row, moved[row]]) == list(ids[row, positions[row]])


@pytest.mark.slow
def test_convergence_smoke_run_learns_like_the_keras_hub_reference(tmp_path):
    report = tmp_path / "reports"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.convergence",
            "--steps=40",
            "--chapters=40",
            "--log_every=10",
            "--dupe_factor=2",
            f"--work_dir={tmp_path / 'work'}",
            f"--report_dir={report}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("mlm_loss", "mlm_accuracy", "nsp_accuracy", "loss"):
        assert (report / f"convergence_{name}.png").stat().st_size > 10_000
    summary = (report / "convergence.md").read_text()
    assert "| MLM accuracy |" in summary and "## Fill-mask" in summary and "[MASK]" in summary
    data = json.loads((report / "convergence.json").read_text())
    ours, mlm_only, reference = (
        data["ours"]["log"],
        data["ours_mlm_only"]["log"],
        data["reference"]["log"],
    )
    assert (
        [r["step"] for r in ours]
        == [r["step"] for r in mlm_only]
        == [r["step"] for r in reference]
        == [10, 20, 30, 40]
    )
    assert "nsp_accuracy" in ours[-1] and "nsp_accuracy" not in mlm_only[-1]
    data_dir = tmp_path / "work" / "data-40ch-vocab8192-len64-dupe2"
    vocab = (data_dir / "vocab-8192.txt").read_text().split("\n")  # learned from the train chapters
    assert "[MASK]" in vocab and "the" in vocab
    # Learning: well below a uniform guess over the vocab, and still going down.
    assert (
        ours[-1]["mlm_loss"] < math.log(len(vocab)) - 1.0
        and ours[-1]["mlm_loss"] < ours[0]["mlm_loss"]
    )
    train, held_out = (
        (data_dir / f"{name}.txt").read_text().split("\n\n") for name in ("train", "eval")
    )
    assert set(data["order_sensitivity"]) == {"ordered", "shuffled"}
    assert len(held_out) == 2 and len(train) == 38 and not set(train) & set(held_out)
    # Same data, optimizer and schedule: the MLM curves agree.
    assert abs(ours[-1]["mlm_loss"] - reference[-1]["mlm_loss"]) < 0.5
    assert abs(mlm_only[-1]["mlm_loss"] - reference[-1]["mlm_loss"]) < 0.3
