"""Data: loaders for labelled text (registry by format), deduplication, leak-free stratified splits."""

from .dataset import Dataset, Example
from .loaders import FORMATS, load_dataset
from .split import Splits, split_dataset

__all__ = ["Dataset", "Example", "FORMATS", "load_dataset", "Splits", "split_dataset"]
