"""Grade one submission of the example assignment with tabular_rl.grading.

    python grade.py SUBMISSION_DIR RESULTS_JSON

Imports SUBMISSION_DIR/assignment.py (the stub students fill in), checks each question's function against
the library's exact answer, writes Gradescope's results.json and prints the plain-text report.
GRADING_MAX_EXAMPLES (default 200) sets the number of inputs per question.
"""

import importlib.util
import os
import sys
import threading
import traceback

from tabular_rl import grading

#: test name -> (concept, adapter from the stub's function to the concept's signature, points).
#: The stub calls GAE's lambda `lam`; the concept passes it positionally, so the adapter is the identity
#: here; a student signature in another order or with keywords needs a one-line lambda, e.g.
#: lambda r, v, g, l, term: module.gae(r, v, gamma=g, lam=l, terminated=term).
QUESTIONS = {
    "Q1 GAE": ("gae", lambda module: lambda r, v, g, l, term: module.gae(r, v, g, l, term), 5),
    "Q2 policy evaluation": ("policy_evaluation", lambda module: module.policy_evaluation, 5),
}


def _failed(concept, message):
    return grading.Grade(concept, False, 0, None, None, None, None, f"{concept}: FAILED\n  {message}", "missing")


def _import(path, timeout=60.0):
    """Import the submission in a daemon thread (its top-level code may loop): (module, None) or (None, error)."""
    result = {}

    def run():
        try:
            spec = importlib.util.spec_from_file_location("submission", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            result["module"] = module
        except BaseException:
            result["error"] = traceback.format_exc(limit=-3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None, f"importing {os.path.basename(path)} did not finish within {timeout:g} s"
    return result.get("module"), result.get("error")


def main(submission_dir, results_path):
    max_examples = int(os.environ.get("GRADING_MAX_EXAMPLES", "200"))
    path = os.path.join(submission_dir, "assignment.py")
    module, error = (None, "no assignment.py in the submission") if not os.path.exists(path) else _import(path)
    grades = {}
    for name, (concept, adapter, _) in QUESTIONS.items():
        if module is None:
            grades[name] = _failed(concept, f"the submission could not be imported:\n{error}")
            continue
        try:
            fn = adapter(module)
            if not callable(fn):
                raise AttributeError(f"{fn!r} is not a function")
        except Exception as exc:
            grades[name] = _failed(concept, f"the function is missing: {exc}")
            continue
        grades[name] = grading.check(concept, fn, max_examples=max_examples, seed=0)
    grading.write_gradescope(grades, results_path, weights={name: q[2] for name, q in QUESTIONS.items()})
    grading.print_report(grades)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
