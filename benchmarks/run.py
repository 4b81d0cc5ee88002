"""Speed and memory of `autograder grade`, side by side with `otter run`, in one run.

    python benchmarks/run.py                # full sizes; writes benchmarks/results.md (about 15 minutes)
    python benchmarks/run.py --quick        # small sizes, a smoke run (prints only, unless --output)
    python benchmarks/run.py --skip-otter   # leave out the otter baseline

Sections (each notebook is a copy of an example solution, correct or buggy, of the bundled assignments):

1. Per notebook, `autograder grade` against `otter run -a <zip from otter assign>` on the same sample.
2. Throughput: a batch of notebooks spread over the five assignments with the default --jobs, and
   `otter run` two at a time on a sample (extrapolated to the batch, and labelled so).
3. The fixed cost per submission (toy notebooks whose functions return at once), and each hidden
   suite run through the worker against the same suite run in this process on the same code.
4. Memory over a long batch: the grader's RSS as the batch goes on, and the peak RSS of the grading
   processes and of the sandboxed workers.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project and its benchmarks importable
    sys.path.insert(0, str(ROOT))

from benchmarks import notebooks  # noqa: E402
from benchmarks.processes import TreeSampler, cpu_accounting, run_measured, run_timed  # noqa: E402

TOY_COURSE = ROOT / "tests" / "course"
OTTER_SLUGS = ("gradient-descent", "relu-fit")
MEMORY_SLUG = "gradient-descent"


@dataclass(frozen=True)
class Sizes:
    otter_per_slug: int  # section 1: notebooks of each of OTTER_SLUGS, run one command each
    batch: int  # section 2: notebooks spread evenly over the five assignments
    otter_parallel_per_slug: int  # section 2: otter's sample, two at a time
    trivial: int  # section 3: toy notebooks whose functions return at once
    suite_rounds: int  # section 3: rounds of each suite, through the worker and in-process
    memory: int  # section 4: notebooks in one batch
    cold_rounds: int  # one-notebook commands, each run this many times


FULL = Sizes(otter_per_slug=4, batch=200, otter_parallel_per_slug=2, trivial=200, suite_rounds=5, memory=2000,
             cold_rounds=3)
QUICK = Sizes(otter_per_slug=1, batch=20, otter_parallel_per_slug=1, trivial=20, suite_rounds=1, memory=60,
              cold_rounds=1)


def autograder_command() -> list[str]:
    script = Path(sys.executable).with_name("autograder")
    return [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from click_cli import main; "
                                                                          "sys.exit(main())"]


def grade_command(slug: str, out: Path, paths: list[Path], *, jobs: int | None = None, toy: bool = False
                  ) -> list[str]:
    command = [*autograder_command(), "grade", "--quiet", "--assignment", slug, "--out", str(out)]
    command += ["--jobs", str(jobs)] if jobs else []
    command += ["--course", str(TOY_COURSE if toy else ROOT)]
    return [*command, *map(str, paths)]


def grade(slug: str, out: Path, paths: list[Path], *, jobs: int | None = None, toy: bool = False) -> float:
    return run_timed(grade_command(slug, out, paths, jobs=jobs, toy=toy), cwd=ROOT)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


# ---------------------------------------------------------------------------------------------- 1
def per_notebook(work: Path, sizes: Sizes, zips: dict[str, Path] | None) -> dict:
    log("1. per notebook: autograder grade vs otter run")
    sample = {slug: notebooks.build_batch(slug, sizes.otter_per_slug, work / "sample" / slug) for slug in OTTER_SLUGS}
    single, otter, otter_cpu, otter_missing = [], [], [], 0
    for slug, paths in sample.items():
        for number, path in enumerate(paths):
            single.append(grade(slug, work / "single" / f"{slug}-{number}", [path], jobs=1))
            if zips is not None:
                from benchmarks.otter_baseline import otter_run

                seconds, score, cpu = otter_run(zips[slug], path, work / "otter-single" / f"{slug}-{number}")
                otter.append(seconds)
                otter_cpu.append(cpu)
                otter_missing += score is None
    batch_seconds = sum(grade(slug, work / "sample-batch" / slug, [work / "sample" / slug]) for slug in sample)
    count = sum(len(paths) for paths in sample.values())
    return {"count": count, "single": single, "otter": otter, "otter_cpu": otter_cpu, "otter_missing": otter_missing,
            "sample_batch": batch_seconds / count, "slugs": list(sample)}


# ---------------------------------------------------------------------------------------------- 2
def throughput(work: Path, sizes: Sizes, zips: dict[str, Path] | None) -> dict:
    log(f"2. throughput: {sizes.batch} notebooks over the five assignments, default --jobs")
    slugs = notebooks.slugs()
    per_slug = {}
    for index, slug in enumerate(slugs):
        count = sizes.batch // len(slugs) + (index < sizes.batch % len(slugs))
        folder = work / "batch" / slug
        notebooks.build_batch(slug, count, folder)
        per_slug[slug] = (count, *run_measured(grade_command(slug, work / "batch-out" / slug, [folder]), cwd=ROOT))
    result: dict = {"per_slug": per_slug, "jobs": len(os.sched_getaffinity(0))}
    if zips is not None:
        from benchmarks.otter_baseline import otter_run

        log(f"2. otter run two at a time on {sizes.otter_parallel_per_slug} notebooks of each assignment")
        sample = [(slug, path) for slug in slugs
                  for path in sorted((work / "batch" / slug).glob("*.ipynb"))[:sizes.otter_parallel_per_slug]]
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(lambda item: otter_run(zips[item[0]], item[1],
                                                            work / "otter-parallel" / item[1].stem), sample))
        result["otter"] = (len(sample), time.perf_counter() - started, sum(score is None for _, score, _ in outcomes))
    return result


# ---------------------------------------------------------------------------------------------- 3
def fixed_cost(work: Path, sizes: Sizes) -> dict:
    log(f"3. fixed cost: {sizes.trivial} toy notebooks whose functions return at once")
    folder = work / "trivial"
    paths = notebooks.build_trivial_batch(sizes.trivial, folder)
    result = {"count": len(paths)}
    for label, jobs in (("default", None), ("1", 1)):
        one = grade("toy", work / f"trivial-one-{label}", paths[:1], jobs=jobs, toy=True)
        many = grade("toy", work / f"trivial-out-{label}", [folder], jobs=jobs, toy=True)
        result[label] = {"per_notebook": many / len(paths), "marginal": (many - one) / max(len(paths) - 1, 1),
                         "one": one}
    return result


def suite_overhead(sizes: Sizes) -> dict:
    """Each hidden suite against its reference pasted into a notebook: through a worker, and in this process."""
    from autograder.grader.assignment import load_assignment
    from autograder.grader.inprocess import InProcessSession
    from autograder.grader.session import WorkerSession
    from autograder.grader.suite import run_suite

    log(f"3. hidden suites through the worker vs in-process, {sizes.suite_rounds} round(s) each")
    rows = {}
    callbacks = [0]
    answer = WorkerSession._answer_callback

    def counted(self: WorkerSession, *args: object) -> None:
        callbacks[0] += 1
        answer(self, *args)

    for slug in notebooks.slugs():
        assignment = load_assignment(slug, ROOT)
        cells = list(enumerate(notebooks.reference_cells(notebooks.reference_module(slug)), start=2))
        start, through, inside, scores = [], [], [], set()
        callbacks[0] = 0
        for round_number in range(sizes.suite_rounds + 1):  # round 0 warms caches and is not counted
            session = WorkerSession(cells, assignment.problems_source, assignment.budgets, assignment.packages)
            began = time.perf_counter()
            session.start()
            loaded = time.perf_counter()
            WorkerSession._answer_callback = counted  # type: ignore[method-assign]
            try:
                tests = run_suite(assignment.hidden_suite, assignment, session)
            finally:
                WorkerSession._answer_callback = answer  # type: ignore[method-assign]
            finished = time.perf_counter()
            session.close()
            scores.add(("worker", sum(test.score for test in tests), sum(test.max_score for test in tests)))
            local = InProcessSession.from_cells(cells)
            local_began = time.perf_counter()
            local_tests = run_suite(assignment.hidden_suite, assignment, local)
            local_finished = time.perf_counter()
            scores.add(("in-process", sum(test.score for test in local_tests), sum(t.max_score for t in local_tests)))
            if round_number:
                start.append(loaded - began)
                through.append(finished - loaded)
                inside.append(local_finished - local_began)
        rows[slug] = {"tests": len(tests), "start": statistics.median(start), "through": statistics.median(through),
                      "inside": statistics.median(inside), "scores": sorted(scores),
                      "callbacks": callbacks[0] / (sizes.suite_rounds + 1)}
    return rows


def pipe_round_trip(count: int = 20_000) -> float:
    """CPU (both processes) of one round trip of a 150-byte message between two Python processes over a pipe
    pair, blocking reads: the least a callback from a worker to the grader can cost on this machine."""
    to_child, from_parent = os.pipe()
    to_parent, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:
        for _ in range(count):
            os.read(to_child, 4096)
            os.write(from_child, b"r" * 150)
        os._exit(0)
    began = time.process_time()
    for _ in range(count):
        os.write(from_parent, b"c" * 150)
        os.read(to_parent, 4096)
    parent = time.process_time() - began
    _, _, usage = os.wait4(pid, 0)
    for fd in (to_child, from_parent, to_parent, from_child):
        os.close(fd)
    return (parent + usage.ru_utime + usage.ru_stime) / count


def named_costs() -> dict[str, tuple[float, float]]:
    """Section 5: each removed cost, before and after, timed side by side (benchmarks/named_costs.py)."""
    from autograder.grader.assignment import load_assignment
    from autograder.grader.inprocess import InProcessSession
    from benchmarks import named_costs as costs

    log("5. named costs, before and after, side by side")
    sessions = {}
    for slug in notebooks.slugs():
        cells = list(enumerate(notebooks.reference_cells(notebooks.reference_module(slug)), start=2))
        sessions[slug] = (load_assignment(slug, ROOT), lambda cells=cells: InProcessSession.from_cells(cells))
    return {**costs.suite_costs(sessions), **costs.frame_costs(), **costs.picture_costs(), **costs.seed_cost()}


# ------------------------------------------------------------------------------------------- floor
def floor(work: Path) -> dict:
    """The batch's own notebooks graded in this process, CPU per notebook: the floor of the suites' work.

    Each notebook's cells run here and the hidden suite calls its functions directly (no worker, no pipes,
    no callbacks across processes), with one collected pytest session per suite and the reference work
    the suites cache kept, as in a grading process. Trusted notebooks only: these are the bundled solutions.
    """
    import contextlib
    import io

    from autograder.grader.assignment import load_assignment
    from autograder.grader.inprocess import InProcessSession
    from autograder.grader.notebook import read_code_cells
    from autograder.grader.suite import run_suite
    from autograder.worker.cells import ShellShim, to_python
    from autograder.worker.server import install_stand_ins

    log("floor: the batch's notebooks graded in-process")
    install_stand_ins()  # as in a worker: the notebooks' `import otter` and grader.check cells do nothing

    def session_of(path: Path) -> InProcessSession:
        """The notebook's cells run as a worker runs them (magics through the same shim), in this process."""
        namespace: dict = {"__name__": "__main__"}
        shell = ShellShim(lambda source: exec(compile(source, "<magic>", "exec"), namespace), lambda _: None)
        shell.user_ns = namespace
        namespace["get_ipython"] = lambda: shell
        for index, source in read_code_cells(path):
            with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
                exec(compile(to_python(source), f"<cell {index}>", "exec"), namespace)
        return InProcessSession(namespace)

    def close_figures() -> None:
        """A worker's figures end with it; here they would pile up over the notebooks (and slow each next one)."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    rows = {}
    for slug in notebooks.slugs():
        assignment = load_assignment(slug, ROOT)
        paths = sorted((work / "batch" / slug).glob("*.ipynb"))
        with contextlib.redirect_stdout(io.StringIO()):
            run_suite(assignment.hidden_suite, assignment, session_of(paths[0]))  # warm-up, not counted
            close_figures()
            began = time.process_time()
            for path in paths:
                run_suite(assignment.hidden_suite, assignment, session_of(path))
                close_figures()
        rows[slug] = (time.process_time() - began) / len(paths)
    return rows


def cold_start(work: Path, rounds: int) -> dict:
    """One notebook per command, command start included: `autograder check` and the Gradescope run."""
    slug = "gradient-descent"
    notebook = sorted((ROOT / "assignments" / slug / "solutions" / "correct").glob("*.ipynb"))[0]
    log(f"cold start: `autograder check` and the Gradescope run on one notebook, {rounds} round(s)")
    check = [run_measured([*autograder_command(), "check", "--assignment", slug, "--course", str(ROOT),
                           str(notebook)], cwd=ROOT) for _ in range(rounds)]
    root = work / "gradescope"
    shutil.copytree(ROOT / "assignments", root / "source" / "course" / "assignments")
    shutil.copytree(ROOT / "reference", root / "source" / "course" / "reference")
    (root / "submission").mkdir(parents=True)
    shutil.copy(notebook, root / "submission" / notebook.name)
    environment = {**os.environ, "AUTOGRADER_GRADESCOPE_ROOT": str(root)}
    gradescope = [run_measured([sys.executable, "-m", "autograder.grader.exports.gradescope_run", "--assignment",
                                slug], cwd=root, env=environment) for _ in range(rounds)]
    return {"check": check, "gradescope": gradescope, "slug": slug}


# ---------------------------------------------------------------------------------------------- 4
def memory(work: Path, sizes: Sizes) -> dict:
    log(f"4. memory: one batch of {sizes.memory} {MEMORY_SLUG} notebooks, default --jobs")
    folder = work / "memory"
    notebooks.build_batch(MEMORY_SLUG, sizes.memory, folder)
    # Not --quiet: the progress lines (one every 5 s when not on a terminal) say how far the batch is.
    command = [*autograder_command(), "grade", "--assignment", MEMORY_SLUG, "--out", str(work / "memory-out"),
               str(folder)]
    began = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(process.pid)
    sampler.start()
    progress: list[tuple[float, int]] = []

    def read_progress() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            found = re.match(r"(\d+)/(\d+) submissions", line)
            if found:
                progress.append((time.monotonic() - began, int(found.group(1))))

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    code = process.wait()
    seconds = time.monotonic() - began
    reader.join()
    seen = sampler.stop()
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {code}")
    offset = sampler.started - began  # the sampler's clock started a little after the command's

    def rss_at(elapsed: float) -> int:
        before = [rss for when, rss in seen.grader if when + offset <= elapsed]
        return before[-1] if before else seen.grader[0][1]

    points = [(done, rss_at(when)) for when, done in progress]
    return {"count": sizes.memory, "seconds": seconds, "points": points, "grader": seen.grader,
            "grader_last": seen.grader[-1][1], "grader_max": max(rss for _, rss in seen.grader),
            "grading_processes": seen.grading_processes, "sandbox_workers": seen.sandbox_workers,
            "zygotes": seen.zygotes,
            "samples": seen.samples}


# ------------------------------------------------------------------------------------------ report
def machine() -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    from autograder.grader.protections import detect

    try:
        otter_version = importlib.metadata.version("otter-grader")
    except importlib.metadata.PackageNotFoundError:
        otter_version = "not installed"
    return [f"{len(os.sched_getaffinity(0))} cores ({model})", f"Python {platform.python_version()}",
            f"otter-grader {otter_version}", f"sandbox profile: {detect().profile}",
            f"CPU of a command counted by {cpu_accounting()}"]


def render(arguments: argparse.Namespace, sizes: Sizes, results: dict, started: datetime, loads: list[float]) -> str:
    command = "python benchmarks/run.py" + (" --quick" if arguments.quick else "") + (
        " --skip-otter" if arguments.skip_otter else "")
    out = ["# Benchmarks", "",
           f"Command: `{command}` (from the repository root), run {started:%Y-%m-%d %H:%M} UTC, "
           f"{(datetime.now(UTC) - started).total_seconds() / 60:.1f} min.",
           "Machine: " + "; ".join(machine()) + ".",
           f"Load average (1 min, every 10 s) during the run: median {statistics.median(loads):.1f}, max "
           f"{max(loads):.1f}, on {len(os.sched_getaffinity(0))} cores; anything above the benchmark's own "
           "load is other work on the machine, and slows every figure.", ""]
    one, two, three, suites, four = (results.get(key) for key in ("per_notebook", "throughput", "fixed", "suites",
                                                                  "memory"))
    batch_count = sum(count for count, _, _ in two["per_slug"].values())
    batch_seconds = sum(seconds for _, seconds, _ in two["per_slug"].values())
    batch_cpu = sum(cpu for _, _, cpu in two["per_slug"].values())
    ours_batch = batch_seconds / batch_count
    otter_mean = statistics.mean(one["otter"]) if one["otter"] else None
    summary = []

    def versus(seconds: float) -> str:
        return f"{otter_mean / seconds:.1f}x" if otter_mean else "n/a"

    # 1
    out += ["## 1. Per notebook: `autograder grade` against `otter run`", "",
            f"The same {one['count']} notebooks ({', '.join(one['slugs'])}; correct and buggy) graded by each tool. "
            "`otter run -a ZIP` uses the autograder zip that `otter assign` builds from the assignment's otter "
            "source; it runs the notebook and the source's tests in a Jupyter kernel (fewer and lighter tests than "
            "the hidden suite). It grades one notebook per command, so its figure is per command.", ""]
    rows = []
    if one["otter"]:
        rows.append(["`otter run`, one command per notebook", str(len(one["otter"])),
                     f"{otter_mean:.2f} s (median {statistics.median(one['otter']):.2f} s)", "1.0x"])
    single = statistics.mean(one["single"])
    rows.append(["`autograder grade --jobs 1`, one command per notebook", str(len(one["single"])),
                 f"{single:.2f} s (median {statistics.median(one['single']):.2f} s)", versus(single)])
    rows.append(["`autograder grade`, the same notebooks as one batch per assignment", str(one["count"]),
                 f"{one['sample_batch']:.2f} s", versus(one["sample_batch"])])
    rows.append([f"`autograder grade`, the {batch_count}-notebook batch of section 2", str(batch_count),
                 f"{ours_batch:.3f} s", versus(ours_batch)])
    out += [table(["how", "notebooks", "wall time per notebook", "faster than otter"], rows), ""]
    if one["otter_missing"]:
        out += [f"otter wrote no results for {one['otter_missing']} notebook(s).", ""]
    if otter_mean:
        otter_cpu = statistics.mean(one["otter_cpu"])
        ours_cpu = batch_cpu / batch_count
        out += [f"CPU per notebook (every process each command starts, as the machine line says): `otter run` "
                f"{otter_cpu:.2f} s, "
                f"`autograder grade` in the {batch_count}-notebook batch {ours_cpu * 1000:.0f} ms "
                f"({otter_cpu / ours_cpu:.1f}x less).", ""]
        summary.append(["per notebook vs `otter run`, in a batch", ">= 20x faster, wall and CPU",
                        f"{otter_mean / ours_batch:.1f}x wall, {otter_cpu / ours_cpu:.1f}x CPU in a batch; "
                        f"{otter_mean / single:.1f}x wall for a single notebook per command",
                        "yes" if min(otter_mean / ours_batch, otter_cpu / ours_cpu) >= 20 else "no"])
    # 2
    out += ["## 2. Batch throughput", "",
            f"{batch_count} notebooks spread evenly over the five assignments, one `autograder grade` command per "
            f"assignment with the default --jobs ({two['jobs']} here); wall time includes each command's start.", ""]
    rows = [[slug, str(count), f"{seconds:.1f} s", ms(cpu / count), f"{count / seconds:.1f}"]
            for slug, (count, seconds, cpu) in two["per_slug"].items()]
    rows.append(["**all**", str(batch_count), f"{batch_seconds:.1f} s", ms(batch_cpu / batch_count),
                 f"**{batch_count / batch_seconds:.1f}**"])
    if "otter" in two:
        count, seconds, missing = two["otter"]
        rows.append([f"`otter run`, two at a time (sample of {count}, extrapolated to {batch_count})", str(count),
                     f"{seconds:.1f} s (extrapolated: {seconds / count * batch_count:.0f} s)", "",
                     f"{count / seconds:.2f}"])
        if missing:
            out += [f"otter wrote no results for {missing} notebook(s) of its sample."]
    out += [table(["assignment", "notebooks", "wall time", "CPU per notebook (all its processes)", "notebooks/s"],
                  rows), ""]
    rate = batch_count / batch_seconds
    summary.append([f"throughput, {batch_count} notebooks, default --jobs", ">= 10 notebooks/s", f"{rate:.1f}/s",
                    "yes" if rate >= 10 else "no"])
    # the floor
    floor_rows = results["floor"]
    out += ["## 2b. CPU per notebook against the floor of the suites' own work", "",
            "The floor: the same notebooks of section 2 graded in this benchmark's process, the hidden suite "
            "calling each notebook's functions directly (`autograder/grader/inprocess.py`: no worker, no pipes, no "
            "callbacks across processes), with one collected pytest session per suite and the reference work the "
            "suites cache kept, as a grading process keeps them; CPU of this process per notebook, after a "
            "warm-up. The batch figure is the CPU of every process the `autograder grade` command starts (grader, "
            "grading processes, zygotes, sandboxed workers; counted as the machine line says) per notebook, "
            "command start included. Measured in the same run, side by side.", ""]
    rows, ratios = [], {}
    round_trip = results["round_trip"]
    for slug, (count, _, cpu) in two["per_slug"].items():
        ratios[slug] = cpu / count / floor_rows[slug]
        crossing = suites[slug]["callbacks"] * round_trip
        rows.append([slug, ms(cpu / count), ms(floor_rows[slug]), f"{ratios[slug]:.2f}x",
                     ms(cpu / count - floor_rows[slug]), f"{suites[slug]['callbacks']:.0f}", ms(crossing),
                     f"{(floor_rows[slug] + crossing) / floor_rows[slug]:.2f}x"])
    out += [table(["assignment", "batch CPU per notebook", "in-process floor", "ratio", "above the floor",
                   "callbacks (reference notebook)", "their bare pipe round trips", "floor + round trips, ratio"],
                  rows), ""]
    out += [f"A callback (the student's code calling a function the grader keeps, such as the reference step "
            f"swapped in) crosses the process boundary twice. The bare round trip of a 150-byte message between "
            f"two Python processes over pipes costs {round_trip * 1e6:.0f} us of CPU here (both sides, measured in "
            "this run): multiplied by the callbacks a correct notebook's suite makes, that is CPU no encoding can "
            "remove while the reference runs outside the student's process. The last column is the ratio that "
            "cost alone puts over the floor.", ""]
    worst = max(ratios, key=ratios.get)
    summary.append(["CPU per notebook vs the in-process floor", "<= 1.5x for every assignment",
                    ", ".join(f"{slug} {ratio:.2f}x" for slug, ratio in ratios.items()),
                    "yes" if ratios[worst] <= 1.5 else f"no ({worst})"])
    # cold start
    cold = results["cold"]
    out += ["## 2c. One notebook per command, command start included", "",
            f"A correct {cold['slug']} notebook, each command run {len(cold['check'])} time(s) from a cold process "
            "(the operating system's file cache is warm). `autograder check` runs the public checks; the "
            "Gradescope run is `python -m autograder.grader.exports.gradescope_run` (what `run_autograder` "
            "calls) on a copy of the course, hidden suite and public checks.", ""]
    rows = [[label, f"{statistics.median(w for w, _ in runs):.2f} s", f"{statistics.median(c for _, c in runs):.2f} s"]
            for label, runs in (("`autograder check`", cold["check"]), ("Gradescope run", cold["gradescope"]))]
    out += [table(["command", "wall (median)", "CPU of all its processes (median)"], rows), ""]
    check_wall = statistics.median(w for w, _ in cold["check"])
    summary.append(["`autograder check`, one notebook, command start included", "< 1 s wall",
                    f"{check_wall:.2f} s (Gradescope run {statistics.median(w for w, _ in cold['gradescope']):.2f} s)",
                    "yes" if check_wall < 1 else "no"])
    # 3
    out += ["## 3. Fixed cost per submission, and the hidden suite through the worker", "",
            f"{three['count']} notebooks of the toy test assignment whose two functions return a constant at once "
            "(the toy suite has five short tests): the cost of starting a sandboxed worker, loading the "
            "notebook, running a tiny suite and storing the result. 'Per notebook' is the command's wall time "
            "divided by the count; 'marginal' subtracts a one-notebook run (the command's own start).", ""]
    rows = [[f"--jobs {label}" if label == "1" else "default --jobs", ms(values["per_notebook"]),
             ms(values["marginal"]), f"{values['one']:.2f} s"] for label, values in
            ((label, three[label]) for label in ("default", "1"))]
    out += [table(["jobs", "per notebook", "marginal per notebook", "one-notebook command"], rows), ""]
    summary.append(["fixed cost per submission", "< 50 ms", f"{ms(three['default']['per_notebook'])} per notebook "
                    f"({ms(three['default']['marginal'])} marginal), default --jobs",
                    "yes" if three["default"]["per_notebook"] < 0.05 else "no"])
    out += ["Hidden suites: each assignment's reference module pasted into a notebook (a module it imports from "
            "`reference/` goes in an earlier cell) is graded twice by the same pytest suite: once through a "
            "sandboxed worker, as every submission is, and once by a stand-in session "
            "(`autograder/grader/inprocess.py`) that runs the same cells in the grading process and calls the "
            "functions directly (no process boundary, no encoding, no callbacks across pipes). The suite "
            "time through the worker excludes the worker's start and the notebook's load (shown apart, and "
            f"counted in the fixed cost above). Medians of {sizes.suite_rounds} round(s) after a warm-up.", ""]
    rows, ratios = [], []
    for slug, row in suites.items():
        ratio = row["through"] / row["inside"]
        ratios.append(ratio)
        scores = ", ".join(f"{where} {score:g}/{top:g}" for where, score, top in row["scores"])
        rows.append([slug, str(row["tests"]), ms(row["start"]), ms(row["through"]), ms(row["inside"]),
                     f"{ratio:.2f}x", f"{(row['start'] + row['through']) / row['inside']:.2f}x", scores])
    out += [table(["assignment", "tests", "worker start + load", "suite through worker", "suite in-process",
                   "ratio", "ratio incl. start", "scores"], rows), ""]
    worst = max(ratios)
    summary.append(["hidden suite through the worker vs in-process", "< 1.5x",
                    f"{statistics.median(ratios):.2f}x median, {worst:.2f}x worst (suite only)",
                    "yes" if worst < 1.5 else "no"])
    # 4
    workers = sorted(four["sandbox_workers"].values())
    grading = sorted(four["grading_processes"].values())
    first_done, first_rss = four["points"][0] if four["points"] else (0, four["grader"][0][1])
    last_done, last_rss = four["points"][-1] if four["points"] else (four["count"], four["grader_last"])
    # Growth while grading (the progress lines' RSS); the outputs written after the last result
    # (grades.csv, report.html, which reads every result back) are a one-off, shown apart.
    growth = (last_rss - first_rss) / 1024
    out += ["## 4. Memory over a long batch", "",
            f"One `autograder grade` of {four['count']} {MEMORY_SLUG} notebooks (default --jobs), "
            f"{four['seconds']:.0f} s ({four['count'] / four['seconds']:.1f} notebooks/s). RSS sampled from /proc "
            f"every 0.2 s ({four['samples']} samples); peaks are each process's VmHWM when last seen (a worker "
            "forked by a zygote shares the pages it inherited, which its RSS counts in full).", ""]
    rows = [["grader process (this command)", f"{first_rss / 1024:.0f} MiB after {first_done} notebooks",
             f"{last_rss / 1024:.0f} MiB after {last_done}; {four['grader_last'] / 1024:.0f} MiB when last seen, "
             "writing grades.csv and report.html", f"{four['grader_max'] / 1024:.0f} MiB"],
            [f"grading processes ({len(grading)})", "", "", f"{grading[-1] / 1024:.0f} MiB" if grading else "n/a"],
            [f"zygotes, sandboxed parents of the workers ({len(four['zygotes'])})", "", "",
             f"{max(four['zygotes'].values()) / 1024:.0f} MiB" if four["zygotes"] else "n/a"],
            [f"sandboxed workers ({len(workers)} sampled)", "",
             f"median {statistics.median(workers) / 1024:.0f} MiB" if workers else "",
             f"{workers[-1] / 1024:.0f} MiB" if workers else "n/a"]]
    out += [table(["process", "first", "last", "peak"], rows), ""]
    if four["points"]:
        marks = [four["points"][round(fraction * (len(four["points"]) - 1))] for fraction in (0, 0.25, 0.5, 0.75, 1)]
        out += ["Grader RSS as the batch goes on: " + ", ".join(f"{done} done: {rss / 1024:.0f} MiB"
                                                                 for done, rss in marks) + ".", ""]
    # Flat means no growth per notebook once the process has warmed up (its first results load modules and
    # fill caches once): the slope from a quarter of the way through to the end.
    steady_done, steady_rss = (four["points"][len(four["points"]) // 4] if four["points"]
                               else (first_done, first_rss))
    per_thousand = (last_rss - steady_rss) / 1024 / max(last_done - steady_done, 1) * 1000
    summary.append(["grader memory over the batch", "flat",
                    f"{first_rss / 1024:.0f} -> {last_rss / 1024:.0f} MiB while grading {four['count']} "
                    f"({growth:+.0f} MiB in all; {per_thousand:+.1f} MiB per 1,000 notebooks after the first "
                    f"{steady_done}); peak {four['grader_max'] / 1024:.0f} MiB writing the report at the end",
                    "yes" if abs(per_thousand) < 5 else "no"])
    # 5
    out += ["## 5. Named costs, before and after, side by side", "",
            "Each cost the performance work removed, timed in this run both ways (`benchmarks/named_costs.py`): "
            "the before is still in the code (a suite collected afresh with no reference result kept, the JSON "
            "form of a frame, an array sent back by value, matplotlib's PNG, numpy's global RNG never built), so "
            "the ratio is measured, not remembered. Suites run in-process on the reference notebook; frames are "
            "encoded and decoded in this process; the seed is timed in fresh interpreters.", ""]
    rows = [[name, f"{before * 1000:.3f} ms", f"{after * 1000:.3f} ms", f"{before / after:.1f}x"]
            for name, (before, after) in results["named"].items()]
    out += [table(["cost", "before", "after", "before / after"], rows), ""]
    return "\n".join([*out[:6], "## Goals", "", table(["goal", "target", "measured", "met"], summary), "", *out[6:]])


def sample_load(loads: list[float], done: threading.Event) -> None:
    while True:
        loads.append(os.getloadavg()[0])
        if done.wait(10):
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every section")
    parser.add_argument("--skip-otter", action="store_true", help="leave out the otter-grader baseline")
    parser.add_argument("--output", type=Path, default=None,
                        help="markdown file to write (default: benchmarks/results.md, none with --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (notebooks and outputs)")
    arguments = parser.parse_args()
    sizes = QUICK if arguments.quick else FULL
    output = arguments.output or (None if arguments.quick else ROOT / "benchmarks" / "results.md")
    started = datetime.now(UTC)
    loads: list[float] = []  # the 1-minute load average every 10 s: other work on the machine skews every figure
    done = threading.Event()
    threading.Thread(target=sample_load, args=(loads, done), daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="autograder-bench-"))
    try:
        zips = None
        if not arguments.skip_otter:
            from benchmarks.otter_baseline import build_autograder_zip

            log("building otter autograder zips with otter assign")
            zips = {slug: build_autograder_zip(slug, work / "otter-assign" / slug) for slug in notebooks.slugs()}
        results = {"per_notebook": per_notebook(work, sizes, zips), "throughput": throughput(work, sizes, zips)}
        results["floor"] = floor(work)
        results["cold"] = cold_start(work, sizes.cold_rounds)
        results.update({"fixed": fixed_cost(work, sizes), "suites": suite_overhead(sizes),
                        "round_trip": pipe_round_trip(), "named": named_costs(), "memory": memory(work, sizes)})
        done.set()
        try:
            report = render(arguments, sizes, results, started, loads or [os.getloadavg()[0]])
        except Exception:
            print(repr(results), file=sys.stderr)  # the measurements took minutes: never lose them
            raise
    finally:
        done.set()
        if arguments.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report)
    if output is not None:
        output.write_text(report, encoding="utf-8")
        log(f"wrote {output}")


if __name__ == "__main__":
    main()
