// Fitting the compare page to the window: the stage (both pictures) gets the height left once
// what sits above it (the site's header, the title) and the deck below it (the transport and
// the timeline) are counted, so both pictures, the play button and the timeline show without
// scrolling, whatever the two recordings' shapes. The stage is never taller than its pictures
// need at its width (each pane's --ar is its picture's width / height, from the server's
// data-aspect).
import { $, root } from "./state.js";

const stage = $("[data-stage]");
const deck = $("[data-deck]");
const MIN_HEIGHT = 140; // px: below this the pictures are too small to watch; the page scrolls
const GAP = 8; // px between the panes and below the deck
const AUDIO_HEIGHT = 96; // px an audio-only pane needs when stacked

function aspect(pane) {
  if (pane.dataset.orientation === "audio") return null;
  return Number(pane.dataset.aspect) || 16 / 9;
}

// The stage's height at which its pictures fill its width (stacked: one above the other).
function naturalHeight(width) {
  const panes = [...stage.querySelectorAll(".pane")];
  const captionBox = panes[0]?.querySelector("figcaption");
  // Over the picture on a phone (position: absolute), above it elsewhere.
  const caption = captionBox && getComputedStyle(captionBox).position !== "absolute" ? captionBox.offsetHeight : 0;
  if (stage.classList.contains("overlay")) return caption + width / (aspect(panes[0]) || 16 / 9);
  if (getComputedStyle(stage).flexDirection === "column") {
    if (stage.dataset.focus) return Infinity; // one picture enlarged: all the room there is
    return panes.reduce((sum, pane) => sum + caption + (aspect(pane) ? width / aspect(pane) : AUDIO_HEIGHT), GAP);
  }
  const shares = panes.reduce((sum, pane) => sum + (aspect(pane) ?? 0.75), 0);
  return caption + (width - GAP) / shares;
}

export function fit() {
  if (!stage || !deck) return;
  const top = stage.getBoundingClientRect().top + window.scrollY;
  const below = deck.offsetHeight + (parseFloat(getComputedStyle(deck).marginTop) || 0) + GAP;
  const room = window.innerHeight - top - below;
  const height = Math.max(MIN_HEIGHT, Math.min(room, naturalHeight(stage.clientWidth)));
  root.style.setProperty("--stage-h", `${Math.floor(height)}px`);
}

let queued = false;
export function requestFit() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { queued = false; fit(); });
}

export function initFit() {
  // Each pane's picture shape, from the server (set here: the CSP allows no style attributes).
  if (stage) for (const pane of stage.querySelectorAll(".pane")) {
    if (aspect(pane)) pane.style.setProperty("--ar", String(aspect(pane)));
  }
  fit();
  window.addEventListener("resize", requestFit);
  // The deck's height changes as its controls wrap (or the loop's Clear button appears).
  if (window.ResizeObserver && deck) new ResizeObserver(requestFit).observe(deck);
}
