"""A live classify tab, one shell for every data set whose kind of input has a tab.

The shell asks the data set's kind (`classifier.inputs`): its widget, wording and page options, and
its pipeline from the user's input to the row the model sees, which then goes through the model this
browser session has chosen (the shipped one unless it picked its own trained run or a saved file).
A kind whose pictures hold hands (`InputKind.hands`) answers first with that kind's model where a
hand was found, unless the picture is like the pixel model's own data (`predict.read_pixels`).
API: /classify_<noun> (e.g. /classify_digit), with an optional model name; /choose_<noun>_model
sets the session's choice.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import numpy as np
from gradio.components.image_editor import EditorData
from PIL import Image, UnidentifiedImageError
from pydantic import model_validator

from classifier import data, inputs
from classifier.data import DatasetSpec
from classifier.inputs import InputKind, Prepared, imageprep, landmarks
from classifier.models import export, ood
from classifier.serving.predict import Answer, Predictor, read_pixels
from classifier.training import teach as teach_lib

from . import assets, canvas, classroom, inside_view, models, project_panel, projects, spell_panel, teach, teach_pad
from .classify_view import answer_html, class_chart, live_note, picture_html, second_opinion, view_html

log = logging.getLogger(__name__)
C = TypeVar("C", bound=gr.components.Component)


def _widget(spec: DatasetSpec) -> gr.components.Component:
    """The input component of a kind's /classify_<noun> endpoint (on the page too, unless the kind
    draws on a stroke pad, where it stays the endpoint's input for scripts, hidden)."""
    kind, noun = spec.kind, spec.noun
    assert kind is not None and kind.page is not None
    if kind.page.widget == "sketchpad":
        pad = gr.Sketchpad(label=f"Draw a {noun}", type="numpy", image_mode="RGBA", canvas_size=(400, 400),
                           visible=kind.page.pad is None, layers=False, elem_id=f"{noun}-sketchpad")
        pad.data_model = PictureOrSketch  # type: ignore[misc]  # a plain picture file is a drawing too
        return pad
    # image_mode=None: Gradio hands over the file as uploaded (its default "RGB" would decode every
    # photo and clip 16-bit ones); the kind does modes, EXIF and size limits.
    # Upload first: a desktop without a camera should not have to find the upload icon.
    return gr.Image(label=f"Hand {noun}", sources=["upload", "webcam"], type="filepath", image_mode=None,
                    height=170, elem_id=f"{noun}-input")


class PictureOrSketch(EditorData):
    """A Sketchpad's value, or a plain picture file (what a script sends /classify_digit), read as a
    drawing: the picture as the sketch's composite, so it is never read as an empty canvas."""

    @model_validator(mode="before")
    @classmethod
    def _picture(cls, value: Any) -> Any:
        if isinstance(value, dict) and "path" in value and not {"background", "layers", "composite"} & set(value):
            return {"background": None, "layers": [], "composite": value}
        return value


@dataclass(frozen=True)
class Classified:
    """What a classify tab answers: the first answer (the hand shape's where a hand was read), the
    classify view, and the pixel model's answer (the same as the first where no hand was read)."""

    first: Any
    view: str
    pixels: Any

    def outputs(self, n: int) -> tuple[Any, ...]:
        """The endpoint's outputs: every class's probability, the top 3, the view (and, with 4, the pixels')."""
        return (self.first, self.first, self.view, self.pixels)[:n]


def shown(answer: Answer) -> dict[str, float]:
    """An answer as the Label outputs show it: its probabilities, under "not sure" where it is not sure."""
    return NotSure(answer.probabilities) if answer.unsure else answer.probabilities


def classify(spec: DatasetSpec, value: Any, model: str = "", session: str = "anonymous", box: Any = None,
             kind: InputKind | None = None) -> Classified:
    """A classify tab's input (of `kind`, else the data set's own) -> its answer and classify view.

    The view is a few kB of HTML the browser draws (the 28x28 scaled up pixel for pixel, a bar per
    class; below them, if the session asked, a look inside the model), so a stroke costs the server
    no figure rendering. An input unlike the training data gets the label "not sure"
    (`ood.NOT_SURE`) over the same probabilities.
    """
    kind = kind or spec.kind
    assert kind is not None and kind.wording is not None
    try:
        predictor = models.predictor_for(spec.name, session, model or "")
        prepared = kind.prepare(value, box, predictor.confidence)
    except (imageprep.ImageInputError, models.ModelChoiceError) as e:
        raise gr.Error(str(e)) from None
    if prepared is None:
        msg = yours(spec, predictor) or kind.wording.empty.format(noun=spec.noun)
        return Classified(msg, view_html(None, None, message=msg), msg)
    shape = hand_shape_answer(spec, prepared, session)
    pixels = read_pixels(predictor, prepared, shape is not None)
    prepared, answer = pixels.prepared, pixels.answer
    first = answer if pixels.first or shape is None else shape.answer
    shape_html = answer_html(shape.answer.probabilities, shape.answer.unsure, title=shape.title) if shape else ""
    view = view_html(prepared.row, answer.probabilities, answer.unsure, picture=picture_html(prepared),
                     beside=shape_html if first is not answer else "", title=PIXEL_TITLE if shape else "",
                     after=second_opinion(shape_html, shape.answer.probabilities, shape.answer.unsure, shape.title)
                     if shape and first is answer else "")
    state = models.SESSIONS.get(session)
    if state is not None and spec.name in state.inside:
        view += inside_view.inside_html(predictor, prepared.row)
    return Classified(shown(first), view, shown(answer))


# The pad's event skips Gradio's queue: a stroke's answer is one short request, not a job to wait
# for. (CLASSIFIER_STROKES_QUEUE=1 queues it, for `bench/latency.py --browser` to compare the two.)
STROKES_QUEUE = os.environ.get("CLASSIFIER_STROKES_QUEUE") == "1"

PIXEL_TITLE = "Pixels: the MLP trained on Sign Language MNIST's 28x28 images"
HAND_SHAPE_TITLE = "Hand shape: the MLP over the hand's 21 landmarks, trained on generated hands"
OWN_TITLE = "Hand shape: your MLP over the hand's 21 landmarks ({name})"  # taught, or trained in the Train tab


@dataclass(frozen=True)
class ShapeAnswer:
    answer: Answer
    title: str
    row: np.ndarray   # the hand as the model read it (63 numbers)


def hand_shape_answer(spec: DatasetSpec, prepared: Prepared, session: str) -> ShapeAnswer | None:
    """Where the data set's kind finds hands (`InputKind.hands`) and one was found: the answer of the
    model that reads them, the session's own (taught, or a Train-tab run in use) or the shipped one
    (None where no hand was found or no model is there)."""
    if prepared.hand is None:
        return None
    found = hand_shape_model(spec, session)
    if found is None:
        return None
    model, own = found
    assert spec.kind is not None and spec.kind.hands is not None
    row = spec.kind.hands.prepare(prepared.hand)
    assert row is not None
    return ShapeAnswer(model.answer(row.row), OWN_TITLE.format(name=model.name) if own else HAND_SHAPE_TITLE,
                       row.row)


def hand_shape_model(spec: DatasetSpec, session: str) -> tuple[Predictor, bool] | None:
    """The model that reads the hands `spec`'s kind finds, for this session, and whether it is the
    session's own (taught, or a Train-tab run in use); None where the kind finds no hands or no
    model is there."""
    hands = data.spec_of(spec.kind.hands) if spec.kind is not None and spec.kind.hands is not None else None
    if hands is None:
        return None
    chosen, model = projects.choice(projects.bound(session), hands.name)   # one read: the choice and own model
    if model is not None:
        return model, True
    try:
        return models.predictor_for(hands.name, session, chosen or hands.name), False
    except models.ModelChoiceError:
        return None


class NotSure(dict):
    """Every class's probability for an input unlike the training data: shown as bars under the
    label "not sure" (`ood.NOT_SURE`) instead of the most probable class's name."""


def says_not_sure(component: gr.Label) -> gr.Label:
    """Let a Label show a `NotSure` answer: its bars, topped by "not sure".

    Gradio's Label always names the most probable class; wrapping this one component's
    `postprocess` (subclassing makes Gradio write a .pyi stub at import) changes only the title.
    """
    original = component.postprocess

    def postprocess(value: Any) -> Any:
        shown = original(dict(value) if isinstance(value, NotSure) else value)
        if isinstance(value, NotSure) and shown:
            shown.label = ood.NOT_SURE
        return shown

    component.postprocess = postprocess  # type: ignore[method-assign]
    return component


LIVE_WAITING = "Press Record: the answer follows the hand in the webcam."
LIVE_FRAMES = 4        # a live answer is the mean of the last this many frames' probabilities
LIVE_EVERY = 0.05      # seconds between the frames the page sends


def classify_live(spec: DatasetSpec, frame: np.ndarray | None, recent: list[dict[str, Any]] | None,
                  session: str = "anonymous") -> tuple[str, list[dict[str, Any]], str, str]:
    """One live webcam frame -> (the live view, the recent answers to carry to the next frame, the
    word line spelled so far, the practice's view).

    The answer shown is smoothed: every class's probability averaged over the last LIVE_FRAMES
    frames, "not sure" when most of them were, so the label does not flicker from frame to frame.
    The hand-shape model's answers (where a hand is found) go to the session's speller too.
    """
    recent = list(recent or [])
    waiting = view_html(None, None, message="waiting for the camera...")
    if frame is None:
        return waiting, recent, *spell_panel.live_letter(session, None, None)
    try:
        predictor = models.predictor_for(spec.name, session)
        assert spec.kind is not None
        prepared = spec.kind.prepare(frame, None, predictor.confidence, live=True)
    except (imageprep.ImageInputError, models.ModelChoiceError) as e:
        return view_html(None, None, message=str(e)), recent, *spell_panel.live_letter(session, None, None)
    if prepared is None:
        return waiting, recent, *spell_panel.live_letter(session, None, None)
    recording = teach.take_live(session, prepared.hand, prepared.picture)
    answer = predictor.answer(prepared.row, prepared.squares)
    shape = hand_shape_answer(spec, prepared, session)
    hand = prepared.hand if shape else None   # a hand-shape answer is there only where a hand is
    line, practising = spell_panel.live_letter(session, shape.answer.probabilities if shape else None,
                                               hand.points if hand else None, row=shape.row if shape else None)
    # The answer smoothed is the one the tab gives first: the hand shape's where there is one.
    first = shape.answer if shape else answer
    p, unsure_now = first.probabilities, first.unsure
    recent = [r for r in recent if set(r["p"]) == set(p)]  # a model switch starts the average afresh
    recent = [*recent, {"p": p, "unsure": unsure_now}][-LIVE_FRAMES:]
    smoothed = {c: sum(r["p"][c] for r in recent) / len(recent) for c in p}
    unsure = sum(r["unsure"] for r in recent) * 2 > len(recent)
    note = live_note(len(recent), recording)
    picture = picture_html(prepared, clickable=False)
    if shape:
        view = view_html(prepared.row, answer.probabilities, answer.unsure, picture=picture, title=PIXEL_TITLE,
                         beside=answer_html(smoothed, unsure, title=shape.title + " (smoothed)"))
    else:
        view = view_html(prepared.row, smoothed, unsure, picture=picture)
    return view + note, recent, line, practising


def explain_undecodable(component: C, limits: imageprep.PictureLimits | None = None) -> C:
    """Make an image input answer undecodable uploads with a clear message, not a bare error.

    Gradio decodes an upload before our function runs. Wrapping this one component's
    `preprocess` (rather than subclassing, which makes Gradio write a .pyi stub next to this
    file at import) turns decoder errors into a gr.Error the user reads. `limits`: the kind of
    input's picture limits, which the uploaded files' headers are held to before Gradio decodes
    them (None where Gradio hands over the file undecoded).
    """
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            if limits is not None:
                for path in _uploaded_paths(payload):
                    with Image.open(path) as header:
                        limits.check(*header.size)
            return original(payload)
        except imageprep.ImageInputError as e:
            raise gr.Error(str(e)) from None
        except Image.DecompressionBombError:
            raise gr.Error(f"The image has too many pixels to decode safely (limit "
                           f"{imageprep.MAX_PIXELS // 1_000_000} megapixels).") from None
        except (UnidentifiedImageError, OSError, ValueError) as e:
            # The exception text names the server's temporary file: say what happened, not where.
            raise gr.Error(f"This upload is not an image that can be read ({type(e).__name__}).") from None

    component.preprocess = preprocess  # type: ignore[method-assign]
    return component


def _uploaded_paths(payload: Any) -> list[str]:
    """The server-side paths of the files in an image or image-editor payload."""
    found = []
    for item in (payload, *(getattr(payload, k, None) for k in ("background", "composite")),
                 *(getattr(payload, "layers", None) or [])):
        path = getattr(item, "path", None)
        if isinstance(path, str) and not path.startswith(("http://", "https://", "data:")):
            found.append(path)
    return found


def caption(spec: DatasetSpec, session: str | None = "anonymous") -> str:
    """A tab's instructions and the model this session classifies with (None: the page as built)."""
    assert spec.kind is not None and spec.kind.wording is not None
    span = f"{spec.classes[0]}-{spec.classes[-1]}"
    intro = spec.kind.wording.how.format(noun=spec.noun, span=span)
    try:
        predictor = models.predictor_for(spec.name, session)
    except models.ModelChoiceError as e:
        return f"{intro} ⚠️ {e}"
    acc = predictor.meta.get("test_accuracy")
    taught = predictor.meta.get("command") == teach_lib.COMMAND   # measured on its examples only: no test accuracy
    acc_text = f", test accuracy {acc:.2%}" if isinstance(acc, (int, float)) and not taught else ""
    asked = yours(spec, predictor)
    if asked:   # a pad taught classes of one's own
        intro = f"{asked[0].upper()}{asked[1:]}; it is classified after every stroke."
    pixels = f"{model_words(predictor.meta['model'])}{acc_text} ({predictor.name})"
    if spec.kind.hands is None:
        return f"{intro} Model: {pixels}."
    off = landmarks.unavailable()
    if off:
        return (f"⚠️ Hand landmarks are off on this server: {off}. The pixel model answers alone. {intro} "
                f"Model: {pixels}.")
    return f"{intro} Read by {hand_shape_words(spec, session)}; second opinion: {pixels}."


def yours(spec: DatasetSpec, predictor: Any) -> str:
    """What to draw, in words, for a model that answers classes of one's own (a taught pad): "draw
    one of your classes (circle, cross)", or with the digits kept "draw a digit, or one of your
    classes (...)"; "" for a model of the data set's own classes."""
    mine = [c for c in predictor.classes if c not in spec.classes]
    if not mine:
        return ""
    assert spec.kind is not None and spec.kind.wording is not None
    ask = (f"{spec.kind.wording.empty.format(noun=spec.noun)}, or one of your classes"
           if len(mine) < len(predictor.classes) else "draw one of your classes")
    return f"{ask} ({', '.join(mine)})"


def hand_shape_words(spec: DatasetSpec, session: str | None) -> str:
    """The hand-shape model a session's Hand signs answers come from, named."""
    hands = data.spec_of(spec.kind.hands) if spec.kind is not None and spec.kind.hands is not None else None
    if hands is None:
        return ""
    chosen, own = projects.choice(projects.bound(session) if session is not None else None, hands.name)
    if own is not None:
        return f"your own hand-shape model ({own.name})"
    if chosen.startswith(classroom.SHARED_PREFIX):
        try:
            return f"the hand-shape model {models.predictor_for(hands.name, session).name}"
        except models.ModelChoiceError as e:
            return f"the shipped hand-shape model (⚠️ {e})"
    return f"the hand-shape model {chosen}.safetensors" if chosen else "the shipped hand-shape model"


def model_words(model: dict[str, Any]) -> str:
    """A model as the caption names it: "linear model" (no hidden layer), else "MLP [sizes]"."""
    hidden = model.get("hidden") or []
    return f"MLP {hidden}" if hidden else "linear model"


def real_world(spec: DatasetSpec) -> str:
    """What the tab says of how its shipped models do on real inputs: the kind's words, filled with the
    figures the bench that measured them wrote into the shipped weights file ("" where none did)."""
    kind = spec.kind
    hands = data.spec_of(kind.hands) if kind is not None and kind.hands is not None else spec
    shipped = models.SHIPPED.get(hands.name) if hands is not None else None
    figures = shipped.meta.get("real_inputs") if shipped is not None else None
    if kind is None or kind.wording is None or not kind.wording.real_world or not isinstance(figures, dict):
        return ""
    try:
        return kind.wording.real_world.format(**figures)
    except (KeyError, ValueError):
        return ""


def download_onnx(spec: DatasetSpec, session: str) -> str:
    """The model this session classifies `spec`'s inputs with, as an ONNX file to download."""
    try:
        predictor = models.predictor_for(spec.name, session)
    except models.ModelChoiceError as e:
        raise gr.Error(str(e)) from None
    stem = Path(predictor.name).stem or spec.name
    return str(export.checkpoint_to_onnx(predictor.checkpoint, models.download_folder() / f"{stem}.onnx",
                                         predictor.name))


def choose(spec: DatasetSpec, name: str, session: str, client: str = "") -> str:
    """Make `name` the model this session's project classifies `spec`'s inputs with; the new caption."""
    try:
        models.predictor_for(spec.name, session, name or spec.name)  # refuse a bad name before keeping it
        pid = projects.project(session, client)
        projects.choose(pid, spec.name, name)
        # Said in the log: a reload that shows another model than the one chosen is then traceable.
        log.info("project %d: the %s Model menu chose %r", pid, spec.noun, name or spec.name)
    except (models.ModelChoiceError, projects.ProjectError) as e:
        raise gr.Error(str(e)) from None
    return caption(spec, session)


def look_inside(spec: DatasetSpec, on: bool, session: str) -> None:
    """Show (or stop showing) this session's look inside the model under the classify view."""
    looking = models.SESSIONS.edit(session).inside
    if on:
        looking.add(spec.name)
    else:
        looking.discard(spec.name)


def refresh(spec: DatasetSpec, session: str) -> tuple[Any, str]:
    """The model menu (this session's options and choice) and caption, as the tab opens."""
    return (gr.Dropdown(choices=models.choices(spec.name, session), value=models.chosen(spec.name, session)),
            caption(spec, session))


def _local_file(name: str) -> dict[str, Any]:
    """A file as the API page shows it: `handle_file(name)` (the page writes a FileData's url)."""
    return {"path": name, "url": name, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def api_example(kind: InputKind) -> Any:
    """The example input the API page shows for a classify endpoint: the caller's own file, wrapped
    as the kind's widget takes it."""
    assert kind.page is not None
    file = _local_file(kind.page.example)
    return {"background": None, "layers": [], "composite": file} if kind.page.widget == "sketchpad" else file


def api_doc(spec: DatasetSpec, kind: InputKind, argument: str = "value") -> str:
    """What the API page says of a classify endpoint for input of `kind` (Gradio reads a function's
    docstring: its first paragraph, Args and Returns)."""
    assert spec.kind is not None and spec.kind.page is not None and kind.wording is not None
    noun, takes_box = spec.noun, spec.kind.page.takes_box and kind is spec.kind
    what = kind.wording.api.format(noun=noun)
    given = f"    {argument}: {kind.wording.api_value.format(example=canvas.SEVEN)}\n"
    box = ("    box: optional, your own square 'x0,y0,x1,y1' in the photo's pixels (or shares of its width and "
           "height, each at most 1); empty: the app finds the hand\n" if takes_box else "")
    extra = ("    the pixel model's answer (the first is the hand-shape model's where a hand was found)\n"
             if spec.kind.hands is not None else "")
    return (f"{what}\n\nArgs:\n{given}    model: optional, a weights file's name (empty: this session's model)\n"
            f"{box}\nReturns:\n    every {noun}'s probability (\"not sure\" for an input unlike the training data)\n"
            f"    the top 3\n    the classify view: HTML, the 28x28 the model saw beside a bar for each class\n{extra}")


@dataclass
class Page:
    """A classify tab's components. Those of one kind of input only are None for the others: the
    stroke pad (drawings), Clear (pictures), the box and its buttons (photos), the Live mode."""

    intro: gr.Markdown
    source: gr.components.Component          # the input the API's /classify_<noun> takes
    chart: gr.HTML
    examples: gr.Accordion
    menu: gr.Dropdown
    onnx: gr.Button
    onnx_file: gr.DownloadButton
    inside: gr.Checkbox
    view: gr.HTML
    pad: gr.HTML | None = None
    clear: gr.ClearButton | None = None
    box: gr.Textbox | None = None
    box_go: gr.Button | None = None
    box_clear: gr.Button | None = None
    photo_tab: gr.Tab | None = None
    live_tab: gr.Tab | None = None
    camera: gr.Image | None = None
    recent: gr.State | None = None
    spelling: spell_panel.LineParts | None = None   # Live's word line, its keys and practice
    taught: Any = None                         # teaching's training event (hands, and drawings on the pad)


def _input_column(spec: DatasetSpec, kind: InputKind) -> dict[str, Any]:
    """The input (with Live beside Photo where the kind has it) and the chart of each class."""
    noun, parts = spec.noun, {}
    with gr.Tabs(elem_id=f"{noun}-modes") if kind.page.live else nullcontext():
        with gr.Tab("Photo") if kind.page.live else nullcontext() as parts["photo_tab"]:
            source = parts["source"] = explain_undecodable(
                _widget(spec), kind.limits if kind.page.decoded_by_gradio else None)
            # The API page's example: a file of the caller's own, not Gradio's bus picture.
            source.example_inputs = functools.partial(api_example, kind)  # type: ignore[method-assign]
            if kind.page.pad is not None:
                pad = parts["pad"] = canvas.stroke_pad(f"{noun}-input", inputs.get(kind.page.pad).payload)
                pad.example_inputs = lambda: canvas.SEVEN  # type: ignore[method-assign]
            # One row under the picture, so that teaching, under it, stays in view.
            with gr.Row(equal_height=True) if kind.page.takes_box or kind.page.pad is None else nullcontext():
                if kind.page.takes_box:
                    parts["box"] = gr.Textbox("", placeholder="Your square: x0,y0,x1,y1",
                                              show_label=False, elem_id=f"{noun}-box", scale=3, min_width=160)
                    parts["box_go"] = gr.Button("Use this square", elem_id=f"{noun}-box-go", scale=1, min_width=80,
                                                size="sm")
                    parts["box_clear"] = gr.Button("Find it again", elem_id=f"{noun}-box-clear", scale=1,
                                                   min_width=80, size="sm")
                if kind.page.pad is None:
                    parts["clear"] = gr.ClearButton(value="Clear", elem_id=f"{noun}-clear", size="sm", scale=1,
                                                    min_width=60)
        if kind.page.live:
            with gr.Tab("Live", elem_id=f"{noun}-live-tab") as parts["live_tab"]:
                parts["camera"] = gr.Image(sources=["webcam"], streaming=True, type="numpy", height=320,
                                           label="Live webcam: press Record; the answer follows the hand",
                                           elem_id=f"{noun}-live-input")
                parts["recent"] = gr.State([])
                parts["spelling"] = spell_panel.build_line(noun)
            with gr.Tab("Video", elem_id=f"{noun}-video-tab"):
                spell_panel.build_video(noun, functools.partial(hand_shape_model, spec))
    return parts


def _view_column(spec: DatasetSpec) -> dict[str, Any]:
    """The model menu, its ONNX download and "Look inside" above the classify view."""
    noun, parts = spec.noun, {}
    # Each session has its own options; `choose` checks any name, so Gradio need not.
    # "Look inside" sits above the view it opens, so it stays where it was when the view grows.
    with gr.Row(equal_height=True):
        label = "Pixel model (the second opinion)" if spec.kind is not None and spec.kind.hands else "Model"
        parts["menu"] = gr.Dropdown(models.choices(spec.name, None), value=spec.name, label=label,
                                    allow_custom_value=True, elem_id=f"{noun}-model", scale=3)
        parts["onnx"] = gr.Button("Download as ONNX", elem_id=f"{noun}-onnx", scale=1, min_width=110, size="sm")
        parts["inside"] = gr.Checkbox(False, label="Look inside the model", elem_id=f"{noun}-inside", scale=1,
                                      min_width=120)
    parts["onnx_file"] = gr.DownloadButton(visible="hidden", elem_id=f"{noun}-onnx-file")
    parts["view"] = gr.HTML(elem_id=f"{noun}-view", label="classify view (HTML)", apply_default_css=False)
    return parts


def _examples(noun: str) -> dict[str, Any]:
    """One test image of each class, folded until asked for."""
    parts = {}
    with gr.Accordion(f"What each {noun} looks like: one test image of each", open=False) as parts["examples"]:
        parts["chart"] = gr.HTML(elem_id=f"{noun}-chart", apply_default_css=False)
    return parts


def _layout(spec: DatasetSpec, kind: InputKind) -> Page:
    """The tab's components: the input on the left, the answer on the right (one column on a phone)."""
    intro = gr.Markdown(caption(spec, None), elem_id=f"{spec.noun}-caption")
    how = " ".join(t for t in (spec.note, real_world(spec)) if t)
    if how:   # how it works and how well, for whoever asks: the tab itself stays one line
        with gr.Accordion("How it works", open=False, elem_id=f"{spec.noun}-how"):
            gr.Markdown(how)
    with gr.Row(elem_classes=["classify-row"]):
        with gr.Column(scale=1, elem_classes=["classify-column"]):
            left = _input_column(spec, kind)
            # Teaching beside the photo (or under the pad) it learns from.
            taught = (teach.build(left["source"], spec.noun) if kind.hands is not None else
                      teach_pad.build(left["pad"], spec.noun) if left.get("pad") is not None else None)
            left |= _examples(spec.noun)
        with gr.Column(scale=1, elem_classes=["classify-column"]):
            right = _view_column(spec)
    return Page(intro=intro, taught=taught, **left, **right)


def _api_parts(spec: DatasetSpec, kind: InputKind, page: Page) -> tuple[list[Any], list[Any]]:
    """The /classify_<noun> endpoint's inputs and outputs, hidden ones included."""
    # The first two outputs: every class's probability, and the top 3. The page shows both in the
    # view (the answer once, a bar for every class), so these stay hidden.
    every_class = says_not_sure(gr.Label(visible=False, label=f"every {spec.noun}"))
    top = says_not_sure(gr.Label(num_top_classes=3, visible=False, label="top 3"))
    # The optional model name (a weights file's name); the page leaves it empty, so the session's
    # own choice applies.
    override = gr.Textbox("", visible=False, label="model: a weights file's name (empty: this session's model)")
    override.example_inputs = lambda: ""  # type: ignore[method-assign]  # the API page's example: none
    inputs = [page.source, override] + ([page.box] if kind.page.takes_box else [])
    outputs = [every_class, top, page.view]
    if kind.hands is not None:  # photos: the pixel model's answer too (the first two may be the hand shape's)
        outputs.append(says_not_sure(gr.Label(visible=False, label="pixel model")))
    return inputs, outputs


def _classifier(spec: DatasetSpec, kind: InputKind, n_outputs: int) -> Callable[..., tuple[Any, ...]]:
    """/classify_<noun>'s function. Gradio gives a request only to positional parameters: one
    signature with a box, one without."""
    assert kind.page is not None
    if kind.page.takes_box:
        def run(value: Any, model: str, box: str, request: gr.Request) -> tuple[Any, ...]:
            return classify(spec, value, model, models.session_id(request), box).outputs(n_outputs)
    else:
        def run(value: Any, model: str, request: gr.Request) -> tuple[Any, ...]:  # type: ignore[misc]
            return classify(spec, value, model, models.session_id(request)).outputs(n_outputs)
    run.__doc__ = api_doc(spec, kind)
    return run


def _wire_strokes(spec: DatasetSpec, kind: InputKind, page: Page, override: Any,
                  outputs: list[Any]) -> Callable[..., tuple[Any, ...]]:
    """The pad's stroke event is the API's /classify_strokes: scripts send what the page sends."""
    assert kind.page is not None and kind.page.pad is not None and page.pad is not None
    pad = inputs.get(kind.page.pad)

    def run_strokes(payload: Any, model: str, request: gr.Request) -> tuple[Any, ...]:
        return classify(spec, payload, model, models.session_id(request), kind=pad).outputs(len(outputs))

    run_strokes.__doc__ = api_doc(spec, pad, argument="payload")
    page.pad.stroke(run_strokes, [page.pad, override], outputs, api_name="classify_strokes", queue=STROKES_QUEUE,
                    concurrency_id="classify", show_progress="hidden", trigger_mode="always_last")
    return run_strokes


def _wire_box(page: Page, run: Callable[..., Any], inputs: list[Any], outputs: list[Any]) -> None:
    """A square of one's own: typed, or clicked on the picture (`assets/click_box.js`), or found again."""
    assert page.box is not None and page.box_go is not None and page.box_clear is not None
    again = {"api_visibility": "private", "concurrency_id": "classify"}
    page.source.change(lambda: "", None, page.box, api_visibility="private", queue=False)
    page.box.submit(run, inputs, outputs, **again)
    page.box_go.click(run, inputs, outputs, **again)
    page.box_clear.click(lambda: "", None, page.box, api_visibility="private", queue=False).then(
        run, inputs, outputs, **again)


def _wire_live(spec: DatasetSpec, page: Page) -> None:
    """Live answers go to the same view as photos' (beside the input, where the eye is)."""
    def live(frame: np.ndarray | None, history: list, request: gr.Request) -> tuple[str, list, str, str]:
        return classify_live(spec, frame, history, models.session_id(request))

    assert page.camera is not None and page.live_tab is not None and page.photo_tab is not None
    assert page.spelling is not None
    spell_panel.wire_line(page.spelling)
    page.camera.stream(live, [page.camera, page.recent],
                       [page.view, page.recent, page.spelling.line, page.spelling.practice],
                       stream_every=LIVE_EVERY,
                       time_limit=600, concurrency_id="live", concurrency_limit=8, show_progress="hidden",
                       api_visibility="private")
    # Switching modes clears the view: the last photo's answer is no live answer, nor the reverse.
    # (The page does it itself, no request.)
    waiting = view_html(None, None, message=LIVE_WAITING)
    page.live_tab.select(None, None, [page.view, page.recent], js=f"() => [{waiting!r}, []]",
                         api_visibility="private")
    page.photo_tab.select(None, None, page.view, js="() => ''", api_visibility="private")


def _wire_model(spec: DatasetSpec, page: Page, again: Callable[..., Any], again_inputs: list[Any],
                outputs: list[Any]) -> None:
    """The model menu, "Look inside" (each classifies the page's input again) and the ONNX download."""
    def pick(name: str, request: gr.Request) -> str:
        return choose(spec, name, models.session_id(request), models.client(request))

    def peek(on: bool, request: gr.Request) -> None:
        look_inside(spec, on, models.session_id(request))

    def as_onnx(request: gr.Request) -> str:
        return download_onnx(spec, models.session_id(request))

    noun = spec.noun
    as_onnx.__doc__ = (f"The model this session classifies {noun}s with, as an ONNX file (input 'image', a batch "
                       "of 28x28 pictures 0-255; output 'probabilities'; class names and preprocessing in its "
                       "metadata).\n\nReturns:\n    the .onnx file")
    redo = {"api_visibility": "private", "concurrency_id": "classify"}
    # The page's own: off the API page (scripts name a model with each request), but still callable.
    page.menu.input(pick, page.menu, page.intro, api_name=f"choose_{noun}_model",
                    api_visibility="undocumented").success(
        again, again_inputs, outputs, **redo)
    page.inside.input(peek, page.inside, None, api_visibility="private").success(again, again_inputs, outputs,
                                                                                 **redo)
    # torch.onnx traces one model at a time (its tracer keeps global state): one queue for all exports.
    # The file goes to a hidden download button the page then clicks: one click, one download.
    page.onnx.click(as_onnx, None, page.onnx_file, api_name=f"download_{noun}_onnx", concurrency_id="export",
                    concurrency_limit=1).success(None, js=assets.download_js(f"{noun}-onnx-file"),
                                                 api_visibility="private")


def build(spec: DatasetSpec, demo: gr.Blocks) -> None:
    """One live classify tab: input, Clear, the model menu, and the classify view (the 28x28 the
    model saw beside every class's probability)."""
    kind = spec.kind
    assert kind is not None and kind.wording is not None and kind.page is not None
    with gr.Tab(kind.wording.tab) as tab:
        page = _layout(spec, kind)
        inputs, outputs = _api_parts(spec, kind, page)
    run = _classifier(spec, kind, len(outputs))
    # A new picture on the page is searched afresh (its box, if any, belonged to the last picture);
    # API callers give the box with the picture.
    fresh = "(value, model, box) => [value, model, '']" if kind.page.takes_box else None
    page.source.change(run, inputs, outputs, api_name=f"classify_{spec.noun}", concurrency_id="classify",
                       concurrency_limit=8, show_progress="hidden", trigger_mode="always_last", js=fresh)
    # What the page's own events (a new model, looking inside) classify again: the pad's strokes
    # where the page draws, else the input.
    again, again_inputs = run, inputs
    if kind.page.pad is not None:
        again, again_inputs = _wire_strokes(spec, kind, page, inputs[1], outputs), [page.pad, inputs[1]]
    elif page.clear is not None:
        page.clear.add([page.source, *outputs])
    if kind.page.takes_box:
        _wire_box(page, run, inputs, outputs)
    if kind.page.live:
        _wire_live(spec, page)
    _wire_model(spec, page, again, again_inputs, outputs)

    def opened(request: gr.Request) -> tuple[Any, str]:
        return refresh(spec, models.session_id(request))

    if page.taught is not None:   # the photo on screen, read again by the model just taught, which is named
        page.taught.success(again, again_inputs, outputs, api_visibility="private", concurrency_id="classify")
        page.taught.success(opened, None, [page.menu, page.intro], api_visibility="private")

    page.examples.expand(lambda: class_chart(spec), None, page.chart, api_visibility="private")
    project_panel.on_project(opened, [page.menu, page.intro], tab=tab)
