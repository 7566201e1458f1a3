"""The embedded, cited reference dataset and loaders for user data."""

from rareflow.data.load import Dataset, load_dataset

__all__ = ["Dataset", "load_dataset"]
