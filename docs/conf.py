"""Sphinx configuration: API reference (autosummary + numpydoc), the user guide and the README
(MyST Markdown), the tour (run at build time) and the example gallery (sphinx-gallery).

Build from the repository root with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import os
import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the package of this checkout, whatever else is installed.
sys.path.insert(0, str(ROOT))

import tabular_rl  # noqa: E402

project = "tabular_rl"
author = "tabular_rl contributors"
copyright = "tabular_rl contributors"
version = release = tabular_rl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "KNOWN_WARNINGS.txt", "auto_examples/*.ipynb", "auto_examples/*.py"]

html_theme = "alabaster"
html_title = f"tabular_rl {release}"

# API reference: one generated page per public name (docs/api/generated/, not committed).
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# MyST: GitHub-style heading anchors, so the guide's links ``page.md#section`` resolve.
myst_heading_anchors = 6

# The example gallery (examples/gallery/plot_*.py), executed at build time on the Agg backend.
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
}


def _write_tour():
    """Run ``python -m tabular_rl`` on this checkout and keep its output for docs/tour.rst."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env["MPLBACKEND"] = "Agg"
    run = subprocess.run(
        [sys.executable, "-m", "tabular_rl"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise RuntimeError(f"python -m tabular_rl failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    out = DOCS / "_generated" / "tour.txt"
    out.parent.mkdir(exist_ok=True)
    if not out.is_file() or out.read_text() != run.stdout:  # unchanged output keeps the page cached
        out.write_text(run.stdout)


_write_tour()
