// The aligned piano roll (issue 14): both takes' notes in the demonstration's time, the reply's
// read through the time map (and drawn in the demonstration's key), with the wrong, missed and
// extra notes marked. A canvas as wide as its card (no sideways scroll on a phone) showing
// WINDOW_S seconds around the playhead; a click plays from there. Loaded with the analysis
// panel (compare/analysis.js); the drawing's geometry is on the canvas's data attributes.
import { clock } from "../lib/clock.js";
import { on } from "./events.js";
import { $, state } from "./state.js";
import { now, seek } from "./transport.js";

const WINDOW_S = 10;
const COLORS = {
  grid: "#e9ecef",
  octave: "#ced4da",
  label: "#495057",
  demo: "#adb5bd",
  reply: "#1c7ed6",
  wrong_note: "#e03131",
  missed_note: "#0b7285",
  extra_note: "#c2255c",
  playhead: "#212529",
};
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const noteName = (pitch) => `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
const BLACK = new Set([1, 3, 6, 8, 10]);

const box = $("[data-piano-roll]");
const canvas = $("[data-piano-roll-canvas]");
const caption = $("[data-piano-roll-caption]");
let roll = null;
let listening = false;

// The window shown: WINDOW_S seconds around t, inside the piece (all of it when shorter).
export function windowAround(t, endS, width = WINDOW_S) {
  if (endS <= width) return [0, Math.max(endS, 1)];
  const start = Math.min(Math.max(0, t - width / 2), endS - width);
  return [start, start + width];
}

function pitchRange(data) {
  let low = Infinity;
  let high = -Infinity;
  for (const list of [data.demo, data.reply]) {
    for (const [, , pitch] of list) { low = Math.min(low, pitch); high = Math.max(high, pitch); }
  }
  for (const error of data.errors) {
    for (const pitch of [error.pitch, error.played === undefined ? undefined : error.played - data.transposition]) {
      if (pitch !== undefined) { low = Math.min(low, pitch); high = Math.max(high, pitch); }
    }
  }
  if (!Number.isFinite(low)) return [59, 72];
  return [low - 1, high + 1];
}

function draw() {
  if (!roll || !canvas || box.hidden) return;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const [low, high] = roll.range;
  const rows = high - low + 1;
  const rowH = height / rows;
  const [startS, endS] = windowAround(now(), roll.endS);
  const startMs = startS * 1000;
  const spanMs = (endS - startS) * 1000;
  const x = (ms) => ((ms - startMs) / spanMs) * width;
  const y = (pitch) => (high - pitch) * rowH;
  Object.assign(canvas.dataset, {
    startMs: String(Math.round(startMs)), endMs: String(Math.round(endS * 1000)),
    low: String(low), high: String(high),
  });

  for (let pitch = low; pitch <= high; pitch += 1) {
    if (BLACK.has(((pitch % 12) + 12) % 12)) { ctx.fillStyle = COLORS.grid; ctx.fillRect(0, y(pitch), width, rowH); }
    if (pitch % 12 === 0) {
      ctx.fillStyle = COLORS.octave;
      ctx.fillRect(0, y(pitch) + rowH - 1, width, 1);
      if (rowH * 3 >= 10) {
        ctx.fillStyle = COLORS.label;
        ctx.font = "10px system-ui, sans-serif";
        ctx.fillText(noteName(pitch), 2, y(pitch) + rowH - 2);
      }
    }
  }
  const visible = (s, e) => e >= startMs && s <= startMs + spanMs;
  const bar = (s, e, pitch, color, inset, fill = true) => {
    const left = x(s);
    const w = Math.max(2, x(e) - left);
    const top = y(pitch) + inset;
    const h = Math.max(1, rowH - 2 * inset);
    if (fill) { ctx.fillStyle = color; ctx.fillRect(left, top, w, h); }
    else { ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.strokeRect(left + 1, top + 1, w - 2, Math.max(1, h - 2)); }
  };
  for (const [s, e, pitch] of roll.demo) if (visible(s, e)) bar(s, e, pitch, COLORS.demo, 0);
  for (const [s, e, pitch] of roll.reply) if (visible(s, e)) bar(s, e, pitch, COLORS.reply, rowH * 0.25);

  ctx.fillStyle = COLORS.playhead;
  ctx.fillRect(x(now() * 1000), 0, 1, height);
  let marked = 0;
  for (const error of roll.errors) {
    if (!visible(error.at_ms, error.end_ms)) continue;
    const color = COLORS[error.kind];
    if (error.pitch !== undefined) bar(error.at_ms, error.end_ms, error.pitch, color, 0, false);
    if (error.played !== undefined) {
      const span = error.end_ms - error.at_ms;
      bar(error.at_ms, error.at_ms + span, error.played - roll.transposition, color, rowH * 0.2);
    }
    // A tick at the top at the error's time (over the playhead), seen at any row height.
    ctx.fillStyle = color;
    ctx.fillRect(x(error.at_ms) - 2, 0, 5, Math.min(8, height));
    marked += 1;
  }
  canvas.dataset.marked = String(marked);
  if (caption) caption.textContent = `${clock(startS)}–${clock(endS)}`;
}

function describe(data) {
  const counts = { wrong_note: 0, missed_note: 0, extra_note: 0 };
  for (const error of data.errors) counts[error.kind] += 1;
  return `Piano roll of both takes: ${data.demo.length} notes in the demonstration, ${data.reply.length} in the reply; `
    + `${counts.wrong_note} wrong, ${counts.missed_note} missed, ${counts.extra_note} extra. The list of passages names each one.`;
}

export function renderRoll() {
  if (!box || !canvas) return;
  const a = state.alignment;
  const data = a && a.status === "ready" && !a.feedback_hidden ? a.piano_roll : null;
  box.hidden = !data;
  if (!data) { roll = null; return; }
  let endMs = 0;
  for (const list of [data.demo, data.reply]) for (const [, e] of list) endMs = Math.max(endMs, e);
  roll = { ...data, errors: data.errors || [], range: pitchRange({ ...data, errors: data.errors || [] }), endS: endMs / 1000 };
  canvas.setAttribute("aria-label", describe(roll));
  if (!listening) {
    listening = true;
    on("render", draw);
    on("layout", draw);
    window.addEventListener("resize", draw);
    canvas.addEventListener("click", (event) => {
      if (!roll) return;
      const [startS, endS] = windowAround(now(), roll.endS);
      const rect = canvas.getBoundingClientRect();
      seek(startS + ((event.clientX - rect.left) / rect.width) * (endS - startS));
    });
  }
  draw();
}
