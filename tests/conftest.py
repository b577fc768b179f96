"""Shared fixtures: small data sets the tests write themselves, and the real data when present.

Tests that need the real data sets take the `real_data_dir` fixture. Where the data is
missing they skip with a reason, except when REQUIRE_REAL_DATA=1 (set by .ci/run): then a
missing data set fails the run, so CI can never pass by skipping them.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
# The app's store of projects: a fresh one for each test run, never the developer's own state/.
os.environ.setdefault("CLASSIFIER_STATE_DIR", tempfile.mkdtemp(prefix="classifier-test-state-"))
SHARED_DATA = ROOT.parent / "shared" / "datasets"


def unstyled_classes(html: str) -> set[str]:
    """The CSS classes `html` uses that the app's stylesheet (`studio/assets/app.css`) has no rule for."""
    import re

    from studio import assets

    used = {c for attr in re.findall(r'class="([^"]+)"', html) for c in attr.split()}
    return used - set(re.findall(r"\.([a-z][a-z-]*)", assets.read("app.css")))


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress if compress is not None else path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


def write_sign_csv(path: Path, labels: np.ndarray, images: np.ndarray) -> Path:
    header = ",".join(["label"] + [f"pixel{i}" for i in range(1, 785)])
    rows = [",".join(map(str, [int(lbl)] + img.ravel().astype(int).tolist()))
            for lbl, img in zip(labels, images, strict=True)]
    text = (header + "\n" + "\n".join(rows) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(text)
    else:
        path.write_bytes(text)
    return path


def synthetic_images(labels: np.ndarray, n_classes: int, seed: int = 0) -> np.ndarray:
    """Easily separable 28x28 images: class k lights up its own horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(len(labels), 28, 28)).astype(np.uint8)
    band = 28 // n_classes
    for i, k in enumerate(labels):
        images[i, k * band:(k + 1) * band, 4:24] = 220
    return images


def synthetic_splits(n_train: int, n_val: int, n_test: int, n_classes: int = 10, seed: int = 0):
    """In-memory `data.Splits` of `synthetic_images`, each part with its own noise."""
    import torch

    from classifier import data

    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = rng.integers(0, n_classes, size=n)
        return torch.from_numpy(synthetic_images(y, n_classes, seed=int(rng.integers(1e6)))), torch.from_numpy(y)

    return data.Splits(*part(n_train), *part(n_val), *part(n_test))


def make_mnist_dir(root: Path, folder: str = "MNIST", n_train: int = 600, n_test: int = 200,
                   gz: bool = True, seed: int = 0) -> Path:
    """A data directory with a small, learnable MNIST-layout data set."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    ext = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte{ext}", synthetic_images(labels, 10, seed))
        write_idx(raw / f"{split}-labels-idx1-ubyte{ext}", labels)
    return root


def make_signs_dir(root: Path, n_train: int = 240, n_test: int = 96, gz: bool = True, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    source_labels = np.array([v for v in range(25) if v != 9])
    folder = root / "sign_mnist"
    ext = ".csv.gz" if gz else ".csv"
    for split, n in (("train", n_train), ("test", n_test)):
        idx = rng.integers(0, 24, size=n)
        write_sign_csv(folder / f"sign_mnist_{split}{ext}", source_labels[idx], synthetic_images(idx, 24, seed))
    return root


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    make_mnist_dir(tmp_path)
    make_mnist_dir(tmp_path, folder="FashionMNIST", seed=1)
    make_signs_dir(tmp_path)
    return tmp_path


def _real_dir() -> Path | None:
    """$CLASSIFIER_REAL_DATA if set (a missing path there means: act as if there is no real data),
    else ../shared/datasets if present."""
    candidate = Path(os.environ.get("CLASSIFIER_REAL_DATA") or SHARED_DATA)
    return candidate if (candidate / "MNIST" / "raw").is_dir() else None


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    path = _real_dir()
    if path is None:
        reason = f"real data sets not found ($CLASSIFIER_REAL_DATA, else {SHARED_DATA})"
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason + "; REQUIRE_REAL_DATA=1 says they must be there")
        pytest.skip(reason)
    return path


# ------------------------------------------------------------------ the launched app

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: Path, log_path: Path, *args: str,
              cache_dir: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start `python demo.py` (with `args`; Gradio's upload cache in `cache_dir` if given) on a free
    port and wait until it answers."""
    port = free_port()
    env = {**os.environ, "CLASSIFIER_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    if cache_dir is not None:
        env["GRADIO_TEMP_DIR"] = str(cache_dir)
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "demo.py", "--port", str(port), *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"demo.py exited: {log_path.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("demo.py did not start within 120 s")
    time.sleep(1.0)
    return proc, url


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    real = _real_dir()
    if real is not None:
        return real
    tiny = tmp_path_factory.mktemp("data")
    make_mnist_dir(tiny)
    make_signs_dir(tiny)
    return tiny


@pytest.fixture(scope="session")
def app_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the launched app's Gradio keeps uploads and downloads."""
    return tmp_path_factory.mktemp("gradio-cache")


@pytest.fixture(scope="session")
def app(app_data_dir: Path, app_cache_dir: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app, shared by the tests of a run: its URL and its log file."""
    # Saving into weights/ is on, as for a teacher running the app for a class (off by default).
    log = tmp_path_factory.mktemp("logs") / "demo.log"
    # Every test's page and client comes from 127.0.0.1 and makes a project: more than a class an hour.
    proc, url = start_app(app_data_dir, log, "--save-to-weights", "--projects-per-hour", "100000",
                          cache_dir=app_cache_dir)
    yield url, log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url(app: tuple[str, Path]) -> str:
    return app[0]



@pytest.fixture(scope="session")
def real_hands_dir() -> Path:
    """The real photos of people's hands (`real_hands_dev`), for measuring only: read, never copied."""
    real = _real_dir()
    path = (real / "real_hands_dev") if real is not None else None
    if path is None or not (path / "labels.csv").is_file():
        reason = f"real hand photos not found (real_hands_dev beside the data sets, {SHARED_DATA})"
        if os.environ.get("REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason + "; REQUIRE_REAL_DATA=1 says they must be there")
        pytest.skip(reason)
    return path


@pytest.fixture
def client(app_url: str):
    """A gradio_client session of its own on the shared app."""
    # Imported here: the library's tests also run where only torch is installed (a GPU machine).
    from gradio_client import Client

    return Client(app_url, verbose=False)


def png(img: Image.Image, tmp_path: Path, name: str = "img.png", **kw) -> str:
    """`img` saved under tmp_path; its path, for handle_file."""
    path = tmp_path / name
    img.save(path, **kw)
    return str(path)


def seven(size: int = 400) -> Image.Image:
    """A 7 drawn as a user would on a white canvas."""
    img = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    s = size / 400
    ImageDraw.Draw(img).line([(80 * s, 60 * s), (320 * s, 60 * s), (180 * s, 360 * s)], fill=(0, 0, 0, 255),
                             width=max(1, int(14 * s)))
    return img


def sketch_value(path: str) -> dict:
    """/classify_digit's Sketchpad value for a picture file."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(path)}


def confidences(label_output: dict) -> dict[str, float]:
    """{label: probability} from a Label output."""
    return {c["label"]: c["confidence"] for c in label_output["confidences"]}


@pytest.fixture
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's store, empty, in a file of this test's own; fresh in-process sessions too."""
    from studio import models, projects

    path = tmp_path / "store.db"
    projects.configure(f"sqlite:///{path}")
    monkeypatch.setattr(models, "SESSIONS", models.Sessions())
    yield path
    projects.configure(None)


def constant_checkpoint(answer: int, dataset: str = "digits"):
    """A small `dataset` model (one hidden layer of 8) that answers class `answer` whatever it reads."""
    import torch

    from classifier import data
    from classifier.models import checkpoint
    from classifier.models.mlp import MLP, MLPConfig

    spec = data.DATASETS[dataset]
    model = MLP(MLPConfig(hidden=[8], n_classes=len(spec.classes), batchnorm=False))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.net[-1].bias[answer] = 10.0
    return checkpoint.Checkpoint(model.eval(), spec.weights_meta(model.config))


# ---------------------------------------------------------------------------- stores

# PostgreSQL: store tests run against CLASSIFIER_TEST_DATABASE (a URL; `.ci/run` starts Debian's server
# and sets it). Without it they skip, except where REQUIRE_POSTGRES=1 (CI): then they fail.
PG_ENV = "CLASSIFIER_TEST_DATABASE"


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store's URL: a SQLite file, or the test PostgreSQL database emptied."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    pg = os.environ.get(PG_ENV)
    if not pg:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(f"no PostgreSQL to test against: set {PG_ENV}=postgresql+psycopg://...")
    _empty_postgres(pg)
    yield pg
