"""edgekit: BERT text classifiers and their distilled students, from training to TFLite on devices.

Importing :mod:`edgekit` is cheap and TensorFlow-free: the on-device pieces (tokenizer, metrics,
benchmarks runner) must import on a phone-class board that has only numpy and LiteRT.
"""

__version__ = "0.1.0"
