"""How often each classify tab answers "not sure": on real test images (should be rare) and on
inputs unlike its training data (should be nearly always).

For each data set with a live tab (digits: Draw, signs: Hand signs), everything goes through the
tab's own kind of input (`InputKind.prepare`) and `Predictor.answer`, as the app does:

- real: the half of the test set the threshold was *not* calibrated on (all 5,000 for digits, 1,000
  for signs), as the raw 28x28 and as a user would give it (digits redrawn big and off-centre on a
  canvas, and traced as strokes on the pad, `bench.trace`; signs as enlarged photos);
- out of distribution: the other data sets' test images given the same way, regions of the
  photos matplotlib ships, noise, random scribbles, and (signs) coloured test patterns like a
  webcam's when no hand is shown.

Weights must carry a detector (`python train.py --calibrate weights/NAME.safetensors`). The
last line printed is JSON.

    python -m bench.ood --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw

from bench import trace
from bench.accuracy import redraw_as_user
from classifier import data, paths
from classifier.inputs import DRAWING, HAND_PHOTO, Prepared, photos, strokes
from classifier.models import checkpoint, ood
from classifier.serving.predict import Predictor, read_pixels

N = 1000  # inputs per set (fewer where a set is smaller)
N_REAL = {DRAWING: 5000, HAND_PHOTO: 1000}   # real inputs: drawings are quick to read, photos are not
PHOTOS = [Path(matplotlib.get_data_path()) / "sample_data" / name
          for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png")]


def as_drawing(img28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return redraw_as_user(img28, rng)


def photo_regions(rng: np.random.Generator, n: int) -> Iterator[Image.Image]:
    photos = [Image.open(p).convert("RGB") for p in PHOTOS]
    for _ in range(n):
        img = photos[int(rng.integers(len(photos)))]
        side = int(rng.integers(48, min(img.size)))
        x, y = int(rng.integers(0, img.width - side + 1)), int(rng.integers(0, img.height - side + 1))
        yield img.crop((x, y, x + side, y + side)).resize((400, 400))


def noise(rng: np.random.Generator, n: int) -> Iterator[Image.Image]:
    for k in range(n):
        if k % 2:
            yield Image.fromarray(rng.integers(0, 256, (400, 400, 3), dtype=np.uint8))
        else:  # sparse specks on white, like a dirty scan
            a = np.full((400, 400), 255, np.uint8)
            a[rng.random((400, 400)) < 0.02] = 0
            yield Image.fromarray(a)


def scribbles(rng: np.random.Generator, n: int) -> Iterator[Image.Image]:
    for _ in range(n):
        img = Image.new("RGB", (400, 400), "white")
        points = [tuple(rng.integers(20, 380, 2).tolist()) for _ in range(int(rng.integers(4, 12)))]
        ImageDraw.Draw(img).line(points, fill="black", width=int(rng.integers(8, 20)), joint="curve")
        yield img


def test_patterns(rng: np.random.Generator, n: int) -> Iterator[Image.Image]:
    for _ in range(n):
        img = Image.new("RGB", (640, 480), tuple(rng.integers(0, 256, 3).tolist()))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(1, 4))):
            x, y, r = int(rng.integers(0, 640)), int(rng.integers(0, 480)), int(rng.integers(40, 200))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape((x - r, y - r, x + r, y + r), fill=tuple(rng.integers(0, 256, 3).tolist()))
        yield img


def rate(predictor: Predictor, pipeline: Callable, inputs: Iterator) -> dict:
    flagged = total = 0
    for item in inputs:
        prepared = pipeline(item, None, predictor.confidence)
        if prepared is None:  # nothing to classify: the app asks for an input instead of answering
            continue
        # As the app reads it: a hand photo's pixel reading may be the locator's squares (`read_pixels`).
        flagged += read_pixels(predictor, prepared, prepared.hand is not None).answer.unsure
        total += 1
    return {"n": total, "not_sure": round(flagged / max(total, 1), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    tabs = [name for name, s in data.DATASETS.items() if s.kind in N_REAL]
    p.add_argument("--sets", nargs="+", choices=tabs, default=tabs, help="the tabs' data sets to measure")
    p.add_argument("--weights", nargs="+", default=[], metavar="SET=PATH",
                   help="measure these weights files instead of the shipped ones, e.g. digits=my.safetensors")
    args = p.parse_args()
    files = dict(w.split("=", 1) for w in args.weights)
    result: dict = {}
    for spec in [data.DATASETS[name] for name in args.sets]:
        path = files.get(spec.name) or paths.weights_path(spec.name)
        ckpt = checkpoint.load(path, expect_dataset=spec.name)
        if ckpt.ood is None:
            raise SystemExit(f"{spec.name}: no detector; run python train.py --calibrate {path}")
        predictor = Predictor(ckpt)
        kind = spec.kind
        assert kind is not None
        pipeline = kind.prepare
        give = as_drawing if kind is DRAWING else photos.enlarged
        x, _ = data.load(spec.name, "test", args.data_dir)
        _, measure = ood.calibration_rows(len(x))
        rng = np.random.default_rng(0)
        real = x[measure].numpy()[:N_REAL[kind]]
        r: dict = {"threshold": ckpt.ood.threshold}
        r["real_28x28"] = rate(predictor, lambda a, *_: Prepared(a), iter(real))
        r["real_as_given"] = rate(predictor, pipeline, (give(a, rng) for a in real))
        if kind is DRAWING:
            traces = np.random.default_rng(1)
            r["real_traced"] = rate(predictor, pipeline, (strokes.rasterize(strokes.parse(trace.trace(a, traces)))
                                                          for a in real))
        out: dict = {}
        # Other data sets' images (hand shapes are landmark rows, not pictures: none to give).
        for other in [o for o, s in data.DATASETS.items() if o != spec.name and s.rows == spec.rows]:
            ox, _ = data.load(other, "test", args.data_dir)
            out[other] = rate(predictor, pipeline, (give(a, rng) for a in ox.numpy()[:N]))
        out["photo_regions"] = rate(predictor, pipeline, photo_regions(rng, N // 2))
        out["noise"] = rate(predictor, pipeline, noise(rng, N // 5))
        out["scribbles"] = rate(predictor, pipeline, scribbles(rng, N // 2))
        if kind is HAND_PHOTO:
            out["test_patterns"] = rate(predictor, pipeline, test_patterns(rng, N // 5))
        r["out_of_distribution"] = out
        total = sum(v["n"] for v in out.values())
        r["out_of_distribution_not_sure"] = round(sum(v["n"] * v["not_sure"] for v in out.values()) / total, 4)
        result[spec.name] = r
        print(spec.name, json.dumps(r), flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
