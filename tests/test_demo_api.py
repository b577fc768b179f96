"""The launched app through gradio_client: the classify endpoints, their API page, bad input, concurrency,
a fresh clone without data. (Training through the app: test_train_tab.py.)"""

from __future__ import annotations

import base64
import io
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from classifier.inputs import DRAWING
from tests.conftest import ROOT, confidences, png, seven, sketch_value

pytestmark = pytest.mark.timeout(600)


def seen_image(html: str) -> np.ndarray:
    """The 28x28 the model saw, from the third output (an <img> with a PNG data URL)."""
    match = re.search(r'alt="the 28x28 image the model sees"[^>]*?src="data:image/png;base64,([^"]+)"', html)
    assert match, html[:200]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(match.group(1)))))


PUBLIC = {"/classify_digit", "/classify_sign", "/classify_strokes", "/train", "/use_model", "/teach_sign",
          "/teach_train", "/save_model", "/download_model", "/download_onnx", "/download_digit_onnx",
          "/download_sign_onnx", "/upload_model", "/project_key", "/open_project", "/list_runs",
          "/make_class", "/join_class", "/leave_class", "/share_run", "/class_board", "/class_overview",
          "/teach_drawing", "/teach_drawing_train", "/teach_drawing_reset", "/fingerspell_video"}


def test_the_api_page_lists_the_public_endpoints_only(client: Client) -> None:
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == PUBLIC


def test_what_only_the_page_uses_is_off_the_api_page_but_callable(client: Client) -> None:
    assert "shipped model again" in client.predict("digits", api_name="/restore_shipped")


def test_a_plain_picture_file_is_read_as_the_drawing_it_is(client: Client, tmp_path: Path) -> None:
    full, _, _ = client.predict(handle_file(png(seven(), tmp_path)), api_name="/classify_digit")
    assert full["label"] == "7"


def _example(client: Client, api_name: str) -> dict:
    """The first input's example on the API page ("Use via API")."""
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"][api_name]
    return info["parameters"][0]["example_input"]


def test_the_api_page_shows_a_drawing_of_ones_own_for_classify_digit(client: Client) -> None:
    assert _example(client, "/classify_digit")["composite"]["url"] == "seven.png"


def test_the_api_page_shows_a_hand_photo_of_ones_own_for_classify_sign(client: Client) -> None:
    assert _example(client, "/classify_sign")["url"] == "hand.jpg"


def test_classify_digit(client: Client, tmp_path: Path) -> None:
    full, top3, plot = client.predict(sketch_value(png(seven(), tmp_path)), api_name="/classify_digit")
    probs = confidences(full)
    assert sorted(probs) == list("0123456789")
    assert abs(sum(probs.values()) - 1) < 1e-4
    assert full["label"] == "7"
    assert probs["7"] > 0.9
    assert len(top3["confidences"]) == 3
    assert top3["label"] == "7"
    assert [c["label"] for c in top3["confidences"]] == sorted(probs, key=probs.get, reverse=True)[:3]
    # The third output is exactly the 28x28 the model saw: the Draw pipeline's image of this drawing.

    expected = DRAWING.prepare(np.asarray(seven())).row
    assert np.array_equal(seen_image(plot), expected)


def test_empty_canvas_asks_for_a_digit(client: Client, tmp_path: Path) -> None:
    blank = png(Image.new("RGBA", (400, 400), (255, 255, 255, 255)), tmp_path)
    full, top3, plot = client.predict(sketch_value(blank), api_name="/classify_digit")
    assert full["label"] == "draw a digit"
    assert not full.get("confidences")
    assert "<img" not in plot
    full, _, _ = client.predict({"background": None, "layers": [], "composite": None}, api_name="/classify_digit")
    assert full["label"] == "draw a digit"


def test_classify_sign(client: Client, tmp_path: Path, real_data_dir: Path) -> None:
    from classifier import data

    x, y = data.load("signs", "test", real_data_dir)
    hits = 0
    for i in range(5):
        photo = Image.fromarray(x[i].numpy()).resize((480, 480), Image.Resampling.BICUBIC).convert("RGB")
        full, top3, *_ = client.predict(handle_file(png(photo, tmp_path, f"s{i}.jpg", quality=92)),
                                       api_name="/classify_sign")
        probs = confidences(full)
        assert sorted(probs) == sorted(data.SIGN_LETTERS)
        assert len(probs) == 24
        hits += full["label"] == data.SIGN_LETTERS[int(y[i])]
    assert hits >= 4

    # The same photo as 16-bit greyscale, palette and rotated-with-EXIF files gives the same answer.
    photo = Image.fromarray(x[0].numpy()).resize((480, 480), Image.Resampling.BICUBIC)
    expected = client.predict(handle_file(png(photo, tmp_path, "ref.png")), api_name="/classify_sign")[0]["label"]
    deep = Image.fromarray(np.asarray(photo, dtype=np.uint16) * 257)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated; "rotate 90 degrees clockwise to view"
    variants = {"16-bit": png(deep, tmp_path, "deep.png"), "palette": png(photo.convert("P"), tmp_path, "p.png"),
                "exif": png(photo.transpose(Image.Transpose.ROTATE_90).convert("RGB"), tmp_path, "r.jpg",
                            exif=exif.tobytes(), quality=95)}
    for name, path in variants.items():
        assert client.predict(handle_file(path), api_name="/classify_sign")[0]["label"] == expected, name


def _data_box(view: str) -> tuple[float, ...]:
    match = re.search(r'class="picture" data-box="([^"]+)"', view)
    assert match, view[:300]
    return tuple(float(v) for v in match.group(1).split(","))


def test_a_hand_off_centre_is_found_and_a_box_can_be_given(client: Client, tmp_path: Path,
                                                          real_data_dir: Path) -> None:
    """Hands at 40-80% of the frame on plain backgrounds: the app finds them (the square it used comes
    back in the view) and names the letter; a box given through the API is the square classified."""
    from classifier import data
    from classifier.inputs import photos

    x, y = data.load("signs", "test", real_data_dir)
    rng = np.random.default_rng(7)
    found = given = 0
    for k in range(6):
        i = int(rng.integers(len(x)))
        pic = photos.make(x[i].numpy(), "plain", rng)
        path = tmp_path / f"hand{k}.jpg"
        path.write_bytes(pic.data)
        truth = data.SIGN_LETTERS[int(y[i])]
        full, _, view, _ = client.predict(handle_file(str(path)), api_name="/classify_sign")
        found += full["label"] == truth and photos.iou(_data_box(view), pic.box) >= 0.5
        box = ",".join(map(str, pic.box))
        full, _, view, _ = client.predict(handle_file(str(path)), "", box, api_name="/classify_sign")
        assert _data_box(view) == pytest.approx(pic.box, abs=1)
        given += full["label"] == truth
    assert found >= 4, (found, given)
    assert given >= 5, (found, given)
    with pytest.raises(Exception, match="four numbers"):
        client.predict(handle_file(str(path)), "", "1,2,3", api_name="/classify_sign")


def test_pictures_without_a_hand_are_not_sure(client: Client, tmp_path: Path) -> None:
    """No hand, all black, tiny: a clear "not sure", never a confident letter."""
    wall = np.full((480, 640, 3), (196, 180, 160), np.uint8) + np.random.default_rng(0).integers(0, 6, (480, 640, 3),
                                                                                              dtype=np.uint8)
    pictures = {"wall": Image.fromarray(wall), "black": Image.new("RGB", (640, 480))}
    for name, picture in pictures.items():
        full, _, view, _ = client.predict(handle_file(png(picture, tmp_path, f"{name}.png")), api_name="/classify_sign")
        assert full["label"] == "not sure", (name, full["label"])
    with pytest.raises(Exception, match="3 x 3 pixels; a photo of a hand needs"):
        client.predict(handle_file(png(Image.new("RGB", (3, 3), (200, 150, 120)), tmp_path, "tiny.png")),
                       api_name="/classify_sign")


def test_unlike_the_training_data_is_not_sure_with_the_bars_anyway(client: Client, tmp_path: Path) -> None:
    """A webcam test pattern (no hand) got "X, 91%"; now it is "not sure", every letter still shown."""
    pattern = Image.new("RGB", (640, 480), (20, 20, 30))
    draw = ImageDraw.Draw(pattern)
    draw.ellipse((180, 100, 460, 380), fill=(40, 200, 60))
    draw.rectangle((250, 180, 390, 300), fill=(230, 230, 40))
    full, top3, view, _ = client.predict(handle_file(png(pattern, tmp_path, "pattern.png")), api_name="/classify_sign")
    assert full["label"] == "not sure"
    assert top3["label"] == "not sure"
    assert len(confidences(full)) == 24
    assert len(top3["confidences"]) == 3
    assert "not sure" in view
    assert "best guess" in view


def _bad_images(tmp_path: Path) -> dict[str, str]:
    out = {}
    (tmp_path / "text.png").write_bytes(b"definitely not an image")
    out["not an image"] = str(tmp_path / "text.png")
    buf = io.BytesIO()
    seven().convert("RGB").save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:600])
    out["truncated"] = str(tmp_path / "cut.jpg")
    out["1x1"] = png(Image.new("RGB", (1, 1), (10, 10, 10)), tmp_path, "one.png")
    out["16-bit"] = png(Image.fromarray((np.arange(100 * 100, dtype=np.uint16) * 6).reshape(100, 100)),
                        tmp_path, "deep.png")
    out["palette"] = png(seven().convert("P"), tmp_path, "pal.png")
    out["cmyk"] = png(seven().convert("CMYK"), tmp_path, "cmyk.jpg")
    frames = [seven().convert("P"), Image.new("P", (400, 400))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    out["animated"] = str(tmp_path / "anim.gif")
    out["huge"] = png(Image.new("L", (9000, 6000), 128), tmp_path, "huge.png")
    out["bomb"] = png(Image.new("1", (14000, 13000)), tmp_path, "bomb.png")  # 182 megapixels in 22 kB
    return out


# What the app must say for the inputs it refuses; the others must give a 24-letter answer.
REFUSALS = {"not an image": "not an image", "truncated": "damaged or truncated|not an image",
            "huge": "megapixels", "bomb": "megapixels"}


@pytest.mark.parametrize("api_name", ["/classify_sign", "/classify_digit"])
def test_bad_inputs_never_break_the_server(client: Client, tmp_path: Path, api_name: str) -> None:
    wrap = handle_file if api_name == "/classify_sign" else sketch_value
    good = wrap(png(seven().convert("RGB"), tmp_path, "good.png"))
    # A drawing may be a single pixel; a photo of a hand may not.
    refusals = {**REFUSALS, "1x1": "a photo of a hand needs"} if api_name == "/classify_sign" else REFUSALS
    for name, path in _bad_images(tmp_path).items():
        if name in refusals:
            with pytest.raises(Exception, match=refusals[name]) as e:
                client.predict(wrap(path), api_name=api_name)
            assert type(e.value).__name__ == "AppError", name
        else:
            full, *_ = client.predict(wrap(path), api_name=api_name)
            # A sign photo always gets all 24 letters; a drawing gets all 10 digits or "draw a digit".
            if api_name == "/classify_digit" and not full.get("confidences"):
                assert full["label"] == "draw a digit", name
            else:
                probs = confidences(full)
                assert len(probs) == (24 if api_name == "/classify_sign" else 10), name
                assert abs(sum(probs.values()) - 1) < 1e-4, name
                assert full["label"] in (max(probs, key=probs.get), "not sure"), name
        full, *_ = client.predict(good, api_name=api_name)
        assert full.get("confidences"), f"server unusable after {name}"


@pytest.mark.parametrize("w,h", [(4000, 1), (1, 4000), (3000, 2), (2000, 10), (1, 1), (16, 4000)])
def test_strips_and_odd_shapes_leave_the_server_up(client: Client, tmp_path: Path, w: int, h: int) -> None:
    """A 4000x1 strip once made the hand search ask for 8.6 GB and killed the server for everyone."""
    strip = png(Image.new("RGB", (w, h), (150, 120, 100)), tmp_path, "strip.png")
    start = time.monotonic()
    with pytest.raises(Exception, match=f"{w} x {h} pixels; a photo of a hand needs") as e:
        client.predict(handle_file(strip), api_name="/classify_sign")
    assert type(e.value).__name__ == "AppError"
    assert time.monotonic() - start < 10
    if max(w, h) > 20 * min(w, h):
        with pytest.raises(Exception, match=f"{w} x {h} pixels; it may be at most 20 times"):
            client.predict(sketch_value(strip), api_name="/classify_digit")
    else:
        drawn = client.predict(sketch_value(strip), api_name="/classify_digit")[0]
        assert drawn["label"] == "draw a digit" or drawn.get("confidences")
    good = png(seven().convert("RGB"), tmp_path, "good.png")
    assert len(confidences(client.predict(handle_file(good), api_name="/classify_sign")[0])) == 24
    assert client.predict(sketch_value(good), api_name="/classify_digit")[0]["label"] == "7"


def test_fuzzed_pictures_and_boxes_through_the_endpoints(app_url: str,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    """The fuzzer's pictures (tests/test_fuzz_inputs.py) through the running app: each answer is a
    result or a clear message, never a crash, and a good request is answered right afterwards."""
    from hypothesis import given, seed, settings
    from hypothesis import strategies as st

    from tests.test_fuzz_inputs import encoded_pictures

    client = Client(app_url, verbose=False)
    folder = tmp_path_factory.mktemp("fuzz")
    good = png(seven().convert("RGB"), folder, "good.png")

    @seed(15)
    @settings(max_examples=25, deadline=None, database=None, derandomize=True)
    @given(encoded_pictures(), st.one_of(st.just(""), st.text(max_size=30),
                                         st.lists(st.floats(-1e4, 1e4), min_size=4, max_size=4)
                                         .map(lambda v: ",".join(map(str, v)))))
    def one(data: bytes, box: str) -> None:
        path = folder / "fuzz.bin"
        path.write_bytes(bytes(data))
        for call in ((handle_file(str(path)), "", box), (sketch_value(str(path)),)):
            api_name = "/classify_sign" if len(call) == 3 else "/classify_digit"
            start = time.monotonic()
            try:
                full = client.predict(*call, api_name=api_name)[0]
                assert full.get("confidences") or full["label"] == "draw a digit", api_name
            except Exception as e:  # noqa: BLE001 - the property: only the app's own clear messages
                assert type(e).__name__ == "AppError", (api_name, e)
                assert str(e), (api_name, e)
                assert "Traceback" not in str(e), (api_name, e)
            assert time.monotonic() - start < 30, api_name

    one()
    assert client.predict(sketch_value(good), api_name="/classify_digit")[0]["label"] == "7"


def test_a_drawing_past_the_limits_is_refused_before_it_is_decoded(client: Client, tmp_path: Path) -> None:
    long = png(Image.new("1", (8000, 200), 1), tmp_path, "long.png")  # 40:1
    with pytest.raises(Exception, match="8000 x 200 pixels; it may be at most 20 times"):
        client.predict(sketch_value(long), api_name="/classify_digit")
    assert client.predict(sketch_value(png(seven(), tmp_path)), api_name="/classify_digit")[0]["label"] == "7"


def test_uploads_are_bounded_in_size_and_not_kept(client: Client, tmp_path: Path, app_cache_dir: Path) -> None:
    """30 MB of random bytes: refused at the upload, in seconds, and never written to the upload cache."""
    junk = tmp_path / "junk.png"
    junk.write_bytes(np.random.default_rng(0).bytes(30_000_000))
    start = time.monotonic()
    with pytest.raises(Exception, match="(?i)exceeds the maximum file size|too large|413"):
        client.predict(handle_file(str(junk)), api_name="/classify_sign")
    assert time.monotonic() - start < 30
    assert all(p.stat().st_size < 25_000_000 for p in app_cache_dir.rglob("*") if p.is_file())
    good = png(seven().convert("RGB"), tmp_path, "good.png")
    assert len(confidences(client.predict(handle_file(good), api_name="/classify_sign")[0])) == 24


def test_eight_concurrent_clients(app_url: str, tmp_path: Path) -> None:
    path = png(seven(), tmp_path)

    def one(_: int) -> str:
        c = Client(app_url, verbose=False)
        return [c.predict(sketch_value(path), api_name="/classify_digit")[0]["label"] for _ in range(3)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert results == [["7", "7", "7"]] * 8


def test_app_works_without_any_data(tmp_path: Path) -> None:
    """A fresh clone has weights but no data directory: classifying works, training says where data goes."""
    from tests.conftest import start_app

    proc, url = start_app(tmp_path / "no-such-data-dir", tmp_path / "demo.log")
    try:
        c = Client(url, verbose=False)
        assert c.predict(sketch_value(png(seven(), tmp_path)), api_name="/classify_digit")[0]["label"] == "7"
        with pytest.raises(Exception, match="sign-language-mnist"):
            c.predict("signs", "32", 1, 0.003, 256, False, "adamw", api_name="/train")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_classify_strokes(client: Client, tmp_path: Path) -> None:
    seven_strokes = {"strokes": [[[80, 320, 180], [60, 60, 360]]], "width": 400, "height": 400, "brush": 14}
    full, top3, view = client.predict(seven_strokes, api_name="/classify_strokes")
    assert full["label"] == "7"
    assert len(confidences(full)) == 10
    assert len(top3["confidences"]) == 3
    assert seen_image(view).shape == (28, 28)
    as_picture = client.predict(sketch_value(png(seven(), tmp_path)), api_name="/classify_digit")[0]
    assert as_picture["label"] == "7"  # the image API answers as before
    with pytest.raises(Exception, match="leaves the 400 x 400 canvas") as e:
        client.predict({**seven_strokes, "strokes": [[[1, 900], [1, 1]]]}, api_name="/classify_strokes")
    assert type(e.value).__name__ == "AppError"
    empty = client.predict({**seven_strokes, "strokes": []}, api_name="/classify_strokes")[0]
    assert empty["label"] == "draw a digit"


def test_the_digit_tabs_model_downloads_as_onnx_and_reads_a_seven(client: Client, real_data_dir: Path) -> None:
    """The tab's "Download as ONNX": the session's model, run by onnxruntime on a test 7."""
    ort = pytest.importorskip("onnxruntime")
    from classifier import data

    path = client.predict(api_name="/download_digit_onnx")
    assert path.endswith(".onnx")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x, y = data.load("digits", "test", real_data_dir)
    i = int((y == 7).nonzero()[0, 0])
    probs = session.run(["probabilities"], {"image": x[i:i + 1].numpy().astype(np.float32)})[0]
    assert int(probs.argmax()) == 7


# ------------------------------------------------------------------------------- projects

def test_a_session_has_a_project_key_of_192_bits(client: Client) -> None:
    key = client.predict(api_name="/project_key")
    assert len(key) >= 32
    assert client.predict(api_name="/project_key") == key   # the same project every time


def test_another_client_opening_the_key_sees_the_projects_runs(app_url: str) -> None:
    maker = Client(app_url, verbose=False)
    maker.predict(handle_file(str(ROOT / "weights" / "digits.safetensors")), api_name="/upload_model")
    runs = maker.predict(api_name="/list_runs")
    other = Client(app_url, verbose=False)
    other.predict(maker.predict(api_name="/project_key"), api_name="/open_project")
    assert other.predict(api_name="/list_runs") == runs


def test_a_brought_back_run_is_listed_with_its_accuracy(client: Client) -> None:
    client.predict(handle_file(str(ROOT / "weights" / "digits.safetensors")), api_name="/upload_model")
    (run,) = client.predict(api_name="/list_runs")
    assert (run["number"], run["dataset"], run["preset"], run["status"]) == (1, "digits", "uploaded", "done")
    assert run["test_accuracy"] > 0.99


def test_an_unknown_key_opens_nothing(client: Client) -> None:
    with pytest.raises(Exception, match="No project has this key"):
        client.predict("not-a-key-of-any-project-0000000", api_name="/open_project")


def test_keys_never_reach_the_log_or_the_api_page(app: tuple[str, Path]) -> None:
    url, log = app
    client = Client(url, verbose=False)
    key = client.predict(api_name="/project_key")
    client.predict(key, api_name="/open_project")
    assert key not in log.read_text(errors="replace")
    assert key not in str(client.view_api(print_info=False, return_format="dict"))


def test_a_teacher_key_never_reaches_the_log_or_the_api_page(app: tuple[str, Path]) -> None:
    url, log = app
    client = Client(url, verbose=False)
    made = client.predict("log check", api_name="/make_class")
    client.predict(made["teacher_key"], api_name="/class_overview")
    client.predict(made["join_code"], "Ada", api_name="/join_class")
    assert made["teacher_key"] not in log.read_text(errors="replace")
    assert made["teacher_key"] not in str(client.view_api(print_info=False, return_format="dict"))


def test_a_class_through_the_api_ranks_a_students_run(app: tuple[str, Path]) -> None:
    url, _ = app
    made = Client(url, verbose=False).predict("api class", api_name="/make_class")
    student = Client(url, verbose=False)
    student.predict(made["join_code"], "Bo", api_name="/join_class")
    student.predict(handle_file(str(ROOT / "weights" / "digits.safetensors")), api_name="/upload_model")
    board = student.predict(api_name="/class_board")
    assert [(e["rank"], e["student"], e["dataset"]) for e in board["boards"][0]["entries"]] == [(1, "Bo", "digits")]


def _spelled_clip(real_hands_dir: Path, path: Path, letters: str = "LVY") -> Path:
    """A real person's photos of `letters` (read right alone by the shipped model), each held 0.6 s."""
    from classifier.inputs import video
    frames = []
    for letter in letters:
        photo = Image.open(real_hands_dir / letter / "vedant_2.jpg").convert("RGB").resize((320, 240))
        frames += [np.asarray(photo)] * 9
    video.write(path, frames, 15)
    return path


def test_a_video_of_a_real_hand_spelling_is_read_into_letters(client: Client, real_hands_dir: Path,
                                                               tmp_path: Path) -> None:
    clip = _spelled_clip(real_hands_dir, tmp_path / "lvy.mp4")
    text, letters = client.predict(handle_file(str(clip)), api_name="/fingerspell_video")
    assert (text, [d["letter"] for d in letters]) == ("LVY", ["L", "V", "Y"])


def test_each_spelled_letter_says_when_it_was_written(client: Client, real_hands_dir: Path, tmp_path: Path) -> None:
    clip = _spelled_clip(real_hands_dir, tmp_path / "lv.mp4", "LV")
    _, letters = client.predict(handle_file(str(clip)), api_name="/fingerspell_video")
    assert 0 < letters[0]["at"] < 0.6 < letters[1]["at"] < 1.2


def test_a_file_that_is_not_a_video_gets_a_clear_message(client: Client, tmp_path: Path) -> None:
    bad = tmp_path / "word.mp4"
    bad.write_bytes(b"not a video at all" * 50)
    with pytest.raises(Exception, match="not a video"):
        client.predict(handle_file(str(bad)), api_name="/fingerspell_video")
    assert client.predict(handle_file(png(seven(), tmp_path)), api_name="/classify_digit")[0]["label"] == "7"
