"""The data sets: one spec each (`datasets`), where their rows come from (`sources`, `handgen`) and
how training augments them (`augment`). What callers use is here."""

from __future__ import annotations

from ..paths import DATA_DIR_ENV, DEFAULT_DATA_DIR, data_dir
from .datasets import (
    DATASETS,
    SIGN_LETTERS,
    DatasetSpec,
    Splits,
    get_spec,
    is_available,
    load,
    load_splits,
    spec_of,
    where_to_put,
)
from .sources import SPLITS, CsvSource, DataError, GeneratedHands, IdxSource, read_idx, read_label_csv

__all__ = ["DATASETS", "DATA_DIR_ENV", "DEFAULT_DATA_DIR", "SIGN_LETTERS", "SPLITS", "CsvSource", "DataError",
           "DatasetSpec", "GeneratedHands", "IdxSource", "Splits", "data_dir", "get_spec", "is_available", "load",
           "load_splits", "read_idx", "spec_of", "read_label_csv", "where_to_put"]
