"""The training loop shared by `train.py`, the app's Train tab and teaching, and the options it takes.

`TrainConfig` validates every option once, against the module-level choices and limits that
`train.py`'s flags and the app's widgets are built from. Whole data sets live on the training
device as uint8; each batch is gathered, augmented and normalized there, so no DataLoader,
worker process or per-sample Python runs. `Trainer.fit()` is a generator of per-epoch metrics
that stops cleanly between batches when asked; `Trainer.report()` and `Trainer.checkpoint()`
give the test report and a servable weights object. Randomness comes only from the trainer's
own generators, never torch's process-wide one, so runs in other threads cannot disturb it.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F

from .. import data as datamod
from ..models import checkpoint
from ..models.forward import logits as batched_logits
from ..models.mlp import MLP, MLPConfig
from ..models.preprocess import normalize
from .report import Report, build_report

# A run's last step: the trained model (a CPU copy, in eval mode) and its metadata, the data set, its
# splits and the outlier exposure applied -> a checkpoint ready to serve (`training.finish.finish`
# adds its "not sure"). The caller chooses it: the loop itself needs none of what finishing reads.
Finish = Callable[[MLP, dict[str, Any], datamod.DatasetSpec, datamod.Splits, float], checkpoint.Checkpoint]

# The choices and limits of every option: TrainConfig checks them, train.py and the app offer them.
OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("onecycle", "cosine", "constant")
PRECISIONS = ("fp32", "bf16")
# "gradient": backpropagation; "nearest_mean": no training, each class's mean image (a baseline).
METHODS = ("gradient", "nearest_mean")
MAX_EPOCHS = 200
BATCH_SIZE_RANGE = (8, 8192)
MAX_LR = 1.0
MAX_HIDDEN_LAYERS = 6
MAX_HIDDEN_SIZE = 4096
MAX_OUTLIER_EXPOSURE = 10.0
OUTLIER_SHARE = 0.5     # outliers per training row in a batch, with outlier exposure


def parse_hidden(text: str | Sequence[int]) -> list[int]:
    """'1024, 1024' -> [1024, 1024]; '' -> [] (a linear model). Sizes are checked by TrainConfig."""
    if not isinstance(text, str):
        return [int(v) for v in text]
    try:
        return [int(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise ValueError(f"Hidden sizes must be whole numbers separated by commas, e.g. 1024,1024 "
                         f"(got {text!r}).") from None


def parse_activation(text: str | Sequence[str]) -> str | list[str]:
    """'relu' -> 'relu'; 'relu, tanh' -> ['relu', 'tanh'] (one per hidden layer); one name said for
    every layer ('relu, relu') is that name. Names and counts are checked by TrainConfig."""
    names = [a for a in re.split(r"[,\s]+", text.strip().lower()) if a] if isinstance(text, str) else list(text)
    return names[0] if len(set(names)) == 1 else names


def in_words(value: Any, sep: str = ", ") -> str:
    """A setting as the app's text fields and the CLI's help write it: a list's items joined by `sep`."""
    return sep.join(map(str, value)) if isinstance(value, list) else str(value)


def trained_outlier_exposure(train_config: dict[str, Any]) -> float:
    """The outlier exposure a run with these settings (`TrainConfig.to_dict`, as weights files record
    them) applied: none for the nearest-mean baseline, which is not trained."""
    method = train_config.get("method", "gradient")
    return float(train_config.get("outlier_exposure", 0.0)) if method == "gradient" else 0.0


@dataclass
class TrainConfig:
    dataset: str = "digits"
    hidden: list[int] = field(default_factory=lambda: [1024, 1024])
    activation: str | list[str] = "relu"
    dropout: float = 0.2
    batchnorm: bool = True
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.05
    optimizer: str = "adamw"        # OPTIMIZERS; sgd is with momentum
    momentum: float = 0.9
    schedule: str = "onecycle"      # SCHEDULES
    warmup: float = 0.15            # onecycle: share of the run with a rising learning rate
    augment: bool = True
    label_smoothing: float = 0.0
    # Outlier exposure: the weight of a loss that pushes the model's answer for made-up outliers
    # (`InputKind.outlier_pool`, through the data set's own kind of input) towards a flat one, so
    # the "not sure" detector can tell them apart; 0: none. Each batch then has half as many
    # outliers beside its rows.
    outlier_exposure: float = 0.0
    # "bf16": forward pass in bfloat16 autocast (weights and optimizer stay fp32): faster steps on
    # CPUs with AVX512-BF16 and on recent GPUs; "fp32" is the reference.
    precision: str = "fp32"
    method: str = "gradient"        # METHODS
    seed: int = 0
    device: str = "auto"
    val_fraction: float | None = None
    max_batches: int | None = None  # per epoch; for --dry-run

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError, with a message a user can act on, for any option out of range."""
        spec = datamod.get_spec(self.dataset)
        if len(self.hidden) > MAX_HIDDEN_LAYERS or any(
                not isinstance(s, int) or not 1 <= s <= MAX_HIDDEN_SIZE for s in self.hidden):
            raise ValueError(f"Hidden sizes: give up to {MAX_HIDDEN_LAYERS} layer sizes, each 1..{MAX_HIDDEN_SIZE}, "
                             f"or none for a linear model (got {self.hidden}).")
        if self.method == "nearest_mean" and self.hidden:
            raise ValueError("The nearest-class-mean baseline has no hidden layers: leave the hidden sizes empty.")
        self.model_config().activations()  # raises for unknown names or counts
        if self.outlier_exposure and (spec.kind is None or not spec.kind.makes_outliers):
            raise ValueError(f"Outlier exposure needs outliers made for the data set's kind of input; {self.dataset} "
                             "has none (it is for data sets of drawings).")
        checks = [  # (field, valid?, what it must be)
            ("epochs", 1 <= self.epochs <= MAX_EPOCHS, f"Epochs must be 1..{MAX_EPOCHS}"),
            ("batch_size", BATCH_SIZE_RANGE[0] <= self.batch_size <= BATCH_SIZE_RANGE[1],
             "Batch size must be {}..{}".format(*BATCH_SIZE_RANGE)),
            ("lr", 0 < self.lr <= MAX_LR, f"Learning rate must be in (0, {MAX_LR:g}]"),
            ("weight_decay", self.weight_decay >= 0, "Weight decay must be 0 or more"),
            ("dropout", 0 <= self.dropout < 1, "Dropout must be in [0, 1)"),
            ("momentum", 0 <= self.momentum < 1, "Momentum must be in [0, 1)"),
            ("warmup", 0 < self.warmup < 1, "Warmup must be in (0, 1)"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "Label smoothing must be in [0, 1)"),
            ("outlier_exposure", 0 <= self.outlier_exposure <= MAX_OUTLIER_EXPOSURE,
             f"Outlier exposure must be in [0, {MAX_OUTLIER_EXPOSURE:g}]"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"Optimizer must be one of {', '.join(OPTIMIZERS)}"),
            ("schedule", self.schedule in SCHEDULES, f"Schedule must be one of {', '.join(SCHEDULES)}"),
            ("precision", self.precision in PRECISIONS, f"Precision must be one of {', '.join(PRECISIONS)}"),
            ("method", self.method in METHODS, f"Method must be one of {', '.join(METHODS)}"),
            ("val_fraction", self.val_fraction is None or 0 < self.val_fraction < 1,
             "Validation fraction must be in (0, 1)"),
            ("max_batches", self.max_batches is None or self.max_batches >= 1, "max_batches must be 1 or more"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {getattr(self, name)!r}).")

    @property
    def trained_outlier_exposure(self) -> float:
        """The outlier exposure training applies (`trained_outlier_exposure`)."""
        return trained_outlier_exposure(self.to_dict())

    def model_config(self) -> MLPConfig:
        """The model this config trains: its data set says how many numbers it reads and classes it has."""
        spec = datamod.get_spec(self.dataset)
        return MLPConfig(hidden=list(self.hidden), activation=self.activation, dropout=self.dropout,
                         batchnorm=self.batchnorm, in_features=spec.in_features, n_classes=len(spec.classes))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overridden(config: TrainConfig, **overrides: Any) -> TrainConfig:
    """`config` with the fields in `overrides` replaced, ignoring those given as None (a flag or
    widget left empty), and validated again."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


def recipe(dataset: str, **overrides: Any) -> TrainConfig:
    """A data set's default recipe (its spec's `recipe`), `overridden`."""
    return overridden(TrainConfig(dataset=dataset, **datamod.get_spec(dataset).recipe), **overrides)


def recipe_defaults(name: str) -> str:
    """A field's default in words, per data set where the recipes differ: for --help."""
    values = {d: in_words(getattr(recipe(d), name), ",") for d in datamod.DATASETS}
    if len(set(values.values())) == 1:
        return f"default {next(iter(values.values()))}"
    return "default " + ", ".join(f"{d} {v}" for d, v in values.items())


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available")
    return dev


def epochs_text(n: float) -> str:
    """'1 epoch', '3 epochs', '2.4 epochs'."""
    if float(n).is_integer():
        return f"{int(n)} epoch" + ("" if int(n) == 1 else "s")
    return f"{n:.2f}".rstrip("0") + " epochs"


@dataclass
class EpochMetrics:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float
    samples_per_sec: float
    lr: float
    stopped: bool = False
    # Epochs done so far, counting the part of a stopped epoch (2.4 = stopped 40% into epoch 3).
    progress: float = 0.0
    # The test set's figures, tracked where the data set's validation split flatters (its spec says so).
    test_loss: float | None = None
    test_acc: float | None = None
    # A point within the epoch (the curves' early points); train loss and accuracy are over the
    # epoch's batches so far.
    partial: bool = False
    # Seconds since the run started (training and evaluations), at the end of this point's evaluation.
    elapsed: float = 0.0

    def summary(self) -> str:
        test = "" if self.test_acc is None else f"test loss {self.test_loss:.4f} acc {self.test_acc:.4f}  "
        return (f"epoch {self.epoch}/{self.epochs}  train loss {self.train_loss:.4f} acc {self.train_acc:.4f}  "
                f"val loss {self.val_loss:.4f} acc {self.val_acc:.4f}  {test}{self.seconds:.1f}s  "
                f"{self.samples_per_sec:,.0f} samples/s" + (f"  (stopped after {epochs_text(self.progress)})"
                                                            if self.stopped else ""))


class Trainer:
    """Trains one MLP on one data set. Create, then iterate `fit()`."""

    def __init__(self, config: TrainConfig, splits: datamod.Splits | None = None,
                 data_dir: str | os.PathLike[str] | None = None,
                 stop_event: threading.Event | None = None, points_per_epoch: int | None = None,
                 finish: Finish | None = None, classes: Sequence[str] | None = None,
                 start: MLP | None = None, start_classes: bool = True) -> None:
        """`points_per_epoch`: curve points per epoch, the last at its end; None: enough for a curve
        from the first seconds (see `_point_steps`); 1: epoch ends only (no evaluations mid-epoch).
        `finish`: what makes `checkpoint()`'s model servable (None: the model and its metadata only).
        `classes`: the labels' names where they are not the data set's own (a person's taught signs);
        `start`: a model whose weights training starts from (its classes first among `classes`; with
        `start_classes` False, its hidden layers only)."""
        self.config = config
        self.finish = finish
        self.points_per_epoch = points_per_epoch
        self.spec = datamod.get_spec(config.dataset)
        self.classes = tuple(classes or self.spec.classes)
        self.device = resolve_device(config.device)
        self.stop_event = stop_event or threading.Event()
        if splits is None:
            splits = datamod.load_splits(config.dataset, data_dir, config.val_fraction)
        self.splits = splits
        dev = self.device
        self.train_x, self.train_y = splits.train_x.to(dev), splits.train_y.to(dev)
        self.val_x, self.val_y = splits.val_x.to(dev), splits.val_y.to(dev)
        # Batch order and augmentation draw from one generator, initial weights and dropout from
        # another. On a CPU the second is the generator that seeded the weights, continued: the shipped
        # weights were made with this stream, so `train.py <set>` reproduces them.
        self.generator = torch.Generator(device=dev).manual_seed(config.seed)
        init_generator = torch.Generator().manual_seed(config.seed)
        self.model_config = replace(config.model_config(), n_classes=len(self.classes))
        model = MLP(self.model_config, generator=init_generator)
        if start is not None:
            model.start_from(start, classes=start_classes)
        self.model = model.to(dev)
        self.model.set_dropout_generator(
            init_generator if dev.type == "cpu" else torch.Generator(device=dev).manual_seed(config.seed))
        self.augment_config = self.spec.augment if config.augment else None
        # Without augmentation every epoch feeds the same inputs: normalize them once, not per batch.
        self.train_inputs = (normalize(self.train_x, self.spec.normalization) if self.augment_config is None
                             else None)
        # Made once per process and kind of input, then shared by every run.
        self.outliers = (self.spec.kind.outlier_pool().to(dev)
                         if config.trained_outlier_exposure and self.spec.kind is not None else None)
        self.history: list[EpochMetrics] = []   # one per epoch (the last may be a stopped one)
        self.points: list[EpochMetrics] = []    # the curves: the epochs and the points within them
        self._run_start = time.perf_counter()   # reset when run() starts
        n = len(self.train_x)
        if n == 0:
            raise ValueError("no training rows")
        self.steps_per_epoch = math.ceil(n / config.batch_size)
        if config.max_batches:
            self.steps_per_epoch = min(self.steps_per_epoch, config.max_batches)
        self.optimizer = self._make_optimizer()
        self.scheduler = self._make_scheduler()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        # No weight decay on biases and BatchNorm parameters.
        decay = [p for p in self.model.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.model.parameters() if p.ndim < 2]
        groups = [{"params": decay, "weight_decay": c.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        # Fused kernels update all parameters in one pass, far faster on a CPU than a loop over tensors.
        if c.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=c.lr, fused=True)
        return torch.optim.SGD(groups, lr=c.lr, momentum=c.momentum, fused=True)

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LRScheduler | None:
        c = self.config
        total = c.epochs * self.steps_per_epoch
        if c.schedule == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=c.lr, total_steps=total,
                                                       pct_start=c.warmup)
        if c.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total)
        return None  # "constant"

    def _inputs(self, idx: torch.Tensor) -> torch.Tensor:
        """The model's inputs for the training rows `idx`: augmented (from the trainer's generator) and normalized."""
        if self.train_inputs is not None:
            return self.train_inputs[idx]
        return self._prepare(self.train_x[idx])

    def _prepare(self, rows: torch.Tensor) -> torch.Tensor:
        """Rows (uint8 images, or hands' landmarks) -> the model's inputs: augmented as the data set's
        rows are (if at all), normalized."""
        x = rows.float().div_(255.0) if rows.dtype == torch.uint8 else rows.float()
        if self.augment_config is not None:
            x = self.augment_config(x, self.generator)
        return normalize(x, self.spec.normalization)

    def _loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss to minimize, the rows' cross-entropy, the rows' logits) of one batch. With outlier
        exposure, a share of outliers goes through the same forward pass (so BatchNorm sees both) and
        adds the cross-entropy of their answers against the flat distribution, weighted (Hendrycks et
        al., 2019)."""
        c = self.config
        if self.outliers is None:
            logits = self.model(x)
            ce = F.cross_entropy(logits, y, label_smoothing=c.label_smoothing)
            return ce, ce, logits
        n_out = max(1, round(len(y) * OUTLIER_SHARE))
        pick = torch.randint(len(self.outliers), (n_out,), device=self.device, generator=self.generator)
        both = self.model(torch.cat([x, self._prepare(self.outliers[pick])]))
        logits, out = both[:len(y)], both[len(y):]
        ce = F.cross_entropy(logits, y, label_smoothing=c.label_smoothing)
        flat = (torch.logsumexp(out, dim=1) - out.mean(dim=1)).mean()
        return ce + c.outlier_exposure * flat, ce, logits

    def _point_steps(self, epoch: int) -> set[int]:
        """Steps of `epoch` after which a mid-epoch curve point is taken. Automatically: at least 8
        points in a run and 5 in its first epoch, so a one-epoch run draws a curve too."""
        n = self.points_per_epoch or max(math.ceil(8 / self.config.epochs), 5 if epoch == 1 else 1)
        steps = self.steps_per_epoch
        return {round(steps * j / n) for j in range(1, n)} - {0, steps}

    def stop(self) -> None:
        """Ask the running loop to stop after the current batch."""
        self.stop_event.set()

    def fit(self, on_batch: Callable[[int, int], None] | None = None) -> Iterator[EpochMetrics]:
        """Train for the configured epochs, yielding metrics at each curve point: within an epoch
        (`partial`), at its end, and on a stop. `on_batch(step, steps)` is called after each batch."""
        if self.config.method == "nearest_mean":
            self._run_start = time.perf_counter()
            yield self._fit_class_means()
            return
        self._run_start = time.perf_counter()
        c = self.config
        n = len(self.train_x)
        for epoch in range(1, c.epochs + 1):
            self.model.train()
            start = time.perf_counter()
            paused = 0.0  # seconds spent on mid-epoch evaluations, not training
            perm = torch.randperm(n, device=self.device, generator=self.generator)
            loss_sum = torch.zeros((), device=self.device)
            correct = torch.zeros((), device=self.device, dtype=torch.long)
            seen = 0
            stopped = False
            step_count = 0
            point_steps = self._point_steps(epoch)
            for step in range(self.steps_per_epoch):
                if self.stop_event.is_set():
                    stopped = True
                    break
                idx = perm[step * c.batch_size:(step + 1) * c.batch_size]
                x = self._inputs(idx)
                y = self.train_y[idx]
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=c.precision == "bf16"):
                    loss, ce, logits = self._loss(x, y)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                loss_sum += ce.detach() * len(y)  # the curves' train loss: the rows' own
                correct += (logits.detach().argmax(1) == y).sum()
                seen += len(y)
                step_count += 1
                if on_batch is not None:
                    on_batch(step + 1, self.steps_per_epoch)
                if step_count in point_steps:
                    self._sync()
                    t0 = time.perf_counter()
                    m = self._metrics(epoch, step_count, loss_sum, correct, seen, t0 - start - paused, start,
                                      partial=True)
                    self.model.train()
                    paused += time.perf_counter() - t0
                    yield m
            self._sync()
            now = time.perf_counter()
            m = self._metrics(epoch, step_count, loss_sum, correct, seen, now - start - paused, start,
                              stopped=stopped)
            self.history.append(m)
            yield m
            if stopped:
                return

    def _sync(self) -> None:
        """Wait for the device's queued work, so that a clock read next counts it (a GPU runs ahead)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _metrics(self, epoch: int, steps_done: int, loss_sum: torch.Tensor, correct: torch.Tensor, seen: int,
                 train_seconds: float, epoch_start: float, stopped: bool = False,
                 partial: bool = False) -> EpochMetrics:
        """A curve point: the epoch's training figures so far, and the model evaluated now; `seconds`
        counts from `epoch_start` to the end of this evaluation, `samples_per_sec` training time only."""
        val_loss, val_acc, _ = self.evaluate(self.val_x, self.val_y)
        test_loss = test_acc = None
        if self.spec.validation_note:
            test_loss, test_acc, _ = self.evaluate(self.splits.test_x, self.splits.test_y)
        m = EpochMetrics(
            epoch=epoch, epochs=self.config.epochs,
            train_loss=float(loss_sum) / max(seen, 1), train_acc=float(correct) / max(seen, 1),
            val_loss=val_loss, val_acc=val_acc, seconds=time.perf_counter() - epoch_start,
            elapsed=time.perf_counter() - self._run_start,
            samples_per_sec=seen / train_seconds if train_seconds > 0 else 0.0,
            lr=self.optimizer.param_groups[0]["lr"], stopped=stopped,
            progress=epoch - 1 + steps_done / self.steps_per_epoch, test_loss=test_loss, test_acc=test_acc,
            partial=partial,
        )
        self.points.append(m)
        return m

    @torch.no_grad()
    def _fit_class_means(self) -> EpochMetrics:
        """The nearest-class-mean baseline, as the one Linear layer it is: for inputs x, the class c
        nearest to x has the largest x.m_c - |m_c|^2 / 2. Those scores times one scale (the one that
        gives the validation rows the lowest loss) are the logits, so the probabilities mean something."""
        start = time.perf_counter()
        n_classes = len(self.classes)
        sums = torch.zeros(n_classes, self.model_config.in_features, device=self.device)
        counts = torch.zeros(n_classes, device=self.device)
        for i in range(0, len(self.train_x), 8192):
            x = normalize(self.train_x[i:i + 8192], self.spec.normalization)
            y = self.train_y[i:i + 8192]
            sums.index_add_(0, y, x)
            counts += torch.bincount(y, minlength=n_classes)
        means = sums / counts.clamp(min=1).unsqueeze(1)
        layer = self.model.net[-1]
        layer.weight.copy_(means)
        layer.bias.copy_(-(means * means).sum(1) / 2)
        base = batched_logits(self.model, self.val_x, self.spec.normalization)
        y = self.val_y.cpu()
        scales = torch.logspace(-5, 1, 121)
        losses = torch.stack([F.cross_entropy(base * s, y) for s in scales])
        best = float(scales[int(losses.argmin())])
        layer.weight.mul_(best)
        layer.bias.mul_(best)
        seconds = time.perf_counter() - start
        train_loss, train_acc, _ = self.evaluate(self.train_x, self.train_y)
        m = self._metrics(1, self.steps_per_epoch, torch.tensor(train_loss * len(self.train_x)),
                          torch.tensor(train_acc * len(self.train_x)), len(self.train_x), seconds, start)
        self.history.append(m)
        return m

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float, torch.Tensor]:
        """Mean loss, accuracy and predicted class per row (on the CPU) of a labelled set."""
        return evaluate(self.model, images, labels, self.spec.normalization)

    def report(self) -> Report:
        """The test-set report of the model as trained so far."""
        return build_report(self.model, self.splits.test_x, self.splits.test_y, list(self.classes),
                            self.spec.normalization)

    @property
    def epochs_done(self) -> float:
        """Epochs trained, counting the part of a stopped epoch: 3 for a whole run of 3, 2.4 if stopped."""
        if not self.history:
            return 0
        p = round(self.history[-1].progress, 3)
        return int(p) if p.is_integer() else p

    def metadata(self, test_accuracy: float, **extra: Any) -> dict[str, Any]:
        """Weights-file metadata for the model as trained so far; `extra` adds facts (command...)."""
        c = self.config
        return self.spec.weights_meta(
            self.model_config, classes=list(self.classes), test_accuracy=round(test_accuracy, 4),
            n_test=len(self.splits.test_y),
            val_accuracy=round(self.history[-1].val_acc, 4) if self.history else None,
            epochs=self.epochs_done, seed=c.seed, device=str(self.device), train_config=c.to_dict(),
            augment=self.augment_config.to_dict() if self.augment_config else None, **extra,
        )

    def checkpoint(self, test_accuracy: float, **extra: Any) -> checkpoint.Checkpoint:
        """A CPU copy of the model as trained so far, in eval mode, with its metadata, finished by the
        trainer's `finish` (its "not sure") so that it is ready to serve or save."""
        # Its initial weights are replaced at once: drawn from a generator of its own, not torch's global one.
        model = MLP(self.model_config, generator=torch.Generator().manual_seed(0))
        model.load_state_dict({k: v.detach().cpu() for k, v in self.model.state_dict().items()})
        model.eval()
        meta = self.metadata(test_accuracy, **extra)
        if self.finish is None:
            return checkpoint.Checkpoint(model, meta)
        return self.finish(model, meta, self.spec, self.splits, self.config.trained_outlier_exposure)


def evaluate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
             normalization: dict[str, Any]) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and predictions (CPU tensor) of `model` on uint8 images."""
    out = batched_logits(model, images, normalization)
    y = labels.cpu()
    n = max(len(y), 1)
    preds = out.argmax(1)
    return float(F.cross_entropy(out, y, reduction="sum")) / n, float((preds == y).sum()) / n, preds


def seconds_per_step(config: TrainConfig, n_classes: int, steps: int = 6) -> float:
    """One training step of `config`, measured on its device: its model, batch size, augmentation and
    optimizer on random rows (the median of `steps` after two warm-up steps). With outlier exposure
    the step is scaled by the outliers' share of its rows (they share its forward and backward pass)."""
    rows = config.batch_size * (steps + 2)
    spec = datamod.get_spec(config.dataset)
    g = torch.Generator().manual_seed(0)
    fake = spec.rows.random(rows, g)
    labels = torch.arange(rows) % n_classes
    splits = datamod.Splits(fake, labels, fake[:n_classes], labels[:n_classes], fake[:n_classes], labels[:n_classes])
    probe = replace(config, epochs=1, max_batches=steps + 2, outlier_exposure=0.0, method="gradient")
    training = Trainer(probe, splits=splits, points_per_epoch=1)
    stamps: list[float] = []
    for _ in training.fit(on_batch=lambda step, total: stamps.append(time.perf_counter())):
        pass
    per_step = statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:], strict=False))
    return per_step * (1 + OUTLIER_SHARE if config.outlier_exposure else 1)


def estimate_seconds(config: TrainConfig, n_train: int, n_classes: int) -> float:
    """About how long `config` trains on `n_train` training rows on this machine: a measured step
    times the steps (the nearest-class-mean baseline has none: one pass over the rows)."""
    if config.method == "nearest_mean":
        return 1.0
    return seconds_per_step(config, n_classes) * math.ceil(n_train / config.batch_size) * config.epochs
