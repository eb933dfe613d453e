"""tools/conformance.py: the Model Garden's BertPretrainDataLoader (in its own venv) reads our records;
prints the batch's feature shapes.

    python model_garden_loader_check.py 'OUT/train-*'
"""

import sys

from official.nlp.data import pretrain_dataloader

config = pretrain_dataloader.BertPretrainDataConfig(
    input_path=sys.argv[1],
    seq_length=128,
    max_predictions_per_seq=20,
    global_batch_size=8,
    is_training=False,
    use_next_sentence_label=True,
)
batch = next(iter(pretrain_dataloader.BertPretrainDataLoader(config).load()))
print({k: tuple(v.shape) for k, v in sorted(batch.items())})
