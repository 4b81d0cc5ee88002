"""gd-autograder, the engine. The package is split along the trust boundary:

* :mod:`autograder.worker` runs in the sandboxed process, next to student code. It trusts nothing it
  finds there, holds nothing secret, and imports nothing from the grader side or the course content.
* :mod:`autograder.grader` is the trusted side: it runs hidden suites against the worker over plain
  data, keeps references and scores, and writes every output. It never runs student code.
* :mod:`autograder.checks` is what suites are written with; it runs wherever a suite runs.

``pyproject.toml`` states the boundary as import-linter contracts, which CI checks.
"""
