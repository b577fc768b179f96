"""Accuracy of the shipped weights on the real test sets, and of the Draw tab's preprocessing.

For each `weights/<name>.safetensors`: test accuracy on the full test split. For digits also:
every MNIST test digit redrawn as a user would draw it (enlarged 6-15x, black on white, at a
random place on an 800x600 canvas) and sent through the app's preprocessing; the accuracy on
those shows how much the drawing -> 28x28 path loses. The last line printed is JSON.

    python -m bench.accuracy --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from PIL import Image

from classifier import checkpoint, data, imageprep
from classifier.predict import Predictor
from classifier.trainer import evaluate


def redraw_as_user(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a user might draw it: enlarged 6-15x, black on white, somewhere on 800x600."""
    size = 28 * int(rng.integers(6, 16))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    canvas = np.full((600, 800), 255, np.uint8)
    top, left = int(rng.integers(0, 600 - size)), int(rng.integers(0, 800 - size))
    canvas[top:top + size, left:left + size] = 255 - big
    return canvas


def redrawn_accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    outs = [imageprep.sketch_to_digit(redraw_as_user(digit, rng)) for digit in images]
    preds = predictor.probabilities(np.stack(outs)).argmax(1)
    return float((preds == labels).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    result = {}
    for name, spec in data.DATASETS.items():
        ckpt = checkpoint.load(checkpoint.weights_path(name))
        x, y = data.load(name, "test", args.data_dir)
        _, acc, _ = evaluate(ckpt.model, x, y, ckpt.normalization)
        result[name] = {"test_accuracy": round(acc, 4), "n": len(y), "hidden": ckpt.meta["model"]["hidden"],
                        "command": ckpt.meta.get("command")}
        print(name, result[name], flush=True)
        if spec.user_input == "drawing":
            acc_redrawn = redrawn_accuracy(Predictor(ckpt), x.numpy(), y.numpy())
            result[name]["redrawn_test_accuracy"] = round(acc_redrawn, 4)
            print(f"{name} redrawn through the Draw preprocessing: {acc_redrawn:.4f}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
