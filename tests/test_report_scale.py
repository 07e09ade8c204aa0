"""Reports that scale: the sensitivity sweep (Morris, ten factors) reads in a few screens, legibly.

A short version of experiments/sensitivity.toml (4 instead of 12 trajectories,
a quarter of a year, one replication: 44 design points) is swept, compared and
reported; the page is rendered by headless Chromium and every figure and panel
title is found on the screenshot where the figure says it drew it, large
enough to read and overlapping no other title.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import CHROMIUM, ROOT, chromium_args, run_chromium

from sim.cli import main as cli_main
from sim.report import make_report

SCREEN = 1080  # CSS pixels of a laptop screen's height
MAX_SCREENS = 6  # "a few screens"
MIN_TITLE_PX = 10  # a title's box at least this many CSS pixels high (a 10-point title drawn at 110 dpi is ~15)


@pytest.fixture(scope="module")
def sensitivity(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("sensitivity")
    text = (ROOT / "experiments" / "sensitivity.toml").read_text()
    assert "samples = 12" in text
    text = text.replace("samples = 12", "samples = 4").replace(
        '"../scenarios/baseline.toml"', json.dumps(str(ROOT / "scenarios" / "baseline.toml"))
    )
    (d / "sensitivity.toml").write_text(text)
    out = d / "sweep"
    argv = ["sweep", str(d / "sensitivity.toml"), "--out", str(out), "--workers", "2", "--set", "horizon_years=0.25", "-r", "1"]
    assert cli_main([*argv, "--quiet"]) == 0
    return d, out


@pytest.fixture(scope="module")
def made(sensitivity):
    d, out = sensitivity
    return make_report(out, d / "report")


def test_compare_on_a_sampled_sweep_prints_a_summary_not_every_design_point(sensitivity, capsys, tmp_path):
    _, out = sensitivity
    capsys.readouterr()
    assert cli_main(["compare", str(out), "--out", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert len(text) < 12_000 and max(len(line) for line in text.splitlines()) < 200
    assert "the spread of each event's probability over them" in text
    assert "Morris μ*, σ" in text
    assert not re.search(r"\d\.\d{7,}", text)  # no 0.15000000000000002


def test_a_sampled_sweep_gets_a_paragraph_per_factor_short_labels_and_png_only(made):
    target, drawn, notes = made
    page = target.read_text(encoding="utf-8")
    words = page.split("<h2>In plain words</h2>", 1)[1].split("<h2>", 1)[0]
    paragraphs = re.findall(r"<p><strong>([^<]+)\.</strong>", words)
    factors = re.findall(r'^key = "([^"]+)"', (ROOT / "experiments" / "sensitivity.toml").read_text(), re.M)
    assert paragraphs == factors  # one per factor, none per design point
    assert not re.search(r"\d\.\d{7,}", re.sub(r"data:image/png;base64,[^\"]+", "", page))
    assert {f.suffix for d in drawn for f in d.files} == {".png"}
    assert {d.name for d in drawn} >= {"emergency_occupancy", "ter_apel", "risk_curves", "sensitivity"}


def test_the_sensitivity_report_fits_a_few_screens_with_every_title_legible(made, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (.ci/run installs Debian's chromium)")
    target, drawn, _ = made
    # where the browser puts each figure, and how tall the page is
    probe = target.with_name("probe.html")
    script = (
        "<script>window.addEventListener('load', function () {"
        "var out = {height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth, figures: {}};"
        "document.querySelectorAll('figure').forEach(function (f) { var i = f.querySelector('img');"
        "var r = i.getBoundingClientRect(); out.figures[f.id.slice(4)] = {x: r.left + window.scrollX, y: r.top + window.scrollY,"
        "width: r.width, natural: i.naturalWidth, loaded: i.complete && i.naturalWidth > 0}; });"
        "document.body.setAttribute('data-probe', JSON.stringify(out)); });</script>"
    )
    probe.write_text(target.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    try:
        done = run_chromium(
            chromium_args(tmp_path / "p1", 1280, SCREEN) + ["--dump-dom", "--virtual-time-budget=10000", probe.as_uri()]
        )
    except (OSError, TimeoutError) as exc:
        pytest.skip(f"chromium could not be run here: {exc}")
    m = re.search(r"data-probe=\"([^\"]+)\"", done.stdout)
    assert m, f"the probe did not run: {done.stderr[-500:]}"
    layout = json.loads(m.group(1).replace("&quot;", '"'))
    height = layout["height"]
    assert layout["width"] <= 1280, f"something is wider than the page: {layout['width']} px"  # tables wrap within it
    assert height <= MAX_SCREENS * SCREEN, f"the page is {height} px tall: {height / SCREEN:.1f} screens"
    shot = tmp_path / "page.png"
    run_chromium(chromium_args(tmp_path / "p2", 1280, height) + [f"--screenshot={shot}", target.as_uri()])
    pixels = mpimg.imread(shot)[..., :3].mean(axis=2)  # 0 black .. 1 white, CSS pixels (device scale 1)
    assert pixels.shape[0] >= height - 1
    checked = 0
    for d in drawn:
        fig = layout["figures"][d.name]
        assert fig["loaded"], d.name
        scale = fig["width"] / fig["natural"]
        boxes = []
        for text, (x0, y0, x1, y1) in d.titles:
            box = [fig["x"] + x0 * scale, fig["y"] + y0 * scale, fig["x"] + x1 * scale, fig["y"] + y1 * scale]
            assert box[3] - box[1] >= MIN_TITLE_PX, f"{d.name}: title {text!r} is {box[3] - box[1]:.1f} px high"
            assert fig["x"] <= box[0] and box[2] <= fig["x"] + fig["width"] + 1, f"{d.name}: title {text!r} leaves the figure"
            for other, ob in boxes:
                overlap = min(box[2], ob[2]) > max(box[0], ob[0]) and min(box[3], ob[3]) > max(box[1], ob[1])
                assert not overlap, f"{d.name}: titles {text!r} and {other!r} overlap"
            boxes.append((text, box))
            crop = pixels[int(box[1]) : int(np.ceil(box[3])), int(box[0]) : int(np.ceil(box[2]))]
            assert (crop < 0.5).mean() > 0.02, f"{d.name}: no dark text where title {text!r} should be"
            checked += 1
    assert checked >= len(drawn) + 3  # every figure's title and the sensitivity figure's panel titles
