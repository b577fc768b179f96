"""The README's pictures of the app: each tab in use, taken from the running app in Chromium.

Starts the app on a free local port and a headless Chromium (Debian's, `/usr/bin/chromium`) at
1440x900, then: draws a 7 on the Draw tab's pad; opens the Hand signs tab with its "Teach it your
hand" panel; trains the hand-shape model (generated hands) with the `quick` preset in the Train
tab; makes a class whose teacher's page shows that run; teaches the pad three symbols drawn with the
mouse. Nothing in the pictures comes from a data set or the real photos: the drawings are made here
and the hands are generated. Writes `docs/draw.png`, `docs/hand_signs.png`, `docs/train.png`,
`docs/class.png`, `docs/draw_taught.png`.

    python -m bench.screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.latency import CHROMIUM, running
from bench.symbols import TEMPLATES

DOCS = Path(__file__).resolve().parents[1] / "docs"
SEVEN = [(-0.6, -0.7), (0.6, -0.7), (-0.1, 0.8)]   # a 7, in shares of half the pad's size


def draw_seven(page: Any) -> None:
    pad = page.locator("#digit-input canvas").first
    box = pad.bounding_box()
    cx, cy, half = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 0.6 * box["width"] / 2
    page.mouse.move(cx + SEVEN[0][0] * half, cy + SEVEN[0][1] * half)
    page.mouse.down()
    for x, y in SEVEN[1:]:
        page.mouse.move(cx + x * half, cy + y * half, steps=25)
    page.mouse.up()
    page.mouse.move(5, 5)
    page.wait_for_function("document.querySelector('#digit-view').innerText.includes('%')", timeout=60_000)


def train_hand_shapes(page: Any) -> None:
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("combobox", name="Data set").click()
    page.get_by_role("option", name="handshape", exact=True).click()
    page.wait_for_function("document.querySelector('#train-status').innerText.includes('generated')",
                           timeout=60_000)
    page.locator("#train-start").click()
    page.wait_for_function("document.querySelector('#train-status').innerText.includes('Done')", timeout=300_000)
    page.wait_for_timeout(1000)


def stroke(page: Any, points: list[tuple[float, float]], cx: float, cy: float, size: float) -> None:
    page.mouse.move(cx + points[0][0] * size, cy + points[0][1] * size)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(cx + x * size, cy + y * size, steps=15)
    page.mouse.up()


def draw_symbol(page: Any, symbol: str, k: int) -> None:
    """`bench.symbols`' `symbol` drawn with the mouse on the pad, a little different for each `k`."""
    pad = page.locator("#digit-input canvas").first
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    size = box["width"] * (0.6 + 0.06 * (k % 3))
    cx, cy = box["x"] + box["width"] / 2 + (k % 2) * 10 - 5, box["y"] + box["height"] / 2 + (k % 3) * 8 - 8
    for points in TEMPLATES[symbol]:
        few = points[::max(1, len(points) // 12)] + [points[-1]]
        stroke(page, [(x - 0.5, y - 0.5) for x, y in few], cx, cy, size)


def teach_pad(page: Any, symbols: tuple[str, ...] = ("circle", "cross", "check")) -> None:
    """Teach the pad three symbols, three drawings each, train, and draw a new circle."""
    page.get_by_role("tab", name="Draw").click()
    page.locator("#digit-input .pad-clear").click()   # the 7 drawn first goes
    page.locator("#digit-teach").get_by_text("Teach it your drawings").click()
    label = page.locator("#digit-teach-label input, #digit-teach-label textarea").first
    for symbol in symbols:
        label.fill(symbol)
        for k in range(3):
            draw_symbol(page, symbol, k)
            page.locator("#digit-teach-add").click()
            page.wait_for_function("([sel, t]) => document.querySelector(sel).innerText.includes(t)",
                                   arg=["#digit-teach-captures", f"{symbol} ({k + 1})"], timeout=60_000)
            page.wait_for_timeout(700)   # the page clears the pad for the next drawing
    page.locator("#digit-teach-train").click()
    page.wait_for_function("document.querySelector('#digit-teach-status').innerText.includes('Trained')",
                           timeout=120_000)
    page.locator("#digit-input .pad-clear").click()
    page.wait_for_timeout(500)
    draw_symbol(page, symbols[0], 4)
    page.mouse.move(5, 5)
    page.wait_for_function(f"document.querySelector('#digit-view').innerText.includes('{symbols[0]}')",
                           timeout=60_000)
    page.evaluate("window.scrollTo(0, 0)")


def make_class(page: Any) -> None:
    """Make a class, join it from the same page (its project has the Train tab's run), open that run."""
    page.get_by_role("tab", name="Class", exact=True).click()
    page.locator("#class-teach").get_by_text("Teach a class").click()
    page.locator("#class-new-name input, #class-new-name textarea").first.fill("Workshop 7B")
    page.locator("#class-make").click()
    page.wait_for_selector("#teacher-header code", timeout=60_000)
    code = page.locator("#teacher-header code").first.inner_text().strip()
    page.locator("#class-code input, #class-code textarea").first.fill(code)
    page.locator("#class-name input, #class-name textarea").first.fill("Ada")
    page.locator("#class-join").click()
    page.wait_for_selector("#teacher-runs tr[data-run]", timeout=60_000)
    page.locator("#teacher-runs tr[data-run]").first.click()
    page.wait_for_selector("#teacher-curves .mark-line path", state="attached", timeout=60_000)
    page.wait_for_timeout(1000)


def main(argv: list[str] | None = None) -> list[Path]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DOCS)
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    shots = []
    with running("app") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.wait_for_selector("#digit-input canvas", timeout=120_000)
        draw_seven(page)
        shots.append(args.out / "draw.png")
        page.screenshot(path=str(shots[-1]))

        page.get_by_role("tab", name="Hand signs").click()
        page.locator("#sign-teach").get_by_text("Teach it your hand").click()
        page.wait_for_timeout(500)
        shots.append(args.out / "hand_signs.png")
        page.screenshot(path=str(shots[-1]))

        train_hand_shapes(page)
        shots.append(args.out / "train.png")
        page.screenshot(path=str(shots[-1]))

        make_class(page)
        shots.append(args.out / "class.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        teach_pad(page)
        shots.append(args.out / "draw_taught.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        browser.close()
    for shot in shots:
        print(f"wrote {shot}")
    return shots


if __name__ == "__main__":
    main()
