"""Teach it your drawings: under the Draw tab's pad, a session names a class (any text), adds
drawings of it from the pad, trains in seconds, and from then on its pad answers with the model of
its own classes. Teaching is `teach`'s, the same as hands' (`teach.DRAWINGS` says what differs);
this module is the panel and its API.

API: /teach_drawing(drawing, label) takes the strokes payload /classify_strokes takes and returns
the examples per class; /teach_drawing_train(keep_digits) trains and makes the model the session's,
so /classify_strokes' first output is its answer; /teach_drawing_reset() forgets examples and model.
The examples download as Quick, Draw!'s ndjson (`ndjson`), the model as safetensors (and ONNX from
the tab's own button), each file made when its button is pressed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import gradio as gr

from classifier.inputs import strokes
from classifier.inputs.imageprep import ImageInputError

from . import assets, models, plots, project_panel, projects, teach
from .teach import DRAWINGS, TeachError

MAX_LABEL = 24


def _label(label: str) -> str:
    label = " ".join((label or "").split())
    if not 1 <= len(label) <= MAX_LABEL or not label.isprintable():
        raise TeachError(f"Name the class with 1 to {MAX_LABEL} characters (a word, a letter, an emoji).")
    return label


def add(session_id: str, drawing: Any, label: str, client: str = "") -> dict[str, int]:
    """Add a drawing (a strokes payload or its JSON) as an example of `label`; the counts per class."""
    label = _label(label)
    try:
        drawn = strokes.parse(drawing)
        prepared = strokes.STROKES.prepare(drawing)
    except ImageInputError as e:
        raise TeachError(str(e)) from None
    if prepared is None or not drawn.strokes:
        raise TeachError("Draw an example on the pad first.")
    kept = json.dumps({"strokes": [[[x for x, _ in s], [y for _, y in s]] for s in drawn.strokes],
                       "width": drawn.width, "height": drawn.height, "brush": drawn.brush})
    return teach.add_row(session_id, DRAWINGS, label, prepared.row, strokes=kept, client=client)


def ndjson(session_id: str) -> str:
    """The session's taught drawings in Quick, Draw!'s simplified ndjson: one drawing a line, its
    strokes moved to the top left and scaled so the longer side spans 0-255."""
    lines = []
    for capture_id, label, raw, when in projects.capture_strokes(projects.bound(session_id), DRAWINGS.dataset):
        if not raw:
            continue
        drawn = json.loads(raw)["strokes"]
        xs = [x for s in drawn for x in s[0]]
        ys = [y for s in drawn for y in s[1]]
        x0, y0 = min(xs), min(ys)
        scale = 255 / max(max(xs) - x0, max(ys) - y0, 1)
        lines.append(json.dumps({
            "word": label, "countrycode": "", "recognized": True, "key_id": str(capture_id),
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime(when)),
            "drawing": [[[round((x - x0) * scale) for x in s[0]], [round((y - y0) * scale) for y in s[1]]]
                        for s in drawn]}))
    return "\n".join(lines) + ("\n" if lines else "")


def _said(fn: Any) -> Any:
    return teach._said(fn)


@_said
def teach_drawing(drawing: Any, label: str, request: gr.Request) -> dict[str, int]:
    """Add a drawing as an example of a class of your own (any name) to this session's examples.

    Args:
        drawing: the strokes, as /classify_strokes takes them ({"strokes": [[[x...], [y...]], ...], "width",
            "height", "brush"}, or that as JSON text)
        label: the class's name (1-24 characters)
    Returns:
        how many examples each class has
    """
    return add(models.session_id(request), drawing, label, models.client(request))


@_said
def teach_drawing_train(keep_digits: bool = False, request: gr.Request | None = None) -> str:
    """Train a model on this session's taught drawings; from then on this session's pad (and
    /classify_strokes' first output) answers with it.

    Args:
        keep_digits: the digits stay among its classes (needs MNIST's training rows on the server)
    Returns:
        what was trained, in words
    """
    return teach.train(models.session_id(request), what=DRAWINGS, keep=bool(keep_digits))


def teach_drawing_reset(request: gr.Request) -> dict[str, int]:
    """Forget this session's taught drawings and the model taught on them (the pad reads digits again)."""
    return teach.reset(models.session_id(request), DRAWINGS)


@_said
def undo(request: gr.Request) -> str:
    teach.undo(models.session_id(request), DRAWINGS)
    return view(request)


@_said
def examples_needed(request: gr.Request) -> Any:
    """How many examples a class needs: accuracy on this session's held-out drawings against the
    drawings a class a model was taught (1, 2, 3, 5, ...; two draws each), as a chart."""
    curve = teach.examples_needed(models.session_id(request), DRAWINGS)
    return plots.chart(plots.examples_spec(curve, "your other drawings read right"))


def view(request: gr.Request) -> str:
    return teach.captures_html(models.session_id(request), DRAWINGS)


def downloadable(request: gr.Request) -> tuple[Any, Any]:
    """The download buttons, shown where there is something to download: a model taught here, drawings."""
    session = models.session_id(request)
    drawn = projects.capture_strokes(projects.bound(session), DRAWINGS.dataset)
    return (gr.Button(visible=teach.taught_model(session, DRAWINGS) is not None), gr.Button(visible=bool(drawn)))


@_said
def model_file(request: gr.Request) -> str:
    """The model taught on this session's drawings, as a safetensors file (made when asked for)."""
    return teach.saved_model(models.session_id(request), DRAWINGS)


@_said
def drawings_file(request: gr.Request) -> str:
    """This session's taught drawings as Quick, Draw! ndjson (made when asked for)."""
    text = ndjson(models.session_id(request))
    if not text:
        raise TeachError("Add a drawing first.")
    path = models.download_folder() / "my-drawings.ndjson"
    path.write_text(text, encoding="utf-8")
    return str(path)


def build(pad: gr.HTML, noun: str) -> Any:
    """The Draw tab's "Teach it your drawings" panel, under the pad it takes drawings from. Returns the
    training event, for the tab to read the pad again with the model just taught."""
    small = {"size": "sm", "min_width": 80}
    private = {"api_visibility": "private"}
    with gr.Accordion("Teach it your drawings (new classes in a minute)", open=False, elem_id=f"{noun}-teach"):
        gr.Markdown("Name a class, draw an example on the pad, add it; a few of each class, then Train.",
                    elem_id=f"{noun}-teach-how")
        with gr.Row(equal_height=True):
            label = gr.Textbox(label="Class name", placeholder="circle", max_length=MAX_LABEL, min_width=120,
                               elem_id=f"{noun}-teach-label")
            add_btn = gr.Button("Add this drawing", elem_id=f"{noun}-teach-add", **small)
            undo_btn = gr.Button("Undo", elem_id=f"{noun}-teach-undo", **small)
        shown = gr.HTML(teach.captures_html("", DRAWINGS), elem_id=f"{noun}-teach-captures", apply_default_css=False)
        with gr.Row(equal_height=True):
            keep = gr.Checkbox(False, label="Keep the digits too", elem_id=f"{noun}-teach-keep", min_width=120)
            train_btn = gr.Button("Train", variant="primary", elem_id=f"{noun}-teach-train", **small)
            reset_btn = gr.Button("Start over", elem_id=f"{noun}-teach-reset", **small)
        status = gr.Markdown(elem_id=f"{noun}-teach-status")
        needed = gr.Button("How many examples does a class need?", elem_id=f"{noun}-teach-needed", size="sm")
        curve = gr.Plot(show_label=False, visible=False, elem_id=f"{noun}-teach-curve")
        with gr.Row():
            model_btn = gr.Button("Download the model", visible=False, size="sm", elem_id=f"{noun}-teach-model")
            drawings_btn = gr.Button("Download the drawings (ndjson)", visible=False, size="sm",
                                     elem_id=f"{noun}-teach-ndjson")
        # The file is made when asked for and lands here, unseen; the page then clicks it (one click,
        # one download), as the tab's other downloads do.
        file = gr.DownloadButton(visible="hidden", elem_id=f"{noun}-teach-file")
    counts = gr.JSON(visible=False, label="examples per class")
    files = [model_btn, drawings_btn]
    fetch = {"fn": None, "js": assets.download_js(f"{noun}-teach-file"), **private}
    model_btn.click(model_file, None, file, **private).success(**fetch)
    drawings_btn.click(drawings_file, None, file, **private).success(**fetch)
    added = add_btn.click(teach_drawing, [pad, label], counts, api_name="teach_drawing")
    # The next example starts on a clean pad (the pad's own Clear, which the page then classifies).
    added.success(view, None, shown, **private).then(downloadable, None, files, **private).then(
        None, js=f"() => document.querySelector('#{noun}-input .pad-clear')?.click()", **private)
    undo_btn.click(undo, None, shown, **private)
    trained = train_btn.click(teach_drawing_train, keep, status, api_name="teach_drawing_train",
                              concurrency_id="train", concurrency_limit=1)
    trained.then(view, None, shown, **private).then(downloadable, None, files, **private)
    reset_btn.click(teach_drawing_reset, None, counts, api_name="teach_drawing_reset").then(
        view, None, shown, **private).then(downloadable, None, files, **private)
    # Models taught a few of the examples each, read on the others: some seconds, in training's queue.
    needed.click(lambda: gr.Plot(visible=True), None, curve, **private).then(
        examples_needed, None, curve, concurrency_id="train", concurrency_limit=1, **private)
    project_panel.on_project(view, [shown])
    project_panel.on_project(downloadable, files)
    return trained
