"""Hugging Face checkpoints out: the tensor names transformers' BertForPreTraining uses, the real
all-MiniLM-L6-v2 weights coming back bit for bit after import → export, keras-hub's own loader
computing our encoder's outputs, and import(export(model)) equal to the model on every weight."""

import json
import os

import numpy as np
import pytest

from bert_tf.core.vocab import read_tokens
from bert_tf.interop.google_checkpoint import HEAD_WEIGHTS, weight_map
from bert_tf.interop.hf_checkpoint import (
    import_hf_checkpoint,
    load_hf_pretraining_model,
    read_safetensors,
)
from bert_tf.interop.hf_export import export_hf_checkpoint, hf_tensor_name
from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_of, build_pretraining_model
from bert_tf.modeling.model_dir import new_model_dir
from tests.bert_tf.cli import run_module, run_module_expecting_error

# transformers' BertForPreTraining state dict for one layer, minus the tied decoder and buffers.
TRANSFORMERS_NAMES = {
    "bert.embeddings.word_embeddings.weight",
    "bert.embeddings.position_embeddings.weight",
    "bert.embeddings.token_type_embeddings.weight",
    "bert.embeddings.LayerNorm.weight",
    "bert.embeddings.LayerNorm.bias",
    *(
        f"bert.encoder.layer.0.{module}.{kind}"
        for module in (
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
            "attention.output.LayerNorm",
            "intermediate.dense",
            "output.dense",
            "output.LayerNorm",
        )
        for kind in ("weight", "bias")
    ),
    "bert.pooler.dense.weight",
    "bert.pooler.dense.bias",
    "cls.predictions.bias",
    "cls.predictions.transform.dense.weight",
    "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.LayerNorm.weight",
    "cls.predictions.transform.LayerNorm.bias",
    "cls.seq_relationship.weight",
    "cls.seq_relationship.bias",
}


def test_names_are_those_of_transformers_bert_for_pretraining():
    entries = weight_map(num_layers=1) + HEAD_WEIGHTS
    assert {hf_tensor_name(google_name) for google_name, _, _ in entries} == TRANSFORMERS_NAMES


def test_imported_minilm_exports_to_its_own_tensors(samples, tmp_path):
    model_dir, hf_dir = str(tmp_path / "minilm"), str(tmp_path / "hf")
    import_hf_checkpoint(samples["minilm"], model_dir)
    printed = export_hf_checkpoint(model_dir, hf_dir)
    original = read_safetensors(os.path.join(samples["minilm"], "model.safetensors"))
    exported = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    parameters = {name for name in original if not name.endswith("position_ids")}
    assert {f"bert.{name}" for name in parameters} <= set(exported)
    for name in parameters:
        np.testing.assert_array_equal(exported[f"bert.{name}"], original[name], err_msg=name)
    with open(os.path.join(hf_dir, "tokenizer_config.json")) as f:
        assert json.load(f)["do_lower_case"] is True
    assert "MLM and NSP heads" in printed and sorted(os.listdir(hf_dir)) == [
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer_config.json",
        "vocab.txt",
    ]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    hf_dir = str(tmp_path_factory.mktemp("hf_out") / "tiny-hf")
    printed = run_module(
        "bert_tf.export_hf_checkpoint", f"--checkpoint={trained['dir']}", f"--output_dir={hf_dir}"
    )
    return {"dir": hf_dir, "printed": printed, "model": load_checkpoint_dir(trained["dir"])[0]}


@pytest.mark.slow
def test_keras_hub_loader_computes_our_encoder(exported):
    import keras_hub

    theirs = keras_hub.models.BertBackbone.from_preset(exported["dir"])
    rng = np.random.default_rng(0)
    lengths = np.array([5, 64, 17, 33])
    ids = rng.integers(5, theirs.vocabulary_size, size=(4, 64))
    mask = (np.arange(64)[None, :] < lengths[:, None]).astype("int32")
    segments = ((np.arange(64)[None, :] >= lengths[:, None] // 2) * mask).astype("int32")
    inputs = {"token_ids": ids * mask, "padding_mask": mask, "segment_ids": segments}
    ours = backbone_of(exported["model"])(inputs)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(theirs(inputs)[key], ours[key], atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_import_of_the_export_is_the_model(exported):
    model, _, report = load_hf_pretraining_model(exported["dir"])
    assert report["heads_fresh"] == [] and "MLM and NSP heads" in exported["printed"]
    original = {weight.path: weight.numpy() for weight in exported["model"].weights}
    assert {weight.path for weight in model.weights} == set(original)
    for weight in model.weights:
        np.testing.assert_array_equal(weight.numpy(), original[weight.path], err_msg=weight.path)


def _model_dir(path, vocab_file, pre_layer_norm=False, nsp=True) -> str:
    config = BertConfig.named(
        "tiny", vocab_size=len(read_tokens(vocab_file)), pre_layer_norm=pre_layer_norm
    )
    new_model_dir(str(path), build_pretraining_model(config, 1, nsp), config, vocab_file)
    return str(path)


def test_mlm_only_model_exports_as_bert_for_masked_lm(vocab_file, tmp_path):
    export_hf_checkpoint(_model_dir(tmp_path / "m", vocab_file, nsp=False), str(tmp_path / "hf"))
    with open(tmp_path / "hf" / "config.json") as f:
        assert json.load(f)["architectures"] == ["BertForMaskedLM"]
    names = set(read_safetensors(str(tmp_path / "hf" / "model.safetensors")))
    assert "cls.predictions.bias" in names and "cls.seq_relationship.weight" not in names


@pytest.mark.slow
def test_refuses_pre_layer_norm_and_a_used_output_dir(vocab_file, tmp_path):
    pre_ln = _model_dir(tmp_path / "pre_ln", vocab_file, pre_layer_norm=True)
    error = run_module_expecting_error(
        "bert_tf.export_hf_checkpoint", f"--checkpoint={pre_ln}", f"--output_dir={tmp_path / 'a'}"
    )
    assert "pre-LayerNorm" in error and not (tmp_path / "a").exists()
    error = run_module_expecting_error(
        "bert_tf.export_hf_checkpoint", f"--checkpoint={pre_ln}", f"--output_dir={pre_ln}"
    )
    assert error.startswith("error:") and "not empty" in error
