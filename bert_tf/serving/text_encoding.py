"""Raw text → BERT inputs inside the TensorFlow graph, so a SavedModel (or tf.data) needs no Python
tokenizer: UTF-8 repair, BasicTokenizer rules + WordPiece (tensorflow-text `BertTokenizer`, which
lower-cases *and* strips accents when uncased), truncation, `[CLS] A [SEP] (B [SEP])` packing,
padding.

Pairs are truncated like the original `truncate_seq_pair` (always trim the longer segment, B on a
tie), from the back so the same text always gives the same ids. A row whose B is the empty string is
packed as a single segment, so one signature serves single texts and pairs.

Example:
    >>> encoder = TextEncoder("vocab.txt", max_seq_length=8)  # doctest: +SKIP
    >>> encoder.encode(tf.constant(["the river bank"]))["input_word_ids"]  # doctest: +SKIP
    <tf.Tensor: shape=(1, 8), dtype=int32, numpy=array([[ 101, 1996, 2314, 2924,  102, 0, 0, 0]], ...)>
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as tf_text

from bert_tf.core.vocab import Vocab

MASK_TOKEN = "[MASK]"

# Spaces and control characters separate words; any other character that is not a letter, digit or
# combining mark is a word of its own (the rule of `tagging_data.word_spans`).
_NOT_WORD = r"[^\p{L}\p{N}\p{M}\p{Z}\p{C}]"
WORD_PATTERN = (r"[\p{Z}\p{C}]+|" + _NOT_WORD, _NOT_WORD)  # (delimiters, delimiters kept)


def words_with_offsets(text):
    """[B] raw strings → (words [B, (W)], starts, ends as UTF-8 byte offsets): the words a served
    tagger or QA model returns; invalid UTF-8 becomes U+FFFD, never an error."""
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
    # RE2 stops at a NUL byte; as a space (one byte too) it separates words and keeps the offsets
    text = tf.strings.regex_replace(text, "\\x00", " ")
    return tf_text.regex_split_with_offsets(text, *WORD_PATTERN)


def kept_pair_lengths(len_a, len_b, budget):
    """Closed form of the original truncate_seq_pair's result: (kept A, kept B) token counts.

    Trimming one token at a time from the longer segment (B on a tie) ends with the shorter segment
    whole when it fits in half the budget, else with A = ceil(budget/2) and B = floor(budget/2)."""
    keep_a = tf.minimum(len_a, tf.maximum(budget - len_b, (budget + 1) // 2))
    return keep_a, tf.minimum(len_b, budget - keep_a)


def _first(pieces: tf.RaggedTensor, counts) -> tf.RaggedTensor:
    """The first counts[i] pieces of every row i."""
    positions = tf.ragged.range(pieces.row_lengths())
    return tf.ragged.boolean_mask(pieces, positions < tf.expand_dims(counts, 1))


def concat_rows(parts: list[tf.RaggedTensor]) -> tf.RaggedTensor:
    """Row i of the result is row i of every part, in order: `tf.concat(parts, axis=1)` for ragged
    [batch, (n)] parts, built from an axis-0 concat and a gather of rows. TensorFlow's own ragged
    concat along axis 1 transposes int64 indices, and that one op makes oneDNN log an `E0000 ...
    util.cc:131] oneDNN supports DT_INT64 only on platforms with AVX-512` line in every process.

    >>> a = tf.ragged.constant([[1, 2], [3]])
    >>> concat_rows([a, tf.ragged.constant([[7], [8, 9]])]).to_list()
    [[1, 2, 7], [3, 8, 9]]
    """
    rows = parts[0].nrows(out_type=tf.int32)
    order = tf.range(rows)[:, None] + rows * tf.range(len(parts))[None, :]  # [row, part]
    gathered = tf.gather(tf.concat(parts, axis=0), tf.reshape(order, [-1]))
    return tf.RaggedTensor.from_uniform_row_length(gathered, len(parts)).merge_dims(1, 2)


def _tokens_per_row(token_id, keep) -> tf.RaggedTensor:
    """Rows holding `token_id` once where `keep` is True, else nothing."""
    lengths = tf.cast(keep, tf.int64)
    return tf.RaggedTensor.from_row_lengths(tf.fill([tf.reduce_sum(lengths)], token_id), lengths)


def second_texts_or_empty(text, text_b):
    """`text_b` if it has one entry per text; an empty `text_b` batch means "no pairs": all ""."""
    text_b = tf.cond(tf.size(text_b) == 0, lambda: tf.fill(tf.shape(text), ""), lambda: text_b)
    tf.debugging.assert_equal(
        tf.size(text_b), tf.size(text), message="text_b must be empty or have one entry per text"
    )
    return text_b


class TextEncoder(tf.Module):
    """A tracked tensorflow-text tokenizer plus the packing rules; save it inside any tf.Module."""

    def __init__(self, vocab_file: str, max_seq_length: int, lower_case: bool = True):
        super().__init__()
        vocab = Vocab.from_file(vocab_file)  # validated: special tokens, blank or repeated lines
        if max_seq_length < 3:
            raise ValueError(f"max_seq_length must be at least 3, got {max_seq_length}")
        self.tokenizer = tf_text.BertTokenizer(
            vocab_file, token_out_type=tf.int64, lower_case=lower_case
        )
        self.cls_id, self.sep_id, self.mask_id = vocab.cls_id, vocab.sep_id, vocab.mask_id
        self.max_seq_length = max_seq_length

    def wordpieces(self, text) -> tf.RaggedTensor:
        """[batch] strings → [batch, (pieces)] int64 ids, or a ragged [batch, (words)] of words →
        [batch, (words), (pieces)]; invalid UTF-8 becomes U+FFFD, never an error."""
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        return self.tokenizer.tokenize(text).merge_dims(-2, -1)

    def wordpieces_with_masks(self, text) -> tf.RaggedTensor:
        """Like `wordpieces`, but every literal "[MASK]" in the text becomes the [MASK] id."""
        parts = tf.strings.split(text, sep=MASK_TOKEN)  # [batch, (parts)]
        pieces = self.wordpieces(parts.flat_values)  # [all parts, (pieces)]
        index_in_row = tf.ragged.range(parts.row_lengths()).flat_values
        is_last = tf.equal(index_in_row, tf.repeat(parts.row_lengths() - 1, parts.row_lengths()))
        pieces = concat_rows(
            [pieces, _tokens_per_row(tf.constant(self.mask_id, tf.int64), ~is_last)]
        )
        return tf.RaggedTensor.from_row_splits(pieces, parts.row_splits).merge_dims(1, 2)

    def pack(self, pieces_a: tf.RaggedTensor, pieces_b: tf.RaggedTensor | None = None) -> dict:
        """`[CLS] A [SEP] (B [SEP])`, truncated to max_seq_length and zero-padded (int32
        outputs)."""
        if pieces_b is None:
            pieces_b = tf.RaggedTensor.from_row_lengths(
                tf.zeros([0], tf.int64), tf.zeros([pieces_a.nrows()], tf.int64)
            )
        len_a, len_b = pieces_a.row_lengths(), pieces_b.row_lengths()
        has_b = len_b > 0
        budget = self.max_seq_length - 2 - tf.cast(has_b, tf.int64)
        keep_a, keep_b = kept_pair_lengths(len_a, len_b, budget)
        cls = _tokens_per_row(tf.constant(self.cls_id, tf.int64), tf.ones_like(has_b))
        sep_a = _tokens_per_row(tf.constant(self.sep_id, tf.int64), tf.ones_like(has_b))
        sep_b = _tokens_per_row(tf.constant(self.sep_id, tf.int64), has_b)
        first = concat_rows([cls, _first(pieces_a, keep_a), sep_a])
        second = concat_rows([_first(pieces_b, keep_b), sep_b])
        ids = concat_rows([first, second])
        segments = concat_rows([tf.zeros_like(first), tf.ones_like(second)])
        ids, mask = tf_text.pad_model_inputs(ids, self.max_seq_length)
        segments, _ = tf_text.pad_model_inputs(segments, self.max_seq_length)
        return {
            "input_word_ids": tf.cast(ids, tf.int32),
            "input_mask": tf.cast(mask, tf.int32),
            "input_type_ids": tf.cast(segments, tf.int32),
        }

    def encode(self, text, text_b=None) -> dict:
        """Raw strings (and optional second strings; "" = none for that row) → padded model
        inputs."""
        return self.pack(self.wordpieces(text), None if text_b is None else self.wordpieces(text_b))
