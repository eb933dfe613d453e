"""The model: `config` (BertConfig and the named sizes), `model` (keras-hub BertBackbone + masked-LM and
next-sentence heads), `pre_layer_norm` (the pre-LN backbone), and the model directory:
`checkpoints` (load, copy and publish checkpoints) and `model_files` (bert_config.json and vocab.txt
beside them).
"""
