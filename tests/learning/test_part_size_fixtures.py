"""The part sizes that keep the browser uploader's plan (templates/static/js/lib/parts.js) in
step with the server's (learning/storage/parts.py): Uppy cuts a file into parts before the
upload's ticket arrives, so both must cut the same parts.

`tests/js/fixtures/part_sizes.json` holds Python's answers for a set of file sizes, and
`tests/js/parts.test.mjs` (run by `node --test tests/js/` in `make test`) checks that the
JavaScript gives the same ones. This test fails when the committed file is not what Python
computes now: it rewrites the file, so that the change shows in `git diff`.
"""

from __future__ import annotations

import json
from pathlib import Path

from learning import storage

FIXTURE = Path(__file__).resolve().parents[1] / "js" / "fixtures" / "part_sizes.json"
MiB = 1024 * 1024
SIZES = [
    1,
    5 * MiB,
    8 * MiB - 1,
    8 * MiB,
    8 * MiB + 1,
    60 * 1000 * 1000,
    2 * 1024 * MiB,
    10_000 * 8 * MiB,
    10_000 * 8 * MiB + 1,
    200 * 1024 * MiB,
    5 * 1024**4,
]


def test_part_size_fixture_is_what_python_computes():
    cases = []
    for size in SIZES:
        part_size = storage.part_size_for(size)
        cases.append(
            {"size": size, "part_size": part_size, "count": storage.part_count(size, part_size)}
        )
    text = json.dumps({"cases": cases}, indent=1) + "\n"
    current = FIXTURE.read_text() if FIXTURE.exists() else ""
    if current != text:
        FIXTURE.write_text(text)
    assert current == text, f"{FIXTURE.name} was stale and has been rewritten: commit it"
