"""pipelines: the Apache Beam job that turns raw text into BERT pre-training TFRecords, and its
tools.

Importing the package hides TensorFlow's load-time C++ banners unless verbose output is asked for
(bert_tf/core/quiet.py), in the launcher and in every Beam worker process.
"""

from bert_tf.core import quiet as _quiet

_quiet.filter_tensorflow_banners()
