"""Model structure (docs/recipe.md §5), config round trips, losses and the learning-rate schedule."""

import json

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_of, build_pretraining_model
from bert_tf.training import losses
from bert_tf.training.optimization import NO_DECAY_NAMES, WarmupPolynomialDecay, create_optimizer

TINY = BertConfig.named("tiny", vocab_size=50)


@pytest.mark.parametrize(
    "name,layers,hidden,heads",
    [
        ("tiny", 2, 128, 2),
        ("mini", 4, 256, 4),
        ("small", 4, 512, 8),
        ("medium", 8, 512, 8),
        ("base", 12, 768, 12),
        ("large", 24, 1024, 16),
    ],
)
def test_named_sizes(name, layers, hidden, heads):
    cfg = BertConfig.named(name, vocab_size=30522)
    assert (
        cfg.num_hidden_layers,
        cfg.hidden_size,
        cfg.num_attention_heads,
        cfg.intermediate_size,
    ) == (layers, hidden, heads, 4 * hidden)


def test_original_bert_config_json_loads(tmp_path):
    original = {
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 256,
        "initializer_range": 0.02,
        "intermediate_size": 1024,
        "max_position_embeddings": 512,
        "num_attention_heads": 4,
        "num_hidden_layers": 4,
        "type_vocab_size": 2,
        "vocab_size": 30522,
    }
    path = tmp_path / "bert_config.json"
    path.write_text(json.dumps(original))
    cfg = BertConfig.from_json_file(str(path))
    cfg.to_json_file(str(tmp_path / "again.json"))
    assert json.loads((tmp_path / "again.json").read_text()) == original
    with pytest.raises(ValueError, match="gelu"):
        BertConfig.from_dict({**original, "hidden_act": "relu"})


def test_a_pre_ln_model_starts_its_weights_at_the_configs_initializer_range():
    """keras-hub's BertBackbone draws at 0.02 only, so another range is refused for post-LN; a
    pre-LN model draws every kernel and embedding at it (truncated at 2σ: std ≈ 0.88 × range)."""
    with pytest.raises(ValueError, match="initializer_range 0.05 unsupported"):
        BertConfig.named("tiny", vocab_size=50, initializer_range=0.05)
    with pytest.raises(ValueError, match="must be > 0"):
        BertConfig.named("tiny", vocab_size=50, initializer_range=0.0, pre_layer_norm=True)
    for scale in (0.02, 0.1):
        config = BertConfig.named(
            "tiny", vocab_size=500, initializer_range=scale, pre_layer_norm=True
        )
        backbone = backbone_of(build_pretraining_model(config, max_predictions_per_seq=3))
        assert backbone.get_config()["initializer_range"] == scale
        for weights in (
            backbone.token_embedding.embeddings,
            backbone.transformer_layers[0].weights[0],
        ):
            assert abs(float(np.std(weights.numpy())) - 0.88 * scale) < 0.1 * scale, weights.name


def test_model_outputs_and_bert_faithful_parts():
    model = build_pretraining_model(TINY, max_predictions_per_seq=3)
    batch = {
        "input_ids": tf.constant([[2, 7, 8, 3, 9, 3, 0]]),
        "input_mask": tf.constant([[1] * 6 + [0]]),
        "segment_ids": tf.constant([[0, 0, 0, 0, 1, 1, 0]]),
        "masked_lm_positions": tf.constant([[1, 4, 0]]),
    }
    out = model(batch, training=False)
    assert out["mlm_logits"].shape == (1, 3, 50) and out["nsp_logits"].shape == (1, 2)
    assert out["mlm_logits"].dtype == tf.float32
    backbone = backbone_of(model)
    head = model.get_layer("mlm_head")
    assert head.token_embedding is backbone.token_embedding  # tied word embeddings
    assert any(v.name == "output_bias" for v in head.weights)
    assert backbone.embeddings_layer_norm.epsilon == 1e-12
    assert backbone.position_embedding.trainable_weights  # learned positions, not sinusoidal
    # NSP reads the tanh pooler: its gradient reaches pooled_dense.
    with tf.GradientTape() as tape:
        nsp = model(batch, training=False)["nsp_logits"]
    grads = tape.gradient(nsp, backbone.pooled_dense.kernel)
    assert grads is not None and float(tf.norm(grads)) > 0


def test_mlm_head_equals_keras_hubs_on_the_same_weights():
    import keras_hub

    model = build_pretraining_model(BertConfig.named("tiny", vocab_size=60), 4)
    ours = model.get_layer("mlm_head")
    theirs = keras_hub.layers.MaskedLMHead(
        token_embedding=backbone_of(model).token_embedding,
        intermediate_activation=ours.intermediate_activation,
        layer_norm_epsilon=1e-12,
        dtype="float32",
    )
    sequence = tf.random.stateless_normal([3, 10, 128], seed=[1, 2])
    positions = tf.constant([[0, 9, 3, 3], [1, 2, 0, 0], [8, 7, 6, 5]], tf.int32)
    theirs(sequence, mask_positions=positions)  # builds it
    theirs.set_weights(ours.get_weights())
    np.testing.assert_array_equal(
        ours(sequence, mask_positions=positions), theirs(sequence, mask_positions=positions)
    )


def test_mlm_loss_is_weighted_mean_and_nsp_is_mean():
    logits = tf.random.stateless_normal([2, 3, 5], seed=[1, 2])
    labels = tf.constant([[1, 2, 0], [4, 0, 0]])
    weights = tf.constant([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    terms = losses.mlm_terms(labels, weights, logits)
    log_p = tf.nn.log_softmax(logits).numpy()
    expected = -(log_p[0, 0, 1] + log_p[0, 1, 2] + log_p[1, 0, 4]) / 3
    assert np.isclose(
        float(losses.safe_ratio(terms.nll_sum, terms.weight_sum)), expected, atol=1e-6
    )
    assert float(losses.safe_ratio(0.0, 0.0)) == 0.0  # no predictions: no NaN
    nsp = losses.nsp_terms(tf.constant([[1], [0]]), tf.math.log([[0.5, 0.5], [0.9, 0.1]]))
    assert np.isclose(float(nsp.nll_sum) / 2, -(np.log(0.5) + np.log(0.9)) / 2)
    assert float(nsp.correct_sum) == 1.0


def test_schedule_warmup_then_linear_decay():
    schedule = WarmupPolynomialDecay(1e-4, warmup_steps=10, total_steps=110)
    values = [float(schedule(s)) for s in (0, 5, 10, 60, 110, 200)]
    assert np.allclose(values, [0, 5e-5, 1e-4, 5e-5, 0, 0], atol=1e-10)


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_weight_decay_skips_layer_norm_and_biases(name):
    model = build_pretraining_model(TINY, max_predictions_per_seq=3)
    optimizer = create_optimizer(name, 1e-4)
    optimizer.build(model.trainable_variables)
    decays = optimizer.adapts if name == "lamb" else optimizer._use_weight_decay
    decayed = {v.path for v in model.trainable_variables if decays(v)}
    skipped = {v.path for v in model.trainable_variables} - decayed
    assert skipped and all(any(n in p.rsplit("/", 1)[-1] for n in NO_DECAY_NAMES) for p in skipped)
    assert any("layer_norm" in p for p in skipped) and any(
        p.endswith("output_bias") for p in skipped
    )
    assert all(p.endswith(("kernel", "embeddings")) for p in decayed)
    assert optimizer.__class__.__name__ == {"adamw": "AdamW", "lamb": "Lamb"}[name]
