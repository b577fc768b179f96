"""Drawings sent as strokes: checked with clear messages, drawn as the canvas draws them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from classifier import paths
from classifier.inputs import DRAWING, imageprep, strokes

SEVEN = {"strokes": [[[80, 320, 180], [60, 60, 360]]], "width": 400, "height": 400, "brush": 14}


def test_a_seven_drawn_from_strokes_matches_the_same_seven_as_a_picture() -> None:
    from PIL import Image, ImageDraw

    picture = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(picture).line([(80, 60), (320, 60), (180, 360)], fill=0, width=14, joint="curve")
    a = DRAWING.prepare(strokes.rasterize(strokes.parse(SEVEN))).row.astype(float)
    b = DRAWING.prepare(picture).row.astype(float)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95  # the same but for the strokes' round caps


def test_the_shipped_model_reads_a_seven_from_strokes() -> None:
    from classifier.models import checkpoint
    from classifier.serving.predict import Predictor

    digits = Predictor(checkpoint.load(paths.weights_path("digits")))
    probs = digits.predict(DRAWING.prepare(strokes.rasterize(strokes.parse(SEVEN))).row)
    assert max(probs, key=probs.get) == "7"


def test_json_text_is_taken_too() -> None:
    assert strokes.parse(json.dumps(SEVEN)) == strokes.parse(SEVEN)


def test_a_dot_is_drawn() -> None:
    dot = strokes.rasterize(strokes.parse({"strokes": [[[200], [200]]], "width": 400, "height": 400, "brush": 20}))
    assert np.asarray(dot)[200, 200] == 0


@pytest.mark.parametrize("payload,message", [
    ("not json", "not valid JSON"),
    ([1, 2], "Strokes come as"),
    ({**SEVEN, "width": 0}, "1 to 4000 whole pixels"),
    ({**SEVEN, "width": 10**9}, "1 to 4000 whole pixels"),
    ({**SEVEN, "width": 4000, "height": 10}, "at most 20 times"),
    ({**SEVEN, "brush": float("nan")}, "finite number"),
    ({**SEVEN, "brush": 0}, "brush is 1 to"),
    ({**SEVEN, "strokes": "x"}, "must be a list"),
    ({**SEVEN, "strokes": [[[1, 2], [3]]]}, "as many x as y"),
    ({**SEVEN, "strokes": [[[1, "a"], [3, 4]]]}, "finite number"),
    ({**SEVEN, "strokes": [[[1, True], [3, 4]]]}, "finite number"),
    ({**SEVEN, "strokes": [[[1, 500], [3, 4]]]}, "leaves the 400 x 400 canvas"),
    ({**SEVEN, "strokes": [[[1], [1]]] * (strokes.MAX_STROKES + 1)}, "at most 300 strokes"),
    ({**SEVEN, "strokes": [[[1] * 3000, [1] * 3000]] * 2}, "at most 5000 points"),
])
def test_malformed_payloads_are_refused_clearly(payload: object, message: str) -> None:
    with pytest.raises(imageprep.ImageInputError, match=message):
        strokes.parse(payload)


json_values = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=5), max_leaves=30)


@seed(18)
@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.one_of(json_values, st.fixed_dictionaries({
    "strokes": st.lists(st.lists(st.lists(st.floats(-10, 500) | st.integers(-10, 500), max_size=6), max_size=3),
                        max_size=4),
    "width": st.integers(-5, 5000) | st.floats(), "height": st.integers(-5, 5000), "brush": st.floats(-1, 300)})))
def test_any_payload_is_drawn_or_refused_clearly(payload: object) -> None:
    try:
        image = strokes.rasterize(strokes.parse(payload))
    except imageprep.ImageInputError as e:
        assert str(e)
        return
    out = DRAWING.prepare(image)
    assert out is None or out.row.shape == (28, 28)


def test_a_curve_of_many_short_segments_is_drawn_without_slivers_of_paper() -> None:
    # A circle as a mouse gives it: 400 points 1.6 px apart, brush 40. The canvas's round joins
    # leave no paper inside the band; PIL's wide polyline did.
    t = np.linspace(0, 2 * np.pi, 400)
    xs, ys = (200 + 100 * np.cos(t)).tolist(), (200 + 100 * np.sin(t)).tolist()
    drawn = np.asarray(strokes.rasterize(strokes.parse({"strokes": [[xs, ys]], "width": 400, "height": 400,
                                                         "brush": 40}))) < 128
    yy, xx = np.mgrid[:400, :400]
    band = np.abs(np.hypot(yy - 200, xx - 200) - 100) < 18
    assert drawn[band].all()
