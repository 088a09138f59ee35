"""The time-map fixtures that keep the compare page's JavaScript reader in step with Python's.

Python builds a set of time maps (from DTW paths, as the alignment does, and a few edge cases
by hand) and reads each at many points with its own reader; `tests/js/fixtures/timemaps.json`
holds the maps and those answers, and `tests/js/timemap.test.mjs` (run by `node --test
tests/js/` in `make test`) checks that templates/static/js/lib/timemap.js gives the same ones.
This test fails when the committed file is not what Python computes now: it rewrites the
file, so that the change shows in `git diff` and the JavaScript is checked against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

try:  # where the alignment engine lives (learning/alignment/engine/ once it is a package)
    from learning.alignment.engine import timemap
except ImportError:
    from learning.alignment import timemap

FIXTURE = Path(__file__).resolve().parents[1] / "js" / "fixtures" / "timemaps.json"
FRAMES = 500  # 10 s at the engine's 50 frames per second


def _path(reply_frame) -> np.ndarray:
    """A monotone DTW-like path (demo frame, reply frame) following `reply_frame(demo_frame)`."""
    steps, col = [], 0
    for row in range(FRAMES + 1):
        target = max(col, round(reply_frame(row)))
        steps += [(row, c) for c in range(col, target + 1)] if row else [(0, target)]
        col = target
    return np.asarray(steps)


def _rushed(row: float) -> float:  # 35 % faster from 4 s to 7 s of the demonstration
    return row if row < 200 else 200 + (min(row, 350) - 200) / 1.35 + max(0, row - 350)


def _maps() -> dict[str, timemap.TimeMap]:
    from_path = {
        "identity": _path(lambda r: r),
        "late_start": _path(lambda r: r + 60),
        "rushed": _path(_rushed),
        "pause_in_reply": _path(lambda r: r if r < 250 else r + 50),  # a vertical step
        "skipped_passage": _path(lambda r: r if r < 200 else max(200, r - 60)),  # horizontal
        "dragging": _path(lambda r: r * 1.2),
    }
    maps = {name: timemap.from_path(path) for name, path in from_path.items()}
    maps.update({
        "single_point": timemap.TimeMap(demo_ms=[1000], reply_ms=[1500]),
        "step_at_both_ends": timemap.TimeMap(
            demo_ms=[0, 0, 1000, 2000, 2000], reply_ms=[0, 300, 1300, 2300, 2600]
        ),
        "flat_then_steep": timemap.TimeMap(
            demo_ms=[0, 500, 1000, 1100, 3000], reply_ms=[100, 100, 100, 2000, 2100]
        ),
    })
    return maps


def _points(xs: list[int]) -> list[float]:
    """Where to read a map: a grid through and past it, each point, and just beside each."""
    low, high = xs[0] - 700, xs[-1] + 700
    grid = np.arange(low, high, 37.5).tolist()
    around = [x + d for x in xs for d in (-0.5, 0.0, 0.25)]
    return sorted(set(grid + around))


def _read(xs: list[int], ys: list[int], at: list[float]) -> list[list[float]]:
    answers = timemap.interpolate(xs, ys, at)
    return [[x, round(float(y), 6)] for x, y in zip(at, answers, strict=True)]


def fixtures() -> dict:
    entries = []
    for name, time_map in _maps().items():
        demo, reply = time_map.demo_ms, time_map.reply_ms
        entries.append({
            "name": name,
            "time_map": time_map.as_json(),
            "reply_at": _read(demo, reply, _points(demo)),  # [demo_ms, reply_ms]
            "demo_at": _read(reply, demo, _points(reply)),  # [reply_ms, demo_ms]
        })
    return {
        "about": "Written by tests/learning/test_timemap_fixtures.py from the Python time-map "
        "reader; read by tests/js/timemap.test.mjs. Do not edit by hand.",
        "tolerance_ms": 1,
        "maps": entries,
    }


def _as_text(data: dict) -> str:
    """JSON with one line per map, so that a change shows map by map in a diff."""
    maps = ",\n".join("  " + json.dumps(entry, separators=(",", ":")) for entry in data["maps"])
    head = {key: value for key, value in data.items() if key != "maps"}
    return json.dumps(head, indent=1)[:-2] + ',\n "maps": [\n' + maps + "\n ]\n}\n"


def test_the_python_reader_agrees_with_the_maps_own_points():
    # A positive control for the fixtures: at a map's last point of each x, the reader answers
    # that point's y (the later point wins at a step).
    for time_map in _maps().values():
        xs, ys = time_map.demo_ms, time_map.reply_ms
        last = dict(zip(xs, ys, strict=True))
        answers = timemap.interpolate(xs, ys, list(last))
        assert np.allclose(answers, list(last.values()))


def test_the_committed_fixtures_are_what_python_computes_now():
    text = _as_text(fixtures())
    committed = FIXTURE.read_text() if FIXTURE.exists() else ""
    if committed != text:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(text)
    assert committed == text, (
        f"{FIXTURE.name} was out of date with the Python time-map reader and has been "
        "rewritten: review and commit it (node --test tests/js/ checks the JavaScript reader)."
    )
    assert len(fixtures()["maps"]) >= 9
