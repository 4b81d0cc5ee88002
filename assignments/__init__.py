"""Bundled assignments: each folder holds a config, suites, problem functions and notebooks."""
