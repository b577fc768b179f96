"""Train the hand locator (`classifier.inputs.locate`): an MLP that scores how well a square window frames a hand.

Pictures come from `classifier.inputs.photos` made of Sign Language MNIST *training* rows on the
"train" backgrounds (the bench uses test rows and other backgrounds). From each picture, windows
of the locator's own grid are cut out and labelled with their overlap (IoU) with the true box:
every well-placed window, the near misses, and a random sample of the rest. The MLP learns to
predict that overlap; the search then keeps the window it scores highest.

    python train_locator.py --data-dir ../shared/datasets      # -> weights/hand_locator.safetensors
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from classifier import data
from classifier.inputs import locate, photos
from classifier.models.mlp import MLP, MLPConfig, fit_small


def make_windows(n_pictures: int, seed: int, data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 28, 28) uint8 windows and their (N,) IoU with the hand's box."""
    images, _ = data.load("signs", "train", data_dir)
    natural = photos.backgrounds("train")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n_pictures):
        img28 = images[int(rng.integers(len(images)))].numpy()
        kind = rng.choice(photos.KINDS, p=[0.15, 0.4, 0.45])
        pic = photos.make(img28, str(kind), rng, natural)
        picture = locate.upright(pic.image).convert("RGB")
        grey, scale = locate.grey_work_copy(picture)
        boxes, windows28 = locate.window_grid(grey, scale)
        overlap = photos.iou_many(boxes, pic.box)
        good = np.flatnonzero(overlap >= 0.5)
        near = np.flatnonzero((overlap >= 0.15) & (overlap < 0.5))
        rest = np.flatnonzero(overlap < 0.15)
        pick = np.concatenate([rng.permutation(good)[:40], rng.permutation(near)[:30], rng.permutation(rest)[:30]])
        # Jittered copies of the true box, so the best scores go to the exact framing.
        x0, y0, x1, y1 = pic.box
        side = x1 - x0
        jitter = []
        for _ in range(8):
            ns = side * rng.uniform(0.92, 1.08)
            cx, cy = (x0 + x1) / 2 + rng.normal(0, 0.03) * side, (y0 + y1) / 2 + rng.normal(0, 0.03) * side
            jitter.append((cx - ns / 2, cy - ns / 2, cx + ns / 2, cy + ns / 2))
        chosen = np.concatenate([boxes[pick], np.asarray(jitter, dtype=np.float32)])
        cut = torch.cat([windows28[torch.from_numpy(pick)], locate.crops(grey, np.asarray(jitter), scale)])
        xs.append(cut.round().to(torch.uint8))
        ys.append(torch.from_numpy(photos.iou_many(chosen, pic.box)).float())
    return torch.cat(xs), torch.cat(ys)


def train(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> MLP:
    g = torch.Generator().manual_seed(seed)
    model = MLP(MLPConfig(hidden=[256, 64], n_classes=1, batchnorm=True), generator=g)
    inputs = locate.normalize(x, locate.NORMALIZATION)

    def loss_of(idx: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(model(inputs[idx])[:, 0], y[idx])

    return fit_small(model, len(x), loss_of, epochs, g, weight_decay=0.01)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir")
    p.add_argument("--pictures", type=int, default=3000, help="generated training pictures (default 3000)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threshold", type=float, default=0.5,
                   help="below this estimated overlap the answer is the centre square (default 0.5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=str(locate.LOCATOR_PATH))
    args = p.parse_args(argv)
    start = time.perf_counter()
    x, y = make_windows(args.pictures, args.seed, args.data_dir)
    print(f"{len(x):,} windows from {args.pictures:,} pictures in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    model = train(x, y, args.epochs, args.seed)
    seconds = time.perf_counter() - start
    command = "python train_locator.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {"trained_on": f"{args.pictures} pictures made by classifier.inputs.photos from Sign Language MNIST "
                          f"training rows on the train backgrounds, seed {args.seed}", "command": command.strip(),
            "train_seconds": round(seconds, 1), "windows": len(x)}
    path = locate.Locator(model, args.threshold, meta).save(args.output)
    print(json.dumps({"output": str(path), "windows": len(x), "train_seconds": round(seconds, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
