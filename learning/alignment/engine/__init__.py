"""The alignment engine: two recordings in, a time map and timing and pitch feedback out. No
Django and no app here (an import-linter contract); see learning.alignment for the modules."""

from .analysis import ALGORITHM, MIN_SECONDS, Result, analyse, analyse_files

__all__ = ["ALGORITHM", "MIN_SECONDS", "Result", "analyse", "analyse_files"]
