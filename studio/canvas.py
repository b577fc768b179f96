"""The Draw tab's drawing surface: a plain `<canvas>` in a `gr.HTML` that sends strokes, not pictures.

Gradio's Sketchpad reads its WebGL canvas back three times, PNG-encodes and uploads each layer on
every pointer-up, and only then fires its event: about a second a stroke. This pad keeps the
drawing as strokes in Quick, Draw!'s simplified format (`classifier.strokes`) and, when a stroke
ends, sets its value to their JSON text (a few kB) and fires its `stroke` event; the server draws
them with PIL and runs the Draw pipeline unchanged. Pointer events, so a mouse, a pen and a finger
all draw (`touch-action: none` keeps a finger from scrolling the page instead). Undo, Clear and
the brush width are the pad's own; each sends the drawing as it now is.
"""

from __future__ import annotations

import json

import gradio as gr

SIDE = 400       # the canvas's pixels a side (the page may show it smaller; points are in these pixels)
BRUSH = 14       # default brush width, canvas pixels
MIN_STEP = 2.0   # a point closer than this to the last one adds nothing a 28x28 could show

TEMPLATE = f"""
<div class="stroke-pad">
  <canvas width="{SIDE}" height="{SIDE}" role="img" aria-label="drawing canvas"></canvas>
  <div class="pad-tools">
    <button type="button" class="pad-undo" aria-label="Undo last stroke">Undo</button>
    <button type="button" class="pad-clear" aria-label="Clear canvas">Clear</button>
    <label>Brush <input type="range" class="pad-brush" min="4" max="40" step="1" value="{BRUSH}"
      aria-label="Brush width"></label>
  </div>
</div>
"""

CSS = """
.stroke-pad { display: flex; flex-direction: column; gap: 6px; align-items: stretch; max-width: 420px; }
.stroke-pad canvas { width: 100%; aspect-ratio: 1; touch-action: none; background: #fff; cursor: crosshair;
                     border: 1px solid #cbd5e1; border-radius: 6px; }
.stroke-pad .pad-tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.stroke-pad button { padding: 4px 14px; border: 1px solid #cbd5e1; border-radius: 6px; background: #f8fafc;
                     cursor: pointer; font: inherit; }
.stroke-pad label { display: flex; gap: 6px; align-items: center; font-size: .9em; }
"""

# `element`, `props` and `trigger` are Gradio's (gr.HTML's js_on_load). The template holds no value,
# so setting props.value re-renders nothing: the canvas and its pixels stay.
JS = """
const canvas = element.querySelector('canvas');
const ctx = canvas.getContext('2d');
const brushInput = element.querySelector('.pad-brush');
let strokes = [];
let current = null;
let brush = Number(brushInput.value);

function pen() {
  ctx.strokeStyle = '#000'; ctx.fillStyle = '#000';
  ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.lineWidth = brush;
}
function dot(x, y) { ctx.beginPath(); ctx.arc(x, y, brush / 2, 0, 2 * Math.PI); ctx.fill(); }
function paint() {
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height);
  pen();
  for (const [xs, ys] of strokes) {
    dot(xs[0], ys[0]);
    if (xs.length > 1) {
      ctx.beginPath(); ctx.moveTo(xs[0], ys[0]);
      for (let i = 1; i < xs.length; i++) ctx.lineTo(xs[i], ys[i]);
      ctx.stroke();
      dot(xs[xs.length - 1], ys[ys.length - 1]);
    }
  }
}
function point(e) {
  const r = canvas.getBoundingClientRect();
  const clamp = (v, hi) => Math.min(hi, Math.max(0, Math.round(v)));
  return [clamp((e.clientX - r.left) * canvas.width / r.width, canvas.width),
          clamp((e.clientY - r.top) * canvas.height / r.height, canvas.height)];
}
function send() {
  props.value = JSON.stringify({strokes: strokes, width: canvas.width, height: canvas.height, brush: brush});
  trigger('stroke');
}
function add(e) {
  const [x, y] = point(e);
  const xs = current[0], ys = current[1];
  const lx = xs[xs.length - 1], ly = ys[ys.length - 1];
  if (Math.hypot(x - lx, y - ly) < MIN_STEP) return;
  pen(); ctx.beginPath(); ctx.moveTo(lx, ly); ctx.lineTo(x, y); ctx.stroke();
  xs.push(x); ys.push(y);
}
canvas.addEventListener('pointerdown', (e) => {
  if (e.button !== 0 || current) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  const [x, y] = point(e);
  current = [[x], [y]];
  strokes.push(current);
  pen(); dot(x, y);
});
canvas.addEventListener('pointermove', (e) => {
  if (!current) return;
  for (const c of (e.getCoalescedEvents ? e.getCoalescedEvents() : [e])) add(c);
});
function end(e) {
  if (!current) return;
  add(e);
  current = null;
  paint();   // the finished drawing as a whole, exactly as Undo and a new brush redraw it
  send();
}
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);
element.querySelector('.pad-undo').addEventListener('click', () => { strokes.pop(); paint(); send(); });
element.querySelector('.pad-clear').addEventListener('click', () => { strokes = []; paint(); send(); });
brushInput.addEventListener('change', () => { brush = Number(brushInput.value); paint(); if (strokes.length) send(); });
paint();
""".replace("MIN_STEP", str(MIN_STEP))

EMPTY = json.dumps({"strokes": [], "width": SIDE, "height": SIDE, "brush": BRUSH})
# A "7" as the pad sends it: the API page's example of a drawing.
SEVEN = json.dumps({"strokes": [[[80, 320, 180], [60, 60, 360]]], "width": SIDE, "height": SIDE, "brush": BRUSH})


def stroke_pad(elem_id: str, label: str) -> gr.HTML:
    """The pad; its `stroke` event fires when a stroke ends (and on Undo, Clear, a new brush width),
    its value the drawing's strokes as JSON text (`classifier.strokes`)."""
    return gr.HTML(EMPTY, html_template=TEMPLATE, css_template=CSS, js_on_load=JS, label=label,
                   elem_id=elem_id, padding=False, apply_default_css=False)
