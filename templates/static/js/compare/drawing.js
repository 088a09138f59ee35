// Drawing on the frame: a teacher marks a paused frame (lines, arrows, circles, freehand) as
// part of a time-coded comment, and everyone sees the marks over that side's video around the
// comment's moment (lib/shapes.js: from at_ms for SHOW_MS), while playing and when seeking
// there; elsewhere the layer is empty. The marks are vector data in the picture's 0..1 space
// (Comment.drawing), laid over the picture's own box (object-fit: contain letterboxes it inside
// the element), so they scale with the player at every size. Nothing is baked into the video.
//
// Each video side gets one <svg> layer inside its .screen. Its box and viewBox follow the
// picture's pixels and the shapes are redrawn in those pixels, so an arrow's head and a circle
// keep their shape. Only SVG attributes and CSSOM properties are set: the CSP allows no inline
// style. Pointer events serve mouse, pen and touch alike.
import {
  circleBox, FREEHAND_STEP, MAX_FREEHAND_POINTS, MAX_SHAPES, meaningful, normalised, pictureBox,
  shapeGeometry, strokeWidth, visibleAt,
} from "../lib/shapes.js";
import { on } from "./events.js";
import { sides } from "./sides.js";
import { $, $$, config, root, state } from "./state.js";
import { now, pause, playing } from "./transport.js";

const SVG = "http://www.w3.org/2000/svg";
const layers = {}; // side name ("left", "right") -> {svg, box}
const toolbar = $("[data-drawing-tools]");
const formSide = $("[data-comment-side]");
const draft = { active: false, shapes: [], tool: "arrow", color: null, current: null };

// The comment's side ("reply", "demonstration") -> the pane it is drawn on. Comparing two
// attempts, the left picture is not the demonstration: its drawings are not shown there.
function paneOf(side) {
  if (side === "reply") return "right";
  return config.mode === "demonstration" ? "left" : null;
}

function makeLayer(name) {
  const el = sides[name]?.el;
  if (!el || !el.matches("video")) return;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "drawing-layer");
  svg.setAttribute("aria-hidden", "true");
  svg.dataset.drawingLayer = name;
  el.after(svg);
  layers[name] = { svg, el, box: { left: 0, top: 0, width: 0, height: 0 } };
  el.addEventListener("loadedmetadata", relayout);
  if (window.ResizeObserver) new ResizeObserver(relayout).observe(el);
}

// The layer over the picture's box: the element's box less object-fit's bars.
function placeLayer(layer) {
  const { el, svg } = layer;
  const pane = el.closest("[data-pane]");
  const aspect = Number(pane?.dataset.aspect) || 16 / 9;
  const vw = el.videoWidth || aspect * 1000;
  const vh = el.videoHeight || 1000;
  const box = pictureBox(el.clientWidth, el.clientHeight, vw, vh);
  box.left += el.offsetLeft;
  box.top += el.offsetTop;
  layer.box = box;
  svg.style.left = `${box.left}px`;
  svg.style.top = `${box.top}px`;
  svg.style.width = `${box.width}px`;
  svg.style.height = `${box.height}px`;
  svg.setAttribute("viewBox", `0 0 ${box.width.toFixed(1)} ${box.height.toFixed(1)}`);
}

function drawShape(group, shape, width, height) {
  const geometry = shapeGeometry(shape, width, height);
  const sw = strokeWidth(width, height);
  // A dark edge under the colour, so that a white or yellow mark reads on a bright picture.
  for (const [stroke, w, cls] of [["rgba(0,0,0,.55)", sw + 2, "edge"], [shape.color, sw, "mark"]]) {
    const node = document.createElementNS(SVG, geometry.ellipse ? "ellipse" : "path");
    if (geometry.ellipse) for (const [k, v] of Object.entries(geometry.ellipse)) node.setAttribute(k, v);
    else node.setAttribute("d", geometry.d);
    node.setAttribute("fill", "none");
    node.setAttribute("stroke", stroke);
    node.setAttribute("stroke-width", w.toFixed(1));
    node.setAttribute("stroke-linecap", "round");
    node.setAttribute("stroke-linejoin", "round");
    node.setAttribute("class", cls);
    group.append(node);
  }
}

// The side's position (its own ms) at the transport's time.
const positionMs = (name) => sides[name].pos(now()) * 1000;

// What each layer shows now: the drawings whose moment is near, and the teacher's draft.
// Run every frame while playing: the layer is rebuilt only when what it shows has changed.
function update({ force = false } = {}) {
  for (const [name, layer] of Object.entries(layers)) {
    const { svg, box } = layer;
    const at = positionMs(name);
    const due = state.threads.filter((c) => c.drawing?.length && paneOf(c.side) === name && visibleAt(c.at_ms, at));
    const drafting = draft.active && draftPane() === name;
    const key = `${due.map((c) => c.public_id).join(" ")}|${box.width}x${box.height}`;
    if (!force && !drafting && !layer.drafted && key === layer.key) continue;
    layer.key = key;
    layer.drafted = drafting;
    svg.replaceChildren();
    const shown = [];
    for (const comment of due) {
      const group = document.createElementNS(SVG, "g");
      group.dataset.comment = comment.public_id;
      for (const shape of comment.drawing) drawShape(group, shape, box.width, box.height);
      svg.append(group);
      shown.push(comment.public_id);
    }
    if (draft.active && draftPane() === name) {
      const group = document.createElementNS(SVG, "g");
      group.dataset.draft = "true";
      for (const shape of [...draft.shapes, ...(draft.current ? [draft.current] : [])]) drawShape(group, shape, box.width, box.height);
      svg.append(group);
    }
    svg.dataset.shown = shown.join(" ");
  }
}

function relayout() {
  for (const layer of Object.values(layers)) placeLayer(layer);
  update({ force: true });
}

// Drawn, not yet posted.
const draftPane = () => paneOf(formSide?.value || "reply");

// The shapes drawn for a comment on `side` (posted with it), or none.
export function draftFor(side) {
  return draft.shapes.length && paneOf(side) === draftPane() ? draft.shapes.map((s) => ({ ...s })) : [];
}

export function endDraft() {
  draft.shapes = [];
  draft.current = null;
  setActive(false);
}

// The comment list changed (comments.js): show the new drawings.
export function refreshDrawings() {
  update({ force: true });
}

// --- The teacher's tools -------------------------------------------------------------------

function setActive(active) {
  draft.active = active && Boolean(layers[draftPane()]);
  for (const [name, layer] of Object.entries(layers)) layer.svg.classList.toggle("drawing-active", draft.active && name === draftPane());
  if (toolbar) {
    toolbar.querySelector("[data-draw-toggle]").setAttribute("aria-pressed", String(draft.active));
    toolbar.querySelector("[data-draw-options]").hidden = !draft.active;
    showCount();
  }
  root.dataset.drawing = draft.active ? "on" : "off";
  update();
}

function showCount() {
  const count = draft.shapes.length;
  toolbar.querySelector("[data-draw-count]").textContent = count ? `${count} mark${count === 1 ? "" : "s"}` : "";
  toolbar.querySelector("[data-draw-undo]").disabled = !count;
  toolbar.querySelector("[data-draw-clear]").disabled = !count;
}

// A pointer's place in the picture's 0..1 space.
function pointAt(layer, event) {
  const rect = layer.svg.getBoundingClientRect();
  return normalised((event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
}

function listenForStrokes(layer) {
  const { svg } = layer;
  let start = null;
  const stop = (event) => { if (draft.active) event.stopPropagation(); };
  svg.addEventListener("pointerdown", (event) => {
    if (!draft.active || !svg.classList.contains("drawing-active")) return;
    event.stopPropagation(); // not a swipe between the panes (controls.js)
    event.preventDefault();
    if (draft.shapes.length >= MAX_SHAPES) return;
    try { svg.setPointerCapture(event.pointerId); } catch (e) { /* a pointer already gone */ }
    start = pointAt(layer, event);
    draft.current = { kind: draft.tool, color: draft.color, points: [start, start] };
  });
  svg.addEventListener("pointermove", (event) => {
    if (!start || !draft.current) return;
    const point = pointAt(layer, event);
    const shape = draft.current;
    if (shape.kind === "freehand") {
      const last = shape.points[shape.points.length - 1];
      if (Math.hypot(point[0] - last[0], point[1] - last[1]) >= FREEHAND_STEP && shape.points.length < MAX_FREEHAND_POINTS) shape.points.push(point);
    } else if (shape.kind === "circle") {
      shape.points = circleBox(start, point, layer.box.width, layer.box.height);
    } else {
      shape.points = [start, point];
    }
    update();
  });
  const finish = (event) => {
    if (!start) return;
    event.stopPropagation();
    const shape = draft.current;
    start = null;
    draft.current = null;
    if (shape && shape.kind === "freehand" && shape.points.length > 2) shape.points.splice(1, 1); // the start's duplicate
    if (shape && meaningful(shape, layer.box.width, layer.box.height)) draft.shapes.push(shape);
    showCount();
    update();
  };
  svg.addEventListener("pointerup", finish);
  svg.addEventListener("pointercancel", finish);
  svg.addEventListener("click", stop); // a tap on the inset would enlarge it (controls.js)
}

function initTools() {
  const colors = $$("[data-draw-color]");
  draft.color = colors[0]?.dataset.drawColor || "#e03131";
  const press = (buttons, chosen) => buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === chosen)));
  toolbar.querySelector("[data-draw-toggle]").addEventListener("click", () => {
    if (!draft.active) {
      if (playing) pause();
      const layer = layers[draftPane()];
      // The picture in view; the tools float at the bottom of the window meanwhile.
      layer?.el.closest("[data-pane]").scrollIntoView({ block: "start" });
    }
    setActive(!draft.active);
  });
  const tools = $$("[data-draw-tool]");
  tools.forEach((b) => b.addEventListener("click", () => { draft.tool = b.dataset.drawTool; press(tools, b); }));
  press(tools, tools.find((b) => b.dataset.drawTool === draft.tool));
  colors.forEach((b) => b.addEventListener("click", () => { draft.color = b.dataset.drawColor; press(colors, b); }));
  press(colors, colors[0]);
  toolbar.querySelector("[data-draw-undo]").addEventListener("click", () => { draft.shapes.pop(); showCount(); update(); });
  toolbar.querySelector("[data-draw-clear]").addEventListener("click", () => { draft.shapes = []; showCount(); update(); });
  $("[data-comment-cancel]")?.addEventListener("click", endDraft);
  formSide?.addEventListener("change", () => setActive(draft.active));
  // The tools only make sense where there is a picture on the chosen side.
  const sync = () => { toolbar.querySelector("[data-draw-toggle]").disabled = !layers[draftPane()]; };
  formSide?.addEventListener("change", sync);
  sync();
}

export function initDrawing() {
  makeLayer("left");
  makeLayer("right");
  for (const layer of Object.values(layers)) listenForStrokes(layer);
  if (toolbar) initTools();
  on("render", update);
  on("layout", relayout);
  window.PractikaDrawing = { boxes: () => Object.fromEntries(Object.entries(layers).map(([n, l]) => [n, l.svg.getBoundingClientRect().toJSON()])) };
  relayout();
}
