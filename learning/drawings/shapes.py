"""Marks a teacher draws on a paused frame, kept with their comment as vector data
(`Comment.drawing`): a list of shapes, each

    {"kind": "line" | "arrow" | "circle" | "freehand", "color": "#rrggbb", "points": [[x, y], ...]}

with x and y in the picture's own 0..1 space (0, 0 its top left corner, 1, 1 its bottom right;
not the player's box, which object-fit may letterbox), so the marks scale with any player.
A line and an arrow have two points (an arrow points at its second); a circle has the two
corners of the box its ellipse fills (the page draws it round in the picture's pixels, so it
stays round at every size); a freehand mark has 2..MAX_FREEHAND_POINTS points.

Django-free: `clean_drawing` either returns the cleaned list or raises DrawingInvalid with a
sentence that says what is wrong (the API answers 400).
"""

from __future__ import annotations

import math

KINDS = ("line", "arrow", "circle", "freehand")
# The palette the drawing tools offer: colours that read over most pictures.
COLOR_NAMES = {
    "#e03131": "Red",
    "#fcc419": "Yellow",
    "#40c057": "Green",
    "#339af0": "Blue",
    "#ffffff": "White",
}
COLORS = tuple(COLOR_NAMES)
MAX_SHAPES = 20
MAX_FREEHAND_POINTS = 400
MAX_POINTS = 2000  # over all shapes of one drawing
DECIMALS = 4  # 1/10,000 of the picture: finer than any screen's pixel


class DrawingInvalid(ValueError):
    """A drawing that is not a list of well-formed shapes; the message says why."""


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DrawingInvalid(f"{where} must be a number.")
    # The range first: NaN fails it, and a huge integer compares without becoming a float.
    if not 0 <= value <= 1 or not math.isfinite(value):
        raise DrawingInvalid(f"{where} must lie between 0 and 1 (the picture's edges).")
    return round(float(value), DECIMALS)


def _points(value, where: str) -> list[list[float]]:
    if not isinstance(value, list):
        raise DrawingInvalid(f"{where}'s points must be a list of [x, y] pairs.")
    cleaned = []
    for n, point in enumerate(value):
        if not isinstance(point, list) or len(point) != 2:
            raise DrawingInvalid(f"{where}, point {n + 1} must be an [x, y] pair.")
        cleaned.append(
            [
                _number(point[0], f"{where}, point {n + 1}: x"),
                _number(point[1], f"{where}, point {n + 1}: y"),
            ]
        )
    return cleaned


def clean_drawing(value) -> list[dict]:
    """The drawing as stored: every shape checked, coordinates rounded."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise DrawingInvalid("A drawing is a list of shapes.")
    if len(value) > MAX_SHAPES:
        raise DrawingInvalid(f"A drawing holds at most {MAX_SHAPES} shapes.")
    shapes, total = [], 0
    for n, shape in enumerate(value):
        where = f"Shape {n + 1}"
        if not isinstance(shape, dict):
            raise DrawingInvalid(f"{where} must be an object with kind, color and points.")
        if set(shape) != {"kind", "color", "points"}:
            raise DrawingInvalid(f"{where} must have exactly kind, color and points.")
        kind, color = shape["kind"], shape["color"]
        if kind not in KINDS:
            raise DrawingInvalid(f"{where}: the kind must be one of {', '.join(KINDS)}.")
        if color not in COLORS:
            raise DrawingInvalid(f"{where}: the colour must be one of {', '.join(COLORS)}.")
        points = _points(shape["points"], where)
        if kind == "freehand":
            if not 2 <= len(points) <= MAX_FREEHAND_POINTS:
                raise DrawingInvalid(
                    f"{where}: a freehand mark has 2 to {MAX_FREEHAND_POINTS} points."
                )
        elif len(points) != 2:
            raise DrawingInvalid(f"{where}: a {kind} has exactly 2 points.")
        total += len(points)
        if total > MAX_POINTS:
            raise DrawingInvalid(f"A drawing holds at most {MAX_POINTS} points in all.")
        shapes.append({"kind": kind, "color": color, "points": points})
    return shapes
