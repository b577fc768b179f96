"""The Draw tab's drawing surface: a plain `<canvas>` in a `gr.HTML` that sends strokes, not pictures.

Gradio's Sketchpad reads its WebGL canvas back three times, PNG-encodes and uploads each layer on
every pointer-up, and only then fires its event: about a second a stroke. This pad keeps the
drawing as strokes in Quick, Draw!'s simplified format (`classifier.inputs.strokes`) and, when a stroke
ends, sets its value to their JSON text (a few kB) and fires its `stroke` event; the server draws
them with PIL and runs the Draw pipeline unchanged. Pointer events, so a mouse, a pen and a finger
all draw (`touch-action: none` keeps a finger from scrolling the page instead). Undo, Clear and
the brush width are the pad's own; each sends the drawing as it now is. Its script and style are
`assets/stroke_pad.js` and `.css`.
"""

from __future__ import annotations

import json

import gradio as gr

from . import assets

SIDE = 400       # the canvas's pixels a side (the page may show it smaller; points are in these pixels)
BRUSH = 14       # default brush width, canvas pixels...
BRUSH_RANGE = (4, 40)   # ...and the widths its slider offers

TEMPLATE = f"""
<div class="stroke-pad">
  <canvas width="{SIDE}" height="{SIDE}" role="img" aria-label="drawing canvas"></canvas>
  <div class="pad-tools">
    <button type="button" class="pad-undo" aria-label="Undo last stroke">Undo</button>
    <button type="button" class="pad-clear" aria-label="Clear canvas">Clear</button>
    <label>Brush <input type="range" class="pad-brush" min="{BRUSH_RANGE[0]}" max="{BRUSH_RANGE[1]}" step="1"
      value="{BRUSH}" aria-label="Brush width"><output class="pad-brush-value">{BRUSH} px</output></label>
  </div>
</div>
"""

EMPTY = json.dumps({"strokes": [], "width": SIDE, "height": SIDE, "brush": BRUSH})
# A "7" as the pad sends it: the API page's example of a drawing.
SEVEN = json.dumps({"strokes": [[[80, 320, 180], [60, 60, 360]]], "width": SIDE, "height": SIDE, "brush": BRUSH})


def stroke_pad(elem_id: str, label: str) -> gr.HTML:
    """The pad; its `stroke` event fires when a stroke ends (and on Undo, Clear, a new brush width),
    its value the drawing's strokes as JSON text (`classifier.inputs.strokes`)."""
    return gr.HTML(EMPTY, html_template=TEMPLATE, css_template=assets.read("stroke_pad.css"),
                   js_on_load=assets.read("stroke_pad.js"), label=label,
                   elem_id=elem_id, padding=False, apply_default_css=False)
