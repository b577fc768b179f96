"""Small images inlined in HTML: how the classify views show what the model saw and what it holds.

Inline, because Gradio writes an image output to a file named after its content and rewrites it
on every request: identical answers under load raced (truncated downloads, measured), and every
answer cost API clients a second download.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def img_tag(image: np.ndarray, width: int, alt: str, title: str = "") -> str:
    """A small uint8 image (gray HxW or RGB HxWx3) as an inline PNG <img>, drawn `width` px wide with
    square pixels (no smoothing)."""
    pixels = np.asarray(image, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    png = base64.b64encode(buf.getvalue()).decode()
    height = round(width * pixels.shape[0] / pixels.shape[1])
    extra = f' title="{title}"' if title else ""
    return (f'<img alt="{alt}"{extra} width="{width}" height="{height}" style="image-rendering: pixelated" '
            f'src="data:image/png;base64,{png}">')
