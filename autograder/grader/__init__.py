"""The trusted side: finding submissions, starting sandboxed workers, running suites, storing results.

Student code never runs in a process that imports this package; it reaches it only as plain data
decoded by :mod:`autograder.worker.wire` with limits.
"""
