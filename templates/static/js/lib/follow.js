// Keeping one media element (the follower) with another (the leader) on the compare page,
// the same way under the manual offset and under auto-sync's time map. Pure: tested with
// `node --test tests/js/`.
//
// A musician hears a seek: the sound stops, restarts a few frames off, and two seeks 200 ms
// apart sound like a stutter. So the follower is steered by its playback rate, as a tape
// machine's capstan is: each frame the error (where it should be minus where it is) is
// smoothed, and the rate becomes the leader's rate times the map's local slope times
// (1 + gain × error), the correction clamped to ±MAX_CORRECTION (8 %: a pitch-kept
// change that small, for the fraction of a second it lasts, is not heard as a jump). Only an error past SEEK_BEYOND (a loop's wrap, a pause in
// one recording, a stall while buffering) is put right by moving the follower.
//
// The rate is written in steps of RATE_STEP: an element told a new rate every frame re-times
// its sound each time; a small dead band around zero error keeps the rate at exactly the
// leader's when the two are together, which is most of the time.

export const SEEK_BEYOND = 0.35; // seconds of error past which the follower is moved
export const GAIN = 2; // relative rate correction per second of error (time constant ~0.5 s)
export const MAX_CORRECTION = 0.08;
export const DEAD_BAND = 0.006; // seconds: closer than this, no correction
export const SMOOTHING = 0.25; // share of a new error reading taken into the smoothed error
export const RATE_STEP = 0.0025;
export const MIN_RATE = 0.0625; // what browsers accept for playbackRate
export const MAX_RATE = 4;

const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));

// One step of the follower. `error` is target − follower position (seconds; > 0: behind),
// `smoothed` the previous step's smoothed error (0 after a move), `rate` the chosen speed,
// `slope` the follower's seconds per leader second here (1 without a time map).
// Returns {seek: true} when the follower must be moved, else {playbackRate, smoothed}.
export function steer({ error, smoothed = 0, rate = 1, slope = 1 }) {
  if (!Number.isFinite(error) || Math.abs(error) > SEEK_BEYOND) return { seek: true, smoothed: 0 };
  const next = smoothed + SMOOTHING * (error - smoothed);
  const correction = Math.abs(next) < DEAD_BAND ? 0 : clamp(next * GAIN, -MAX_CORRECTION, MAX_CORRECTION);
  const wanted = rate * Math.max(0, slope) * (1 + correction);
  const stepped = Math.round(wanted / RATE_STEP) * RATE_STEP;
  return { seek: false, smoothed: next, playbackRate: clamp(stepped, MIN_RATE, MAX_RATE) };
}

// Where to land a moved follower: ahead of the target by the time a seek takes here (the
// element plays on from there once it has decoded), so it lands where the leader will be.
export function landing({ target, seekLatency, rate = 1, slope = 1 }) {
  return Math.max(0, target + seekLatency * rate * Math.max(0, slope));
}

// The learnt seek latency after one more measured seek (seconds), smoothed and bounded.
export function learnLatency(previous, took) {
  return clamp(0.6 * previous + 0.4 * took, 0.02, 1);
}
