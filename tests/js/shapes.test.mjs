// The drawing overlay's geometry (templates/static/js/lib/shapes.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { circleBox, EARLY_MS, pictureBox, SHOW_MS, shapeGeometry, visibleAt } from "../../templates/static/js/lib/shapes.js";

test("a landscape picture in a tall box is letterboxed above and below", () => {
  assert.deepEqual(pictureBox(400, 600, 1280, 720), { left: 0, top: 187.5, width: 400, height: 225 });
});

test("a portrait picture in a wide box is pillarboxed beside it", () => {
  assert.deepEqual(pictureBox(800, 400, 720, 1280), { left: 287.5, top: 0, width: 225, height: 400 });
});

test("without the picture's size the box is the element's", () => {
  assert.deepEqual(pictureBox(300, 200, 0, 0), { left: 0, top: 0, width: 300, height: 200 });
});

test("a drawing shows from its moment for SHOW_MS, and a frame before", () => {
  assert.equal(visibleAt(5000, 5000), true);
  assert.equal(visibleAt(5000, 5000 - EARLY_MS), true);
  assert.equal(visibleAt(5000, 5000 + SHOW_MS), true);
  assert.equal(visibleAt(5000, 4900), false);
  assert.equal(visibleAt(5000, 5000 + SHOW_MS + 1), false);
});

test("a circle is round in pixels on a wide picture", () => {
  const [[x0, y0], [x1, y1]] = circleBox([0.5, 0.5], [0.6, 0.5], 1600, 900);
  assert.ok(Math.abs((x1 - x0) * 1600 - (y1 - y0) * 900) < 1);
});

test("an arrow has a head at its second point", () => {
  const { d } = shapeGeometry({ kind: "arrow", points: [[0, 0.5], [1, 0.5]] }, 100, 100);
  assert.match(d, /^M0\.0 50\.0 L100\.0 50\.0 M\S+ \S+ L100\.0 50\.0 L\S+ \S+$/);
});

test("an ellipse's attributes for a circle", () => {
  assert.deepEqual(shapeGeometry({ kind: "circle", points: [[0.25, 0.25], [0.75, 0.75]] }, 200, 100).ellipse, { cx: "100.0", cy: "50.0", rx: "50.0", ry: "25.0" });
});
