"""The worker's numba cache (issue 14): compiled at image build into a seed directory, copied
by the worker's entrypoint to a NUMBA_CACHE_DIR on the writable /tmp (the image's root
filesystem is read-only in production and numba refuses a cache directory it cannot write
to), and loaded, not compiled, by a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "infra" / "docker" / "entrypoint.sh"

COUNT_HITS = (
    "import json; from learning.alignment.engine import warm; print(json.dumps(warm.warm()))"
)


def _python(code_or_module: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "NUMBA_CPU_NAME": "generic",
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
    }
    return subprocess.run(
        [sys.executable, *code_or_module],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def test_the_image_compiles_the_kernels_at_build_and_the_worker_uses_a_writable_cache():
    assert "NUMBA_CPU_NAME=generic" in DOCKERFILE  # the cached code suits any x86-64 CPU
    assert "NUMBA_CACHE_DIR=/tmp/numba-cache" in DOCKERFILE
    assert "PRACTIKA_NUMBA_CACHE_SEED=/opt/numba-cache" in DOCKERFILE
    assert "RUN NUMBA_CACHE_DIR=/opt/numba-cache python -m learning.alignment.engine.warm" in (
        DOCKERFILE
    )
    # The warm-up runs before the image drops to the app user (it writes under /opt).
    assert DOCKERFILE.index("engine.warm") < DOCKERFILE.rindex("USER ")
    ecs = (ROOT / "infra" / "terraform" / "ecs.tf").read_text()
    assert 'containerPath = "/tmp", readOnly = false' in ecs


def test_the_worker_entrypoint_copies_the_seed_cache_once(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "celery").write_text('#!/bin/sh\necho "celery $*"\n')
    (tools / "celery").chmod(0o755)
    seed = tmp_path / "seed"
    (seed / "engine_x").mkdir(parents=True)
    (seed / "engine_x" / "dtw._full-1.py311.nbi").write_text("index")
    cache = tmp_path / "cache"
    env = {
        "PATH": f"{tools}:/usr/bin:/bin",
        "PRACTIKA_NUMBA_CACHE_SEED": str(seed),
        "NUMBA_CACHE_DIR": str(cache),
    }

    run = subprocess.run(
        ["sh", str(ENTRYPOINT), "worker"], env=env, capture_output=True, text=True, check=True
    )

    assert run.stdout.startswith("celery -A config worker")
    assert (cache / "engine_x" / "dtw._full-1.py311.nbi").read_text() == "index"
    # A cache already there (a restarted worker, kernels compiled since) is left alone.
    (cache / "engine_x" / "dtw._full-1.py311.nbi").write_text("newer")
    subprocess.run(["sh", str(ENTRYPOINT), "worker"], env=env, capture_output=True, check=True)
    assert (cache / "engine_x" / "dtw._full-1.py311.nbi").read_text() == "newer"
    # Without a seed (a developer's machine) the worker starts all the same.
    shutil.rmtree(seed)
    shutil.rmtree(cache)
    subprocess.run(["sh", str(ENTRYPOINT), "worker"], env=env, capture_output=True, check=True)
    assert not cache.exists()


def test_a_fresh_process_loads_every_kernel_from_the_copied_seed_instead_of_compiling(tmp_path):
    seed, cache = tmp_path / "seed", tmp_path / "cache"

    built = _python(["-m", "learning.alignment.engine.warm"], seed)  # the image's build step
    shutil.copytree(seed, cache)  # the entrypoint's copy
    fresh = json.loads(_python(["-c", COUNT_HITS], cache).stdout.strip().splitlines()[-1])

    assert "compiled" in built.stdout
    assert fresh["cache_misses"] == 0, fresh
    assert fresh["cache_hits"] >= 5, fresh


def test_the_engine_does_not_import_what_an_analysis_does_not_use():
    # scipy.signal pulls scipy.stats in: a third of a second of every fresh worker process.
    code = (
        "import sys, learning.alignment.engine; "
        "print(sorted(m for m in ('scipy.signal', 'scipy.stats', 'librosa', 'sklearn', "
        "'django') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "[]", run.stdout


def test_what_replaces_scipy_signal_gives_what_scipy_signal_gives():
    import numpy as np
    import scipy.signal

    from learning.alignment.engine import features, feedback

    rng = np.random.default_rng(0)
    for round_to in (1, 3) * 50:  # plateaus and ties, and distinct values
        x = np.round(rng.random(int(rng.integers(3, 400))), round_to)
        expected, _ = scipy.signal.find_peaks(x, height=0.4, distance=3)
        assert np.array_equal(feedback._peaks(x, height=0.4, distance=3), expected)
    rise = rng.random((300, 12))
    decayed = scipy.signal.lfilter([1.0], [1.0, -0.7], rise, axis=0)
    assert np.allclose(features._decay(rise, 0.7), decayed)
    assert np.allclose(features.hann(1024), scipy.signal.get_window("hann", 1024))
