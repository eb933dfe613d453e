"""Model dirs are consistent or untouched, one trainer per model dir, converters never take over a model dir,
exports are swapped whole, and one vocabulary reader refuses what would give two id mappings."""

import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bert_tf.core.outputs import exclusive
from bert_tf.core.vocab import VocabError, parse_tokens
from tests.bert_tf.cli import ENV, ROOT, run_module, run_module_expecting_error

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses


def snapshot(directory) -> dict:
    return {
        os.path.relpath(p, directory): hashlib.sha256(open(p, "rb").read()).hexdigest()
        for p in sorted(glob.glob(os.path.join(directory, "**"), recursive=True))
        if os.path.isfile(p)
    }


def train_args(records, vocab_file, model_dir, *extra):
    return [
        f"--train_files={records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={model_dir}",
        "--strategy=cpu",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=8",
        "--num_warmup_steps=1",
        "--log_every=2",
        "--checkpoint_every=4",
        *extra,
    ]


@pytest.fixture()
def model_copy(trained, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained["dir"], copy)
    return str(copy)


def test_resume_with_another_bert_config_is_one_line_and_changes_nothing(
    model_copy, pretraining_records, vocab_file
):
    before = snapshot(model_copy)
    line = run_module_expecting_error(
        "bert_tf.train",
        *train_args(pretraining_records, vocab_file, model_copy, "--bert_config=mini"),
    )
    assert (
        line.startswith("error: --model_dir")
        and "bert_config.json" in line
        and "hidden_size" in line
    )
    assert snapshot(model_copy) == before


def test_resume_with_a_same_size_other_vocab_is_refused(
    model_copy, pretraining_records, vocab_file, tmp_path
):
    tokens = open(vocab_file, encoding="utf-8").read().split("\n")
    tokens[2000], tokens[2001] = tokens[2001], tokens[2000]  # same size, two ids swapped
    other = tmp_path / "other-vocab.txt"
    other.write_text("\n".join(tokens), encoding="utf-8")
    before = snapshot(model_copy)
    line = run_module_expecting_error(
        "bert_tf.train",
        *train_args(pretraining_records, str(other), model_copy, "--bert_config=tiny"),
    )
    assert "differs from --vocab" in line and str(other) in line
    assert snapshot(model_copy) == before


def test_a_second_trainer_in_one_model_dir_stops_at_once(
    model_copy, pretraining_records, vocab_file
):
    before = snapshot(model_copy)
    with exclusive(model_copy):  # another trainer holds the model dir
        started = time.time()
        line = run_module_expecting_error(
            "bert_tf.train",
            *train_args(pretraining_records, vocab_file, model_copy, "--bert_config=tiny"),
        )
    assert "is in use by" in line and str(os.getpid()) in line and time.time() - started < 60
    assert snapshot(model_copy) == before


def test_a_blank_or_repeated_vocab_line_is_refused_everywhere(
    pretraining_records, vocab_file, tmp_path
):
    tokens = open(vocab_file, encoding="utf-8").read().split("\n")
    blank = tmp_path / "blank-vocab.txt"
    blank.write_text("\n".join(tokens[:500] + [""] + tokens[500:]), encoding="utf-8")
    line = run_module_expecting_error(
        "bert_tf.train",
        *train_args(pretraining_records, str(blank), tmp_path / "m", "--bert_config=tiny"),
    )
    assert (
        line
        == f"error: vocab {blank} line 501 is blank (every line is one token; its line number is its id)"
    )
    assert not (tmp_path / "m").exists()
    line = run_module_expecting_error(
        "pipelines.create_pretraining_data",
        f"--input={pretraining_records['pattern']}",
        f"--vocab={blank}",
        f"--output_dir={tmp_path / 'd'}",
    )
    assert "line 501 is blank" in line
    with pytest.raises(VocabError, match="line 3 repeats 'a' of line 1"):
        parse_tokens(b"a\nb\na\n")
    with pytest.raises(VocabError, match="line 2 is not UTF-8"):
        parse_tokens(b"a\n\xff\xfe\n")


def test_converters_refuse_a_model_dir_that_is_not_empty(model_copy, samples):
    before = snapshot(model_copy)
    line = run_module_expecting_error(
        "bert_tf.import_hf_checkpoint",
        f"--hf_dir={samples['minilm']}",
        f"--output_dir={model_copy}",
    )
    assert line.startswith(f"error: {model_copy} is not empty")
    assert snapshot(model_copy) == before


def saved_model_is_whole(directory, vocab_size) -> bool:
    names = set(os.listdir(directory))
    return (
        names == {"saved_model.pb", "fingerprint.pb", "variables", "assets"}
        and {"variables.index", "variables.data-00000-of-00001"}
        <= set(os.listdir(f"{directory}/variables"))
        and len(open(f"{directory}/assets/vocab.txt", encoding="utf-8").read().split("\n")) - 1
        == vocab_size
    )


def test_export_is_swapped_whole_needs_overwrite_and_survives_kills(trained, vocab, tmp_path):
    out = tmp_path / "sm"
    began = time.time()
    run_module("bert_tf.export", f"--checkpoint={trained['dir']}", f"--output={out}", "--top_k=3")
    full = time.time() - began
    before = snapshot(out)
    line = run_module_expecting_error(
        "bert_tf.export", f"--checkpoint={trained['dir']}", f"--output={out}"
    )
    assert "--overwrite" in line and snapshot(out) == before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    line = run_module_expecting_error(
        "bert_tf.export",
        f"--checkpoint={trained['dir']}",
        f"--output={tmp_path / 'mine'}",
        "--overwrite",
    )
    assert "not a SavedModel" in line and os.listdir(tmp_path / "mine") == ["notes.txt"]

    command = [
        sys.executable,
        "-m",
        "bert_tf.export",
        f"--checkpoint={trained['dir']}",
        f"--output={out}",
        "--overwrite",
    ]
    # SIGKILL spread over a whole export: start-up, building, saving, publishing, after
    for kill, moment in enumerate((0.1, 0.3, 0.5, 0.7, 0.85, 1.0, 1.1)):
        process = subprocess.Popen(
            command + [f"--top_k={4 + kill}"],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(max(1.0, moment * full))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert saved_model_is_whole(out, len(vocab))  # the previous export or the new one, whole
    run_module("bert_tf.export", f"--checkpoint={trained['dir']}", f"--output={out}", "--overwrite")
    # killed runs' staging directories cleaned
    assert sorted(os.listdir(tmp_path)) == [
        "mine",
        "sm",
    ]


def test_a_vocab_smaller_than_the_records_ids_is_one_line(
    pretraining_records, vocab_file, tmp_path
):
    small = tmp_path / "small-vocab.txt"
    small.write_text(
        "\n".join(open(vocab_file, encoding="utf-8").read().split("\n")[:1000]), encoding="utf-8"
    )
    line = run_module_expecting_error(
        "bert_tf.train",
        *train_args(pretraining_records, str(small), tmp_path / "m", "--bert_config=tiny"),
    )
    assert (
        line.startswith("error: the records hold token id") and "the vocab has 1000 tokens" in line
    )


def test_errors_are_one_line_and_tracebacks_come_on_request(tmp_path):
    import errno

    from bert_tf.core.cli import one_line

    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))
    assert (
        one_line(full)
        == f"no space left on the device ({tmp_path / 'x'}): free space or choose another path"
    )
    assert one_line(KeyError("k")).endswith("(run again with --debug for the traceback)")
    command = [
        sys.executable,
        "-m",
        "bert_tf.export",
        f"--checkpoint={tmp_path}",
        f"--output={tmp_path / 'o'}",
    ]
    quiet = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert (
        quiet.stderr.strip().splitlines()[-1]
        == f"error: --checkpoint {tmp_path}: no checkpoint found in it"
    )
    loud = subprocess.run(command + ["--debug"], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert loud.returncode != 0 and "Traceback" in loud.stderr
