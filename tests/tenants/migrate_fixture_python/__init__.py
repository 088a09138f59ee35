"""A throwaway tenant app with a RunPython migration: it must go through Django's executor."""
