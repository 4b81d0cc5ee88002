"""Grades Jupyter-notebook assignments: sandboxed workers, hidden pytest suites, stored results."""
