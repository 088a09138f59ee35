// The transport: one timeline t (the demonstration's seconds) driving both sides.
//
// Sync. One element is the master clock (the leader): the left one while t lies within it,
// otherwise the right one, otherwise (both out of range, e.g. a gap before a late reply) a
// wall clock. Every animation frame the other element (the follower) is steered towards
// where it should be (side.pos(t): t - offset by hand, the time map's replyAt(t) under
// auto-sync) by small playback-rate corrections, and moved only when it is far off; the rule
// is lib/follow.js's, the same in both modes. Pitch is preserved at every speed.
//
// Every frame while playing, and after a play or a seek, the transport emits "render" (compare/events.js):
// the timeline draws the playhead.
import { landing, steer } from "../lib/follow.js";
import { emit } from "./events.js";
import { duration, playable, sides } from "./sides.js";

const SEEK_COOLDOWN_MS = 400; // a moved element needs a moment to buffer before it is judged
export const FRAME = 1 / 30; // the renditions are 30 fps or less

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

function setElementRate(side, value) {
  if (Math.abs(side.el.playbackRate - value) > 1e-6) side.el.playbackRate = value;
}

// Move a playing element (a large error only): the landing is ahead of the target by the
// seek's measured latency, so it lands where the leader will be once it has caught up.
function moveElement(side, position) {
  side.el.currentTime = position;
  side.seekStartedAt = performance.now();
  side.seeks += 1;
  side.seekTimes.push(performance.now());
  side.smoothed = 0;
  side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
}

function startElement(side, position) {
  side.el.playbackRate = rate;
  side.el.currentTime = Math.max(0, position);
  side.seekStartedAt = performance.now();
  side.smoothed = 0;
  side.cooldownUntil = performance.now() + SEEK_COOLDOWN_MS;
  const promise = side.el.play();
  if (promise) promise.catch(() => {});
}

function follow(side, t, master) {
  if (!side.el || side === master) return;
  const target = side.pos(t);
  if (!side.inRange(t)) {
    if (!side.el.paused) side.el.pause();
    if (target < 0 && side.el.currentTime > 0.001) side.el.currentTime = 0;
    return;
  }
  // The leader plays `rate` of its own seconds per second; the follower, `slope` of its
  // seconds per leader second (1 by hand; the map's local slope under auto-sync).
  const leaderSlope = master ? Math.max(0.05, master.slope(t)) : 1;
  const slope = Math.max(0, side.slope(t)) / leaderSlope;
  const landAt = () => landing({ target, seekLatency: side.seekLatency, rate, slope });
  if (side.el.paused) { startElement(side, landAt()); return; }
  if (side.el.seeking || side.el.readyState < 3 || performance.now() < side.cooldownUntil) return;
  const error = target - side.el.currentTime; // > 0: the follower is behind
  side.drift = -error;
  const step = steer({ error, smoothed: side.smoothed, rate, slope });
  side.smoothed = step.smoothed;
  if (step.seek) {
    setElementRate(side, rate * slope);
    moveElement(side, landAt());
  } else {
    setElementRate(side, step.playbackRate);
  }
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
      if (master) setElementRate(master, rate);
      follow(sides.left, t, master);
      follow(sides.right, t, master);
      anchor(t);
    }
    emit("render");
  }
}

// The frame loop runs only while playing: an idle page asks the browser for no frames.
let looping = false;
function frame() {
  tick();
  if (playing) requestAnimationFrame(frame);
  else looping = false;
}

function loop() {
  if (looping) return;
  looping = true;
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
  loop();
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
}
