"""The app in a real browser: Playwright drives Debian's Chromium (never a downloaded one).

Draws a digit with mouse strokes, uploads a sign photo, runs a short training and watches the
curve update. Skips where Chromium or Playwright is missing, except under REQUIRE_BROWSER=1
(set by .ci/run), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.classroom import WATCH_JS as WATCH_RUNS_JS
from bench.live import camera_browser, open_live, write_y4m

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def _missing(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; REQUIRE_BROWSER=1 says it must be there")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


def _open(browser, url: str):
    pg = browser.new_page(viewport={"width": 1400, "height": 1100})
    pg.goto(url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    return pg


PAD_READY = "#digit-input canvas[data-ready]"   # the stroke pad's script has attached its listeners
CURVE = "#train-curves .mark-line path"   # a curve the page drew (Vega)


def _painted(page) -> None:
    """Wait until the browser has drawn what the page holds now: two animation frames."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _wait_label(page, selector: str, label: str) -> None:
    """Wait until the view's answer (its first word) is `label`."""
    page.wait_for_function("([sel, want]) => ((document.querySelector(sel + ' .answer')?.innerText || '')"
                           ".trim().split(/\\s+/)[0]) === want", arg=[selector, label], timeout=60_000)


@pytest.fixture(scope="module")
def page(browser, app_url: str):
    pg = _open(browser, app_url)
    yield pg
    pg.close()


def _shot(page, name: str) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/classifier-screens"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _stroke(page, points: list[tuple[float, float]], cx: float, cy: float, size: float) -> None:
    page.mouse.move(cx + points[0][0] * size, cy + points[0][1] * size)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(cx + x * size, cy + y * size, steps=25)
    page.mouse.up()


def _ink_pixels(page, cx: float, cy: float) -> int:
    """Dark pixels in the middle of the canvas, as the page shows it (the pointer moved away first)."""
    import io

    import numpy as np

    page.mouse.move(5, 5)
    _painted(page)
    png = page.screenshot(clip={"x": cx - 130, "y": cy - 130, "width": 260, "height": 260})
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return int((grey < 80).sum())


# The first word of the Draw tab's answer, in the page.
ANSWER_JS = "(document.querySelector('#digit-view .answer')?.innerText || '').trim().split(/\\s+/)[0]"


def _start_brief_run(page, hidden: str = "16") -> None:
    """Start one epoch of an MLP of `hidden` units ("": a linear model) from the Train tab."""
    page.get_by_role("tab", name="Train").click()
    page.get_by_label("Hidden sizes").fill(hidden)
    epochs = page.locator("input[type=number]").first
    epochs.fill("1")
    epochs.press("Enter")
    page.locator("#train-start").click()


def _train_briefly(page, hidden: str = "16") -> None:
    """One epoch of an MLP of `hidden` units ("": a linear model) from the Train tab, waited for."""
    _start_brief_run(page, hidden)
    _wait_text(page, "#train-status", "Done", timeout=300_000)


def _start_long_run(page) -> None:
    """Start a run of 40 epochs from the Train tab and wait until its first point is in."""
    page.get_by_role("tab", name="Train").click()
    page.get_by_label("Hidden sizes").fill("16")
    epochs = page.locator("input[type=number]").first
    epochs.fill("40")
    epochs.press("Enter")
    page.locator("#train-start").click()
    _wait_text(page, "#train-status", "samples/s", timeout=120_000)


def _wait_text(page, selector: str, text: str, timeout: float = 30_000) -> None:
    """Wait until the element's text includes `text` (on a timeout, say what it showed instead)."""
    try:
        page.wait_for_function("([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)",
                               arg=[selector, text], timeout=timeout)
    except PlaywrightTimeout:
        shown = page.evaluate("(sel) => document.querySelector(sel)?.innerText", selector)
        raise AssertionError(f"{selector} never showed {text!r}; it shows {shown!r}") from None


def _draw_seven(page) -> None:
    """A 7 in one stroke across the middle of the Draw tab's pad."""
    box = page.locator("#digit-input canvas").first.bounding_box()
    _stroke(page, [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)], box["x"] + box["width"] / 2,
            box["y"] + box["height"] / 2, 150)


def _top_label(page, selector: str) -> str:
    """The answer the classify view shows: its first word ("7", "L", or "not" for "not sure")."""
    answer = page.locator(f"{selector} .answer")
    return answer.inner_text().split()[0] if answer.count() else ""


def test_draw_a_seven_and_a_one(page) -> None:
    page.get_by_role("tab", name="Draw").click()
    page.wait_for_selector(PAD_READY, state="visible")
    box = page.locator("#digit-input canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    _stroke(page, [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)], cx, cy, 200)
    _wait_label(page, "#digit-view", "7")
    assert page.locator("#digit-view img").count() == 1
    _shot(page, "draw-7")

    page.locator("#digit-input .pad-clear").click()
    page.wait_for_function("!document.querySelector('#digit-view').innerText.includes('%')", timeout=30_000)
    _stroke(page, [(0.0, -0.5), (0.0, 0.5)], cx, cy, 200)
    page.wait_for_function(f"{ANSWER_JS} === '1'",
                           timeout=30_000)
    _shot(page, "draw-1")

    # Clear empties the canvas and the answer every time, not only the first; drawing works again
    # after each.
    seven, one = [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)], [(0.0, -0.5), (0.0, 0.5)]
    for press, (points, digit) in enumerate([(seven, "7"), (one, "1"), (seven, "7"), (one, "1")], start=1):
        page.locator("#digit-input .pad-clear").click()
        page.wait_for_function("!document.querySelector('#digit-view').innerText.includes('%')", timeout=30_000)
        _painted(page)
        assert _ink_pixels(page, cx, cy) == 0, f"strokes left on the canvas after Clear press {press}"
        _stroke(page, points, cx, cy, 200)
        page.wait_for_function(
            f"{ANSWER_JS} === '{digit}'",
            timeout=30_000)
        assert _ink_pixels(page, cx, cy) > 100


def test_upload_a_sign_photo(page, real_data_dir: Path, tmp_path: Path) -> None:
    from classifier import data

    x, y = data.load("signs", "test", real_data_dir)
    i = int((y == data.SIGN_LETTERS.index("L")).nonzero()[0, 0])
    photo = tmp_path / "sign.jpg"
    Image.fromarray(x[i].numpy()).resize((360, 360), Image.Resampling.BICUBIC).convert("RGB").save(photo)
    page.get_by_role("tab", name="Hand signs").click()
    page.locator("#sign-input input[type=file]").set_input_files(str(photo))
    _wait_label(page, "#sign-view", "L")
    assert page.locator("#sign-view img").count() == 2  # the photo with its square, and the 28x28
    assert page.locator("#sign-view figure.picture").count() == 1
    _shot(page, "sign-L")


def test_two_clicks_on_the_picture_classify_that_square(browser, app_url: str, tmp_path: Path) -> None:
    """The second click used to fill the box field and wait for an Enter no one pressed."""
    photo = tmp_path / "wall.png"
    Image.new("RGB", (480, 360), (200, 190, 170)).save(photo)
    page = _open(browser, app_url)  # a page of its own: no earlier photo or event still on its way
    page.get_by_role("tab", name="Hand signs").click()
    page.locator("#sign-input input[type=file]").set_input_files(str(photo))
    page.wait_for_function("document.querySelector('#sign-view figure.picture')", timeout=60_000)
    picture = page.locator("#sign-view figure.picture img")
    box = picture.bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.8 * box["height"])
    page.wait_for_function("document.querySelector('#sign-view figcaption')?.innerText.includes('your box')",
                           timeout=120_000)
    assert page.locator("#sign-view .answer").count() == 1
    page.close()


def test_short_training_updates_the_curves(page) -> None:
    page.get_by_role("tab", name="Train").click()
    epochs = page.locator("input[type=number][aria-label*='Epochs'], input[type=number]").first
    # The settings follow the chosen data set's recipe (the best preset's are the data sets' own).
    _pick(page, "Preset", "Best (the shipped models)")
    for name, recipe_epochs in (("signs", "30"), ("digits", "60")):
        page.get_by_role("combobox", name="Data set").click()
        page.get_by_role("option", name=name, exact=True).click()
        page.wait_for_function(f"document.querySelector('input[type=number]').value === '{recipe_epochs}'",
                               timeout=30_000)
    page.get_by_label("Hidden sizes").fill("64")
    epochs.fill("1")
    epochs.press("Enter")
    # Outlier exposure off: its outliers take a minute to make, and curves are what this test is about.
    page.get_by_text("More settings").click()
    page.get_by_label("Outlier exposure", exact=False).fill("0")
    page.locator("#train-start").click()
    _wait_text(page, "#train-status", "Epoch 1/1", timeout=180_000)
    page.wait_for_selector(CURVE, timeout=30_000)
    first_curve = page.locator(CURVE).first.get_attribute("d")
    _wait_text(page, "#train-status", "Done", timeout=300_000)
    # The run's last curve replaces its first (a run of one epoch has points within it).
    page.wait_for_function(f"(first) => document.querySelector('{CURVE}')?.getAttribute('d') !== first",
                           arg=first_curve, timeout=30_000)
    # The page draws the curves: a point's value shows under the pointer.
    page.locator("#train-curves g.mark-symbol.role-mark path").last.hover()
    page.wait_for_function("document.querySelector('#vg-tooltip-element.visible')?.innerText.includes('accuracy')",
                           timeout=10_000)
    assert "test accuracy" in page.locator("#train-summary").inner_text()
    _shot(page, "train-done")

    # A typo is refused before anything is cleared: the last run's curves and results stay.
    summary = page.locator("#train-summary").inner_text()
    curve = page.locator(CURVE).first.get_attribute("d")
    page.get_by_label("Hidden sizes").fill("abc")
    page.locator("#train-start").click()
    page.get_by_text("Hidden sizes must be whole numbers").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # nothing should change: a second for a wrongly started run to show itself
    assert page.locator(CURVE).first.get_attribute("d") == curve
    assert page.locator("#train-summary").inner_text() == summary
    page.get_by_label("Hidden sizes").fill("64")

    # "Use it" swaps it into the Draw tab, whose caption says so; "Shipped again" swaps back.
    page.locator("#train-use").click()
    _wait_text(page, "#train-message", "now uses")
    page.get_by_role("tab", name="Draw").click()
    _wait_text(page, "#digit-caption", "run #")
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-restore").click()
    _wait_text(page, "#train-message", "shipped model again")
    page.get_by_role("tab", name="Draw").click()
    _wait_text(page, "#digit-caption", "digits.safetensors")


def test_each_tab_fits_a_1440x900_window(browser, app_url: str, real_data_dir: Path, tmp_path: Path) -> None:
    """Each tab, with its results showing, fits the window without scrolling (screenshots kept)."""
    from classifier import data

    pg = browser.new_page(viewport={"width": 1440, "height": 900})
    pg.goto(app_url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)

    def fits(name: str) -> None:
        _painted(pg)
        _shot(pg, f"fit-{name}")
        height = pg.evaluate("document.documentElement.scrollHeight")
        assert height <= 900, f"{name}: the page is {height} px tall"

    _draw_seven(pg)
    _wait_text(pg, "#digit-view", "%")
    fits("draw")

    x, _ = data.load("signs", "test", real_data_dir)
    photo = tmp_path / "sign.jpg"
    Image.fromarray(x[0].numpy()).resize((480, 480), Image.Resampling.BICUBIC).convert("RGB").save(photo)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(photo))
    _wait_text(pg, "#sign-view", "%", timeout=60_000)
    fits("signs")

    _train_briefly(pg)
    fits("train-curves")
    for tab in ("Compare runs", "Runs", "Confusion matrix", "Misclassified"):
        pg.get_by_role("tab", name=tab, exact=True).click()
        fits(f"train-{tab.split()[0].lower()}")
    pg.close()


def _project_key(page) -> str:
    """The project key the page keeps in the browser (local storage), once it has one."""
    page.wait_for_function("() => !!localStorage.getItem('classifier-project')", timeout=30_000)
    return page.evaluate("localStorage.getItem('classifier-project')")


def test_closing_the_page_mid_run_keeps_the_run_as_interrupted(browser, app_url: str) -> None:
    """A page closed while its run trains: the run stays in the project, interrupted, with its curve."""
    from gradio_client import Client

    pg = _open(browser, app_url)
    key = _project_key(pg)
    _start_long_run(pg)
    pg.close()
    client = Client(app_url, verbose=False)
    client.predict(key, api_name="/open_project")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = client.predict(api_name="/list_runs")
        if runs and runs[0]["status"] != "running":
            break
        time.sleep(1)
    assert [(r["number"], r["status"]) for r in runs] == [(1, "interrupted")]


def test_a_reload_brings_back_the_run_and_the_model_in_use(browser, app: tuple[str, Path]) -> None:
    app_url, log = app
    pg = _open(browser, app_url)
    _train_briefly(pg)
    pg.locator("#train-use").click()
    _wait_text(pg, "#train-message", "now uses")
    pg.reload()
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    # The model in use is back: the Draw tab's line names it, and so does its Model menu.
    try:
        _wait_text(pg, "#digit-caption", "MLP [16]")
    except AssertionError as e:   # what the Model menus chose meanwhile, to tell where the choice went
        chosen = [line for line in log.read_text(errors="replace").splitlines() if "Model menu chose" in line]
        raise AssertionError(f"{e}; the log's Model menu choices: {chosen[-5:]}") from None
    pg.wait_for_function("() => [...document.querySelectorAll('#digit-model input')].some("
                         "i => i.value.startsWith('run #1'))", timeout=30_000)
    pg.get_by_role("tab", name="Train").click()
    pg.get_by_role("tab", name="Runs", exact=True).click()
    _wait_text(pg, "#train-runs", "custom")
    pg.close()


def test_a_project_link_opens_the_project_in_another_browser(browser, app_url: str) -> None:
    pg = _open(browser, app_url)
    _train_briefly(pg, hidden="")
    pg.get_by_role("tab", name="Project").click()
    pg.locator("#project-copy").click()
    link_box = pg.locator("#project-link textarea, #project-link input").first
    link_box.wait_for(timeout=30_000)
    link = link_box.input_value()
    assert link.startswith(app_url.rstrip("/")) and "#project=" in link
    pg.close()

    other = _open(browser, link)
    assert _project_key(other) == link.split("#project=")[1]
    other.get_by_role("tab", name="Train").click()
    other.get_by_role("tab", name="Runs", exact=True).click()
    _wait_text(other, "#train-runs", "linear")
    assert "#project=" not in other.url   # the key leaves the address bar once kept
    other.close()


def test_deleting_the_project_starts_an_empty_one(browser, app_url: str) -> None:
    pg = _open(browser, app_url)
    key = _project_key(pg)
    _train_briefly(pg, hidden="")
    pg.get_by_role("tab", name="Project").click()
    pg.once("dialog", lambda dialog: dialog.accept())
    pg.locator("#project-delete").click()
    pg.wait_for_function("(old) => localStorage.getItem('classifier-project') !== old", arg=key, timeout=30_000)
    _wait_text(pg, "#project-about", "0 run(s)")
    pg.close()


def _pick(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).click()


def test_two_presets_side_by_side(browser, app_url: str) -> None:
    """Run the nearest-mean baseline and the quick preset, then compare them: both in the table and
    the overlaid plot; picking the first shows its own report again. The quick run's curve has
    points within its one epoch."""
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Train").click()
    for number, (preset, about, hidden) in enumerate([("Nearest class mean", "mean image", ""),
                                                      ("Quick (one epoch)", "fastest", "256")], start=1):
        _pick(pg, "Preset", preset)
        pg.wait_for_function(f"document.querySelector('#train-preset-about').innerText.includes('{about}')",
                             timeout=30_000)
        assert pg.get_by_label("Hidden sizes").input_value() == hidden
        pg.locator("#train-start").click()
        pg.wait_for_function(f"document.querySelector('#train-status').innerText.includes('Done: run #{number}')",
                             timeout=300_000)
    assert "Run #2 (quick)" in pg.locator("#train-summary").inner_text()
    pg.get_by_role("tab", name="Compare runs").click()
    pg.wait_for_selector("#train-compare g.mark-symbol.role-mark path", timeout=30_000)
    # Both runs: the one-point baseline shows as a dot.
    assert pg.locator("#train-compare g.mark-symbol.role-mark path").count() >= 2
    _shot(pg, "train-compare")
    pg.get_by_role("tab", name="Runs", exact=True).click()
    table = pg.locator("#train-runs").inner_text()
    assert "nearest-mean" in table
    assert "quick" in table
    _pick(pg, "Run", "#1 nearest-mean")
    _wait_text(pg, "#train-summary", "Run #1 (nearest-mean)")
    pg.close()


def test_look_inside_the_model(browser, app_url: str) -> None:
    pg = _open(browser, app_url)
    _draw_seven(pg)
    _wait_text(pg, "#digit-view", "%")
    assert pg.locator("#digit-view .inside-view").count() == 0
    pg.locator("#digit-inside input").check()
    pg.wait_for_selector("#digit-view .inside-view", timeout=30_000)
    assert "Hidden layer 2" in pg.locator("#digit-view").inner_text()
    assert pg.locator("#digit-view .inside-view img").count() == 2 + 8  # a grid per layer, 8 units' weights
    _shot(pg, "draw-inside")
    pg.close()


def test_live_webcam_mode(browser, app_url: str, real_data_dir: Path, tmp_path: Path) -> None:
    """Chromium's fake camera plays a picture made from a Sign Language MNIST test image (an "L" on
    a plain background, off-centre): the live view shows a prediction, and it keeps updating."""
    from classifier import data
    from classifier.inputs import photos

    x, y = data.load("signs", "test", real_data_dir)
    i = int((y == data.SIGN_LETTERS.index("L")).nonzero()[0, 0])
    # One second of the hand in one place, one second in another: the live answer must follow.
    rng = np.random.default_rng(3)
    places = [ImageOps.exif_transpose(photos.make(x[i].numpy(), "plain", rng).image).resize((640, 480))
              for _ in range(2)]
    video = write_y4m(tmp_path / "hand.y4m", [places[0]] * 15 + [places[1]] * 15)
    # A second Chromium, with the fake camera, from the same Playwright (one per thread is allowed).
    with camera_browser(browser.browser_type, video) as b:
        pg = b.new_page(viewport={"width": 1440, "height": 900})
        open_live(pg, app_url)
        first = pg.locator("#sign-view").inner_html()
        pg.wait_for_function("(first) => document.querySelector('#sign-view').innerHTML !== first",
                             arg=first, timeout=30_000)
        assert pg.locator("#sign-view .answer").count() == 1
        assert pg.locator("#sign-view figure.picture").count() == 1  # the frame with its square
        assert _top_label(pg, "#sign-view") in ("L", "not")
        _shot(pg, "sign-live")


def test_live_webcam_mode_with_a_real_hand(browser, app_url: str, real_hands_dir: Path, tmp_path: Path) -> None:
    """The fake camera plays a real webcam frame of a person signing (real_hands_dev): MediaPipe
    finds the hand, and the live view frames it by its landmarks."""
    frame = Image.open(real_hands_dir / "L" / "vedant_2.jpg").convert("RGB").resize((640, 480))
    video = write_y4m(tmp_path / "real.y4m", [frame] * 15)
    with camera_browser(browser.browser_type, video) as b:
        pg = b.new_page(viewport={"width": 1440, "height": 900})
        open_live(pg, app_url)
        pg.wait_for_function("document.querySelector('#sign-view')?.innerText.includes('landmarks')",
                             timeout=60_000)
        assert pg.locator("#sign-view figure.picture").count() == 1
        # The hand-shape letters model answers beside the pixel model.
        assert "trained on generated hands" in pg.locator("#sign-view").inner_text()
        _shot(pg, "sign-live-real")


def test_live_spelling_writes_the_letters_held_and_clear_empties_the_line(browser, app_url: str,
                                                                          real_hands_dir: Path,
                                                                          tmp_path: Path) -> None:
    """The fake camera plays a real person's L, then V, a second each (looped): the word line under
    Live spells them in turn; Clear empties it."""
    frames = [Image.open(real_hands_dir / c / "vedant_2.jpg").convert("RGB").resize((640, 480)) for c in "LV"]
    video = write_y4m(tmp_path / "lv.y4m", [frames[0]] * 15 + [frames[1]] * 15)
    line = "document.querySelector('#sign-spelled textarea, #sign-spelled input')?.value || ''"
    with camera_browser(browser.browser_type, video) as b:
        pg = b.new_page(viewport={"width": 1440, "height": 900})
        open_live(pg, app_url)
        pg.wait_for_function(f"(({line}).includes('LV') || ({line}).includes('VL'))", timeout=90_000)
        before = len(pg.evaluate(line))
        pg.locator("#sign-spell-clear").click()
        pg.wait_for_function(f"({line}).length < {before}", timeout=30_000)
        # Practice: a word typed in; its letters light up as the camera's hand makes them.
        pg.locator("#sign-practice-panel").get_by_text("Practice spelling a word").click()
        word = pg.locator("#sign-practice-word input")
        word.fill("VL")
        word.press("Enter")
        pg.locator("#sign-practice-go").click()
        pg.wait_for_selector("#sign-practice svg.hand-shape", timeout=30_000)
        pg.wait_for_function("document.querySelectorAll('#sign-practice .letter.done').length === 2",
                             timeout=60_000)
        _wait_text(pg, "#sign-practice", "Spelled: VL")


def test_a_video_uploaded_in_the_video_mode_is_spelled(page, real_hands_dir: Path, tmp_path: Path) -> None:
    from classifier.inputs import video
    frames = []
    for letter in "LVY":
        photo = Image.open(real_hands_dir / letter / "vedant_2.jpg").convert("RGB").resize((320, 240))
        frames += [np.asarray(photo)] * 9
    clip = tmp_path / "lvy.mp4"
    video.write(clip, frames, 15)
    page.get_by_role("tab", name="Hand signs").click()
    page.get_by_role("tab", name="Video").click()
    page.locator("#sign-video input[type=file]").set_input_files(str(clip))
    page.locator("#sign-video-go").click()
    page.wait_for_function("(document.querySelector('#sign-video-text textarea, #sign-video-text input')"
                           "?.value || '') === 'LVY'", timeout=60_000)
    _wait_text(page, "#sign-video-letters", "Y")


def test_undo_takes_back_the_last_stroke_every_time(page) -> None:
    """A 7, then a stroke across it, undone: the 7's answer comes back; twice in a row."""
    page.get_by_role("tab", name="Draw").click()
    box = page.locator("#digit-input canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.locator("#digit-input .pad-clear").click()
    page.wait_for_function("!document.querySelector('#digit-view').innerText.includes('%')", timeout=30_000)
    _stroke(page, [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)], cx, cy, 200)
    page.wait_for_function(f"{ANSWER_JS} === '7'", timeout=30_000)
    seven_ink = _ink_pixels(page, cx, cy)
    seen = "document.querySelector('#digit-view img')?.getAttribute('src')"
    seven_seen = page.evaluate(seen)
    for _ in range(2):
        _stroke(page, [(-0.45, 0.3), (0.45, 0.35)], cx, cy, 200)
        page.wait_for_function(f"{seen} !== {seven_seen!r}", timeout=30_000)   # the model saw the new stroke
        assert _ink_pixels(page, cx, cy) > seven_ink
        page.locator("#digit-input .pad-undo").click()
        page.wait_for_function(f"{seen} === {seven_seen!r}", timeout=30_000)   # and then the 7 again
        assert _ink_pixels(page, cx, cy) == seven_ink
    page.locator("#digit-input .pad-undo").click()   # the 7 itself: nothing left
    _wait_text(page, "#digit-view", "draw a digit")
    assert _ink_pixels(page, cx, cy) == 0


def test_a_finger_draws_on_a_touch_screen(browser, app_url: str) -> None:
    """A phone-sized touch context: a 7 drawn with touch events (pointer events of type touch)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)
    pg = context.new_page()
    pg.goto(app_url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    canvas = pg.locator("#digit-input canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cx, cy, size = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] / 2
    cdp = context.new_cdp_session(pg)
    path = [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)]
    points = [(x0 + (x1 - x0) * t / 12, y0 + (y1 - y0) * t / 12)
              for (x0, y0), (x1, y1) in zip(path, path[1:], strict=False) for t in range(13)]
    for k, (x, y) in enumerate(points):
        kind = "touchStart" if k == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": cx + x * size, "y": cy + y * size}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    pg.wait_for_function(f"{ANSWER_JS} === '7'", timeout=30_000)
    _shot(pg, "draw-7-touch")
    context.close()


def test_switching_to_live_clears_the_photos_answer(browser, app_url: str, real_data_dir: Path,
                                                    tmp_path: Path) -> None:
    """Before Record is pressed the Live panel shows no answer: the last photo's is gone."""
    from classifier import data

    x, _ = data.load("signs", "test", real_data_dir)
    photo = tmp_path / "sign.jpg"
    Image.fromarray(x[0].numpy()).resize((360, 360), Image.Resampling.BICUBIC).convert("RGB").save(photo)
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(photo))
    _wait_text(pg, "#sign-view", "%", timeout=60_000)
    pg.get_by_role("tab", name="Live").click()
    _wait_text(pg, "#sign-view", "Press Record", timeout=10_000)
    assert "%" not in pg.locator("#sign-view").inner_text()
    pg.close()


def test_the_default_preset_trains_in_seconds_and_draws_its_curve(browser, app_url: str) -> None:
    """The Train tab opens on quick, says how long it takes here, and Start alone finishes with a curve."""
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Train").click()
    assert "About" in pg.locator("#train-preset-about").inner_text()
    pg.locator("#train-start").click()
    _wait_text(pg, "#train-status", "Done", timeout=300_000)
    assert pg.locator(CURVE).count() >= 1
    pg.close()


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_after_a_stroke_the_answer_is_in_view_without_scrolling(browser, app_url: str, width: int,
                                                                 height: int) -> None:
    """On a wide window the answer is beside the canvas; on a phone, right under it."""
    phone = width < 500
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone)
    pg = context.new_page()
    pg.goto(app_url)
    canvas = pg.locator("#digit-input canvas").first
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    assert box["y"] + box["height"] <= height   # the canvas is in view as the page opens
    _stroke(pg, [(-0.4, -0.45), (0.4, -0.45), (-0.1, 0.5)], box["x"] + box["width"] / 2,
            box["y"] + box["height"] / 2, box["width"] / 2)
    pg.wait_for_function(f"{ANSWER_JS} === '7'", timeout=30_000)
    assert pg.evaluate("window.scrollY") == 0
    answer = pg.locator("#digit-view .answer").bounding_box()
    assert 0 <= answer["y"]
    assert answer["y"] + answer["height"] <= height
    context.close()


def test_one_click_downloads_a_run_and_the_tabs_model(browser, app_url: str) -> None:
    """Download (and Download as ONNX) start the browser's download at once: no file box to find."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.goto(app_url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    with pg.expect_download(timeout=180_000) as onnx:
        pg.locator("#digit-onnx").click()
    assert onnx.value.suggested_filename == "digits.onnx"
    _train_briefly(pg)
    with pg.expect_download(timeout=60_000) as weights:
        pg.get_by_role("button", name="Download", exact=True).click()
    assert weights.value.suggested_filename.endswith(".safetensors")
    context.close()


def test_look_inside_stays_where_it_was_when_the_view_grows(browser, app_url: str) -> None:
    pg = _open(browser, app_url)
    _draw_seven(pg)
    pg.wait_for_function(f"{ANSWER_JS} === '7'", timeout=30_000)
    before = pg.locator("#digit-inside").bounding_box()
    pg.locator("#digit-inside input").check()
    pg.wait_for_selector("#digit-view .inside-view", timeout=30_000)
    assert pg.locator("#digit-inside").bounding_box() == before
    pg.close()


def test_a_downloaded_model_brought_back_classifies_in_another_session(browser, app_url: str,
                                                                         tmp_path: Path) -> None:
    """Train, download the run; in a new session (another browser context), bring the file back in
    the Train tab: the Draw tab then answers with it."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.goto(app_url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    _train_briefly(pg)
    with pg.expect_download(timeout=60_000) as weights:
        pg.get_by_role("button", name="Download", exact=True).click()
    saved = tmp_path / weights.value.suggested_filename
    weights.value.save_as(saved)
    context.close()

    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Train").click()
    with pg.expect_file_chooser() as chooser:
        pg.locator("#train-upload").click()
    chooser.value.set_files(str(saved))
    _wait_text(pg, "#train-message", "Brought back", timeout=60_000)
    pg.get_by_role("tab", name="Draw").click()
    _wait_text(pg, "#digit-caption", "MLP [16]")
    _draw_seven(pg)
    pg.wait_for_function(f"{ANSWER_JS} !== ''", timeout=30_000)
    assert "run #1 uploaded" in pg.locator("#digit-caption").inner_text()
    pg.close()


def test_the_brush_slider_shows_its_width(page) -> None:
    brush = page.locator("#digit-input .pad-brush")
    before = page.locator("#digit-input .pad-brush-value").inner_text()
    brush.fill("30")   # a range input: fill sets its value and fires input and change
    _wait_text(page, "#digit-input .pad-brush-value", "30 px")
    brush.fill("14")
    assert before == "14 px"


def test_the_photo_box_opens_on_upload(browser, app_url: str) -> None:
    """A desktop without a camera sees where to drop a photo at once, no icon to find."""
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input").get_by_text("Click to Upload").first.wait_for(timeout=30_000)
    assert pg.locator("#sign-input").get_by_text("Click to Access Webcam").count() == 0
    pg.close()


def test_a_linear_run_in_use_is_named_for_what_it_is(browser, app_url: str) -> None:
    """After "Use it" on a linear run, the Draw tab says "linear model" and its Model menu names the
    run; "Back to the shipped model" says what it does."""
    pg = _open(browser, app_url)
    _train_briefly(pg, hidden="")
    pg.locator("#train-use").click()
    _wait_text(pg, "#train-message", "now uses")
    assert pg.locator("#train-restore").inner_text().strip() == "Back to the shipped model"
    pg.get_by_role("tab", name="Draw").click()
    _wait_text(pg, "#digit-caption", "linear model")
    pg.wait_for_function("() => [...document.querySelectorAll('#digit-model input')].some("
                         "i => i.value.startsWith('run #1'))", timeout=30_000)
    pg.close()


def test_without_libgl_the_hand_signs_tab_says_landmarks_are_off_and_how_to_mend_it(
        browser, app_data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """A machine without libGL: OpenCV (which MediaPipe imports) fails to load. The app starts, says
    so in its log, and the Hand signs tab says that the pixel model answers alone and what mends it."""
    from classifier.inputs import landmarks
    from tests.conftest import start_app

    hidden = tmp_path / "no-libgl"
    (hidden / "cv2").mkdir(parents=True)
    (hidden / "cv2" / "__init__.py").write_text(
        'raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")\n')
    monkeypatch.setenv("PYTHONPATH", str(hidden))
    log = tmp_path / "app.log"
    proc, url = start_app(app_data_dir, log)
    try:
        pg = _open(browser, url)
        pg.get_by_role("tab", name="Hand signs").click()
        _wait_text(pg, "#sign-caption", "Hand landmarks are off on this server")
        assert landmarks.MEND in pg.locator("#sign-caption").inner_text()
        assert "hand landmarks are off" in log.read_text(errors="replace")
        pg.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_after_teaching_the_photo_on_screen_is_read_by_the_taught_model(browser, app_url: str,
                                                                         real_hands_dir: Path) -> None:
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(real_hands_dir / "L" / "vedant_2.jpg"))
    _wait_text(pg, "#sign-view", "Hand shape: the MLP", timeout=60_000)
    pg.locator("#sign-teach").get_by_text("Teach it your hand").click()
    pg.get_by_label("Sign, or a name").fill("L")
    pg.locator("#sign-teach-add").click()
    _wait_text(pg, "#sign-teach-captures", "L (1)", timeout=60_000)
    pg.locator("#sign-teach-train").click()
    _wait_text(pg, "#sign-teach-status", "Trained on 1 examples", timeout=120_000)
    # No new upload: the same photo, read again by the model just taught, which is named, on the
    # answer and in the tab's line.
    _wait_text(pg, "#sign-view", "your hand: 1 example of 1 sign", timeout=60_000)
    _wait_text(pg, "#sign-caption", "Read by your own hand-shape model (your hand: 1 example of 1 sign)")
    with pg.expect_download(timeout=30_000) as got:   # the taught model, made when asked for
        pg.locator("#sign-teach-download").click()
    assert got.value.suggested_filename == "my-hand-shape.safetensors"
    pg.close()


def test_a_second_start_while_the_run_trains_says_why_nothing_starts(browser, app_url: str) -> None:
    pg = _open(browser, app_url)
    _start_long_run(pg)
    pg.locator("#train-start").click()
    pg.get_by_text("Your run is still training").first.wait_for(timeout=30_000)
    pg.locator("#train-stop").click()
    _wait_text(pg, "#train-status", "Done", timeout=120_000)
    pg.close()


def test_a_run_behind_another_pages_run_shows_its_place_in_the_queue(browser, app_url: str) -> None:
    first = _open(browser, app_url)
    _start_long_run(first)
    second = _open(browser, app_url)
    second.get_by_role("tab", name="Train").click()
    second.locator("#train-start").click()
    second.wait_for_function("() => /queue: *\\d+\\/\\d+/.test(document.body.innerText)", timeout=30_000)
    first.locator("#train-stop").click()
    _wait_text(second, "#train-status", "Starting run", timeout=120_000)
    second.locator("#train-stop").click()
    _wait_text(second, "#train-status", "Done", timeout=120_000)
    first.close()
    second.close()


def test_with_a_hand_answered_one_answer_shows_and_the_second_opinion_is_folded(
        browser, app_url: str, real_hands_dir: Path) -> None:
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(real_hands_dir / "L" / "vedant_2.jpg"))
    _wait_text(pg, "#sign-view", "Second opinion", timeout=60_000)
    assert pg.locator("#sign-view details.second-opinion:not([open])").count() == 1
    assert [a.is_visible() for a in pg.locator("#sign-view .answer").all()] == [True, False]
    pg.close()


def test_with_a_hand_answered_the_teach_panel_is_in_view_at_1440x900(browser, app_url: str,
                                                                     real_hands_dir: Path) -> None:
    """Teaching sits under the photo it learns from: open, its buttons and upload box are in a
    1440x900 window without scrolling, and so is the tab's one-line caption above."""
    pg = browser.new_page(viewport={"width": 1440, "height": 900})
    pg.goto(app_url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(real_hands_dir / "L" / "vedant_2.jpg"))
    _wait_text(pg, "#sign-view", "Hand shape: the MLP", timeout=60_000)
    pg.locator("#sign-teach").get_by_text("Teach it your hand").click()
    pg.locator("#sign-teach-train").wait_for(timeout=10_000)
    _painted(pg)
    _shot(pg, "teach-in-view")
    assert pg.evaluate("window.scrollY") == 0
    for part in ("#sign-teach-add", "#sign-teach-uploads", "#sign-teach-train"):
        box = pg.locator(part).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 900, f"{part} is below the window: {box}"
    assert "MediaPipe" not in pg.locator("#sign-caption").inner_text()   # how it works is folded away
    pg.close()


def test_a_close_call_between_two_letters_is_answered_not_sure(browser, app_url: str, real_hands_dir: Path) -> None:
    """A real M the hand-shape model reads as M 45% with S 39%: one answer, "not sure", its best
    guess named."""
    pg = _open(browser, app_url)
    pg.get_by_role("tab", name="Hand signs").click()
    pg.locator("#sign-input input[type=file]").set_input_files(str(real_hands_dir / "M" / "t32rahman_3.jpg"))
    _wait_text(pg, "#sign-view", "Hand shape: the MLP", timeout=60_000)
    first = pg.locator("#sign-view .answer").first
    assert "not sure" in first.inner_text()
    assert "best guess: M, then S" in first.inner_text()
    pg.close()


# ------------------------------------------------------------------------------------ a class

def _join(browser, url: str, code: str, name: str):
    """A student's browser (a context of its own, so a second page shares its project) joined as `name`;
    `code` "": `url` is the student link, which fills the code in."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    pg.goto(url)
    pg.wait_for_selector(PAD_READY, timeout=60_000)
    pg.get_by_role("tab", name="Class", exact=True).click()
    code_box = pg.locator("#class-code input, #class-code textarea").first
    if code:
        code_box.fill(code)
    else:
        pg.wait_for_function("(el) => el.value.length > 0", arg=code_box.element_handle(), timeout=10_000)
    pg.locator("#class-name input, #class-name textarea").first.fill(name)
    pg.locator("#class-join").click()
    _wait_text(pg, "#class-status", f"as {name}")
    return pg


def test_a_teacher_sees_the_classs_runs_ranked_as_they_finish(browser, app_url: str) -> None:
    """A teacher makes a class; three students join from three browsers; two train. The teacher's page
    shows both runs within 2 s of their end, ranked; no student reaches the teacher's page or another's project."""
    from gradio_client import Client

    teacher = _open(browser, app_url)
    teacher.get_by_role("tab", name="Class", exact=True).click()
    teacher.locator("#class-teach").get_by_text("Teach a class").click()
    teacher.locator("#class-new-name input, #class-new-name textarea").first.fill("Workshop 7B")
    teacher.locator("#class-make").click()
    _wait_text(teacher, "#teacher-header", "Join code")
    link = teacher.locator("#class-teacher-link input, #class-teacher-link textarea").first.input_value()
    assert "#teacher=" in link
    teacher_key = link.split("#teacher=")[1]
    code = teacher.locator("#teacher-header code").first.inner_text().strip()
    teacher.evaluate(WATCH_RUNS_JS)   # when each student's finished run first shows

    student_link = teacher.locator("#teacher-student-link input, #teacher-student-link textarea").first
    teacher.wait_for_function("(el) => el.value.includes('#join=')", arg=student_link.element_handle(),
                              timeout=10_000)
    assert student_link.input_value().endswith("#join=" + code)
    students = [_join(browser, app_url, code, name) for name in ("Ada", "Bo")]
    students.append(_join(browser, student_link.input_value(), "", "Cy"))   # Cy opens the student link
    _wait_text(teacher, "#teacher-students", "Cy", timeout=10_000)
    for pg, hidden in zip(students[:2], ("32", ""), strict=True):   # Ada trains an MLP, Bo a linear model
        _start_brief_run(pg, hidden)
    for pg in students[:2]:
        _wait_text(pg, "#train-status", "Done", timeout=300_000)
    teacher.wait_for_function("() => Object.keys(window.__firstSeen).length >= 2", timeout=30_000)
    seen = teacher.evaluate("() => window.__firstSeen")

    client = Client(app_url, verbose=False)
    overview = client.predict(teacher_key, api_name="/class_overview")
    finished = {r["student"]: r["finished_at"] for r in overview["runs"]}
    for name in ("Ada", "Bo"):
        lag = seen[name] - finished[name]
        assert lag <= 2.0, f"{name}'s run showed {lag:.2f} s after its end"
    teacher.locator("#teacher-runs tr[data-run]").first.click()   # a run opened: its curves
    teacher.locator("#teacher-curves .mark-line path").first.wait_for(timeout=30_000)
    _shot(teacher, "class-teacher")
    ranked = sorted(overview["runs"], key=lambda r: -r["test_accuracy"])
    board = teacher.locator("#teacher-board tbody tr").all_inner_texts()
    assert [row.split("\t")[1] for row in board[:2]] == [r["student"] for r in ranked]

    # Students see the board, never the teacher's page: not with a guessed teacher link, not through the API.
    ada = students[0]
    ada.get_by_role("tab", name="Class", exact=True).click()
    _wait_text(ada, "#class-board", "Bo")
    _shot(ada, "class-student")
    guess = teacher_key[:-4] + ("AAAA" if not teacher_key.endswith("AAAA") else "BBBB")
    again = ada.context.new_page()   # Ada's browser: her project, a guessed teacher link
    again.goto(app_url + "#teacher=" + guess)
    again.wait_for_selector(PAD_READY, timeout=60_000)
    again.get_by_role("tab", name="Class", exact=True).click()
    _wait_text(again, "#class-status", "as Ada")
    assert not again.locator("#class-teacher").is_visible()
    assert again.evaluate("localStorage.getItem('classifier-teacher')") is None   # nothing kept of the guess
    with pytest.raises(Exception, match="opens no class"):
        client.predict(guess, api_name="/class_overview")

    # The teacher hides the leader's entry: it leaves the students' board.
    leader = ranked[0]["student"]
    teacher.locator("#teacher-board tbody tr", has_text=leader).first.locator("[data-action=hide]").click()
    teacher.wait_for_function("(name) => [...document.querySelectorAll('#teacher-board tr.hidden-entry')]"
                              ".some(r => r.innerText.includes(name))", arg=leader, timeout=10_000)
    students[2].get_by_role("tab", name="Train").click()
    students[2].get_by_role("tab", name="Class", exact=True).click()   # the tab drawn anew
    students[2].wait_for_function("([hid, next]) => { const t = document.querySelector('#class-board')?.innerText"
                                  " || ''; return t.includes(next) && !t.includes(hid); }",
                                  arg=[leader, ranked[1]["student"]], timeout=10_000)
    with pytest.raises(Exception, match="No project has this key"):
        client.predict(_project_key(ada)[:-4] + "AAAA", api_name="/open_project")
    teacher.close()
    for pg in students:
        pg.context.close()


# ------------------------------------------------------------------------------ teaching the pad

# The pad's canvas holds no ink (after an example is added, the page clears it).
PAD_BLANK_JS = """() => {
  const c = document.querySelector('#digit-input canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4 * 97) if (d[i] < 128) return false;
  return true;
}"""


def _draw_symbol(page, symbol: str, k: int) -> None:
    """`symbol` (bench.symbols' template) drawn with the mouse on the pad, a little different each `k`."""
    from bench.symbols import TEMPLATES

    box = page.locator("#digit-input canvas").first.bounding_box()
    size = box["width"] * (0.6 + 0.06 * (k % 3))
    cx = box["x"] + box["width"] / 2 + (k % 2) * 10 - 5
    cy = box["y"] + box["height"] / 2 + (k % 3) * 8 - 8
    for stroke in TEMPLATES[symbol]:
        # A stroke as a few points (the mouse moves in steps between them).
        points = stroke[::max(1, len(stroke) // 12)] + [stroke[-1]]
        _stroke(page, [(x - 0.5, y - 0.5) for x, y in points], cx, cy, size)


def test_the_pad_learns_three_classes_drawn_with_the_mouse(browser, app_url: str) -> None:
    """Teach three classes with the mouse (three drawings each), train, draw a new one of each: the
    pad reads each as its class."""
    pg = _open(browser, app_url)
    pg.locator("#digit-teach").get_by_text("Teach it your drawings").click()
    label = pg.locator("#digit-teach-label input, #digit-teach-label textarea").first
    classes = ("circle", "cross", "check")
    for name in classes:
        label.fill(name)
        for k in range(3):
            _draw_symbol(pg, name, k)
            pg.locator("#digit-teach-add").click()
            _wait_text(pg, "#digit-teach-captures", f"{name} ({k + 1})")
            pg.wait_for_function(PAD_BLANK_JS, timeout=30_000)
    pg.locator("#digit-teach-train").click()
    _wait_text(pg, "#digit-teach-status", "Trained on 9 examples", timeout=120_000)
    _wait_text(pg, "#digit-caption", "your drawings")
    for k, name in enumerate(classes):
        pg.locator("#digit-input .pad-clear").click()
        pg.wait_for_function(PAD_BLANK_JS, timeout=30_000)
        _draw_symbol(pg, name, k + 4)
        _wait_label(pg, "#digit-view", name)
    _shot(pg, "draw-taught")
    with pg.expect_download(timeout=30_000) as got:   # the drawings, made when asked for
        pg.locator("#digit-teach-ndjson").click()
    assert got.value.suggested_filename == "my-drawings.ndjson"
    pg.locator("#digit-teach-needed").click()   # how many examples a class needs: a chart
    # (attached: a flat line, all right at every size, has no height to be "visible")
    pg.locator("#digit-teach-curve .mark-line path").first.wait_for(state="attached", timeout=120_000)
    pg.close()
