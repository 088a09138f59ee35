"""The realistic load test (issue 12): 200 members over 20 tenants against what production runs.

    run.py        starts everything on loopback, runs the scenario, stops everything, reports
    clips.py      the 10-second recordings it uploads (made once per run with ffmpeg)
    seed.py       the tenants, members, exercises and sessions (a child process, production
                  settings)
    locustfile.py the members' behaviour: what a browser on each page asks for

bench/load.py runs it for 5 minutes (`make bench`); tests/platform/test_load.py for 60 seconds
(`.ci/run`, with the other `services` tests). docs/scaling.md says what it measures and how.
"""
