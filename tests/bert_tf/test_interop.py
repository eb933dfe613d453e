"""Interop: google-research/bert TF1 checkpoints in, keras-hub presets out."""

import json
import os
import shutil

import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from bert_tf.interop.google_checkpoint import HEAD_WEIGHTS, convert, weight_map
from bert_tf.interop.keras_hub_preset import save_keras_hub_preset
from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_inputs, backbone_of, build_pretraining_model
from bert_tf.serving.text_encoding import TextEncoder
from tests.bert_tf.cli import run_module_expecting_error
from tests.bert_tf.google_format import tf1_shapes, tiny_config, write_google_checkpoint

CONFIG = tiny_config(vocab_size=40, max_position_embeddings=24)
H, HEADS, V = CONFIG["hidden_size"], CONFIG["num_attention_heads"], CONFIG["vocab_size"]


@pytest.fixture(scope="module")
def google_checkpoint(tmp_path_factory):
    """A TF1-named checkpoint of CONFIG with known random values (tests/bert_tf/google_format.py)."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(V - 5)]
    directory = tmp_path_factory.mktemp("google")
    return write_google_checkpoint(directory, CONFIG, vocab, seed=7)


def layer_norm(x, gamma, beta):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def numpy_bert(w, ids, segments, mask, positions):
    """google-research/bert's modeling.py forward pass, written out in NumPy from the TF1 weights."""

    def g(name):
        return w["bert/" + name]

    t = ids.shape[1]
    x = (
        g("embeddings/word_embeddings")[ids]
        + g("embeddings/position_embeddings")[:t]
        + g("embeddings/token_type_embeddings")[segments]
    )
    x = layer_norm(x, g("embeddings/LayerNorm/gamma"), g("embeddings/LayerNorm/beta"))
    head_dim = H // HEADS
    for i in range(CONFIG["num_hidden_layers"]):

        def p(name, layer=i):
            return g(f"encoder/layer_{layer}/{name}")

        def split(y):  # [batch, seq, hidden] → [batch, heads, seq, head_dim]
            return y.reshape(*y.shape[:2], HEADS, head_dim).transpose(0, 2, 1, 3)

        q, k, v = (
            split(x @ p(f"attention/self/{n}/kernel") + p(f"attention/self/{n}/bias"))
            for n in ("query", "key", "value")
        )
        scores = (
            q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + (1.0 - mask[:, None, None, :]) * -1e9
        )
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(*x.shape)
        attention = context @ p("attention/output/dense/kernel") + p("attention/output/dense/bias")
        x = layer_norm(
            x + attention,
            p("attention/output/LayerNorm/gamma"),
            p("attention/output/LayerNorm/beta"),
        )
        ff = gelu(x @ p("intermediate/dense/kernel") + p("intermediate/dense/bias"))
        ff = ff @ p("output/dense/kernel") + p("output/dense/bias")
        x = layer_norm(x + ff, p("output/LayerNorm/gamma"), p("output/LayerNorm/beta"))
    pooled = np.tanh(x[:, 0] @ g("pooler/dense/kernel") + g("pooler/dense/bias"))

    def c(name):
        return w["cls/" + name]

    h = np.take_along_axis(x, positions[:, :, None], axis=1)
    h = gelu(h @ c("predictions/transform/dense/kernel") + c("predictions/transform/dense/bias"))
    h = layer_norm(
        h, c("predictions/transform/LayerNorm/gamma"), c("predictions/transform/LayerNorm/beta")
    )
    mlm_logits = h @ g("embeddings/word_embeddings").T + c("predictions/output_bias")
    nsp_logits = pooled @ c("seq_relationship/output_weights").T + c("seq_relationship/output_bias")
    return x, pooled, mlm_logits, nsp_logits


def test_weight_map_covers_every_model_weight():
    model = build_pretraining_model(BertConfig.from_dict(CONFIG), 2)
    mapped = [ours for _, ours, _ in weight_map(CONFIG["num_hidden_layers"]) + HEAD_WEIGHTS]
    assert sorted(mapped) == sorted(w.path for w in model.weights)
    assert set(g for g, _, _ in weight_map(2) + HEAD_WEIGHTS) == set(tf1_shapes(CONFIG))


def test_google_checkpoint_converts_and_matches_a_numpy_forward_pass(google_checkpoint, tmp_path):
    prefix, weights = google_checkpoint
    summary = convert(prefix, str(tmp_path / "converted"))
    assert "ckpt-0" in summary and "absent" not in summary
    model, _, _ = load_checkpoint_dir(str(tmp_path / "converted"))
    rng = np.random.default_rng(1)
    ids = rng.integers(5, V, size=(3, 10)).astype(np.int32)
    segments = (np.arange(10) >= 6).astype(np.int32)[None].repeat(3, 0)
    mask = np.ones((3, 10), np.int32)
    mask[2, 7:] = 0  # a padded example
    positions = np.array([[1, 4], [2, 9], [3, 5]], np.int32)
    ours = model(
        {
            "input_ids": ids,
            "input_mask": mask,
            "segment_ids": segments,
            "masked_lm_positions": positions,
        },
        training=False,
    )
    encoded = backbone_of(model)(backbone_inputs(ids, mask, segments), training=False)
    sequence, pooled, mlm_logits, nsp_logits = numpy_bert(
        weights, ids, segments, mask.astype(np.float32), positions
    )
    valid = mask.astype(bool)
    np.testing.assert_allclose(
        encoded["sequence_output"].numpy()[valid], sequence[valid], rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(encoded["pooled_output"].numpy(), pooled, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours["mlm_logits"].numpy(), mlm_logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours["nsp_logits"].numpy(), nsp_logits, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_google_checkpoint_conversion_never_takes_over_a_model_dir(
    google_checkpoint, trained, tmp_path
):
    model_dir = tmp_path / "trained"
    shutil.copytree(trained["dir"], model_dir)
    before = {p.name: p.read_bytes() for p in (model_dir / "checkpoints").iterdir()}
    line = run_module_expecting_error(
        "bert_tf.convert_google_checkpoint",
        f"--google_checkpoint={google_checkpoint[0]}",
        f"--output_dir={model_dir}",
    )
    assert line.startswith(f"error: {model_dir} is not empty")
    assert {p.name: p.read_bytes() for p in (model_dir / "checkpoints").iterdir()} == before


def test_google_checkpoint_with_wrong_config_is_a_clear_error(google_checkpoint, tmp_path):
    prefix, _ = google_checkpoint
    wrong = tmp_path / "bert_config.json"
    wrong.write_text(json.dumps({**CONFIG, "num_hidden_layers": 3}))
    with pytest.raises(ValueError, match="lacks 16 BERT weights"):
        convert(prefix, str(tmp_path / "out"), bert_config_file=str(wrong))
    with pytest.raises(FileNotFoundError, match="not found"):
        convert(str(tmp_path / "nothing.ckpt"), str(tmp_path / "out"))


def test_keras_hub_preset_round_trip(vocab_file, tmp_path):
    model_dir = tmp_path / "model"
    config = BertConfig.named("tiny", vocab_size=30522)
    model = build_pretraining_model(config, 2)
    tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model), str(model_dir / "checkpoints"), 1
    ).save()
    config.to_json_file(str(model_dir / "bert_config.json"))
    tf.io.gfile.copy(vocab_file, str(model_dir / "vocab.txt"))
    save_keras_hub_preset(str(model_dir), str(tmp_path / "preset"))
    assert {"config.json", "tokenizer.json", "model.weights.h5"} <= set(
        os.listdir(tmp_path / "preset")
    )

    texts = ["The river bank was flooded.", "Ünable naïve CAFÉ, 1,000 dollars!?", "水は流れる"]
    hub_tokenizer = keras_hub.models.BertTokenizer.from_preset(str(tmp_path / "preset"))
    ours = TextEncoder(vocab_file, 32).wordpieces(tf.constant(texts)).to_list()
    assert [list(map(int, row)) for row in hub_tokenizer(texts)] == ours

    hub_backbone = keras_hub.models.BertBackbone.from_preset(str(tmp_path / "preset"))
    ids = tf.constant([[101, 1996, 2314, 2924, 102, 0]])
    inputs = backbone_inputs(ids, tf.constant([[1, 1, 1, 1, 1, 0]]), tf.zeros_like(ids))
    expected, got = backbone_of(model)(inputs), hub_backbone(inputs)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy())
