"""Fine-tune a pre-trained checkpoint for a task, report held-out scores and export a SavedModel that
answers from raw text:

- `--task=classification` (default): a class per text or text pair
  (bert_tf/finetuning/finetune_classification.py), held-out accuracy;
  `serving_default(text, text_b)` → `probabilities`, `label` (text_b may be empty).
- `--task=tagging`: a tag per word (bert_tf/finetuning/finetune_tagging.py), entity F1 and token accuracy.
- `--task=span_qa`: SQuAD-style answers (bert_tf/finetuning/finetune_span_qa.py), exact match and F1.

    python -m bert_tf.finetune --init_checkpoint=runs/demo/model --train_file=reviews.csv.bz2 \\
        --text_column=text --label_column=category --labels=fresh,rotten --output_dir=runs/sentiment

Without --init_checkpoint the same encoder starts from random weights (--bert_config, --vocab),
which shows what pre-training is worth. Held-out data: --eval_file, else a stable-hash
--eval_fraction split.
"""

from __future__ import annotations

import keras
from absl import flags

from bert_tf.core import cli
from bert_tf.finetuning.finetune_classification import finetune_classification
from bert_tf.finetuning.finetune_common import FineTuneConfig
from bert_tf.finetuning.finetune_span_qa import finetune_span_qa
from bert_tf.finetuning.finetune_tagging import finetune_tagging
from bert_tf.modeling.config import NAMED_SIZES

FLAGS = flags.FLAGS
flags.DEFINE_enum(
    "task",
    "classification",
    ["classification", "tagging", "span_qa"],
    "classification: a label per text (or text pair); tagging: a tag per word; span_qa: the answer "
    "to a question as a span of its context (SQuAD JSON).",
)
flags.DEFINE_string(
    "train_file",
    None,
    "classification: CSV or TSV (.tsv in the name) with a header. tagging: CoNLL (a word and its "
    "tag per line, a blank line between sentences), or CSV/TSV/JSONL with a words and a tags column. "
    "span_qa: SQuAD v1.1/v2.0 JSON. .bz2/.gz allowed.",
)
flags.DEFINE_string(
    "eval_file", None, "Held-out file in the same format (default: split off --train_file)."
)
flags.DEFINE_float(
    "eval_fraction", 0.1, "Held-out share of --train_file when there is no --eval_file."
)
flags.DEFINE_string(
    "text_column", None, "Column with the (first) text; tagging: the words (default: text, words)."
)
flags.DEFINE_string(
    "text_b_column", None, "Column with the second text of a pair (sentence-pair tasks)."
)
flags.DEFINE_string(
    "label_column", None, "Column with the class label; tagging: the tags (default: label, tags)."
)
flags.DEFINE_list(
    "labels", None, "Classes (tagging: tags) in output order (default: all seen, sorted)."
)
flags.DEFINE_integer(
    "max_train_examples", None, "Train on only the first N training rows (low-data studies)."
)
flags.DEFINE_string("init_checkpoint", None, "Pre-trained model dir or prefix (else random init).")
flags.DEFINE_string(
    "bert_config", "tiny", f"Without --init_checkpoint: {sorted(NAMED_SIZES)} or a json."
)
flags.DEFINE_string("vocab", None, "Without --init_checkpoint: the vocab.txt.")
flags.DEFINE_bool("do_lower_case", True, "Uncased vocabulary: lower-case and strip accents.")
flags.DEFINE_integer("max_seq_length", 128, "Tokens per example after packing.")
flags.DEFINE_integer(
    "doc_stride",
    128,
    "tagging, span_qa: a sentence (context) longer than the sequence is cut into windows starting "
    "every doc_stride wordpieces (at most the window); each piece is read where it has most context.",
)
flags.DEFINE_integer("max_query_length", 64, "span_qa: questions are cut to this many wordpieces.")
flags.DEFINE_integer("max_answer_length", 30, "span_qa: the longest answer, in wordpieces.")
flags.DEFINE_float(
    "null_score_diff_threshold",
    0.0,
    'span_qa with unanswerable questions (SQuAD 2.0): answer "" when the [CLS] score beats the best '
    "span's by more than this.",
)
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_integer("epochs", 3, "Passes over the training rows.")
flags.DEFINE_float(
    "learning_rate", 5e-5, "Peak learning rate (linear warmup over 10%, then linear decay)."
)
flags.DEFINE_float(
    "layer_lr_decay",
    1.0,
    "Layer-wise learning-rate decay: layer k of L steps at lr · decay^(L + 1 − k), the embeddings "
    "least (1.0: one rate everywhere, as BERT; ELECTRA fine-tunes with 0.8).",
)
flags.DEFINE_float(
    "ema_momentum",
    0.0,
    "Keep an exponential moving average of the weights with this momentum, evaluate and export it "
    "(0: off, the last step's weights, as BERT; ≈ 0.995 averages the last ≈ 200 steps).",
)
flags.DEFINE_float("dropout", 0.1, "Dropout on the pooled vector (tagging: on each token vector).")
flags.DEFINE_bool(
    "freeze_encoder", False, "Train only the classifier layer (a linear probe of the features)."
)
flags.DEFINE_integer(
    "probe_epochs",
    0,
    "First train only the classifier layer for this many epochs on the frozen encoder, then fine-tune "
    "everything for --epochs (LP-FT: the encoder never sees a random head's gradient; 0: off, as BERT).",
)
flags.DEFINE_float(
    "probe_learning_rate", 1e-3, "Peak learning rate of the --probe_epochs (the classifier alone)."
)
flags.DEFINE_enum(
    "pooling", "cls", ["cls", "mean"], "Sentence vector: the [CLS] pooler (BERT) or the token mean."
)
flags.DEFINE_string("output_dir", None, "Writes saved_model/ and results.json here.")
flags.DEFINE_integer("seed", 1, "Seed for initialisation and shuffling.")


def config_from_flags() -> FineTuneConfig:
    return FineTuneConfig(
        train_file=FLAGS.train_file,
        output_dir=FLAGS.output_dir,
        eval_file=FLAGS.eval_file,
        eval_fraction=FLAGS.eval_fraction,
        text_column=FLAGS.text_column or ("words" if FLAGS.task == "tagging" else "text"),
        text_b_column=FLAGS.text_b_column,
        label_column=FLAGS.label_column or ("tags" if FLAGS.task == "tagging" else "label"),
        labels=tuple(FLAGS.labels) if FLAGS.labels else None,
        max_train_examples=FLAGS.max_train_examples,
        init_checkpoint=FLAGS.init_checkpoint,
        bert_config=FLAGS.bert_config,
        vocab=FLAGS.vocab,
        do_lower_case=FLAGS.do_lower_case,
        max_seq_length=FLAGS.max_seq_length,
        batch_size=FLAGS.batch_size,
        epochs=FLAGS.epochs,
        learning_rate=FLAGS.learning_rate,
        layer_lr_decay=FLAGS.layer_lr_decay,
        ema_momentum=FLAGS.ema_momentum,
        dropout=FLAGS.dropout,
        freeze_encoder=FLAGS.freeze_encoder,
        probe_epochs=FLAGS.probe_epochs,
        probe_learning_rate=FLAGS.probe_learning_rate,
        pooling=FLAGS.pooling,
        seed=FLAGS.seed,
        task=FLAGS.task,
        doc_stride=FLAGS.doc_stride,
        max_query_length=FLAGS.max_query_length,
        max_answer_length=FLAGS.max_answer_length,
        null_score_diff_threshold=FLAGS.null_score_diff_threshold,
    )


def main(argv):
    del argv
    cfg = config_from_flags()
    keras.utils.set_random_seed(cfg.seed)
    if cfg.task == "tagging":
        results = finetune_tagging(cfg)
        print(
            f"held-out entity F1 {results['eval_entity_f1']:.4f}, token accuracy "
            f"{results['eval_token_accuracy']:.4f} on {results['eval_sentences']} sentences "
            f"(every word tagged {results['default_tag']}: {results['default_tag_accuracy']:.4f}; "
            f"init: {results['init']}); SavedModel, results.json and curves.png in {cfg.output_dir}"
        )
        return
    if cfg.task == "span_qa":
        results = finetune_span_qa(cfg)
        print(
            f"held-out exact match {results['eval_exact_match']:.2f}, F1 {results['eval_f1']:.2f} "
            f"on {results['eval_questions']} questions (SQuAD {results['squad_version']}; init: "
            f"{results['init']}); SavedModel, results.json and curves.png in {cfg.output_dir}"
        )
        return
    results = finetune_classification(cfg)
    print(
        f"held-out accuracy {results['eval_accuracy']:.4f} on {results['eval_examples']} examples "
        f"(majority class {results['majority_class_accuracy']:.4f}; init: {results['init']}); "
        f"SavedModel, results.json and curves.png in {cfg.output_dir}"
    )


command = cli.command(main, required=("train_file", "output_dir"))  # the installed console command

if __name__ == "__main__":
    command()
