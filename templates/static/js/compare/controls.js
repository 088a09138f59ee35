// The compare page's controls: play, frame steps, speed, loop points, overlay view, one side
// enlarged on a phone (its button or a swipe across the pictures), the mixer (volume, mute,
// solo per side), the offset nudges, and the keyboard.
import { openCommentForm } from "./comments.js";
import { requestFit } from "./fit.js";
import { setOffset } from "./offset.js";
import { playable, sides } from "./sides.js";
import { $, $$, state } from "./state.js";
import { playButton, render } from "./timeline.js";
import {
  FRAME, loopA, loopB, now, pause, play, playing, seek, setLoop as setLoopPoint, setRate,
} from "./transport.js";

const form = $("[data-comment-form]");
const loopClear = $("[data-loop-clear]");

export function applyMix() {
  const soloing = playable().some((s) => s.solo);
  for (const side of playable()) {
    side.el.volume = side.volume;
    side.el.muted = side.muted || (soloing && !side.solo);
  }
  $$("[data-mute]").forEach((b) => b.setAttribute("aria-pressed", String(sides[b.dataset.mute].muted)));
  $$("[data-solo]").forEach((b) => b.setAttribute("aria-pressed", String(sides[b.dataset.solo].solo)));
}

function setLoop(which) {
  setLoopPoint(which);
  $("[data-loop-a]").classList.toggle("active", loopA !== null);
  $("[data-loop-b]").classList.toggle("active", loopB !== null);
  loopClear.hidden = loopA === null;
  render();
}

// On a phone the panes are stacked; one can be enlarged, the other kept as an inset, so both
// still play in view. A swipe to the left moves towards the right side (left, both, right).
const FOCUS_ORDER = ["left", null, "right"];
function initEnlarge(stage) {
  const buttons = $$("[data-enlarge]");
  const setFocus = (name) => {
    if (name) stage.dataset.focus = name; else delete stage.dataset.focus;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.enlarge === name)));
    requestFit();
  };
  const focus = () => stage.dataset.focus || null;
  buttons.forEach((b) => b.addEventListener("click", (event) => {
    event.stopPropagation();
    setFocus(focus() === b.dataset.enlarge ? null : b.dataset.enlarge);
  }));
  // Tapping the inset enlarges it.
  stage.addEventListener("click", (event) => {
    const pane = event.target.closest("[data-pane]");
    if (pane && focus() && pane.dataset.pane !== focus()) setFocus(pane.dataset.pane);
  });
  let start = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "mouse") start = { x: event.clientX, y: event.clientY };
  });
  stage.addEventListener("pointerup", (event) => {
    if (!start || stage.classList.contains("overlay")) { start = null; return; }
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) < 50 || Math.abs(dx) < 2 * Math.abs(dy)) return;
    const index = FOCUS_ORDER.indexOf(focus()) + (dx < 0 ? 1 : -1);
    if (index >= 0 && index < FOCUS_ORDER.length) setFocus(FOCUS_ORDER[index]);
  });
  stage.addEventListener("pointercancel", () => { start = null; });
}

export function initControls() {
  playButton.addEventListener("click", () => (playing ? pause() : play()));
  $$("[data-frame]").forEach((b) => b.addEventListener("click", () => { pause(); seek(now() + Number(b.dataset.frame) * FRAME); }));
  $("[data-speed]").addEventListener("change", (e) => setRate(Number(e.target.value)));
  $("[data-loop-a]").addEventListener("click", () => setLoop("a"));
  $("[data-loop-b]").addEventListener("click", () => setLoop("b"));
  loopClear.addEventListener("click", () => setLoop("clear"));

  const stage = $("[data-stage]");
  const viewToggle = $("[data-view-toggle]");
  const opacityWrap = $("[data-opacity-wrap]");
  viewToggle.addEventListener("click", () => {
    const overlay = !stage.classList.contains("overlay");
    stage.classList.toggle("overlay", overlay);
    stage.classList.toggle("side-by-side", !overlay);
    viewToggle.setAttribute("aria-pressed", String(overlay));
    opacityWrap.hidden = !overlay;
    requestFit();
  });
  initEnlarge(stage);
  $("[data-opacity]").addEventListener("input", (e) => stage.style.setProperty("--overlay-opacity", e.target.value));
  if (!sides.left.el || !sides.right.el || !sides.left.el.matches("video") || !sides.right.el.matches("video")) {
    viewToggle.hidden = true;
  }

  $$("[data-volume]").forEach((input) => input.addEventListener("input", () => { sides[input.dataset.volume].volume = Number(input.value); applyMix(); }));
  $$("[data-mute]").forEach((b) => b.addEventListener("click", () => { const s = sides[b.dataset.mute]; s.muted = !s.muted; applyMix(); }));
  $$("[data-solo]").forEach((b) => b.addEventListener("click", () => { const s = sides[b.dataset.solo]; s.solo = !s.solo; applyMix(); }));
  $$("[data-nudge]").forEach((b) => b.addEventListener("click", () => setOffset(state.offset + Number(b.dataset.nudge) / 1000)));

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape" && !form.hidden) form.hidden = true;
      return;
    }
    const step = event.shiftKey ? 5 : 1;
    const keys = {
      " ": () => (playing ? pause() : play()),
      ArrowLeft: () => seek(now() - step),
      ArrowRight: () => seek(now() + step),
      ",": () => { pause(); seek(now() - FRAME); },
      ".": () => { pause(); seek(now() + FRAME); },
      "[": () => setLoop("a"),
      "]": () => setLoop("b"),
      Escape: () => setLoop("clear"),
      c: openCommentForm,
    };
    const action = keys[event.key];
    if (!action) return;
    if (event.key === " " && target.closest("button")) target.blur();
    event.preventDefault();
    action();
  });
}
