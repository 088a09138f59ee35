// The two sides of the compare page, each an element (video or audio) mapping the page's
// timeline t (the left side's seconds) to its own position: the left plays t, the right
// t - offset, or under auto-sync the time map's replyAt(t).
import { api } from "../lib/api.js";
import { learnLatency } from "../lib/follow.js";
import { schedule } from "./events.js";
import { config, demoAt, mapped, replyAt, root, state } from "./state.js";

function makeSide(name) {
  const el = root.querySelector(`[data-media="${name}"]`);
  const info = config[name];
  const side = {
    name,
    el,
    mediaId: info.media.public_id,
    duration: (info.sources && info.sources.duration) || 0,
    peaks: (info.waveform && info.waveform.peaks) || [],
    volume: 1,
    muted: false,
    solo: false,
    cooldownUntil: 0,
    seekLatency: 0.1, // seconds a seek takes here, learnt from each seek
    seekStartedAt: 0,
    seeks: 0, // corrective moves while playing (not the moves a person asked for)
    seekTimes: [], // when each of them happened (performance.now())
    smoothed: 0, // the follower's smoothed error (lib/follow.js)
    drift: 0,
    pos(t) { return name === "left" ? t : (mapped() ? replyAt(t) : t - state.offset); },
    toT(position) { return name === "left" ? position : (mapped() ? demoAt(position) : position + state.offset); },
    // Seconds of this side per second of t around t (the map's local slope).
    slope(t) { return name === "left" || !mapped() ? 1 : replyAt(t + 0.5) - replyAt(t - 0.5); },
    inRange(t) { const p = this.pos(t); return p >= 0 && p < this.duration - 0.01; },
  };
  if (el) {
    el.preservesPitch = true;
    el.mozPreservesPitch = true;
    el.webkitPreservesPitch = true;
    el.addEventListener("loadedmetadata", () => {
      if (Number.isFinite(el.duration) && el.duration > 0) side.duration = el.duration;
      schedule("layout");
    });
    el.addEventListener("error", () => refreshSource(side));
    // A seek is over when the element has the new position's data (seeked).
    el.addEventListener("seeked", () => {
      if (!side.seekStartedAt) return;
      const took = (performance.now() - side.seekStartedAt) / 1000;
      side.seekStartedAt = 0;
      side.seekLatency = learnLatency(side.seekLatency, took);
      side.cooldownUntil = performance.now() + 150;
    });
  }
  return side;
}

export const sides = {};
export const playable = () => [sides.left, sides.right].filter((s) => s.el);

export function initSides() {
  sides.left = makeSide("left");
  sides.right = makeSide("right");
}

// Signed URLs are short-lived: when one has expired, fetch a fresh one and carry on.
async function refreshSource(side) {
  if (!side.mediaId || side.refreshing) return;
  side.refreshing = true;
  try {
    const media = await api(`/api/v1/media/${side.mediaId}/`);
    const r = media.renditions || {};
    const url = r["720p"] || r.audio || Object.values(r)[0];
    if (url && url !== side.el.src) {
      const position = side.el.currentTime;
      side.el.src = url;
      side.el.currentTime = position;
    }
  } catch (e) { /* the page keeps working with the other side */ }
  setTimeout(() => { side.refreshing = false; }, 10000);
}

export function duration() {
  const rightEnd = mapped() ? demoAt(sides.right.duration) : sides.right.duration + state.offset;
  return Math.max(sides.left.duration, rightEnd, 0.001);
}
