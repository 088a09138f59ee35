// Reading an alignment's time map ({demo_ms: [...], reply_ms: [...]}, two non-decreasing lists
// of equal length), exactly as learning/alignment/timemap.py reads it: piecewise linear; at a
// step (two points with the same x) the later point wins; outside the map both sides run at
// the same speed. Pure: checked against the Python reader with `node --test tests/js/`, on
// fixtures the Python reader writes (tests/learning/test_timemap_fixtures.py).

export function mapTime(xs, ys, x) {
  const n = xs.length; if (!n) return x;
  if (x < xs[0]) return ys[0] + (x - xs[0]);
  if (x > xs[n - 1]) return ys[n - 1] + (x - xs[n - 1]);
  let lo = 0, hi = n - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (xs[mid] <= x) lo = mid; else hi = mid - 1; }
  if (lo >= n - 1) return ys[n - 1];
  const span = xs[lo + 1] - xs[lo];
  return span > 0 ? ys[lo] + (x - xs[lo]) / span * (ys[lo + 1] - ys[lo]) : ys[lo + 1];
}

// The reply's millisecond at a demonstration millisecond, and back. Without a map (null or
// empty) time is the same on both sides.
export function replyAtMs(map, ms) {
  return map && map.demo_ms.length ? mapTime(map.demo_ms, map.reply_ms, ms) : ms;
}

export function demoAtMs(map, ms) {
  return map && map.demo_ms.length ? mapTime(map.reply_ms, map.demo_ms, ms) : ms;
}
