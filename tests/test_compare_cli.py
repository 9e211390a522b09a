"""compare / compare_noise and the ``ewaccount`` command (through subprocesses: ``python -m
ewaccount.cli`` and the installed console script)."""
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

import ewaccount as ew
from ewaccount.methods import METHODS, PEER_METHODS
from peers import require

compare_mod = sys.modules["ewaccount.compare"]  # the module (ew.compare is the function)

RUN = dict(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5)
OURS = [m for m in METHODS if m not in PEER_METHODS]


# -- compare ---------------------------------------------------------------------------------

def test_compare_gives_one_row_per_method_with_its_kind():
    rows = ew.compare(**RUN, methods=OURS)
    assert [r.method for r in rows] == OURS
    for r in rows:
        assert r.kind == METHODS[r.method].kind
        assert r.epsilon is not None and math.isfinite(r.epsilon) and r.epsilon > 0
        assert r.seconds is not None and r.seconds >= 0
        assert set(r.as_dict()) == {"method", "epsilon", "kind", "seconds", "note"}
    by = {r.method: r for r in rows}
    assert by["rdp"].epsilon <= by["moments"].epsilon
    assert by["rdp"].epsilon == ew.RDPAccountant().compose(
        ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 1000).get_epsilon(1e-5)
    assert "not a privacy guarantee" in by["gdp"].note


def test_compare_default_is_every_registered_method(monkeypatch):
    monkeypatch.setattr(compare_mod, "available", lambda m: False)   # keep it fast
    rows = ew.compare(**RUN)
    assert [r.method for r in rows] == list(METHODS)


def test_missing_peer_gives_a_row_not_a_crash(monkeypatch):
    monkeypatch.setattr(compare_mod, "available", lambda m: False)
    rows = ew.compare(**RUN, methods=["rdp", "pld", "prv"])
    for r in rows[1:]:
        assert r.epsilon is None and r.kind == "upper"
        assert "not installed" in r.note and "pip install 'ewaccount[compare]'" in r.note
    noise = ew.compare_noise(target_epsilon=3.0, delta=1e-5, sample_rate=0.01, steps=1000,
                             methods=["pld"])
    assert noise[0].noise_multiplier is None and "not installed" in noise[0].note


def test_peer_rows_are_time_boxed(monkeypatch):
    # a 10 ms box cannot even start the worker: the row says so instead of hanging
    monkeypatch.setattr(compare_mod, "available", lambda m: True)
    rows = ew.compare(**RUN, methods=["pld", "prv"], time_box=0.01)
    for r in rows:
        assert r.epsilon is None and r.note == "skipped: would exceed 0.01 s"


def test_missing_peer_import_error_names_the_extra(monkeypatch):
    from ewaccount.methods import make_accountant
    monkeypatch.setitem(sys.modules, "dp_accounting", None)
    monkeypatch.setitem(sys.modules, "prv_accountant", None)
    for m in PEER_METHODS:
        with pytest.raises(ImportError, match=r"pip install 'ewaccount\[compare\]'"):
            make_accountant(m)


def test_compare_passes_options_to_the_methods_that_take_them():
    rows = ew.compare(**RUN, methods=["edgeworth", "rdp"], order=1, ordering="pq")
    ew1 = ew.EdgeworthAccountant(order=1, ordering="pq").compose(
        ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 1000)
    with pytest.warns(ew.EdgeworthWarning):
        assert rows[0].epsilon == ew1.get_epsilon(1e-5)
    rdp_pq = ew.RDPAccountant(ordering="pq").compose(
        ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 1000)
    assert rows[1].epsilon == rdp_pq.get_epsilon(1e-5)
    assert "warning" in rows[0].note       # the EdgeworthWarning travels in the note


def test_compare_rejects_bad_input_before_any_work():
    with pytest.raises(ValueError, match="sample_rate"):
        ew.compare(**dict(RUN, sample_rate=0.0))
    with pytest.raises(ValueError, match="delta"):
        ew.compare(**dict(RUN, delta=1.5))
    with pytest.raises(ValueError, match="steps"):
        ew.compare(**dict(RUN, steps=2.5))
    with pytest.raises(ValueError, match="methods"):
        ew.compare(**RUN, methods=["nope"])
    with pytest.raises(ValueError, match="time_box"):
        ew.compare(**RUN, time_box=-1)
    with pytest.raises(TypeError, match="orderr"):
        ew.compare(**RUN, methods=["rdp"], orderr=2)
    with pytest.raises(ValueError, match="order"):
        ew.compare(**RUN, methods=["edgeworth"], order=7)


def test_compare_noise_rows_meet_the_target_under_their_method():
    rows = ew.compare_noise(target_epsilon=3.0, delta=1e-5, sample_rate=0.01, steps=1000,
                            methods=["rdp", "moments", "gdp"])
    assert [r.kind for r in rows] == ["upper", "upper", "estimate"]
    for r in rows:
        eps = ew.epsilon(sample_rate=0.01, noise_multiplier=r.noise_multiplier, steps=1000,
                         delta=1e-5, method=r.method)
        assert eps <= 3.0 and eps == pytest.approx(3.0, rel=1e-6)
    by = {r.method: r.noise_multiplier for r in rows}
    assert by["moments"] >= by["rdp"]
    with pytest.raises(ValueError, match="target_epsilon"):
        ew.compare_noise(target_epsilon=0.0, delta=1e-5, sample_rate=0.01, steps=10)


@pytest.mark.slow
def test_compare_runs_the_peers_in_the_worker():
    require("dp_accounting")
    require("prv_accountant")
    rows = {r.method: r for r in ew.compare(**RUN, methods=["rdp", "pld", "prv"], time_box=300)}
    # truth ~1.828 (reference grid: PRV estimate); both peers are upper bounds below RDP
    for m in ("pld", "prv"):
        assert rows[m].kind == "upper" and rows[m].seconds > 0
        assert 1.82 < rows[m].epsilon < rows["rdp"].epsilon
    direct = ew.peers.PLDAccountant().compose(
        ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), 1000).get_epsilon(1e-5)
    assert rows["pld"].epsilon == pytest.approx(direct, rel=1e-12)


@pytest.mark.slow
def test_peer_accountants_match_their_libraries():
    dpa = require("dp_accounting")
    prv = require("prv_accountant")
    from ewaccount.peers import PLDAccountant, PRVAccountant
    m = ew.PoissonGaussian(sample_rate=0.02, noise_multiplier=0.9)
    ours = PLDAccountant().compose(m, 500).compose(ew.Gaussian(noise_multiplier=20.0), 3)
    theirs = dpa.pld.PLDAccountant().compose(
        dpa.PoissonSampledDpEvent(0.02, dpa.GaussianDpEvent(0.9)), 500).compose(
        dpa.GaussianDpEvent(20.0), 3)
    assert ours.get_epsilon(1e-6) == pytest.approx(theirs.get_epsilon(1e-6), rel=1e-12)
    assert ours.get_delta(2.0) == pytest.approx(theirs.get_delta(2.0), rel=1e-12)
    p = PRVAccountant().compose(m, 500)
    mech = prv.privacy_random_variables.PoissonSubsampledGaussianMechanism(
        sampling_probability=0.02, noise_multiplier=0.9)
    acc = prv.PRVAccountant(prvs=[mech], max_self_compositions=[500], eps_error=0.01,
                            delta_error=1e-9)
    lo, est, hi = acc.compute_epsilon(delta=1e-6, num_self_compositions=[500])
    res = p.get_epsilon_result(1e-6)
    assert res.value == pytest.approx(hi, rel=1e-9) and res.kind == "upper"
    assert res.lower == pytest.approx(lo, rel=1e-9) and res.estimate == pytest.approx(est, rel=1e-9)


# -- the command ---------------------------------------------------------------------------------

def cli(*args, script=False):
    cmd = (["ewaccount"] if script else [sys.executable, "-m", "ewaccount.cli"]) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


ARGS = ["--sample-rate", "0.01", "--noise-multiplier", "1.0", "--steps", "1000"]


def test_cli_epsilon_text_says_the_kind():
    p = cli("epsilon", *ARGS, "--delta", "1e-5", "--method", "rdp")
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[0]
    assert first.startswith("epsilon = 2.10132") and "upper" in first and "guarantee" in first


def test_cli_json_for_epsilon_delta_noise():
    p = cli("epsilon", *ARGS, "--delta", "1e-5", "--method", "gdp", "--json")
    out = json.loads(p.stdout)
    assert out["kind"] == "estimate" and round(out["epsilon"], 3) == 1.618 and out["steps"] == 1000
    p = cli("delta", *ARGS, "--epsilon", "3", "--method", "moments", "--json")
    out = json.loads(p.stdout)
    assert out["kind"] == "upper" and 0 < out["delta"] < 1e-5
    p = cli("noise", "--target-epsilon", "3", "--delta", "1e-5", "--sample-rate", "0.01",
            "--steps", "1e3", "--method", "rdp", "--json")
    out = json.loads(p.stdout)
    assert out["kind"] == "upper" and out["noise_multiplier"] == pytest.approx(0.864545, rel=1e-5)


def test_cli_compare_table_and_json():
    p = cli("compare", *ARGS, "--delta", "1e-5", "--method", "rdp", "--method", "gdp",
            "--method", "moments")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[1].split()[:4] == ["method", "epsilon", "kind", "seconds"]
    assert lines[2].split()[:3] == ["rdp", "2.10132", "upper"]
    assert lines[3].split()[2] == "estimate"
    assert lines[-1].startswith("tightest guarantee: rdp")
    p = cli("compare", "--target-epsilon", "3", "--delta", "1e-5", "--sample-rate", "0.01",
            "--steps", "1000", "--method", "rdp", "--method", "gdp", "--json")
    out = json.loads(p.stdout)
    assert out["table"] == "noise_multiplier"
    assert [(r["method"], r["kind"]) for r in out["rows"]] == [("rdp", "upper"), ("gdp", "estimate")]


@pytest.mark.parametrize("args, needle", [
    (["epsilon", *ARGS, "--delta", "1e-5", "--method", "nope"], "method must be one of"),
    (["epsilon", "--sample-rate", "2", "--noise-multiplier", "1", "--steps", "10", "--delta",
      "1e-5", "--method", "rdp"], "sample_rate"),
    (["epsilon", *ARGS, "--delta", "x", "--method", "rdp"], "not a number"),
    (["epsilon", *ARGS, "--delta", "1e-5", "--method", "rdp", "--order", "2"], "order"),
    (["delta", *ARGS, "--epsilon", "-1", "--method", "rdp"], "epsilon"),
    (["noise", "--target-epsilon", "3", "--delta", "1e-5", "--sample-rate", "0.01", "--steps",
      "10.5", "--method", "rdp"], "steps"),
    (["compare", "--sample-rate", "0.01", "--steps", "10", "--delta", "1e-5"], "--noise-multiplier"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_bad_arguments_one_line_exit_2(args, needle):
    p = cli(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "error" in err[0]


def test_cli_help_has_examples():
    p = cli("--help")
    assert p.returncode == 0 and "examples:" in p.stdout and "ewaccount compare" in p.stdout
    p = cli("noise", "--help")
    assert p.returncode == 0 and "--target-epsilon" in p.stdout and "examples:" in p.stdout


def test_console_script():
    if shutil.which("ewaccount") is None:
        pytest.skip("the ewaccount console script is not on PATH (package not installed)")
    p = cli("epsilon", *ARGS, "--delta", "1e-5", "--method", "moments", script=True)
    assert p.returncode == 0 and p.stdout.startswith("epsilon = 2.53835") and "[upper" in p.stdout
    p = cli("epsilon", *ARGS, "--delta", "1e-5", "--method", "nope", script=True)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_main_in_process(capsys):
    from ewaccount.cli import main
    assert main(["epsilon", *ARGS, "--delta", "1e-5", "--method", "gdp"]) == 0
    assert "[estimate; estimate: not a privacy guarantee]" in capsys.readouterr().out
    assert main(["delta", *ARGS, "--epsilon", "-2", "--method", "gdp"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cli_default_is_certified_with_its_bracket():
    # DESIGN.md section 3: the CLI headline is the certified upper bound, estimate beside it
    p = cli("epsilon", *ARGS, "--delta", "1e-5", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["method"] == "certified" and out["kind"] == "upper"
    assert out["lower"] <= out["estimate"] <= out["epsilon"]
    text = cli("epsilon", *ARGS, "--delta", "1e-5").stdout
    assert text.startswith("epsilon = ") and "upper bound" in text and "bracket: lower" in text
