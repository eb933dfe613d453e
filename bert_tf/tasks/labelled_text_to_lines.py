"""Turn the text of a labelled CSV/TSV into a pre-training corpus (one-sentence-per-line format, one
document per row), leaving out the rows bert_tf.finetune will hold out — for domain-adaptive
pre-training before fine-tuning, without ever pre-training on evaluation text.

    python -m bert_tf.tasks.labelled_text_to_lines --input=reviews.csv.bz2 --text_column=text \\
        --label_column=category --eval_fraction=0.1 --output=reviews-lines.txt

Use the same --text_column/--label_column/--labels/--eval_fraction as the fine-tuning run; rows with
other labels (e.g. unlabelled ones) are kept as text when --labels is not given.
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli
from bert_tf.finetuning.classifier import read_labelled_rows, split_held_out

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "CSV, or TSV when the name says .tsv; .bz2/.gz allowed.")
flags.DEFINE_string("text_column", "text", "Column with the text.")
flags.DEFINE_string(
    "label_column", "label", "Column with the label (only to read rows as finetune does)."
)
flags.DEFINE_list("labels", None, "Keep only rows with these labels (default: all rows).")
flags.DEFINE_float(
    "eval_fraction", 0.1, "Leave out the rows finetune holds out with this fraction."
)
flags.DEFINE_string("output", None, "Text file to write.")


def write_lines(rows, path: str) -> int:
    """One document per row: its text on one line (inner line breaks become spaces), blank line
    after."""
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(" ".join(row.text.split()) + "\n\n")
    return len(rows)


def main(argv):
    del argv
    rows, skipped = read_labelled_rows(
        FLAGS.input,
        FLAGS.text_column,
        FLAGS.label_column,
        labels=tuple(FLAGS.labels) if FLAGS.labels else None,
    )
    train, held_out = split_held_out(rows, FLAGS.eval_fraction)
    print(
        f"wrote {write_lines(train, FLAGS.output)} documents to {FLAGS.output}; left out {len(held_out)} "
        f"held-out rows; skipped {skipped or 'none'}"
    )


command = cli.command(main, required=("input", "output"))  # the installed console command

if __name__ == "__main__":
    command()
