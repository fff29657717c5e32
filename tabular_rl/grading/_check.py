"""``check``: drive hypothesis over a concept's inputs, call the student's function under a time limit,
compare with the library's answer, shrink a failure, and diagnose it against the catalogue."""

import concurrent.futures
import dataclasses
import os
import queue
import threading
import traceback
import typing

import numpy as np
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity

from .. import _validation as _v
from ._concepts import Mistake, Variants, get_concept

__all__ = ["Grade", "check"]

#: Default per-call time limit (seconds) for the student's function.
DEFAULT_TIMEOUT = 10.0

#: How many failing inputs (the first ones found) a diagnosis must also explain, besides the counterexample.
_N_SEEN = 8


@dataclasses.dataclass(frozen=True, eq=False)
class Grade:
    """The outcome of :func:`check`: pass or fail, the smallest counterexample, and a report.

    Attributes
    ----------
    concept : str
        The concept's name.
    passed : bool
    n_examples : int
        Inputs the student's function was called on (generated, then shrinking).
    counterexample : dict or None
        The smallest failing input found (argument name -> value), or None if passed.
    expected : object
        The library's answer on the counterexample (None if passed).
    got : object
        The student's answer on it, as an array or float when it could be read as one (None if passed,
        or if the function raised or timed out).
    diagnosis : Mistake or None
        The catalogued mistake whose output matches the student's on the counterexample (and the correct
        answer's does not); ``str(diagnosis)`` is its name and one-line explanation.
    report : str
        Text a student can act on: the inputs, expected vs got, the worst index and its error, the
        identity violated, the diagnosis.
    failure : str or None
        What went wrong: ``"mismatch"``, ``"raised"``, ``"timeout"``, ``"type"``, ``"dtype"``,
        ``"shape"``, ``"nonfinite"``, ``"internal"``; None if passed.
    seed : int
        The seed the inputs were drawn with.

    Examples
    --------
    >>> import tabular_rl as trl
    >>> from tabular_rl import grading
    >>> grade = grading.check("ppo_clip_objective", trl.ppo_clip_objective, max_examples=10)
    >>> grade.passed, grade.counterexample, grade.diagnosis
    (True, None, None)
    >>> grade.assert_passed()
    """

    concept: str
    passed: bool
    n_examples: int
    counterexample: typing.Optional[dict]
    expected: object
    got: object
    diagnosis: typing.Optional[Mistake]
    report: str
    failure: typing.Optional[str] = None
    seed: int = 0

    def assert_passed(self):
        """Raise ``AssertionError`` with the report unless the grade passed (for pytest-based autograders)."""
        if not self.passed:
            raise AssertionError(self.report)

    def __str__(self):
        return self.report


# ----------------------------------------------------------------------------------- internals
@dataclasses.dataclass
class _Failure:
    kind: str
    inputs: dict
    expected: object
    got: object = None
    headline: str = ""
    detail: str = ""
    trace: str = ""
    atol_coef: typing.Optional[float] = None


class _Fail(Exception):
    """A failing example: hypothesis shrinks it."""

    def __init__(self, failure):
        super().__init__(failure.headline)
        self.failure = failure


class _Abort(BaseException):
    """A failure not worth shrinking (a call that hit the time limit: every retry costs the limit).

    A BaseException, so that hypothesis, which shrinks ``Exception`` subclasses, lets it through at once."""

    def __init__(self, failure):
        super().__init__(failure.headline)
        self.failure = failure


class _TimedOut(Exception):
    pass


class _Worker:
    """A daemon thread that runs student calls one at a time (starting a thread per call costs ~0.3 ms)."""

    def __init__(self):
        self.jobs = queue.SimpleQueue()
        threading.Thread(target=self._run, name="tabular_rl.grading student calls", daemon=True).start()

    def _run(self):
        while True:
            fn, args, future = self.jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # SystemExit, KeyboardInterrupt from student code included
                future.set_exception(exc)


_IDLE_WORKERS = []
_IDLE_LOCK = threading.Lock()


def _call(fn, args, timeout):
    """``fn(*args)`` in a daemon worker thread; its result, its exception re-raised, or ``_TimedOut``.

    A call past the limit is abandoned with its worker: Python cannot kill a thread, so a truly stuck call
    keeps running (and holding a core) until the process exits; being a daemon thread, it does not keep the
    process alive. Workers that return are reused.
    """
    with _IDLE_LOCK:
        worker = _IDLE_WORKERS.pop() if _IDLE_WORKERS else None
    if worker is None:
        worker = _Worker()
    future = concurrent.futures.Future()
    worker.jobs.put((fn, args, future))
    # wait() rather than result(timeout): a TimeoutError raised by the student is the student's error
    done, _ = concurrent.futures.wait([future], timeout=timeout)
    if not done:
        future.cancel()
        raise _TimedOut()  # the worker is stuck in the call: never reused
    with _IDLE_LOCK:
        _IDLE_WORKERS.append(worker)
    return future.result()


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _student_args(concept, inputs):
    return tuple(_copy(inputs[k]) for k in concept.arg_names)


_HERE = os.path.dirname(os.path.abspath(__file__))


def _short_trace(exc):
    """The student's frames of the traceback (the grader's and concurrent.futures' dropped), last 4, and the error."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not (os.path.abspath(f.filename).startswith(_HERE)
                      or "concurrent" + os.sep + "futures" in os.path.abspath(f.filename))]
    lines = traceback.format_list(frames[-4:]) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _read_output(concept, value, inputs):
    """The student's return value as float64 (array or float), or (None, kind, message)."""
    if value is None:
        return None, "type", "returned None (a missing return statement?)"
    try:
        arr = np.asarray(value)
    except Exception as exc:  # an object NumPy cannot read
        return None, "type", f"returned a {type(value).__name__}, which is not an array ({exc})"
    shape = tuple(concept.shape_of(inputs))
    what = f"a {type(value).__name__}" + (f" of dtype {arr.dtype}" if isinstance(value, np.ndarray) else "")
    if arr.dtype.kind == "c":
        return None, "dtype", f"returned complex numbers ({what}); the answer is real"
    if arr.dtype.kind not in "fiu":
        return None, "dtype", f"returned {what} (numpy dtype {arr.dtype}); expected real numbers"
    if concept.output == "scalar":
        if arr.shape != ():
            return None, "shape", f"returned an array of shape {arr.shape}; expected a float (shape ())"
    elif concept.output == "policy":
        S, A = shape
        if arr.shape == (S,):
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
                return None, "dtype", (f"returned a float array of shape ({S},) with non-integer entries; "
                                       f"expected integer actions (S,) or probabilities (S, A) = ({S}, {A})")
            if np.any((arr < 0) | (arr >= A)):
                return None, "shape", f"returned actions {arr.tolist()}; actions must lie in [0, {A - 1}]"
            arr = np.eye(A)[arr.astype(np.intp)]
        elif arr.shape != (S, A):
            return None, "shape", (f"returned an array of shape {arr.shape}; expected integer actions ({S},) or "
                                   f"probabilities ({S}, {A})")
    elif arr.shape != shape:
        return None, "shape", f"returned an array of shape {arr.shape}; expected shape {shape}"
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
        return None, "nonfinite", f"returned {arr[idx]!r} at index {idx}; every entry must be finite"
    if concept.output == "policy":
        if np.any(arr < 0) or np.max(np.abs(arr.sum(axis=1) - 1.0), initial=0.0) > 1e-6:
            s = int(np.argmax(np.abs(arr.sum(axis=1) - 1.0) + (arr.min(axis=1) < 0)))
            return None, "shape", (f"returned probabilities whose row {s} is {arr[s].tolist()}; each row must be "
                                   "non-negative and sum to 1")
        arr = arr / arr.sum(axis=1, keepdims=True)
    return (float(arr) if concept.output == "scalar" else arr), None, None


def _compare(concept, expected, got, inputs, rtol, atol):
    """None if ``got`` passes, else (index, message)."""
    if concept.compare_fn is not None:
        return concept.compare_fn(expected, got, inputs, rtol, atol)
    exp = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    err = np.abs(got - exp)
    allowed = atol + rtol * np.abs(exp)
    if np.all(err <= allowed):
        return None
    idx = np.unravel_index(int(np.argmax(err - allowed)), exp.shape) if exp.ndim else ()
    idx = tuple(int(i) for i in idx)
    where = f"at index {idx}: " if exp.ndim else ""
    return idx, (f"{where}expected {float(exp[idx])!r}, got {float(got[idx])!r}: error {err[idx]:.3g} > allowed "
                 f"{allowed[idx]:.3g}"
                 f" ({len(np.flatnonzero(err > allowed))} of {max(err.size, 1)} entries outside the tolerance)")


def _grade_one(concept, fn, inputs, expected, rtol, atol, timeout):
    """None if the student's function is right on ``inputs``, else a ``_Failure``."""
    try:
        value = _call(fn, _student_args(concept, inputs), timeout)
    except _TimedOut:
        return _Failure("timeout", inputs, expected,
                        headline=f"did not return within the time limit of {timeout:g} s (an infinite loop, or far "
                                 "too slow for these small inputs); the input was not shrunk")
    except BaseException as exc:
        return _Failure("raised", inputs, expected, headline=f"raised {type(exc).__name__}: {exc}",
                        trace=_short_trace(exc))
    got, kind, message = _read_output(concept, value, inputs)
    if kind is not None:
        return _Failure(kind, inputs, expected, got=value, headline=message)
    bad = _compare(concept, expected, got, inputs, rtol, atol)
    if bad is None:
        return None
    return _Failure("mismatch", inputs, expected, got=got, headline="returned a wrong answer", detail=bad[1])


def _matches(concept, a, b, rtol, atol):
    if a is None:
        return False
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(a)))


def _mistake_outputs(mistake, inputs):
    """[(label, output)] of a mistake on ``inputs``; [] where it is undefined (e.g. a singular system)."""
    try:
        with np.errstate(all="ignore"):
            out = mistake.fn(dict(inputs))
    except Exception:
        return []
    return list(out.items()) if isinstance(out, Variants) else [("", out)]


def _same(concept, value, got, rtol, atol):
    if concept.output == "policy":
        return _matches(concept, value, got, 0.0, 1e-6)
    return _matches(concept, value, got, rtol, atol)


def _candidates(concept, failure, others, rtol, atol):
    """The catalogued mistakes (with variant labels) whose output matches the student's on the counterexample
    while the correct answer does not, and also on the other failing inputs seen."""
    found = []
    for mistake in concept.mistakes:
        for label, value in _mistake_outputs(mistake, failure.inputs):
            if concept.output == "policy":
                wrong = _compare(concept, failure.expected, value, failure.inputs, rtol, atol) is not None
            else:
                wrong = not _matches(concept, failure.expected, value, rtol, atol)
            if not (wrong and _same(concept, value, failure.got, rtol, atol)):
                continue
            if all(_same(concept, dict(_mistake_outputs(mistake, o.inputs)).get(label), o.got, rtol,
                         concept.tolerance.absolute(o.inputs, o.atol_coef))
                   for o in others):
                found.append((mistake, label))
                break
    return found


class _Decided(BaseException):
    """Stops the disambiguating search once one candidate is left."""


def _disambiguate(concept, fn, found, *, seed, rtol, atol_coef, timeout, max_examples=50):
    """Candidates that coincide on the counterexample are told apart on fresh inputs: a candidate whose output
    differs from the student's on an input where the student's answer is readable is dropped."""
    alive = list(found)

    def one(inputs):
        try:
            value = _call(fn, _student_args(concept, inputs), timeout)
        except _TimedOut:
            raise _Decided() from None  # a slow student makes the search too costly: keep what is known
        except BaseException:
            return
        got, kind, _ = _read_output(concept, value, inputs)
        if kind is not None:
            return
        atol = concept.tolerance.absolute(inputs, atol_coef)
        keep = [(m, lab) for m, lab in alive
                if _same(concept, dict(_mistake_outputs(m, inputs)).get(lab), got, rtol, atol)]
        if keep:  # never drop them all: the student may do something else on this input
            alive[:] = keep
        if len(alive) == 1:
            raise _Decided()

    search = hypothesis.settings(
        derandomize=True, database=None, max_examples=max_examples, deadline=None, print_blob=False,
        verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck), phases=(Phase.generate,),
    )(hypothesis.seed(int(seed) + 1)(hypothesis.given(concept.inputs)(one)))
    try:
        search()
    except _Decided:
        pass
    except Exception:  # hypothesis' own errors: keep what is known
        pass
    return alive


def _fmt_value(value):
    with np.printoptions(floatmode="unique", threshold=100_000, linewidth=110):
        text = repr(value)
    return text.replace("\n", "\n    ")


def _report(concept, failure, diagnosis, label, also, identity, n_examples, seed, tol_text):
    lines = [f"{concept.name}: FAILED ({concept.signature})",
             f"  your function {failure.headline}"]
    if failure.detail:
        lines.append(f"  {failure.detail}")
    if failure.kind == "timeout":
        lines.append(f"  the input it did not return on (example {n_examples}, seed {seed}):")
    else:
        lines.append(f"  smallest input found (after {n_examples} examples, seed {seed}):")
    for k, v in failure.inputs.items():
        if not k.startswith("_"):
            lines.append(f"    {k} = {_fmt_value(v)}")
    lines.append(f"  expected ({concept.reference}):")
    lines.append(f"    {_fmt_value(failure.expected)}")
    if failure.kind not in ("raised", "timeout"):
        lines.append("  got:")
        lines.append(f"    {_fmt_value(failure.got)}")
    if failure.trace:
        lines.append("  traceback (last lines):")
        lines += ["    " + ln for ln in failure.trace.splitlines()]
    if identity:
        lines.append(f"  identity: {identity}")
    scale = 1.0 if concept.tolerance.scale_of is None else concept.tolerance.scale_of(failure.inputs)
    if failure.kind == "mismatch":
        lines.append(f"  tolerance: {tol_text}; scale = {scale:.6g} on this input")
    if diagnosis is not None:
        suffix = f" (matches: {label})" if label else ""
        lines.append(f"  diagnosis: {diagnosis}{suffix}")
        if also:
            lines.append(f"  (these known mistakes gave the same outputs on every input tried: {', '.join(also)})")
    elif failure.kind == "mismatch":
        lines.append("  diagnosis: none of the known mistakes for this concept matches your output; compare the "
                     "expected and got values above at the worst index")
    lines.append(f"  conventions: {concept.layouts}")
    return "\n".join(lines)


def _safe_caller(concept, fn, timeout):
    def call(inputs):
        try:
            value = _call(fn, _student_args(concept, inputs), timeout)
        except BaseException:
            return None
        got, kind, _ = _read_output(concept, value, inputs)
        return None if kind else got

    return call


def check(concept, student_fn, *, max_examples=200, seed=0, rtol=None, atol=None, timeout=DEFAULT_TIMEOUT):
    """Grade ``student_fn`` on a concept: search for an input where it disagrees with the library.

    Hypothesis draws up to ``max_examples`` inputs of the concept (derandomised by ``seed``: the same
    seed gives the same Grade), calls ``student_fn`` on plain NumPy arrays (fresh copies each call, in the
    order of the concept's signature), compares the answer with the library's under the concept's
    tolerance, and shrinks the first failure to a small counterexample. The catalogued mistakes are then
    tried on it: the first whose output matches the student's within the tolerance, while the correct
    answer does not, is the diagnosis. So that a mistake which merely coincides with the student's answer
    on a tiny counterexample is not named, it must also match on the first failing inputs found before
    shrinking; if several still match, a short search on fresh inputs (``seed + 1``) tells them apart, and
    any that remain are listed in the report.

    The student's function runs in a daemon thread with a per-call time limit ``timeout``. A call past
    the limit fails the grade at once (that input is not shrunk, since every retry would cost the limit)
    and is abandoned: Python cannot stop a thread, so a truly stuck call keeps running (holding a core and
    competing for the GIL) until the process exits; being a daemon thread, it does not keep the process
    alive. Grade each submission in its own process (Gradescope runs one container per submission). A
    thread rather than a subprocess: any callable can be graded (lambdas, closures, notebook functions,
    which a subprocess would have to pickle), and a call costs microseconds, not milliseconds.

    Exceptions (even ``SystemExit``), a non-array or ``None`` return, the wrong shape, an object, boolean
    or complex dtype, and NaN or inf all give a failed Grade with a report; nothing the student's code
    does escapes as an exception, and nothing is printed.

    Parameters
    ----------
    concept : str or Concept
        A name from :func:`concepts`.
    student_fn : callable
        Called as the concept's signature says; wrap another signature in a lambda.
    max_examples : int
        Inputs to generate (shrinking a failure tries more).
    seed : int
        Seed of the input search.
    rtol : float, optional
        Relative tolerance; default the concept's (``concept.tolerance.rtol``).
    atol : float, optional
        Absolute tolerance **per unit of the concept's scale** (``concept.tolerance.scale``, e.g.
        (1 + max|R|) / (1 - gamma) for values); default the concept's coefficient.
    timeout : float
        Seconds allowed per call of ``student_fn``.

    Returns
    -------
    Grade

    Raises
    ------
    KeyError
        If ``concept`` is not a known concept name.
    TypeError
        If ``student_fn`` is not callable.
    ValueError
        If ``max_examples`` < 1, ``timeout`` <= 0 or a tolerance is negative.

    Examples
    --------
    >>> import numpy as np
    >>> import tabular_rl as trl
    >>> from tabular_rl import grading
    >>> def gae(rewards, values, gamma, lambda_, terminated):          # forgets the terminations
    ...     return trl.gae(rewards, values, gamma, lambda_)
    >>> grade = grading.check("gae", gae, max_examples=20)
    >>> grade.passed, grade.diagnosis.name
    (False, 'bootstrap_through_terminations')
    >>> grade.counterexample["terminated"]
    array([ True])
    """
    c = get_concept(concept)
    if not callable(student_fn):
        raise TypeError(f"student_fn must be callable, got {type(student_fn).__name__}")
    max_examples = _v.check_int(max_examples, "max_examples", min_value=1)
    seed = _v.check_int(seed, "seed")
    timeout = _v.check_real(timeout, "timeout", low=0.0, low_open=True)
    tol = c.tolerance
    rtol = tol.rtol if rtol is None else _v.check_real(rtol, "rtol", low=0.0)
    atol = None if atol is None else _v.check_real(atol, "atol", low=0.0)
    state = dict(n=0, last=None, seen=[])

    def one(inputs):
        state["n"] += 1
        expected = c.expected_fn(inputs)
        failure = _grade_one(c, student_fn, inputs, expected, rtol, tol.absolute(inputs, atol), timeout)
        if failure is None:
            return
        state["last"] = failure
        if failure.kind == "mismatch" and len(state["seen"]) < _N_SEEN:
            failure.atol_coef = atol
            state["seen"].append(failure)
        if failure.kind == "timeout":
            raise _Abort(failure)
        raise _Fail(failure)

    runner = hypothesis.settings(
        derandomize=True, database=None, max_examples=int(max_examples), deadline=None, print_blob=False,
        verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )(hypothesis.seed(int(seed))(hypothesis.given(c.inputs)(one)))

    failure, note = None, ""
    try:
        runner()
    except (_Fail, _Abort) as exc:
        failure = exc.failure
    except Exception as exc:  # hypothesis' own errors (e.g. a flaky function) never escape
        failure = state["last"]
        if failure is not None:
            note = (f"note: your function did not fail the same way when called again on this input "
                    f"(hypothesis: {type(exc).__name__}); is it nondeterministic or does it keep state?")
        else:
            report = (f"{c.name}: FAILED: the grader could not complete ({type(exc).__name__}: {exc}); this is not "
                      "your code's fault, tell the course staff")
            return Grade(c.name, False, state["n"], None, None, None, None, report, "internal", int(seed))
    tol_text = (f"{tol.name}, |got - expected| <= {atol if atol is not None else tol.atol:g} * scale "
                f"+ {rtol:g} * |expected| with scale = {tol.scale}")
    if failure is None:
        report = f"{c.name}: passed on {state['n']} examples (seed {seed}; tolerance {tol_text})"
        return Grade(c.name, True, state["n"], None, None, None, None, report, None, int(seed))
    abs_tol = c.tolerance.absolute(failure.inputs, atol)
    diagnosis, label, also = None, "", []
    if failure.kind == "mismatch":
        found = _candidates(c, failure, state["seen"], rtol, abs_tol)
        if len(found) > 1:
            found = _disambiguate(c, student_fn, found, seed=seed, rtol=rtol, atol_coef=atol, timeout=timeout)
        if found:
            (diagnosis, label), also = found[0], [m.name for m, _ in found[1:]]
    identity = ""
    if failure.kind == "mismatch" and c.identity is not None:
        try:
            identity = c.identity(failure.inputs, failure.got, _safe_caller(c, student_fn, timeout))
        except Exception:  # the identity is a hint; never let it break the grade
            identity = ""
    report = _report(c, failure, diagnosis, label, also, identity, state["n"], seed, tol_text)
    if note:
        report += "\n  " + note
    counterexample = {k: v for k, v in failure.inputs.items() if not k.startswith("_")}
    return Grade(c.name, False, state["n"], counterexample, failure.expected, failure.got, diagnosis, report,
                 failure.kind, int(seed))
