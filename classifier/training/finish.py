"""Finishing a trained model into a servable checkpoint: its "not sure" and the metadata that says so.

A data set's kind of input says "not sure" one of two ways (`InputKind.not_sure_below`): by a
threshold on the top probability (hand landmarks, which are never pictures), or by a detector
fitted on the training rows and calibrated on held-out test rows as the app reads them
(`models.ood`): the real inputs the kind makes of them (`InputKind.calibration_makers`: drawings
drawn and read back, photos as real pictures). The Train tab and `train.py` hand `finish` to the
`Trainer`, and `train.py --calibrate` finishes a weights file that has none, so all give the same file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import DatasetSpec, Splits
from ..models import checkpoint, ood


def detector(model: torch.nn.Module, spec: DatasetSpec, splits: Splits, outlier_exposure: float) -> ood.Detector:
    """The model's out-of-distribution detector: fitted on the training rows, calibrated on the
    calibration half of the test rows as the app reads them (drawings drawn and read back; for
    photos also real pictures made from them)."""
    kind = spec.kind
    return ood.fit(model, splits.train_x, splits.train_y, splits.test_x, spec.normalization, len(spec.classes),
                   ood.scores_for(outlier_exposure), kind.picture_squares if kind is not None else None,
                   kind.as_given if kind is not None else None)


def _calibration_rows(splits: Splits) -> np.ndarray:
    calib, _ = ood.calibration_rows(len(splits.test_x))
    return splits.test_x[calib.to(splits.test_x.device)].cpu().numpy()


def ready(spec: DatasetSpec, splits: Splits) -> bool:
    """Whether finishing has nothing slow to make first (see `prepare`)."""
    return spec.not_sure_below is not None or spec.kind is None or spec.kind.calibration_ready(
        _calibration_rows(splits))


def prepare(spec: DatasetSpec, splits: Splits) -> None:
    """Make what finishing needs that does not depend on the model: the real inputs the thresholds are
    set on (slow for photos, quicker for drawings; once per process), so that
    the app can make them beside training."""
    if spec.not_sure_below is None and spec.kind is not None:
        rows = _calibration_rows(splits)
        for purpose in spec.kind.calibration_makers():
            spec.kind.calibration(purpose, rows)


def finish(model: torch.nn.Module, meta: dict[str, Any], spec: DatasetSpec, splits: Splits,
           outlier_exposure: float) -> checkpoint.Checkpoint:
    """`model` (in eval mode, as it will be served) with `meta` and its "not sure": ready to serve or save."""
    model.eval()
    if spec.not_sure_below is not None:
        rule = {"not_sure_below": spec.not_sure_below}
        if spec.not_sure_margin is not None:
            rule["not_sure_margin"] = spec.not_sure_margin
        return checkpoint.Checkpoint(model, {**meta, **rule})
    return checkpoint.Checkpoint(model, meta).with_detector(detector(model, spec, splits, outlier_exposure))
