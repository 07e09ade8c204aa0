"""Every source a parameter cites resolves inside the repository.

A user who clones opvangsim must be able to check each default: its ``source``
cites a section of docs/sources.md (``sources §<anchor>``) or a file under
sim/data/ (``data/<path>``), or says which kind of value it is (estimate,
fitted, scenario choice, model choice). The convention is in sim/params.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from sim.docs import ROOT, source_anchors
from sim.experiment import Experiment
from sim.params import SECTION_PATTERN, Strict, param, source_problems
from sim.scenario import Scenario, field_docs

ANCHORS = set(source_anchors())


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """Pydantic models inside an annotation, with the key suffix their fields get ("." or "[].")."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(".", annotation)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple, set, dict):
        items = args[1:] if origin is dict else args
        return [("[].", m) for a in items for _, m in _models_in(a)]
    return [found for a in args for found in _models_in(a)]  # unions, Optional


def schema_sources(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str | None]]:
    """(key path, source) of every field of a schema, nested, list and dict models included."""
    out = []
    for name, field in model.model_fields.items():
        key = prefix + name
        out.append((key, (field.json_schema_extra or {}).get("source")))
        for suffix, sub in _models_in(field.annotation):
            out += schema_sources(sub, key + suffix)
    return out


def value_sources(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(key path, value) of every ``source`` field set in a default instance (e.g. each project type's)."""
    out = []
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name == "source" and isinstance(value, str):
                out.append((prefix + name, value))
            else:
                out += value_sources(value, f"{prefix}{name}.")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += value_sources(v, f"{prefix}{k}.")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += value_sources(v, f"{prefix}{i}.")
    return out


def unresolved(pairs: list[tuple[str, str | None]]) -> list[str]:
    bad = []
    for key, source in pairs:
        if source is None:
            bad.append(f"{key}: no source")
        else:
            bad += [f"{key}: {problem} in {source!r}" for problem in source_problems(source, ANCHORS)]
    return bad


def test_sources_md_anchors_are_unique():
    anchors = source_anchors()
    assert len(anchors) == len(set(anchors)), sorted(a for a in anchors if anchors.count(a) > 1)
    assert {"estimate", "fitted", "scenario-choice", "model-choice"} <= ANCHORS


@pytest.mark.parametrize("schema", [Scenario, Experiment], ids=lambda m: m.__name__)
def test_every_schema_source_resolves(schema):
    pairs = schema_sources(schema)
    assert len(pairs) > 20  # the walk reached the nested sections
    bad = unresolved(pairs)
    assert not bad, "sources that resolve nowhere:\n" + "\n".join(bad)


def test_every_source_in_the_default_scenario_resolves():
    """Sources as docs/parameters.md shows them (a section's or item's own source overrides its fields')."""
    bad = unresolved([(r["key"], r["source"]) for r in field_docs()])
    bad += unresolved(value_sources(Scenario()))
    assert not bad, "sources that resolve nowhere:\n" + "\n".join(bad)


def test_the_check_catches_citations_that_resolve_nowhere():
    class Leaf(Strict):
        days: int = param(1, unit="days", desc="-", source="facts §3: about 3 days")
        file: str = param("x", unit="-", desc="-", source="data/no_such_file.csv")

    class Item(Strict):
        share: float = param(0.5, unit="share", desc="-", source="sources §no-such-anchor")

    class Root(Strict):
        leaf: Leaf = param(Leaf(), unit="-", desc="-", source="design.md")
        items: dict[str, Item] = param({}, unit="-", desc="-", source="estimate")
        fine: int = param(2, unit="-", desc="-", source="estimate within sources §location-types")
        vague: int = param(3, unit="-", desc="-", source="a guess")

    bad = unresolved(schema_sources(Root))
    assert sorted({b.split(":")[0] for b in bad}) == ["items[].share", "leaf", "leaf.days", "leaf.file", "vague"]


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("sources §ter-apel-norm: norm 2,000", True),
        ("sources §inflow-per-year and data/history/inflow_replay.csv: 16,470", True),
        ("data/municipalities.csv: task_2026", True),
        ("estimate", True),
        ("scenario choice; sources §seed-letter", True),
        ("model choice: set by the loader", True),
        ("fitted", True),
        ("facts §3", False),
        ("estimate within facts §6", False),
        ("sources §ter-apel-norm and §registration", False),  # every § is a full `sources §` citation
        ("sources §Ter-Apel", False),
        ("data/README.md", False),
        ("estimates from the press", False),  # "estimates" is not the kind "estimate"
        ("model choice: see design.md", False),
        ("", False),
    ],
)
def test_source_convention(source, ok):
    assert (source_problems(source, ANCHORS) == []) is ok


TEXT_FILES = sorted(
    [*ROOT.glob("scenarios/*.toml"), *ROOT.glob("experiments/*.toml"), *ROOT.glob("docs/*.md"), ROOT / "README.md"]
    + [*ROOT.glob("sim/**/*.md"), *ROOT.glob("sim/**/*.py"), *ROOT.glob("sim/data/**/*.csv")]
)


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_cite_sources_inside_the_repository(path: Path):
    """No "facts §N" or shared/ paths (outside the repository); every `sources §<anchor>` exists."""
    text = path.read_text()
    stale = [m.group(0) for m in re.finditer(r"facts §\S*|facts\.md|\bshared/\S*", text)]
    unknown = [a for a in SECTION_PATTERN.findall(text) if a not in ANCHORS]
    assert not stale, f"{path.relative_to(ROOT)} cites outside the repository: {stale}"
    assert not unknown, f"{path.relative_to(ROOT)} cites unknown sources.md anchors: {unknown}"
