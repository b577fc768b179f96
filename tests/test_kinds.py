"""classifier.inputs: the kinds of input, and the real inputs each kind's "not sure" is calibrated on,
as the app reads them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifier import inputs
from classifier.inputs import DRAWING, HAND_PHOTO, imageprep, kind


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
    drawn = DRAWING.drawn(rows)
    for row, read in zip(rows, drawn, strict=True):
        big = np.asarray(Image.fromarray(row).resize((280, 280), Image.Resampling.BICUBIC))
        assert np.array_equal(read, DRAWING.prepare(Image.fromarray(255 - big)).row)


def test_drawn_rows_are_one_28x28_a_row() -> None:
    assert DRAWING.drawn(_digits(5)).shape == (5, imageprep.SIZE, imageprep.SIZE)


def test_a_blank_row_is_read_as_a_blank_28x28() -> None:
    # Nothing drawn: the pipeline answers None, and the calibration keeps the row's place.
    assert not DRAWING.drawn(np.zeros((1, 28, 28), np.uint8)).any()


def test_drawings_are_calibrated_as_given_and_photos_as_pictures() -> None:
    rows = _digits(2)
    assert (HAND_PHOTO.as_given(rows), DRAWING.picture_squares(rows)) == (None, None)


def test_drawn_rows_are_made_once_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(kind, "_made", {})
    monkeypatch.setattr(DRAWING, "calibration_makers", lambda: {"as_given": lambda rows: calls.append(1) or rows})
    rows = _digits(4)
    first = DRAWING.as_given(rows)
    assert DRAWING.as_given(rows) is first
    assert calls == [1]


def test_drawings_are_ready_once_their_rows_are_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind, "_made", {})
    rows = _digits(4)
    before = DRAWING.calibration_ready(rows)
    DRAWING.as_given(rows)
    assert (before, DRAWING.calibration_ready(rows)) == (False, True)


def test_every_kind_is_registered_by_its_own_name() -> None:
    assert all(inputs.get(name).name == name for name in inputs.KINDS)


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown kind of input 'smell'"):
        inputs.get("smell")


def test_strokes_are_read_as_the_drawing_they_draw() -> None:
    payload = {"strokes": [[[80, 320, 180], [60, 60, 360]]], "width": 400, "height": 400, "brush": 14}
    from classifier.inputs import strokes

    drawn = DRAWING.prepare(strokes.rasterize(strokes.parse(payload)))
    assert np.array_equal(inputs.STROKES.prepare(payload).row, drawn.row)


def test_a_hand_is_read_as_its_row_of_63_numbers() -> None:
    from classifier.inputs.landmarks import Hand

    points = np.random.default_rng(0).normal(size=(21, 3)).astype(np.float32)
    hand = Hand(points, "Left", 0.9)
    assert np.array_equal(inputs.HAND_LANDMARKS.prepare(hand).row, hand.row)


def test_a_hand_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(imageprep.ImageInputError, match="21 landmarks"):
        inputs.HAND_LANDMARKS.prepare(np.zeros(10))
