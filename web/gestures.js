// Zoom and pan on the chart: the wheel zooms around the pointer (a sideways wheel pans), a drag
// pans, two fingers pinch; a tap or click without moving shows the reading under it.

export function listen(chart) {
  const canvas = chart.canvas;
  const pointers = new Map();
  const perPixel = () => (chart.dpr / chart.layout.pw) * chart.layout.dt; // seconds per CSS pixel

  canvas.addEventListener(
    "wheel",
    (e) => {
      if (!chart.layout) return;
      e.preventDefault();
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) return chart.pan(e.deltaX * perPixel());
      chart.zoom(Math.pow(1.0015, e.deltaY), chart.timeAt(e.clientX));
    },
    { passive: false },
  );
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, startX: e.clientX, moved: false });
  });
  canvas.addEventListener("pointermove", (e) => {
    const p = pointers.get(e.pointerId);
    if (!p) return e.pointerType === "mouse" ? chart.hover(e.clientX) : undefined;
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const before = Math.abs(a.x - b.x);
      p.x = e.clientX;
      const after = Math.abs(a.x - b.x);
      if (before > 10 && after > 10) chart.zoom(before / after, chart.timeAt((a.x + b.x) / 2));
      p.moved = true;
      return;
    }
    const dx = e.clientX - p.x;
    p.x = e.clientX;
    if (Math.abs(e.clientX - p.startX) > 6) p.moved = true;
    if (p.moved && chart.layout) {
      chart.hideTooltip();
      chart.pan(-dx * perPixel());
    }
  });
  canvas.addEventListener("pointerup", (e) => {
    const p = pointers.get(e.pointerId);
    pointers.delete(e.pointerId);
    if (p && !p.moved) chart.hover(e.clientX); // a tap (or click) shows the reading under it
  });
  canvas.addEventListener("pointercancel", (e) => pointers.delete(e.pointerId));
  canvas.addEventListener("pointerleave", (e) => e.pointerType === "mouse" && chart.hideTooltip());
}
