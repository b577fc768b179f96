"""The Train tab: train an MLP, watch its curves, read its test report, then use, save or download it.

Every value is checked by `TrainConfig`; the report and the servable checkpoint come from the
trainer; this module only formats. A run and its result belong to the browser session that
started it: "Use this model" changes that session's classify tab, no one else's. API: /train,
/stop_training, /use_model, /restore_shipped, /save_model, /download_model.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import gradio as gr

from classifier import checkpoint, data, plots, trainer
from classifier.predict import Predictor
from classifier.trainer import Trainer, recipe

from . import models
from .models import session_id

BATCH_SIZE_CHOICES = [2 ** k for k in range(14) if trainer.BATCH_SIZE_RANGE[0] <= 2 ** k <= trainer.BATCH_SIZE_RANGE[1]]


def train_config(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
                 optimizer: str) -> trainer.TrainConfig:
    """The tab's widgets as a TrainConfig; TrainConfig itself judges every value."""
    try:
        numbers = {"epochs": int(epochs), "batch_size": int(batch_size), "lr": float(lr)}
    except (TypeError, ValueError):
        raise gr.Error("Epochs, batch size and learning rate must be numbers.") from None
    try:
        return recipe(dataset, hidden=trainer.parse_hidden(hidden), augment=bool(augment), optimizer=optimizer,
                      **numbers)
    except ValueError as e:
        raise gr.Error(str(e)) from None


def check_settings(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
                   optimizer: str) -> None:
    """Refuse bad settings, or a data set that cannot be had, before the page clears anything."""
    train_config(dataset, hidden, epochs, lr, batch_size, augment, optimizer)
    if not data.is_available(dataset, models.DATA_DIR) and not data.DATASETS[dataset].source.downloadable:
        raise gr.Error(data.where_to_put(dataset, models.DATA_DIR), duration=None)


def train(dataset: str, hidden: str, epochs: float, lr: float, batch_size: float, augment: bool,
          optimizer: str, request: gr.Request):
    """Train a model, streaming (curves, status, test summary, confusion, mistakes) per epoch."""
    config = train_config(dataset, hidden, epochs, lr, batch_size, augment, optimizer)
    try:
        splits = data.load_splits(dataset, models.DATA_DIR)
    except data.DataError as e:
        raise gr.Error(str(e), duration=None) from None
    sid = session_id(request)
    stop = threading.Event()
    models.SESSIONS.edit(sid).stop = stop
    try:
        run = Trainer(config, splits=splits, stop_event=stop)
        note = run.spec.validation_note
        yield (plots.training_curves([], validation_note=note), f"Starting: {dataset} on {run.device}, "
               f"{len(splits.train_x):,} training rows, model {config.hidden}...", "", None, None)
        for m in run.run():
            accuracy = f"val acc {m.val_acc:.2%}" + ("" if m.test_acc is None else
                                                     f" (optimistic) · test acc {m.test_acc:.2%}")
            status = (f"Epoch {m.epoch}/{m.epochs} · {m.seconds:.1f}s · {m.samples_per_sec:,.0f} samples/s · "
                      f"device {run.device} · {accuracy}"
                      + (f" · stopped after {trainer.epochs_text(m.progress)}" if m.stopped else ""))
            yield (plots.training_curves([vars(h) for h in run.history], validation_note=note), status, "",
                   None, None)
        report = run.report()
    finally:
        session = models.SESSIONS.get(sid)
        if session is not None and session.stop is stop:
            session.stop = None
    session = models.SESSIONS.get(sid)
    if session is not None:  # None: the page closed during the run, so nobody can use the result
        session.result = run.checkpoint(report.accuracy, command="trained in the app's Train tab")
    stopped = bool(run.history and run.history[-1].stopped)
    confused = ", ".join(f"{t} taken for {p} ({n})" for t, p, n in report.most_confused(3))
    summary = (f"**Test accuracy: {report.accuracy:.2%}** on {report.n:,} test images"
               f"{' (stopped early)' if stopped else ''}. {report.n_wrong} misclassified"
               + (f"; most confused: {confused}." if confused else "."))
    status = f"Done: {trainer.epochs_text(run.epochs_done)}, device {run.device}."
    yield (plots.training_curves([vars(h) for h in run.history], validation_note=note), status, summary,
           plots.confusion_matrix(report.confusion, report.classes), plots.misclassified_grid(report.mistakes))


def data_status(dataset: str) -> str:
    """What the tab says about a data set before a run: ready, or where to put it."""
    if dataset not in data.DATASETS:
        return f"Unknown data set {dataset!r}."
    spec = data.DATASETS[dataset]
    if data.is_available(dataset, models.DATA_DIR):
        return f"Ready: {spec.title} found in `{models.DATA_DIR.resolve()}`."
    if spec.source.downloadable:
        return f"Not on disk yet: Start will try to download it. {data.where_to_put(dataset, models.DATA_DIR)}"
    return f"⚠️ Not available. {data.where_to_put(dataset, models.DATA_DIR)}"


def recipe_widgets(dataset: str) -> tuple[Any, ...]:
    """The tab's widget values for a data set's default recipe."""
    r = recipe(dataset)
    return ",".join(map(str, r.hidden)), r.epochs, r.lr, r.batch_size, r.augment, r.optimizer


def stop_training(request: gr.Request) -> str:
    session = models.SESSIONS.get(session_id(request))
    if session is None or session.stop is None:
        return "No training run of yours is in progress."
    session.stop.set()
    return "Stopping after the current batch..."


def _result(request: gr.Request | None) -> checkpoint.Checkpoint:
    session = models.SESSIONS.get(session_id(request))
    if session is None or session.result is None:
        raise gr.Error("Train a model first.")
    return session.result


def use_model(request: gr.Request) -> str:
    result = _result(request)
    name = result.dataset
    if name not in models.SHIPPED:
        return f"No tab classifies {name}; save or download the model instead."
    session = models.SESSIONS.edit(session_id(request))
    session.used[name] = Predictor(result, name="trained in this session")
    session.chosen[name] = models.SESSION_RUN
    return (f"Your {name} tab now uses this model (test accuracy {result.meta['test_accuracy']:.2%}); "
            "everyone else keeps their own.")


def restore_shipped(dataset: str, request: gr.Request) -> str:
    if dataset not in models.SHIPPED:
        return f"No tab classifies {dataset}."
    session = models.SESSIONS.get(session_id(request))
    if session is not None:
        session.chosen.pop(dataset, None)
    return f"Your {dataset} tab uses the shipped model again."


def free_name(name: str) -> str:
    """`name` if no weights file has it yet, else the first free `name-2`, `name-3`..."""
    candidate, n = name, 1
    while checkpoint.weights_path(candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def save_model(name: str, request: gr.Request) -> tuple[str, str]:
    result = _result(request)
    name = (name or "").strip().removesuffix(".safetensors")
    if not models.SAFE_NAME.match(name) or len(name) > 60:
        raise gr.Error("Name the file with letters, digits, - and _ only (up to 60 characters).")
    if name in data.DATASETS:
        raise gr.Error(f"'{name}' is a shipped model; choose another name (train.py can replace it).")
    # Never over another file: someone else's saved model may have this name.
    saved_as = free_name(name)
    path = result.save(checkpoint.weights_path(saved_as))
    where = path.relative_to(checkpoint.WEIGHTS_DIR.parent)
    message = (f"{name}.safetensors exists already, so this run was saved as {where}." if saved_as != name
               else f"Saved {where}.")
    return message, str(path)


def download_model(request: gr.Request) -> str:
    result = _result(request)
    folder = Path(tempfile.mkdtemp(prefix="classifier-"))
    return str(result.save(folder / f"{result.dataset}-trained.safetensors"))


def build(demo: gr.Blocks) -> None:
    """The Train tab."""
    with gr.Tab("Train"):
        gr.Markdown("Train an MLP here and watch it learn. One run at a time: a second run waits in the queue. "
                    f"Data directory: `{models.DATA_DIR.resolve()}` (set `{data.DATA_DIR_ENV}`).")
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
                    start_btn = gr.Button("Start", variant="primary", elem_id="train-start", min_width=80)
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="train-stop", min_width=80)
            with gr.Column(scale=3):
                t_status = gr.Markdown(elem_id="train-status")
                # One result at a time, so the tab fits a 1440x900 window; the figures carry their own
                # titles (Gradio's label badges would cover their tops).
                with gr.Tabs():
                    with gr.Tab("Curves"):
                        t_curves = gr.Plot(show_label=False, elem_id="train-curves")
                    with gr.Tab("Confusion matrix", elem_id="train-confusion-tab"):
                        t_confusion = gr.Plot(show_label=False, elem_id="train-confusion")
                    with gr.Tab("Misclassified", elem_id="train-mistakes-tab"):
                        t_mistakes = gr.Plot(show_label=False, elem_id="train-mistakes")
                t_summary = gr.Markdown(elem_id="train-summary")
                with gr.Row(equal_height=True):
                    use_btn = gr.Button("Use this model", elem_id="train-use", min_width=100, size="md")
                    restore_btn = gr.Button("Restore shipped model", min_width=100, size="md")
                    t_name = gr.Textbox(value="my-model", label="Save as weights/<name>.safetensors", scale=2,
                                        min_width=160)
                    save_btn = gr.Button("Save", min_width=60, size="md")
                    download_btn = gr.Button("Prepare download", min_width=100, size="md")
                t_message = gr.Markdown(elem_id="train-message")
                t_file = gr.File(label="Weights file", interactive=False, height=80, visible=False,
                                 elem_id="train-file")
        settings = [t_hidden, t_epochs, t_lr, t_batch, t_augment, t_optimizer]
        # Settings are checked first, so a typo leaves the last run's results on the page; once a run
        # starts, the earlier run's messages and file go, so nothing old passes for the new run's.
        started = start_btn.click(check_settings, [t_dataset, *settings], None, api_visibility="private")
        started.success(lambda: ("", gr.File(None, visible=False)), None, [t_message, t_file],
                        api_visibility="private")
        started.success(
            train, [t_dataset, *settings], [t_curves, t_status, t_summary, t_confusion, t_mistakes],
            api_name="train", concurrency_id="train", concurrency_limit=1,
        )
        stop_btn.click(stop_training, None, t_status, api_name="stop_training", concurrency_limit=None)
        t_dataset.change(data_status, t_dataset, t_status, api_visibility="private")
        t_dataset.change(recipe_widgets, t_dataset, settings, api_visibility="private")
        use_btn.click(use_model, None, t_message, api_name="use_model")
        restore_btn.click(restore_shipped, t_dataset, t_message, api_name="restore_shipped")
        # The file box shows only once there is a file in it (empty, it pushed the results down).
        show_file = {"fn": lambda: gr.File(visible=True), "inputs": None, "outputs": t_file,
                     "api_visibility": "private"}
        save_btn.click(save_model, t_name, [t_message, t_file], api_name="save_model").success(**show_file)
        download_btn.click(download_model, None, t_file, api_name="download_model").success(**show_file)
    demo.load(data_status, t_dataset, t_status, api_visibility="private")
