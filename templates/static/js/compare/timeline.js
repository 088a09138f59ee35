// The timeline under the two sides: both waveforms (the reply's shifted by the offset, or
// redrawn along the time map under auto-sync), the playhead, the loop region; click or drag
// to seek, drag the reply's lane to slide it against the demonstration. It redraws on the
// "layout" and "render" hooks (compare/events.js), which lower modules emit.
import { clock } from "../lib/clock.js";
import { on } from "./events.js";
import { setOffset } from "./offset.js";
import { duration, sides } from "./sides.js";
import { $, config, mapped, replyAt, state } from "./state.js";
import { loopA, loopB, now, playing, seek } from "./transport.js";

const COLORS = { left: "#8f86f0", right: "#f0a35e", grid: "#e3e5e8" };

const track = $("[data-track]");
const canvas = $("[data-waves]");
const playhead = $("[data-playhead]");
const loopRegion = $("[data-loop-region]");
const timeOut = $("[data-time]");
const durationOut = $("[data-duration]");
const commentTime = $("[data-comment-time]");
const playIcon = $("[data-icon-play]");
const pauseIcon = $("[data-icon-pause]");
export const playButton = $("[data-play]");

// The reply's lane under auto-sync: each column shows the reply's sound at the moment the map
// puts under it, so both waveforms line up note for note.
function drawMappedLane(ctx, side, top, height, width) {
  const peaks = side.peaks;
  const total = duration();
  ctx.fillStyle = COLORS.grid;
  ctx.fillRect(0, top + height / 2, width, 1);
  if (!side.duration) return;
  ctx.fillStyle = "rgba(240,163,94,.1)";
  ctx.fillRect(0, top, width, height);
  ctx.fillStyle = COLORS[side.name];
  if (!peaks.length) return;
  const loudest = Math.max(0.05, ...peaks);
  const perSecond = peaks.length / side.duration;
  for (let c = 0; c < Math.round(width); c += 1) {
    const r0 = replyAt((c / width) * total);
    const r1 = replyAt(((c + 1) / width) * total);
    if (r1 < 0 || r0 >= side.duration) continue;
    const from = Math.max(0, Math.floor(r0 * perSecond));
    const to = Math.min(peaks.length, Math.max(from + 1, Math.floor(r1 * perSecond)));
    let peak = 0;
    for (let i = from; i < to; i += 1) peak = Math.max(peak, peaks[i]);
    const h = Math.max(1, (peak / loudest) * (height - 4));
    ctx.fillRect(c, top + (height - h) / 2, 1, h);
  }
}

function drawLane(ctx, side, top, height, width) {
  if (side.name === "right" && mapped()) { drawMappedLane(ctx, side, top, height, width); return; }
  const peaks = side.peaks;
  const total = duration();
  const start = side.toT(0);
  ctx.fillStyle = COLORS.grid;
  ctx.fillRect(0, top + height / 2, width, 1);
  if (!side.duration) return;
  const x0 = (start / total) * width;
  const x1 = ((start + side.duration) / total) * width;
  ctx.fillStyle = side.name === "left" ? "rgba(143,134,240,.08)" : "rgba(240,163,94,.1)";
  ctx.fillRect(x0, top, x1 - x0, height);
  ctx.fillStyle = COLORS[side.name];
  if (!peaks.length) return;
  const loudest = Math.max(0.05, ...peaks);
  const columns = Math.max(1, Math.round(x1 - x0));
  for (let c = 0; c < columns; c += 1) {
    const from = Math.floor((c / columns) * peaks.length);
    const to = Math.max(from + 1, Math.floor(((c + 1) / columns) * peaks.length));
    let peak = 0;
    for (let i = from; i < to && i < peaks.length; i += 1) peak = Math.max(peak, peaks[i]);
    const h = Math.max(1, (peak / loudest) * (height - 4));
    ctx.fillRect(x0 + c, top + (height - h) / 2, 1, h);
  }
}

// The waveforms and the duration; comments and alignment place their markers and bands on the
// same "layout" hook.
function layout() {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  drawLane(ctx, sides.left, 0, height / 2 - 2, width);
  drawLane(ctx, sides.right, height / 2 + 2, height / 2 - 2, width);
  durationOut.textContent = clock(duration());
  track.setAttribute("aria-valuemax", duration().toFixed(1));
  render();
}

// Called every animation frame while playing, so it writes only what changed: the clock's
// text and the slider's values change ten times a second, not sixty; the playhead moves by a
// transform (its box spans the track, so a percentage of its own width is one of the track's),
// which needs no layout.
const shown = new Map();
function show(key, value, write) {
  if (shown.get(key) === value) return;
  shown.set(key, value);
  write(value);
}

export function render() {
  const t = now();
  const total = duration();
  const at = clock(t);
  show("playhead", `${((t / total) * 100).toFixed(2)}%`, (x) => { playhead.style.transform = `translateX(${x})`; });
  show("time", at, (text) => {
    timeOut.textContent = text;
    if (commentTime) commentTime.textContent = text;
    track.setAttribute("aria-valuetext", text);
  });
  show("valuenow", t.toFixed(1), (value) => track.setAttribute("aria-valuenow", value));
  show("playing", playing, (on) => {
    playIcon.toggleAttribute("hidden", on);
    pauseIcon.toggleAttribute("hidden", !on);
    playButton.setAttribute("aria-label", on ? "Pause" : "Play");
  });
  const loop = loopA === null ? "" : `${loopA} ${loopB ?? t} ${total}`;
  show("loop", loop, () => {
    loopRegion.hidden = loopA === null;
    if (loopA === null) return;
    loopRegion.style.left = `${(Math.min(loopA, loopB ?? t) / total) * 100}%`;
    loopRegion.style.width = `${(Math.abs((loopB ?? t) - loopA) / total) * 100}%`;
  });
}

function timeAt(clientX) {
  const box = track.getBoundingClientRect();
  return ((clientX - box.left) / box.width) * duration();
}

export function initTimeline() {
  on("layout", layout);
  on("render", render);
  let drag = null;
  track.addEventListener("pointerdown", (event) => {
    const box = canvas.getBoundingClientRect();
    const onReplyLane = config.can_sync && !mapped() && event.clientY > box.top + box.height / 2;
    drag = { x: event.clientX, offset: state.offset, total: duration(), moved: false, onReplyLane, width: box.width };
    track.setPointerCapture(event.pointerId);
  });
  track.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.moved) return;
    if (drag.onReplyLane) {
      // Dragging the reply's waveform slides the reply against the demonstration.
      setOffset(drag.offset + (dx / drag.width) * drag.total);
    } else {
      seek(timeAt(event.clientX));
    }
  });
  track.addEventListener("pointerup", (event) => {
    if (drag && !drag.moved) seek(timeAt(event.clientX));
    drag = null;
  });
  track.addEventListener("keydown", (event) => {
    if (event.key === "Home") { seek(0); event.preventDefault(); }
    if (event.key === "End") { seek(duration()); event.preventDefault(); }
  });
}
