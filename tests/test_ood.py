"""classifier.ood: the "not sure" detector, in weights files and in answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from classifier import checkpoint, ood
from classifier.predict import Predictor
from classifier.trainer import TrainConfig, Trainer
from tests.conftest import synthetic_splits


@pytest.fixture(scope="module")
def trained() -> Trainer:
    splits = synthetic_splits(1500, 300, 1000)
    run = Trainer(TrainConfig(dataset="digits", hidden=[64, 32], epochs=3, batch_size=64, lr=1e-2, dropout=0.0,
                              augment=False), splits=splits)
    list(run.run())
    return run


def test_flags_the_calibrated_share_of_real_images_and_nearly_all_noise(trained: Trainer) -> None:
    detector = trained.detector()
    _, measure = ood.calibration_rows(len(trained.splits.test_x))
    real = detector.score(*ood.forward(trained.model, trained.splits.test_x[measure], trained.spec.normalization))
    assert float((real > detector.threshold).float().mean()) <= 3 * ood.FLAG_RATE
    noise = torch.randint(0, 256, (200, 28, 28), dtype=torch.uint8)
    scores = detector.score(*ood.forward(trained.model, noise, trained.spec.normalization))
    assert float((scores > detector.threshold).float().mean()) >= 0.95
    assert detector.means.shape == (10, 32) and detector.precision.shape == (32, 32)
    assert detector.components.shape == (ood.N_COMPONENTS, 784) and detector.quantiles.shape == (3, ood.N_QUANTILES)


def test_raw_scores_are_energy_nearest_mahalanobis_and_reconstruction_error(trained: Trainer) -> None:
    d = trained.detector()
    x, f, logits = torch.randn(5, 784), torch.randn(5, 32), torch.randn(5, 10)
    raw = d.raw_scores(x, f, logits).float()
    assert torch.allclose(raw[:, 0], -torch.logsumexp(logits, 1), atol=1e-4)
    maha = torch.stack([torch.stack([(v - m) @ d.precision @ (v - m) for m in d.means]).min() for v in f])
    assert torch.allclose(raw[:, 1], maha, rtol=1e-3, atol=1e-2)
    c = x - d.pca_mean
    assert torch.allclose(raw[:, 2], ((c - (c @ d.components.T) @ d.components) ** 2).sum(1), rtol=1e-3)
    # The combined score is each raw score's percentile among the calibration images, the highest of them.
    pct = d.score(x, f, logits)
    assert ((0 <= pct) & (pct <= 1)).all()


def test_answer_says_not_sure_for_noise_and_matches_predict(trained: Trainer) -> None:
    ckpt = trained.checkpoint(0.9)
    predictor = Predictor(ckpt)
    image = trained.splits.test_x[0].numpy()
    answer = predictor.answer(image)
    assert answer.probabilities == pytest.approx(predictor.predict(image))
    assert not answer.unsure and answer.ood_score is not None
    assert predictor.answer(np.random.default_rng(1).integers(0, 256, (28, 28)).astype(np.uint8)).unsure


def test_detector_travels_in_the_weights_file(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    path = ckpt.save(tmp_path / "m.safetensors")
    loaded = checkpoint.load(path)
    assert loaded.ood is not None and loaded.ood.threshold == ckpt.ood.threshold
    assert torch.equal(loaded.ood.precision, ckpt.ood.precision)
    assert loaded.meta["ood"]["score"] == ood.score_name(ood.DEFAULT_SCORES)
    assert loaded.ood.scores == ood.DEFAULT_SCORES
    # Metadata that promises a detector the tensors do not hold is refused, not half-loaded.
    checkpoint.save(path, ckpt.model, loaded.meta)
    with pytest.raises(checkpoint.CheckpointError, match="'ood.means' is missing"):
        checkpoint.load(path)
    # Metadata naming other scores than the file's quantiles hold is refused too.
    meta = {**loaded.meta, "ood": {**loaded.meta["ood"], "scores": ["max-probability"]}}
    save_file({**ckpt.model.state_dict(), **ckpt.ood.tensors()}, str(path),
              metadata={checkpoint.META_KEY: json.dumps(meta)})
    with pytest.raises(checkpoint.CheckpointError, match="quantiles for 3 scores but names 1"):
        checkpoint.load(path)
    # A file from before detectors existed still loads, with none.
    meta = {k: v for k, v in loaded.meta.items() if k != "ood"}
    checkpoint.save(path, ckpt.model, meta)
    assert checkpoint.load(path).ood is None and Predictor(checkpoint.load(path)).answer(
        trained.splits.test_x[0].numpy()).ood_score is None


def test_an_outlier_exposed_model_is_judged_by_its_highest_probability(trained: Trainer) -> None:
    """Outlier exposure trains flat answers, so its detector reads 1 - the highest probability alone;
    the score names travel in the file, and names the file's quantiles do not match are refused."""
    assert ood.scores_for(0.5) == ("max-probability",) and ood.scores_for(0.0) == ood.DEFAULT_SCORES
    model, norm = trained.model, trained.spec.normalization
    d = ood.fit(model, trained.train_x, trained.train_y, trained.splits.test_x, norm, 10, ood.scores_for(0.5))
    x, f, logits = ood.forward(model, trained.splits.test_x[:50], norm)
    raw = d.raw_scores(x, f, logits)
    assert raw.shape == (50, 1) and d.quantiles.shape == (1, ood.N_QUANTILES)
    assert torch.allclose(raw[:, 0], 1 - torch.softmax(logits, 1).max(1).values)
    # A flat answer is as unsure as an answer gets: above the threshold.
    flat = torch.zeros(1, 10)
    assert float(d.score(x[:1], f[:1], flat)) > d.threshold
    loaded = ood.Detector.from_file(d.tensors(), d.meta())
    assert loaded.scores == ("max-probability",) and torch.equal(loaded.score(x, f, logits), d.score(x, f, logits))
    with pytest.raises(ValueError, match="quantiles for 1 scores but names 3"):
        ood.Detector.from_file(d.tensors(), {**d.meta(), "scores": list(ood.DEFAULT_SCORES)})
    with pytest.raises(ValueError, match="unknown detector scores"):
        ood.Detector.from_file(d.tensors(), {**d.meta(), "scores": ["softmax"]})
