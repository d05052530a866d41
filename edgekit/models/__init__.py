"""Model families (teacher BERT, students) behind one registry; see :mod:`edgekit.models.registry`."""
