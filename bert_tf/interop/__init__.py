"""Checkpoints in and out: `google_checkpoint` (google-research/bert TF1 checkpoints), `hf_checkpoint`
(Hugging Face safetensors in), `hf_export` (Hugging Face BertForPreTraining out), `keras_hub_preset`
(keras-hub presets out). The commands are `bert_tf.convert_google_checkpoint`,
`bert_tf.import_hf_checkpoint`, `bert_tf.export_hf_checkpoint`, `bert_tf.export_keras_hub_preset`.
"""
