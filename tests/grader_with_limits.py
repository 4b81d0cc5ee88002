"""Run the ``autograder`` command under a memory and CPU rlimit, and write the grader's own peak memory.

``python grader_with_limits.py PEAK_FILE autograder-arguments...``: the attack tests run the grader
through this, so a grader that builds without bound fails with MemoryError instead of taking down
the machine running the tests, and they can assert on its peak resident memory (the grading process
itself: with --jobs 1 it grades in this process; workers and the zygote are other processes).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

ADDRESS_SPACE = 8 * 2**30  # far above what grading needs; below what would hurt the machine
CPU_SECONDS = 900


def main() -> int:
    peak_file = Path(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    from click_cli import main as autograder

    code: int | str | None = 0
    try:
        autograder.main(sys.argv[2:], prog_name="autograder", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        peak_file.write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
