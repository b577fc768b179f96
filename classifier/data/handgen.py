"""Generated hands: a small kinematic hand that makes the 24 static letters of the ASL alphabet as
21 landmarks, the way MediaPipe's hand landmarker reports a photo of them. No data we may ship has
landmarks, so the shipped hand-shape letters model learns from these.

The hand is built in the frame `landmarks.hand_row` puts every real hand in: the wrist at the
origin, the fingers along -y (up in the picture), the thumb's side at +x, the palm facing -z
(towards the camera; MediaPipe's z is smaller nearer the camera), the wrist-to-middle-knuckle
distance about 1. Each finger has three hinges (flexion at the knuckle, the middle and the end
joint) and a spread at the knuckle; the thumb has a two-axis base (spread in the palm's plane and
lift out of it, towards the palm) and two hinges. A letter is a range for each of these angles
and for the view (yaw, pitch, roll of the hand, distance to the camera); a generated hand draws
proportions, angles and view from them, is projected with perspective and normalized exactly as
a real hand is.

The letter ranges were written from the ASL alphabet's handshapes and then tuned with the real
photos of `real_hands_dev` used as a development set (looking at which letters the model
confused); no landmark of those photos is in here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..inputs.landmarks import N_POINTS, hand_row

FINGERS = ("index", "middle", "ring", "little")
# Landmark numbers: the thumb's base (CMC), then four per finger from its knuckle (MCP) to its tip.
THUMB_POINTS = (1, 2, 3, 4)
FINGER_POINTS = {"index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16),
                 "little": (17, 18, 19, 20)}

# An average hand in wrist-to-middle-knuckle units (x to the thumb's side, y down the picture):
# the knuckles and the thumb's base on the palm, and each bone's length.
KNUCKLES = {"index": (0.24, -0.97), "middle": (0.0, -1.0), "ring": (-0.23, -0.94), "little": (-0.43, -0.78)}
THUMB_BASE = (0.33, -0.27)
BONES = {"thumb": (0.44, 0.40, 0.32), "index": (0.40, 0.27, 0.23), "middle": (0.43, 0.32, 0.23),
         "ring": (0.38, 0.31, 0.21), "little": (0.30, 0.22, 0.17)}
# How far each finger points away from the middle finger's line when the hand is relaxed (degrees, + to the thumb).
REST_SPREAD = {"index": -8.0, "middle": -7.0, "ring": -6.0, "little": -4.0}

Range = tuple[float, float]

# Finger positions: knuckle, middle and end joint flexion in degrees (0 straight, 90 a right angle
# towards the palm), for the common ones.
STRAIGHT = ((0, 25), (0, 12), (0, 10))
# Tips pressed into the palm, as MediaPipe reports it rather than as bones can bend: it puts a
# folded finger's hidden middle bone flat along the palm and its end bone back into it (so the
# middle bone's length shows whole in the picture and the others' shortened).
FIST = ((40, 60), (110, 135), (40, 65))


@dataclass(frozen=True)
class Thumb:
    spread: Range = (-20, 0)   # in the palm's plane from the fingers' direction, + away from the index
    lift: Range = (30, 50)     # out of the palm's plane, towards the palm's side
    mcp: Range = (20, 45)      # the two hinges, bending across the palm
    ip: Range = (10, 30)


@dataclass(frozen=True)
class View:
    roll: Range = (-10, 30)    # in the picture's plane, + turns the fingers towards the thumb's side
    yaw: Range = (-37, 13)     # about the hand's own long axis first, - turns the palm to the thumb's side
    pitch: Range = (-10, 20)   # then about the picture's horizontal


@dataclass(frozen=True)
class Letter:
    fingers: dict[str, tuple[Range, Range, Range]]
    thumb: Thumb
    spread: dict[str, Range] = field(default_factory=dict)   # extra spread per finger, degrees
    views: tuple[View, ...] = (View(),)   # the ways it is seen, each as likely


def _fingers(index=FIST, middle=FIST, ring=FIST, little=FIST) -> dict[str, tuple[Range, Range, Range]]:
    return {"index": index, "middle": middle, "ring": ring, "little": little}


HOLDING = Thumb(spread=(-42, -25), lift=(10, 35), mcp=(20, 40), ip=(20, 40))   # over the folded fingers
TUCKED = Thumb(spread=(-38, -22), lift=(10, 35), mcp=(30, 50), ip=(30, 50))    # across the palm
# G and H point across the body, P and Q down; C and O are seen from the side. Signers turn these
# hands either way: a view for each.
G_VIEWS = (View(roll=(-75, -15), yaw=(-15, 40), pitch=(-5, 20)), View(roll=(-30, -10), yaw=(70, 115), pitch=(-8, 5)),
           View(roll=(25, 50), yaw=(-160, -120), pitch=(15, 35)))
H_VIEWS = (View(roll=(-75, -35), yaw=(-35, 0), pitch=(-5, 20)), View(roll=(30, 60), yaw=(-155, -135), pitch=(20, 35)))
P_VIEWS = (View(roll=(-80, -40), yaw=(25, 55), pitch=(-8, 12)), View(roll=(65, 115), yaw=(-105, -85), pitch=(-2, 32)))
Q_VIEWS = (View(roll=(-130, -60), yaw=(45, 135), pitch=(0, 20)), View(roll=(60, 115), yaw=(-90, -75), pitch=(15, 30)),
           View(roll=(60, 115), yaw=(75, 130), pitch=(0, 20)))
C_VIEWS = (View(roll=(-5, 50), yaw=(-95, -30), pitch=(-20, 5)),)
# D's ring of fingers and X's hook are often shown from the side.
D_VIEWS = (View(), View(roll=(-10, 30), yaw=(-110, -55)))
X_VIEWS = (View(), View(roll=(-10, 30), yaw=(40, 90)))
O_VIEWS = (View(roll=(-25, 40), yaw=(-85, -25), pitch=(-20, 10)), View(roll=(-10, 0), yaw=(75, 90), pitch=(10, 16)))

LETTERS: dict[str, Letter] = {
    "A": Letter(_fingers(), Thumb(spread=(-5, 10), lift=(0, 10), mcp=(20, 40), ip=(10, 30))),
    "B": Letter(_fingers(STRAIGHT, STRAIGHT, STRAIGHT, STRAIGHT), TUCKED, spread={f: (-4, 2) for f in FINGERS}),
    "C": Letter(_fingers(*[((5, 30), (30, 50), (15, 30))] * 4), Thumb(spread=(-20, 0), lift=(30, 50), mcp=(0, 20),
                ip=(0, 20)), views=C_VIEWS),
    "D": Letter(_fingers(STRAIGHT, *[((5, 35), (85, 110), (45, 65))] * 3),
                Thumb(spread=(-22, -6), lift=(25, 45), mcp=(15, 35), ip=(25, 45)), views=D_VIEWS),
    "E": Letter(_fingers(*[((15, 40), (85, 105), (50, 70))] * 4), Thumb(spread=(-15, 0), lift=(5, 30), mcp=(50, 75),
                ip=(40, 70))),
    "F": Letter(_fingers(((35, 55), (50, 75), (30, 50)), STRAIGHT, STRAIGHT, STRAIGHT),
                Thumb(spread=(-15, 0), lift=(25, 45), mcp=(5, 25), ip=(40, 65)),
                spread={"middle": (-4, 6), "ring": (-10, 0), "little": (-16, -6)}),
    "G": Letter(_fingers(((30, 60), (0, 15), (0, 10))), Thumb(spread=(-30, -15), lift=(10, 35), mcp=(10, 30),
                ip=(5, 20)), views=G_VIEWS),
    "H": Letter(_fingers(((20, 50), (0, 15), (0, 10)), ((20, 50), (0, 15), (0, 10))), HOLDING, views=H_VIEWS,
                spread={"index": (-6, 2), "middle": (-2, 8)}),
    "I": Letter(_fingers(little=STRAIGHT), Thumb(spread=(-10, 5), lift=(5, 25), mcp=(10, 30), ip=(5, 25)),
                spread={"little": (-24, -12)}),
    "K": Letter(_fingers(STRAIGHT, ((10, 35), (0, 20), (0, 10))), Thumb(spread=(-38, -22), lift=(5, 25),
                mcp=(10, 30), ip=(0, 10)), spread={"index": (6, 16), "middle": (-20, -8)}),
    "L": Letter(_fingers(STRAIGHT), Thumb(spread=(5, 25), lift=(0, 10), mcp=(-20, 0), ip=(-20, 0))),
    "M": Letter(_fingers(*[((15, 40), (80, 100), (40, 60))] * 3, ((40, 65), (70, 95), (30, 50))),
                Thumb(spread=(-38, -22), lift=(10, 35), mcp=(25, 45), ip=(25, 45))),
    "N": Letter(_fingers(*[((25, 50), (80, 100), (40, 60))] * 2, *[((50, 75), (80, 100), (40, 60))] * 2),
                Thumb(spread=(-38, -22), lift=(10, 35), mcp=(25, 45), ip=(5, 25))),
    "O": Letter(_fingers(*[((25, 50), (50, 70), (35, 55))] * 4), Thumb(spread=(-25, -5), lift=(35, 55), mcp=(5, 25),
                ip=(15, 35)), views=O_VIEWS),
    "P": Letter(_fingers(STRAIGHT, ((35, 65), (20, 40), (10, 25)), *[((55, 85), (55, 80), (25, 45))] * 2),
                Thumb(spread=(-55, -38), lift=(15, 40), mcp=(0, 15), ip=(5, 20)),
                spread={"index": (6, 16), "middle": (-20, -8)}, views=P_VIEWS),
    "Q": Letter(_fingers(STRAIGHT, *[((55, 85), (70, 95), (30, 50))] * 3), Thumb(spread=(-35, -15), lift=(25, 50),
                mcp=(10, 30), ip=(0, 20)), views=Q_VIEWS),
    # The middle finger crossed behind the index: MediaPipe reports it anywhere from straight to bent.
    "R": Letter(_fingers(STRAIGHT, ((0, 70), (0, 60), (0, 30))), HOLDING, spread={"index": (-22, -10), "middle": (0, 10)}),
    "S": Letter(_fingers(), Thumb(spread=(-26, -8), lift=(5, 30), mcp=(35, 60), ip=(30, 60))),
    "T": Letter(_fingers(((25, 45), (80, 100), (40, 60))), Thumb(spread=(-28, -12), lift=(5, 25), mcp=(15, 35),
                ip=(0, 10))),
    "U": Letter(_fingers(STRAIGHT, STRAIGHT), HOLDING, spread={"index": (-6, 2), "middle": (-2, 8)}),
    "V": Letter(_fingers(STRAIGHT, STRAIGHT), HOLDING, spread={"index": (8, 20), "middle": (-12, -2)}),
    "W": Letter(_fingers(STRAIGHT, STRAIGHT, STRAIGHT), HOLDING,
                spread={"index": (10, 22), "middle": (-4, 6), "ring": (-22, -10)}),
    "X": Letter(_fingers(((10, 35), (35, 60), (15, 35)), *[((45, 70), (85, 110), (40, 65))] * 3),
                Thumb(spread=(-22, -6), lift=(15, 40), mcp=(40, 60), ip=(5, 25)), views=X_VIEWS),
    "Y": Letter(_fingers(little=STRAIGHT), Thumb(spread=(0, 20), lift=(0, 10), mcp=(0, 25), ip=(-20, 0)),
                spread={"little": (-28, -16)}),
}


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


PALMAR = np.array([0.0, 0.0, -1.0])   # the way the palm faces


def pose(letter: Letter, rng: np.random.Generator) -> np.ndarray:
    """(21, 3) points of one hand making `letter`, in the hand's own frame (palm facing the camera),
    with proportions and angles drawn from the letter's ranges."""
    def draw(r: Range) -> float:
        return math.radians(rng.uniform(*r))

    pts = np.zeros((N_POINTS, 3))
    # Proportions: the whole hand, the fingers against the palm, and every bone a little.
    finger_scale = rng.uniform(0.9, 1.1)
    for name in FINGERS:
        kx, ky = KNUCKLES[name]
        base = np.array([kx * rng.uniform(0.9, 1.1), ky * rng.uniform(0.96, 1.04), rng.normal(0, 0.03)])
        spread = math.radians(REST_SPREAD[name] + rng.normal(0, 2)) + draw(letter.spread.get(name, (0, 0)))
        along = np.array([math.sin(spread), -math.cos(spread), 0.0])
        bent = 0.0
        point = base
        chain = [point]
        for bone, hinge in zip(BONES[name], letter.fingers[name], strict=True):
            bent += draw(hinge)
            point = point + bone * finger_scale * rng.uniform(0.92, 1.08) * (math.cos(bent) * along
                                                                               + math.sin(bent) * PALMAR)
            chain.append(point)
        pts[list(FINGER_POINTS[name])] = chain
    # The thumb: its metacarpal leaves the base at an angle in the palm's plane and lifts towards the
    # palm; its two hinges bend it across the palm (towards the little finger and the palm's side).
    t = letter.thumb
    base = np.array([THUMB_BASE[0] * rng.uniform(0.9, 1.1), THUMB_BASE[1] * rng.uniform(0.9, 1.1), 0.0])
    spread, lift = math.radians(25) + draw(t.spread), draw(t.lift)
    in_plane = np.array([math.sin(spread), -math.cos(spread), 0.0])
    direction = _unit(math.cos(lift) * in_plane + math.sin(lift) * PALMAR)
    across = _unit(np.array([-1.0, 0.0, -0.35]))
    curl = _unit(across - direction * float(direction @ across))
    point = base
    chain = [point]
    bent = 0.0
    for k, bone in enumerate(BONES["thumb"]):
        bent += 0.0 if k == 0 else draw((t.mcp, t.ip)[k - 1])
        point = point + bone * finger_scale * rng.uniform(0.92, 1.08) * (math.cos(bent) * direction
                                                                           + math.sin(bent) * curl)
        chain.append(point)
    pts[list(THUMB_POINTS)] = chain
    return pts


def seen(points: np.ndarray, roll: float, yaw: float, pitch: float, distance: float, depth: float) -> np.ndarray:
    """The hand's points turned (degrees: roll in the picture's plane, after pitch, after yaw about
    the hand's long axis) and seen by a camera `distance` hand units from the wrist: x, y as the
    picture shows them (perspective), z the depth relative to the wrist scaled by `depth`."""
    rotation = _rot_z(math.radians(roll)) @ _rot_x(math.radians(pitch)) @ _rot_y(math.radians(yaw))
    p = points @ rotation.T
    out = p.copy()
    out[:, :2] = p[:, :2] * (distance / (distance + p[:, 2:3]))
    out[:, 2] = p[:, 2] * depth
    return out


def view(points: np.ndarray, letter: Letter, rng: np.random.Generator) -> np.ndarray:
    """The hand turned as the letter's view allows and seen by a camera (`seen`), with the
    landmarker's jitter."""
    v = letter.views[rng.integers(len(letter.views))]
    roll, pitch, yaw = rng.uniform(*v.roll), rng.uniform(*v.pitch), rng.uniform(*v.yaw)
    distance = rng.uniform(4.0, 14.0)   # camera to wrist, in hand units
    depth = rng.uniform(0.35, 0.65)     # MediaPipe's depth is an estimate, about half as deep
    out = seen(points, roll, yaw, pitch, distance, depth)
    return out + rng.normal(0, 0.012, out.shape)


def sample(letter: str, rng: np.random.Generator) -> np.ndarray:
    """(21, 3) landmarks of one generated hand making `letter`, as a picture's landmarks."""
    spec = LETTERS[letter]
    return view(pose(spec, rng), spec, rng)


def generate(per_letter: int, seed: int = 0, letters: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 63) normalized generated hands and their labels (indices into `letters`, by default the
    24 letters in alphabetical order), `per_letter` of each; the same seed gives the same hands."""
    letters = tuple(letters or LETTERS)
    rng = np.random.default_rng(seed)
    x = np.stack([hand_row(sample(letter, rng), "Right") for letter in letters for _ in range(per_letter)])
    y = np.repeat(np.arange(len(letters)), per_letter)
    return x.astype(np.float32), y
