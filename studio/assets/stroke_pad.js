// The Draw tab's stroke pad (studio/canvas.py): `element`, `props` and `trigger` are Gradio's
// (gr.HTML's js_on_load). The template holds no value, so setting props.value re-renders nothing:
// the canvas and its pixels stay.
const MIN_STEP = 2;   // canvas pixels: a point closer than this to the last one adds nothing a 28x28 could show
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
const brushValue = element.querySelector('.pad-brush-value');
brushInput.addEventListener('input', () => { brushValue.textContent = `${brushInput.value} px`; });
brushInput.addEventListener('change', () => { brush = Number(brushInput.value); paint(); if (strokes.length) send(); });
paint();
canvas.dataset.ready = 'true';   // listeners attached: the pad takes strokes from now on
