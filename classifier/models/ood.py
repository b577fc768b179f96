"""Is an input like the data a model was trained on? Scores, and the threshold above which the app
answers "not sure" instead of naming a class.

The highest softmax probability of an ordinary model alone cannot tell (a webcam test pattern can
get a confident letter). Three scores each catch what the others miss (`bench/ood.py`):
- energy, -logsumexp(logits) (Liu et al., NeurIPS 2020): low for inputs the model knows;
- Mahalanobis distance (Lee et al., NeurIPS 2018) of the last hidden layer to the nearest class
  mean, under one covariance shared by all classes: catches other data sets' images;
- reconstruction error of the input (as the model sees it) from its top principal components of
  the training images: catches noise and textures, whose features can look ordinary.
A model trained with outlier exposure (`classifier.inputs.outliers`) learnt to give outliers a flat
answer, so one score reads that directly and the others only get in its way:
- max-probability, 1 - the highest softmax probability (Hendrycks & Gimpel, ICLR 2017; the score
  outlier exposure trains). Its logits stay free to be large and equal, so energy says nothing
  there, and combining the others with it only loses (docs/results.md).
Each score becomes its percentile among held-out real test images (one fixed half of the test
set; the other half is for measuring), as the app reads them where users give them otherwise (a
drawing is drawn on a canvas and read back by the Draw pipeline, `InputKind.as_given`); an input
is "not sure" when its highest percentile is above the threshold that flags FLAG_RATE of those
images.

A photo is judged as a whole. Its pipeline weighs many squares that might frame the hand
(`hand_photo.hand_photo`) and shows the one the model is surest of; judging that square alone would
let the search find, in a photo of anything, the one square that looks most like a hand. So a
picture's score is the mean of the percentile above over all the squares weighed, and it is "not
sure" above `picture_threshold`: the mean that PICTURE_FLAG_RATE of real pictures exceed, real
pictures made from the calibration half as users give them (`photos.calibration_pictures`). In
one hand there are many hand-like squares; in a photo of something else, few (docs/results.md has
the figures).

Everything travels inside the weights file (`checkpoint`), beside the model it belongs to, with
the names of the scores it uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import torch

from .forward import forward

NOT_SURE = "not sure"        # the API's top label for inputs unlike the training data
FLAG_RATE = 0.01             # share of held-out real test images flagged
PICTURE_FLAG_RATE = 0.02     # share of real pictures flagged, judged whole (see above)
MAX_FIT_ROWS = 20_000        # training rows used to fit the means, covariance and components
N_COMPONENTS = 50
N_QUANTILES = 1001
SCORES = ("energy", "mahalanobis-last-hidden", "pca-reconstruction", "max-probability")
TENSORS = ("means", "precision", "pca_mean", "components", "quantiles")
# The tensors each score reads (the others read only the model's own outputs).
USES = {"mahalanobis-last-hidden": ("means", "precision"), "pca-reconstruction": ("pca_mean", "components")}


def tensors_read(scores: tuple[str, ...]) -> set[str]:
    """The detector tensors (TENSORS) that these scores read: always the quantiles."""
    return {"quantiles", *(t for s in scores for t in USES.get(s, ()))}
DEFAULT_SCORES = SCORES[:3]            # also what files from before named scores used
OUTLIER_EXPOSED_SCORES = ("max-probability",)


def scores_for(outlier_exposure: float) -> tuple[str, ...]:
    """The scores a detector combines for a model trained with this much outlier exposure."""
    return OUTLIER_EXPOSED_SCORES if outlier_exposure else DEFAULT_SCORES


def score_name(scores: tuple[str, ...]) -> str:
    return f"max-percentile({', '.join(scores)})"


@dataclass(frozen=True)
class Detector:
    means: torch.Tensor        # (classes, features) class means of the last hidden layer
    precision: torch.Tensor    # (features, features) inverse of their shared covariance
    pca_mean: torch.Tensor     # (784,) mean of the normalized training images
    components: torch.Tensor   # (N_COMPONENTS, 784) their top principal components
    quantiles: torch.Tensor    # (len(scores), N_QUANTILES) each score's quantiles on held-out real images
    threshold: float           # a highest percentile above it is "not sure"
    calibrated_on: str = "the calibration half of the test set"
    scores: tuple[str, ...] = DEFAULT_SCORES   # which of SCORES it combines, in the quantiles' order
    picture_threshold: float | None = None     # a picture's mean score above it is "not sure"; None: not calibrated
    picture_calibrated_on: str = ""

    def __post_init__(self) -> None:
        unknown = [s for s in self.scores if s not in SCORES]
        if unknown or not self.scores:
            raise ValueError(f"unknown detector scores {unknown or self.scores!r}; known: {', '.join(SCORES)}")
        if len(self.quantiles) != len(self.scores):
            raise ValueError(f"the detector has quantiles for {len(self.quantiles)} scores but names "
                             f"{len(self.scores)}")
        for name, value in (("threshold", self.threshold), ("picture_threshold", self.picture_threshold)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"the detector's {name} is {value}, not a finite number")

    def raw_scores(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """(N, len(scores)): each of the detector's scores (SCORES), higher meaning less like the training
        data; for normalized inputs `x` (N, 784), their last hidden layer `feats` and their `logits`."""
        # float32 throughout, for calibration and serving alike: float64 copies of the precision
        # matrix would be made at every answer, and both paths must compute the same numbers.
        by_name = {"energy": self._energy, "mahalanobis-last-hidden": self._mahalanobis,
                   "pca-reconstruction": self._reconstruction, "max-probability": self._max_probability}
        return torch.stack([by_name[name](x, feats, logits.float()) for name in self.scores], dim=1)

    def _energy(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        return -torch.logsumexp(logits, dim=1)

    def _mahalanobis(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Squared distance of the last hidden layer to the nearest class mean."""
        f = feats.float()
        fp = f @ self.precision
        return ((fp * f).sum(1, keepdim=True) - 2 * fp @ self.means.T + self._mean_terms).min(1).values

    def _reconstruction(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """The input's squared distance from its projection on the training images' top components."""
        centred = x.reshape(len(x), -1).float() - self.pca_mean
        return ((centred - (centred @ self.components.T) @ self.components) ** 2).sum(1)

    def _max_probability(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """1 - the highest class probability."""
        return 1 - torch.softmax(logits, dim=1).max(dim=1).values

    @cached_property
    def _mean_terms(self) -> torch.Tensor:
        """m_c' P m_c for each class mean: the part of every distance that does not depend on the input."""
        return ((self.means @ self.precision) * self.means).sum(1)

    def score(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """(N,) the highest of the scores' percentiles among held-out real images, 0..1."""
        raw = self.raw_scores(x, feats, logits)
        q = self.quantiles
        pct = torch.stack([torch.searchsorted(q[k].contiguous(), raw[:, k].contiguous()) for k in range(len(q))], 1)
        return pct.max(1).values.clamp(max=q.shape[1] - 1).float() / (q.shape[1] - 1)

    def picture_score(self, x: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> float:
        """A picture's score: the mean of `score` over the squares its pipeline weighed (all of them given)."""
        return float(self.score(x, feats, logits).mean())

    def tensors(self) -> dict[str, torch.Tensor]:
        """What a weights file stores: the tensors its scores read, and an empty one for each other
        (a max-probability detector needs none of the 1024x1024 precision matrix's 4 MB). The
        precision matrix is symmetric, so only its upper triangle is stored (`pack_symmetric`)."""
        used = tensors_read(self.scores)
        stored = {k: getattr(self, k).float() if k in used else torch.zeros(0) for k in TENSORS}
        if "precision" in used:
            stored["precision"] = pack_symmetric(stored["precision"])
        return {f"ood.{k}": t.contiguous() for k, t in stored.items()}

    def meta(self) -> dict[str, Any]:
        meta = {"score": score_name(self.scores), "scores": list(self.scores), "threshold": self.threshold,
                "flag_rate": FLAG_RATE, "calibrated_on": self.calibrated_on}
        if self.picture_threshold is not None:
            meta.update(picture_score=f"mean over the squares weighed of {score_name(self.scores)}",
                        picture_threshold=self.picture_threshold, picture_flag_rate=PICTURE_FLAG_RATE,
                        picture_calibrated_on=self.picture_calibrated_on)
        return meta

    @classmethod
    def from_file(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Detector:
        """From a weights file's tensors and metadata; the precision matrix as stored by `tensors` (its
        upper triangle) or whole (a square matrix, as older files hold it)."""
        scores = tuple(meta.get("scores", DEFAULT_SCORES))
        picture = meta.get("picture_threshold")
        tensors = dict(tensors)
        if tensors["ood.precision"].ndim == 1 and tensors["ood.precision"].numel():
            tensors["ood.precision"] = unpack_symmetric(tensors["ood.precision"])
        return cls(*(tensors[f"ood.{k}"] for k in TENSORS),
                   float(meta["threshold"]), str(meta.get("calibrated_on", "")), scores,
                   None if picture is None else float(picture), str(meta.get("picture_calibrated_on", "")))


def pack_symmetric(matrix: torch.Tensor) -> torch.Tensor:
    """The upper triangle of a symmetric (d, d) matrix, row by row: d(d+1)/2 numbers."""
    rows, cols = torch.triu_indices(len(matrix), len(matrix))
    return matrix[rows, cols]


def packed_side(n: int) -> int | None:
    """d for a packed upper triangle of n numbers (n = d(d+1)/2), or None if n is no such count."""
    d = (math.isqrt(8 * n + 1) - 1) // 2
    return d if d * (d + 1) // 2 == n else None


def unpack_symmetric(packed: torch.Tensor) -> torch.Tensor:
    """The symmetric matrix whose upper triangle `pack_symmetric` gave."""
    d = packed_side(len(packed))
    if d is None:
        raise ValueError(f"{len(packed)} numbers are not the upper triangle of a square matrix")
    rows, cols = torch.triu_indices(d, d)
    matrix = packed.new_zeros(d, d)
    matrix[rows, cols] = packed
    matrix[cols, rows] = packed
    return matrix


def calibration_rows(n_test: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed halves of a test set: (rows the threshold is set on, rows it is measured on)."""
    perm = torch.randperm(n_test, generator=torch.Generator().manual_seed(0))
    return perm[: n_test // 2], perm[n_test // 2:]


def fit(model: torch.nn.Module, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
        normalization: dict[str, Any], n_classes: int, scores: tuple[str, ...] = DEFAULT_SCORES,
        picture_squares: Callable[[np.ndarray], Sequence[np.ndarray] | None] | None = None,
        as_given: Callable[[np.ndarray], np.ndarray | None] | None = None) -> Detector:
    """Fit on (up to MAX_FIT_ROWS) training rows; calibrate `scores` on the calibration half of the test
    set. `picture_squares`, for inputs judged as whole pictures: the calibration half's rows (uint8
    (N, 28, 28)) -> the squares weighed in each of the real pictures made from them (or None), on
    which `picture_threshold` is set (`InputKind.picture_squares`). `as_given`, for inputs read as
    one square: those rows -> the same rows as the app reads them given as users give them (or None),
    on which the scores' percentiles and the threshold are then set instead (`InputKind.as_given`)."""
    rows = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(0))[:MAX_FIT_ROWS]
    x, f, _ = forward(model, train_x[rows.to(train_x.device)], normalization)
    f, y = f.double(), train_y[rows.to(train_y.device)].cpu()
    means = torch.zeros(n_classes, f.shape[1], dtype=torch.float64)
    centred = torch.empty_like(f)
    for c in range(n_classes):
        mask = y == c
        if mask.any():
            means[c] = f[mask].mean(0)
            centred[mask] = f[mask] - means[c]
    cov = centred.T @ centred / max(len(f) - n_classes, 1)
    # Dead ReLUs and correlated units make the covariance singular: shrink towards a scaled identity.
    ridge = 1e-3 * float(torch.diagonal(cov).mean()) + 1e-8
    precision = torch.linalg.inv(cov + ridge * torch.eye(cov.shape[0], dtype=torch.float64))
    precision = (precision + precision.T) / 2   # exactly symmetric, so its stored upper triangle is all of it
    flat = x.reshape(len(x), -1).double()
    pca_mean = flat.mean(0)
    _, _, vh = torch.linalg.svd(flat - pca_mean, full_matrices=False)
    components = vh[:N_COMPONENTS]
    calib, _ = calibration_rows(len(test_x))
    calib_rows = test_x[calib].cpu().numpy()   # what `as_given` and `picture_squares` make real inputs from
    given = as_given(calib_rows) if as_given is not None else None
    cx, cf, cl = forward(model, test_x[calib] if given is None else torch.from_numpy(np.asarray(given)), normalization)
    # The raw scores need no quantiles; their quantiles then give the percentiles the threshold is set on.
    detector = Detector(means.float(), precision.float(), pca_mean.float(), components.float(),
                        torch.zeros(len(scores), N_QUANTILES), 1.0, scores=tuple(scores))
    raw = detector.raw_scores(cx, cf, cl).double()
    quantiles = torch.quantile(raw, torch.linspace(0, 1, N_QUANTILES, dtype=torch.float64), dim=0).T.float()
    detector = replace(detector, quantiles=quantiles)
    threshold = float(torch.quantile(detector.score(cx, cf, cl).double(), 1 - FLAG_RATE))
    read = "" if given is None else " as the app reads them given as users give them"
    detector = replace(detector, threshold=threshold, calibrated_on=f"{len(calib)} test images (the half chosen "
                       f"by seed 0){read}, {FLAG_RATE:.0%} of them flagged")
    pictures = picture_squares(calib_rows) if picture_squares is not None else None
    if not pictures:
        return detector
    means = torch.tensor([detector.picture_score(*forward(model, torch.from_numpy(np.asarray(s)), normalization))
                          for s in pictures], dtype=torch.float64)
    return replace(detector, picture_threshold=float(torch.quantile(means, 1 - PICTURE_FLAG_RATE)),
                   picture_calibrated_on=f"{len(pictures)} real pictures made from those test images, "
                   f"{PICTURE_FLAG_RATE:.0%} of them flagged")
