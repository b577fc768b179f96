"""Where the project's files live: the weights that ship with it, and the data directory.

The one module every layer may read for a path, so that no layer imports another only to find a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = ROOT / "weights"
DEFAULT_DATA_DIR = "data"
DATA_DIR_ENV = "CLASSIFIER_DATA_DIR"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: an explicit value, else $CLASSIFIER_DATA_DIR, else `data/`."""
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def weights_path(name: str) -> Path:
    """`weights/<name>.safetensors`: a shipped model is named after its data set."""
    return WEIGHTS_DIR / f"{name}.safetensors"
