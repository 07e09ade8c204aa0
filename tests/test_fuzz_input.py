"""Fuzzing the input: no TOML document and no ``--set`` value makes opvangsim print a traceback.

Hypothesis writes scenario files that change a few real keys of the schema (to values of the
right type at its edges: zero, negative, huge, infinite, not a number; or of a wrong type), add
unknown keys, or are not TOML at all, and adds ``--set`` overrides of the same kinds. Whatever it
writes, ``validate`` and a short ``run`` end with status 0 or 2, a refusal is one line, and what
``validate`` accepts ``run`` runs (status 0, never a crash inside a run).

The default version tries 60 documents with runs of a week; ``pytest -m slow`` tries 400 with runs
of 45 days.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import pytest
import tomli_w
from conftest import BASELINE
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario import Scenario


def _leaves(value, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*prefix, str(k)))]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*prefix, str(i)))]
    return [(prefix, value)]


# every value of the default scenario, by key path (list items by index, as --set addresses them)
LEAVES = [(path, value) for path, value in _leaves(Scenario().model_dump()) if path[0] != "source_file"]
# a TOML document cannot address one item of a list by index (--set can)
DOCUMENT_LEAVES = [(path, value) for path, value in LEAVES if not any(p.isdigit() for p in path)]
SECTIONS = sorted({path[0] for path, _ in LEAVES if len(path) > 1})

huge_ints = st.sampled_from([0, -1, -(10**6), 10**9, 10**18, 10**30, 2**63])
edge_floats = st.sampled_from([0.0, -0.0, -1.0, 1e-300, 1e300, -1e300, float("inf"), float("-inf"), float("nan")])
junk = st.one_of(
    st.text(max_size=12), st.booleans(), huge_ints, edge_floats, st.lists(st.integers(-5, 5), max_size=3), st.dates()
)


def value_like(default) -> st.SearchStrategy:
    """A value near the default (0 to twice it), at the edges of its type, or of another type."""
    if isinstance(default, bool):
        near = edges = st.booleans()
    elif isinstance(default, int):
        near, edges = st.integers(0, max(2 * default, 10)), st.one_of(huge_ints, st.integers(-100, 10**6))
    elif isinstance(default, float):
        near, edges = st.floats(0, max(2 * default, 1.0)), st.one_of(edge_floats, st.floats(-1e6, 1e6), huge_ints)
    elif isinstance(default, dt.date):
        near = st.dates(default - dt.timedelta(days=400), default + dt.timedelta(days=400))
        edges = st.dates(dt.date(1900, 1, 1), dt.date(2300, 1, 1))
    elif isinstance(default, (list, tuple)):
        item = value_like(default[0]) if default else junk
        near = st.lists(item, min_size=len(default), max_size=len(default))
        edges = st.lists(item, max_size=14)
    elif isinstance(default, str):
        near, edges = st.just(default), st.text(max_size=20)
    else:
        near = edges = junk
    return st.one_of(near, near, near, near, edges, junk)


@st.composite
def documents(draw) -> dict:
    doc: dict = {}
    for path, default in draw(st.lists(st.sampled_from(DOCUMENT_LEAVES), max_size=4)):
        node = doc
        for part in path[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            node[path[-1]] = draw(value_like(default))
    if draw(st.sampled_from(range(10))) == 7:  # rarely
        doc[draw(st.sampled_from(SECTIONS))] = draw(junk)  # a section given as a value
    if draw(st.sampled_from(range(10))) == 7:  # rarely
        doc[draw(st.text(min_size=1, max_size=8))] = draw(junk)  # an unknown key
    return doc


def toml_literal(value) -> str:
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


@st.composite
def set_options(draw) -> list[str]:
    out = []
    for path, default in draw(st.lists(st.sampled_from(LEAVES), max_size=2)):
        key = ".".join(path)
        if draw(st.booleans()):
            text = toml_literal(draw(value_like(default)))
        else:
            text = draw(st.text(max_size=12).filter(lambda t: "\n" not in t and "\r" not in t))
        out += ["--set", f"{key}={text}"]
    if draw(st.sampled_from(range(20))) == 7:  # rarely (hypothesis favours the ends of a range)
        out += ["--set", draw(st.text(max_size=15).filter(lambda t: not t.startswith("-")))]
    return out


@st.composite
def files(draw) -> bytes:
    """Scenario files: mostly TOML documents that extend the baseline, sometimes not TOML at all."""
    kind = draw(st.sampled_from(range(20)))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    doc = draw(documents())
    return f'extends = "{BASELINE.as_posix()}"\n'.encode() + tomli_w.dumps(doc).encode()


def check(text: bytes, options: list[str], days: int = 7) -> None:
    import contextlib
    import io

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "fuzz.toml"
        f.write_bytes(text)
        for argv in (
            ["validate", str(f), *options],
            # `days` from the file's start (that end date may not suit the file: then refused, not crashed)
            ["run", str(f), "--quiet", "--out", str(Path(tmp) / "out"), "--until", _days_in(text, days), *options],
        ):
            err, out = io.StringIO(), io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code = main(argv)
            message = err.getvalue().strip()
            assert "Traceback" not in message, message
            assert code in (0, 2), f"{argv[0]} ended with {code}: {message}"
            if code == 2:
                assert len(message.splitlines()) == 1 and message.startswith("opvangsim: error: "), message
            results[argv[0]] = (code, message)
    # what validate accepts, run runs, unless --until is what does not suit the file
    (valid, _), (ran, message) = results["validate"], results["run"]
    if currently_in_test_context():  # (also checks single cases outside a hypothesis test)
        event(f"validate {valid}, run {ran}")
    if valid == 0 and ran == 2:
        assert "--until" in message, f"validate accepted what run refused: {message}"


def _days_in(text: bytes, days: int) -> str:
    import tomllib

    try:
        start = tomllib.loads(text.decode()).get("start_date", dt.date(2026, 1, 1))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        start = dt.date(2026, 1, 1)
    if not isinstance(start, dt.date) or not dt.date(1900, 1, 1) <= start <= dt.date(2299, 1, 1):
        start = dt.date(2026, 1, 1)
    return (start + dt.timedelta(days=days)).isoformat()


FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=60, **FUZZ)
@given(text=files(), options=set_options())
def test_no_document_or_set_value_gives_a_traceback(text, options):
    check(text, options)


@pytest.mark.slow
@settings(max_examples=400, **FUZZ)
@given(text=files(), options=set_options())
def test_no_document_or_set_value_gives_a_traceback_in_400_examples(text, options):
    check(text, options, days=45)  # past the first capacity estimate (1 February) of most scenarios


def test_a_negative_zero_reads_as_zero():
    """-0.0 passes every bound that 0 passes, but numpy refuses to draw between 0 and -0: a run crashed with a
    traceback on ``status_holder_wait_days = -0.0`` (found by the 400-example fuzzing). A negative zero reads
    as zero, in a document, with ``--set``, written as a string, and inside a list."""
    for value in ("-0.0", '"-0.0"'):
        doc = f'extends = "{BASELINE.as_posix()}"\n[initial_state]\nstatus_holder_wait_days = {value}\n'.encode()
        check(doc, [], days=45)
        check(
            f'extends = "{BASELINE.as_posix()}"\n'.encode(), ["--set", f"initial_state.status_holder_wait_days={value}"], days=45
        )
    for value in (-0.0, "-0.0"):
        s = Scenario.model_validate(
            {"initial_state": {"status_holder_wait_days": value}, "reception": {"emergency": {"lead_time_days": [value, -0.0]}}}
        )
        assert math.copysign(1, s.initial_state.status_holder_wait_days) == 1
        assert [math.copysign(1, x) for x in s.reception.emergency.lead_time_days] == [1, 1]
