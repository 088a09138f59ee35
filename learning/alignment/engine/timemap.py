"""The time map: demonstration milliseconds <-> reply milliseconds, as two non-decreasing
integer lists of equal length, about 10 points per second of demonstration.

Between points the map is linear. A pause in the reply is a vertical step (two points with
the same demonstration time); a passage the reply skipped is a horizontal one (same reply
time). Reading the map at such a step takes the later point, so a follower jumps over a
pause instead of waiting in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import features

POINT_EVERY_FRAMES = 5  # 100 ms at 50 frames per second
STEP_MIN_FRAMES = 5  # a run of this many frames on one side becomes an explicit step


@dataclass(frozen=True)
class TimeMap:
    demo_ms: list[int]
    reply_ms: list[int]

    def as_json(self) -> dict:
        return {"demo_ms": self.demo_ms, "reply_ms": self.reply_ms}

    def reply_at(self, demo_ms):
        return interpolate(self.demo_ms, self.reply_ms, demo_ms)

    def demo_at(self, reply_ms):
        return interpolate(self.reply_ms, self.demo_ms, reply_ms)


def interpolate(xs, ys, x):
    """Piecewise-linear reading of a non-decreasing map; at a step, the later point wins;
    outside the map, time runs on at the same speed on both sides (as the JavaScript
    reader on the compare page does)."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    right = np.clip(np.searchsorted(xs, x, side="right"), 1, len(xs) - 1)
    left = right - 1
    span = xs[right] - xs[left]
    fraction = np.where(span > 0, (x - xs[left]) / np.where(span > 0, span, 1.0), 1.0)
    inside = ys[left] + np.clip(fraction, 0.0, 1.0) * (ys[right] - ys[left])
    return np.where(
        x < xs[0], ys[0] + (x - xs[0]), np.where(x > xs[-1], ys[-1] + (x - xs[-1]), inside)
    )


def from_path(path: np.ndarray) -> TimeMap:
    """A compact map from a frame-level DTW path (k, 2)."""
    rows = path[:, 0]
    cols = path[:, 1]
    last_row = int(rows[-1])
    low = np.full(last_row + 1, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(last_row + 1, -1, dtype=np.int64)
    np.minimum.at(low, rows, cols.astype(np.int64))
    np.maximum.at(high, rows, cols.astype(np.int64))
    ms_per_frame = 1000.0 / features.FRAMES_PER_SECOND
    demo, reply = [], []
    for row in range(last_row + 1):
        if high[row] - low[row] >= STEP_MIN_FRAMES:
            demo += [row, row]
            reply += [low[row], high[row]]
        elif row % POINT_EVERY_FRAMES == 0 or row == last_row:
            demo.append(row)
            # The DTW staircase wobbles by a frame; the middle of the row's run is steadier.
            reply.append((low[row] + high[row]) / 2)
    demo_ms = np.round(np.asarray(demo) * ms_per_frame).astype(int)
    reply_ms = np.maximum.accumulate(np.round(np.asarray(reply) * ms_per_frame).astype(int))
    return TimeMap(demo_ms=demo_ms.tolist(), reply_ms=reply_ms.tolist())
