"""How a file is cut into parts for a multipart upload, by S3's rules (which the local
backend follows too): every part but the last is at least 5 MiB; at most 10,000 parts."""

from __future__ import annotations

MIN_PART_BYTES = 5 * 1024 * 1024
DEFAULT_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000


def part_size_for(size: int) -> int:
    """8 MiB parts, larger only when a huge file would need more than S3's 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(DEFAULT_PART_BYTES, needed)


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))
