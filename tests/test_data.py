"""classifier.data: IDX and CSV readers, errors on bad files, label mapping, caching, splits."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from classifier import data
from classifier.data import datasets
from classifier.models import preprocess
from tests.conftest import make_mnist_dir, make_signs_dir, synthetic_images, write_idx, write_sign_csv

SIGN_LABELS = data.DATASETS["signs"].source.label_values


@pytest.fixture(autouse=True)
def _fresh_cache():
    datasets._cache.clear()
    yield
    datasets._cache.clear()


@pytest.mark.parametrize("gz", [True, False])
def test_idx_roundtrip_gz_and_plain(tmp_path: Path, gz: bool) -> None:
    make_mnist_dir(tmp_path, n_train=50, n_test=20, gz=gz)
    x, y = data.load("digits", "train", tmp_path, download=False)
    assert x.shape == (50, 28, 28)
    assert x.dtype == torch.uint8
    assert y.shape == (50,)
    assert y.dtype == torch.int64
    tx, _ = data.load("digits", "test", tmp_path, download=False)
    assert tx.shape == (20, 28, 28)


def test_idx_values_preserved(tmp_path: Path) -> None:
    arr = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    path = write_idx(tmp_path / "x.gz", arr)
    assert np.array_equal(data.read_idx(path, 3), arr)


def test_truncated_gzip_names_file(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=50, n_test=20)
    path = tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.gz.*truncated or corrupt"):
        data.load("digits", "train", tmp_path, download=False)


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(data.DataError, match="bad.gz"):
        data.read_idx(path, 3)


def test_idx_size_mismatch(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x", np.zeros((4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(data.DataError, match="promises shape"):
        data.read_idx(path, 3)


def test_idx_wrong_magic_and_dims(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 12)
    with pytest.raises(data.DataError, match="not an IDX file of unsigned bytes"):
        data.read_idx(bad, 3)
    labels = write_idx(tmp_path / "labels", np.zeros(5))
    with pytest.raises(data.DataError, match="expected 3 dimensions"):
        data.read_idx(labels, 3)


def test_idx_label_out_of_range(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=20, n_test=20)
    write_idx(tmp_path / "MNIST/raw/train-labels-idx1-ubyte.gz", np.full(20, 12))
    with pytest.raises(data.DataError, match="label 12 out of range"):
        data.load("digits", "train", tmp_path, download=False)


def test_idx_count_mismatch(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=20, n_test=20)
    write_idx(tmp_path / "MNIST/raw/train-labels-idx1-ubyte.gz", np.zeros(19))
    with pytest.raises(data.DataError, match="20 images but .* 19 labels"):
        data.load("digits", "train", tmp_path, download=False)


def test_missing_idx_without_download(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match=r"MNIST/raw"):
        data.load("digits", "train", tmp_path, download=False)


def test_download_failure_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(tvd, "MNIST", offline)
    with pytest.raises(data.DataError, match="put the four IDX files.*Downloading it failed"):
        data.load("digits", "train", tmp_path, download=True)


@pytest.mark.parametrize("gz", [True, False])
def test_sign_csv(tmp_path: Path, gz: bool) -> None:
    make_signs_dir(tmp_path, n_train=30, n_test=10, gz=gz)
    x, y = data.load("signs", "train", tmp_path)
    assert x.shape == (30, 28, 28)
    assert x.dtype == torch.uint8
    assert 0 <= int(y.min())
    assert int(y.max()) <= 23


def test_sign_csv_values(tmp_path: Path) -> None:
    labels = np.array([0, 8, 10, 24])
    images = synthetic_images(np.arange(4), 4)
    path = write_sign_csv(tmp_path / "s.csv", labels, images)
    x, y = data.read_label_csv(path, SIGN_LABELS)
    assert np.array_equal(x, images)
    assert y.tolist() == [0, 8, 9, 23]


def test_sign_labels_map_to_the_24_letters(tmp_path: Path) -> None:
    source = np.array([v for v in range(25) if v != 9])
    path = write_sign_csv(tmp_path / "s.csv", source, synthetic_images(np.arange(24), 24))
    _, idx = data.read_label_csv(path, SIGN_LABELS)
    assert idx.tolist() == list(range(24))
    letters = [data.SIGN_LETTERS[i] for i in idx]
    assert letters[0] == "A"
    assert letters[8] == "I"
    assert letters[9] == "K"
    assert letters[-1] == "Y"
    assert "J" not in letters
    assert "Z" not in letters
    assert len(set(letters)) == 24


@pytest.mark.parametrize("bad_label", [9, 25, -1])
def test_sign_csv_bad_label(tmp_path: Path, bad_label: int) -> None:
    path = write_sign_csv(tmp_path / "s.csv", np.array([0, bad_label]), synthetic_images(np.zeros(2, int), 2))
    with pytest.raises(data.DataError, match=f"row 2: label {bad_label} .*0..8, 10..24"):
        data.read_label_csv(path, SIGN_LABELS)


def test_sign_csv_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("label,a,b\n1,2,3\n")
    with pytest.raises(data.DataError, match="header"):
        data.read_label_csv(path, SIGN_LABELS)


def test_sign_csv_short_row_and_pixel_range(tmp_path: Path) -> None:
    path = write_sign_csv(tmp_path / "s.csv", np.array([0]), synthetic_images(np.zeros(1, int), 1))
    text = path.read_text().rstrip("\n")
    path.write_text(text.rsplit(",", 1)[0] + "\n")
    with pytest.raises(data.DataError, match="s.csv"):
        data.read_label_csv(path, SIGN_LABELS)
    path.write_text(text.rsplit(",", 1)[0] + ",300\n")
    with pytest.raises(data.DataError, match="outside 0..255"):
        data.read_label_csv(path, SIGN_LABELS)


def test_sign_csv_truncated_gz(tmp_path: Path) -> None:
    path = write_sign_csv(tmp_path / "s.csv.gz", np.array([0, 1]), synthetic_images(np.array([0, 1]), 2))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 20])
    with pytest.raises(data.DataError, match="s.csv.gz"):
        data.read_label_csv(path, SIGN_LABELS)


def test_missing_signs_names_kaggle_and_path_once(tmp_path: Path) -> None:
    with pytest.raises(data.DataError) as e:
        data.load("signs", "train", tmp_path)
    msg = str(e.value)
    assert msg.count("datamunge/sign-language-mnist") == 1
    assert msg.count(str((tmp_path / "sign_mnist").resolve())) == 1
    assert msg.startswith(data.where_to_put("signs", tmp_path))  # the one message, plus which file is missing
    assert "sign_mnist_train.csv" in msg


def test_second_load_served_from_memory(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=50, n_test=20)
    first = data.load("digits", "train", tmp_path)
    (tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz").unlink()
    second = data.load("digits", "train", tmp_path)
    assert second[0] is first[0]


def test_data_dir_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    assert data.data_dir() == Path("data")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    assert data.data_dir() == tmp_path
    assert data.data_dir("elsewhere") == Path("elsewhere")


def test_splits_fixed_disjoint_and_complete(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=120, n_test=20)
    a = data.load_splits("digits", tmp_path, val_fraction=0.25, split_seed=0)
    b = data.load_splits("digits", tmp_path, val_fraction=0.25, split_seed=0)
    assert len(a.val_x) == 30
    assert len(a.train_x) == 90
    assert torch.equal(a.val_x, b.val_x)
    assert torch.equal(a.train_y, b.train_y)
    x, _ = data.load("digits", "train", tmp_path)
    rows = {bytes(r.numpy().tobytes()) for r in torch.cat([a.train_x, a.val_x])}
    assert rows == {bytes(r.numpy().tobytes()) for r in x}


def test_is_available_and_where(tmp_path: Path) -> None:
    assert not data.is_available("signs", tmp_path)
    make_signs_dir(tmp_path, n_train=5, n_test=5)
    assert data.is_available("signs", tmp_path)
    assert "FashionMNIST/raw" in data.where_to_put("fashion", tmp_path)


# ------------------------------------------------------------------------- real data sets

EXPECTED = {"digits": (60000, 10000, 5, 7), "fashion": (60000, 10000, 9, 9), "signs": (27455, 7172, 3, 6)}


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_sets_load_fast_and_whole(real_data_dir: Path, name: str) -> None:
    n_train, n_test, first_train, first_test = EXPECTED[name]
    start = time.perf_counter()
    x, y = data.load(name, "train", real_data_dir, download=False)
    tx, ty = data.load(name, "test", real_data_dir, download=False)
    first_seconds = time.perf_counter() - start
    assert x.shape == (n_train, 28, 28)
    assert tx.shape == (n_test, 28, 28)
    # Raw labels: signs' first rows are letters D (3) and G (6), below J so index == label.
    assert int(y[0]) == first_train
    assert int(ty[0]) == first_test
    assert len(torch.unique(y)) == len(data.DATASETS[name].classes)
    start = time.perf_counter()
    data.load(name, "train", real_data_dir, download=False)
    assert time.perf_counter() - start < first_seconds / 10


@pytest.mark.realdata
def test_real_signs_per_class_counts(real_data_dir: Path) -> None:
    _, y = data.load("signs", "train", real_data_dir)
    _, ty = data.load("signs", "test", real_data_dir)
    assert torch.bincount(y).tolist()[:3] == [1126, 1010, 1144]
    assert torch.bincount(ty).tolist()[-3:] == [206, 267, 332]


@pytest.mark.realdata
@pytest.mark.parametrize("name,stats", [("digits", preprocess.MNIST_STATS), ("fashion", preprocess.FASHION_STATS)])
def test_normalization_constants_match_data(real_data_dir: Path, name: str, stats: dict) -> None:
    x, _ = data.load(name, "train", real_data_dir)
    pixels = x.float() / 255
    assert abs(float(pixels.mean()) - stats["mean"]) < 5e-4
    assert abs(float(pixels.std()) - stats["std"]) < 5e-4



@pytest.mark.realdata
def test_signs_image_constants_match_data(real_data_dir: Path) -> None:
    x, _ = data.load("signs", "train", real_data_dir)
    per_image = x.float().reshape(len(x), -1)
    assert abs(float(per_image.mean(1).mean()) - preprocess.SIGNS_IMAGE_MEAN) < 0.5
    assert abs(float(per_image.std(1).mean()) - preprocess.SIGNS_IMAGE_STD) < 0.5


# ----------------------------------------------------------------------------- generated hands

SMALL_HANDS = data.GeneratedHands(per_letter={"train": 3, "test": 2}, seeds={"train": 0, "test": 1})


def test_generated_hands_are_63_float_numbers_a_row(tmp_path: Path) -> None:
    x, _ = SMALL_HANDS.read("train", tmp_path, data.DATASETS["handshape"], download=False)
    assert (x.shape, x.dtype) == ((3 * 24, 63), np.float32)


def test_generated_hands_cover_every_letter(tmp_path: Path) -> None:
    _, y = SMALL_HANDS.read("train", tmp_path, data.DATASETS["handshape"], download=False)
    assert sorted(set(y.tolist())) == list(range(24))


def test_generated_hands_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    a, _ = SMALL_HANDS.read("test", tmp_path, data.DATASETS["handshape"], download=False)
    b, _ = SMALL_HANDS.read("test", tmp_path, data.DATASETS["handshape"], download=False)
    assert np.array_equal(a, b)


def test_generated_test_hands_are_not_training_hands(tmp_path: Path) -> None:
    train, _ = SMALL_HANDS.read("train", tmp_path, data.DATASETS["handshape"], download=False)
    test, _ = SMALL_HANDS.read("test", tmp_path, data.DATASETS["handshape"], download=False)
    assert not (test[:, None, :] == train[None, :, :]).all(-1).any()


def test_generated_hands_need_nothing_on_disk(tmp_path: Path) -> None:
    assert data.is_available("handshape", tmp_path / "empty")
