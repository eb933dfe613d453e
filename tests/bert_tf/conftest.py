"""A real global batch (from the pipeline's records) shared by the strategy-equivalence tests."""

import pytest

from bert_tf.data import make_dataset

GLOBAL_BATCH = 8


@pytest.fixture(scope="session")
def global_batch(pretraining_records):
    dataset = make_dataset([pretraining_records["pattern"]], GLOBAL_BATCH, 64, 10, is_training=False)
    return next(iter(dataset))
