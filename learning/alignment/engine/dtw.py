"""Dynamic time warping kernels (numba): full DTW on a small cost matrix, and banded DTW
whose costs are computed on the fly inside a band around a coarser path.

Steps are (1,1), (1,0) and (0,1), each adding the cost of the cell it enters (the weights
of librosa and Sync Toolbox), so a path prefers the diagonal but can stand still on either
side, which is how a pause or a skipped passage shows. Paths run from (0, 0) to the last
cell of both sequences.

With a finite `jump_cost`, two more moves (after JumpDTW, Fremerey et al. 2010): from any
earlier row to this one as the reply advances a frame (the reply skipped the
demonstration's rows in between), and from any earlier column of the previous row (the
reply played frames the demonstration does not have there: a pause, a repeat, an added
passage). A jump costs `jump_cost` plus `gap_cost` per frame it passes over (between what
matching and unrelated frames cost: without it a few jumps across the corner would beat any
honest path), where standing still costs every cell it crosses: a skip of 6 s through
music that resembles what follows no longer costs more than wandering through it, so the
path takes it in one step where it happens. The returned path spells a jump out as the
flat run it stands for, so that everything downstream reads one kind of path.

The banded kernel keeps, per row i, the columns lo[i]..hi[i]: a 3-minute pair at 50 frames
per second is 81 million cells in full and well under a million in the band.
"""

from __future__ import annotations

import numpy as np
from numba import njit

DIAGONAL, DOWN, RIGHT = 0, 1, 2  # DOWN: demonstration advances; RIGHT: reply advances
SKIP, INSERT = 3, 4  # jumps: demonstration rows skipped; reply frames inserted
INF = np.inf


@njit(cache=True)
def _full(cost, jump, gap):
    n, m = cost.shape
    total = np.full((n, m), INF)
    steps = np.zeros((n, m), dtype=np.int8)
    source = np.zeros((n, m), dtype=np.int32)
    column_best = np.full(m, INF)  # min over earlier rows, per column
    column_row = np.zeros(m, dtype=np.int32)
    row_best = np.full(m, INF)  # min over the previous row's columns up to j
    row_column = np.zeros(m, dtype=np.int32)
    jumps = jump < INF
    for i in range(n):
        if jumps and i > 0:
            best = INF
            where = 0
            for j in range(m):
                value = total[i - 1, j] - gap * (i - 1)
                if value < column_best[j]:
                    column_best[j] = value
                    column_row[j] = i - 1
                value = total[i - 1, j] - gap * j
                if value < best:
                    best = value
                    where = j
                row_best[j] = best
                row_column[j] = where
        for j in range(m):
            c = cost[i, j]
            if i == 0 and j == 0:
                total[i, j] = c
                continue
            best = INF
            step = DIAGONAL
            if i > 0 and j > 0 and total[i - 1, j - 1] < best:
                best = total[i - 1, j - 1]
                step = DIAGONAL
            if i > 0 and total[i - 1, j] < best:
                best = total[i - 1, j]
                step = DOWN
            if j > 0 and total[i, j - 1] < best:
                best = total[i, j - 1]
                step = RIGHT
            if jumps and i > 0 and j > 0:
                value = column_best[j - 1] + jump + gap * (i - 1)
                if value < best:
                    best = value
                    step = SKIP
                    source[i, j] = column_row[j - 1]
                value = row_best[j - 2] + jump + gap * (j - 1) if j > 1 else INF
                if value < best:
                    best = value
                    step = INSERT
                    source[i, j] = row_column[j - 2]
            total[i, j] = best + c
            steps[i, j] = step
    return total[n - 1, m - 1], steps, source


@njit(cache=True)
def _backtrack_full(steps, source):
    n, m = steps.shape
    i, j = n - 1, m - 1
    path_i = np.empty(n + m, dtype=np.int32)
    path_j = np.empty(n + m, dtype=np.int32)
    k = 0
    while True:
        path_i[k] = i
        path_j[k] = j
        k += 1
        if i == 0 and j == 0:
            break
        step = steps[i, j]
        if step == DIAGONAL:
            i -= 1
            j -= 1
        elif step == DOWN:
            i -= 1
        elif step == RIGHT:
            j -= 1
        elif step == SKIP:  # spelled out: a run down column j - 1 from the source row
            origin = source[i, j]
            i -= 1
            j -= 1
            while i > origin:
                path_i[k] = i
                path_j[k] = j
                k += 1
                i -= 1
        else:  # INSERT: a run along row i - 1 from the source column
            origin = source[i, j]
            i -= 1
            j -= 1
            while j > origin:
                path_i[k] = i
                path_j[k] = j
                k += 1
                j -= 1
    return path_i[:k][::-1].copy(), path_j[:k][::-1].copy()


def full(
    cost: np.ndarray, *, jump_cost: float = INF, gap_cost: float = 0.0
) -> tuple[float, np.ndarray]:
    """Total cost and path (k, 2) of full DTW over a cost matrix."""
    total, steps, source = _full(
        np.ascontiguousarray(cost, dtype=np.float64), float(jump_cost), float(gap_cost)
    )
    path_i, path_j = _backtrack_full(steps, source)
    return float(total), np.stack([path_i, path_j], axis=1)


@njit(cache=True)
def _banded(chroma_a, chroma_b, onsets_a, onsets_b, onset_weight, lo, hi, offsets, jump, gap):
    n = chroma_a.shape[0]
    m = chroma_b.shape[0]
    d = chroma_a.shape[1]
    size = offsets[n]
    total = np.empty(size, dtype=np.float64)
    steps = np.zeros(size, dtype=np.int8)
    source = np.zeros(size, dtype=np.int32)
    column_best = np.full(m, INF)
    column_row = np.zeros(m, dtype=np.int32)
    row_best = np.full(m, INF)
    row_column = np.zeros(m, dtype=np.int32)
    jumps = jump < INF
    for i in range(n):
        base = offsets[i]
        if jumps and i > 0:
            previous = offsets[i - 1]
            best = INF
            where = 0
            for j in range(lo[i - 1], hi[i - 1] + 1):
                value = total[previous + j - lo[i - 1]] - gap * (i - 1)
                if value < column_best[j]:
                    column_best[j] = value
                    column_row[j] = i - 1
                value = total[previous + j - lo[i - 1]] - gap * j
                if value < best:
                    best = value
                    where = j
                row_best[j] = best
                row_column[j] = where
        for j in range(lo[i], hi[i] + 1):
            dot = 0.0
            dist = 0.0
            for f in range(d):
                dot += chroma_a[i, f] * chroma_b[j, f]
                delta = onsets_a[i, f] - onsets_b[j, f]
                dist += delta * delta
            c = 1.0 - dot
            # Against silence (the last component) every sounding frame costs the same: a
            # pause is then crossed where the notes around it match, not at whichever held
            # note has the weakest onset (the first note after a pause landed inside it).
            if chroma_a[i, d - 1] < 0.5 and chroma_b[j, d - 1] < 0.5:
                c += onset_weight * np.sqrt(dist)
            if i == 0 and j == 0:
                total[base] = c
                continue
            best = INF
            step = DIAGONAL
            if i > 0 and lo[i - 1] <= j - 1 <= hi[i - 1]:
                best = total[offsets[i - 1] + j - 1 - lo[i - 1]]
                step = DIAGONAL
            if i > 0 and lo[i - 1] <= j <= hi[i - 1]:
                value = total[offsets[i - 1] + j - lo[i - 1]]
                if value < best:
                    best = value
                    step = DOWN
            if j > lo[i]:
                value = total[base + j - 1 - lo[i]]
                if value < best:
                    best = value
                    step = RIGHT
            cell = base + j - lo[i]
            if jumps and i > 0 and j > 0:
                value = column_best[j - 1] + jump + gap * (i - 1)
                if value < best:
                    best = value
                    step = SKIP
                    source[cell] = column_row[j - 1]
                last = min(j - 2, hi[i - 1])
                if last >= lo[i - 1]:
                    value = row_best[last] + jump + gap * (j - 1)
                    if value < best:
                        best = value
                        step = INSERT
                        source[cell] = row_column[last]
            total[cell] = best + c
            steps[cell] = step
    return total[size - 1], steps, source


@njit(cache=True)
def _backtrack_banded(steps, source, lo, offsets, n, m):
    i, j = n - 1, m - 1
    path_i = np.empty(n + m, dtype=np.int32)
    path_j = np.empty(n + m, dtype=np.int32)
    k = 0
    while True:
        path_i[k] = i
        path_j[k] = j
        k += 1
        if i == 0 and j == 0:
            break
        cell = offsets[i] + j - lo[i]
        step = steps[cell]
        if step == DIAGONAL:
            i -= 1
            j -= 1
        elif step == DOWN:
            i -= 1
        elif step == RIGHT:
            j -= 1
        elif step == SKIP:
            origin = source[cell]
            i -= 1
            j -= 1
            while i > origin:
                path_i[k] = i
                path_j[k] = j
                k += 1
                i -= 1
        else:
            origin = source[cell]
            i -= 1
            j -= 1
            while j > origin:
                path_i[k] = i
                path_j[k] = j
                k += 1
                j -= 1
    return path_i[:k][::-1].copy(), path_j[:k][::-1].copy()


def banded(
    *,
    chroma_a: np.ndarray,
    chroma_b: np.ndarray,
    onsets_a: np.ndarray,
    onsets_b: np.ndarray,
    onset_weight: float,
    lo: np.ndarray,
    hi: np.ndarray,
    jump_cost: float = INF,
    gap_cost: float = 0.0,
) -> tuple[float, np.ndarray]:
    """Total cost and path of DTW restricted to columns lo[i]..hi[i] of each row i."""
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(hi - lo + 1)]).astype(np.int64)
    total, steps, source = _banded(
        chroma_a, chroma_b, onsets_a, onsets_b, float(onset_weight), lo, hi, offsets,
        float(jump_cost), float(gap_cost),
    )
    path_i, path_j = _backtrack_banded(steps, source, lo, offsets, len(chroma_a), len(chroma_b))
    return float(total), np.stack([path_i, path_j], axis=1)


def flat_runs(path: np.ndarray, min_steps: int) -> list[tuple[int, int]]:
    """(first, last) indices into `path` of its stretches where only one side moves, at least
    `min_steps` steps long: a pause, a skipped or a repeated passage, a late start."""
    steps = np.diff(path, axis=0)
    runs = []
    for axis in (0, 1):
        only = (steps[:, axis] == 1) & (steps[:, 1 - axis] == 0)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], only.astype(np.int8), [0]])))
        runs += [(s, e) for s, e in zip(edges[::2], edges[1::2], strict=True) if e - s >= min_steps]
    return sorted(runs)


def band_around(
    path: np.ndarray,
    *,
    factor: int,
    radius: int,
    n: int,
    m: int,
    run_steps: int = 0,
    run_margin: int = 0,
):
    """Per-row column bounds (lo, hi) at `factor` times the resolution of a coarse `path`,
    widened by `radius` fine columns on each side.

    Around each flat run of the coarse path of at least `run_steps` steps (0: none), the band
    also holds the whole box from the run's first to its last point, widened by `run_margin`
    coarse cells on every side: where the music stops, jumps ahead or goes back, a coarse
    path may put the step a few coarse cells off (a pause's first note inside the pause, a
    skip taken in two halves through similar music), and the finer level must be free to
    put it where the notes say."""
    rows = path[:, 0]
    cols = path[:, 1]
    coarse_rows = rows.max() + 1
    lo_coarse = np.full(coarse_rows, np.iinfo(np.int64).max, dtype=np.int64)
    hi_coarse = np.full(coarse_rows, -1, dtype=np.int64)
    np.minimum.at(lo_coarse, rows, cols.astype(np.int64))
    np.maximum.at(hi_coarse, rows, cols.astype(np.int64))
    if run_steps:
        for first, last in flat_runs(path, run_steps):
            (r0, c0), (r1, c1) = path[first], path[last]
            a, b = max(0, r0 - run_margin), min(coarse_rows - 1, r1 + run_margin)
            lo_coarse[a : b + 1] = np.minimum(lo_coarse[a : b + 1], max(0, c0 - run_margin))
            hi_coarse[a : b + 1] = np.maximum(hi_coarse[a : b + 1], c1 + run_margin)
    fine_rows = np.arange(n) // factor
    lo = np.clip(lo_coarse[fine_rows] * factor - radius, 0, m - 1)
    hi = np.clip((hi_coarse[fine_rows] + 1) * factor - 1 + radius, 0, m - 1)
    # Neighbouring rows must overlap for the band to hold a connected path.
    lo = np.minimum(lo, np.concatenate([[0], hi[:-1] + 1]))
    lo[0] = 0
    hi[-1] = m - 1
    return lo, hi
