"""The model: `config` (BertConfig and the named sizes), `model` (keras-hub BertBackbone + masked-LM and
next-sentence heads), `pre_layer_norm` (the pre-LN backbone), `model_dir` (the model directory: its
file names, reading, checking and writing) and `checkpoints` (models rebuilt from checkpoints,
weights copied between models).
"""
