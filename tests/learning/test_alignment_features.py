"""The engine's own chroma filterbank against librosa's, which it replaces at run time.

librosa stays a development dependency (this test and `bench/alignment.py`'s baseline); the
worker image computes the same matrix without it.
"""

from __future__ import annotations

import librosa
import numpy as np

from learning.alignment.engine import features


def test_chroma_filterbank_is_librosas():
    ours = features._chroma_filter()
    theirs = librosa.filters.chroma(sr=features.SAMPLE_RATE, n_fft=features.N_FFT).T

    assert ours.shape == (features.N_FFT // 2 + 1, 12)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_engine_does_not_import_librosa():
    import subprocess
    import sys

    code = (
        "import sys; from learning.alignment.engine import features; "
        "features._chroma_filter(); print('librosa' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "platform:.", "PATH": ""},
    )
    assert out.stdout.strip() == "False"
