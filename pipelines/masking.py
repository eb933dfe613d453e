"""Masked-LM predictions for one packed sequence (SPEC §3), as in the original recipe.

`num_to_predict = min(max_predictions_per_seq, max(1, round(len(tokens) * masked_lm_prob)))`;
[CLS]/[SEP] are never chosen. Each chosen position: 80% [MASK], 10% unchanged, 10% a random *real*
wordpiece (the original draws from the whole vocab, [PAD] and [unusedN] included). With whole-word
masking, all pieces of a word are chosen together under one 80/10/10 decision (the original decides
per piece).

Example:
    >>> from bert_tf.vocab import Vocab
    >>> vocab = Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##c"])
    >>> masked = mask_sequence([2, 5, 6, 7, 3], vocab, MaskingConfig(), random.Random(1))
    >>> len(masked.positions), masked.positions[0] not in (0, 4)
    (1, True)
"""

from __future__ import annotations

import dataclasses
import random
from typing import Sequence

from bert_tf.vocab import Vocab


@dataclasses.dataclass(frozen=True)
class MaskingConfig:
    masked_lm_prob: float = 0.15
    max_predictions_per_seq: int = 20
    whole_word_mask: bool = False


@dataclasses.dataclass
class MaskedSequence:
    input_ids: list[int]  # tokens after masking
    positions: list[int]  # ascending positions of the predictions
    label_ids: list[int]  # original token at each position


def num_to_predict(sequence_length: int, config: MaskingConfig) -> int:
    return min(config.max_predictions_per_seq,
               max(1, int(round(sequence_length * config.masked_lm_prob))))


def candidate_groups(tokens: Sequence[int], vocab: Vocab, whole_word: bool) -> list[list[int]]:
    """Positions that may be masked, grouped per word when `whole_word` (pieces '##x' join the word)."""
    special = vocab.never_masked_ids
    if not whole_word:
        return [[position] for position, token in enumerate(tokens) if token not in special]
    groups: list[list[int]] = []
    for position, token in enumerate(tokens):
        if token in special:
            continue
        if groups and vocab.is_continuation[token] and groups[-1][-1] == position - 1:
            groups[-1].append(position)
        else:
            groups.append([position])
    return groups


def mask_sequence(tokens: Sequence[int], vocab: Vocab, config: MaskingConfig,
                  rng: random.Random) -> MaskedSequence:
    """Chooses and replaces the positions to predict; `tokens` is left untouched."""
    budget = num_to_predict(len(tokens), config)
    if config.whole_word_mask:
        groups = candidate_groups(tokens, vocab, whole_word=True)
        rng.shuffle(groups)  # groups of different sizes: visit all in random order, skip what overflows
    else:  # single positions: a uniform random `budget`-subset, as the shuffle's first `budget` (but O(k))
        special = vocab.never_masked_ids
        positions = [position for position, token in enumerate(tokens) if token not in special]
        groups = [[position] for position in rng.sample(positions, min(budget, len(positions)))]
    output = list(tokens)
    chosen: list[int] = []
    random_ids = vocab.random_token_ids
    for group in groups:
        if len(chosen) >= budget:
            break
        if len(chosen) + len(group) > budget:
            continue
        draw = rng.random()
        for position in group:
            if draw < 0.8:
                output[position] = vocab.mask_id
            elif draw >= 0.9:
                output[position] = int(random_ids[rng.randrange(len(random_ids))])
            chosen.append(position)
    chosen.sort()
    return MaskedSequence(output, chosen, [int(tokens[p]) for p in chosen])
