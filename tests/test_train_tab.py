"""The Train tab through the running app: hand-shape models train, compare and serve like the rest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

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
    assert "Done" in status and "test accuracy" in summary


def test_a_hand_shape_run_is_listed_beside_the_others(trained: tuple[Client, list]) -> None:
    *_, table, _, _ = trained[1]
    assert [row[2] for row in table["data"]][-1] == "handshape"


def test_a_hand_shape_run_draws_its_curves_confusion_and_mistakes(trained: tuple[Client, list]) -> None:
    curves, _, _, confusion, mistakes, *_ = trained[1]
    assert None not in (curves, confusion, mistakes)


def test_a_hand_shape_run_downloads_as_a_hand_shape_weights_file(trained: tuple[Client, list]) -> None:
    from classifier import checkpoint

    meta = checkpoint.read_meta(trained[0].predict(api_name="/download_model"))
    assert (meta["dataset"], meta["preprocessing"]["input"]) == ("handshape", "hand_landmarks")


def test_a_used_hand_shape_run_answers_the_sessions_hand_signs_first(trained: tuple[Client, list], app_url: str,
                                                                     real_hands_dir: Path) -> None:
    client = trained[0]
    photo = handle_file(_a_photo_of(real_hands_dir, "L"))
    assert "Hand signs tab now reads hand shapes with run" in client.predict(api_name="/use_model")
    *_, view, _ = client.predict(photo, api_name="/classify_sign")
    assert "your MLP" in view and "handshape" in view


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
