"""The load test's 60-second version (issue 12): 200 members over 20 tenants against the
production web command, a real Celery worker, Redis and PostgreSQL (tests/support/load/;
bench/load.py runs the five-minute one).

No request may fail, and neither the web server nor the worker may log an error. The latency
bound is loose on purpose: `.ci/run` runs this on a busy 2-core machine, where the load tool,
the web server, the worker's ffmpeg and PostgreSQL share the cores; bench/load.py reports the
figure the issue's target (p95 ≤ 200 ms) is about.
"""

from __future__ import annotations

import pytest

from tests.support.load.run import run

# Far above the 200 ms, which this machine does not meet yet (docs/scaling.md): half
# the members' 30-s request timeout, so that only a server whose requests queue towards
# failing goes past it. On a 2-core machine today's p95 is 2 to 4 s (docs/scaling.md, sixth round).
P95_BOUND_MS = 15000


@pytest.mark.services
def test_sixty_seconds_of_200_members_over_20_tenants_pass_without_an_error():
    result = run(seconds=60, users=200, tenants=20, uploads=12)
    print(result.report())

    assert result.errors == 0, result.report()
    assert result.server_error_count == 0, result.report()  # the worker's tasks included
    # Every kind of request the scenario makes was made, uploads included.
    names = {e.name for e in result.endpoints if e.requests}
    assert {"page /dashboard/ (student)", "page /dashboard/ (teacher)", "page /teach/inbox/",
            "page /replies/<id>/ (compare)", "api POST /api/v1/uploads/<token>/complete/",
            "api POST /api/v1/replies/<id>/comments/"} <= names, result.report()  # fmt: skip
    assert result.uploads["completed"] >= 1, result.report()
    assert result.overall.p95 <= P95_BOUND_MS, result.report()
