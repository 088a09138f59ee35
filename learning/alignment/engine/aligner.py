"""Multi-resolution alignment of a reply to a demonstration.

1. Key (2 frames per second, CENS-like chroma): full DTW for each of the 12 circular
   chroma shifts; the cheapest path gives the transposition.
2. Coarse (5 frames per second): full DTW in that key gives a first map; the same DTW on
   block-shuffled reply features says what an unrelated take would cost, which is what the
   confidence compares against.
3. Finer levels (at most 10 times finer each, down to 50 frames per second with chroma
   onsets): banded DTW around the previous path.

The full DTW at 50 frames per second would fill 81 million cells for a 3-minute pair (the
baseline of the benchmark: ~6 s and ~2 GB); the band keeps this well under a second.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import dtw, features

COARSE_FACTOR = 10  # 50 -> 5 frames per second
SEARCH_FACTOR = 2.5  # the key and the confidence: 2 frames per second
MAX_COARSE_CELLS = 2_000_000  # longer takes get a coarser first level
MAX_LEVEL_STEP = 10
BAND_RADIUS_COARSE = 6  # coarse cells of slack on each side of the coarse path
# Flat runs of a coarser path (one side stands still) this long get a box of their own in
# the finer band, this much wider on every side (see dtw.band_around).
RUN_BOX_S = 1.0
RUN_BOX_MARGIN_S = 2.0
# What a jump of the path costs (a skipped passage, a pause, a repeat; see dtw), in seconds
# of cells that match nothing (cost 1): held notes' short flat runs cost far less and stay
# steps, a 6 s skip costs far more.
JUMP_COST_S = 0.4
GAP_COST = 0.2  # per frame a jump passes over: above matching frames' cost, below unrelated
ONSET_WEIGHT = 1.0
SHUFFLE_BLOCK_S = 2.0
# Trust: the real path must cost clearly less than an unrelated (shuffled) take's path.
MIN_CONFIDENCE = 0.25
MIN_SLOPE, MAX_SLOPE = 0.4, 2.5  # overall reply/demonstration speed a take may have
MIN_MUSIC_S = 2.0


@dataclass(frozen=True)
class Alignment:
    path: np.ndarray = field(repr=False)  # (k, 2) frame pairs (demonstration, reply)
    transposition: int  # semitones the reply sounds above the demonstration, -5..6
    confidence: float  # 0 (unrelated) .. 1
    reason: str  # why the map is not trustworthy, or ""
    demo: features.Features = field(repr=False)
    reply: features.Features = field(repr=False)

    @property
    def trustworthy(self) -> bool:
        return not self.reason


def coarse_factor(n: int, m: int) -> int:
    factor = COARSE_FACTOR
    while (n / factor) * (m / factor) > MAX_COARSE_CELLS:
        factor *= 2
    return factor


def _path_cost(cost: np.ndarray) -> tuple[float, np.ndarray]:
    total, path = dtw.full(cost)
    return total / len(path), path


def _shuffled(matrix: np.ndarray, block: int, seed: int = 0) -> np.ndarray:
    count = -(-len(matrix) // block)
    order = np.random.default_rng(seed).permutation(count)
    return np.concatenate([matrix[i * block : (i + 1) * block] for i in order])


def align(demo_audio: np.ndarray, reply_audio: np.ndarray) -> Alignment:
    """Align two mono recordings at features.SAMPLE_RATE."""
    # Two threads: the FFTs and matrix products release the GIL, so both takes' features
    # are computed at once on a 2-core worker.
    with ThreadPoolExecutor(max_workers=2) as pool:
        demo, reply = pool.map(features.extract, (demo_audio, reply_audio))
    return align_features(demo, reply)


def align_features(demo: features.Features, reply: features.Features) -> Alignment:
    n, m = demo.frames, reply.frames
    fps = features.FRAMES_PER_SECOND
    factor = coarse_factor(n, m)
    coarse_a = features.coarse(demo, factor)
    coarse_b = features.coarse(reply, factor)
    # The key on pitch classes alone (with the silence component, two unrelated takes would
    # still match on their shared lead-in and ending) and at 2 frames per second: 12 DTWs,
    # and a key needs no detail.
    search = int(factor * SEARCH_FACTOR)
    key_a = features.normalise_rows(features.coarse(demo, search)[:, :12])
    key_b = features.normalise_rows(features.coarse(reply, search)[:, :12])
    _, shift = min(
        (_path_cost(1.0 - key_a @ features.transpose(key_b, k).T)[0], k) for k in range(12)
    )
    # Confidence at 5 frames per second: the real path against a shuffled take's.
    tonal_a = features.normalise_rows(coarse_a[:, :12])
    tonal_b = features.transpose(features.normalise_rows(coarse_b[:, :12]), shift)
    real_cost, _ = _path_cost(1.0 - tonal_a @ tonal_b.T)
    shuffled_b = _shuffled(tonal_b, max(1, int(SHUFFLE_BLOCK_S * fps / factor)))
    unrelated_cost, _ = _path_cost(1.0 - tonal_a @ shuffled_b.T)
    confidence = float(np.clip(1.0 - real_cost / max(unrelated_cost, 1e-9), 0.0, 1.0))
    _, path = dtw.full(
        1.0 - coarse_a @ features.transpose(coarse_b, shift).T,
        jump_cost=JUMP_COST_S * fps / factor,
        gap_cost=GAP_COST,
    )

    chroma_b = features.transpose(reply.chroma, shift)
    onsets_b = features.transpose(reply.onsets, shift)
    while factor > 1:
        finer = max(1, factor // MAX_LEVEL_STEP) if factor > MAX_LEVEL_STEP else 1
        step = factor // finer
        if finer == 1:
            level_a, level_b = demo.chroma, chroma_b
            onset_a, onset_b, weight = demo.onsets, onsets_b, ONSET_WEIGHT
        else:
            level_a = features.coarse(demo, finer)
            level_b = features.transpose(features.coarse(reply, finer), shift)
            onset_a = np.zeros_like(level_a)
            onset_b = np.zeros_like(level_b)
            weight = 0.0
        frames_per_cell = factor / fps  # seconds per cell of the coarser path
        lo, hi = dtw.band_around(
            path, factor=step, radius=BAND_RADIUS_COARSE * step,
            n=len(level_a), m=len(level_b),
            run_steps=max(2, round(RUN_BOX_S / frames_per_cell)),
            run_margin=max(1, round(RUN_BOX_MARGIN_S / frames_per_cell)),
        )
        _, path = dtw.banded(
            chroma_a=level_a, chroma_b=level_b, onsets_a=onset_a, onsets_b=onset_b,
            onset_weight=weight, lo=lo, hi=hi,
            jump_cost=JUMP_COST_S * fps / finer, gap_cost=GAP_COST,
        )
        factor = finer

    transposition = shift if shift <= 6 else shift - 12
    return Alignment(
        path=path, transposition=transposition, confidence=confidence,
        reason=_distrust(path, demo, reply, confidence), demo=demo, reply=reply,
    )


def _distrust(path, demo, reply, confidence) -> str:
    fps = features.FRAMES_PER_SECOND
    if (~demo.silent).sum() < MIN_MUSIC_S * fps:
        return "The demonstration has almost no sound to align to."
    if (~reply.silent).sum() < MIN_MUSIC_S * fps:
        return "The reply has almost no sound to align."
    if confidence < MIN_CONFIDENCE:
        return "The reply does not seem to follow the demonstration's music."
    # The sounding middle of the path: its overall slope says how much slower the reply is.
    sounding = ~demo.silent[path[:, 0]] & ~reply.silent[path[:, 1]]
    if sounding.sum() >= 2:
        points = path[sounding]
        span_a = points[-1, 0] - points[0, 0]
        span_b = points[-1, 1] - points[0, 1]
        slope = span_b / max(span_a, 1)
        if not MIN_SLOPE <= slope <= MAX_SLOPE:
            return "The reply's tempo is too far from the demonstration's to line them up."
    return ""
