"""Reporters: Gradescope's results.json and a plain-text report. The only functions of tabular_rl.grading
that write anything."""

import json
import os
import sys

__all__ = ["GRADESCOPE_VISIBILITY", "print_report", "write_gradescope"]

#: The visibility values Gradescope documents for results.json.
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")


def _named(grades):
    """[(test name, Grade)] from a sequence of Grades (named by concept) or a mapping name -> Grade."""
    if hasattr(grades, "items"):
        return [(str(k), g) for k, g in grades.items()]
    return [(g.concept, g) for g in grades]


def _weights(named, weights):
    if weights is None:
        return [1.0] * len(named)
    if hasattr(weights, "items"):
        unknown = sorted(set(weights) - {n for n, _ in named})
        if unknown:
            raise ValueError(f"weights names tests that are not graded: {unknown}; the tests are "
                             f"{[n for n, _ in named]}")
        return [float(weights.get(n, 1.0)) for n, _ in named]
    weights = [float(w) for w in weights]
    if len(weights) != len(named):
        raise ValueError(f"weights must have one entry per grade ({len(named)}), got {len(weights)}")
    return weights


def write_gradescope(grades, path, *, weights=None, visibility="visible"):
    """Write Gradescope's ``results.json`` for a list of grades; return the dict written.

    Each grade becomes one test worth its weight (all or nothing: a concept passes or it does not), with
    the grade's report as its output. The fields are those Gradescope documents for autograder results:
    top level ``score``, ``output``, ``visibility``, ``stdout_visibility`` and ``tests``; per test
    ``name``, ``score``, ``max_score``, ``status`` (``"passed"``/``"failed"``), ``output``,
    ``output_format`` (``"text"``, shown preformatted) and ``visibility``.

    Parameters
    ----------
    grades : sequence of Grade, or mapping test name -> Grade
        A sequence names each test by its concept.
    path : str or path-like
        Where to write (``/autograder/results/results.json`` on Gradescope); parent directories are created.
    weights : mapping test name -> points, or sequence of points, optional
        Default 1 point per test.
    visibility : {"visible", "hidden", "after_due_date", "after_published"}
        Applied to every test and to the submission's stdout.

    Returns
    -------
    dict
        The JSON object written.

    Raises
    ------
    ValueError
        For an unknown visibility, or weights that do not match the grades.

    Examples
    --------
    >>> import json, os, tempfile
    >>> import tabular_rl as trl
    >>> from tabular_rl import grading
    >>> grade = grading.check("ppo_clip_objective", trl.ppo_clip_objective, max_examples=5)
    >>> path = os.path.join(tempfile.mkdtemp(), "results.json")
    >>> results = grading.write_gradescope({"Q3 clipped objective": grade}, path, weights={"Q3 clipped objective": 5})
    >>> with open(path) as f:
    ...     data = json.load(f)
    >>> data["score"], data["tests"][0]["max_score"], data["tests"][0]["status"]
    (5.0, 5.0, 'passed')
    """
    if visibility not in GRADESCOPE_VISIBILITY:
        raise ValueError(f"visibility must be one of {GRADESCOPE_VISIBILITY}, got {visibility!r}")
    named = _named(grades)
    points = _weights(named, weights)
    tests = []
    for (name, grade), w in zip(named, points):
        tests.append(dict(
            name=name,
            score=w if grade.passed else 0.0,
            max_score=w,
            status="passed" if grade.passed else "failed",
            output=grade.report,
            output_format="text",
            visibility=visibility,
        ))
    score = float(sum(t["score"] for t in tests))
    n_passed = sum(g.passed for _, g in named)
    results = dict(
        score=score,
        output=f"{n_passed} of {len(named)} concepts passed; score {score:g} of {sum(points):g}",
        visibility=visibility,
        stdout_visibility=visibility,
        tests=tests,
    )
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    return results


def _headline(grade):
    lines = grade.report.splitlines()
    if len(lines) > 1 and lines[1].strip().startswith("your function "):
        return lines[1].strip()[len("your function "):]
    return lines[0]


def print_report(grades, *, file=None):
    """Print a plain-text report: one line per grade, then each failure's full report.

    Parameters
    ----------
    grades : sequence of Grade, or mapping test name -> Grade
    file : file-like, optional
        Default ``sys.stdout``.

    Examples
    --------
    >>> import tabular_rl as trl
    >>> from tabular_rl import grading
    >>> grades = [grading.check("ppo_clip_objective", trl.ppo_clip_objective, max_examples=5),
    ...           grading.check("gae", lambda r, v, g, lam, term: r, max_examples=5)]
    >>> grading.print_report(grades)                  # doctest: +ELLIPSIS
    ppo_clip_objective                       passed   (... examples)
    gae                                      FAILED   returned a wrong answer
    1 of 2 passed
    <BLANKLINE>
    gae: FAILED (fn(rewards, values, gamma, lambda_, terminated) -> advantages)
    ...
    """
    out = sys.stdout if file is None else file
    named = _named(grades)
    for name, g in named:
        status = f"passed   ({g.n_examples} examples)" if g.passed else "FAILED   " + _headline(g)
        print(f"{name:40s} {status}", file=out)
    print(f"{sum(g.passed for _, g in named)} of {len(named)} passed", file=out)
    for _, g in named:
        if not g.passed:
            print("", file=out)
            print(g.report, file=out)
