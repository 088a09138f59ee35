// The transport: one timeline t (the demonstration's seconds) driving both sides.
//
// Sync. One element is the master clock: the left one while t lies within it, otherwise the
// right one, otherwise (both out of range, e.g. a gap before a late reply) a wall clock. Every
// animation frame the follower's position is compared with where it should be: more than
// 40 ms off, it is moved (currentTime); less, its playbackRate is nudged by up to ±6 % so it
// drifts back without an audible jump. Pitch is preserved at every speed.
//
// Auto-sync: the follower's playbackRate is the leader's times the map's local slope, with a
// proportional correction of at most ±10 %; more than 300 ms off (after a seek, a loop's wrap,
// a pause in the reply), it is moved.
//
// Every frame, and after a play or a seek, the transport emits "render" (compare/events.js):
// the timeline draws the playhead.
import { emit } from "./events.js";
import { duration, playable, sides } from "./sides.js";
import { mapped } from "./state.js";

const SEEK_THRESHOLD = 0.04; // seconds of drift before the follower is moved, not nudged
const NUDGE_GAIN = 1.5; // playbackRate correction per second of drift
const NUDGE_MAX = 0.06;
const SEEK_COOLDOWN_MS = 400; // a moved element needs a moment to buffer before it is judged
export const FRAME = 1 / 30; // the renditions are 30 fps or less
const AUTO_SEEK_THRESHOLD = 0.3; // seconds off the map before the follower is moved
const AUTO_GAIN = 0.5; // relative rate correction per second of error
const AUTO_MAX = 0.1;

export let playing = false;
export let rate = 1;
let anchorT = 0; // the timeline position at anchorWall (used when no element is the clock)
let anchorWall = performance.now();
export let loopA = null; // loop points on the timeline (seconds), or null
export let loopB = null;

function masterSide(t) {
  for (const side of [sides.left, sides.right]) {
    if (side.el && side.inRange(t) && !side.el.paused && !side.el.seeking && side.el.readyState >= 2 && performance.now() > side.cooldownUntil) return side;
  }
  return null;
}

export function now() {
  if (!playing) return anchorT;
  const wall = anchorT + ((performance.now() - anchorWall) / 1000) * rate;
  const master = masterSide(anchorT);
  return master ? master.toT(master.el.currentTime) : wall;
}

function anchor(t) {
  anchorT = t;
  anchorWall = performance.now();
}

// Move a playing element, landing where the clock will be once the element has caught up:
// a seek takes time (decoding from the previous keyframe), measured on every seek.
function moveElement(side, target, lead = side.el.paused ? 0 : side.seekLatency * rate) {
  side.el.currentTime = Math.max(0, target + lead);
  side.seekStartedAt = performance.now();
  side.seeks += 1;
  side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
}

function startElement(side, position) {
  side.el.playbackRate = rate;
  side.el.currentTime = Math.max(0, position);
  side.seekStartedAt = performance.now();
  side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
  const promise = side.el.play();
  if (promise) promise.catch(() => {});
}

function follow(side, t, master) {
  if (!side.el || side === master) return;
  if (mapped()) { followMap(side, t, master); return; }
  const target = side.pos(t);
  if (!side.inRange(t)) {
    if (!side.el.paused) side.el.pause();
    if (target < 0 && side.el.currentTime > 0.001) side.el.currentTime = 0;
    return;
  }
  if (side.el.paused) { startElement(side, target + side.seekLatency * rate); return; }
  if (side.el.seeking || side.el.readyState < 3 || performance.now() < side.cooldownUntil) return;
  const drift = side.el.currentTime - target; // > 0: the follower is ahead
  side.drift = drift;
  if (Math.abs(drift) > SEEK_THRESHOLD) {
    side.el.playbackRate = rate;
    moveElement(side, target);
  } else {
    const correction = Math.max(-NUDGE_MAX, Math.min(NUDGE_MAX, drift * NUDGE_GAIN));
    side.el.playbackRate = rate * (1 - correction);
  }
}

// Auto-sync: steer the follower's rate along the map; move it only when far off. A moved
// element lands where the leader will be once the seek is over (the measured latency).
function followMap(side, t, master) {
  const target = side.pos(t);
  if (!side.inRange(t)) {
    if (!side.el.paused) side.el.pause();
    if (target < 0 && side.el.currentTime > 0.001) side.el.currentTime = 0;
    return;
  }
  const ahead = (seconds) => side.pos(t + seconds);
  if (side.el.paused) { startElement(side, ahead(side.seekLatency * rate)); return; }
  if (side.el.seeking || side.el.readyState < 3 || performance.now() < side.cooldownUntil) return;
  const error = target - side.el.currentTime; // > 0: the follower is behind
  side.drift = -error;
  if (Math.abs(error) > AUTO_SEEK_THRESHOLD) {
    side.el.playbackRate = rate;
    moveElement(side, ahead(side.seekLatency * rate), 0);
    return;
  }
  // The leader plays at `rate` of its own seconds; t then runs at rate / leaderSlope.
  const leaderSlope = master ? Math.max(0.05, master.slope(t)) : 1;
  const slope = Math.max(0, side.slope(t)) / leaderSlope;
  const correction = Math.max(-AUTO_MAX, Math.min(AUTO_MAX, error * AUTO_GAIN));
  side.el.playbackRate = Math.max(0.5, Math.min(2, rate * slope * (1 + correction)));
}

function tick() {
  if (playing) {
    let t = now();
    if (loopA !== null && loopB !== null && t >= loopB) {
      seek(loopA);
      t = loopA;
    } else if (t >= duration() - 0.01) {
      pause();
      seek(duration());
      t = duration();
    } else {
      const master = masterSide(t);
      if (master) master.el.playbackRate = rate;
      follow(sides.left, t, master);
      follow(sides.right, t, master);
      anchor(t);
    }
  }
  emit("render");
}

function frame() {
  tick();
  requestAnimationFrame(frame);
}

export function play() {
  if (playing || !playable().length) return;
  if (anchorT >= duration() - 0.01) anchor(loopA ?? 0);
  playing = true;
  const t = anchorT;
  // Started from the click itself (a user gesture), so the browser lets both play sound.
  for (const side of playable()) if (side.inRange(t)) startElement(side, side.pos(t));
  anchor(t);
  emit("render");
}

export function pause() {
  if (!playing) return;
  const t = now();
  playing = false;
  for (const side of playable()) side.el.pause();
  seek(t);
}

export function seek(t) {
  t = Math.max(0, Math.min(duration(), t));
  anchor(t);
  for (const side of playable()) {
    const target = Math.max(0, Math.min(side.duration, side.pos(t)));
    side.el.currentTime = target;
    side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
    if (playing && side.inRange(t) && side.el.paused) startElement(side, target);
    if (!side.inRange(t) && !side.el.paused) side.el.pause();
  }
  emit("render");
}

export function setRate(value) {
  rate = value;
  for (const side of playable()) side.el.playbackRate = rate;
  anchor(now());
}

// Loop points: "a" at now, "b" at now (after a), or "clear".
export function setLoop(which) {
  const t = now();
  if (which === "a") { loopA = t; if (loopB !== null && loopB <= loopA) loopB = null; }
  if (which === "b" && loopA !== null && t > loopA) loopB = t;
  if (which === "clear") { loopA = null; loopB = null; }
}

export function startTransport() {
  // Background tabs throttle animation frames; a slow timer keeps the sides together there.
  setInterval(() => { if (document.hidden) tick(); }, 250);
  requestAnimationFrame(frame);
}
