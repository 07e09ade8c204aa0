"""``opvangsim app``: the page for policy advisers.

Without a browser: the levers carry the schema's documentation in both
languages, a bad value gets the command line's message on the lever that caused
it, a proposal's files rerun to exactly the page's numbers, the cache key
follows what decides the numbers, and the answer in words says what the
results say. With a browser (``integration``): the page run in headless
Chromium, driven as a policy adviser would.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sim.app import answer as ans
from sim.app import i18n
from sim.app import levers as lv
from sim.app import proposal as pr
from sim.cli import main as cli_main
from sim.executors import SerialExecutor
from sim.scenario import load_scenario
from sim.store import load_results

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
CHROMIUM = Path("/usr/bin/chromium")


def _values(start: Path = BASELINE, **changes) -> dict:
    return {**lv.start_values(lv.load_start(start).scenario), **changes}


# ----------------------------------------------------------------------------- levers


def test_every_lever_has_the_schemas_unit_explanation_and_source_and_words_in_both_languages():
    for lever in lv.LEVERS:
        doc = lv.lever_doc(lever)
        assert doc.unit and doc.description and doc.source, lever.name
        assert f"unit.{doc.unit}" in i18n.TEXT, f"no words for the unit {doc.unit} of {lever.name}"
        assert all(i18n.TEXT[f"lever.{lever.name}"][lang] for lang in i18n.LANGUAGES), lever.name
        assert i18n.HELP_NL[lever.name], lever.name
    assert all(set(v) == set(i18n.LANGUAGES) and all(v.values()) for v in i18n.TEXT.values())
    assert lv.lever_doc(lv.BY_NAME["deadline"]).description == "realisation deadline after the estimate (1 Jul of year 2)"


def test_a_starting_scenario_shows_its_own_values():
    values = _values(ROOT / "scenarios" / "political_uncertainty.toml")
    assert values["uncertainty"] is True
    assert (values["uncertainty_start"], values["uncertainty_end"]) == (dt.date(2026, 2, 1), dt.date(2027, 7, 1))
    assert _values(ROOT / "scenarios" / "cycle_3y.toml")["cycle"] == 3
    assert _values(ROOT / "scenarios" / "emergency_reserve.toml")["reserve"] == 2000
    assert _values()["deadline"] == 17 and _values()["horizon"] == 10


def test_an_impossible_value_gets_the_command_lines_message_on_its_own_lever(capsys):
    checked = lv.check(BASELINE, _values(deadline=5))
    assert set(checked.errors) == {"deadline"} and not checked.ok
    assert cli_main(["validate", str(BASELINE), "--set", "capacity.spreidingswet.deadline_after_months=5"]) == 2
    cli = capsys.readouterr().err.strip().removeprefix("opvangsim: error: ")
    assert checked.errors["deadline"] == cli
    assert "realisation deadline (5.0)" in cli

    checked = lv.check(BASELINE, _values(horizon=1, window_from=dt.date(2030, 1, 1), replications=0, cycle=0))
    assert set(checked.errors) == {"window", "replications", "cycle"}
    assert "evaluation.from_date: 2030-01-01 lies outside the run" in checked.errors["window"]
    assert "replications" in checked.errors["replications"] and "greater than or equal to 1" in checked.errors["replications"]
    assert lv.check(BASELINE, _values(deadline=36, horizon=1, replications=4)).ok
    backtest = ROOT / "scenarios" / "backtest_2015.toml"
    assert _values(backtest)["horizon"] == 11  # 2015 to 2026: the horizon of a scenario that ends on a date
    checked = lv.check(backtest, _values(backtest, horizon=12))
    assert set(checked.errors) == {"horizon"} and "inflow_replay.csv covers 2015-01 to 2025-12" in checked.errors["horizon"]


def test_switching_political_uncertainty_off_removes_the_period():
    """From the shipped variant with the period, 'off' gives the baseline's world (only the name differs)."""
    start = ROOT / "scenarios" / "political_uncertainty.toml"
    data, scenario, _ = lv.load_start(start)
    off = lv.proposal_data(data, _values(start, uncertainty=False), scenario, name="baseline")
    from sim.scenario import scenario_from_dict

    mine, base = scenario_from_dict(off, start).canonical(), load_scenario(BASELINE).canonical()
    mine.pop("description"), base.pop("description")
    assert mine == base


def test_inflow_paths_shape_the_inflow_from_the_chosen_level():
    data, scenario, _ = lv.load_start(BASELINE)
    surge = lv.proposal_data(data, _values(inflow_path="surge", inflow_level=30_000), scenario)
    assert surge["inflow"]["first_applications_per_year"] == 30_000
    assert surge["inflow"]["shocks"] == [{"start": dt.date(2027, 7, 1), "weeks": 26, "persons": 30_000, "category": "first"}]
    assert lv.proposal_data(data, _values(inflow_path="rising"), scenario)["inflow"]["trend_per_year"] == 0.2
    assert "trend_per_year" not in lv.proposal_data(data, _values(), scenario).get("inflow", {})


# ----------------------------------------------------------------------------- a proposal run


SHORT = {"deadline": 36, "horizon": 0.25, "replications": 2, "reserve": 500}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[pr.Staged, dict]:
    """A short proposal staged and run as the page runs it (serially here), with its answer."""
    cache = tmp_path_factory.mktemp("cache")
    staged = pr.stage(cache, BASELINE, _values(**SHORT))
    job = pr.Job(staged, SerialExecutor, 30).start()
    job.join(300)
    state = job.state()
    assert state.phase == "done", state.message
    return staged, state.answer


def test_the_proposal_files_rerun_to_exactly_the_pages_numbers(finished, tmp_path, monkeypatch):
    """What a modeller downloads reruns exactly: the study from the zip, and the proposal alone with the command its
    header gives."""
    staged, _ = finished
    with zipfile.ZipFile(io.BytesIO(pr.scenario_zip(staged))) as z:
        z.extractall(tmp_path)
    (folder,) = tmp_path.iterdir()
    study = tomllib.loads((folder / "study.toml").read_text())
    assert study["replications"] == 2 and study["set"] == ["horizon_years=0.25"]
    text = (folder / "proposal.toml").read_text()
    proposal = tomllib.loads(text)
    assert proposal["capacity"]["spreidingswet"]["deadline_after_months"] == 36
    assert "extends" not in proposal
    monkeypatch.chdir(folder)
    assert cli_main(["study", "study.toml", "--out", str(tmp_path / "again"), "--serial", "--quiet", "--no-report"]) == 0
    (command,) = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("# Or the proposal alone")]
    assert command == "opvangsim run proposal.toml -r 2 --seed 1 --set horizon_years=0.25"
    assert cli_main([*shlex.split(command)[1:], "--quiet", "--out", str(tmp_path / "one")]) == 0

    def metrics(s: pd.DataFrame) -> pd.DataFrame:
        drop = [c for c in s.columns if c in ("design_point", "run_seconds") or c.startswith("factor:")]
        return s.drop(columns=drop).sort_values("replication").reset_index(drop=True)

    page = metrics(load_results(staged.results / "proposal").summary)
    pd.testing.assert_frame_equal(metrics(load_results(tmp_path / "again" / "proposal").summary), page)
    pd.testing.assert_frame_equal(metrics(load_results(tmp_path / "one").summary)[page.columns], page, check_dtype=False)


def test_the_cache_key_follows_what_decides_the_numbers(finished):
    staged, _ = finished
    cache = staged.directory.parent
    assert pr.stage(cache, BASELINE, _values(**SHORT)) == staged  # a second look: the same directory, results and all
    assert pr.stage(cache, BASELINE, _values(**SHORT)).answered
    # the period's dates do nothing while political uncertainty is off
    assert pr.stage(cache, BASELINE, _values(**SHORT, uncertainty_start=dt.date(2026, 6, 1))).key == staged.key
    for other in ({"reserve": 600}, {"replications": 3}, {"horizon": 0.3}, {"window_from": dt.date(2026, 2, 1)}):
        assert pr.stage(cache, BASELINE, _values(**{**SHORT, **other})).key != staged.key, other


def test_the_answer_says_what_the_results_say(finished):
    staged, answer = finished
    s = load_results(staged.results / "proposal").summary
    b = load_results(staged.results / "baseline").summary
    m = answer["metrics"]["emergency_persons_per_night"]
    assert m["proposal"][0] == pytest.approx(s["emergency_persons_per_night"].mean())
    assert m["baseline"][0] == pytest.approx(b["emergency_persons_per_night"].mean())
    diff = (
        s.set_index("replication")["emergency_persons_per_night"] - b.set_index("replication")["emergency_persons_per_night"]
    ).mean()
    assert m["diff"][0] == pytest.approx(diff)
    assert m["proposal"][1] <= m["proposal"][0] <= m["proposal"][2]
    assert answer["changes"] == [["deadline", 36], ["reserve", 500]]
    en, nl = ans.words(answer, "en", 30), ans.words(answer, "nl", 30)
    lead = en[0]
    assert "realisation deadline after the estimate: 36 months" in lead and "emergency reserve for ter apel: 500 places" in lead
    assert i18n.number(m["proposal"][0], "en") + " persons a night" in lead
    assert i18n.number(m["proposal"][0], "nl") + " personen per nacht" in nl[0]
    # a 3-month run has no realisation deadline in it (the first is 36 months after the estimate of 1 Feb 2026)
    assert any("1 February 2029" in w for w in en) and any("1 februari 2029" in w for w in nl)
    assert len(en) == len(nl)


def test_the_chance_per_year_is_the_share_of_replications_above_the_threshold(finished):
    _, answer = finished
    days = answer["ac_days_by_year"]["proposal"]["2026"]
    assert len(days) == 2 and all(0 <= d <= answer["year_days"]["2026"] for d in days)
    for n in (0, max(days), -1 + min(days) if min(days) > 0 else 0):
        p, low, high = ans.year_risk(answer, n)["proposal"]["2026"]
        assert p == sum(d > n for d in days) / len(days) and low <= p <= high


def test_both_languages_have_the_three_figures(finished):
    staged, answer = finished
    for name in ans.FIGURES:
        entry = answer["figures"][name]
        assert "skipped" in entry or all((staged.directory / entry[lang]).stat().st_size > 10_000 for lang in i18n.LANGUAGES)
    assert "skipped" not in answer["figures"]["occupancy_fan"] and "skipped" not in answer["figures"]["ter_apel"]


def test_the_dutch_figures_have_dutch_titles_and_numbers():
    import matplotlib.figure

    fig = matplotlib.figure.Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 60_000], label="durable")
    ax.legend()
    fig.suptitle("Occupancy by location type against places, per scenario")
    ax.set_title("baseline")
    ans._relabel(fig, "nl", {"baseline": "uitgangspunt: baseline"})
    fig.canvas.draw()
    texts = {t.get_text() for t in fig.findobj(matplotlib.text.Text)} | {t.get_text() for t in ax.get_yticklabels()}
    assert {"Bezetting per type opvang tegen het aantal plekken", "uitgangspunt: baseline", "duurzaam", "60.000"} <= texts


def test_results_download_holds_both_arms_as_parquet(finished):
    staged, _ = finished
    with zipfile.ZipFile(io.BytesIO(pr.results_zip(staged))) as z:
        names = sorted(Path(n).name for n in z.namelist())
        summary = pd.read_parquet(io.BytesIO(z.read(next(n for n in z.namelist() if n.endswith("summary.parquet")))))
    assert names == ["cycles.parquet", "summary.parquet", "timeseries.parquet"]
    assert sorted(summary["scenario"].unique()) == ["baseline", "proposal"] and len(summary) == 4
    assert pr.report_html(staged).is_file()


def test_numbers_read_as_each_language_writes_them():
    assert (i18n.number(12_345.6, "en"), i18n.number(12_345.6, "nl")) == ("12,300", "12.300")
    assert (i18n.number(0.1836, "en"), i18n.number(0.1836, "nl")) == ("0.184", "0,184")
    assert (i18n.money(2.79e9, "en"), i18n.money(-1.01e7, "nl")) == ("€2.79 billion", "−€ 10,1 miljoen")
    assert i18n.plain(36.0, "en") == "36" and i18n.plain(0.5, "nl") == "0,5"
    assert i18n.date("2029-02-01", "nl") == "1 februari 2029"


# ----------------------------------------------------------------------------- in a browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``opvangsim app`` in a process of its own, as a user starts it (on 2 worker processes, English first)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (.ci/run installs Debian's chromium; apt-get failed or was not run)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    port = _free_port()
    cache = tmp_path_factory.mktemp("app-cache")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "sim.cli",
        "app",
        "--port",
        str(port),
        "--no-browser",
        "--cache",
        str(cache),
        "--workers",
        "2",
        "--language",
        "en",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            pytest.fail(f"opvangsim app ended: {proc.stdout.read()}")
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("opvangsim app did not listen within 60 s")
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def page(server):
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM))
        except Error as exc:
            pytest.skip(f"chromium could not be started by playwright here: {str(exc).splitlines()[0]}")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        hosts: set[str] = set()
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        page.goto(server)
        page.locator(".lever-deadline input").wait_for(timeout=30_000)
        yield page, hosts
        browser.close()


def _set(page, lever: str, value) -> None:
    box = page.locator(f".lever-{lever} input")
    box.fill(str(value))
    box.press("Enter")


@pytest.mark.integration
def test_a_policy_adviser_runs_a_36_month_deadline_and_reads_the_answer(page, server):
    from playwright.sync_api import expect

    page, hosts = page
    _set(page, "deadline", 36)
    _set(page, "horizon", 1)
    _set(page, "replications", 4)
    run = page.locator(".run-button button")
    expect(run).to_be_enabled()
    run.click()
    expect(page.locator("progress.run-progress")).to_be_visible()
    # the page answers while the run goes on: the language switches
    page.locator(".language button", has_text="Nederlands").click()
    expect(run).to_have_text("Doorrekenen")
    page.locator(".language button", has_text="English").click()
    expect(run).to_have_text("Run")

    lead = page.locator("#answer p.lead")
    expect(lead).to_be_visible(timeout=120_000)
    assert "realisation deadline after the estimate: 36 months" in lead.inner_text()
    assert "persons a night" in lead.inner_text() and "person-nights" in lead.inner_text()
    text = page.locator("#answer").inner_text()
    for words in ("Ter Apel is above its norm", "outside", "moves between locations", "Reception costs", "realisation deadline"):
        assert words in text
    for name in ans.FIGURES:
        img = page.locator(f".figure-{name} img")
        expect(img).to_be_visible()
        assert img.evaluate("i => i.naturalWidth") > 500, name
    assert hosts == {server.split("/")[2]}, f"the page loaded from elsewhere: {hosts}"

    with page.expect_download() as download:
        page.locator(".download-proposal button").click()
    proposal = tomllib.loads(Path(download.value.path()).read_text())
    assert proposal["capacity"]["spreidingswet"]["deadline_after_months"] == 36

    # a second look at the same proposal comes from the cache at once
    expect(run).to_be_enabled()
    run.click()
    expect(page.locator(".run-status .status-done")).to_contain_text("from the cache", timeout=10_000)


@pytest.mark.integration
def test_an_impossible_value_shows_the_command_lines_message_next_to_its_control(page, capsys):
    from playwright.sync_api import expect

    page, _ = page
    _set(page, "deadline", 5)
    message = page.locator(".error-deadline .error")
    expect(message).to_be_visible()
    assert cli_main(["validate", str(BASELINE), "--set", "capacity.spreidingswet.deadline_after_months=5"]) == 2
    assert message.inner_text().strip() == capsys.readouterr().err.strip().removeprefix("opvangsim: error: ")
    box, under = page.locator(".lever-deadline input").bounding_box(), message.bounding_box()
    assert 0 < under["y"] - box["y"] < 150 and abs(under["x"] - box["x"]) < 60, "the message is not next to the control"
    expect(page.locator(".run-button button")).to_be_disabled()
    _set(page, "deadline", 36)
    expect(message).to_have_count(0)
    expect(page.locator(".run-button button")).to_be_enabled()


@pytest.mark.integration
def test_a_run_can_be_cancelled_and_the_page_says_so(page):
    from playwright.sync_api import expect

    page, _ = page
    _set(page, "reserve", 1000)  # another proposal than the first test's: nothing of it is cached
    _set(page, "horizon", 2)
    _set(page, "replications", 6)
    page.locator(".run-button button").click()
    expect(page.locator(".run-status .status-running")).to_be_visible(timeout=30_000)
    page.locator(".cancel-button button").click()
    expect(page.locator(".run-status .status-cancelled")).to_be_visible(timeout=60_000)
    expect(page.locator("#answer")).to_have_count(0)
    expect(page.locator(".run-button button")).to_be_enabled()
    expect(page.locator("progress.run-progress")).to_be_hidden()
