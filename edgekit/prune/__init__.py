"""Structured pruning (``edgekit prune``): whole attention heads, FFN neurons and layers, so the matrices shrink.

:mod:`.targets` (``--heads``/``--ffn``/``--layers``/``--params`` → a uniform shape), :mod:`.plan` (which
structures stay; the family's :class:`.plan.Pruner`), :mod:`.job` (one run), :mod:`.recover` (distillation
from the unpruned model). The family-specific parts (importance forward, weight slicing) live with the family:
:mod:`edgekit.models.bert.prune`. docs/pruning.md describes the method and its choices.
"""
