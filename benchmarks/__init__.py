"""edgekit.benchmarks: the on-device runner (numpy + LiteRT only) and its targets."""
