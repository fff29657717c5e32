"""Shared test settings: the hypothesis profiles.

``python -m pytest`` uses the ``default`` profile below: randomised, 100 examples per
property, every failure printed with its reproduction blob; pass
``--hypothesis-seed=N`` to replay a run (CI prints the seed it used). Set
``HYPOTHESIS_PROFILE=ci`` for the derandomised profile (fixed examples, 60 per property).
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("default", max_examples=100, **_COMMON)
settings.register_profile("ci", derandomize=True, max_examples=60, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
