"""Plots render, with labelled axes and a legend (matplotlib is the optional 'plot' extra)."""
import subprocess
import sys

import pytest

import ewaccount as ew

matplotlib = pytest.importorskip("matplotlib", reason="plots need matplotlib (pip install 'ewaccount[plot]')")

from ewaccount import plots  # noqa: E402

RUN = dict(sample_rate=0.01, noise_multiplier=1.0, steps=500, delta=1e-5)
METHODS = ["rdp", "moments", "gdp"]


def check_axes(ax):
    assert ax.get_xlabel() and ax.get_ylabel()
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [f"{m} ({ew.METHODS[m].kind})" for m in METHODS]
    assert len(ax.get_lines()) >= len(METHODS)


def test_comparison_figure_renders_to_png(tmp_path):
    out = tmp_path / "compare.png"
    fig = plots.plot_comparison(**RUN, methods=METHODS, path=str(out))
    assert out.exists() and out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    a1, a2 = fig.axes
    for ax in (a1, a2):
        check_axes(ax)
    assert a1.get_xscale() == "log" and "steps" in a1.get_xlabel() and "epsilon" in a1.get_ylabel()
    assert a2.get_yscale() == "log" and a2.get_xlabel() == "epsilon" and "delta" in a2.get_ylabel()


def test_single_panels_and_upper_bounds_drawn_solid(tmp_path):
    ax = plots.epsilon_vs_steps(**RUN, methods=METHODS, points=6)
    check_axes(ax)
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    assert styles["rdp (upper)"] == "-" and styles["gdp (estimate)"] == "--"
    ax = plots.privacy_profile(sample_rate=0.01, noise_multiplier=1.0, steps=500,
                               methods=METHODS, epsilons=[0.0, 1.0, 2.0, 3.0])
    check_axes(ax)
    ax.figure.savefig(tmp_path / "profile.png")
    assert (tmp_path / "profile.png").exists()


def test_epsilon_curve_matches_the_accountants():
    ax = plots.epsilon_vs_steps(**RUN, methods=["rdp"], points=4)
    x, y = ax.get_lines()[0].get_data()
    assert list(x)[-1] == 500
    assert y[-1] == ew.epsilon(**RUN, method="rdp")


def test_bad_plot_arguments():
    with pytest.raises(ValueError, match="methods"):
        plots.epsilon_vs_steps(**RUN, methods=["nope"])
    with pytest.raises(ValueError, match="points"):
        plots.epsilon_vs_steps(**RUN, methods=["rdp"], points=1)
    with pytest.raises(ValueError, match="epsilon"):
        plots.privacy_profile(sample_rate=0.01, noise_multiplier=1.0, steps=10, methods=["rdp"],
                              epsilons=[-1.0])


def test_missing_matplotlib_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'ewaccount\[plot\]'"):
        plots.plot_comparison(**RUN, methods=["rdp"])


def test_cli_compare_plot(tmp_path):
    out = tmp_path / "cli.png"
    p = subprocess.run([sys.executable, "-m", "ewaccount.cli", "compare", "--sample-rate", "0.01",
                        "--noise-multiplier", "1", "--steps", "300", "--delta", "1e-5",
                        "--method", "rdp", "--method", "gdp", "--plot", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert out.exists() and f"plot written to {out}" in p.stdout
