"""classifier.models.ood: the "not sure" detector, in weights files and in answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from classifier import paths
from classifier.inputs import DRAWING, hand_photo
from classifier.models import checkpoint, ood
from classifier.serving.predict import Predictor, read_pixels
from classifier.training import finish
from classifier.training.trainer import TrainConfig, Trainer
from tests.conftest import synthetic_splits


@pytest.fixture(scope="module")
def trained() -> Trainer:
    splits = synthetic_splits(1500, 300, 1000)
    run = Trainer(TrainConfig(dataset="digits", hidden=[64, 32], epochs=3, batch_size=64, lr=1e-2, dropout=0.0,
                              augment=False), splits=splits, finish=finish.finish)
    list(run.fit())
    return run


def _detector(trained: Trainer) -> ood.Detector:
    """The detector calibrated on the test rows themselves (the synthetic rows are no drawings)."""
    t = trained.splits
    return ood.fit(trained.model, t.train_x, t.train_y, t.test_x, trained.spec.normalization, 10,
                   ood.scores_for(trained.config.outlier_exposure))


def test_flags_the_calibrated_share_of_real_images_and_nearly_all_noise(trained: Trainer) -> None:
    detector = _detector(trained)
    _, measure = ood.calibration_rows(len(trained.splits.test_x))
    real = detector.score(*ood.forward(trained.model, trained.splits.test_x[measure], trained.spec.normalization))
    assert float((real > detector.threshold).float().mean()) <= 3 * ood.FLAG_RATE
    noise = torch.randint(0, 256, (200, 28, 28), dtype=torch.uint8)
    scores = detector.score(*ood.forward(trained.model, noise, trained.spec.normalization))
    assert float((scores > detector.threshold).float().mean()) >= 0.95
    assert detector.means.shape == (10, 32)
    assert detector.precision.shape == (32, 32)
    assert detector.components.shape == (ood.N_COMPONENTS, 784)
    assert detector.quantiles.shape == (3, ood.N_QUANTILES)


def test_raw_scores_are_energy_nearest_mahalanobis_and_reconstruction_error(trained: Trainer) -> None:
    d = _detector(trained)
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
    assert not answer.unsure
    assert answer.ood_score is not None
    assert predictor.answer(np.random.default_rng(1).integers(0, 256, (28, 28)).astype(np.uint8)).unsure


def test_detector_travels_in_the_weights_file(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    path = ckpt.save(tmp_path / "m.safetensors")
    loaded = checkpoint.load(path)
    assert loaded.ood is not None
    assert loaded.ood.threshold == ckpt.ood.threshold
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
    assert checkpoint.load(path).ood is None
    assert Predictor(checkpoint.load(path)).answer(trained.splits.test_x[0].numpy()).ood_score is None


def test_the_precision_matrix_is_stored_as_its_upper_triangle(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    width = ckpt.ood.precision.shape[0]
    assert ckpt.ood.tensors()["ood.precision"].shape == (width * (width + 1) // 2,)


def test_a_packed_precision_matrix_loads_back_exactly(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    loaded = checkpoint.load(ckpt.save(tmp_path / "m.safetensors"))
    assert torch.equal(loaded.ood.precision, ckpt.ood.precision)


def test_a_file_holding_the_whole_precision_matrix_still_loads(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    path = tmp_path / "square.safetensors"
    save_file({**ckpt.model.state_dict(), **ckpt.ood.tensors(), "ood.precision": ckpt.ood.precision.contiguous()},
              str(path), metadata={checkpoint.META_KEY: json.dumps({**ckpt.meta, "ood": ckpt.ood.meta()})})
    image = trained.splits.test_x[0].numpy()
    assert Predictor(checkpoint.load(path)).answer(image).ood_score == Predictor(ckpt).answer(image).ood_score


def test_a_packed_precision_of_the_wrong_length_is_refused(trained: Trainer, tmp_path: Path) -> None:
    ckpt = trained.checkpoint(0.9)
    path = tmp_path / "short.safetensors"
    save_file({**ckpt.model.state_dict(), **ckpt.ood.tensors(), "ood.precision": torch.zeros(7)},
              str(path), metadata={checkpoint.META_KEY: json.dumps({**ckpt.meta, "ood": ckpt.ood.meta()})})
    with pytest.raises(checkpoint.CheckpointError, match="'ood.precision' is \\(7,\\)"):
        checkpoint.load(path)


@pytest.mark.parametrize("d", [1, 2, 5, 32])
def test_pack_and_unpack_a_symmetric_matrix(d: int) -> None:
    a = torch.randn(d, d)
    sym = a + a.T
    assert torch.equal(ood.unpack_symmetric(ood.pack_symmetric(sym)), sym)


def test_an_outlier_exposed_model_is_judged_by_its_highest_probability(trained: Trainer) -> None:
    """Outlier exposure trains flat answers, so its detector reads 1 - the highest probability alone;
    the score names travel in the file, and names the file's quantiles do not match are refused."""
    assert ood.scores_for(0.5) == ("max-probability",)
    assert ood.scores_for(0.0) == ood.DEFAULT_SCORES
    model, norm = trained.model, trained.spec.normalization
    d = ood.fit(model, trained.train_x, trained.train_y, trained.splits.test_x, norm, 10, ood.scores_for(0.5))
    x, f, logits = ood.forward(model, trained.splits.test_x[:50], norm)
    raw = d.raw_scores(x, f, logits)
    assert raw.shape == (50, 1)
    assert d.quantiles.shape == (1, ood.N_QUANTILES)
    assert torch.allclose(raw[:, 0], 1 - torch.softmax(logits, 1).max(1).values)
    # A flat answer is as unsure as an answer gets: above the threshold.
    flat = torch.zeros(1, 10)
    assert float(d.score(x[:1], f[:1], flat)) > d.threshold
    loaded = ood.Detector.from_file(d.tensors(), d.meta())
    assert loaded.scores == ("max-probability",)
    assert torch.equal(loaded.score(x, f, logits), d.score(x, f, logits))
    with pytest.raises(ValueError, match="quantiles for 1 scores but names 3"):
        ood.Detector.from_file(d.tensors(), {**d.meta(), "scores": list(ood.DEFAULT_SCORES)})
    with pytest.raises(ValueError, match="unknown detector scores"):
        ood.Detector.from_file(d.tensors(), {**d.meta(), "scores": ["softmax"]})


def _moved(rows: np.ndarray) -> np.ndarray:
    """Stand-in rows "as given": each moved 3 pixels right, so they score unlike the rows themselves."""
    return np.roll(rows, 3, axis=2)


@pytest.fixture(scope="module")
def plain_and_given(trained: Trainer) -> tuple[ood.Detector, ood.Detector]:
    model, norm, t = trained.model, trained.spec.normalization, trained.splits
    return (ood.fit(model, t.train_x, t.train_y, t.test_x, norm, 10),
            ood.fit(model, t.train_x, t.train_y, t.test_x, norm, 10, as_given=_moved))


def _share_flagged(detector: ood.Detector, trained: Trainer, rows: np.ndarray) -> float:
    x, f, logits = ood.forward(trained.model, torch.from_numpy(rows), trained.spec.normalization)
    return float((detector.score(x, f, logits) > detector.threshold).double().mean())


def _moved_calibration_half(trained: Trainer) -> np.ndarray:
    calib, _ = ood.calibration_rows(len(trained.splits.test_x))
    return _moved(trained.splits.test_x[calib].numpy())


def test_the_threshold_flags_at_most_its_share_of_the_rows_as_given(trained: Trainer, plain_and_given) -> None:
    _, given = plain_and_given
    assert _share_flagged(given, trained, _moved_calibration_half(trained)) <= ood.FLAG_RATE


def test_a_threshold_set_on_the_rows_themselves_flags_many_rows_as_given(trained: Trainer,
                                                                         plain_and_given) -> None:
    plain, _ = plain_and_given
    assert _share_flagged(plain, trained, _moved_calibration_half(trained)) > 5 * ood.FLAG_RATE


def test_rows_as_given_set_the_percentiles(plain_and_given) -> None:
    plain, given = plain_and_given
    assert not torch.equal(given.quantiles, plain.quantiles)


def test_the_detector_says_what_it_was_calibrated_on(plain_and_given) -> None:
    plain, given = plain_and_given
    assert ("as the app reads them" in plain.calibrated_on, "as the app reads them" in given.calibrated_on) == \
        (False, True)


def test_a_picture_is_judged_by_the_mean_over_the_squares_weighed(trained: Trainer) -> None:
    """Photos: the picture threshold is set on real pictures' squares (made from the calibration half
    and nothing else), and a picture whose squares are mostly unlike the training data is "not sure"
    even when the square shown looks fine, and the other way round."""
    model, norm, test_x = trained.model, trained.spec.normalization, trained.splits.test_x
    calib, measure = ood.calibration_rows(len(test_x))
    given = []

    def squares(rows: np.ndarray) -> list[np.ndarray]:
        given.append(rows)
        return [rows[i:i + 5] for i in range(0, len(rows) - 5, 5)]   # five real squares a "picture"

    d = ood.fit(model, trained.train_x, trained.train_y, test_x, norm, 10, picture_squares=squares)
    assert len(given) == 1
    assert np.array_equal(given[0], test_x[calib].numpy())
    assert d.picture_threshold is not None
    assert "pictures" in d.picture_calibrated_on
    assert ood.fit(model, trained.train_x, trained.train_y, test_x, norm, 10,
                   picture_squares=lambda rows: None).picture_threshold is None
    x, f, logits = ood.forward(model, test_x[measure[:5]], norm)
    assert d.picture_score(x, f, logits) == pytest.approx(float(d.score(x, f, logits).mean()))
    loaded = ood.Detector.from_file(d.tensors(), d.meta())
    assert loaded.picture_threshold == d.picture_threshold
    assert d.meta()["picture_flag_rate"] == ood.PICTURE_FLAG_RATE
    with pytest.raises(ValueError, match="picture_threshold is nan"):
        ood.Detector.from_file(d.tensors(), {**d.meta(), "picture_threshold": "nan"})

    ckpt = trained.checkpoint(0.9).with_detector(d)
    predictor = Predictor(ckpt)
    real = test_x[measure[:6]].numpy()
    noise = np.random.default_rng(2).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    shown = real[0]
    assert not predictor.answer(shown, real).unsure
    mostly_noise = np.concatenate([real[:1], noise])
    whole = predictor.answer(shown, mostly_noise)
    assert whole.unsure
    assert whole.ood_score == pytest.approx(d.picture_score(*ood.forward(model, torch.from_numpy(mostly_noise), norm)))
    # The probabilities are the shown square's, however the picture is judged.
    assert whole.probabilities == pytest.approx(predictor.predict(shown))
    # Without squares (a box the user gave, a drawing), the square alone is judged.
    assert not predictor.answer(shown).unsure
    assert predictor.answer(noise[0]).unsure


def test_the_shipped_sign_model_judges_whole_photos(real_data_dir: Path) -> None:
    """The shipped signs file is calibrated for whole pictures; given as photos and read as the app
    reads them (`read_pixels`), garments are mostly "not sure" and real hands (the half of the test
    set calibration never saw) hardly ever."""
    from classifier import data
    from classifier.inputs import photos

    ckpt = checkpoint.load(paths.weights_path("signs"))
    assert ckpt.ood is not None, "recalibrate: python train.py --calibrate weights/signs.safetensors"
    assert ckpt.ood.picture_threshold is not None, "recalibrate: python train.py --calibrate weights/signs.safetensors"
    predictor = Predictor(ckpt)
    rng = np.random.default_rng(0)

    def flagged(rows: np.ndarray) -> int:
        answers = []
        for a in rows:
            prepared = hand_photo.hand_photo(photos.enlarged(a, rng), None, predictor.confidence)
            answers.append(read_pixels(predictor, prepared, prepared.hand is not None).answer.unsure)
        return sum(answers)

    x, _ = data.load("signs", "test", real_data_dir)
    _, measure = ood.calibration_rows(len(x))
    fashion, _ = data.load("fashion", "test", real_data_dir)
    assert flagged(x[measure[:40]].numpy()) <= 2
    assert flagged(fashion[:40].numpy()) >= 30


def test_the_shipped_digits_model_is_calibrated_on_drawings_as_the_draw_tab_reads_them() -> None:
    ckpt = checkpoint.load(paths.weights_path("digits"))
    assert "as the app reads them" in ckpt.ood.calibrated_on, \
        "recalibrate: python train.py --calibrate weights/digits.safetensors"


@pytest.mark.realdata
def test_the_shipped_digits_model_hardly_ever_doubts_a_drawn_digit(real_data_dir: Path) -> None:
    """Digits of the half of the test set calibration never saw, drawn big and off-centre on a
    canvas: at most 2% "not sure" (the bench measures 5,000)."""
    from bench.accuracy import redraw_as_user
    from classifier import data

    predictor = Predictor(checkpoint.load(paths.weights_path("digits")))
    x, _ = data.load("digits", "test", real_data_dir)
    _, measure = ood.calibration_rows(len(x))
    rng = np.random.default_rng(0)
    flagged = [predictor.answer(DRAWING.prepare(redraw_as_user(a, rng)).row).unsure
               for a in x[measure[:400]].numpy()]
    assert sum(flagged) <= 8
