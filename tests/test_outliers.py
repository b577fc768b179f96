"""classifier.inputs.outliers and InputKind.outlier_pool: made-up outliers for outlier exposure, and
training with them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from classifier.inputs import DRAWING, HAND_PHOTO, imageprep, kind, outliers
from classifier.training.trainer import TrainConfig, Trainer
from tests.conftest import synthetic_splits


def test_each_source_draws_something_the_draw_pipeline_reads_as_a_drawing() -> None:
    rng = np.random.default_rng(0)
    for source in DRAWING.outlier_sources:
        pictures = [source(rng) for _ in range(10)]
        assert all(np.median(np.asarray(p.convert("L"))) > 60 for p in pictures), source.__name__
        assert sum(imageprep.sketch_to_digit(p) is not None for p in pictures) >= 8, source.__name__


def test_pool_is_what_the_draw_pipeline_makes_of_them_and_repeats_for_a_seed() -> None:
    a = DRAWING.outlier_pool(48, seed=3)
    assert a.shape == (48, 28, 28)
    assert a.dtype == torch.uint8
    assert torch.equal(a, DRAWING.outlier_pool(48, seed=3))
    assert torch.equal(a, torch.from_numpy(DRAWING._make_outliers(48, 3)))  # made, not only cached
    assert not torch.equal(a, DRAWING.outlier_pool(48, seed=4))
    for image in a.numpy():
        # The Draw pipeline's own style: ink in a 20 px box, centred by mass near pixel 14.
        ys, xs = np.nonzero(image > 12)
        assert max(np.ptp(ys), np.ptp(xs)) <= 22
        mass = image.astype(float) / image.sum()
        cy, cx = (mass.sum(1) * np.arange(28)).sum(), (mass.sum(0) * np.arange(28)).sum()
        assert abs(cy - 14) < 1.5
        assert abs(cx - 14) < 1.5
        assert outliers.elongation(image) <= outliers.MAX_ELONGATION  # nothing shaped like a 1


def test_elongation_tells_a_bar_from_a_ring() -> None:
    bar = np.zeros((28, 28), np.uint8)
    bar[4:24, 13:15] = 255
    ring = np.zeros((28, 28), np.uint8)
    ys, xs = np.mgrid[:28, :28]
    ring[np.abs(np.hypot(ys - 14, xs - 14) - 8) < 1.5] = 255
    assert outliers.elongation(bar) > 5
    assert outliers.elongation(ring) < 1.1


def test_only_data_sets_with_an_outlier_source_take_outlier_exposure() -> None:
    assert DRAWING.makes_outliers
    assert not HAND_PHOTO.makes_outliers
    TrainConfig(dataset="digits", outlier_exposure=0.5)
    for name in ("signs", "fashion"):
        with pytest.raises(ValueError, match=f"{name} has none"):
            TrainConfig(dataset=name, outlier_exposure=0.5)
    with pytest.raises(ValueError, match="Outlier exposure must be"):
        TrainConfig(dataset="digits", outlier_exposure=-1)
    with pytest.raises(ValueError, match="No outliers are made for hand_photo"):
        HAND_PHOTO.outlier_pool(4)


def test_outlier_exposure_flattens_the_answer_for_unseen_outliers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same small run with and without outlier exposure: with it, outliers the run never saw
    (another seed) get a near-flat answer, and the real rows are still learnt."""
    monkeypatch.setattr(kind, "POOL_SIZE", 600)
    unseen = DRAWING.outlier_pool(200, seed=99)
    splits = synthetic_splits(1200, 200, 300)
    flatness = {}
    for weight in (0.0, 1.0):
        run = Trainer(TrainConfig(dataset="digits", hidden=[64], epochs=4, batch_size=64, lr=5e-3, dropout=0.0,
                                  augment=False, outlier_exposure=weight), splits=splits)
        assert (run.outliers is None) == (weight == 0)
        list(run.fit())
        assert run.report().accuracy > 0.95
        with torch.no_grad():
            probs = torch.softmax(run.model.eval()(run._prepare(unseen)), 1)
        flatness[weight] = float(probs.max(1).values.mean())
    assert flatness[1.0] < 0.3 < flatness[0.0]


def test_train_loss_counts_the_rows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The curves' train loss is the rows' cross-entropy, not the outliers' added term."""
    monkeypatch.setattr(kind, "POOL_SIZE", 100)
    config = TrainConfig(dataset="digits", hidden=[16], epochs=1, batch_size=50, lr=1e-9, dropout=0.0,
                         augment=False, batchnorm=False, outlier_exposure=5.0)
    run = Trainer(config, splits=synthetic_splits(1200, 200, 300, seed=1))
    (last,) = [m for m in run.fit() if not m.partial]
    # lr ~0: the model stays as built, so the rows' loss is about ln(10), while the loss minimized
    # adds 5 x the outliers' distance from a flat answer.
    with torch.no_grad():
        loss, ce, _ = run._loss(run._inputs(torch.arange(50)), run.train_y[:50])
    assert float(loss) > float(ce)
    assert last.train_loss == pytest.approx(float(ce), rel=0.05)
