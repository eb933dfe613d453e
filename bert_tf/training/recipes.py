"""Pre-training recipes: named sets of `bert_tf.train` flag values.

`bert` is the BERT paper's recipe (post-LN blocks, dropout 0.1, 15% masks as the records hold them,
MLM + NSP, lr 1e-4 with warmup and linear decay): the flags' own defaults. `budget` is the recipe
for pre-training a small model from scratch in minutes on one machine, each value chosen by
measurement (WORKSPACE_NOTES.md, "Pre-training from scratch on a budget"), after Cramming (Geiping &
Goldstein 2022): pre-LayerNorm blocks that take a high peak rate, no dropout, no NSP, XLA, a schedule
laid over the `--train_minutes` budget; more masked tokens per sequence (Wettig et al. 2022), small
batches (more updates in the same minutes). And three starts that let a small model leave the
frequent-token plateau in a fraction of the steps: weights drawn wider than BERT's 0.02
(`initializer_range`), sinusoids as the start of the position embeddings, and token embeddings
from the words' co-occurrence in the training records (bert_tf/modeling/cooccurrence.py).

A flag given on the command line always wins over the recipe. The recipe's architecture and starts
(`ARCHITECTURE`) apply to a model built fresh from a size name (`--bert_config=tiny`), not to a
bert_config.json file or a checkpoint's own configuration.

Example:
    >>> sorted(recipe_values("budget", fresh_model=False))[:3]
    ['jit_compile', 'learning_rate', 'masked_lm_prob']
"""

from __future__ import annotations

RECIPES = {
    "bert": {},
    "budget": {
        "learning_rate": 2e-3,
        "warmup_proportion": 0.1,
        "train_batch_size": 16,
        "masked_lm_prob": 0.25,
        "no_nsp": True,
        "jit_compile": True,
        "sinusoidal_positions": True,
        "cooccurrence_embeddings": True,
        "pre_layer_norm": True,
        "dropout": 0.0,
        "initializer_range": 0.05,
    },
}
ARCHITECTURE = (
    "pre_layer_norm",
    "dropout",
    "sinusoidal_positions",
    "cooccurrence_embeddings",
    "initializer_range",
)

# WordPiece vocabulary sizes the budget recipe recommends by model size: a small model's softmax
# over 30,522 pieces costs more than its encoder and learns slowly (WORKSPACE_NOTES.md).
RECOMMENDED_VOCAB_SIZE = {
    "tiny": 8192,
    "mini": 16384,
    "small": 16384,
    "medium": 30522,
    "base": 30522,
    "large": 30522,
}


def recipe_values(name: str, fresh_model: bool) -> dict:
    """The recipe's flag values; without `fresh_model`, its architecture is left out."""
    if name not in RECIPES:
        raise ValueError(f"unknown --recipe={name}; expected one of {sorted(RECIPES)}")
    values = dict(RECIPES[name])
    if not fresh_model:
        for key in ARCHITECTURE:
            values.pop(key, None)
    return values


def apply_recipe(flag_values, name: str, fresh_model: bool) -> dict:
    """Sets every recipe value whose flag was not given on the command line; returns those set.

    `flag_values` is absl's FLAGS (or anything with `[name].present` and attribute assignment)."""
    applied = {}
    for key, value in recipe_values(name, fresh_model).items():
        if not flag_values[key].present:
            setattr(flag_values, key, value)
            applied[key] = value
    return applied
