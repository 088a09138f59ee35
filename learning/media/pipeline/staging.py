"""Output files are staged under hidden temporary names and renamed into place on success.

A rename within one directory is atomic, so a worker killed mid-transcode leaves at most a
`.*.part` file, never a half-written `720p.mp4` that looks finished. A rerun writes new
temporaries and replaces the finished names, which keeps processing idempotent.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PART_SUFFIX = ".part"

# Temporaries older than this belong to a dead worker (a live transcode is far shorter).
STALE_PART_AGE_S = 6 * 3600


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside `final`; move it to `final` only if the block ends."""
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}{PART_SUFFIX}")
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def remove_stale_parts(directory: Path, *, older_than_s: float = STALE_PART_AGE_S) -> int:
    """Delete temporaries that killed workers left behind; return how many were removed."""
    cutoff = time.time() - older_than_s
    removed = 0
    for part in directory.glob(f".*{PART_SUFFIX}"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another worker cleaned it first
    return removed
