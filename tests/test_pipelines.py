"""classifier.pipelines: the real inputs a pipeline's "not sure" is calibrated on, as the app reads them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier import imageprep, pipelines


def _digits(n: int) -> np.ndarray:
    """n small MNIST-style digits (light on black): a bar at a different slant each."""
    out = []
    for k in range(n):
        img = Image.new("L", (28, 28), 0)
        ImageDraw.Draw(img).line([(10 + k % 8, 5), (18 - k % 8, 23)], fill=255, width=3)
        out.append(np.asarray(img))
    return np.stack(out)


def test_drawn_rows_are_what_the_draw_pipeline_reads_of_them_drawn_big() -> None:
    rows = _digits(3)
    drawn = pipelines.drawn_calibration(rows)
    for row, read in zip(rows, drawn, strict=True):
        big = np.asarray(Image.fromarray(row).resize((280, 280), Image.Resampling.BICUBIC))
        assert np.array_equal(read, pipelines.drawing(Image.fromarray(255 - big)).image)


def test_drawn_rows_are_one_28x28_a_row() -> None:
    assert pipelines.drawn_calibration(_digits(5)).shape == (5, imageprep.SIZE, imageprep.SIZE)


def test_a_blank_row_is_read_as_a_blank_28x28() -> None:
    # Nothing drawn: the pipeline answers None, and the calibration keeps the row's place.
    assert not pipelines.drawn_calibration(np.zeros((1, 28, 28), np.uint8)).any()


def test_drawings_are_calibrated_as_given_and_photos_as_pictures() -> None:
    rows = _digits(2)
    assert (pipelines.as_given("hand_photo", rows), pipelines.picture_squares("drawing", rows)) == (None, None)


def test_drawn_rows_are_made_once_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(pipelines, "_CALIBRATION", {})
    monkeypatch.setitem(pipelines.CALIBRATION["as_given"], "drawing", lambda rows: calls.append(1) or rows)
    rows = _digits(4)
    first = pipelines.as_given("drawing", rows)
    assert pipelines.as_given("drawing", rows) is first
    assert calls == [1]


def test_drawings_are_ready_once_their_rows_are_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipelines, "_CALIBRATION", {})
    rows = _digits(4)
    before = pipelines.calibration_ready("drawing", rows)
    pipelines.as_given("drawing", rows)
    assert (before, pipelines.calibration_ready("drawing", rows)) == (False, True)
