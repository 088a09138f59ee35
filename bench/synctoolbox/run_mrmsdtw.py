"""Sync Toolbox's MrMsDTW on the pairs of bench/alignment_real.py, run by the Python of the
separate virtualenv that the benchmark makes (.data/bench-synctoolbox/).

As the toolbox's own example (sync_audio_audio_full.ipynb) does it: tuning estimated per
recording, quantised chroma and DLNCO onset features at 50 frames per second, the chroma
shift that best matches the two (the transposition) from 1 Hz CENS, then MrMsDTW with the
example's step weights and the path made strictly monotonic.

    python run_mrmsdtw.py MANIFEST.json RESULTS.jsonl  ->  one JSON line per pair

(The toolbox prints progress dots on stdout, hence a results file.)

MANIFEST.json: [{"name": ..., "demo": "a.npy", "reply": "b.npy"}, ...], mono float32 at
22,050 Hz. The first pair is also run once beforehand on its first 10 s, so that numba's
compilation is not counted (Practika's engine is timed warm too); that run's time is printed
as "compile_s".
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from synctoolbox.dtw.mrmsdtw import sync_via_mrmsdtw
from synctoolbox.dtw.utils import (
    compute_optimal_chroma_shift,
    make_path_strictly_monotonic,
    shift_chroma_vectors,
)
from synctoolbox.feature.chroma import pitch_to_chroma, quantize_chroma, quantized_chroma_to_CENS
from synctoolbox.feature.dlnco import pitch_onset_features_to_DLNCO
from synctoolbox.feature.pitch import audio_to_pitch_features
from synctoolbox.feature.pitch_onset import audio_to_pitch_onset_features
from synctoolbox.feature.utils import estimate_tuning

FS = 22_050
FEATURE_RATE = 50
STEP_WEIGHTS = np.array([1.5, 1.5, 2.0])
THRESHOLD_REC = 10**6


def features(audio):
    tuning = estimate_tuning(audio, FS)
    pitch = audio_to_pitch_features(
        f_audio=audio, Fs=FS, tuning_offset=tuning, feature_rate=FEATURE_RATE, verbose=False
    )
    chroma = quantize_chroma(f_chroma=pitch_to_chroma(f_pitch=pitch))
    onsets = audio_to_pitch_onset_features(
        f_audio=audio, Fs=FS, tuning_offset=tuning, verbose=False
    )
    dlnco = pitch_onset_features_to_DLNCO(
        f_peaks=onsets,
        feature_rate=FEATURE_RATE,
        feature_sequence_length=chroma.shape[1],
        visualize=False,
    )
    return chroma, dlnco


def align(demo, reply):
    chroma_1, dlnco_1 = features(demo)
    chroma_2, dlnco_2 = features(reply)
    cens_1 = quantized_chroma_to_CENS(chroma_1, 201, 50, FEATURE_RATE)[0]
    cens_2 = quantized_chroma_to_CENS(chroma_2, 201, 50, FEATURE_RATE)[0]
    shift = int(compute_optimal_chroma_shift(cens_1, cens_2))
    chroma_2 = shift_chroma_vectors(chroma_2, shift)
    dlnco_2 = shift_chroma_vectors(dlnco_2, shift)
    path = sync_via_mrmsdtw(
        f_chroma1=chroma_1,
        f_onset1=dlnco_1,
        f_chroma2=chroma_2,
        f_onset2=dlnco_2,
        input_feature_rate=FEATURE_RATE,
        step_weights=STEP_WEIGHTS,
        threshold_rec=THRESHOLD_REC,
        verbose=False,
    )
    path = make_path_strictly_monotonic(path)
    # The chroma shift that maps the reply onto the demonstration, as semitones up.
    transposition = (-shift) % 12
    return path, transposition if transposition <= 6 else transposition - 12


def main() -> int:
    with open(sys.argv[1]) as manifest:
        pairs = json.load(manifest)
    first = np.load(pairs[0]["demo"])[: 10 * FS]
    results = open(sys.argv[2], "w")  # noqa: SIM115 - written line by line as pairs finish
    started = time.perf_counter()
    align(first, first)
    print(json.dumps({"compile_s": time.perf_counter() - started}), file=results, flush=True)
    for pair in pairs:
        demo = np.load(pair["demo"]).astype(np.float64)
        reply = np.load(pair["reply"]).astype(np.float64)
        started = time.perf_counter()
        path, transposition = align(demo, reply)
        elapsed = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "name": pair["name"],
                    "time_s": elapsed,
                    "transposition": transposition,
                    "demo_ms": (path[0] * 1000.0 / FEATURE_RATE).tolist(),
                    "reply_ms": (path[1] * 1000.0 / FEATURE_RATE).tolist(),
                }
            ),
            file=results,
            flush=True,
        )
    results.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
