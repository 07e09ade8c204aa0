"""The page's start-up time and its responsiveness while a run goes on; optionally the README's screenshot.

    python benchmarks/bench_app.py [--years 10] [--replications 8] [--screenshot docs/app.png]

Start-up: from launching ``opvangsim app`` (a new process) to the server's first answer to
``GET /``, three times (target, issue 15: under 5 s), and from opening the page in headless
Chromium to its levers being shown. Responsiveness: while the proposal (deadline 36 months)
runs against the baseline, the language switch is clicked again and again, and each time the
wait from the click to the Run button's new label is measured: a round trip browser → server →
browser, the page's own work included. Reported per phase (simulating; comparing and drawing),
with the median, the 95th percentile and the largest wait. Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cache: Path) -> tuple[subprocess.Popen, str, float]:
    """Launch the app; return it, its URL and the seconds until ``GET /`` answered 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sim.cli", "app", "--port", str(port), "--no-browser", "--cache", str(cache), "--language", "en"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - t0 < 60:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the app did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def summary(waits: list[float]) -> str:
    if not waits:
        return "no samples"
    ms = sorted(1000 * w for w in waits)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{len(ms)} clicks: median {statistics.median(ms):.0f} ms, 95th percentile {p95:.0f} ms, largest {ms[-1]:.0f} ms"


def shrink(png: Path) -> None:
    """256 colours without dithering: a third of the size, the same to the eye (the page has few colours)."""
    from PIL import Image

    with Image.open(png) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(png, optimize=True)


def switch(page, lang: str, labels: dict[str, str], waits: list[float]) -> str:
    """Click the other language; wait until the Run button says so; note how long that took; return the language."""
    lang = "nl" if lang == "en" else "en"
    t0 = time.perf_counter()
    page.locator(".language button", has_text="Nederlands" if lang == "nl" else "English").click()
    page.locator(".run-button button", has_text=re.compile(f"^{labels[lang]}$")).wait_for()
    waits.append(time.perf_counter() - t0)
    time.sleep(0.2)
    return lang


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=10, help="run length of both arms (default 10)")
    ap.add_argument("--replications", type=int, default=8, help="replications of each arm (default 8)")
    ap.add_argument("--screenshot", help="write a full-page screenshot of the answer here (e.g. docs/app.png)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        starts = []
        for i in range(3):
            proc, url, seconds = start(Path(tmp) / "cache")
            starts.append(seconds)
            if i < 2:
                stop(proc)
        print(f"start-up (process launch to the first page served): {', '.join(f'{s:.2f}' for s in starts)} s")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(url)
                page.locator(".lever-deadline input").wait_for()
                print(f"page shown (open to levers visible): {time.perf_counter() - t0:.2f} s")
                for lever, value in (("deadline", 36), ("horizon", args.years), ("replications", args.replications)):
                    box = page.locator(f".lever-{lever} input")
                    box.fill(str(value))
                    box.press("Enter")
                run = page.locator(".run-button button")
                enabled = page.locator(".run-button button:not([disabled])")
                enabled.wait_for()
                lang, labels = "en", {"en": "Run", "nl": "Doorrekenen"}
                idle = []
                for _ in range(10):
                    lang = switch(page, lang, labels, idle)
                t_run = time.perf_counter()
                run.click()
                waits: dict[str, list[float]] = {"idle (before the run)": idle, "running": [], "analysing": []}
                while not page.locator("#answer p.lead").count():
                    phase = "analysing" if page.locator(".status-analysing").count() else "running"
                    lang = switch(page, lang, labels, waits[phase])
                print(
                    f"run of {2 * args.replications} × {args.years:g} years to the answer shown: {time.perf_counter() - t_run:.1f} s"
                )
                for phase, w in waits.items():
                    print(f"language switch while {phase}: {summary(w)}")
                if lang != "en":
                    page.locator(".language button", has_text="English").click()
                enabled.wait_for()
                t0 = time.perf_counter()
                run.click()
                page.locator(".status-done", has_text="from the cache").wait_for()
                page.locator("#answer p.lead").wait_for()
                print(f"the same proposal again (from the cache): {time.perf_counter() - t0:.2f} s")
                if args.screenshot:
                    page.locator(".figure-capacity_pipeline img").wait_for()
                    page.screenshot(path=args.screenshot, full_page=True)
                    shrink(Path(args.screenshot))
                    print(f"screenshot: {args.screenshot}")
                browser.close()
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
