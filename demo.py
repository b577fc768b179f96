"""The Gradio app: a live classify tab for each data set whose spec names a user-input pipeline
(Draw for digits, Hand signs for ASL letters), and a Train tab.

    python demo.py                 # http://127.0.0.1:7860
    python demo.py --port 8080 --host 0.0.0.0

Models are loaded once, at import, from `weights/`; a model trained in the Train tab can be
swapped in for everyone at once. API names: /classify_digit, /classify_sign (one per classify
tab: /classify_<noun>), /train, /stop_training, /use_model, /restore_shipped, /save_model,
/download_model.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
from PIL import Image, UnidentifiedImageError

from classifier import checkpoint, data, imageprep, plots, trainer
from classifier.data import DatasetSpec
from classifier.predict import ModelSlot, Predictor
from classifier.trainer import Trainer, recipe

log = logging.getLogger("demo")
C = TypeVar("C", bound=gr.components.Component)

DATA_DIR = data.data_dir()
# Data sets that get a live classify tab: those with a pipeline from a user's input to their style.
TAB_SPECS = [spec for spec in data.DATASETS.values() if spec.user_input]
BATCH_SIZE_CHOICES = [2 ** k for k in range(14) if trainer.BATCH_SIZE_RANGE[0] <= 2 ** k <= trainer.BATCH_SIZE_RANGE[1]]


def _load_shipped(name: str) -> tuple[Predictor | None, str]:
    path = checkpoint.weights_path(name)
    try:
        return Predictor(checkpoint.load(path, expect_dataset=name), name=path.name), ""
    except checkpoint.CheckpointError as e:
        log.error("cannot load shipped weights: %s", e)
        return None, f"No usable model for {name}: {e}. Train one with `python train.py {name}`."


SLOTS: dict[str, ModelSlot] = {}
LOAD_ERRORS: dict[str, str] = {}
for _spec in TAB_SPECS:
    _loaded, LOAD_ERRORS[_spec.name] = _load_shipped(_spec.name)
    SLOTS[_spec.name] = ModelSlot(_loaded)


def predict(dataset: str, image: Any) -> dict[str, float]:
    """{class: probability} of a 28x28 uint8 image in `dataset`'s style, by the model its tab uses now."""
    predictor = SLOTS[dataset].get()
    if predictor is None:
        raise gr.Error(LOAD_ERRORS[dataset] or f"No model loaded for {dataset}.")
    return predictor.predict(image)


# ------------------------------------------------------------------------------ classify

# The sketchpad starts, and restarts after a clear, with no tool selected: pick the brush so
# the first stroke draws instead of showing "select the draw tool".
PICK_BRUSH_JS = """() => {
    let tries = 0;
    const pick = () => {
        const brushes = document.querySelectorAll('.drawing-input button[aria-label="Brush"]');
        if (brushes.length) { brushes.forEach(b => b.click()); } else if (tries++ < 50) { setTimeout(pick, 200); }
    };
    setTimeout(pick, 300);
}"""


@dataclass(frozen=True)
class InputKind:
    """How a classify tab takes one kind of user input (the `user_input` a data set's spec names)."""

    tab: str                                 # tab title
    how: str                                 # the tab's instructions; {noun} and {span} (e.g. "0-9") are the spec's
    empty: str                               # what to say when there is nothing to classify
    component: Callable[[DatasetSpec], gr.components.Component]
    js_after_clear: str | None = None        # run in the browser on load and after a clear


INPUT_KINDS: dict[str, InputKind] = {
    "drawing": InputKind(
        "Draw", "Draw a {noun} ({span}) with the brush (left of the canvas); it is classified after every stroke.",
        "draw a {noun}",
        lambda spec: gr.Sketchpad(
            label=f"Draw a {spec.noun}", type="numpy", image_mode="RGBA", canvas_size=(400, 400), height=520,
            brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"), layers=False,
            elem_id=f"{spec.noun}-input", elem_classes=["drawing-input"]),
        js_after_clear=PICK_BRUSH_JS,
    ),
    "hand_photo": InputKind(
        "Hand signs", "Show a hand {noun} ({span}) to the webcam or upload a photo: the hand should fill the "
                      "centre square.", "take a snapshot or upload a photo of a hand {noun}",
        # image_mode=None: Gradio hands over the file as uploaded (its default "RGB" would decode
        # every photo and clip 16-bit ones); imageprep does modes, EXIF and size limits.
        lambda spec: gr.Image(label=f"Hand {spec.noun}", sources=["webcam", "upload"], type="filepath",
                              image_mode=None, elem_id=f"{spec.noun}-input"),
    ),
}


def classify(spec: DatasetSpec, value: Any) -> tuple[Any, Any, Any]:
    """A classify tab's input -> (every class's probability, top 3, classify view)."""
    try:
        image = imageprep.PIPELINES[str(spec.user_input)](value)
    except imageprep.ImageInputError as e:
        raise gr.Error(str(e)) from None
    if image is None:
        msg = INPUT_KINDS[str(spec.user_input)].empty.format(noun=spec.noun)
        return msg, msg, plots.classify_view(None, None, msg)
    probs = predict(spec.name, image)
    return probs, probs, plots.classify_view(image, probs)


def explain_undecodable(component: C) -> C:
    """Make an image input answer undecodable uploads with a clear message, not a bare error.

    Gradio decodes an upload before our function runs. Wrapping this one component's
    `preprocess` (rather than subclassing, which makes Gradio write a .pyi stub next to this
    file at import) turns decoder errors into a gr.Error the user reads.
    """
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except Image.DecompressionBombError:
            raise gr.Error(f"The image has too many pixels to decode safely (limit "
                           f"{imageprep.MAX_PIXELS // 1_000_000} megapixels).") from None
        except (UnidentifiedImageError, OSError, ValueError) as e:
            # The exception text names the server's temporary file: say what happened, not where.
            raise gr.Error(f"This upload is not an image that can be read ({type(e).__name__}).") from None

    component.preprocess = preprocess  # type: ignore[method-assign]
    return component


def tab_caption(spec: DatasetSpec) -> str:
    """A tab's instructions and the model it uses now (refreshed whenever the tab is opened)."""
    kind = INPUT_KINDS[str(spec.user_input)]
    span = f"{spec.classes[0]}-{spec.classes[-1]}"
    intro = kind.how.format(noun=spec.noun, span=span) + (f" {spec.note}" if spec.note else "")
    predictor = SLOTS[spec.name].get()
    if predictor is None:
        return f"{intro} ⚠️ {LOAD_ERRORS[spec.name]}"
    acc = predictor.meta.get("test_accuracy")
    acc_text = f", test accuracy {acc:.2%}" if isinstance(acc, (int, float)) else ""
    return f"{intro} Model: MLP {predictor.meta['model']['hidden']}{acc_text} ({predictor.name})."


def classify_tab(spec: DatasetSpec) -> gr.Markdown:
    """One live classify tab: input, Classify and Clear, the top 3 and the classify view. Returns its caption."""
    kind = INPUT_KINDS[str(spec.user_input)]
    noun = spec.noun
    with gr.Tab(kind.tab) as tab:
        caption = gr.Markdown(tab_caption(spec), elem_id=f"{noun}-caption")
        tab.select(lambda: tab_caption(spec), None, caption, api_visibility="private")
        with gr.Row():
            with gr.Column(scale=1):
                source = explain_undecodable(kind.component(spec))
                with gr.Row():
                    button = gr.Button("Classify", variant="primary")
                    clear = gr.ClearButton(value="Clear")
            with gr.Column(scale=1):
                top = gr.Label(label="Prediction (top 3)", num_top_classes=3, elem_id=f"{noun}-label")
                view = gr.Plot(label="What the model sees, and every probability", elem_id=f"{noun}-plot")
        # The API's first output: every class's probability. The page shows them in the plot,
        # so this Label stays hidden; the visible one shows the top 3.
        every_class = gr.Label(visible=False, label=f"every {noun}")
        outputs = [every_class, top, view]
        clear.add([source, *outputs])
        if kind.js_after_clear:
            clear.click(None, js=kind.js_after_clear)
            source.clear(None, js=kind.js_after_clear)

        def run(value: Any) -> tuple[Any, Any, Any]:
            return classify(spec, value)

        button.click(run, source, outputs, api_name=f"classify_{noun}", concurrency_id="classify",
                     concurrency_limit=8)
        source.change(run, source, outputs, api_visibility="private", concurrency_id="classify",
                      show_progress="hidden", trigger_mode="always_last")
    return caption


# --------------------------------------------------------------------------------- train

# One stop switch per browser session, so Stop only stops the caller's own run.
_stop_events: dict[str, threading.Event] = {}
_stop_lock = threading.Lock()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def _train_config(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
                  optimizer: str) -> trainer.TrainConfig:
    """The Train tab's widgets as a TrainConfig; TrainConfig itself judges every value."""
    try:
        numbers = {"epochs": int(epochs), "batch_size": int(batch_size), "lr": float(lr)}
    except (TypeError, ValueError):
        raise gr.Error("Epochs, batch size and learning rate must be numbers.") from None
    try:
        return recipe(dataset, hidden=trainer.parse_hidden(hidden), augment=bool(augment), optimizer=optimizer,
                      **numbers)
    except ValueError as e:
        raise gr.Error(str(e)) from None


def train(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
          optimizer: str, request: gr.Request):
    """Train a model, streaming (curves, status, test summary, confusion, mistakes, result) per epoch."""
    config = _train_config(dataset, hidden, epochs, lr, batch_size, augment, optimizer)
    try:
        splits = data.load_splits(dataset, DATA_DIR)
    except data.DataError as e:
        raise gr.Error(str(e), duration=None) from None
    session = _session(request)
    stop = threading.Event()
    with _stop_lock:
        _stop_events[session] = stop
    try:
        run = Trainer(config, splits=splits, stop_event=stop)
        yield (plots.training_curves([]), f"Starting: {dataset} on {run.device}, "
               f"{len(splits.train_x):,} training rows, model {config.hidden}...", "", None, None, None)
        for m in run.run():
            status = (f"Epoch {m.epoch}/{m.epochs} · {m.seconds:.1f}s · {m.samples_per_sec:,.0f} samples/s · "
                      f"device {run.device} · val acc {m.val_acc:.2%}" + (" · stopped" if m.stopped else ""))
            yield plots.training_curves([vars(h) for h in run.history]), status, "", None, None, None
        report = run.report()
    finally:
        with _stop_lock:
            if _stop_events.get(session) is stop:
                del _stop_events[session]
    result = run.checkpoint(report.accuracy, command="trained in the app's Train tab")
    stopped = bool(run.history and run.history[-1].stopped)
    confused = ", ".join(f"{t} taken for {p} ({n})" for t, p, n in report.most_confused(3))
    summary = (f"**Test accuracy: {report.accuracy:.2%}** on {report.n:,} test images"
               f"{' (stopped early)' if stopped else ''}. {report.n_wrong} misclassified"
               + (f"; most confused: {confused}." if confused else "."))
    last = run.history[-1] if run.history else None
    status = "Done." if last is None else f"Done: {last.epoch} epochs, device {run.device}."
    yield (plots.training_curves([vars(h) for h in run.history]), status, summary,
           plots.confusion_matrix(report.confusion, report.classes), plots.misclassified_grid(report.mistakes),
           result)


def data_status(dataset: str) -> str:
    """What the Train tab says about a data set before a run: ready, or where to put it."""
    if dataset not in data.DATASETS:
        return f"Unknown data set {dataset!r}."
    spec = data.DATASETS[dataset]
    if data.is_available(dataset, DATA_DIR):
        return f"Ready: {spec.title} found in `{DATA_DIR.resolve()}`."
    if spec.source.downloadable:
        return f"Not on disk yet: Start will try to download it. {data.where_to_put(dataset, DATA_DIR)}"
    return f"⚠️ Not available. {data.where_to_put(dataset, DATA_DIR)}"


def recipe_widgets(dataset: str) -> tuple[Any, ...]:
    """The Train tab's widget values for a data set's default recipe."""
    r = recipe(dataset)
    return ",".join(map(str, r.hidden)), r.epochs, r.lr, r.batch_size, r.augment, r.optimizer


def stop_training(request: gr.Request) -> str:
    with _stop_lock:
        event = _stop_events.get(_session(request))
    if event is None:
        return "No training run of yours is in progress."
    event.set()
    return "Stopping after the current batch..."


def use_model(result: checkpoint.Checkpoint | None) -> str:
    if result is None:
        raise gr.Error("Train a model first.")
    name = result.dataset
    if name not in SLOTS:
        return f"No tab classifies {name}; save or download the model instead."
    SLOTS[name].swap(Predictor(result, name="trained in the app"))
    return f"The {name} tab now uses this model (test accuracy {result.meta['test_accuracy']:.2%})."


def restore_shipped(dataset: str) -> str:
    if dataset not in SLOTS:
        return f"No tab classifies {dataset}."
    predictor, error = _load_shipped(dataset)
    if predictor is None:
        raise gr.Error(error)
    SLOTS[dataset].swap(predictor)
    return f"The {dataset} tab uses the shipped model again."


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def save_model(result: checkpoint.Checkpoint | None, name: str) -> tuple[str, str]:
    if result is None:
        raise gr.Error("Train a model first.")
    name = (name or "").strip().removesuffix(".safetensors")
    if not _SAFE_NAME.match(name):
        raise gr.Error("Name the file with letters, digits, - and _ only (up to 64 characters).")
    if name in data.DATASETS:
        raise gr.Error(f"'{name}' is a shipped model; choose another name (train.py can replace it).")
    path = checkpoint.save(checkpoint.weights_path(name), result.model, result.meta)
    return f"Saved {path.relative_to(checkpoint.WEIGHTS_DIR.parent)}.", str(path)


def download_model(result: checkpoint.Checkpoint | None) -> str:
    if result is None:
        raise gr.Error("Train a model first.")
    folder = Path(tempfile.mkdtemp(prefix="classifier-"))
    return str(checkpoint.save(folder / f"{result.dataset}-trained.safetensors", result.model, result.meta))


def train_tab() -> gr.Dropdown:
    """The Train tab; returns its data-set dropdown (the page load fills in the data status)."""
    with gr.Tab("Train"):
        gr.Markdown("Train an MLP here and watch it learn. One run at a time: a second run waits in the queue. "
                    f"Data directory: `{DATA_DIR.resolve()}` (set `{data.DATA_DIR_ENV}`).")
        hidden, epochs, lr, batch, augment, optimizer = recipe_widgets("digits")
        with gr.Row():
            with gr.Column(scale=1):
                t_dataset = gr.Dropdown(list(data.DATASETS), value="digits", label="Data set")
                t_hidden = gr.Textbox(value=hidden, label="Hidden sizes (comma separated)")
                t_epochs = gr.Slider(1, trainer.MAX_EPOCHS, value=epochs, step=1, label="Epochs")
                t_lr = gr.Number(value=lr, label=f"Peak learning rate (0, {trainer.MAX_LR:g}]")
                t_batch = gr.Dropdown(BATCH_SIZE_CHOICES, value=batch, label="Batch size")
                t_augment = gr.Checkbox(value=augment, label="Augmentation (the data set's own)")
                t_optimizer = gr.Radio(list(trainer.OPTIMIZERS), value=optimizer, label="Optimizer")
                with gr.Row():
                    start_btn = gr.Button("Start", variant="primary", elem_id="train-start")
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop")
            with gr.Column(scale=2):
                t_status = gr.Markdown(elem_id="train-status")
                t_curves = gr.Plot(label="Loss and accuracy per epoch", elem_id="train-curves")
                t_summary = gr.Markdown(elem_id="train-summary")
                with gr.Row():
                    use_btn = gr.Button("Use this model", elem_id="train-use")
                    restore_btn = gr.Button("Restore shipped model")
                    t_name = gr.Textbox(value="my-model", label="Save as weights/<name>.safetensors", scale=2)
                    save_btn = gr.Button("Save")
                    download_btn = gr.Button("Prepare download")
                t_message = gr.Markdown(elem_id="train-message")
                t_file = gr.File(label="Weights file", interactive=False, height=80)
                t_confusion = gr.Plot(label="Confusion matrix")
                t_mistakes = gr.Plot(label="Misclassified test images")
        t_result = gr.State(None, time_to_live=3600)  # a trained model per session, freed after an hour
        settings = [t_hidden, t_epochs, t_lr, t_batch, t_augment, t_optimizer]
        start_btn.click(
            train, [t_dataset, *settings], [t_curves, t_status, t_summary, t_confusion, t_mistakes, t_result],
            api_name="train", concurrency_id="train", concurrency_limit=1,
        )
        stop_btn.click(stop_training, None, t_status, api_name="stop_training", concurrency_limit=None)
        t_dataset.change(data_status, t_dataset, t_status, api_visibility="private")
        t_dataset.change(recipe_widgets, t_dataset, settings, api_visibility="private")
        use_btn.click(use_model, t_result, t_message, api_name="use_model")
        restore_btn.click(restore_shipped, t_dataset, t_message, api_name="restore_shipped")
        save_btn.click(save_model, [t_result, t_name], [t_message, t_file], api_name="save_model")
        download_btn.click(download_model, t_result, t_file, api_name="download_model")
    demo.load(data_status, t_dataset, t_status, api_visibility="private")
    return t_dataset


with gr.Blocks(title="Image classifier studio") as demo:
    gr.Markdown("# Image classifier studio\nMultilayer perceptrons on 28x28 images: draw a digit, "
                "show a hand sign, or train your own model and watch it learn.")
    captions = [classify_tab(spec) for spec in TAB_SPECS]
    train_tab()
    demo.load(None, js=PICK_BRUSH_JS)
    demo.load(lambda: tuple(tab_caption(spec) for spec in TAB_SPECS), None, captions, api_visibility="private")

# A bounded queue: under a flood, extra requests are told the queue is full instead of piling up.
demo.queue(default_concurrency_limit=4, max_size=256)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Run the image classifier studio.")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--share", action="store_true", help="create a public share link")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=True)


if __name__ == "__main__":
    main()
