"""How the Hand-signs tab does on real photos of people's hands (`real_hands_dev`: 405 photos, 6
people, 24 letters; webcam frames with face and body, hands cut out on black, a hand on a wall).

For every photo, per source and per kind of photo:

- **hand found**: MediaPipe's hand landmarker (`classifier.inputs.landmarks`) finds a hand;
- **pixel model, locator square**: the shipped Sign-MNIST pixel MLP on the square the sliding-window
  locator picks (`hand_photo.hand_photo` with no landmarker): top answer right (not "not sure"), and
  best guess right;
- **pixel model, landmark square**: the same model on the square framed around the landmarks
  (`Hand.square`), for margins around `landmarks.SQUARE_MARGIN`;
- **hand shape, shipped**: the shipped letters model (`weights/handshape.safetensors`, trained on
  generated hands only, `classifier.data.handgen`): right, right and not "not sure", and how its "not
  sure" sorts the photos it reads right from those it reads wrong;
- **hand shape, other training seeds** (`--recipe-seeds N`): the shipped recipe trained again from
  scratch with seeds 1..N, each read on the photos: how much the shipped figure owes to its seed;
- **hand shape, leave one person out**: a hand-shape MLP (`training.teach`, from scratch) trained on five
  people's photos, tested on the sixth's, for each person: what real photos would give a stranger;
- **teaching**: k = 1 and 2 photos a letter of one person, tested on that person's other photos,
  taught from scratch and from the shipped model (as the app teaches); and teaching 6 letters
  only: the shipped model's accuracy on the 18 letters not taught, before and after;
- **small pictures**: the photos whose hand fills the picture, shrunk to SMALL pixels on their long
  side (as small crops of a hand come): hand found, and the shipped hand-shape model right;
- **the other hand, other light**: every photo mirrored (a left-handed signer's), in grey (a black
  and white or infrared camera), dimmed to 35% and with its contrast at 40% (`ALTERED`): hand
  found, and the shipped hand-shape model right.

A photo with no hand found counts as wrong wherever a hand is needed. These photos are for
measuring only: no model that ships is trained on them (the generator's letter ranges and the "not
sure" threshold were tuned with them as a development set). The last line printed is JSON.

    python -m bench.real_hands --real-hands ../shared/datasets/real_hands_dev [--recipe-seeds 4] [--record]

`--record` writes the figures the Hand signs tab quotes (the shipped model right, the pixel model's
best guess right, taught one photo a letter) into the shipped hand-shape file's metadata.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from classifier import data, paths
from classifier.inputs import imageprep, landmarks
from classifier.inputs.hand_photo import hand_photo, photo_picture
from classifier.models import checkpoint
from classifier.serving.predict import Predictor, read_pixels
from classifier.training import teach
from classifier.training.trainer import Trainer, recipe

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "real_hands_dev"
MARGINS = (1.1, 1.2, 1.3, 1.4, 1.5)
NOT_SURE_MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)   # top probability minus the second
SMALL = 64        # pixels: the long side of the shrunk pictures
# Every photo made into another: the other hand, and light a classroom or another camera gives.
ALTERED: dict[str, Callable[[Image.Image], Image.Image]] = {
    "mirrored": ImageOps.mirror,
    "grey": lambda p: ImageOps.grayscale(p).convert("RGB"),             # black and white, or infrared
    "dim": lambda p: ImageEnhance.Brightness(p).enhance(0.35),          # a dark room
    "washed_out": lambda p: ImageEnhance.Contrast(p).enhance(0.4),      # against the light, or a haze
}
LOPO_STEPS = 600   # a model from scratch on five people's photos: more steps than a person's few


def load(folder: Path) -> list[dict]:
    with open(folder / "labels.csv", newline="") as f:
        return [dict(r, file=folder / r["path"]) for r in csv.DictReader(f)]


def share(hits: list[bool]) -> float:
    return round(100 * float(np.mean(hits)), 1) if hits else float("nan")


def by_group(rows: list[dict], hits: list[bool]) -> dict[str, float]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for r, h in zip(rows, hits, strict=True):
        groups["all"].append(h)
        groups[f"kind:{r['kind']}"].append(h)
        groups[f"source:{r['source']}"].append(h)
    return {k: share(v) for k, v in sorted(groups.items())}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    p.add_argument("--seeds", type=int, default=3, help="seeds for the hand-shape and teaching figures")
    p.add_argument("--recipe-seeds", type=int, default=0, help="also train the hand-shape recipe from scratch "
                   "with seeds 1..N (the shipped model is seed 0) and read the photos with each: how much the "
                   "shipped figure owes to its seed")
    p.add_argument("--record", action="store_true", help="write the figures the Hand signs tab quotes into "
                   "weights/handshape.safetensors' metadata")
    args = p.parse_args(argv)

    rows = load(args.real_hands)
    letters = list(data.SIGN_LETTERS)
    target = np.array([letters.index(r["letter"]) for r in rows])
    pixel = Predictor(checkpoint.load(paths.weights_path("signs")))
    finder = landmarks.finder()
    assert finder is not None, "MediaPipe or weights/hand_landmarker.task is missing"

    hands, old_top, old_guess, centre_guess, squares = [], [], [], [], {m: [] for m in MARGINS}
    pictures = []
    for r in rows:
        picture = photo_picture(r["file"])
        pictures.append(picture)
        hand = finder.find(picture)
        hands.append(hand)
        prepared = hand_photo(picture, None, pixel.confidence, find_hand=False)
        answer = pixel.answer(prepared.row, prepared.squares)
        best = answer.best[0]
        old_guess.append(best == r["letter"])
        old_top.append(best == r["letter"] and not answer.unsure)
        grey = imageprep.grey_photo(picture, upright=True)
        centre = pixel.answer(imageprep.square_to_sign(grey, None))
        centre_guess.append(max(centre.probabilities, key=centre.probabilities.get) == r["letter"])
        for m in MARGINS:
            if hand is None:
                squares[m].append(None)
            else:
                squares[m].append(imageprep.square_to_sign(grey, hand.square(*picture.size, margin=m)))
    found = [h is not None for h in hands]

    new_guess, new_top = {}, {}
    for m in MARGINS:
        idx = [i for i, s in enumerate(squares[m]) if s is not None]
        probs = pixel.probabilities(np.stack([squares[m][i] for i in idx])) if idx else np.zeros((0, 24))
        guess = [False] * len(rows)
        top = [False] * len(rows)
        for k, i in enumerate(idx):
            guess[i] = bool(probs[k].argmax() == target[i])
            answer = pixel.answer(squares[m][i])
            top[i] = guess[i] and not answer.unsure
        new_guess[m], new_top[m] = guess, top

    feats = np.stack([h.row if h is not None else np.zeros(63, np.float32)
                      for h in hands])
    spec = data.get_spec("handshape")
    shipped_file = checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape")
    shipped = Predictor(shipped_file)
    shipped_probs = shipped.probabilities(feats)
    shipped_right = [found[i] and bool(shipped_probs[i].argmax() == target[i]) for i in range(len(rows))]
    shipped_sure = [not shipped.close_call(shipped_probs[i]) for i in range(len(rows))]
    # The "not sure" rule's close-call margin, swept: what share of right answers and of wrong ones
    # each margin flags (with the top-probability threshold as shipped).
    top_two = np.sort(shipped_probs, 1)[:, ::-1][:, :2]
    wrong_found = [f and not h for f, h in zip(found, shipped_right, strict=True)]
    by_margin = {}
    for m in NOT_SURE_MARGINS:
        unsure = (top_two[:, 0] < shipped.not_sure_below) | (top_two[:, 0] - top_two[:, 1] < m)
        by_margin[str(m)] = {
            "flags_of_right": share([bool(u) for u, h in zip(unsure, shipped_right, strict=True) if h]),
            "flags_of_wrong_with_hand": share([bool(u) for u, w in zip(unsure, wrong_found, strict=True) if w]),
            "right_and_sure": share([h and not u for u, h in zip(unsure, shipped_right, strict=True)])}
    flagged_right = [not s for s, h in zip(shipped_sure, shipped_right, strict=True) if h]
    flagged_wrong = [not s for s, h, f in zip(shipped_sure, shipped_right, found, strict=True) if f and not h]
    # The tab's first answer (`predict.read_pixels`): the hand shape's, or the pixel model's on the
    # square the pipeline reads (`hand_photo`, as the tab calls it).
    first_right, pixels_first_with_hand = [], []
    for i, r in enumerate(rows):
        pixels = read_pixels(pixel, hand_photo(pictures[i], None, pixel.confidence), found[i])
        pixels_first_with_hand.append(found[i] and pixels.first)
        first_right.append(pixels.answer.best[0] == r["letter"] if pixels.first else shipped_right[i])
    confusions: dict[str, int] = defaultdict(int)
    for i, r in enumerate(rows):
        if found[i] and not shipped_right[i]:
            confusions[f"{r['letter']}->{letters[int(shipped_probs[i].argmax())]}"] += 1

    recipe_seeds = {"0 (shipped)": share(shipped_right)}
    for seed in range(1, args.recipe_seeds + 1):
        training = Trainer(recipe("handshape", seed=seed))
        for _ in training.fit():
            pass
        probs = Predictor(training.checkpoint(training.report().accuracy)).probabilities(feats)
        recipe_seeds[str(seed)] = share([found[i] and bool(probs[i].argmax() == target[i]) for i in range(len(rows))])

    people = sorted({r["source"] for r in rows})
    lopo = [False] * len(rows)
    lopo_runs: dict[str, list[float]] = defaultdict(list)
    for seed in range(args.seeds):
        hits = [False] * len(rows)
        for person in people:
            train = [i for i, r in enumerate(rows) if r["source"] != person and found[i]]
            test = [i for i, r in enumerate(rows) if r["source"] == person]
            model = Predictor(teach.teach(spec, feats[train], [letters[t] for t in target[train]], seed=seed,
                                          steps=LOPO_STEPS))
            probs = model.probabilities(feats[test])
            for k, i in enumerate(test):
                hits[i] = found[i] and model.classes[int(probs[k].argmax())] == letters[target[i]]
        for key, value in by_group(rows, hits).items():
            lopo_runs[key].append(value)
        if seed == 0:
            lopo = hits

    teaching: dict[str, list[float]] = defaultdict(list)
    for k in (1, 2):
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            for person in people:
                mine = [i for i, r in enumerate(rows) if r["source"] == person]
                taught, tested = [], []
                for letter in range(len(letters)):
                    of_letter = [i for i in mine if target[i] == letter]
                    rng.shuffle(of_letter)
                    taught += [i for i in of_letter[:k] if found[i]]
                    tested += of_letter[k:]
                if not taught or not tested:
                    continue
                labels = [letters[target[i]] for i in taught]
                truth = [letters[target[i]] for i in tested]
                for how, start in (("from scratch", None), ("from shipped", shipped_file)):
                    model = Predictor(teach.teach(spec, feats[taught], labels, start=start, seed=seed))
                    probs = model.probabilities(feats[tested])
                    hits = [found[i] and model.classes[int(probs[j].argmax())] == truth[j]
                            for j, i in enumerate(tested)]
                    teaching[f"k={k} {how}"].append(share(hits))
                if k == 1 and seed == 0:
                    teaching["k=0 shipped"].append(share([shipped_right[i] for i in tested]))
    # Small pictures of a hand: those that fill the picture, shrunk.
    small_found, small_right = [], []
    for i, r in enumerate(rows):
        if r["kind"] != "hand_fills_frame":
            continue
        picture = pictures[i]
        k = SMALL / max(picture.size)
        hand = finder.find(picture.resize((max(1, round(picture.width * k)), max(1, round(picture.height * k))),
                                          Image.Resampling.LANCZOS))
        small_found.append(hand is not None)
        small_right.append(hand is not None and shipped.answer(hand.row).best[0] == r["letter"])

    # The other hand, and harder light: every photo mirrored, in grey, dimmed, washed out.
    altered: dict[str, dict[str, list[bool]]] = {}
    for name, alter in ALTERED.items():
        altered[name] = {"found": [], "right": []}
        for i, r in enumerate(rows):
            hand = finder.find(alter(pictures[i].convert("RGB")))
            altered[name]["found"].append(hand is not None)
            altered[name]["right"].append(hand is not None and shipped.answer(hand.row).best[0] == r["letter"])

    # Teaching a few letters keeps the others: 6 letters, 2 photos each, of each person.
    few = ["A", "E", "M", "N", "S", "T"]
    untaught_before, untaught_after, taught_after = [], [], []
    for person in people:
        mine = [i for i, r in enumerate(rows) if r["source"] == person]
        taught = [i for i in mine if rows[i]["letter"] in few and found[i]]
        taught = [i for letter in few for i in [j for j in taught if rows[j]["letter"] == letter][:2]]
        model = Predictor(teach.teach(spec, feats[taught], [rows[i]["letter"] for i in taught], start=shipped_file,
                                      seed=0))
        probs = model.probabilities(feats)
        for i in mine:
            if i in taught:
                continue
            right = found[i] and model.classes[int(probs[i].argmax())] == rows[i]["letter"]
            if rows[i]["letter"] in few:
                taught_after.append(right)
            else:
                untaught_before.append(shipped_right[i])
                untaught_after.append(right)

    result = {
        "photos": len(rows), "people": len(people),
        "hand_found": by_group(rows, found),
        "pixel_locator_square_top": by_group(rows, old_top),
        "pixel_locator_square_guess": by_group(rows, old_guess),
        # Where MediaPipe finds no hand, the tab's first answer is the pixel model's on the locator's
        # square: what the locator adds there over the centre square.
        "no_hand_found": {"photos": found.count(False),
                          "pixel_locator_square_guess": share([g for g, f in zip(old_guess, found, strict=True)
                                                               if not f]),
                          "pixel_centre_square_guess": share([g for g, f in zip(centre_guess, found, strict=True)
                                                              if not f])},
        "pixel_landmark_square_guess": {str(m): by_group(rows, new_guess[m])["all"] for m in MARGINS},
        "pixel_landmark_square": {"margin": landmarks.SQUARE_MARGIN,
                                  "guess": by_group(rows, new_guess[landmarks.SQUARE_MARGIN]),
                                  "top": by_group(rows, new_top[landmarks.SQUARE_MARGIN])},
        "first_answer": by_group(rows, first_right),
        # Photos with a hand found whose first answer is still the pixel model's: like its own data
        # (`predict.like_pixel_data`).
        "pixels_first_with_hand": share(pixels_first_with_hand),
        "handshape_shipped": by_group(rows, shipped_right),
        "mirrored_handshape_right": by_group(rows, altered["mirrored"]["right"]),
        "altered": {name: {"hand_found": share(v["found"]), "handshape_right": share(v["right"])}
                    for name, v in altered.items()},
        "small_pictures": {"long_side": SMALL, "photos": len(small_found), "hand_found": share(small_found),
                           "handshape_right": share(small_right)},
        "handshape_shipped_sure_and_right": by_group(rows, [h and s for h, s in zip(shipped_right, shipped_sure,
                                                                                     strict=True)]),
        "handshape_shipped_not_sure": {"below": shipped.not_sure_below, "margin": shipped.not_sure_margin,
                                       "flags_of_right": share(flagged_right),
                                       "flags_of_wrong_with_hand": share(flagged_wrong)},
        "handshape_not_sure_by_margin": by_margin,
        # The hand-shape recipe trained from scratch with other seeds (--recipe-seeds), right on the photos.
        "handshape_recipe_seeds": recipe_seeds,
        "handshape_shipped_confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:10]),
        "handshape_leave_one_person_out": {k: round(float(np.mean(v)), 1) for k, v in lopo_runs.items()},
        "handshape_leave_one_person_out_of_found": share([lopo[i] for i in range(len(rows)) if found[i]]),
        "teaching_same_person": {k: round(float(np.mean(v)), 1) for k, v in sorted(teaching.items())},
        "teaching_6_letters": {"taught": few, "taught_right_after": share(taught_after),
                               "untaught_right_before": share(untaught_before),
                               "untaught_right_after": share(untaught_after)},
        "seeds": args.seeds,
    }
    width = max(len(k) for k in result["hand_found"])
    print(f"{'':{width}}  found  pixel/locator(top, guess)  pixel/landmarks(top, guess)  hand-shape LOPO  shipped")
    for key in result["hand_found"]:
        print(f"{key:{width}}  {result['hand_found'][key]:5.1f}  {result['pixel_locator_square_top'][key]:5.1f} "
              f"{result['pixel_locator_square_guess'][key]:5.1f}              "
              f"{result['pixel_landmark_square']['top'][key]:5.1f} {result['pixel_landmark_square']['guess'][key]:5.1f}"
              f"                 {result['handshape_leave_one_person_out'][key]:5.1f}")
    print("pixel model on the landmark square, best guess by margin:", result["pixel_landmark_square_guess"])
    print("photos with no hand found, pixel model's best guess (locator's square, centre square):",
          result["no_hand_found"])
    print("the tab's first answer right:", result["first_answer"])
    print("shipped hand-shape model, not sure:", result["handshape_shipped_not_sure"])
    print("hand-shape 'not sure' by close-call margin:", result["handshape_not_sure_by_margin"])
    print("hand-shape recipe, by training seed:", result["handshape_recipe_seeds"])
    print("shipped hand-shape model, most common confusions:", result["handshape_shipped_confusions"])
    print(f"hand-filled photos shrunk to {SMALL} px:", result["small_pictures"])
    print("every photo mirrored (the other hand), the hand shape right:", result["mirrored_handshape_right"]["all"])
    print("every photo altered (hand found, the hand shape right):", result["altered"])
    print("teaching (same person, k photos a letter):", result["teaching_same_person"])
    print("teaching 6 letters:", result["teaching_6_letters"])
    if args.record:
        record(result)
    print(json.dumps(result))
    return result


def record(result: dict) -> None:
    """Write the figures the Hand signs tab quotes into the shipped hand-shape file's metadata
    (`real_inputs`; `HandPhoto.wording.real_world` says them): its weights stay as they are."""
    path = paths.weights_path("handshape")
    ckpt = checkpoint.load(path)
    figures = {"first_answer": result["first_answer"]["all"] / 100,
               "pixel_model": result["pixel_locator_square_guess"]["all"] / 100,
               "taught_one_a_sign": result["teaching_same_person"]["k=1 from shipped"] / 100,
               "photos": result["photos"], "people": result["people"],
               "measured_by": "python -m bench.real_hands (real_hands_dev)"}
    checkpoint.save(path, ckpt.model, {**ckpt.meta, "real_inputs": figures}, ckpt.ood)
    print(f"wrote the real-photo figures into {path}")


if __name__ == "__main__":
    main()
