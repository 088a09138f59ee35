from tests.support import fuzz


def pytest_terminal_summary(terminalreporter):
    """One line per API fuzzing run, whatever pytest's capture and verbosity settings."""
    if not fuzz.RESULTS:
        return
    terminalreporter.section("API fuzzing")
    for run in fuzz.RESULTS:
        terminalreporter.write_line(run.summary())
    cases = sum(run.cases for run in fuzz.RESULTS)
    operations = sum(run.operations for run in fuzz.RESULTS)
    terminalreporter.write_line(f"schemathesis: {cases} cases, {operations} operations")
