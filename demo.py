"""The Gradio app: Draw (digits), Hand signs (ASL letters) and Train tabs.

    python demo.py                 # http://127.0.0.1:7860
    python demo.py --port 8080 --host 0.0.0.0

Models are loaded once, at import, from `weights/`; a model trained in the Train tab can be
swapped in for everyone at once. API names: /classify_digit, /classify_sign, /train.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import numpy as np
from PIL import Image, UnidentifiedImageError

from classifier import checkpoint, data, imageprep, plots
from classifier.predict import ModelSlot, Predictor
from classifier.trainer import TrainConfig, Trainer, recipe

log = logging.getLogger("demo")
C = TypeVar("C", bound=gr.components.Component)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DATA_DIR = data.data_dir()
SHIPPED_NAMES = tuple(data.DATASETS)
TAB_DATASETS = ("digits", "signs")  # the data sets a tab classifies live
MAX_EPOCHS = 100
MAX_HIDDEN = 4096


def _load_shipped(name: str) -> tuple[Predictor | None, str]:
    path = WEIGHTS_DIR / f"{name}.safetensors"
    try:
        return Predictor(checkpoint.load(path, expect_dataset=name), name=path.name), ""
    except checkpoint.CheckpointError as e:
        log.error("cannot load shipped weights: %s", e)
        return None, f"No usable model for {name}: {e}. Train one with `python train.py {name}`."


SLOTS: dict[str, ModelSlot] = {}
LOAD_ERRORS: dict[str, str] = {}
for _name in TAB_DATASETS:
    _loaded, LOAD_ERRORS[_name] = _load_shipped(_name)
    SLOTS[_name] = ModelSlot(_loaded)


def _predictor(name: str) -> Predictor:
    predictor = SLOTS[name].get()
    if predictor is None:
        raise gr.Error(LOAD_ERRORS[name] or f"No model loaded for {name}.")
    return predictor


# ------------------------------------------------------------------------------ classify

def predict_digit(image: np.ndarray) -> dict[str, float]:
    """{digit: probability} for an MNIST-style 28x28 uint8 image."""
    return _predictor("digits").predict(image)


def predict_sign(image: np.ndarray) -> dict[str, float]:
    """{letter: probability} for a Sign Language MNIST-style 28x28 uint8 image."""
    return _predictor("signs").predict(image)


def classify_digit(sketch: Any) -> tuple[Any, Any, Any]:
    """Sketchpad value -> (all 10 probabilities, top 3, classify view)."""
    try:
        image = imageprep.sketch_layers_to_image(sketch)
        digit = None if image is None else imageprep.sketch_to_digit(image)
    except imageprep.ImageInputError as e:
        raise gr.Error(str(e)) from None
    if digit is None:
        return "draw a digit", "draw a digit", plots.classify_view(None, None, "draw a digit")
    probs = predict_digit(digit)
    return probs, probs, plots.classify_view(digit, probs)


def classify_sign(photo: str | None) -> tuple[Any, Any, Any]:
    """Image file path -> (all 24 probabilities, top 3, classify view)."""
    if photo is None:
        msg = "take a snapshot or upload a photo of a hand sign"
        return msg, msg, plots.classify_view(None, None, msg)
    try:
        sign = imageprep.photo_to_sign(imageprep.open_image(photo))
    except imageprep.ImageInputError as e:
        raise gr.Error(str(e)) from None
    probs = predict_sign(sign)
    return probs, probs, plots.classify_view(sign, probs)


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


# --------------------------------------------------------------------------------- train

# One stop switch per browser session, so Stop only stops the caller's own run.
_stop_events: dict[str, threading.Event] = {}
_stop_lock = threading.Lock()


def _parse_hidden(text: str) -> list[int]:
    try:
        sizes = [int(v) for v in re.split(r"[,\s]+", str(text).strip()) if v]
    except ValueError:
        raise gr.Error(f"Hidden sizes must be whole numbers separated by commas, e.g. 1024,1024 "
                       f"(got {text!r}).") from None
    if not sizes or len(sizes) > 6 or any(s < 1 or s > MAX_HIDDEN for s in sizes):
        raise gr.Error(f"Give 1 to 6 hidden sizes, each 1..{MAX_HIDDEN} (got {text!r}).")
    return sizes


def _train_config(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float,
                  augment: bool, optimizer: str) -> TrainConfig:
    if dataset not in data.DATASETS:
        raise gr.Error(f"Unknown data set {dataset!r}; choose one of {', '.join(data.DATASETS)}.")
    try:
        epochs_i, batch_i, lr_f = int(epochs), int(batch_size), float(lr)
    except (TypeError, ValueError):
        raise gr.Error("Epochs, batch size and learning rate must be numbers.") from None
    if not 1 <= epochs_i <= MAX_EPOCHS:
        raise gr.Error(f"Epochs must be 1..{MAX_EPOCHS}.")
    if not 8 <= batch_i <= 8192:
        raise gr.Error("Batch size must be 8..8192.")
    if not 0 < lr_f <= 1:
        raise gr.Error("Learning rate must be in (0, 1].")
    if optimizer not in ("adamw", "sgd"):
        raise gr.Error("Optimizer must be adamw or sgd.")
    return recipe(dataset, hidden=_parse_hidden(hidden), epochs=epochs_i, lr=lr_f, batch_size=batch_i,
                  augment=bool(augment), optimizer=optimizer)


def _history_rows(trainer: Trainer) -> list[dict[str, float]]:
    return [vars(m) for m in trainer.history]


def train(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
          optimizer: str, request: gr.Request):
    """Train a model, streaming (curves, status, test summary, confusion, mistakes, result) per epoch."""
    config = _train_config(dataset, hidden, epochs, lr, batch_size, augment, optimizer)
    try:
        splits = data.load_splits(dataset, DATA_DIR)
    except data.DataError as e:
        raise gr.Error(f"{data.where_to_put(dataset, DATA_DIR)} ({e})", duration=None) from None
    session = getattr(request, "session_hash", None) or "anonymous"
    stop = threading.Event()
    with _stop_lock:
        _stop_events[session] = stop
    try:
        trainer = Trainer(config, splits=splits, stop_event=stop)
        yield (plots.training_curves([]), f"Starting: {dataset} on {trainer.device}, "
               f"{len(splits.train_x):,} training rows, model {config.hidden}...", "", None, None, None)
        for m in trainer.run():
            status = (f"Epoch {m.epoch}/{m.epochs} · {m.seconds:.1f}s · {m.samples_per_sec:,.0f} samples/s · "
                      f"device {trainer.device} · val acc {m.val_acc:.2%}" + (" · stopped" if m.stopped else ""))
            yield plots.training_curves(_history_rows(trainer)), status, "", None, None, None
        _, test_acc, preds = trainer.test()
    finally:
        with _stop_lock:
            if _stop_events.get(session) is stop:
                del _stop_events[session]
    classes = list(trainer.spec.classes)
    true = splits.test_y.cpu().numpy()
    pred = preds.numpy()
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    wrong = np.flatnonzero(pred != true)[:32]
    mistakes = plots.misclassified_grid(splits.test_x[wrong].numpy(), [classes[i] for i in pred[wrong]],
                                        [classes[i] for i in true[wrong]])
    trainer.model.to("cpu").eval()
    result = checkpoint.Checkpoint(trainer.model, trainer.metadata(test_acc, command="trained in the app's Train tab"))
    stopped = bool(trainer.history and trainer.history[-1].stopped)
    summary = (f"**Test accuracy: {test_acc:.2%}** on {len(true):,} test images"
               f"{' (stopped early)' if stopped else ''}. {len(np.flatnonzero(pred != true))} misclassified.")
    last = trainer.history[-1] if trainer.history else None
    status = "Done." if last is None else f"Done: {last.epoch} epochs, device {trainer.device}."
    yield (plots.training_curves(_history_rows(trainer)), status, summary,
           plots.confusion_matrix(cm, classes), mistakes, result)


def data_status(dataset: str) -> str:
    """What the Train tab says about a data set before a run: ready, or where to put it."""
    if dataset not in data.DATASETS:
        return f"Unknown data set {dataset!r}."
    if data.is_available(dataset, DATA_DIR):
        return f"Ready: {data.DATASETS[dataset].title} found in `{DATA_DIR.resolve()}`."
    if dataset == "signs":
        return f"⚠️ Not available. {data.where_to_put(dataset, DATA_DIR)}"
    return f"Not on disk yet: Start will try to download it. {data.where_to_put(dataset, DATA_DIR)}"


def stop_training(request: gr.Request) -> str:
    session = getattr(request, "session_hash", None) or "anonymous"
    with _stop_lock:
        event = _stop_events.get(session)
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
    model = result.model.to("cpu").eval()
    SLOTS[name].swap(Predictor(checkpoint.Checkpoint(model, result.meta), name="trained in the app"))
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
    if name in SHIPPED_NAMES:
        raise gr.Error(f"'{name}' is a shipped model; choose another name (train.py can replace it).")
    path = checkpoint.save(WEIGHTS_DIR / f"{name}.safetensors", result.model, result.meta)
    return f"Saved {path.relative_to(WEIGHTS_DIR.parent)}.", str(path)


def download_model(result: checkpoint.Checkpoint | None) -> str:
    if result is None:
        raise gr.Error("Train a model first.")
    folder = Path(tempfile.mkdtemp(prefix="classifier-"))
    return str(checkpoint.save(folder / f"{result.dataset}-trained.safetensors", result.model, result.meta))


# ------------------------------------------------------------------------------------ UI

# The sketchpad starts, and restarts after a clear, with no tool selected: pick the brush so
# the first stroke draws instead of showing "select the draw tool".
PICK_BRUSH_JS = """() => {
    let tries = 0;
    const pick = () => {
        const brush = document.querySelector('#sketchpad button[aria-label="Brush"]');
        if (brush) { brush.click(); } else if (tries++ < 50) { setTimeout(pick, 200); }
    };
    setTimeout(pick, 300);
}"""

TAB_INTROS = {
    "digits": "Draw a digit 0-9 with the brush (left of the canvas); it is classified after every stroke.",
    "signs": "Show an American Sign Language letter (A-Y without J) to the webcam or upload a photo: "
             "the hand should fill the centre square.",
}


def tab_caption(name: str) -> str:
    """A tab's intro and the model it uses now (refreshed whenever the tab is opened)."""
    predictor = SLOTS[name].get()
    if predictor is None:
        return f"{TAB_INTROS[name]} ⚠️ {LOAD_ERRORS[name]}"
    acc = predictor.meta.get("test_accuracy")
    acc_text = f", test accuracy {acc:.2%}" if isinstance(acc, (int, float)) else ""
    return f"{TAB_INTROS[name]} Model: MLP {predictor.meta['model']['hidden']}{acc_text} ({predictor.name})."


with gr.Blocks(title="Image classifier studio") as demo:
    gr.Markdown("# Image classifier studio\nMultilayer perceptrons on 28x28 images: draw a digit, "
                "show a hand sign, or train your own model and watch it learn.")
    with gr.Tab("Draw") as draw_tab:
        digit_caption = gr.Markdown(tab_caption("digits"), elem_id="digit-caption")
        draw_tab.select(lambda: tab_caption("digits"), None, digit_caption, api_visibility="private")
        with gr.Row():
            with gr.Column(scale=1):
                sketch = explain_undecodable(gr.Sketchpad(
                    label="Draw a digit", type="numpy", image_mode="RGBA", canvas_size=(400, 400), height=520,
                    brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
                    layers=False, elem_id="sketchpad",
                ))
                with gr.Row():
                    digit_btn = gr.Button("Classify", variant="primary")
                    clear_btn = gr.ClearButton(value="Clear")
            with gr.Column(scale=1):
                digit_top = gr.Label(label="Prediction (top 3)", num_top_classes=3, elem_id="digit-label")
                digit_plot = gr.Plot(label="What the model sees, and every probability", elem_id="digit-plot")
        digit_all = gr.Label(visible=False, label="all digits")
        clear_btn.add([sketch, digit_all, digit_top, digit_plot])
        clear_btn.click(None, js=PICK_BRUSH_JS)
        sketch.clear(None, js=PICK_BRUSH_JS)
        digit_outputs = [digit_all, digit_top, digit_plot]
        digit_btn.click(classify_digit, sketch, digit_outputs, api_name="classify_digit",
                        concurrency_id="classify", concurrency_limit=8)
        sketch.change(classify_digit, sketch, digit_outputs, api_visibility="private",
                      concurrency_id="classify", show_progress="hidden", trigger_mode="always_last")

    with gr.Tab("Hand signs") as signs_tab:
        sign_caption = gr.Markdown(tab_caption("signs"), elem_id="sign-caption")
        signs_tab.select(lambda: tab_caption("signs"), None, sign_caption, api_visibility="private")
        with gr.Row():
            with gr.Column(scale=1):
                # image_mode=None: Gradio hands over the file as uploaded (its default "RGB" would
                # decode every photo and clip 16-bit ones); imageprep does modes, EXIF and size limits.
                photo = explain_undecodable(gr.Image(label="Hand sign", sources=["webcam", "upload"],
                                                     type="filepath", image_mode=None, elem_id="sign-input"))
                sign_btn = gr.Button("Classify", variant="primary")
            with gr.Column(scale=1):
                sign_top = gr.Label(label="Prediction (top 3)", num_top_classes=3, elem_id="sign-label")
                sign_plot = gr.Plot(label="What the model sees, and every probability", elem_id="sign-plot")
        sign_all = gr.Label(visible=False, label="all letters")
        sign_outputs = [sign_all, sign_top, sign_plot]
        sign_btn.click(classify_sign, photo, sign_outputs, api_name="classify_sign",
                       concurrency_id="classify", concurrency_limit=8)
        photo.change(classify_sign, photo, sign_outputs, api_visibility="private",
                     concurrency_id="classify", show_progress="hidden")

    with gr.Tab("Train"):
        defaults = recipe("digits")
        gr.Markdown("Train an MLP here and watch it learn. One run at a time: a second run waits in the queue. "
                    f"Data directory: `{DATA_DIR.resolve()}` (set `{data.DATA_DIR_ENV}`).")
        with gr.Row():
            with gr.Column(scale=1):
                t_dataset = gr.Dropdown(list(data.DATASETS), value="digits", label="Data set")
                t_hidden = gr.Textbox(value="512,512", label="Hidden sizes (comma separated)")
                t_epochs = gr.Slider(1, MAX_EPOCHS, value=5, step=1, label="Epochs")
                t_lr = gr.Number(value=defaults.lr, label="Peak learning rate")
                t_batch = gr.Dropdown([64, 128, 256, 512, 1024], value=defaults.batch_size, label="Batch size")
                t_augment = gr.Checkbox(value=True, label="Augmentation (random rotation, zoom, shift)")
                t_optimizer = gr.Radio(["adamw", "sgd"], value="adamw", label="Optimizer")
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
        start_btn.click(
            train, [t_dataset, t_hidden, t_epochs, t_lr, t_batch, t_augment, t_optimizer],
            [t_curves, t_status, t_summary, t_confusion, t_mistakes, t_result],
            api_name="train", concurrency_id="train", concurrency_limit=1,
        )
        stop_btn.click(stop_training, None, t_status, api_name="stop_training", concurrency_limit=None)
        t_dataset.change(data_status, t_dataset, t_status, api_visibility="private")
        use_btn.click(use_model, t_result, t_message, api_name="use_model")
        restore_btn.click(restore_shipped, t_dataset, t_message, api_name="restore_shipped")
        save_btn.click(save_model, [t_result, t_name], [t_message, t_file], api_name="save_model")
        download_btn.click(download_model, t_result, t_file, api_name="download_model")

    demo.load(None, js=PICK_BRUSH_JS)
    demo.load(data_status, t_dataset, t_status, api_visibility="private")
    demo.load(lambda: (tab_caption("digits"), tab_caption("signs")), None, [digit_caption, sign_caption],
              api_visibility="private")

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
