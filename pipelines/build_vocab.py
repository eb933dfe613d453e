"""Learn a WordPiece vocabulary (BERT layout) from the same inputs the pipeline reads.

    python -m pipelines.build_vocab --input='data/*.xml.bz2,books/*.txt' --output=vocab.txt --vocab_size=30522

Documents come from the pipeline's own readers (Wikipedia XML, books, one-sentence-per-line;
.bz2/.gz, local or gs://), so the vocabulary sees exactly the text that will be tokenized; bad input
is skipped and counted as in the pipeline. Learning is tensorflow-text's WordPiece learner on words
split as `bert_vocab_from_dataset` splits them (BERT's basic tokenizer, the same normalisation as our
tokenizer: uncased = lower case + accents stripped), with its binary search over the count threshold
started from a ceiling near the answer (`search_ceiling`): ≈ 4× faster, and the vocabulary the library
learns (identical on the Wikipedia sample and on KJV; in general one the learner accepts: within its 5%
slack under --vocab_size). Layout: [PAD], [unused0..N-1], [UNK], [CLS], [SEP], [MASK],
then the learned pieces (at most --vocab_size lines in all). Prints the [UNK] rate of the new
vocabulary on the input.
"""

from __future__ import annotations

import collections
import logging

from absl import flags

from bert_tf.core import cli, storage
from pipelines.vocab_learning import learn_vocab, unknown_rate

log = logging.getLogger(__name__)

FLAGS = flags.FLAGS
flags.DEFINE_list("input", None, "Comma-separated files or globs (local or gs://).")
flags.DEFINE_enum("input_format", "auto", ["auto", "wiki", "books", "lines"], "As in the pipeline.")
flags.DEFINE_string("output", None, "vocab.txt to write.")
flags.DEFINE_integer(
    "vocab_size", 30522, "Maximum number of lines (special and [unused] tokens included)."
)
flags.DEFINE_integer(
    "num_unused", 100, "[unusedN] slots after [PAD], free for task-specific tokens later."
)
flags.DEFINE_bool("do_lower_case", True, "Uncased vocabulary (lower-case and strip accents).")
flags.DEFINE_integer("max_paragraphs", 2_000_000, "Learn from at most this many paragraphs.")


def read_paragraphs(patterns, input_format: str, limit: int):
    """(paragraphs, skip counts by reason) from every matching file, via the pipeline's readers."""
    from apache_beam.io.filesystems import FileSystems

    from pipelines.sources import RawDocument, read_documents

    paragraphs, skipped = [], collections.Counter()
    for pattern in patterns:
        matches = FileSystems.match([pattern])[0].metadata_list
        if not matches:
            raise FileNotFoundError(f"--input {pattern!r} matches no file")
        for metadata in sorted(matches, key=lambda m: m.path):
            with FileSystems.open(metadata.path) as stream:
                for item in read_documents(metadata.path, stream, input_format):
                    if isinstance(item, RawDocument):
                        paragraphs.extend(item.paragraphs)
                    else:
                        skipped[item.reason] += 1
                    if len(paragraphs) >= limit:
                        return paragraphs[:limit], dict(skipped)
    return paragraphs, dict(skipped)


def main(argv):
    del argv
    paragraphs, skipped = read_paragraphs(FLAGS.input, FLAGS.input_format, FLAGS.max_paragraphs)
    if not paragraphs:
        raise ValueError(f"no text found in --input (skipped: {skipped})")
    log.info("learning from %d paragraphs", len(paragraphs))
    vocab = learn_vocab(paragraphs, FLAGS.vocab_size, FLAGS.num_unused, FLAGS.do_lower_case)
    with storage.written_whole(FLAGS.output) as f:
        f.write("\n".join(vocab) + "\n")
    rate = unknown_rate(vocab, paragraphs, FLAGS.do_lower_case)
    print(
        f"wrote {len(vocab)} tokens to {FLAGS.output} from {len(paragraphs)} paragraphs "
        f"(skipped: {skipped or 'none'}); [UNK] rate on the input: {100 * rate:.3f}%"
    )


command = cli.command(main, required=("input", "output"))  # the installed console command

if __name__ == "__main__":
    command()
