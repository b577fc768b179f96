"""Fingerspelled words read from video clips made of real photos of people's hands (`real_hands_dev`).

For each of the 6 people and each word of WORDS (all spelled with the 24 static letters; J and Z
are motions, which these photos do not hold), a clip is made of that person's own photos: each
letter one of their photos of it (drawn at random), held 0.5-0.9 s at 15 frames a second with a
small drift of a few pixels a frame (so no two frames are the same), cut straight to the next; a
double letter is the same photo held twice with a slide of a fifth of the picture between. The
clip is written as mp4 and read back as `/fingerspell_video` reads an upload (OpenCV's decoder,
MediaPipe's landmarks, the shipped hand-shape model, the speller with the shipped motion model, so
a J or Z written where there is none counts as an error).

Reported: character error rate (Levenshtein distance / letters, over all clips), words exactly
right, and beside them the share of the photos used that the hand-shape model reads right alone
(what the speller cannot do better than, the photos' errors being the same in every frame of a
hold). The last line printed is JSON.

    python -m bench.words --real-hands ../shared/datasets/real_hands_dev
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from bench.real_hands import DEFAULT, load
from classifier import paths
from classifier.inputs import landmarks, motion, video
from classifier.inputs.hand_photo import photo_picture
from classifier.models import checkpoint
from classifier.serving import spelling
from classifier.serving.predict import Predictor

# Everyday words of the static letters; several with a double letter.
WORDS = ("HELLO", "BOOK", "WATER", "FRIEND", "COFFEE", "APPLE", "SCHOOL", "YES", "NAME", "THANK",
         "GOOD", "HELP", "MOTHER", "BALL", "JAM", "TREE", "SLEEP", "BLUE", "WORK", "DOG")
WORDS = tuple(w for w in WORDS if "J" not in w and "Z" not in w)
FPS = 15
FRAME = (640, 480)   # every clip's size (a webcam's): each photo is fitted in it on black


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def fitted(picture: Image.Image) -> np.ndarray:
    """The photo scaled to fit FRAME, centred on black."""
    canvas = Image.new("RGB", FRAME)
    scale = min(FRAME[0] / picture.width, FRAME[1] / picture.height)
    small = picture.convert("RGB").resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
    canvas.paste(small, ((FRAME[0] - small.width) // 2, (FRAME[1] - small.height) // 2))
    return np.asarray(canvas)


def shifted(frame: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(frame)
    h, w = frame.shape[:2]
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    out[yd, xd] = frame[ys, xs]
    return out


def clip(word: str, photos: dict[str, list[Path]], rng: np.random.Generator) -> tuple[list[np.ndarray], list[Path]]:
    """The frames of one person spelling `word`, and the photo used for each letter."""
    frames, used = [], []
    previous = None
    for letter in word:
        if letter == previous:
            photo = used[-1]
            offset = np.array([FRAME[0] // 5 * rng.choice([-1, 1]), 0])
        else:
            photo = photos[letter][rng.integers(len(photos[letter]))]
            offset = np.zeros(2, int)
        used.append(photo)
        base = fitted(photo_picture(photo))
        n = max(2, round(rng.uniform(0.5, 0.9) * FPS))
        drift = np.cumsum(rng.integers(-2, 3, size=(n, 2)), axis=0)
        frames += [shifted(base, int(offset[0] + d[0]), int(offset[1] + d[1])) for d in drift]
        previous = letter
    return frames, used


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sweep", action="store_true", help="also try the speller's settings on the frames read")
    args = p.parse_args(argv)

    rows = load(args.real_hands)
    people: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        people[r["source"]][r["letter"]].append(r["file"])
    model = Predictor(checkpoint.load(paths.weights_path("handshape"), expect_dataset="handshape"))
    finder = landmarks.finder()
    assert finder is not None, "MediaPipe or weights/hand_landmarker.task is missing"
    reader = motion.reader()   # J and Z, as the app reads them (none of these words has them)
    rng = np.random.default_rng(args.seed)

    photo_right: dict[Path, bool] = {}

    def read_alone(photo: Path, letter: str) -> bool:
        if photo not in photo_right:
            hand = finder.find(photo_picture(photo))
            photo_right[photo] = hand is not None and model.answer(hand.row[None, :]).best[0] == letter
        return photo_right[photo]

    errors = letters = exact = clips = 0
    per_person: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    photos_right: list[bool] = []
    read: list[tuple[str, str, list[spelling.FrameAnswer]]] = []
    seconds = frames_read = 0.0
    examples = []
    with tempfile.TemporaryDirectory() as tmp:
        for person, photos in sorted(people.items()):
            for word in WORDS:
                if any(not photos.get(c) for c in word):
                    continue   # this person has no photo of a letter of it
                frames, used = clip(word, photos, rng)
                path = Path(tmp) / f"{person}-{word}.mp4"
                video.write(path, frames, FPS)
                start = time.perf_counter()
                answers = list(spelling.read_frames(video.frames(path), model, finder))
                seconds += time.perf_counter() - start
                frames_read += len(frames)
                read.append((person, word, answers))
                spelled = "".join(s.letter for s in spelling.spell(answers, model.classes, reader))
                e = levenshtein(spelled, word)
                errors, letters, clips = errors + e, letters + len(word), clips + 1
                exact += spelled == word
                per_person[person][0] += e
                per_person[person][1] += len(word)
                photos_right += [read_alone(ph, c) for ph, c in zip(used, word, strict=True)]
                if len(examples) < 12 and e:
                    examples.append(f"{person}: {word} -> {spelled}")
    sweep = {}
    if args.sweep:   # the speller's settings, on the frames already read
        for memory in (0.1, 0.15, 0.2, 0.3, 0.4):
            for hold in (0.1, 0.15, 0.2, 0.3):
                for floor in (0.2, 0.3, 0.4):
                    e = 0
                    for _, word, answers in read:
                        sp = spelling.Speller(model.classes, memory=memory, hold=hold, floor=floor, motion=reader)
                        for a in answers:
                            sp.feed(a.t, a.probabilities, a.hand)
                        e += levenshtein(sp.text, word)
                    sweep[f"memory={memory} hold={hold} floor={floor}"] = round(100 * e / letters, 1)
        for k, v in sorted(sweep.items(), key=lambda kv: kv[1])[:10]:
            print(f"  {k}: {v}%")
    result = {
        "clips": clips, "letters": letters,
        "character_error_rate": round(100 * errors / letters, 1),
        "words_exactly_right": round(100 * exact / clips, 1),
        "letters_photos_read_right_alone": round(100 * float(np.mean(photos_right)), 1),
        "per_person_cer": {k: round(100 * e / n, 1) for k, (e, n) in per_person.items()},
        "ms_per_frame": round(1000 * seconds / frames_read, 1),
        "examples_wrong": examples,
        "speller_settings_swept": sweep,
    }
    print(f"{clips} clips, {letters} letters: character error {result['character_error_rate']}%, "
          f"words exactly right {result['words_exactly_right']}%; the photos read right alone "
          f"{result['letters_photos_read_right_alone']}%; {result['ms_per_frame']} ms a frame")
    for line in examples:
        print("  ", line)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
