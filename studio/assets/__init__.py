"""The page's own JavaScript and CSS, kept as files beside this module so that editors, linters and
readers see them as what they are; the app reads each once."""

from __future__ import annotations

import functools
from pathlib import Path

HERE = Path(__file__).resolve().parent


@functools.cache
def read(name: str) -> str:
    """The text of the asset file `name` (e.g. "click_box.js")."""
    return (HERE / name).read_text(encoding="utf-8")


def download_js(elem_id: str) -> str:
    """An event's js that starts the browser's download of the hidden DownloadButton `elem_id`'s new file."""
    return read("download.js").replace("ELEM_ID", elem_id)
