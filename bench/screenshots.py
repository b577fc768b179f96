"""The README's pictures of the app: each tab in use, taken from the running app in Chromium.

Starts the app on a free local port and a headless Chromium (Debian's, `/usr/bin/chromium`) at
1440x900, then: draws a 7 on the Draw tab's pad; opens the Hand signs tab with its "Teach it your
hand" panel; trains the hand-shape model (generated hands) with the `quick` preset in the Train
tab. Nothing in the pictures comes from a data set or the real photos: the drawing is made here
and the hands are generated. Writes `docs/draw.png`, `docs/hand_signs.png`, `docs/train.png`.

    python -m bench.screenshots
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.latency import CHROMIUM, running

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
        browser.close()
    for shot in shots:
        print(f"wrote {shot}")
    return shots


if __name__ == "__main__":
    main()
