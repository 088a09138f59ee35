"""Music-aware alignment of a reply to its exercise's demonstration (issue 6).

Analysis (plain numpy/numba, no Django):

* `features`  chroma, chroma onsets and silence per 20 ms frame; CENS-like coarse chroma
* `dtw`       full and banded DTW kernels (numba)
* `aligner`   multi-resolution DTW, transposition search, confidence
* `timemap`   the compact, stored time map and how to read it
* `pitch`     YIN pitch tracks for monophonic takes
* `feedback`  rushed / dragged / missing / extra / flat / sharp bands and a summary
* `engine`    the whole analysis in one call; `audio` decodes recordings with ffmpeg
* `synthesis` generated pairs with a known time map (benchmark and tests)

Django side: `services` (compute and store an Alignment, hide it from the student) and
`selectors` (read it, with the student's earlier attempts). Importing this package is
cheap: numba and librosa load only when an analysis runs.
"""
