"""Gradio's floor: an app with the Draw tab's /classify_digit signature that does no work at all.

Same input components (a 400x400 RGBA Sketchpad and the optional model name), same output
components (two hidden Labels, the HTML view), same queue settings; the function returns a fixed
answer ("draw a digit" for an empty canvas, so a browser can see a new stroke's answer arrive).
`bench/latency.py` measures it beside the real app.

    python -m bench.bare_app --port 7870
"""

from __future__ import annotations

import argparse

import gradio as gr

ANSWER = {"7": 0.91, "1": 0.05, "9": 0.04}


def classify(value: dict | None, model: str) -> tuple[object, object, str]:
    composite = None if value is None else value.get("composite")
    if composite is None or composite.min() == composite.max():
        return "draw a digit", "draw a digit", "draw a digit"
    return ANSWER, ANSWER, "7 91%"


with gr.Blocks(title="bare") as demo:
    sketch = gr.Sketchpad(type="numpy", image_mode="RGBA", canvas_size=(400, 400), height=520, layers=False,
                          brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
                          elem_id="digit-input", elem_classes=["drawing-input"])
    model = gr.Textbox("", visible=False)
    every = gr.Label(visible=False)
    top = gr.Label(num_top_classes=3, visible=False)
    seen = gr.HTML(elem_id="digit-view")
    sketch.change(classify, [sketch, model], [every, top, seen], api_name="classify_digit",
                  concurrency_id="classify", concurrency_limit=8, show_progress="hidden", trigger_mode="always_last")
demo.queue(default_concurrency_limit=4, max_size=256)

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7870)
    demo.launch(server_name="127.0.0.1", server_port=p.parse_args().port)
