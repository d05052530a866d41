"""edgekit.converters: Keras models → TFLite files (fixed signatures, length buckets, parity gates, bundles)."""
