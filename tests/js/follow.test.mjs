// The compare page's follower rule (lib/follow.js): small rate corrections, a move only when
// far off, the same with and without a time map. Checked step by step and in a simulated
// playback, where a follower starts off, drifts, and its clock readings jitter.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEAD_BAND, MAX_CORRECTION, RATE_STEP, SEEK_BEYOND, landing, learnLatency, steer,
} from "../../templates/static/js/lib/follow.js";

test("a follower behind speeds up, one ahead slows down, within the clamp", () => {
  const behind = steer({ error: 0.1, smoothed: 0.1 });
  const ahead = steer({ error: -0.1, smoothed: -0.1 });
  assert.equal(behind.seek, false);
  assert.ok(behind.playbackRate > 1 && behind.playbackRate <= 1 + MAX_CORRECTION + 1e-9, behind.playbackRate);
  assert.ok(ahead.playbackRate < 1 && ahead.playbackRate >= 1 - MAX_CORRECTION - 1e-9, ahead.playbackRate);
  const far = steer({ error: SEEK_BEYOND * 0.99, smoothed: SEEK_BEYOND * 0.99, rate: 0.5 });
  assert.ok(Math.abs(far.playbackRate - 0.5 * (1 + MAX_CORRECTION)) <= RATE_STEP, far.playbackRate);
});

test("only an error past the threshold moves the follower", () => {
  assert.equal(steer({ error: SEEK_BEYOND * 0.95 }).seek, false);
  assert.equal(steer({ error: -SEEK_BEYOND * 0.95 }).seek, false);
  assert.equal(steer({ error: SEEK_BEYOND * 1.05 }).seek, true);
  assert.equal(steer({ error: -SEEK_BEYOND * 1.05 }).seek, true);
  assert.equal(steer({ error: Number.NaN }).seek, true);
  assert.ok(SEEK_BEYOND >= 0.3 && SEEK_BEYOND <= 0.5);
});

test("within the dead band the rate is exactly the leader's times the slope", () => {
  assert.equal(steer({ error: DEAD_BAND / 2, smoothed: DEAD_BAND / 2 }).playbackRate, 1);
  assert.equal(steer({ error: 0, rate: 1.5 }).playbackRate, 1.5);
  // Under a time map: the reply plays 20 % slower here, so the follower's rate is 0.8.
  assert.ok(Math.abs(steer({ error: 0, slope: 0.8 }).playbackRate - 0.8) <= RATE_STEP / 2);
});

test("the rate moves in steps, so a jittering error does not rewrite it every frame", () => {
  const rates = new Set();
  let smoothed = 0;
  for (let i = 0; i < 200; i += 1) {
    const step = steer({ error: 0.01 + (i % 2 ? 0.002 : -0.002), smoothed });
    smoothed = step.smoothed;
    rates.add(step.playbackRate);
  }
  assert.ok(rates.size <= 8, [...rates]);
  for (const r of rates) assert.ok(Math.abs(r / RATE_STEP - Math.round(r / RATE_STEP)) < 1e-6, r);
});

test("a moved follower lands ahead of its target by the seek's latency", () => {
  assert.equal(landing({ target: 5, seekLatency: 0.1 }), 5.1);
  assert.ok(Math.abs(landing({ target: 5, seekLatency: 0.1, rate: 0.5, slope: 0.8 }) - 5.04) < 1e-9);
  assert.equal(landing({ target: -1, seekLatency: 0.1 }), 0);
  assert.equal(learnLatency(0.1, 5), 1);
  assert.equal(learnLatency(0.1, 0), 0.06);
});

// A simulated playback at 60 frames per second: the leader plays at `rate`; the follower at the
// rate steer() sets, with its own clock 0.3 % fast (two decoders never agree exactly) and
// readings that jitter by ±4 ms. The map (slope) changes in the middle.
function simulate({ start, seconds = 20, rate = 1, slope = () => 1, jitter = 0.004 }) {
  const dt = 1 / 60;
  let leader = 0;
  let follower = start;
  let target = 0;
  let smoothed = 0;
  let playbackRate = rate;
  let seeks = 0;
  let maxCorrection = 0;
  const errors = [];
  let seed = 7;
  const noise = () => { seed = (seed * 16807) % 2147483647; return ((seed / 2147483647) * 2 - 1) * jitter; };
  for (let i = 0; i < seconds / dt; i += 1) {
    leader += rate * dt;
    target += rate * slope(leader) * dt;
    follower += playbackRate * 1.003 * dt;
    const step = steer({ error: target - (follower + noise()), smoothed, rate, slope: slope(leader) });
    smoothed = step.smoothed;
    if (step.seek) { seeks += 1; follower = target; smoothed = 0; continue; }
    playbackRate = step.playbackRate;
    maxCorrection = Math.max(maxCorrection, Math.abs(playbackRate / (rate * slope(leader)) - 1));
    if (leader > 3) errors.push(Math.abs(target - follower));
  }
  errors.sort((a, b) => a - b);
  return { seeks, maxCorrection, p95: errors[Math.floor(errors.length * 0.95)], end: Math.abs(target - follower) };
}

test("a follower that starts 150 ms late is brought in without a seek and kept within 15 ms", () => {
  const run = simulate({ start: -0.15 });
  assert.equal(run.seeks, 0);
  assert.ok(run.p95 < 0.015, run);
  assert.ok(run.maxCorrection <= MAX_CORRECTION + RATE_STEP, run);
});

test("the same along a time map whose slope changes, at half speed", () => {
  const run = simulate({ start: 0.1, rate: 0.5, slope: (t) => (t < 4 ? 1.1 : 0.85), seconds: 30 });
  assert.equal(run.seeks, 0);
  assert.ok(run.p95 < 0.015, run);
});

test("a follower far off (a stall, a loop's wrap) is moved once, then steered", () => {
  const run = simulate({ start: -0.8 });
  assert.equal(run.seeks, 1);
  assert.ok(run.end < 0.01, run);
});
