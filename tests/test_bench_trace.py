"""bench.trace: a digit traced as the stroke pad would send it keeps its loops, fills its fat ink,
and is a payload the strokes API takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import trace
from classifier.inputs import strokes
from studio.canvas import BRUSH_RANGE


def _digit(draw: callable) -> np.ndarray:
    """A 28x28 digit drawn at 4x then shrunk, so its edges are grey as MNIST's are."""
    img = Image.new("L", (112, 112), 0)
    draw(ImageDraw.Draw(img))
    return np.asarray(img.resize((28, 28), Image.Resampling.BOX))


def _drawn(payload: dict) -> np.ndarray:
    """The payload as the server draws it: True where there is ink."""
    return np.asarray(strokes.rasterize(strokes.parse(payload))) < 128


def _trace_box(payload: dict) -> tuple[float, float, float]:
    """(left, top, scale) of the traced digit's 112x112 on the canvas, from its points' extent."""
    xs = [x for s in payload["strokes"] for x in s[0]]
    ys = [y for s in payload["strokes"] for y in s[1]]
    return min(xs), min(ys), max(max(xs) - min(xs), max(ys) - min(ys))


RING = _digit(lambda d: d.ellipse([24, 16, 88, 96], outline=255, width=12))
# An 8-like blob: a ring whose hole the pen's blur filled to light grey (above half, below the ink).
BLURRED_LOOP = _digit(lambda d: (d.ellipse([24, 24, 88, 88], fill=255), d.ellipse([48, 48, 64, 64], fill=150)))
DISK = _digit(lambda d: d.ellipse([16, 16, 96, 96], fill=255))


def test_a_ring_is_traced_as_a_loop_with_its_hole() -> None:
    payload = trace.trace(RING, np.random.default_rng(0))
    drawn = _drawn(payload)
    left, top, extent = _trace_box(payload)
    assert not drawn[int(top + extent / 2), int(left + extent / 2)]


def test_a_loop_filled_past_half_ink_by_blur_keeps_its_hole() -> None:
    assert not trace.ink_to_trace(BLURRED_LOOP)[56, 56]


def test_a_loop_filled_past_half_ink_is_ink_at_half() -> None:
    assert BLURRED_LOOP[14, 14] > 127   # what makes the hole a case at all: a plain threshold would fill it


def test_ink_wider_than_the_brush_is_filled() -> None:
    payload = trace.trace(DISK, np.random.default_rng(0))
    drawn = _drawn(payload)
    ys, xs = np.nonzero(drawn)
    cy, cx = ys.mean(), xs.mean()
    radius = np.sqrt(drawn.sum() / np.pi)
    yy, xx = np.mgrid[: drawn.shape[0], : drawn.shape[1]]
    inner = (yy - cy) ** 2 + (xx - cx) ** 2 < (0.8 * radius) ** 2
    assert drawn[inner].mean() > 0.97


def test_a_fat_disk_needs_a_brush_the_pad_has_not() -> None:
    payload = trace.trace(DISK, np.random.default_rng(0))
    assert payload["brush"] == BRUSH_RANGE[1]   # so the fill above is the rings', not one fat brush's


@pytest.mark.parametrize("digit", [RING, BLURRED_LOOP, DISK], ids=["ring", "blurred loop", "disk"])
def test_the_brush_is_one_the_pad_offers(digit: np.ndarray) -> None:
    brush = trace.trace(digit, np.random.default_rng(1))["brush"]
    assert BRUSH_RANGE[0] <= brush <= BRUSH_RANGE[1]


@pytest.mark.parametrize("digit", [RING, BLURRED_LOOP, DISK], ids=["ring", "blurred loop", "disk"])
def test_a_trace_is_a_payload_the_strokes_api_takes(digit: np.ndarray) -> None:
    strokes.parse(trace.trace(digit, np.random.default_rng(2)))   # raises ImageInputError if not


@pytest.mark.realdata
def test_traced_mnist_digits_are_read_as_themselves(real_data_dir: Path) -> None:
    from classifier import data
    from classifier.inputs import imageprep
    from classifier.models import checkpoint
    from classifier.serving.predict import Predictor

    x, y = data.load("digits", "test", real_data_dir)
    predictor = Predictor(checkpoint.load(Path(__file__).resolve().parents[1] / "weights/digits.safetensors"))
    rng = np.random.default_rng(0)
    outs = [imageprep.sketch_to_digit(np.asarray(strokes.rasterize(strokes.parse(trace.trace(d, rng)))))
            for d in x[:300].numpy()]
    accuracy = float((predictor.probabilities(np.stack(outs)).argmax(1) == y[:300].numpy()).mean())
    assert accuracy >= 0.97
