"""The Train tab: pick a preset or set every option, train, watch the curves grow from the first
seconds, compare the project's runs side by side, read a run's test report, then use, save,
download or delete any of them.

Every value is checked by `TrainConfig`; presets, reports and servable checkpoints come from the
library; this module only formats. Runs belong to the session's project (`projects`), kept in the
store as they train: "Use this model" changes that project's classify tabs, no one else's. API:
/train, /stop_training, /pick_run, /use_model, /restore_shipped, /save_model, /download_model,
/delete_run (the last five take a run number; empty: the latest run).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from classifier import data, paths
from classifier.models import checkpoint, export
from classifier.models.mlp import ACTIVATIONS
from classifier.training import presets, trainer
from classifier.training.report import Report, build_report

from . import assets, classroom, models, plots, project_panel, projects, train_worker
from .models import session_id

# Powers of two in the valid range, and any preset's own size (the classic small net's 10).
RECORD_SECONDS = 2.0   # how often a running run's curve is written to the store
# This process's training process: runs train there, one at a time (the train event's concurrency).
WORKER = train_worker.Worker()

BATCH_SIZE_CHOICES = sorted(
    {2 ** k for k in range(14) if trainer.BATCH_SIZE_RANGE[0] <= 2 ** k <= trainer.BATCH_SIZE_RANGE[1]}
    | {p.config("digits").batch_size for p in presets.PRESETS.values()})


@dataclass(frozen=True)
class Settings:
    """The tab's form, one field per widget in the page's order: /train's inputs after the data set.
    Every TrainConfig field a preset or recipe sets has a widget, so a preset read back from the
    widgets is that preset again. A field left None (an API caller may leave out the last ones)
    takes the data set's best recipe's value."""

    hidden: str | None = None           # "1024, 1024"; "" for a linear model
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    augment: bool | None = None
    optimizer: str | None = None
    activation: str | None = None       # one name, or one per hidden layer
    dropout: float | None = None
    batchnorm: bool | None = None
    schedule: str | None = None
    weight_decay: float | None = None
    momentum: float | None = None
    method: str | None = None
    outlier_exposure: float | None = None
    label_smoothing: float | None = None
    warmup: float | None = None

    @classmethod
    def of(cls, config: trainer.TrainConfig) -> Settings:
        """A TrainConfig as the widgets show it."""
        return cls(**{f.name: trainer.in_words(getattr(config, f.name)) if f.type.startswith("str")
                      else getattr(config, f.name) for f in fields(cls)})

    def values(self) -> tuple[Any, ...]:
        """The widgets' values, in order."""
        return tuple(getattr(self, k) for k in SETTINGS)

    def config(self, dataset: str) -> trainer.TrainConfig:
        """These settings on `dataset` as a TrainConfig, which judges every value (ValueError says what is wrong)."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        try:
            typed = {f.name: _TYPES[f.type.split(" ")[0]](given[f.name]) for f in fields(self)
                     if f.name in given and f.name not in ("hidden", "activation")}
        except (TypeError, ValueError):
            raise ValueError("Epochs, batch size, learning rate, dropout, weight decay, momentum, outlier exposure, "
                             "label smoothing and warm-up must be numbers.") from None
        if "hidden" in given:
            typed["hidden"] = trainer.parse_hidden(str(given["hidden"]))
        if "activation" in given:
            typed["activation"] = trainer.parse_activation(str(given["activation"]))
        return replace(presets.get("best").config(dataset), **typed)


_TYPES: dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "bool": bool, "str": str}
SETTINGS = tuple(f.name for f in fields(Settings))


def settings_widgets(config: trainer.TrainConfig) -> tuple[Any, ...]:
    """A TrainConfig as the tab's widget values, in SETTINGS order."""
    return Settings.of(config).values()


def takes_settings(fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """`fn(dataset, settings, request, **options)` as the endpoint the form and /train's callers call:
    the data set, each of the Settings' fields in order (the later ones may be left out), the request."""
    parameters = [inspect.Parameter("dataset", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)]
    parameters += [inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=f.type,
                                     default=inspect.Parameter.empty if i < 6 else None)
                   for i, f in enumerate(fields(Settings))]
    parameters.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request,
                                        default=None))
    signature = inspect.Signature(parameters)

    @functools.wraps(fn)
    def endpoint(*args: Any, **kwargs: Any) -> Iterator[Any]:
        options = {k: kwargs.pop(k) for k in list(kwargs) if k not in signature.parameters}
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        yield from fn(given.pop("dataset"), Settings(**{k: given[k] for k in SETTINGS}), given["request"], **options)

    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    return endpoint


DEFAULT_PRESET = "quick"   # a curve and a good model in seconds; `best` takes far longer on a CPU


@functools.cache
def _train_rows(dataset: str) -> int | None:
    """How many training rows a run on `dataset` uses (None while the data set is not on disk)."""
    try:
        return len(data.load_splits(dataset, models.DATA_DIR).train_x)
    except data.DataError:
        return None


@functools.cache
def _estimate(recipe: str, rows: int) -> float:
    """`trainer.estimate_seconds` of a recipe (its TrainConfig as JSON), measured once per process: the
    widgets ask again at every change of data set or preset."""
    config = trainer.TrainConfig(**json.loads(recipe))
    return trainer.estimate_seconds(config, rows, len(data.DATASETS[config.dataset].classes))


def expected_time(config: trainer.TrainConfig) -> str:
    """About how long a run of `config` takes here, from a step measured on this machine."""
    rows = _train_rows(config.dataset)
    if rows is None:
        return ""
    seconds = _estimate(json.dumps(config.to_dict(), sort_keys=True), rows)
    if seconds < 60:
        return f"About {max(1, round(seconds))} s on this machine."
    return f"About {seconds / 60:.0f} min on this machine."


def preset_widgets(preset: str, dataset: str) -> tuple[Any, ...]:
    """What the tab shows for a preset on a data set: its one-line story, how long it takes here (a
    training step measured now, times the recipe's steps) and every setting."""
    p = presets.get(preset if preset in presets.PRESETS else DEFAULT_PRESET)
    config = p.config(dataset)
    return (f"*{p.about}* {expected_time(config)}", *settings_widgets(config))


def train_config(dataset: str, *values: Any) -> trainer.TrainConfig:
    """The tab's widgets (SETTINGS order) as a TrainConfig; a bad value is the page's error message."""
    try:
        return Settings(*values).config(dataset)
    except ValueError as e:
        raise gr.Error(str(e)) from None


def one_run_at_a_time(request: gr.Request) -> None:
    """Start, while this page's run still trains: say so (a second Start would otherwise be dropped
    without a word, the page's training event being still under way)."""
    session = models.SESSIONS.get(session_id(request))
    if session is not None and session.stop is not None:
        raise gr.Error("Your run is still training: wait for it, or press Stop first. Each page trains one run "
                       "at a time.")


def require_data(dataset: str) -> None:
    """Refuse a data set that is neither on disk nor downloadable, saying where it belongs."""
    if not data.is_available(dataset, models.DATA_DIR) and not data.DATASETS[dataset].source.downloadable:
        raise gr.Error(data.where_to_put(dataset, models.DATA_DIR), duration=None)


def check_settings(dataset: str, *values: Any) -> None:
    """Refuse bad settings, or a data set that cannot be had, before the page clears anything."""
    train_config(dataset, *values)
    require_data(dataset)


def _status(config: trainer.TrainConfig, device: str, epoch: int, step: int, steps: int,
            last: trainer.EpochMetrics | None, started: float) -> str:
    """Where a run is: epoch, share of it done, time left, and the last point's figures."""
    done = (epoch - 1 + step / max(steps, 1)) / config.epochs
    elapsed = time.perf_counter() - started
    left = f" · about {_duration(elapsed * (1 - done) / done)} left" if done > 0.02 else ""
    text = f"Epoch {epoch}/{config.epochs} · {step / max(steps, 1):.0%} of it done{left} · device {device}"
    if last is not None:
        text += f" · {last.samples_per_sec:,.0f} samples/s · {_accuracy(last)}"
    return text


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _accuracy(m: trainer.EpochMetrics) -> str:
    return f"val acc {m.val_acc:.2%}" + ("" if m.test_acc is None else f" (optimistic) · test acc {m.test_acc:.2%}")


ENDED = {"stopped": " (stopped)", "interrupted": " (interrupted: no model)", "running": " (running)"}


def runs_table(runs: list[projects.Run]) -> list[list[Any]]:
    """The project's runs, one row each (RUN_COLUMNS)."""
    return [[r.number, r.preset, r.config.dataset, ", ".join(map(str, r.config.hidden)) or "linear",
             "nearest mean" if r.config.method == "nearest_mean" else f"{r.config.optimizer} {r.config.lr:g}",
             trainer.epochs_text(r.epochs) + ENDED.get(r.status, ""),
             "" if r.accuracy is None else f"{r.accuracy:.2%}", round(r.seconds, 1)] for r in runs]


RUN_COLUMNS = ["run", "preset", "data set", "hidden", "optimizer, lr", "trained", "test accuracy", "seconds"]


def curve_plot(points: list[dict[str, Any]], title: str = "", validation_note: str = "") -> Any:
    """A run's loss and accuracy curves, as the Curves plot's value."""
    return plots.chart(plots.curves_spec(points, title, validation_note))


def run_views(run: projects.Run | None) -> tuple[Any, ...]:
    """One run's curves, summary, confusion matrix and misclassified images."""
    if run is None:
        return curve_plot([]), "", "", ""
    report = run.report
    spec = data.get_spec(run.config.dataset)
    if not run.has_model:
        what = ("is still training in another tab or window" if run.status == "running" else
                "was interrupted (its page closed, or the server stopped, before it finished)")
        return (curve_plot(run.points, title=run.title), f"**Run #{run.number} ({run.preset})** {what}: "
                f"its curve is kept, {trainer.epochs_text(run.epochs)}; it has no model.", "", "")
    if report is None:
        return (curve_plot(run.points, title=run.title), f"**Run #{run.number} ({run.preset})**: its "
                f"classes ({', '.join(run.checkpoint.classes)}) are not the data set's, so there is no test report.",
                "", "")
    confused = ", ".join(f"{t} taken for {p} ({n})" for t, p, n in report.most_confused(3))
    summary = (f"**Run #{run.number} ({run.preset}): test accuracy {report.accuracy:.2%}** on "
               f"{report.n:,} test {spec.rows.name}{' (stopped early)' if run.stopped else ''}. "
               f"{report.n_wrong} misclassified" + (f"; most confused: {confused}." if confused else "."))
    note = spec.validation_note
    return (curve_plot(run.points, title=run.title, validation_note=note), summary,
            plots.confusion_html(report.confusion, report.classes), plots.mistakes_html(report.mistakes))


def compare_plot(runs: list[projects.Run]) -> Any:
    """The runs' held-out accuracy overlaid, as the Compare runs plot's value."""
    return plots.chart(plots.compare_spec([(r.title, r.points) for r in runs]))


def compare_views(runs: list[projects.Run], picked: int | None = None, figure: bool = True) -> tuple[Any, ...]:
    """The runs table, the runs' curves overlaid (None without `figure`), and the run menu (`picked`,
    else the latest, chosen)."""
    menu = gr.Dropdown(choices=[(r.title, str(r.number)) for r in reversed(runs)],
                       value=str(picked if picked is not None else runs[-1].number) if runs else None)
    compare = compare_plot(runs) if figure else None
    return runs_table(runs), compare, menu


KEEP = object()   # a `Shown` field for a view the step leaves as it is


class Shown(NamedTuple):
    """What one step of a training run shows, in /train's output order."""

    curves: Any = KEEP
    status: Any = KEEP
    summary: Any = KEEP
    confusion: Any = KEEP
    mistakes: Any = KEEP
    runs: Any = KEEP       # the runs table
    compare: Any = KEEP    # the runs' curves overlaid
    menu: Any = KEEP       # the run menu

    def outputs(self) -> tuple[Any, ...]:
        """The values for Gradio: gr.skip() where the view stays as it is."""
        return tuple(gr.skip() if v is KEEP else v for v in self)


@takes_settings
def train(dataset: str, settings: Settings, request: gr.Request | None = None, poll_seconds: float = 1.0):
    """Train a model, streaming what the tab shows (`Shown`): the curves at each point, the status at
    least every `poll_seconds`, everything at the end. Settings left None take the best preset's values."""
    try:
        config = settings.config(dataset)
    except ValueError as e:
        raise gr.Error(str(e)) from None
    require_data(dataset)
    try:
        pid = models.project_of(request)
    except projects.ProjectError as e:
        raise gr.Error(str(e)) from None
    session = models.SESSIONS.edit(session_id(request))
    session.stop = WORKER.stop
    label = presets.name_of(config) or "custom"
    run_id, number = projects.start_run(pid, dataset, label, config)
    title = f"#{number} {label} · {dataset}"
    points: list[dict[str, Any]] = []
    saved = False
    try:
        job = train_worker.Job(config, str(models.DATA_DIR), label, poll_seconds=poll_seconds)
        with contextlib.closing(WORKER.run(job)) as messages:
            started, recorded, last, facts, finished = time.perf_counter(), time.perf_counter(), None, None, None
            for message in messages:
                kind = message[0]
                if kind == "status":
                    yield Shown(status=message[1]).outputs()
                elif kind == "started":
                    facts = message[1]
                    # The last run's report goes (it stays in the run menu), so it never passes for this one's.
                    yield Shown(curve_plot([], title=title, validation_note=facts.validation_note),
                                f"Starting run #{number} ({label}): {dataset} on {facts.device}, "
                                f"{facts.train_rows:,} training rows, model {config.hidden or 'linear'}...",
                                summary="", confusion="", mistakes="").outputs()
                    started = recorded = time.perf_counter()
                elif kind == "progress":
                    yield Shown(status=_status(config, facts.device, *message[1:], last, started)).outputs()
                elif kind == "point":
                    last = message[1]
                    points.append(vars(last))
                    if time.perf_counter() - recorded > RECORD_SECONDS:   # what stays if this process dies
                        projects.record(run_id, points, last.progress)
                        recorded = time.perf_counter()
                    step = round((last.progress - (last.epoch - 1)) * facts.steps_per_epoch)
                    yield Shown(curve_plot(points, title=title, validation_note=facts.validation_note),
                                _status(config, facts.device, last.epoch, step, facts.steps_per_epoch, last,
                                        started)).outputs()
                elif kind == "done":
                    finished = message[1]
        ckpt = checkpoint.from_bytes(finished.weights, source=f"run #{number}")
        try:
            projects.finish_run(run_id, points, Report.from_dict(finished.report), ckpt, finished.epochs_done,
                                finished.seconds, facts.device, finished.stopped)
        except projects.ProjectError as e:
            raise gr.Error(f"Run #{number} could not be kept: {e}", duration=None) from None
        saved = True
    except train_worker.TrainingFailed as e:
        if e.kind in ("data", "settings"):  # nothing trained: no run to keep
            projects.interrupt(run_id, points)
            saved = projects.delete_run(pid, number)
            raise gr.Error(str(e), duration=None) from None
        raise gr.Error(f"Run #{number} failed: {e}. Its curve so far is kept.", duration=None) from None
    finally:
        if not saved:  # the page went away, or training failed: keep the curve, say it has no model
            projects.interrupt(run_id, points)
        if session.stop == WORKER.stop:
            session.stop = None
    runs = projects.runs(pid)
    done = next(r for r in runs if r.id == run_id)
    curves, summary, confusion, mistakes = run_views(done)
    status = (f"Done: run #{number}, {trainer.epochs_text(finished.epochs_done)} in {_duration(finished.seconds)}, "
              f"device {facts.device}.")
    yield Shown(curves, status, summary, confusion, mistakes, *compare_views(runs, number)).outputs()


def project_runs(request: gr.Request) -> tuple[Any, ...]:
    """The project's runs as the page opens it: the table and the run menu (the latest chosen)."""
    table, _, menu = compare_views(projects.runs(projects.bound(session_id(request))), figure=False)
    return table, menu


def project_figures(request: gr.Request) -> tuple[Any, ...]:
    """The latest run's curves, summary, confusion matrix and mistakes, and the runs' curves overlaid."""
    runs = projects.runs(projects.bound(session_id(request)))
    return (*run_views(runs[-1] if runs else None), compare_plot(runs))


def data_status(dataset: str) -> str:
    """What the tab says about a data set before a run: ready, or where to put it."""
    if dataset not in data.DATASETS:
        return f"Unknown data set {dataset!r}."
    spec = data.DATASETS[dataset]
    if isinstance(spec.source, data.GeneratedHands):
        return f"Ready: {spec.title}, made when a run starts (real photos are not trained on)."
    if data.is_available(dataset, models.DATA_DIR):
        return f"Ready: {spec.title} found in `{models.DATA_DIR.resolve()}` (set `{data.DATA_DIR_ENV}` for another)."
    if spec.source.downloadable:
        return f"Not on disk yet: Start will try to download it. {data.where_to_put(dataset, models.DATA_DIR)}"
    return f"⚠️ Not available. {data.where_to_put(dataset, models.DATA_DIR)}"


def stop_training(request: gr.Request) -> str:
    session = models.SESSIONS.get(session_id(request))
    if session is None or session.stop is None:
        return "No training run of yours is in progress."
    session.stop()
    return "Stopping after the current batch..."


def _session_run(number: str | None, request: gr.Request | None, model: bool = True) -> projects.Run:
    """The project's run `number` (the latest if empty); with `model`, one that has a model."""
    pid = projects.bound(session_id(request))
    runs = projects.runs(pid)
    run = projects.pick(runs, number)
    if run is None:
        raise gr.Error("Train a model first." if not runs else
                       f"There is no run #{number} in this project (it keeps the last {models.MAX_RUNS}).")
    if model and not run.has_model:
        raise gr.Error(f"Run #{run.number} has no model: it was interrupted before it finished.")
    return run


def pick_run(number: str | None, request: gr.Request) -> tuple[Any, ...]:
    """Show run `number`'s curves, summary, confusion matrix and mistakes."""
    return run_views(_session_run(number, request, model=False))


def use_model(number: str | None = None, request: gr.Request | None = None) -> str:
    """Make run `number` the model this session's tab reads its data set with."""
    run = _session_run(number, request)
    name = run.config.dataset
    where = models.where_read(name)
    if where is None:
        return f"No tab classifies {name}; save or download the model instead."
    projects.use_run(models.project_of(request), name, run)
    return f"Your {where[0]} now {where[1]} run {run.title}; everyone else keeps their own."


def share_run(number: str | None = None, request: gr.Request | None = None) -> str:
    """Share run `number` (the latest if empty) with your class: classmates can then classify with it
    in their own tabs (it stays in your project)."""
    run = _session_run(number, request)
    pid = projects.bound(session_id(request))
    found = classroom.membership(pid)
    if pid is None or found is None:
        return "Join a class first (the Class tab); then you can share a run with it."
    classroom.share(pid, run.number)
    where = models.where_read(run.config.dataset)
    if where is None:
        return f"Run {run.title} is shared with {found[0].name}; no tab reads {run.config.dataset}, so it is for show."
    return f"Run {run.title} is shared with {found[0].name}: classmates can pick it in their {where[0]}'s Model menu."


def delete_run(number: str | None, request: gr.Request) -> tuple[Any, ...]:
    """Delete the project's run `number` (its model too; where a tab used it, the tab goes back to the
    shipped model). Returns the message, then the views of the latest run left."""
    run = _session_run(number, request, model=False)
    pid = projects.bound(session_id(request))
    assert pid is not None   # it has a run
    if not projects.delete_run(pid, run.number):
        raise gr.Error(f"Run #{run.number} is still training: stop it first.")
    runs = projects.runs(pid)
    return (f"Deleted run #{run.number}.", *run_views(runs[-1] if runs else None), *compare_views(runs))


def restore_shipped(dataset: str, request: gr.Request) -> str:
    """Make the shipped model the one this session's tab reads `dataset` with again."""
    where = models.where_read(dataset) if dataset in data.DATASETS else None
    if where is None:
        return f"No tab classifies {dataset}."
    pid = projects.bound(session_id(request))
    if pid is not None:
        projects.choose(pid, dataset, "")   # its own model stays on the Model menu
    return f"Your {where[0]} {where[1]} {data.get_spec(dataset).shipped_title} again."


def upload_model(file: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Bring a weights file back (downloaded from this app, or made by train.py): checked (its metadata,
    every tensor's shape, its size; safetensors hold no code), then one of this project's runs, in use
    in its tab. Returns what the tab shows: the message, then /train's views for the run."""
    if not file:
        raise gr.Error("Choose a weights file (.safetensors) to bring back.")
    name = Path(file).name
    try:
        ckpt = checkpoint.load(file, max_bytes=models.MAX_UPLOAD_BYTES)
    except checkpoint.CheckpointError as e:
        # The message names the server's temporary copy: say the file's own name instead.
        raise gr.Error(f"This file cannot be brought back: {str(e).replace(str(file), name)}.") from None
    if ckpt.dataset not in data.DATASETS:
        raise gr.Error(f"{name} is a model of {ckpt.dataset!r}, a data set this app does not have "
                       f"({', '.join(data.DATASETS)}).")
    try:
        pid = models.project_of(request)
        run = projects.add_run(pid, "uploaded", _config_of(ckpt), _report_of(ckpt), ckpt,
                               float(ckpt.meta.get("train_seconds") or 0.0), str(ckpt.meta.get("device") or ""))
    except projects.ProjectError as e:
        raise gr.Error(f"{name} cannot be brought back: {e}") from None
    used = use_model(str(run.number), request) if models.where_read(ckpt.dataset) else ""
    message = f"Brought back {name} as run #{run.number}. {used}".strip()
    curves, summary, confusion, mistakes = run_views(run)
    views = compare_views(projects.runs(pid), run.number)
    return (message, *Shown(curves, KEEP, summary, confusion, mistakes, *views).outputs())


def _config_of(ckpt: checkpoint.Checkpoint) -> trainer.TrainConfig:
    """The settings a weights file says it was trained with, or (where it says none that are valid here)
    its data set's recipe with the file's own layers."""
    said = ckpt.meta.get("train_config")
    if isinstance(said, dict):
        try:
            return trainer.TrainConfig(**{f.name: said[f.name] for f in fields(trainer.TrainConfig) if f.name in said})
        except (TypeError, ValueError):
            pass
    layers = ckpt.model.config
    return trainer.recipe(ckpt.dataset, hidden=list(layers.hidden), activation=layers.activation,
                          dropout=layers.dropout, batchnorm=layers.batchnorm)


def _report_of(ckpt: checkpoint.Checkpoint) -> Report | None:
    """A brought-back model's report on its data set's test set, where the model's classes are the
    data set's and the set is on this server (None elsewhere)."""
    spec = data.get_spec(ckpt.dataset)
    if ckpt.classes != list(spec.classes) or not data.is_available(spec.name, models.DATA_DIR):
        return None
    try:
        x, y = data.load(spec.name, "test", models.DATA_DIR, download=False)
    except data.DataError:
        return None
    return build_report(ckpt.model, x, y, ckpt.classes, ckpt.normalization)


def free_name(name: str) -> str:
    """`name` if no weights file has it yet, else the first free `name-2`, `name-3`..."""
    candidate, n = name, 1
    while paths.weights_path(candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


_saving = threading.Lock()  # the room check and the move into weights/ happen as one step


def save_model(name: str, number: str | None = None, request: gr.Request | None = None) -> tuple[str, str]:
    """Save run `number` into the server's weights/, where every session's model menu finds it:
    only when the app was started with saving on (`models.SAVING`), within its limits."""
    policy = models.SAVING
    if not policy.enabled:
        raise gr.Error("Saving into the server's weights/ folder is off on this server (its owner turns it on "
                       "with `python demo.py --save-to-weights`). Download the run instead.")
    run = _session_run(number, request)
    name = (name or "").strip().removesuffix(".safetensors")
    if not models.SAFE_NAME.match(name) or len(name) > 60:
        raise gr.Error("Name the file with letters, digits, - and _ only (up to 60 characters).")
    if name in data.DATASETS or name == "hand_locator":
        raise gr.Error(f"'{name}' is a shipped model; choose another name (train.py can replace it).")
    staged = Path(download_model(number, request))
    try:
        with _saving:
            saved = models.saved_files()
            used = sum(p.stat().st_size for p in saved)
            if len(saved) >= policy.max_files or used + staged.stat().st_size > policy.max_bytes:
                raise gr.Error(f"weights/ holds {len(saved)} saved files ({used / 1e6:.0f} MB); this server keeps "
                               f"at most {policy.max_files} files and {policy.max_bytes / 1e6:.0f} MB. "
                               "Download the run instead.")
            # Never over another file: someone else's saved model may have this name.
            saved_as = free_name(name)
            path = paths.weights_path(saved_as)
            partial = path.with_name(f".{path.name}.tmp")  # a half-copied file is never on the menu
            shutil.copyfile(staged, partial)
            os.replace(partial, path)
    finally:
        staged.unlink(missing_ok=True)
    where = path.relative_to(paths.WEIGHTS_DIR.parent)
    message = (f"{name}.safetensors exists already, so run #{run.number} was saved as {where}."
               if saved_as != name else f"Saved run #{run.number} as {where}.")
    return message, str(path)


def download_model(number: str | None = None, request: gr.Request | None = None) -> str:
    """Run `number` as a weights file to download (Gradio serves it from its cache, which the app cleans)."""
    run = _session_run(number, request)
    return str(run.checkpoint.save(models.download_folder() / f"{run.config.dataset}-run{run.number}-{run.preset}"
                                                             ".safetensors"))


def download_onnx(number: str | None = None, request: gr.Request | None = None) -> str:
    """Run `number` as an ONNX file to download (`classifier.export`: runs anywhere without this code)."""
    run = _session_run(number, request)
    name = f"{run.config.dataset}-run{run.number}-{run.preset}"
    return str(export.checkpoint_to_onnx(run.checkpoint, models.download_folder() / f"{name}.onnx",
                                         f"run #{run.number} ({run.preset}) of this app's Train tab"))


@dataclass
class Form:
    """The settings column: the data set, the preset, every setting (SETTINGS order), Start and Stop."""

    dataset: gr.Dropdown
    preset: gr.Dropdown
    settings: list[gr.components.Component]
    start: gr.Button
    stop: gr.Button
    upload: gr.UploadButton


@dataclass
class Results:
    """The results column: what a run shows (`Shown`, in order), then what can be done with a run."""

    about: gr.Markdown
    shown: list[gr.components.Component]
    run: gr.Dropdown
    use: gr.Button
    restore: gr.Button
    name: gr.Textbox
    save: gr.Button
    download: gr.Button
    onnx: gr.Button
    message: gr.Markdown
    download_file: gr.DownloadButton
    file: gr.File
    forget: gr.Button
    share: gr.Button


def _form(v: dict[str, Any]) -> Form:
    with gr.Row():
        dataset = gr.Dropdown(list(data.DATASETS), value="digits", label="Data set", min_width=130)
        preset = gr.Dropdown([(p.title, p.name) for p in presets.PRESETS.values()], value=DEFAULT_PRESET,
                             label="Preset", elem_id="train-preset", min_width=160, scale=2)
    w: dict[str, gr.components.Component] = {}
    w["hidden"] = gr.Textbox(value=v["hidden"], label="Hidden sizes (comma separated; empty: linear)")
    w["epochs"] = gr.Slider(1, trainer.MAX_EPOCHS, value=v["epochs"], step=1, label="Epochs")
    with gr.Row():
        w["lr"] = gr.Number(value=v["lr"], label=f"Learning rate, <= {trainer.MAX_LR:g}", min_width=100)
        w["batch_size"] = gr.Dropdown(BATCH_SIZE_CHOICES, value=v["batch_size"], label="Batch size", min_width=80)
    with gr.Row():
        w["optimizer"] = gr.Dropdown(list(trainer.OPTIMIZERS), value=v["optimizer"], label="Optimizer",
                                     min_width=100)
        w["augment"] = gr.Checkbox(value=v["augment"], label="Augmentation (the data set's own)", min_width=100)
    with gr.Accordion("More settings", open=False):
        w["activation"] = gr.Textbox(value=v["activation"], label="Activation, or one per hidden layer "
                                     f"({', '.join(ACTIVATIONS)})")
        with gr.Row():
            w["dropout"] = gr.Number(value=v["dropout"], label="Dropout", min_width=80)
            w["batchnorm"] = gr.Checkbox(value=v["batchnorm"], label="BatchNorm", min_width=80)
        w["schedule"] = gr.Radio(list(trainer.SCHEDULES), value=v["schedule"], label="Learning-rate schedule")
        with gr.Row():
            w["weight_decay"] = gr.Number(value=v["weight_decay"], label="Weight decay", min_width=80)
            w["momentum"] = gr.Number(value=v["momentum"], label="Momentum (SGD)", min_width=80)
        with gr.Row():
            w["label_smoothing"] = gr.Number(value=v["label_smoothing"], label="Label smoothing", min_width=80)
            w["warmup"] = gr.Number(value=v["warmup"], label="Warm-up (one-cycle: share of the run)", min_width=80)
        w["method"] = gr.Radio([("backpropagation", "gradient"), ("nearest class mean", "nearest_mean")],
                               value=v["method"], label="Method")
        # Empty at first, filled as the page loads: the /train API's default is a widget's first
        # value, and an omitted value must mean the chosen data set's own (not digits' 0.5).
        w["outlier_exposure"] = gr.Number(value=None, label="Outlier exposure: weight of a flat answer for "
                                          "made-up outliers, for a better 'not sure' (0: off; data sets with drawn "
                                          "input only)", minimum=0, maximum=trainer.MAX_OUTLIER_EXPOSURE)
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="train-start", min_width=80)
        stop = gr.Button("Stop", variant="stop", elem_id="train-stop", min_width=80)
    # A model downloaded earlier (or made by train.py) comes back as a run of this project.
    upload = gr.UploadButton("Bring a model back (.safetensors)", file_types=[".safetensors"], size="sm",
                             elem_id="train-upload")
    return Form(dataset, preset, [w[k] for k in SETTINGS], start, stop, upload)


def _results(about: str) -> Results:
    # What the chosen preset is, above the results (the settings column has no room left).
    about_md = gr.Markdown(about, elem_id="train-preset-about")
    status = gr.Markdown(elem_id="train-status")
    # One result at a time, so the tab fits a 1440x900 window; the figures carry their own titles
    # (Gradio's label badges would cover their tops).
    with gr.Tabs():
        with gr.Tab("Curves"):
            # Drawn by the page (a point's value under the pointer): each update is the points, not a picture.
            curves = gr.Plot(show_label=False, elem_id="train-curves")
        with gr.Tab("Compare runs", elem_id="train-compare-tab"):
            compare = gr.Plot(show_label=False, elem_id="train-compare")
        with gr.Tab("Runs", elem_id="train-runs-tab"):
            table = gr.Dataframe(headers=RUN_COLUMNS, interactive=False, show_label=False, max_height=300,
                                 elem_id="train-runs")
            forget = gr.Button("Delete the run chosen under Run (below)", size="sm", elem_id="train-delete")
        with gr.Tab("Confusion matrix", elem_id="train-confusion-tab"):
            confusion = gr.HTML(elem_id="train-confusion", apply_default_css=False)
        with gr.Tab("Misclassified", elem_id="train-mistakes-tab"):
            mistakes = gr.HTML(elem_id="train-mistakes", apply_default_css=False)
    summary = gr.Markdown(elem_id="train-summary")
    with gr.Row(equal_height=True):
        run = gr.Dropdown([], value=None, label="Run", elem_id="train-run", min_width=120, scale=2)
        use = gr.Button("Use it", elem_id="train-use", min_width=70, size="md")
        share = gr.Button("Share with class", elem_id="train-share", min_width=90, size="md")
        restore = gr.Button("Back to the shipped model", elem_id="train-restore", min_width=120, size="md")
        name = gr.Textbox(value="my-model", label="Save in weights/ as", scale=2, min_width=100)
        save = gr.Button("Save", min_width=60, size="md")
        download = gr.Button("Download", min_width=90, size="md")
        onnx = gr.Button("ONNX", min_width=70, size="md", elem_id="train-onnx")
    message = gr.Markdown(elem_id="train-message")
    # Downloads land here, unseen; the page then clicks it, so one click on Download starts the
    # browser's download.
    download_file = gr.DownloadButton(visible="hidden", elem_id="train-download")
    file = gr.File(label="Weights file", interactive=False, height=80, visible=False, elem_id="train-file")
    shown = [curves, status, summary, confusion, mistakes, table, compare, run]
    return Results(about_md, shown, run, use, restore, name, save, download, onnx, message, download_file, file,
                   forget, share)


def _wire(demo: gr.Blocks, form: Form, res: Results, outlier_exposure: float) -> None:
    curves, status, summary, confusion, mistakes = res.shown[:5]
    inputs = [form.dataset, *form.settings]
    # Settings are checked first, so a typo leaves the last run's results on the page; once a run
    # starts, the earlier run's messages and file go, so nothing old passes for the new run's.
    started = form.start.click(one_run_at_a_time, None, None, api_visibility="private").success(
        check_settings, inputs, None, api_visibility="private")
    started.success(lambda: ("", gr.File(None, visible=False)), None, [res.message, res.file],
                    api_visibility="private")
    started.success(train, inputs, res.shown, api_name="train", concurrency_id="train", concurrency_limit=1)
    # What only the page uses is off the API page (still callable): the public set is classify, train,
    # use, save, teach, download and bring back.
    page_only = {"api_visibility": "undocumented"}
    form.stop.click(stop_training, None, status, api_name="stop_training", concurrency_limit=None, **page_only)
    form.dataset.change(data_status, form.dataset, status, api_visibility="private")
    for changed in (form.dataset.change, form.preset.input):
        changed(preset_widgets, [form.preset, form.dataset], [res.about, *form.settings], api_visibility="private")
    res.run.input(pick_run, res.run, [curves, summary, confusion, mistakes], api_name="pick_run", **page_only)
    res.use.click(use_model, res.run, res.message, api_name="use_model")
    res.share.click(share_run, res.run, res.message, api_name="share_run")
    res.forget.click(delete_run, res.run, [res.message, res.shown[0], *res.shown[2:]],
                     api_name="delete_run", **page_only)
    res.restore.click(restore_shipped, form.dataset, res.message, api_name="restore_shipped", **page_only)
    # The file box shows only once there is a file in it, so an empty box never pushes the results down.
    fetch = {"fn": None, "js": assets.download_js("train-download"), "api_visibility": "private"}
    show_file = {"fn": lambda: gr.File(visible=True), "inputs": None, "outputs": res.file,
                 "api_visibility": "private"}
    res.save.click(save_model, [res.name, res.run], [res.message, res.file], api_name="save_model").success(
        **show_file)
    res.download.click(download_model, res.run, res.download_file, api_name="download_model").success(**fetch)
    form.upload.upload(upload_model, form.upload, [res.message, *res.shown], api_name="upload_model")
    res.onnx.click(download_onnx, res.run, res.download_file, api_name="download_onnx", concurrency_id="export",
                   concurrency_limit=1).success(**fetch)
    table, compare, menu = res.shown[5:]
    project_panel.on_project(project_runs, [table, menu])
    project_panel.on_project(project_figures, [curves, summary, confusion, mistakes, compare], figures=True)
    demo.load(data_status, form.dataset, status, api_visibility="private")
    # Saving into weights/ shows only where the person running the app turned it on.
    demo.load(lambda: (gr.Textbox(visible=models.SAVING.enabled), gr.Button(visible=models.SAVING.enabled)), None,
              [res.name, res.save], api_visibility="private")
    demo.load(lambda: outlier_exposure, None, form.settings[SETTINGS.index("outlier_exposure")],
              api_visibility="private")


def build(demo: gr.Blocks) -> None:
    """The Train tab: the settings on the left, the run's results and what to do with it on the right."""
    with gr.Tab("Train"):
        # One line: the data directory is in the status below it (`data_status`).
        gr.Markdown(f"Train an MLP and watch it learn. Your project keeps your last {models.MAX_RUNS} runs. One run "
                    "trains at a time on this server; yours shows its place in the queue.")
        about, *values = preset_widgets(DEFAULT_PRESET, "digits")
        v = dict(zip(SETTINGS, values, strict=True))
        with gr.Row():
            with gr.Column(scale=1):
                form = _form(v)
            with gr.Column(scale=3):
                res = _results(about)
        _wire(demo, form, res, v["outlier_exposure"])
