"""The sandboxed side: everything here runs in the worker process, beside student code.

The zygote (:mod:`.zygote`) forks one worker per submission; the worker confines itself
(:mod:`.confine`), runs the notebook's cells (:mod:`.cells`) and serves calls (:mod:`.server`) over
plain-data frames (:mod:`.wire`). Nothing here may import :mod:`autograder.grader`, the suites'
:mod:`autograder.checks`, or course content (``reference``, ``assignments``): what the worker can import,
student code can reach.
"""
