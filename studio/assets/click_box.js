// Run once as the page loads (demo.load): a square of one's own by clicking two corners on the picture in the classify view: the corners
// go into the tab's box field (#<noun>-box), and its "Use this square" button (#<noun>-box-go)
// classifies them at once.
() => {
    if (window.__classifyBoxClicks) return;
    window.__classifyBoxClicks = true;
    let first = null;
    document.addEventListener('click', (e) => {
        const img = e.target.closest && e.target.closest('figure.picture[data-size] img');
        if (!img) return;
        const fig = img.closest('figure.picture');
        const [W, H] = fig.dataset.size.split(',').map(Number);
        const r = img.getBoundingClientRect();
        const x = Math.round((e.clientX - r.left) / r.width * W), y = Math.round((e.clientY - r.top) / r.height * H);
        const noun = img.closest('[id$="-view"]').id.replace(/-view$/, '');
        const field = document.querySelector('#' + noun + '-box textarea, #' + noun + '-box input');
        if (!field) return;
        if (!first) {
            first = [x, y];
            fig.querySelector('figcaption').textContent = `corner ${x},${y}: now click the opposite corner`;
            return;
        }
        field.value = [first[0], first[1], x, y].join(',');
        first = null;
        field.dispatchEvent(new Event('input', {bubbles: true}));
        // Let Gradio take the new value, then classify the square (the tab's "Use this square").
        setTimeout(() => document.querySelector('#' + noun + '-box-go')?.click(), 50);
    });
}
