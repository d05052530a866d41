"""Quantization-aware fine-tuning (``edgekit qat``): train the weights through the int8 file's rounding."""
