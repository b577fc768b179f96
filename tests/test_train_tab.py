"""The Train tab: runs stream curves and can be used, saved and downloaded; bad settings and missing data
get messages; one run at a time; presets fill the widgets; hand-shape models train, compare and serve
like the rest."""

from __future__ import annotations

import csv
import json
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from gradio_client.utils import Status

from classifier import paths
from classifier.models import checkpoint
from tests.conftest import confidences, png, seven, sketch_value

pytestmark = pytest.mark.timeout(600)

# /train's inputs: data set, hidden, epochs, lr, batch size, augment, optimizer (the rest: the best preset's).
HANDS = ("handshape", "64", 5, 0.003, 64, True, "adamw")


def _a_photo_of(folder: Path, letter: str) -> str:
    with open(folder / "labels.csv", newline="") as f:
        return str(folder / next(r["path"] for r in csv.DictReader(f) if r["letter"] == letter))


@pytest.fixture(scope="module")
def trained(app_url: str) -> tuple[Client, list]:
    """A session that trained a small hand-shape model in the Train tab."""
    client = Client(app_url, verbose=False)
    return client, client.predict(*HANDS, api_name="/train")


def test_a_hand_shape_run_finishes_with_a_test_report(trained: tuple[Client, list]) -> None:
    _, (curves, status, summary, *_rest) = trained
    assert "Done" in status
    assert "test accuracy" in summary


def test_a_hand_shape_run_is_listed_beside_the_others(trained: tuple[Client, list]) -> None:
    *_, table, _, _ = trained[1]
    assert [row[2] for row in table["data"]][-1] == "handshape"


def test_a_hand_shape_run_draws_its_curves_confusion_and_mistakes(trained: tuple[Client, list]) -> None:
    curves, _, _, confusion, mistakes, *_ = trained[1]
    assert None not in (curves, confusion, mistakes)


def test_a_hand_shape_run_downloads_as_a_hand_shape_weights_file(trained: tuple[Client, list]) -> None:
    from classifier.models import checkpoint

    meta = checkpoint.read_meta(trained[0].predict(api_name="/download_model"))
    assert (meta["dataset"], meta["preprocessing"]["input"]) == ("handshape", "hand_landmarks")


def test_a_used_hand_shape_run_answers_the_sessions_hand_signs_first(trained: tuple[Client, list], app_url: str,
                                                                     real_hands_dir: Path) -> None:
    client = trained[0]
    photo = handle_file(_a_photo_of(real_hands_dir, "L"))
    assert "Hand signs tab now reads hand shapes with run" in client.predict(api_name="/use_model")
    *_, view, _ = client.predict(photo, api_name="/classify_sign")
    assert "your MLP" in view
    assert "handshape" in view


def test_another_session_keeps_the_shipped_letters_model(trained: tuple[Client, list], app_url: str,
                                                        real_hands_dir: Path) -> None:
    trained[0].predict(api_name="/use_model")
    *_, view, _ = Client(app_url, verbose=False).predict(handle_file(_a_photo_of(real_hands_dir, "L")),
                                                         api_name="/classify_sign")
    assert "your MLP" not in view


def test_shipped_again_gives_the_session_the_shipped_letters_model(trained: tuple[Client, list],
                                                                  real_hands_dir: Path) -> None:
    client = trained[0]
    client.predict(api_name="/use_model")
    assert "shipped letters model again" in client.predict("handshape", api_name="/restore_shipped")
    *_, view, _ = client.predict(handle_file(_a_photo_of(real_hands_dir, "L")), api_name="/classify_sign")
    assert "your MLP" not in view


def test_the_hand_shape_data_set_needs_nothing_on_disk() -> None:
    from studio import train_tab

    assert train_tab.data_status("handshape").startswith("Ready")


def _wait_for(job, predicate, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if job.done():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_train_streams_curves_and_can_be_used_and_saved(client: Client, tmp_path: Path) -> None:
    args = dict(dataset="digits", hidden="32", epochs=2, lr=0.003, batch_size=256, augment=False,
                optimizer="adamw")
    job = client.submit(*args.values(), outlier_exposure=0, api_name="/train")
    result = job.result(timeout=300)
    outputs = job.outputs()
    assert len(outputs) >= 3  # the start, one per epoch, the end
    curves, status, summary, confusion, mistakes, table, compare, menu = result
    assert "Done" in status
    assert "test accuracy" in summary
    loss, accuracy = json.loads(curves["plot"])["hconcat"]
    assert {row["curve"] for row in accuracy["data"]["values"]} == {"train", "validation"}
    assert max(row["epochs done"] for row in loss["data"]["values"]) == 2.0
    assert confusion is not None
    assert mistakes is not None
    assert compare is not None
    assert any("Epoch 1/2" in o[1] for o in outputs)
    assert any("Epoch 2/2" in o[1] for o in outputs)
    assert [row[0] for row in table["data"]] == [1]
    assert menu["value"] == "1"

    drawing = sketch_value(png(seven(), tmp_path))
    other = Client(client.src, verbose=False)  # a second user, in a session of their own
    before = confidences(client.predict(drawing, api_name="/classify_digit")[0])
    assert "now uses" in client.predict(api_name="/use_model")
    after = confidences(client.predict(drawing, api_name="/classify_digit")[0])
    assert before != after
    # The other session still gets the shipped model's answers, and cannot use this session's run.
    assert confidences(other.predict(drawing, api_name="/classify_digit")[0]) == pytest.approx(before)
    with pytest.raises(Exception, match="Train a model first"):
        other.predict(api_name="/use_model")

    name = f"pytest-{uuid.uuid4().hex[:8]}"
    saved = paths.weights_path(name)
    try:
        message, file_out = client.predict(name, api_name="/save_model")
        assert saved.is_file()
        assert "Saved" in message
        assert checkpoint.load(saved).meta["model"]["hidden"] == [32]
        download = client.predict(api_name="/download_model")
        assert checkpoint.read_meta(download)["dataset"] == "digits"
        # Anyone may name a saved file explicitly, per request or as their session's choice.
        assert confidences(other.predict(drawing, name, api_name="/classify_digit")[0]) == pytest.approx(after)
        assert confidences(other.predict(drawing, api_name="/classify_digit")[0]) == pytest.approx(before)
        assert name in other.predict(name, api_name="/choose_digit_model")
        assert confidences(other.predict(drawing, api_name="/classify_digit")[0]) == pytest.approx(after)
        with pytest.raises(Exception, match="no weights file"):
            other.predict(drawing, "no-such-model", api_name="/classify_digit")
    finally:
        saved.unlink(missing_ok=True)
    # A second run in the same session (the nearest-mean baseline): both are listed, either can be used.
    *_, table, _, menu = client.predict("digits", "", 1, 0.003, 256, False, "adamw", "relu", 0.0, False, "constant",
                                        0.0, 0.0, "nearest_mean", api_name="/train")
    assert [(row[0], row[1]) for row in table["data"]] == [(1, "custom"), (2, "nearest-mean")]
    assert menu["value"] == "2"
    assert "nearest-mean" in client.predict("2", api_name="/pick_run")[1]
    assert "#2" in client.predict("2", api_name="/use_model")
    baseline = confidences(client.predict(drawing, api_name="/classify_digit")[0])
    assert baseline != pytest.approx(after)
    assert baseline != pytest.approx(before)
    assert "#1" in client.predict("1", api_name="/use_model")
    assert confidences(client.predict(drawing, api_name="/classify_digit")[0]) == pytest.approx(after)
    assert "shipped model again" in client.predict("digits", api_name="/restore_shipped")
    assert confidences(client.predict(drawing, api_name="/classify_digit")[0]) == pytest.approx(before)
    with pytest.raises(Exception, match="shipped model"):
        client.predict("digits", api_name="/save_model")
    with pytest.raises(Exception, match="letters, digits"):
        client.predict("../evil", api_name="/save_model")


def test_train_bad_settings_get_messages(client: Client) -> None:
    with pytest.raises(Exception, match="Hidden sizes"):
        client.predict("digits", "12,abc", 1, 0.003, 256, False, "adamw", api_name="/train")
    with pytest.raises(Exception, match="less than minimum"):
        client.predict("digits", "32", 0, 0.003, 256, False, "adamw", api_name="/train")
    with pytest.raises(Exception, match="Learning rate"):
        client.predict("digits", "32", 1, 5.0, 256, False, "adamw", api_name="/train")


def test_training_blocks_neither_classification_nor_is_corrupted_by_a_second_run(
        app_url: str, tmp_path: Path, real_data_dir: Path) -> None:
    # Needs the real MNIST: on the small stand-in set, 50 epochs end before the checks are made.
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    # Outlier exposure off, here and below: its outliers take a minute to make, and no check needs them.
    job_a = first.submit("digits", "512,512", 50, 0.003, 256, True, "adamw", outlier_exposure=0, api_name="/train")
    _wait_for(job_a, lambda: any("Epoch 1/" in o[1] for o in job_a.outputs()))
    assert not job_a.done()

    # Classification answers while the run is going...
    drawing = sketch_value(png(seven(), tmp_path))
    for _ in range(3):
        assert second.predict(drawing, api_name="/classify_digit")[0]["label"] == "7"
    assert not job_a.done()

    # ...a second run waits its turn instead of running alongside...
    job_b = second.submit("digits", "16", 1, 0.003, 256, False, "adamw", outlier_exposure=0, api_name="/train")
    time.sleep(2.0)
    assert job_b.status().code in (Status.STARTING, Status.JOINING_QUEUE, Status.IN_QUEUE, Status.SENDING_DATA)
    assert not job_a.done()

    # ...and Stop ends only the caller's own run, cleanly, between batches.
    assert "No training run of yours" in second.predict(api_name="/stop_training")
    assert not job_a.done()
    assert "Stopping" in first.predict(api_name="/stop_training")
    _, status, summary, *_ = job_a.result(timeout=120)
    assert "stopped early" in summary
    _, status_b, summary_b, *_ = job_b.result(timeout=300)
    assert "Done" in status_b
    assert "test accuracy" in summary_b


def test_missing_data_set_says_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from studio import models, train_tab

    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    with pytest.raises(gr.Error) as e:
        next(train_tab.train("signs", "32", 1, 0.003, 256, False, "adamw", request=None))
    # The one message, once: not wrapped in a second copy of itself.
    assert str(e.value).count(str((tmp_path / "sign_mnist").resolve())) == 1
    assert str(e.value).count("datamunge/sign-language-mnist") == 1
    status = train_tab.data_status("signs")
    assert status.count("datamunge/sign-language-mnist") == 1
    assert "Not available" in status


def test_train_tab_says_whether_data_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import models, train_tab
    from tests.conftest import make_signs_dir

    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    assert "datamunge/sign-language-mnist" in train_tab.data_status("signs")
    assert "download" in train_tab.data_status("digits")
    make_signs_dir(tmp_path, n_train=5, n_test=5)
    assert train_tab.data_status("signs").startswith("Ready")


def test_train_widgets_follow_the_preset_and_data_set() -> None:
    """Each preset fills every widget; read back, the widgets are that preset again (for each data set)."""
    from classifier.training import presets
    from classifier.training.trainer import recipe
    from studio import train_tab

    for name in ("digits", "signs", "fashion", "handshape"):
        about, *values = train_tab.preset_widgets("best", name)
        r = recipe(name)
        assert values[:6] == [", ".join(map(str, r.hidden)), r.epochs, r.lr, r.batch_size, r.augment, r.optimizer]
        for preset in presets.PRESETS:
            about, *values = train_tab.preset_widgets(preset, name)
            assert about.startswith(f"*{presets.get(preset).about}*")
            assert train_tab.train_config(name, *values) == presets.get(preset).config(name)
            assert presets.name_of(train_tab.train_config(name, *values)) == preset
    assert train_tab.preset_widgets("tutorial", "digits")[7] == "relu, tanh"  # activation, one per layer
    assert train_tab.preset_widgets("no-such", "digits")[2] == 1  # an unknown preset: quick (its epochs)
    assert set(train_tab.BATCH_SIZE_CHOICES) >= {8, 10, 64, 256, 8192}
    assert min(train_tab.BATCH_SIZE_CHOICES) == 8


def test_a_signs_run_calibrates_photos_beside_training_and_says_so(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The real pictures a signs model's photo check is calibrated on are made in a thread started
    with the run; if they are not ready when training ends, the run says what the wait is for, and
    the finished model judges whole pictures. (The training process's own job, run here.)"""
    import threading

    from classifier.inputs import HAND_PHOTO, kind
    from classifier.models import checkpoint
    from classifier.training import trainer
    from studio import train_worker
    from tests.conftest import make_signs_dir

    make_signs_dir(tmp_path, n_train=120, n_test=40)
    monkeypatch.setattr(kind, "_made", {})
    release, threads = threading.Event(), []

    def make(rows: np.ndarray) -> list[np.ndarray]:
        threads.append(threading.current_thread().name)
        assert release.wait(120)
        return [rows[i:i + 4] for i in range(0, len(rows) - 4, 4)]

    monkeypatch.setattr(HAND_PHOTO, "calibration_makers", lambda: {"pictures": make})
    sent: list[tuple] = []

    def send(message: tuple) -> None:
        sent.append(message)
        if message[0] == "status" and "Calibrating" in message[1]:
            release.set()

    config = trainer.recipe("signs", hidden=[16], epochs=1, batch_size=32, augment=False)
    train_worker.run_job(train_worker.Job(config, str(tmp_path), "custom"), send, threading.Event(),
                         threading.Event())
    statuses = [m[1] for m in sent if m[0] == "status"]
    assert threads == ["not-sure-calibration"], threads
    assert any('Calibrating "not sure" on real inputs as the tab reads them' in s for s in statuses), statuses
    assert sent[-1][0] == "done"
    ckpt = checkpoint.from_bytes(sent[-1][1].weights)
    assert ckpt.ood is not None
    assert ckpt.ood.picture_threshold is not None


@pytest.fixture(scope="module")
def brought_back(trained: tuple[Client, list], app_url: str) -> tuple[Client, str, list]:
    """Another session brings back the hand-shape run the first one downloaded."""
    downloaded = trained[0].predict(api_name="/download_model")
    other = Client(app_url, verbose=False)
    return other, downloaded, other.predict(handle_file(downloaded), api_name="/upload_model")


def test_a_downloaded_model_comes_back_as_a_run(brought_back: tuple[Client, str, list]) -> None:
    *_, table, _, _ = brought_back[2]
    assert [(row[0], row[1], row[2]) for row in table["data"]] == [(1, "uploaded", "handshape")]


def test_the_run_brought_back_is_the_one_picked(brought_back: tuple[Client, str, list]) -> None:
    assert brought_back[2][-1]["value"] == "1"


def test_the_tab_says_where_the_run_brought_back_is_in_use(brought_back: tuple[Client, str, list]) -> None:
    assert "now reads hand shapes with run #1" in brought_back[2][0]


def test_a_model_brought_back_is_in_use_in_its_tab(brought_back: tuple[Client, str, list],
                                                   real_hands_dir: Path) -> None:
    *_, view, _ = brought_back[0].predict(handle_file(_a_photo_of(real_hands_dir, "L")), api_name="/classify_sign")
    assert "your MLP" in view


def test_a_model_brought_back_has_its_test_report(brought_back: tuple[Client, str, list]) -> None:
    summary = brought_back[2][3]
    assert "test accuracy" in summary


def test_a_model_brought_back_downloads_as_the_same_weights(brought_back: tuple[Client, str, list]) -> None:
    from safetensors.torch import load_file

    other, downloaded, _ = brought_back
    again = other.predict(api_name="/download_model")
    original, back = load_file(downloaded), load_file(again)
    assert [k for k in original if not torch.equal(original[k], back[k])] == []


def test_a_file_that_is_no_weights_file_is_refused_by_its_name(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "notes.safetensors"
    fake.write_bytes(b"not a model at all")
    with pytest.raises(Exception, match="notes.safetensors") as refused:
        client.predict(handle_file(str(fake)), api_name="/upload_model")
    assert "/tmp" not in str(refused.value)   # never the server's own path


def test_a_weights_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from classifier.models import checkpoint

    big = tmp_path / "big.safetensors"
    big.write_bytes(b"\0" * 2_000)
    with pytest.raises(checkpoint.CheckpointError, match="at most"):
        checkpoint.load(big, max_bytes=1_000)


def test_a_run_whose_training_process_dies_fails_clearly_and_keeps_its_curve(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_store: Path) -> None:
    import os
    import signal

    import gradio as gr

    from studio import models, projects, train_tab
    from tests.conftest import make_mnist_dir

    make_mnist_dir(tmp_path)
    monkeypatch.setattr(models, "DATA_DIR", tmp_path)
    run = train_tab.train("digits", "16", 200, 0.003, 32, False, "adamw", outlier_exposure=0, request=None,
                          poll_seconds=0.05)
    with pytest.raises(gr.Error) as failed:
        for _ in run:   # killed once the store holds part of its curve
            if train_tab.WORKER.pid and projects.runs(projects.bound("anonymous"))[0].points:
                os.kill(train_tab.WORKER.pid, signal.SIGKILL)
    assert "failed" in str(failed.value)
    kept = projects.runs(projects.bound("anonymous"))[0]
    assert kept.status == "interrupted"
    assert kept.points
