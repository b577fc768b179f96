"""Accuracy of the shipped weights on the real test sets, and of the Draw tab's preprocessing.

For each `weights/<name>.safetensors`: test accuracy on the full test split. For digits also:
every MNIST test digit redrawn as a user would draw it (enlarged 6-15x, black on white, at a
random place on an 800x600 canvas) and sent through the app's preprocessing; and every test digit
traced as strokes as a person would trace it on the Draw tab's pad (`bench.trace`), drawn by
`classifier.inputs.strokes` and sent through the same preprocessing; and every test digit written on
paper photographed under light that falls off across the page (to half, and to 30%, of its
brightest). The accuracy on those
shows how much the drawing -> 28x28 path loses. The last line printed is JSON.

    python -m bench.accuracy --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from PIL import Image

from bench import trace
from classifier import data, paths
from classifier.inputs import DRAWING, imageprep, strokes
from classifier.models import checkpoint
from classifier.serving.predict import Predictor
from classifier.training.trainer import evaluate


def redraw_as_user(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a user might draw it: enlarged 6-15x, black on white, somewhere on 800x600."""
    size = 28 * int(rng.integers(6, 16))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    canvas = np.full((600, 800), 255, np.uint8)
    top, left = int(rng.integers(0, 600 - size)), int(rng.integers(0, 800 - size))
    canvas[top:top + size, left:left + size] = 255 - big
    return canvas


def on_unevenly_lit_paper(digit: np.ndarray, rng: np.random.Generator, dim: float) -> np.ndarray:
    """An MNIST digit written on paper (reflecting 90%, the ink 15%) and photographed at 640x480 under
    light that falls off linearly across the page in a random direction, to `1 - dim` of its brightest
    at the far side, with a little sensor noise: what a phone photo of a page lit from one side gives."""
    size = 28 * int(rng.integers(6, 12))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC), np.float32) / 255
    h, w = 480, 640
    paper = np.full((h, w), 0.9, np.float32)
    top, left = int(rng.integers(0, h - size)), int(rng.integers(0, w - size))
    paper[top:top + size, left:left + size] = 0.9 - 0.75 * big
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx - w / 2) + np.sin(angle) * (yy - h / 2)) / (0.5 * np.hypot(w, h))
    light = 1.0 - dim * (ramp + 1) / 2
    return np.clip((paper * light + rng.normal(0, 0.01, (h, w))) * 255, 0, 255).astype(np.uint8)


def traced_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    outs = [imageprep.sketch_to_digit(np.asarray(strokes.rasterize(strokes.parse(trace.trace(d, rng)))))
            for d in images]
    preds = predictor.probabilities(np.stack(outs)).argmax(1)
    return float((preds == labels).mean())


def redrawn_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    outs = [imageprep.sketch_to_digit(redraw_as_user(digit, rng)) for digit in images]
    preds = predictor.probabilities(np.stack(outs)).argmax(1)
    return float((preds == labels).mean())


def paper_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, dim: float,
                   seed: int = 0) -> float:
    """Right answers for digits on unevenly lit paper (`on_unevenly_lit_paper`); nothing found counts as wrong."""
    rng = np.random.default_rng(seed)
    outs = [imageprep.sketch_to_digit(on_unevenly_lit_paper(digit, rng, dim)) for digit in images]
    found = np.array([o is not None for o in outs])
    preds = predictor.probabilities(np.stack([o if o is not None else np.zeros((28, 28), np.uint8)
                                              for o in outs])).argmax(1)
    return float(((preds == labels) & found).mean())


PAPER_DIMS = (0.5, 0.7)   # the light at the page's far side: half, and 30%, of its brightest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    result = {}
    for name, spec in data.DATASETS.items():
        ckpt = checkpoint.load(paths.weights_path(name))
        x, y = data.load(name, "test", args.data_dir)
        _, acc, _ = evaluate(ckpt.model, x, y, ckpt.normalization)
        result[name] = {"test_accuracy": round(acc, 4), "n": len(y), "hidden": ckpt.meta["model"]["hidden"],
                        "command": ckpt.meta.get("command")}
        print(name, result[name], flush=True)
        if spec.kind is DRAWING:
            acc_redrawn = redrawn_accuracy(Predictor(ckpt), x.numpy(), y.numpy())
            result[name]["redrawn_test_accuracy"] = round(acc_redrawn, 4)
            print(f"{name} redrawn through the Draw preprocessing: {acc_redrawn:.4f}", flush=True)
            acc_traced = traced_accuracy(Predictor(ckpt), x.numpy(), y.numpy())
            result[name]["traced_as_strokes_test_accuracy"] = round(acc_traced, 4)
            print(f"{name} traced as strokes, through strokes and the Draw preprocessing: {acc_traced:.4f}",
                  flush=True)
            for dim in PAPER_DIMS:
                acc_paper = paper_accuracy(Predictor(ckpt), x.numpy(), y.numpy(), dim)
                result[name][f"paper_light_falls_to_{1 - dim:.0%}_accuracy"] = round(acc_paper, 4)
                print(f"{name} on paper whose light falls to {1 - dim:.0%} across the page: {acc_paper:.4f}",
                      flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
