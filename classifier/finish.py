"""Finishing a trained model into a servable checkpoint: its "not sure" and the metadata that says so.

A data set says "not sure" one of two ways (`DatasetSpec.not_sure_below`): by a threshold on the
top probability (hand shapes, whose inputs are never pictures), or by a detector fitted on the
training rows and calibrated on held-out test rows as the app reads them (`classifier.ood`):
drawings drawn and read back by the Draw pipeline, photos as real pictures made from those rows.
The Trainer finishes every run here, and `train.py --calibrate` finishes a weights file that has
none, so both give the same file.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from . import checkpoint, ood, pipelines
from .data import DatasetSpec, Splits


def detector(model: torch.nn.Module, spec: DatasetSpec, splits: Splits, outlier_exposure: float) -> ood.Detector:
    """The model's out-of-distribution detector: fitted on the training rows, calibrated on the
    calibration half of the test rows as the app reads them (drawings drawn and read back; for
    photos also real pictures made from them)."""
    user_input = spec.user_input or ""
    return ood.fit(model, splits.train_x, splits.train_y, splits.test_x, spec.normalization, len(spec.classes),
                   ood.scores_for(outlier_exposure), functools.partial(pipelines.picture_squares, user_input),
                   functools.partial(pipelines.as_given, user_input))


def _calibration_rows(splits: Splits) -> np.ndarray:
    calib, _ = ood.calibration_rows(len(splits.test_x))
    return splits.test_x[calib.to(splits.test_x.device)].cpu().numpy()


def ready(spec: DatasetSpec, splits: Splits) -> bool:
    """Whether finishing has nothing slow to make first (see `prepare`)."""
    return spec.not_sure_below is not None or pipelines.calibration_ready(spec.user_input or "",
                                                                          _calibration_rows(splits))


def prepare(spec: DatasetSpec, splits: Splits) -> None:
    """Make what finishing needs that does not depend on the model: the real inputs the thresholds are
    set on (for photos, minutes on a small CPU; for drawings, seconds; once per process), so that
    the app can make them beside training."""
    if spec.not_sure_below is None:
        rows = _calibration_rows(splits)
        pipelines.picture_squares(spec.user_input or "", rows)
        pipelines.as_given(spec.user_input or "", rows)


def finish(model: torch.nn.Module, meta: dict[str, Any], spec: DatasetSpec, splits: Splits,
           outlier_exposure: float) -> checkpoint.Checkpoint:
    """`model` (in eval mode, as it will be served) with `meta` and its "not sure": ready to serve or save."""
    model.eval()
    if spec.not_sure_below is not None:
        return checkpoint.Checkpoint(model, {**meta, "not_sure_below": spec.not_sure_below})
    return checkpoint.Checkpoint(model, meta).with_detector(detector(model, spec, splits, outlier_exposure))
