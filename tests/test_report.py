"""The HTML report and its figures (sim.report), on small runs made by ``opvangsim run``.

The report must be one valid HTML file with every figure embedded (no network
needed), and a real browser must render it with every image loaded.
"""

from __future__ import annotations

import base64
import html.parser
import re
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest
from conftest import CHROMIUM, chromium_args, run_chromium, write_run_manifest

from sim import analysis as an
from sim import report
from sim.cli import main as cli_main
from sim.report import figures
from sim.store import Results

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two quarter-year runs, 2 replications each, in one directory (baseline and a faster IND)."""
    d = tmp_path_factory.mktemp("runs")
    scenario = str(ROOT / "scenarios" / "baseline.toml")
    common = ["--set", "horizon_years=0.25", "-r", "2", "--quiet"]
    assert cli_main(["run", scenario, *common, "--out", str(d / "baseline")]) == 0
    assert (
        cli_main(
            [
                "run",
                scenario,
                *common,
                "--set",
                "name=faster_ind",
                "--set",
                "procedure.decisions_per_week=900",
                "--out",
                str(d / "faster_ind"),
            ]
        )
        == 0
    )
    return d


@pytest.fixture(scope="module")
def made(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    target, drawn, notes = report.make_report(runs, out)
    return target, drawn, notes


class StrictParser(html.parser.HTMLParser):
    """Collects tags and checks that every non-void element is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.imgs: list[dict] = []
        self.doctype = False
        self.text: list[str] = []

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower().startswith("doctype html")

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> StrictParser:
    p = StrictParser()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def test_report_is_valid_html_with_every_figure_embedded(made):
    target, drawn, notes = made
    p = parse(target)
    assert p.doctype
    assert p.errors == [] and p.stack == []
    assert len(drawn) >= 4  # occupancy, Ter Apel, emergency, paired differences, risk curves at least
    assert len(p.imgs) == len(drawn)
    for img in p.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:40]
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_MAGIC)
        assert img.get("alt")
    for d in drawn:
        assert all(f.exists() and f.stat().st_size > 0 for f in d.files)
        assert {f.suffix for f in d.files} == {".png"}  # SVG only on request (--svg): one can weigh megabytes
    page = target.read_text(encoding="utf-8")
    # nothing to fetch: no external scripts, stylesheets or images
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)


def test_report_states_what_was_run_and_the_numbers_it_rests_on(made, runs):
    target, _, _ = made
    text = " ".join(parse(target).text)
    for name in ("baseline", "faster_ind"):
        assert name in text
    assert "procedure.decisions_per_week" in text  # what the variant changes, from the manifests
    # the paragraph's emergency difference is the paired table's number
    paired = pd.read_csv(target.parent / "paired_differences.csv")
    row = paired[(paired["arm"] == "faster_ind") & (paired["metric"] == "emergency_person_nights")].iloc[0]
    assert f"{row['mean_diff']:,.0f}" in text


def test_figures_without_inputs_are_skipped_with_a_note(tmp_path):
    d = tmp_path / "summary_only"
    d.mkdir()
    pd.DataFrame(
        {"scenario": "baseline", "replication": [0, 1, 2], "seed": [1, 2, 3], "emergency_person_nights": [1.0, 2.0, 3.0]}
    ).to_parquet(d / "summary.parquet")
    write_run_manifest(d, "baseline", 3)
    target, drawn, notes = report.make_report(d, tmp_path / "out")
    assert [x.name for x in drawn] == ["risk_curves"]
    assert any(n.startswith("occupancy_fan: skipped") for n in notes)
    p = parse(target)
    assert p.errors == [] and len(p.imgs) == 1
    assert "skipped" in " ".join(p.text)


def test_realisation_figures_from_cycle_rows():
    """Province bars, and the municipalities of the province asked for, are drawn when the cycles carry those rows."""
    rows = []
    for rep in range(3):
        for prov, task, real in (("Drenthe", 1000, 900.0), ("Utrecht", 3000, 1500.0)):
            rows.append(
                {
                    "scenario": "baseline",
                    "design_point": 0,
                    "replication": rep,
                    "cycle": 0,
                    "level": "province",
                    "province": prov,
                    "municipality": "",
                    "task": task,
                    "realised_by_deadline": real,
                }
            )
        for muni, task, real in (("Assen", 400, 400.0), ("Emmen", 600, 500.0)):
            rows.append(
                {
                    "scenario": "baseline",
                    "design_point": 0,
                    "replication": rep,
                    "cycle": 0,
                    "level": "municipality",
                    "province": "Drenthe",
                    "municipality": muni,
                    "task": task,
                    "realised_by_deadline": real,
                }
            )
    summary = pd.DataFrame(
        {"scenario": "baseline", "design_point": 0, "replication": [0, 1, 2], "emergency_person_nights": [1.0, 2.0, 3.0]}
    )
    res = Results(summary=summary, timeseries=pd.DataFrame(), cycles=pd.DataFrame(rows))
    ctx = report.build_context(res, None, an.RiskSettings(), province="Drenthe")
    g, key, first = an.realisation_by_deadline(res, ctx.arms)
    assert key == "province" and first == 0
    assert g.set_index("province")["mean"].to_dict() == pytest.approx({"Drenthe": 0.9, "Utrecht": 0.5})
    g, key, _ = an.realisation_by_deadline(res, ctx.arms, province="Drenthe")
    assert g.set_index("municipality")["mean"].to_dict() == pytest.approx({"Assen": 1.0, "Emmen": 500 / 600})
    for fn in (figures.fig_provinces, figures.fig_municipalities):
        fig = fn(ctx)
        assert not isinstance(fig, str)


def test_report_cli_bad_baseline_exits_2_and_writes_nothing(runs, tmp_path, capsys):
    out = tmp_path / "r"
    assert cli_main(["report", str(runs), "--out", str(out), "--baseline", "nope"]) == 2
    assert "--baseline" in capsys.readouterr().err
    assert not out.exists()


# ----------------------------------------------------------------------------- a real browser


def test_report_renders_in_headless_chromium_with_every_image_loaded(made, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (.ci/run installs Debian's chromium; apt-get failed or was not run)")
    target, drawn, _ = made
    shot = tmp_path / "shot.png"
    try:
        done = run_chromium(chromium_args(tmp_path / "profile1") + [f"--screenshot={shot}", target.as_uri()])
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not be run here: {exc}")
    if not shot.exists():
        pytest.skip(f"chromium ran but wrote no screenshot (exit {done.returncode}): {done.stderr[-500:]}")
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    # not blank: a rendered page has dark text on white and coloured figures, i.e. real variation
    assert pixels.std() > 0.05
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.001  # some dark (text) pixels
    # every image loaded: a copy of the page marks, after load, how many images have a natural width
    probe = target.with_name("probe.html")
    page = target.read_text(encoding="utf-8")
    script = (
        "<script>window.addEventListener('load', function () {"
        "var imgs = Array.from(document.images);"
        "var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;"
        "document.body.setAttribute('data-images', ok + '/' + imgs.length); });</script>"
    )
    probe.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    done = run_chromium(chromium_args(tmp_path / "profile2") + ["--dump-dom", "--virtual-time-budget=10000", probe.as_uri()])
    m = re.search(r'data-images="(\d+)/(\d+)"', done.stdout)
    assert m, f"the load script did not run: {done.stderr[-500:]}"
    assert int(m.group(2)) == len(drawn) and m.group(1) == m.group(2)


def test_compare_and_report_read_a_sweep_directory(tmp_path, capsys):
    """A sweep's design points pair with the baseline at the same factor level, and the report draws from it."""
    exp = tmp_path / "tiny.toml"
    exp.write_text(
        'name = "tiny"\n'
        f'scenarios = ["{ROOT / "scenarios" / "baseline.toml"}", "{ROOT / "scenarios" / "cycle_4y.toml"}"]\n'
        'set = ["horizon_years=0.1"]\nreplications = 2\nroot_seed = 3\n'
        '[[factors]]\nkey = "procedure.decisions_per_week"\nlevels = [423]\n'
        '[design]\nkind = "full_factorial"\n'
        '[outputs]\ntimeseries = ["ac_occupancy", "occupancy_emergency", "occupancy_crisis", "occupancy_durable", "places_durable"]\n'
        'resolution = "weekly"\n'
    )
    out = tmp_path / "sweep"
    assert cli_main(["sweep", str(exp), "--out", str(out), "--serial", "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["compare", str(out)]) == 0
    assert "cycle_4y − baseline" in capsys.readouterr().out
    target, drawn, notes = report.make_report(out, tmp_path / "rep")
    p = parse(target)
    assert p.errors == [] and len(p.imgs) == len(drawn) >= 4
    assert "Sweep tiny" in "".join(p.text)


def test_fan_bands_from_a_quantile_series():
    """A sweep that kept quantiles over replications gives its 5/50/95 % lines; the 50 % band is left empty."""
    dates = pd.date_range("2026-01-01", periods=3, freq="MS")
    ts = pd.concat(
        [
            pd.DataFrame(
                {
                    "scenario": "baseline",
                    "design_point": 0,
                    "replication": -1,
                    "date": dates,
                    "quantile": q,
                    "days": 31,
                    "occupancy_emergency": v,
                    "occupancy_crisis": 0.0,
                }
            )
            for q, v in ((0.05, 10.0), (0.5, 20.0), (0.95, 30.0))
        ],
        ignore_index=True,
    )
    summary = pd.DataFrame(
        {"scenario": "baseline", "design_point": 0, "replication": [0, 1], "emergency_person_nights": [1.0, 2.0]}
    )
    ctx = report.build_context(Results(summary=summary, timeseries=ts, cycles=pd.DataFrame()), None, an.RiskSettings())
    b = ctx.bands("emergency", "baseline")
    assert (b["q05"] == 10).all() and (b["q50"] == 20).all() and (b["q95"] == 30).all()
    assert b["q25"].isna().all()
    assert any("no per-replication time series" in n for n in ctx.settings.notes)  # no risk events from quantiles
    fig = figures.fig_emergency(ctx)
    assert not isinstance(fig, str)


# ----------------------------------------------------------------------------- what ran: norms and provinces


def _norm_lines(fig) -> set[float]:
    """Heights of the dashed and dotted reference lines of a figure's first panel (persons; the fans are solid)."""
    return {float(line.get_ydata()[0]) for line in fig.axes[0].lines if line.get_linestyle() in ("--", ":")}


def _variant_with_norm(path: Path, norm: int, limit: int) -> Path:
    """The baseline with one application centre of the given norm and physical limit (persons)."""
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\nname = "variant"\n'
        f"[[registration.centres]]\nnorm_persons = {norm}\nphysical_limit_persons = {limit}\n"
    )
    return path


def test_ter_apel_norm_is_the_norm_the_scenario_ran_with(tmp_path):
    scenario = _variant_with_norm(tmp_path / "variant.toml", 1500, 1700)
    out = tmp_path / "run"
    assert cli_main(["run", str(scenario), "--set", "horizon_years=0.05", "--quiet", "--out", str(out)]) == 0
    ctx = report.build_context(an.load_dir(out), None, an.RiskSettings())
    assert _norm_lines(figures.fig_ter_apel(ctx)) == {1500.0, 1700.0}


def test_a_sweep_report_describes_the_scenarios_that_ran_not_the_files_as_they_are_now(tmp_path):
    """The sweep's manifest holds each base scenario as resolved: editing the file afterwards changes nothing."""
    variant = _variant_with_norm(tmp_path / "variant.toml", 1800, 1900)
    exp = tmp_path / "exp.toml"
    exp.write_text(
        'name = "norms"\nscenarios = ["variant.toml"]\nset = ["horizon_years=0.05"]\nreplications = 1\n'
        '[design]\nkind = "full_factorial"\n[outputs]\ntimeseries = ["ac_occupancy"]\n'
    )
    out = tmp_path / "sweep"
    assert cli_main(["sweep", str(exp), "--out", str(out), "--serial", "--quiet"]) == 0
    ctx = report.build_context(an.load_dir(out), None, an.RiskSettings())
    assert ctx.notes == []
    assert _norm_lines(figures.fig_ter_apel(ctx)) == {1800.0, 1900.0}
    _variant_with_norm(variant, 1750, 1900)
    variant.unlink()  # edited, then gone: the report does not read it
    ctx = report.build_context(an.load_dir(out), None, an.RiskSettings())
    assert ctx.notes == []
    assert ctx.scenarios["variant"].registration.centres[0].norm_persons == 1800
    assert _norm_lines(figures.fig_ter_apel(ctx)) == {1800.0, 1900.0}


def test_a_sweep_manifest_without_base_scenarios_says_its_scenarios_are_unknown(tmp_path):
    """An older sweep's manifest holds digests only: the report names what it cannot describe, and draws no norm."""
    import json

    _variant_with_norm(tmp_path / "variant.toml", 1800, 1900)
    exp = tmp_path / "exp.toml"
    exp.write_text('name = "norms"\nscenarios = ["variant.toml"]\nset = ["horizon_years=0.05"]\nreplications = 1\n')
    out = tmp_path / "sweep"
    assert cli_main(["sweep", str(exp), "--out", str(out), "--serial", "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["base_scenarios"] = []
    (out / "manifest.json").write_text(json.dumps(manifest))
    ctx = report.build_context(an.load_dir(out), None, an.RiskSettings())
    assert ctx.scenarios == {} and any("base scenarios" in n for n in ctx.notes)
    assert _norm_lines(figures.fig_ter_apel(ctx)) == set()  # no norm is drawn rather than a guessed one


def test_municipal_realisation_is_drawn_for_the_province_asked_for_only(runs, made, tmp_path, capsys):
    _, drawn, notes = made  # no --province: no municipal figure, and no note about one
    assert not any("municipalities" in x for x in [d.name for d in drawn] + notes)
    out = tmp_path / "r"
    assert cli_main(["report", str(runs), "--out", str(out), "--province", "Atlantis"]) == 2
    err = capsys.readouterr().err
    assert "--province" in err and "Drenthe" in err and "Traceback" not in err
    assert not out.exists()
    assert cli_main(["report", str(runs), "--out", str(out), "--province", "Drenthe"]) == 0
    assert "realisation_municipalities" in capsys.readouterr().out


def test_svg_figures_only_when_asked(runs, tmp_path):
    target, drawn, _ = report.make_report(runs, tmp_path / "with_svg", svg=True)
    assert drawn and all({f.suffix for f in d.files} == {".png", ".svg"} for d in drawn)
    assert all(f.stat().st_size > 0 for d in drawn for f in d.files)
