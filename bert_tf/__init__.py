"""bert_tf: BERT pre-training with Keras 3 and keras-hub, from TFRecords to a served model.

Importing the package hides TensorFlow's load-time C++ banners unless verbose output is asked for
(bert_tf/core/quiet.py).
"""

from bert_tf.core import quiet as _quiet

_quiet.filter_tensorflow_banners()
