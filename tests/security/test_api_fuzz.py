"""API fuzzing (issue 10, finding 11): schemathesis against both OpenAPI schemas, as a teacher
and as a student of school A, with school B populated next to it.

Each run must end with no server error, no response that breaks the schema it was served
from, no operation left untested for lack of authentication, and nothing of school B in any
body. How a run works: tests/support/fuzz.py.
"""

from __future__ import annotations

import pytest

from tests.support import fuzz

# Cases per operation and generation mode. 58 operations (48 on a tenant host, 10 on the public
# site), each fuzzed as two members in both modes: about 3,000 cases, 2-4 minutes on 2 busy cores.
MAX_EXAMPLES = 15


@pytest.mark.parametrize("host", ["tenant", "public"])
@pytest.mark.parametrize("role", ["teacher", "student"])
def test_api_fuzz(schools, school_a, school_b, public_host, host, role):
    # Given school A and school B, both with classes, exercises, replies and comments
    own = fuzz.populate(school_a, label="school-a")
    other = fuzz.populate(school_b, label="school-b")
    member = getattr(school_a, role)
    run = fuzz.FuzzRun(name=f"{host} host as {role}")
    fuzz.RESULTS.append(run)

    # When schemathesis fuzzes every operation of the host's schema as that member
    with fuzz.wsgi_app() as app:
        fuzz.Fuzzer(
            app=app, host=school_a.host if host == "tenant" else public_host,
            email=member.email, own=own, other=other, max_examples=MAX_EXAMPLES, run=run,
        ).fuzz()

    # Then every operation ran, and nothing failed
    print(run.summary())
    assert run.operations >= (40 if host == "tenant" else 9)
    assert len(run.cases_by_operation) == run.operations  # each one sent at least one case
    assert run.cases >= run.operations * MAX_EXAMPLES
    assert not run.failures, "\n\n".join(
        [run.summary(), *(f"{key}\n  {example}" for key, example in sorted(run.failures.items()))]
    )
