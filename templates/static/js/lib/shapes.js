// Drawings on the picture (learning/drawings/shapes.py holds the server's rules): the pure
// geometry, tested with node --test (tests/js/shapes.test.mjs).
//
// A shape is {kind: "line" | "arrow" | "circle" | "freehand", color, points: [[x, y], ...]},
// x and y in the picture's own 0..1 space. The player shows the picture with object-fit:
// contain, so the picture is a box inside the element's box (letterboxed above and below a
// landscape picture in a tall box, pillarboxed beside a portrait one): `pictureBox` finds it.

// How long a drawing stays over the video after its moment, in the side's own milliseconds.
// Two seconds at 1x is long enough to read a mark or two and short enough that the player's
// posture has not moved on; at 0.5x (practice speed) it lasts four seconds of wall time.
export const SHOW_MS = 2000;
// A seek lands on a frame boundary: a frame (at 30 fps) before the moment still shows it.
export const EARLY_MS = 40;

export function visibleAt(atMs, positionMs) {
  return positionMs >= atMs - EARLY_MS && positionMs <= atMs + SHOW_MS;
}

// The picture's box inside an element of width x height showing a videoWidth x videoHeight
// picture with object-fit: contain (centred), in the element's pixels.
export function pictureBox(width, height, videoWidth, videoHeight) {
  if (!(width > 0 && height > 0 && videoWidth > 0 && videoHeight > 0)) return { left: 0, top: 0, width: Math.max(0, width), height: Math.max(0, height) };
  const scale = Math.min(width / videoWidth, height / videoHeight);
  const w = videoWidth * scale;
  const h = videoHeight * scale;
  return { left: (width - w) / 2, top: (height - h) / 2, width: w, height: h };
}

const clamp01 = (v) => Math.min(1, Math.max(0, v));
const round4 = (v) => Math.round(v * 10000) / 10000;
export const normalised = (x, y) => [round4(clamp01(x)), round4(clamp01(y))];

// A circle dragged from its centre to a point on its rim, on a picture of width x height px:
// the two corners of its box in 0..1 (round in pixels, so an ellipse in 0..1 space).
export function circleBox(centre, rim, width, height) {
  const r = Math.hypot((rim[0] - centre[0]) * width, (rim[1] - centre[1]) * height);
  return [normalised(centre[0] - r / width, centre[1] - r / height), normalised(centre[0] + r / width, centre[1] + r / height)];
}

// The stroke's width in px for a picture of width x height: readable on a phone's inset and
// not heavy on a large screen.
export const strokeWidth = (width, height) => Math.max(2, Math.min(6, Math.min(width, height) * 0.012));

// SVG path data for a shape on a picture of width x height px (a circle: an ellipse's
// attributes instead).
export function shapeGeometry(shape, width, height) {
  const px = shape.points.map(([x, y]) => [x * width, y * height]);
  const f = (n) => n.toFixed(1);
  if (shape.kind === "circle") {
    const [[x0, y0], [x1, y1]] = px;
    return { ellipse: { cx: f((x0 + x1) / 2), cy: f((y0 + y1) / 2), rx: f(Math.abs(x1 - x0) / 2), ry: f(Math.abs(y1 - y0) / 2) } };
  }
  let d = `M${px.map(([x, y]) => `${f(x)} ${f(y)}`).join(" L")}`;
  if (shape.kind === "arrow") {
    const [[x0, y0], [x1, y1]] = px;
    const angle = Math.atan2(y1 - y0, x1 - x0);
    const head = 4 * strokeWidth(width, height) + 6;
    const wing = (side) => [x1 - head * Math.cos(angle + side * 0.5), y1 - head * Math.sin(angle + side * 0.5)];
    const [a, b] = [wing(1), wing(-1)];
    d += ` M${f(a[0])} ${f(a[1])} L${f(x1)} ${f(y1)} L${f(b[0])} ${f(b[1])}`;
  }
  return { d };
}

// Limits the server enforces (learning/drawings/shapes.py), kept here for the drawing tools.
export const MAX_SHAPES = 20;
export const MAX_FREEHAND_POINTS = 400;
// Freehand points closer than this (0..1 space) to the last one are dropped.
export const FREEHAND_STEP = 0.004;

// Is the shape worth keeping (a click is not a line)?
export function meaningful(shape, width, height) {
  const px = shape.points.map(([x, y]) => [x * width, y * height]);
  if (px.length < 2) return false;
  const span = Math.max(...px.map(([x]) => x)) - Math.min(...px.map(([x]) => x)) + Math.max(...px.map(([, y]) => y)) - Math.min(...px.map(([, y]) => y));
  return span >= 6;
}
