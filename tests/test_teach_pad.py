"""studio.teach_pad: teaching the Draw tab's pad classes of one's own (the same teaching as hands'):
examples from stroke payloads, a model in seconds that the session's pad then answers with, other
sessions unchanged, the drawings as Quick, Draw!'s ndjson."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.symbols import drawings
from classifier.inputs.strokes import STROKES
from studio import models, teach, teach_pad
from studio.canvas import SEVEN

pytestmark = pytest.mark.usefixtures("fresh_store")
THREE = ("circle", "cross", "check")


def _teach(session: str, per_class: int = 4, symbols: tuple[str, ...] = THREE) -> None:
    for label, payload in drawings(symbols, per_class, seed=1):
        teach_pad.add(session, payload, label)


def _top(session: str, payload) -> str:
    answer = models.predictor_for("digits", session).answer(STROKES.prepare(payload).row)
    return answer.best[0]


@pytest.fixture
def taught() -> str:
    _teach("a")
    teach.train("a", what=teach.DRAWINGS)
    return "a"


def test_examples_are_counted_per_class() -> None:
    _teach("a", per_class=2)
    assert teach.counts("a", teach.DRAWINGS) == {"circle": 2, "cross": 2, "check": 2}


def test_drawings_and_hands_are_kept_apart() -> None:
    _teach("a", per_class=1)
    assert teach.counts("a") == {}   # the hands' examples


def test_undo_takes_back_the_last_example() -> None:
    _teach("a", per_class=2)
    teach.undo("a", teach.DRAWINGS)
    assert teach.counts("a", teach.DRAWINGS) == {"circle": 2, "cross": 2, "check": 1}


def test_an_empty_drawing_is_refused() -> None:
    with pytest.raises(teach.TeachError, match="Draw an example"):
        teach_pad.add("a", {"strokes": [], "width": 400, "height": 400, "brush": 14}, "circle")


def test_a_class_needs_a_name() -> None:
    with pytest.raises(teach.TeachError, match="Name the class"):
        teach_pad.add("a", SEVEN, "  ")


def test_bad_strokes_get_the_strokes_message() -> None:
    with pytest.raises(teach.TeachError, match="canvas"):
        teach_pad.add("a", {"strokes": [[[900], [10]]], "width": 400, "height": 400, "brush": 14}, "x")


def test_training_needs_two_classes_without_the_digits() -> None:
    _teach("a", per_class=2, symbols=("circle",))
    with pytest.raises(teach.TeachError, match="at least two classes"):
        teach.train("a", what=teach.DRAWINGS)


def test_the_taught_pad_reads_new_drawings_of_its_classes(taught: str) -> None:
    tests = drawings(THREE, 5, seed=7)
    right = [_top(taught, payload) == label for label, payload in tests]
    assert np.mean(right) >= 0.9


def test_other_sessions_keep_the_digits_model(taught: str) -> None:
    assert models.predictor_for("digits", "b") is models.SHIPPED["digits"]


def test_the_taught_model_answers_only_the_taught_classes(taught: str) -> None:
    assert set(models.predictor_for("digits", taught).classes) == set(THREE)


def test_keeping_the_digits_without_their_rows_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    _teach("a", per_class=1)
    with pytest.raises(teach.TeachError, match="training rows in the data folder"):
        teach.train("a", what=teach.DRAWINGS, keep=True)


def test_starting_over_brings_the_digits_back(taught: str) -> None:
    teach.reset(taught, teach.DRAWINGS)
    assert models.predictor_for("digits", taught) is models.SHIPPED["digits"]


def test_the_drawings_download_as_quick_draw_ndjson() -> None:
    _teach("a", per_class=1)
    lines = [json.loads(line) for line in teach_pad.ndjson("a").splitlines()]
    assert [line["word"] for line in lines] == list(THREE)


def test_ndjson_strokes_span_0_to_255() -> None:
    _teach("a", per_class=1)
    first = json.loads(teach_pad.ndjson("a").splitlines()[0])["drawing"]
    values = [v for stroke in first for axis in stroke[:2] for v in axis]
    assert min(values) == 0 and max(values) == 255


def test_how_many_examples_is_measured_on_the_examples_left_out() -> None:
    _teach("a", per_class=3)
    curve = teach.examples_needed("a", teach.DRAWINGS)
    assert [p["examples"] for p in curve] == [1, 2]
    assert all(0 <= p["min"] <= p["mean"] <= p["max"] <= 1 for p in curve)


def test_how_many_examples_needs_two_examples_a_class() -> None:
    _teach("a", per_class=1)
    with pytest.raises(teach.TeachError, match="two examples or more"):
        teach.examples_needed("a", teach.DRAWINGS)


def test_the_draw_tabs_line_names_the_taught_classes(taught: str) -> None:
    from studio import classify_tab
    line = classify_tab.caption(teach.DRAWINGS.spec, taught)
    assert "Draw one of your classes (circle, cross, check)" in line


def test_a_taught_model_claims_no_test_accuracy(taught: str) -> None:
    from studio import classify_tab
    assert "test accuracy" not in classify_tab.caption(teach.DRAWINGS.spec, taught)


def test_the_taught_model_downloads_as_onnx_answering_the_same(taught: str) -> None:
    import onnxruntime as ort

    from studio import classify_tab
    path = classify_tab.download_onnx(teach.DRAWINGS.spec, taught)
    label, payload = drawings(THREE, 1, seed=9)[0]
    row = STROKES.prepare(payload).row
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    probabilities = session.run(["probabilities"], {"image": row[None].astype(np.float32)})[0][0]
    classes = models.predictor_for("digits", taught).classes
    assert classes[int(np.argmax(probabilities))] == _top(taught, payload)


def test_an_empty_pad_asks_for_one_of_the_taught_classes(taught: str) -> None:
    from studio import classify_tab
    shown = classify_tab.classify(teach.DRAWINGS.spec, {"strokes": [], "width": 400, "height": 400, "brush": 14},
                                  session=taught, kind=STROKES)
    assert shown.first == "draw one of your classes (circle, cross, check)"


def test_a_drawing_unlike_every_taught_class_is_not_sure(taught: str) -> None:
    answer = models.predictor_for("digits", taught).answer(STROKES.prepare(SEVEN).row)
    assert answer.unsure


def test_new_drawings_of_the_taught_classes_are_mostly_sure(taught: str) -> None:
    predictor = models.predictor_for("digits", taught)
    unsure = [predictor.answer(STROKES.prepare(p).row).unsure for _, p in drawings(THREE, 5, seed=7)]
    assert np.mean(unsure) <= 0.2


def test_the_drawings_file_is_made_when_asked_for() -> None:
    from types import SimpleNamespace
    _teach("a", per_class=1)
    path = teach_pad.drawings_file(SimpleNamespace(session_hash="a"))
    assert Path(path).read_text(encoding="utf-8") == teach_pad.ndjson("a")


def test_the_model_file_needs_a_trained_model() -> None:
    from types import SimpleNamespace

    import gradio as gr
    _teach("a", per_class=1)
    with pytest.raises(gr.Error, match="Train on your drawings first"):
        teach_pad.model_file(SimpleNamespace(session_hash="a"))
