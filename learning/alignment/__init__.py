"""Music-aware alignment of a reply to its exercise's demonstration (issue 6).

Django side, read in this order: `services` (queue, compute and store an Alignment; hide its
feedback from the student), `selectors` (read it, with the student's earlier attempts), `apis`
(`/api/v1/replies/<id>/alignment/`) and `tasks` (the Celery task that runs the analysis).

`engine/` is the analysis itself, plain numpy/numba with no Django and no app (an
import-linter contract):

* `features`  chroma, chroma onsets and silence per 20 ms frame; CENS-like coarse chroma
* `dtw`       full and banded DTW kernels with jumps (numba)
* `aligner`   multi-resolution DTW, transposition search, confidence
* `timemap`   the compact, stored time map and how to read it
* `pitch`     YIN pitch tracks for monophonic takes
* `feedback`  rushed / dragged / missing / extra / repeat / flat / sharp bands, a summary
* `analysis`  the whole analysis in one call; `audio` decodes recordings with ffmpeg
* `synthesis` generated pairs with a known time map (benchmark and tests)
* `notes`     wrong, missed and extra notes: Basic Pitch (onnxruntime) on both takes,
              compared through the time map (issue 14)
* `warm`      compiles the numba kernels into numba's cache (the image's build step)

Importing this package is cheap: numpy, scipy and numba load only when `engine` is imported,
which the services do only where an analysis runs.
"""
