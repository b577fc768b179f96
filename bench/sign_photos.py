"""Hand signs in photo-like pictures: accuracy per kind of picture, and how well the hand is found.

Pictures are made by `classifier.inputs.photos` from Sign Language MNIST *test* rows only, on the
"bench" backgrounds (the locator trained on training rows and other backgrounds):
(a) "fill": the hand fills the frame; (b) "plain": the hand at 40-80% of the frame's shorter side
at a random place on a plain background; (c) "natural": the same on regions of natural photos
that scikit-image ships. All get colour casts, exposure, small rotations, JPEG and sometimes an
EXIF orientation. Each goes through `HAND_PHOTO.prepare`, the function the app calls, then
`Predictor.answer`. Printed per set: accuracy (the top class; "not sure" answers count by their
best guess, and their share is shown), the share answered "not sure", the mean IoU of the chosen
square with the true one and the share with IoU >= 0.7, and for comparison the accuracy with the
centre square (what the app did before it looked for the hand) and with the true square; and the
tab's first answer (the hand-shape model's where MediaPipe finds a hand, unless
`predict.read_pixels` says the pixel model's comes first), how often a hand is found, and how
often the hand shape's answer comes first.
Then the live mode: webcam-sized frames (640x480, plain and natural backgrounds) through
`classify_tab.classify_live`, the function the page's webcam stream calls, one after another as
one viewer's would; frames classified per second (goal >= 4). The last line is JSON.

    python -m bench.sign_photos --data-dir ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from classifier import data
from classifier.inputs import HAND_PHOTO, imageprep, photos
from classifier.inputs.hand_landmarks import HAND_LANDMARKS
from classifier.inputs.hand_photo import hand_locator
from classifier.inputs.locate import upright
from classifier.serving.predict import read_pixels
from studio import models

TARGETS = {"fill": 0.97, "plain": 0.93, "natural": 0.85}


def run(kind: str, n: int, seed: int, data_dir: str | None) -> dict:
    predictor = models.SHIPPED["signs"]
    if predictor is None:
        raise SystemExit(models.LOAD_ERRORS["signs"])
    x, y = data.load("signs", "test", data_dir)
    natural = photos.backgrounds("bench")
    rng = np.random.default_rng(seed)
    right = unsure = centre_right = true_right = first_right = hands = shape_first = 0
    shape_model = models.SHIPPED["handshape"]
    assert shape_model is not None, models.LOAD_ERRORS["handshape"]
    ious, seconds = [], 0.0

    def top(image: np.ndarray) -> str:
        return predictor.answer(image).best[0]

    for _ in range(n):
        i = int(rng.integers(len(x)))
        pic = photos.make(x[i].numpy(), kind, rng, natural)
        truth = predictor.classes[int(y[i])]
        start = time.perf_counter()
        prepared = HAND_PHOTO.prepare(pic.image, None, predictor.confidence)
        shape = shape_model.answer(HAND_LANDMARKS.prepare(prepared.hand).row) if prepared.hand is not None else None
        pixels = read_pixels(predictor, prepared, shape is not None)
        seconds += time.perf_counter() - start
        answer = pixels.answer
        right += answer.best[0] == truth
        # The tab's first answer: the hand shape's where MediaPipe found a hand, unless `read_pixels` says.
        first = answer if pixels.first else shape
        first_right += first.best[0] == truth
        hands += shape is not None
        shape_first += first is shape
        unsure += answer.unsure
        ious.append(photos.iou(pixels.prepared.box.as_tuple(), pic.box))
        grey = imageprep.grey_photo(upright(pic.image), upright=True)   # made once, two squares cut from it
        centre_right += top(imageprep.square_to_sign(grey)) == truth
        true_right += top(imageprep.square_to_sign(grey, pic.box)) == truth
    ious_a = np.asarray(ious)
    return {"kind": kind, "n": n, "accuracy": round(right / n, 4), "target": TARGETS[kind],
            "first_answer_accuracy": round(first_right / n, 4), "hand_found": round(hands / n, 4),
            "hand_shape_first": round(shape_first / n, 4),
            "not_sure": round(unsure / n, 4), "iou_mean": round(float(ious_a.mean()), 3),
            "iou_at_least_0.7": round(float((ious_a >= 0.7).mean()), 4),
            "accuracy_centre_square": round(centre_right / n, 4), "accuracy_true_square": round(true_right / n, 4),
            "ms_per_picture": round(1000 * seconds / n, 1)}


def live_fps(n: int, seed: int, data_dir: str | None) -> dict:
    """Frames per second through the live mode's own function, one viewer."""
    from classifier import data as datamod
    from studio import classify_tab

    spec = datamod.DATASETS["signs"]
    x, _ = data.load("signs", "test", data_dir)
    natural = photos.backgrounds("bench")
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        pic = photos.make(x[int(rng.integers(len(x)))].numpy(), ("plain", "natural")[k % 2], rng, natural)
        frames.append(np.asarray(upright(pic.image).convert("RGB").resize((640, 480))))
    recent: list = []
    classify_tab.classify_live(spec, frames[0], recent)  # warm-up
    start = time.perf_counter()
    for frame in frames:
        _, recent, *_ = classify_tab.classify_live(spec, frame, recent)
    seconds = time.perf_counter() - start
    return {"frames": n, "frames_per_second": round(n / seconds, 1), "ms_per_frame": round(1000 * seconds / n, 1),
            "goal_fps": 4}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--n", type=int, default=500, help="pictures per set (default 500)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--live-frames", type=int, default=200, help="frames for the live-mode timing (default 200)")
    args = p.parse_args()
    if hand_locator() is None:
        raise SystemExit("no hand locator: python train_locator.py")
    results = []
    print("| set | accuracy (target) | not sure | IoU mean | IoU >= 0.7 | centre square | true square | ms "
          "| first answer | hand found | hand shape first |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, kind in enumerate(photos.KINDS):
        r = run(kind, args.n, args.seed + k, args.data_dir)
        results.append(r)
        print(f"| ({'abc'[k]}) {kind} | {r['accuracy']:.1%} ({r['target']:.0%}) | {r['not_sure']:.1%} | "
              f"{r['iou_mean']:.3f} | {r['iou_at_least_0.7']:.1%} | {r['accuracy_centre_square']:.1%} | "
              f"{r['accuracy_true_square']:.1%} | {r['ms_per_picture']:.0f} | {r['first_answer_accuracy']:.1%} | "
              f"{r['hand_found']:.1%} | {r['hand_shape_first']:.1%} |", flush=True)
    live = live_fps(args.live_frames, args.seed + 10, args.data_dir)
    print(f"live mode: {live['frames_per_second']} frames/s ({live['ms_per_frame']} ms a frame; goal >= 4/s)")
    print(json.dumps({"results": results, "live": live, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
