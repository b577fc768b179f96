"""classifier.training.trainer: learning, stopping, reproducibility, optimizer and schedule choices."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from classifier import data
from classifier.training import finish
from classifier.training.trainer import (
    TrainConfig,
    Trainer,
    epochs_text,
    parse_hidden,
    recipe,
    recipe_defaults,
    resolve_device,
)
from tests.conftest import synthetic_images


def _splits(n_train: int = 800, n_val: int = 200, n_test: int = 200, seed: int = 0) -> data.Splits:
    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = rng.integers(0, 10, size=n)
        return torch.from_numpy(synthetic_images(y, 10, seed=int(rng.integers(1e6)))), torch.from_numpy(y)

    return data.Splits(*part(n_train), *part(n_val), *part(n_test))


def _epochs(points) -> list:
    """The epoch-end metrics of a run (run() also yields points within each epoch)."""
    return [m for m in points if not m.partial]


def _config(**kw) -> TrainConfig:
    base = dict(dataset="digits", hidden=[32], epochs=4, batch_size=64, lr=1e-2, dropout=0.0, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_learns_a_separable_set() -> None:
    trainer = Trainer(_config(), splits=_splits())
    history = _epochs(trainer.fit())
    assert len(history) == 4
    assert history[-1].val_acc > 0.95
    assert history[-1].train_loss < history[0].train_loss
    report = trainer.report()
    assert report.accuracy > 0.95
    assert report.n == 200
    assert report.confusion.sum() == 200
    assert history[-1].samples_per_sec > 0


def test_bf16_autocast_learns() -> None:
    trainer = Trainer(_config(precision="bf16"), splits=_splits())
    assert _epochs(trainer.fit())[-1].val_acc > 0.95
    assert next(trainer.model.parameters()).dtype == torch.float32  # master weights stay fp32


@pytest.mark.parametrize("optimizer,schedule", [("sgd", "cosine"), ("adamw", "constant"), ("sgd", "onecycle")])
def test_other_optimizers_and_schedules_learn(optimizer: str, schedule: str) -> None:
    lr = 0.1 if optimizer == "sgd" else 1e-2
    trainer = Trainer(_config(optimizer=optimizer, schedule=schedule, lr=lr), splits=_splits())
    assert _epochs(trainer.fit())[-1].val_acc > 0.9


def test_same_seed_same_run_different_seed_different_run() -> None:
    splits = _splits()
    a = [m.train_loss for m in Trainer(_config(epochs=2, dropout=0.3), splits=splits).fit()]
    b = [m.train_loss for m in Trainer(_config(epochs=2, dropout=0.3), splits=splits).fit()]
    c = [m.train_loss for m in Trainer(_config(epochs=2, dropout=0.3, seed=1), splits=splits).fit()]
    assert a == b
    assert a != c


def test_runs_use_their_own_generators_only() -> None:
    """Training neither reads nor changes torch's process-wide random state (which other threads share)."""
    splits = _splits()

    def run(global_seed: int) -> tuple[list[float], torch.Tensor]:
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        t = Trainer(_config(epochs=2, dropout=0.3), splits=splits)
        losses = [m.train_loss for m in t.fit()]
        assert torch.equal(torch.get_rng_state(), before)
        return losses, next(t.model.parameters()).detach().clone()

    (a, wa), (b, wb) = run(1), run(2)
    assert a == b
    assert torch.equal(wa, wb)


def test_report_and_checkpoint() -> None:
    trainer = Trainer(_config(epochs=1, hidden=[4], lr=1e-3), splits=_splits(), finish=finish.finish)
    list(trainer.fit())
    report = trainer.report()
    assert report.n_wrong == report.n - int(report.confusion.trace()) > 0
    losses = [-np.log(e.probability) for e in report.mistakes]  # the loss of a wrong answer is at least this
    assert all(e.predicted != e.true for e in report.mistakes)
    assert len(report.mistakes) == min(32, report.n_wrong)
    assert losses
    assert all(0 < e.probability <= 1 for e in report.mistakes)
    pairs = report.most_confused(3)
    assert pairs
    assert pairs[0][2] == max(report.confusion[i, j] for i in range(10) for j in range(10) if i != j)
    ckpt = trainer.checkpoint(report.accuracy, command="test")
    assert ckpt.meta["test_accuracy"] == round(report.accuracy, 4)
    assert ckpt.meta["command"] == "test"
    assert ckpt.meta["preprocessing"]["user_input"] == "drawing"
    assert not ckpt.model.training
    assert ckpt.model is not trainer.model
    x = trainer.splits.test_x[:5]
    from classifier.serving.predict import logits
    served, trained = logits(ckpt.model, x, ckpt.normalization), logits(trainer.model, x, ckpt.normalization)
    # Bit for bit where both run on the CPU; a GPU's kernels round differently.
    assert torch.equal(served, trained) if trainer.device.type == "cpu" else torch.allclose(served, trained, atol=1e-4)


@pytest.mark.parametrize("how", ["event", "method"])
def test_stops_cleanly_between_batches(how: str) -> None:
    stop = threading.Event()
    trainer = Trainer(_config(epochs=50), splits=_splits(), stop_event=stop)
    batches = []

    def on_batch(step: int, total: int) -> None:
        batches.append(step)
        if len(batches) == 15:
            stop.set() if how == "event" else trainer.stop()

    history = _epochs(trainer.fit(on_batch=on_batch))
    assert history[-1].stopped
    assert len(batches) == 15  # not one batch more
    assert len(history) == 2  # 13 batches per epoch: stopped during the second
    assert 0.0 <= history[-1].val_acc <= 1.0


def test_a_stopped_run_counts_the_fraction_of_its_last_epoch() -> None:
    stop = threading.Event()
    trainer = Trainer(_config(epochs=5), splits=_splits(), stop_event=stop)  # 13 batches an epoch
    seen = []

    def on_batch(step: int, total: int) -> None:
        seen.append(step)
        if len(seen) == 13 + 5:
            stop.set()

    history = _epochs(trainer.fit(on_batch=on_batch))
    assert [round(m.progress, 3) for m in history] == [1.0, round(1 + 5 / 13, 3)]
    assert trainer.epochs_done == round(1 + 5 / 13, 3)
    assert "stopped after 1.38 epochs" in history[-1].summary()
    assert trainer.metadata(0.5)["epochs"] == trainer.epochs_done
    assert [epochs_text(n) for n in (1, 1.0, 3, 2.4, 0.25)] == ["1 epoch", "1 epoch", "3 epochs", "2.4 epochs",
                                                             "0.25 epochs"]


def test_test_curve_only_where_validation_flatters() -> None:
    digits = list(Trainer(_config(epochs=1), splits=_splits()).fit())
    assert digits[-1].test_acc is None
    signs = list(Trainer(_config(dataset="signs", epochs=1), splits=_splits()).fit())
    assert signs[-1].test_acc is not None
    assert 0 <= signs[-1].test_acc <= 1
    assert data.DATASETS["signs"].validation_note
    assert not data.DATASETS["digits"].validation_note


def test_max_batches_and_recipes() -> None:
    trainer = Trainer(_config(max_batches=2, epochs=1), splits=_splits())
    seen = []
    list(trainer.fit(on_batch=lambda s, t: seen.append(s)))
    assert seen == [1, 2]
    assert recipe("signs").epochs == 30
    assert recipe("digits", epochs=3).epochs == 3
    with pytest.raises(ValueError):
        recipe("cats")


@pytest.mark.parametrize("field,value,message", [
    ("optimizer", "adam2", "Optimizer must be one of adamw, sgd"),
    ("schedule", "warp", "Schedule must be one of"),
    ("precision", "fp8", "Precision must be one of fp32, bf16"),
    ("lr", 5.0, r"Learning rate must be in \(0, 1\] \(got 5.0\)"),
    ("lr", 0.0, "Learning rate"),
    ("epochs", 0, "Epochs must be 1..200"),
    ("batch_size", 4, "Batch size must be 8..8192"),
    ("hidden", [0], "Hidden sizes"),
    ("method", "magic", "Method must be one of gradient, nearest_mean"),
    ("hidden", [8] * 7, "Hidden sizes"),
    ("hidden", [5000], "Hidden sizes"),
    ("activation", "swish", "unknown activation"),
    ("dropout", 1.0, "Dropout"),
    ("dataset", "cats", "unknown data set 'cats'"),
])
def test_bad_settings_are_refused_by_the_config(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _config(**{field: value})
    with pytest.raises(ValueError, match=message):  # replace() builds a new config, checked the same way
        recipe(value, hidden=None) if field == "dataset" else recipe("digits", **{field: value})


def test_parse_hidden() -> None:
    assert parse_hidden("1024, 512 ,256") == [1024, 512, 256]
    assert parse_hidden([3, 4]) == [3, 4]
    assert parse_hidden(" ") == []  # a linear model
    with pytest.raises(ValueError, match="Hidden sizes must be whole numbers"):
        parse_hidden("12,abc")


def test_recipes_come_from_the_specs() -> None:
    for name, spec in data.DATASETS.items():
        r = recipe(name)
        assert all(getattr(r, k) == v for k, v in spec.recipe.items())
    assert recipe_defaults("epochs") == "default digits 60, fashion 40, signs 30, handshape 70"
    assert recipe_defaults("hidden") == ("default digits 1024,1024, fashion 1024,1024, signs 1024,1024, "
                                         "handshape 128,128")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    assert resolve_device("cpu").type == "cpu"


def test_curve_points_within_the_first_epoch() -> None:
    """A one-epoch run yields points within it (fractional epochs, rising), then its end; long runs
    get them in the first epoch only; points_per_epoch=1 takes none."""
    trainer = Trainer(_config(epochs=1), splits=_splits())  # 13 batches
    points = list(trainer.fit())
    assert [m.partial for m in points] == [True] * 7 + [False]
    progress = [m.progress for m in points]
    assert progress == sorted(progress)
    assert 0 < progress[0] < 0.2
    assert progress[-1] == 1
    assert trainer.points == points
    assert trainer.history == points[-1:]
    assert points[-1].val_acc > points[0].val_acc
    assert all(m.seconds <= points[-1].seconds for m in points)
    long = Trainer(_config(epochs=10, max_batches=10), splits=_splits())
    long_points = list(long.fit())
    assert sum(m.partial and m.epoch == 1 for m in long_points) == 4
    assert sum(m.partial for m in long_points) == 4
    assert not any(m.partial for m in Trainer(_config(epochs=1), splits=_splits(), points_per_epoch=1).fit())


def test_mid_epoch_points_do_not_change_the_run() -> None:
    splits = _splits()
    a = Trainer(_config(epochs=2, dropout=0.3), splits=splits)
    b = Trainer(_config(epochs=2, dropout=0.3), splits=splits, points_per_epoch=1)
    assert [m.train_loss for m in a.fit() if not m.partial] == [m.train_loss for m in b.fit()]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))


def test_nearest_class_mean_baseline() -> None:
    """No training: the one Linear layer scores each class by x.m - |m|^2/2, which ranks classes exactly
    as the distance to their mean images does."""
    splits = _splits()
    trainer = Trainer(_config(method="nearest_mean", hidden=[], epochs=1), splits=splits)
    (m,) = list(trainer.fit())
    assert not m.partial
    assert m.val_acc > 0.9
    assert trainer.epochs_done == 1
    from classifier.models.preprocess import normalize
    spec = data.DATASETS["digits"]
    x = normalize(splits.train_x, spec.normalization)
    means = torch.stack([x[splits.train_y == c].mean(0) for c in range(10)])
    test = normalize(splits.test_x, spec.normalization)
    nearest = torch.cdist(test, means).argmin(1)
    with torch.no_grad():
        assert torch.equal(trainer.model(test.to(trainer.device)).argmax(1).cpu(), nearest)
    assert trainer.report().accuracy == float((nearest == splits.test_y).float().mean())
    with pytest.raises(ValueError, match="no hidden layers"):
        _config(method="nearest_mean", hidden=[8])


def test_a_step_is_measured_on_this_machine() -> None:
    from classifier.training import presets, trainer

    assert trainer.seconds_per_step(presets.get("quick").config("digits"), 10) > 0


def test_the_expected_time_grows_with_the_recipe() -> None:
    """Measured in one run: the best recipe (60 epochs of a 1024-1024 net) takes far longer than quick
    (one epoch of 784-256-10)."""
    from classifier.training import presets, trainer

    quick = trainer.estimate_seconds(presets.get("quick").config("digits"), 54_000, 10)
    best = trainer.estimate_seconds(presets.get("best").config("digits"), 54_000, 10)
    assert best > 20 * quick


def _generated_hands(per_letter: int) -> data.Splits:
    """Small splits of generated hands (the handshape set's own rows, fewer of them)."""
    from classifier.data import handgen

    x, y = (torch.from_numpy(a) for a in handgen.generate(per_letter, seed=0))
    tx, ty = (torch.from_numpy(a) for a in handgen.generate(10, seed=1))
    return data.Splits(x, y, tx, ty, tx, ty)


@pytest.fixture(scope="module")
def hand_run() -> Trainer:
    from classifier.training import trainer

    run = Trainer(replace(trainer.recipe("handshape"), epochs=20, batch_size=64), splits=_generated_hands(40),
                  finish=finish.finish)
    list(run.fit())
    return run


def test_a_hand_shape_model_reads_the_63_landmark_numbers(hand_run: Trainer) -> None:
    assert hand_run.model_config.in_features == 63


def test_a_hand_shape_model_learns_the_letters_of_generated_hands(hand_run: Trainer) -> None:
    assert hand_run.report().accuracy > 0.8


def test_a_hand_shape_checkpoint_says_not_sure_by_its_data_sets_threshold(hand_run: Trainer) -> None:
    ckpt = hand_run.checkpoint(0.9)
    assert (ckpt.ood, ckpt.meta["not_sure_below"]) == (None, data.DATASETS["handshape"].not_sure_below)


def test_a_trained_hand_shape_checkpoint_serves_the_hand_signs_tab(hand_run: Trainer) -> None:
    from classifier.serving.predict import Predictor

    served = Predictor(hand_run.checkpoint(0.9), "run #1")
    hand = hand_run.splits.test_x[0].numpy()
    assert served.answer(hand).best[0] in data.SIGN_LETTERS


def test_a_hand_shape_report_shows_hands(hand_run: Trainer) -> None:
    assert {e.row.shape for e in hand_run.report().mistakes} <= {(63,)}


def test_a_hand_shape_step_is_measured_on_landmark_rows() -> None:
    from classifier.training import trainer

    assert trainer.seconds_per_step(trainer.recipe("handshape"), 24) > 0


def test_the_nearest_mean_baseline_makes_no_outliers(monkeypatch: pytest.MonkeyPatch) -> None:
    """It is not trained, so an outlier exposure in its config (the best preset's, given by the API)
    makes no outliers and does not choose its "not sure" scores."""
    from classifier.inputs import DRAWING
    from classifier.models import ood

    monkeypatch.setattr(DRAWING, "outlier_pool", lambda *a, **k: pytest.fail("outliers were made"))
    baseline = Trainer(_config(hidden=[], method="nearest_mean", outlier_exposure=0.5, epochs=1), splits=_splits(),
                       finish=finish.finish)
    list(baseline.fit())
    assert baseline.checkpoint(0.5).ood.scores == ood.DEFAULT_SCORES



# CUDA: the same loop on a GPU where there is one (skipped elsewhere; the device check runs them).
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_learns_on_cuda(precision: str) -> None:
    trainer = Trainer(_config(device="cuda", precision=precision), splits=_splits())
    assert _epochs(trainer.fit())[-1].val_acc > 0.95


@needs_cuda
def test_a_cuda_run_trains_on_the_gpu() -> None:
    trainer = Trainer(_config(device="auto", epochs=1), splits=_splits())
    assert next(trainer.model.parameters()).is_cuda


@needs_cuda
@pytest.mark.parametrize("dataset", ["signs", "handshape"])
def test_each_kind_of_row_is_augmented_on_cuda(dataset: str) -> None:
    """Photo-padded images and landmark rows go through the same on-device augmentation."""
    spec = data.get_spec(dataset)
    n_classes = len(spec.classes)
    g = torch.Generator().manual_seed(0)
    rows = spec.rows.random(300, g)
    labels = torch.arange(300) % n_classes
    splits = data.Splits(rows, labels, rows[:50], labels[:50], rows[:50], labels[:50])
    trainer = Trainer(TrainConfig(dataset=dataset, hidden=[16], epochs=1, batch_size=64, device="cuda"),
                      splits=splits)
    assert np.isfinite(_epochs(trainer.fit())[-1].train_loss)


@needs_cuda
def test_a_cuda_run_is_served_on_the_cpu_with_the_same_answers() -> None:
    trainer = Trainer(_config(device="cuda", epochs=1), splits=_splits(), finish=finish.finish)
    list(trainer.fit())
    ckpt = trainer.checkpoint(trainer.report().accuracy)
    from classifier.serving.predict import logits
    x = trainer.splits.test_x[:50]
    served = logits(ckpt.model, x, ckpt.normalization).argmax(1)
    assert torch.equal(served, logits(trainer.model, x, ckpt.normalization).argmax(1))


@pytest.mark.parametrize("method,sign_like", [("gradient", False), ("gradient", True), ("nearest_mean", False)])
def test_the_test_set_never_changes_what_is_trained(method: str, sign_like: bool) -> None:
    """A class's board ranks test accuracy, so training must never learn from the test rows nor pick
    by them: two runs whose test rows differ (other images, other labels) train the same weights
    and draw the same validation curve. `sign_like`: a data set whose curves also track the test set."""
    splits = _splits()
    other = _splits(seed=7)
    swapped = data.Splits(splits.train_x, splits.train_y, splits.val_x, splits.val_y, other.test_x,
                          torch.flip(other.test_y, [0]))
    dataset = "signs" if sign_like else "digits"
    assert bool(data.get_spec(dataset).validation_note) == sign_like   # whose curves show the test rows
    config = (_config(epochs=2, dropout=0.3, dataset=dataset) if method == "gradient"
              else _config(method="nearest_mean", hidden=[], epochs=1))
    a, b = Trainer(config, splits=splits), Trainer(config, splits=swapped)
    curve_a = [m.val_acc for m in a.fit()]
    curve_b = [m.val_acc for m in b.fit()]
    assert curve_a == curve_b
    assert all(torch.equal(p, q) for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values(),
                                                  strict=True))
