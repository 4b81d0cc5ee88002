"""Hidden suite: random_restarts.

Expected values come from ``reference.random_restarts`` run at test time on the same problem
functions (``problems.py``) the student's code receives, and from replaying
``np.random.default_rng(seed)`` through the grader's copy of the init function.

Two kinds of start points keep the checks apart. Tests of the generator use random inits
(``uniform_init``, ``normal_init``). Tests of stepping, validating and selecting use
``cycling_init``, which hands out known points in turn and ignores the generator: a generator bug
then costs the generator tests only, and those tests give the same score on every run even for
code that draws from an unseeded generator. ``init_fn`` must be rebuilt in the worker (a generator
cannot travel to the grader), so to watch its calls a test binds a grader callable as the init's
``report`` argument: the worker's init function tells the grader every start it draws, in order.
"""

import numpy as np
import pytest

from autograder import checks
from autograder.grader.once_per_process import remembered
from autograder.grader.session import StudentCodeError
from reference import random_restarts as reference

# The reference's answer on the grader's problems is the same for every submission: computed once per
# grading process (when its inputs are plain data: not for recorders or a counting init_fn).
reference_restarts = remembered(reference.random_restarts)

# The double well of the lecture notes: training tilts it one way, validation the other, so the two
# losses rank the wells differently. Training minima near -1.0575 and 0.9304; the basin boundary is
# the middle root of 4 w^3 - 4 w + 0.5 = 0 (about 0.1271).
TRAIN_TILT, VAL_TILT = 0.5, -0.5
BASIN_BOUNDARY = float(np.sort(np.roots([4.0, 0.0, -4.0, TRAIN_TILT]).real)[1])

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


class SuiteProblem(Exception):
    """The test's data no longer gives the situation it needs (a grader fault, not the student's)."""


def double_well(problems, tilt=TRAIN_TILT, val_tilt=VAL_TILT):
    """(train_loss, train_grad, val_loss) of a tilted double well."""
    return (problems.bind("double_well_loss", tilt=tilt),
            problems.bind("double_well_grad", tilt=tilt),
            problems.bind("double_well_loss", tilt=val_tilt))


def uniform_init(problems, size=1, report=None):
    if report is None:
        return problems.bind("uniform_init", low=-2.0, high=2.0, size=size)
    return problems.bind("uniform_init", low=-2.0, high=2.0, size=size, report=report)


def cycling_init(problems, points):
    """A fresh init_fn handing out ``points`` in turn: bind it anew for every call, as it keeps count."""
    return problems.bind("cycling_init", points=np.array(points, dtype=float), counter=[0])


def replay_starts(init, seed, n_restarts):
    """The starts a correct solution draws: one generator, init_fn called once per restart."""
    rng = np.random.default_rng(seed)
    return [np.asarray(init(rng), dtype=float) for _ in range(n_restarts)]


def descend(grad, w0, lr, n_iters):
    w = np.array(w0, dtype=float)
    for _ in range(n_iters):
        w = w - lr * np.asarray(grad(w), dtype=float)
    return w


def call_text(n_restarts, lr, n_iters, seed):
    seed_text = "" if seed is None else f", seed={seed}"
    return f"random_restarts(..., n_restarts={n_restarts}, lr={lr}, n_iters={n_iters}{seed_text})"


def unpack(result, what, n_restarts):
    """``(best_w, val_losses)`` as arrays, with a clear failure for a wrong shape of answer."""
    if not (isinstance(result, tuple | list) and len(result) == 2):
        raise AssertionError(f"{what} should return a pair (best_w, val_losses); got {checks.brief(result)}.")
    best_w = checks.as_array(result[0], f"best_w of {what}")
    losses = result[1]
    if isinstance(losses, list | tuple):
        # A list of numbers may hold 0-d arrays (np.asarray(val_loss(w))), which reach the grader as
        # arrays of shape (1,): take every entry as one number.
        losses = [checks.as_float(value, f"val_losses[{i}] of {what}") for i, value in enumerate(losses)]
    val_losses = checks.assert_losses_list(losses, f"val_losses of {what}", length=n_restarts)
    return best_w, val_losses


class EventLog:
    """An ordered record of the grader-side calls made during one call to the student's code."""

    def __init__(self):
        self.events = []

    MAX_EVENTS = 20_000  # student code decides how often it calls: far more than any correct solution needs

    def recorder(self, kind, function=None):
        def record(w):
            if len(self.events) >= self.MAX_EVENTS:
                raise checks.CallBudgetExceeded(f"the functions given were called more than {self.MAX_EVENTS:,} "
                                                "times; a correct solution needs far fewer calls")
            point = np.array(w, dtype=float, copy=True)
            self.events.append((kind, point))
            return None if function is None else function(point)
        return record

    def points(self, kind):
        return [point for event, point in self.events if event == kind]


# ----------------------------------------------------------------------------------- double well
# Starts on both sides of the basin boundary; the first and the last end in the left well.
DW_STARTS = [[-1.6], [0.45], [-0.3], [1.7], [0.9], [-0.8]]
DW_LR, DW_ITERS, DW_SEED = 0.05, 100, 4


def double_well_case(problems):
    """The reference answer and the trained points, after checking the starts give the needed mix."""
    train_loss, train_grad, val_loss = double_well(problems)
    expected = reference_restarts(train_loss, train_grad, val_loss, cycling_init(problems, DW_STARTS),
                                         len(DW_STARTS), DW_LR, DW_ITERS, seed=DW_SEED)
    finals = [descend(train_grad, w0, DW_LR, DW_ITERS) for w0 in DW_STARTS]
    right = [float(w[0]) > BASIN_BOUNDARY for w in finals]
    best = int(np.argmin(expected[1]))
    by_training = int(np.argmin([train_loss(w) for w in finals]))
    if not (right[best] and not right[by_training] and not right[0] and not right[-1]):
        raise SuiteProblem(f"the double-well starts no longer end in the wells this test needs ({right}).")
    return (train_loss, train_grad, val_loss), expected, finals


@pytest.mark.graded("random_restarts", points=1, states=[
    "which returns `(best_w, val_losses)`:",
    "`val_losses[i]` is `val_loss` (a float) at the final point of run `i`."])
def test_double_well_val_losses(submission, problems, feedback):
    """val_losses holds the validation loss of each restart's trained point, in restart order"""
    (train_loss, train_grad, val_loss), expected, _ = double_well_case(problems)
    n_restarts = len(DW_STARTS)
    what = call_text(n_restarts, DW_LR, DW_ITERS, DW_SEED)
    result = submission.random_restarts(train_loss, train_grad, val_loss, cycling_init(problems, DW_STARTS),
                                        n_restarts, DW_LR, DW_ITERS, seed=DW_SEED)
    _, val_losses = unpack(result, what, n_restarts)
    feedback.values("validation loss per restart on the double well", student=val_losses, reference=expected[1],
                    categories=[f"start {w0[0]:g}" for w0 in DW_STARTS], y_label="validation loss")
    checks.assert_close(val_losses, expected[1], f"val_losses of {what}", rtol=1e-9, atol=1e-12,
                        inputs=f"a double well, init_fn handing out the starts {np.ravel(DW_STARTS).tolist()}")


@pytest.mark.graded("random_restarts", points=2, states=[
    "`best_w` is the final point with the lowest validation loss",
    "``best_w`` is the final point with the lowest validation loss"])
def test_double_well_selects_by_validation(submission, problems):
    """best_w is the trained point with the lowest VALIDATION loss (training ranks the wells the other way)"""
    (train_loss, train_grad, val_loss), expected, finals = double_well_case(problems)
    n_restarts = len(DW_STARTS)
    what = call_text(n_restarts, DW_LR, DW_ITERS, DW_SEED)
    result = submission.random_restarts(train_loss, train_grad, val_loss, cycling_init(problems, DW_STARTS),
                                        n_restarts, DW_LR, DW_ITERS, seed=DW_SEED)
    best_w, _ = unpack(result, what, n_restarts)
    best_w = checks.as_array(best_w, f"best_w of {what}", shape=(1,))
    if best_w[0] < BASIN_BOUNDARY:
        raise AssertionError(
            f"best_w of {what} is {best_w[0]:.6g}, in the left well, which has the lower TRAINING loss; the "
            f"trained points {checks.brief(np.concatenate(finals))} reach both wells, and the right one "
            f"(near {float(expected[0][0]):.6g}) has the lower validation loss. Choose best_w by val_loss.")
    checks.assert_close(best_w, expected[0], f"best_w of {what}", rtol=1e-8, atol=1e-12,
                        inputs=f"a double well, init_fn handing out the starts {np.ravel(DW_STARTS).tolist()}")


# -------------------------------------------------------------------------------------- the seed
@pytest.mark.graded("random_restarts", points=0.5, states=[
    "Use `rng` for nothing else (and never numpy's global random state), so the starts depend only on `seed`."])
@pytest.mark.parametrize("seed", [None, 5, 2024], ids=["default seed", "seed=5", "seed=2024"])
def test_results_follow_the_seed(submission, problems, seed):
    """draws every start from one np.random.default_rng(seed), whatever numpy's global state"""
    train_loss, train_grad, val_loss = double_well(problems)
    init = uniform_init(problems)
    n_restarts, lr, n_iters = 4, 0.05, 20
    kwargs = {} if seed is None else {"seed": seed}
    expected = reference_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, **kwargs)
    what = call_text(n_restarts, lr, n_iters, seed)
    if seed is None:
        what += " without a seed argument (so seed=0)"
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, **kwargs)
    # val_losses alone pin down every start; best_w is the selection tests' business.
    _, val_losses = unpack(result, what, n_restarts)
    checks.assert_close(val_losses, expected[1], f"val_losses of {what}", rtol=1e-9, atol=1e-12,
                        inputs="starts init_fn(rng) from a single rng = np.random.default_rng(seed), U[-2, 2]")


@pytest.mark.graded("random_restarts", points=1, states=[
    "Create one generator `rng = np.random.default_rng(seed)` and, for each of the `n_restarts` runs in turn, draw "
    "the start `w = init_fn(rng)`."])
def test_init_fn_called_once_per_restart(submission, problems):
    """calls init_fn(rng) exactly once per restart, each call drawing the next start from one generator"""
    # The starts are judged by what the calls draw, not by when they happen: drawing all starts before
    # training gives the same starts, since the generator serves init_fn only.
    n_restarts, lr, n_iters, seed = 4, 0.05, 3, 13
    train_loss, train_grad, val_loss = double_well(problems)
    log = EventLog()
    init = uniform_init(problems, size=2, report=log.recorder("init"))
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, seed=seed)
    starts = log.points("init")
    assert len(starts) == n_restarts, (
        f"{what} called init_fn {len(starts)} times; it should call it exactly once per restart "
        f"({n_restarts} times), each call drawing the next start from the same generator.")
    expected = replay_starts(uniform_init(problems, size=2), seed, n_restarts)
    for i, (got, want) in enumerate(zip(starts, expected, strict=True)):
        checks.assert_close(got, want, f"{what}: start {i} drawn by init_fn", rtol=0, atol=1e-15,
                            inputs=f"call {i + 1} of init_fn(rng) with rng = np.random.default_rng({seed}), "
                                   "init_fn drawing from U[-2, 2]")
    # The points go with the answer: drawing the starts right and returning anything else earns nothing.
    best_w, val_losses = unpack(result, what, n_restarts)
    expected_best, expected_losses = reference_restarts(train_loss, train_grad, val_loss,
                                                               uniform_init(problems, size=2), n_restarts, lr,
                                                               n_iters, seed=seed)
    checks.assert_close(val_losses, expected_losses, f"val_losses of {what}", rtol=1e-10)
    checks.assert_close(best_w, expected_best, f"best_w of {what}", rtol=1e-10)


# ------------------------------------------------------------------------------- the procedure
@pytest.mark.graded("random_restarts", points=1.5, states=[
    "From each start take exactly `n_iters` plain gradient steps `w = w - lr * train_grad(w)` (no early stop).",
    "`val_losses[i]` is `val_loss` (a float) at the final point of run `i`."])
def test_steps_and_validation_points(submission, problems):
    """takes exactly n_iters plain gradient steps from each start and validates the trained point"""
    starts = [[0.3, -1.2], [1.5, 0.2], [-0.7, 0.9]]
    n_restarts, lr, n_iters, seed = len(starts), 0.05, 5, 21
    train_loss, train_grad, val_loss = double_well(problems)
    log = EventLog()
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, log.recorder("grad", train_grad), log.recorder("val", val_loss),
                                        cycling_init(problems, starts), n_restarts, lr, n_iters, seed=seed)
    best_w, val_losses = unpack(result, what, n_restarts)
    finals = [descend(train_grad, w0, lr, n_iters) for w0 in starts]
    validated = log.points("val")

    def seen(point):
        return any(np.allclose(v, point, rtol=1e-12, atol=1e-14) for v in validated)

    for i, final in enumerate(finals):
        if not seen(final):
            hint = ""
            if seen(np.array(starts[i])):
                hint = " It was called at the start w0 instead: validate after the steps."
            elif seen(descend(train_grad, starts[i], lr, n_iters - 1)):
                hint = f" It was called after {n_iters - 1} steps instead: take exactly n_iters steps."
            raise AssertionError(
                f"{what}: restart {i} starts at {checks.brief(np.array(starts[i]))} and {n_iters} steps "
                f"w = w - lr * train_grad(w) lead to {checks.brief(final)}, but val_loss was never called "
                f"there (it was called at {checks.brief(np.array(validated))}).{hint}")
    distinct = checks.distinct_points(log.points("grad"))
    assert len(distinct) >= n_restarts * n_iters, (
        f"{what} evaluated train_grad at {len(distinct)} different points; {n_restarts} restarts of "
        f"{n_iters} steps need {n_restarts * n_iters}.")
    expected_vals = [val_loss(w) for w in finals]
    checks.assert_close(val_losses, expected_vals, f"val_losses of {what}", rtol=1e-10, atol=1e-14,
                        inputs="val_losses[i] = val_loss(w_i) for the trained point w_i of restart i")
    checks.assert_close(best_w, finals[int(np.argmin(expected_vals))], f"best_w of {what}", rtol=1e-10,
                        atol=1e-14)


@pytest.mark.graded("random_restarts", points=1, states=["on a tie, the earliest run wins", "(the earliest on a tie)."])
def test_first_restart_wins_a_tie(submission, problems):
    """on equal validation losses, best_w is the FIRST restart's trained point"""
    # Starts +-0.6 on even losses: the runs are exact mirror images, so every validation loss is equal
    # to the last bit while the trained points differ in sign.
    starts = [[0.6], [-0.6], [0.6], [-0.6], [-0.6]]
    n_restarts, lr, n_iters, seed = len(starts), 0.05, 10, 2
    train_loss, train_grad, val_loss = double_well(problems, tilt=0.0, val_tilt=0.0)
    expected = reference_restarts(train_loss, train_grad, val_loss, cycling_init(problems, starts),
                                         n_restarts, lr, n_iters, seed=seed)
    if len(set(expected[1])) != 1:
        raise SuiteProblem(f"the mirrored restarts no longer tie exactly (val losses {expected[1]}).")
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, cycling_init(problems, starts),
                                        n_restarts, lr, n_iters, seed=seed)
    best_w, _ = unpack(result, what, n_restarts)
    best_w = checks.as_array(best_w, f"best_w of {what}", shape=(1,))
    if best_w[0] < 0:
        raise AssertionError(
            f"{what}: all {n_restarts} restarts have the same validation loss {expected[1][0]:.10g} (starts "
            f"{np.ravel(starts).tolist()} on an even loss); best_w should be the first restart's point "
            f"{float(expected[0][0]):.10g}, got {best_w[0]:.10g}. Keep the earliest restart on a tie "
            "(compare with <, not <=).")
    checks.assert_close(best_w, expected[0], f"best_w of {what} (all validation losses equal)", rtol=1e-10,
                        atol=1e-14)


# ------------------------------------------------------------------------ types, NaN and errors
@pytest.mark.graded("random_restarts", points=0.5, states=[
    "Weights may be floats or arrays: return a float `best_w` when the starts are floats."])
def test_float_starts_give_a_float(submission, problems):
    """returns a float best_w when the starts are floats"""
    starts = [0.4, -1.3, 1.1]
    n_restarts, lr, n_iters, seed = len(starts), 0.05, 20, 3
    train_loss, train_grad, val_loss = double_well(problems)

    def init():
        return problems.bind("cycling_float_init", points=np.array(starts), counter=[0])

    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, init(), n_restarts, lr, n_iters, seed=seed)
    expected_best, expected_losses = reference_restarts(train_loss, train_grad, val_loss, init(), n_restarts,
                                                               lr, n_iters, seed=seed)
    if not (isinstance(result, tuple | list) and len(result) == 2):
        raise AssertionError(f"{what} should return a pair (best_w, val_losses); got {checks.brief(result)}.")
    best_w = checks.assert_float(result[0], f"{what} with float starts {starts} (its best_w)")
    checks.assert_close(best_w, expected_best, f"best_w of {what} with float starts", rtol=1e-10)
    checks.assert_close(unpack(result, what, n_restarts)[1], expected_losses, f"val_losses of {what}", rtol=1e-10)


@pytest.mark.graded("random_restarts", points=0.5, states=[
    "Never modify an array that `init_fn` returned in place (`w = w - ...`, not `w -= ...`)."])
def test_starts_are_never_changed(submission, problems):
    """never changes an array init_fn returned: every run starts from what init_fn gave"""
    # This init_fn hands out the same array object every time; a run that updates w in place (w -= ...)
    # moves the start of every later run.
    n_restarts, lr, n_iters, seed = 3, 0.05, 15, 4
    train_loss, train_grad, val_loss = double_well(problems)
    init = problems.bind("fixed_init", start=np.array([0.3]))
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, seed=seed)
    _, val_losses = unpack(result, what, n_restarts)
    _, expected = reference_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, seed=seed)
    checks.assert_close(val_losses, expected, f"val_losses of {what}", rtol=1e-10,
                        inputs="an init_fn that returns the same array [0.3] every time (all runs must start "
                               "there: w = w - lr * g, never w -= lr * g on the array init_fn returned)")


@pytest.mark.graded("random_restarts", points=0.5, states=[
    "and a NaN validation loss counts as worse than any number."])
def test_nan_validation_loss_is_worse_than_any_number(submission, problems):
    """counts a NaN validation loss as worse than any number"""
    starts = [[-1.2], [0.8], [-0.4], [1.5]]  # runs 0 and 2 end in the left well, where val_loss is NaN
    n_restarts, lr, n_iters, seed = len(starts), 0.05, 60, 5
    train_loss, train_grad, _ = double_well(problems)
    val_loss = problems.bind("double_well_loss_nan_left", tilt=VAL_TILT)
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, cycling_init(problems, starts), n_restarts,
                                        lr, n_iters, seed=seed)
    expected_best, _ = reference_restarts(train_loss, train_grad, val_loss, cycling_init(problems, starts),
                                                 n_restarts, lr, n_iters, seed=seed)
    best_w, _ = unpack(result, what, n_restarts)
    checks.assert_close(best_w, expected_best, f"best_w of {what}", rtol=1e-10,
                        inputs="a validation loss that is NaN for runs 0 and 2 (NaN loses to every number)")


@pytest.mark.graded("random_restarts", points=0.5, states=["Raise a `ValueError` if `n_restarts < 1`."])
def test_fewer_than_one_restart_is_refused(submission, problems):
    """raises a ValueError if n_restarts < 1"""
    train_loss, train_grad, val_loss = double_well(problems)
    for n_restarts in (0, -2):
        try:
            got = submission.random_restarts(train_loss, train_grad, val_loss, uniform_init(problems), n_restarts,
                                             0.05, 5, seed=1)
        except StudentCodeError as error:
            assert "raised ValueError" in str(error), f"random_restarts(..., n_restarts={n_restarts}, ...) raised " \
                                                      f"something other than a ValueError: {error}"
            continue
        raise AssertionError(f"random_restarts(..., n_restarts={n_restarts}, ...) returned {checks.brief(got)}; it "
                             "should raise a ValueError.")


# -------------------------------------------------------------------------------------------- XOR
@pytest.mark.graded("random_restarts", points=1.5, visibility="after_due_date", states=[
    "Run gradient descent from ``n_restarts`` random starts; return ``(best_w, val_losses)``."])
def test_xor_network_restarts_find_a_solution(submission, problems, feedback):
    """on XOR with a 2-2-1 tanh network, where single starts often fail, finds a near-zero loss"""
    n_restarts, lr, n_iters, seed = 8, 0.5, 2000, 2
    train_loss = problems.bind("xor_loss", X=XOR_X, y=XOR_Y)
    train_grad = problems.bind("xor_grad", X=XOR_X, y=XOR_Y)
    val_loss = problems.bind("xor_loss", X=XOR_X.copy(), y=XOR_Y.copy())
    init = problems.bind("normal_init", scale=2.0, size=9)
    expected = reference_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, seed=seed)
    solved = np.asarray(expected[1]) < 1e-10
    if not (solved.any() and not solved.all() and not solved[0] and not solved[-1]):
        raise SuiteProblem(f"seed {seed} no longer mixes solved and failed XOR runs as this test needs "
                           f"(val losses {expected[1]}); pick another seed.")
    what = call_text(n_restarts, lr, n_iters, seed)
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, n_restarts, lr, n_iters, seed=seed)
    best_w, val_losses = unpack(result, what, n_restarts)
    feedback.values("validation loss per restart on XOR (log scale; solved runs sit near 1e-31)",
                    student=val_losses, reference=expected[1], log=True, y_label="validation loss",
                    categories=[f"restart {i}" for i in range(n_restarts)])
    # 2,000 steps on a non-convex loss amplify round-off, and the solved runs all sit near 1e-31:
    # compare with an absolute floor, and judge best_w by its loss rather than by which solved run it is.
    checks.assert_close(val_losses, expected[1], f"val_losses of {what}", rtol=1e-6, atol=1e-10,
                        inputs="a 2-2-1 tanh network on the 4 XOR points, starts from N(0, 2^2)")
    best_w = checks.as_array(best_w, f"best_w of {what}", shape=(9,))
    best_loss = val_loss(best_w)
    assert best_loss <= min(expected[1]) + 1e-10, (
        f"best_w of {what} has validation loss {best_loss:.6g}, but {int(solved.sum())} of the {n_restarts} "
        f"restarts reach {min(expected[1]):.3g}; best_w should be the trained point with the lowest val loss.")
