"""edgekit's work on a Ray cluster: ``--executor ray[:ADDRESS]`` (docs/ray.md).

- :mod:`.session` — the connection (or a local Ray instance) and what the cluster's nodes offer;
- :mod:`.shipping` — files through Ray's object store onto a node, and node paths mapped back;
- :mod:`.distill` — distillation points (sweeps, ``distill-benchmark``) as Ray tasks;
- :mod:`.bench` — benchmark measurements on the node that owns each target.

Nothing here imports ``ray`` at module level: ``import edgekit.cluster...`` costs nothing, and only a
command run with ``--executor ray`` loads it (``pip install 'edgekit[ray]'``).
"""
