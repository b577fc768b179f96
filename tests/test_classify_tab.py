"""studio.classify_tab: the classify function, the inline 28x28, the chart of each class."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from classifier import data
from studio import classify_tab, models
from tests.conftest import make_signs_dir


def _images(html: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(m))))
            for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_seen_html_is_the_exact_image() -> None:
    image = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    (decoded,) = _images(classify_tab.seen_html(image))
    assert np.array_equal(decoded, image)
    assert "image-rendering: pixelated" in classify_tab.seen_html(image)


def test_classify_a_drawing_and_an_empty_canvas() -> None:
    spec = data.DATASETS["digits"]
    canvas = np.full((400, 400, 4), 255, np.uint8)
    every, top, seen = classify_tab.classify(spec, {"composite": canvas, "layers": [], "background": None})
    assert every == top == "draw a digit" and "draw a digit" in seen and "<img" not in seen
    canvas[60:340, 190:210, :3] = 0  # a "1"
    every, top, seen = classify_tab.classify(spec, {"composite": canvas, "layers": [], "background": None})
    assert set(every) == set(spec.classes) and max(every, key=every.get) == "1" and every is top
    assert _images(seen)[0].shape == (28, 28)


def test_chart_has_one_example_of_each_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    monkeypatch.setattr(classify_tab, "_charts", {})
    spec = data.DATASETS["signs"]
    missing = classify_tab.class_chart(spec)
    assert "datamunge/sign-language-mnist" in missing and "<img" not in missing
    make_signs_dir(tmp_path, n_train=48, n_test=96)
    data._cache.clear()
    chart = classify_tab.class_chart(spec)
    captions = re.findall(r"<figcaption[^>]*>([^<]+)</figcaption>", chart)
    x, y = data.load("signs", "test", tmp_path)
    present = [spec.classes[k] for k in sorted(set(y.tolist()))]
    assert captions == present and len(_images(chart)) == len(present)
    first = int((y == spec.classes.index(captions[0])).nonzero()[0, 0])
    assert np.array_equal(_images(chart)[0], x[first].numpy())
    assert classify_tab.class_chart(spec) is chart  # built once
    data._cache.clear()


def test_view_shows_every_class_in_order_and_the_answer_once() -> None:
    probs = {str(d): 0.01 for d in range(10)} | {"7": 0.91}
    image = np.zeros((28, 28), np.uint8)
    view = classify_tab.view_html(image, probs)
    names = re.findall(r"<tr[^>]*><td[^>]*>([^<]+)</td>", view)
    assert names == list(probs) and view.count("91%") == 2  # the answer's figure and its bar's
    assert re.search(r'class="answer"><span[^>]*>7</span>', view)
    unsure = classify_tab.view_html(image, probs, unsure=True)
    assert re.search(r'class="answer unsure"><span[^>]*>not sure</span>', unsure)
    assert "best guess: 7<" in unsure


def test_a_not_sure_answer_looks_unsure() -> None:
    """No orange 91% bar under "not sure": every bar muted, and a line saying they are no confidence."""
    probs = {str(d): 0.01 for d in range(10)} | {"7": 0.91}
    image = np.zeros((28, 28), np.uint8)
    sure, unsure = classify_tab.view_html(image, probs), classify_tab.view_html(image, probs, unsure=True)
    assert classify_tab._ACCENT in sure
    assert classify_tab._ACCENT not in unsure
    assert "not a confidence" in unsure
    assert "not a confidence" not in sure
    assert "&lt;b&gt;" in classify_tab.view_html(None, None, message="<b>")  # messages are escaped


def test_not_sure_answers_keep_their_bars_under_the_fixed_label() -> None:
    import gradio as gr

    label = classify_tab.says_not_sure(gr.Label())
    sure = label.postprocess({"7": 0.9, "1": 0.1})
    unsure = label.postprocess(classify_tab.NotSure({"7": 0.9, "1": 0.1}))
    assert sure.label == "7" and unsure.label == "not sure"
    assert [c.label for c in unsure.confidences] == ["7", "1"]
