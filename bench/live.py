"""How many webcam frames a second the Hand signs tab's Live mode classifies for one viewer.

Starts the app on a free local port and a headless Chromium whose fake camera plays a real
webcam frame of a person signing (`real_hands_dev`, beside the data sets), opens the Live tab,
presses Record, and counts the live view's updates (each a classified frame) over `--seconds`.
The last line printed is JSON.

    python -m bench.live --real-hands ../shared/datasets/real_hands_dev
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.latency import CHROMIUM, running
from bench.real_hands import DEFAULT


def write_y4m(path: Path, frames: list[Image.Image], fps: int = 15) -> Path:
    """A YUV4MPEG2 video of these pictures (all one size), for Chromium's fake camera (it loops the file)."""
    w, h = frames[0].width // 2 * 2, frames[0].height // 2 * 2
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            y, cb, cr = (np.asarray(c) for c in frame.convert("RGB").resize((w, h)).convert("YCbCr").split())
            # 4:2:0: one chroma sample per 2x2 pixels.
            cb, cr = (np.asarray(Image.fromarray(c).resize((w // 2, h // 2), Image.Resampling.BOX)) for c in (cb, cr))
            f.write(b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes())
    return path


@contextmanager
def camera_browser(browser_type: Any, video: Path) -> Iterator[Any]:
    """A headless Chromium (from a Playwright browser type) whose fake camera plays `video`."""
    browser = browser_type.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        yield browser
    finally:
        browser.close()


def open_live(page: Any, url: str) -> None:
    """Open the app, its Hand signs tab's Live mode, start the camera and wait for the first answer."""
    page.goto(url)
    page.wait_for_selector("#digit-input canvas", timeout=120_000)
    page.get_by_role("tab", name="Hand signs").click()
    page.get_by_role("tab", name="Live").click()
    page.locator("#sign-live-input").get_by_text("Click to Access Webcam").click(timeout=30_000)
    page.locator("#sign-live-input").get_by_role("button", name="capture photo").click(timeout=30_000)
    page.wait_for_function("document.querySelector('#sign-view')?.innerText.includes('frames')", timeout=120_000)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real-hands", type=Path, default=Path(os.environ.get("REAL_HANDS_DIR", DEFAULT)))
    p.add_argument("--photo", default="L/vedant_2.jpg", help="the frame the fake camera plays")
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    video = write_y4m(Path(tempfile.mkdtemp()) / "hand.y4m",
                      [Image.open(args.real_hands / args.photo).convert("RGB").resize((640, 480))] * 30, fps=30)
    with running("app") as url, sync_playwright() as pw, camera_browser(pw.chromium, video) as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        open_live(page, url)
        # Count, in the page, the distinct frames the view has shown (each carries its server time),
        # and time each from the camera frame's capture (Gradio's webcam encodes each streamed frame
        # with toDataURL, and sends the next only once the last is answered) to its answer on the page.
        page.evaluate("""() => {
            window.__frames = new Set();
            window.__captured = [];
            window.__latency = [];
            const encode = HTMLCanvasElement.prototype.toDataURL;
            HTMLCanvasElement.prototype.toDataURL = function (...a) {
                if (a[0] === 'image/jpeg') window.__captured.push(performance.now());
                return encode.apply(this, a);
            };
            const seen = () => {
                const f = document.querySelector('#sign-view [data-frame]');
                if (f && !window.__frames.has(f.dataset.frame)) {
                    window.__frames.add(f.dataset.frame);
                    const c = window.__captured;
                    if (c.length) window.__latency.push(performance.now() - c[c.length - 1]);
                }
            };
            new MutationObserver(seen).observe(document.querySelector('#sign-view'),
                                               {childList: true, subtree: true, attributes: true});
        }""")
        start = time.monotonic()
        page.wait_for_timeout(args.seconds * 1000)
        frames = page.evaluate("() => window.__frames.size")
        captured = page.evaluate("() => window.__captured.length")
        latency = np.asarray(page.evaluate("() => window.__latency"), dtype=float)
        elapsed = time.monotonic() - start
        landmarks = "landmarks" in page.locator("#sign-view").inner_text()
    result = {"seconds": round(elapsed, 1), "frames": frames, "frames_per_second": round(frames / elapsed, 2),
              "hand_by_landmarks": landmarks, "frames_sent": captured,
              "frame_to_answer_ms": {"p50": round(float(np.percentile(latency, 50)), 1),
                                     "p95": round(float(np.percentile(latency, 95)), 1)} if len(latency) else None}
    print(f"{frames} frames classified in {elapsed:.1f} s ({captured} sent): {frames / elapsed:.1f} a second "
          f"(hand found by its landmarks: {landmarks}); capture to answer: {result['frame_to_answer_ms']} ms")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
