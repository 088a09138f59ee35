// The compare page's controls: play, frame steps, speed, loop points, overlay view, the
// mixer (volume, mute, solo per side), the offset nudges, and the keyboard.
import { openCommentForm } from "./comments.js";
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
  });
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
