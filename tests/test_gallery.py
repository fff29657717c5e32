"""The gallery scripts (examples/gallery/plot_*.py) run headless, warning-free, and draw what they promise.

Sphinx-gallery executes each script and captures the figures left open; a script that fails, warns,
calls ``plt.show()`` or draws nothing would break the docs build or show an empty example.
"""

import pathlib
import re
import runpy
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

GALLERY = pathlib.Path(__file__).resolve().parent.parent / "examples" / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
#: Scripts that print text only (no figure is expected).
TEXT_ONLY = {"plot_grading_gae.py"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(script, monkeypatch, tmp_path, argv=()):
    """Run a script as __main__ in tmp_path with warnings as errors and plt.show forbidden; return the open figures."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), *argv])

    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() called: sphinx-gallery captures open figures itself")

    monkeypatch.setattr(plt, "show", forbidden)
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runpy.run_path(str(script), run_name="__main__")
    return [plt.figure(n) for n in plt.get_fignums()]


def test_the_gallery_has_its_scripts_and_readme():
    # Catches a script renamed without the plot_ prefix (sphinx-gallery would skip it) or a missing README.
    names = {p.name for p in SCRIPTS}
    assert names == {"plot_sutton_barto_4_1.py", "plot_frozen_lake_policy_iteration.py",
                     "plot_policy_gradient_vs_ppo.py", "plot_maxent_irl.py", "plot_bc_vs_dagger.py",
                     "plot_grading_gae.py"}
    readme = (GALLERY / "README.rst").read_text().splitlines()
    assert readme[0].strip() and set(readme[1]) == {"="} and len(readme[1]) >= len(readme[0])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_docstring_is_a_title_and_a_paragraph(script):
    # Catches a docstring sphinx-gallery cannot use: no RST title with an === underline, or no paragraph under it.
    source = script.read_text()
    doc = re.match(r'\s*"""\n?(.*?)"""', source, re.S).group(1)
    lines = doc.strip("\n").splitlines()
    assert lines[0].strip(), script.name
    assert set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), f"{script.name}: title underline"
    assert lines[2] == "" and lines[3].strip(), f"{script.name}: a paragraph under the title"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_runs_and_draws(script, monkeypatch, tmp_path, capsys):
    # Catches a script broken by an API change, one that warns, calls plt.show() or leaves no figure to capture.
    try:
        figures = _run(script, monkeypatch, tmp_path)
        if script.name in TEXT_ONLY:
            assert capsys.readouterr().out.strip(), f"{script.name} printed nothing"
        else:
            assert figures, f"{script.name} drew no figure"
            for i, fig in enumerate(figures):
                path = tmp_path / f"{script.stem}_{i}.png"
                fig.savefig(path, dpi=30)
                assert path.read_bytes()[:8] == PNG_MAGIC
    finally:
        plt.close("all")


def test_sutton_barto_4_1_prints_the_book_values_and_saves_its_figure(monkeypatch, tmp_path, capsys):
    # Catches --save ignored (the README's picture could not be regenerated) and values off the book's -14/-18/-20/-22.
    target = tmp_path / "static" / "sutton_barto_4_1.png"
    try:
        _run(GALLERY / "plot_sutton_barto_4_1.py", monkeypatch, tmp_path, ["--save", str(target)])
    finally:
        plt.close("all")
    assert target.read_bytes()[:8] == PNG_MAGIC
    out = capsys.readouterr().out
    assert "  0 -14 -20 -22\n-14 -18 -20 -20\n-20 -20 -18 -14\n-22 -20 -14   0" in out


def test_the_committed_sutton_barto_figure_is_a_small_png():
    # Catches the README's picture missing, or committed at a high dpi (it should stay small).
    path = GALLERY.parent.parent / "docs" / "_static" / "sutton_barto_4_1.png"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) < 100_000
