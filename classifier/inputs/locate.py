"""Where is the hand? A square box around it in a photo, framed the way Sign Language MNIST's crops are.

A sliding-window search: every square window over a grid of sizes (from SCALES[0] of the
photo's shorter side up to all of it) and places is cut out, shrunk to 28x28 and brought to the
data set's brightness exactly as `imageprep.square_to_sign` does, then a small MLP (the locator)
scores how well the window frames a hand the way the data set does: it was trained to predict a
window's overlap (IoU) with the true box on pictures made by `classifier.inputs.photos` from training
rows (`train_locator.py`). The best windows are refined with smaller steps. When even the best
window scores below the locator's threshold, the answer is the centre square, marked not found.
The locator is another MLP, so the studio's own machinery trains, stores and runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torchvision.ops import roi_align

from ..models import preprocess
from ..models.mlp import MLP, load_small, save_small
from ..models.preprocess import normalize
from ..paths import WEIGHTS_DIR
from .imageprep import centre_square, to_grey

LOCATOR_PATH = WEIGHTS_DIR / "hand_locator.safetensors"
SCALES = tuple(float(s) for s in np.geomspace(0.3, 1.0, 12))  # window side / the photo's shorter side
WORK_SIDE = 160       # the search runs on a copy whose shorter side is this many pixels...
WORK_LONG = 640       # ...and whose longer side is at most this many, so the windows are bounded
NORMALIZATION = preprocess.PER_IMAGE


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float          # the locator's estimate of the box's overlap with the hand, 0..1
    found: bool           # False: nothing scored above the threshold, so this is the centre square

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1


STEP = 3              # window steps at the 28-px scale: 3/28 of the window's side


def window_grid(grey: torch.Tensor, scale: float,
                scales: tuple[float, ...] = SCALES) -> tuple[np.ndarray, torch.Tensor]:
    """Every square window of the grid over a picture: boxes (N, 4) as x0, y0, x1, y1 in picture
    pixels, and their 28x28 crops, brightness matched (N, 28, 28). For each window size the work
    copy `grey` (from `grey_work_copy`, `scale` picture -> work pixels) is shrunk once so that the
    window is 28 px, and the windows are slices of it, every STEP px: no per-window resampling."""
    h, w = grey.shape[-2:]
    boxes, out = [], []
    for s in scales:
        side = s * min(w, h)                      # work pixels
        f = 28.0 / side
        sw, sh = max(28, round(w * f)), max(28, round(h * f))
        small = F.interpolate(grey, size=(sh, sw), mode="area")[0, 0]
        tiles = small.unfold(0, 28, STEP).unfold(1, 28, STEP)            # (rows, cols, 28, 28)
        rows, cols = tiles.shape[:2]
        ys = np.arange(rows) * STEP
        xs = np.arange(cols) * STEP
        gx, gy = np.meshgrid(xs, ys)
        fx, fy = w / sw, h / sh                   # work pixels per small pixel (about 1/f)
        b = np.stack([gx * fx, gy * fy, (gx + 28) * fx, (gy + 28) * fy], -1).reshape(-1, 4) / scale
        boxes.append(b)
        out.append(tiles.reshape(-1, 28, 28))
    return np.concatenate(boxes).astype(np.float32), preprocess.match_sign_brightness(torch.cat(out))


def grey_work_copy(picture: Image.Image) -> tuple[torch.Tensor, float]:
    """The upright picture as greyscale 0..255 float (1, 1, H, W) at the search size, and the scale
    from picture pixels to it."""
    scale = min(1.0, WORK_SIDE / min(picture.size), WORK_LONG / max(picture.size))
    small = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                           Image.Resampling.BILINEAR) if scale < 1 else picture
    grey = torch.from_numpy(to_grey(small) * 255.0)
    return grey[None, None], scale


def crops(grey: torch.Tensor, boxes: np.ndarray, scale: float) -> torch.Tensor:
    """(N, 28, 28) float 0..255 of any windows (x0, y0, x1, y1 in picture pixels), brightness matched."""
    b = torch.from_numpy(np.asarray(boxes, dtype=np.float32) * scale)
    # Each output pixel averages a 4x4 grid of bilinear samples of its bin: an area-style shrink.
    out = roi_align(grey, [b], output_size=28, sampling_ratio=4, aligned=True)[:, 0]
    return preprocess.match_sign_brightness(out)


class Locator:
    """The window scorer (an MLP with one output: the window's estimated IoU with the hand) and the search."""

    def __init__(self, model: MLP, threshold: float, meta: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.threshold = threshold
        self.meta = meta or {}

    @torch.inference_mode()
    def scores(self, windows28: torch.Tensor) -> torch.Tensor:
        """(N,) estimated IoU of each 28x28 window (float 0..255) with the hand's box."""
        x = normalize(windows28 / 255.0, NORMALIZATION)
        return torch.sigmoid(self.model(x)[:, 0].float())

    def candidates(self, picture: Image.Image) -> tuple[np.ndarray, torch.Tensor]:
        """Every window scored, the best first: boxes (N, 4) in the upright `picture`'s pixels, and
        their scores (N,). The grid, then finer steps in place and size around its best three."""
        w, h = picture.size
        grey, scale = grey_work_copy(picture)
        boxes, windows28 = window_grid(grey, scale)
        s = self.scores(windows28)
        best = boxes[torch.topk(s, min(3, len(s))).indices.numpy()]
        fine = []
        for x0, y0, x1, y1 in best:
            side = x1 - x0
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            for f in (0.9, 0.95, 1.0, 1.05, 1.1):
                ns = min(side * f, w, h)
                for dx in (-0.05, 0.0, 0.05):
                    for dy in (-0.05, 0.0, 0.05):
                        nx = np.clip(cx + dx * side - ns / 2, 0, w - ns)
                        ny = np.clip(cy + dy * side - ns / 2, 0, h - ns)
                        fine.append((nx, ny, nx + ns, ny + ns))
        fine_boxes = np.asarray(fine, dtype=np.float32)
        all_boxes = np.concatenate([boxes, fine_boxes])
        all_scores = torch.cat([s, self.scores(crops(grey, fine_boxes, scale))])
        order = torch.argsort(all_scores, descending=True, stable=True)
        return all_boxes[order.numpy()], all_scores[order]

    def locate(self, picture: Image.Image) -> Box:
        """The hand's box in the upright `picture` (apply EXIF orientation first), or the centre square."""
        boxes, scores = self.candidates(picture)
        if float(scores[0]) < self.threshold:
            return Box(*centre_square(*picture.size), score=float(scores[0]), found=False)
        return Box(*(float(v) for v in boxes[0]), score=float(scores[0]), found=True)

    def save(self, path: str | Path = LOCATOR_PATH) -> Path:
        meta = {**self.meta, "threshold": self.threshold, "scales": list(SCALES), "step": STEP,
                "work_side": WORK_SIDE}
        return save_small(path, self.model, "locator", meta)

    @classmethod
    def load(cls, path: str | Path = LOCATOR_PATH) -> Locator:
        model, meta = load_small(path, "locator")
        return cls(model, float(meta["threshold"]), meta)


def upright(picture: Image.Image) -> Image.Image:
    """The picture as its EXIF orientation says it should be seen."""
    return ImageOps.exif_transpose(picture)
