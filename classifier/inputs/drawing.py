"""A drawing, given as a picture: a sketch of any size, colours, polarity or transparency (a
Sketchpad value, an image file, an array) becomes an MNIST-style digit (`imageprep.sketch_to_digit`).

Its "not sure" detector is calibrated on the calibration half of the test digits drawn on a
canvas and read back by this pipeline, as users give them; its outliers for outlier exposure are
made-up glyphs, doodles, silhouettes and textures (`outliers`), read by this same pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from . import imageprep, outliers
from .kind import InputKind, Page, Prepared, Wording


class Drawing(InputKind):
    name = "drawing"
    limits = imageprep.PictureLimits("drawing", max_aspect=20.0)
    wording = Wording(
        tab="Draw",
        how="Draw a {noun} ({span}) with the mouse, a pen or a finger; it is classified after every stroke.",
        empty="draw a {noun}",
        api="Classify a drawn {noun} sent as a picture (any contrast: dark on light or light on dark).",
        api_value='a Sketchpad value, {{"background": None, "layers": [], "composite": handle_file(\'seven.png\')}}',
    )
    # The page draws on a stroke pad and sends strokes (a kind that reads them through this one).
    page = Page(widget="sketchpad", example="seven.png", decoded_by_gradio=True, pad="strokes")
    outlier_sources = (outliers.glyphs, outliers.doodles, outliers.silhouettes, outliers.textures)

    def prepare(self, value: Any, box: Any = None, confidence: Callable[[np.ndarray], np.ndarray] | None = None,
                live: bool = False) -> Prepared | None:
        """A drawing (a Sketchpad value or any image) -> an MNIST-style digit, or None if nothing is
        drawn. (A drawing is always taken whole: `box`, `confidence` and `live` are for photos.)"""
        image = imageprep.sketch_layers_to_image(value)
        if image is None:
            return None
        digit = imageprep.sketch_to_digit(image, limits=self.limits)
        return None if digit is None else Prepared(digit)

    def calibration_makers(self) -> dict[str, Callable[[np.ndarray], Any]]:
        return {"as_given": self.drawn}

    def drawn(self, rows: np.ndarray) -> np.ndarray:
        """`rows` (uint8 (N, 28, 28) digits, light on black) as this pipeline reads them drawn on the
        pad: each enlarged 10x (about the size a digit is drawn on the 400x400 canvas), dark on light,
        and read back; a row it finds nothing in stays blank. (N, 28, 28) uint8."""
        side = imageprep.SIZE * 10
        out = []
        for row in rows:
            big = np.asarray(Image.fromarray(row).resize((side, side), Image.Resampling.BICUBIC))
            prepared = self.prepare(255 - big)
            out.append(np.zeros_like(row) if prepared is None else prepared.row)
        return np.stack(out) if out else np.zeros((0, imageprep.SIZE, imageprep.SIZE), np.uint8)

    def is_outlier(self, row: np.ndarray) -> bool:
        # A stroke much longer than it is wide is a 1, whatever drew it.
        return outliers.elongation(row) <= outliers.MAX_ELONGATION


DRAWING = Drawing()
