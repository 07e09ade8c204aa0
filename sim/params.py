"""Helpers for declaring scenario parameters with a unit, a description and a source.

Every parameter of the scenario schema is declared with :func:`param`, so that
`docs/parameters.md` can be generated from the schema and every default says
where its number comes from. The ``source`` string follows one convention
(checked by ``tests/test_sources.py``):

- it cites ``sources §<anchor>`` (one or more times), where ``<anchor>`` is the
  id of a heading in ``docs/sources.md`` (lowercase, hyphenated: the heading
  "IND production" is ``sources §ind-production``); every ``§`` in a source
  must be part of such a citation;
- and/or it cites a shipped file ``data/<path>`` that exists under ``sim/data/``;
- or, with or without citations, it starts with one of the kinds in
  :data:`SOURCE_KINDS` ("estimate", "fitted", "scenario choice", "model choice",
  explained under "Modelling choices" in ``docs/sources.md``), optionally
  followed by text: ``"estimate within sources §location-types: 1–8 weeks"``.

A source with no citation that does not start with a kind is an error, as is a
citation that resolves nowhere.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# The kinds of value a default without a published source can be (docs/sources.md, "Modelling choices").
SOURCE_KINDS = ("estimate", "fitted", "scenario choice", "model choice")
KIND_PATTERN = re.compile(r"^(?:estimate|fitted|scenario choice|model choice)\b")
# `sources §<anchor>`: a heading id of docs/sources.md.
SECTION_PATTERN = re.compile(r"sources §([a-z0-9]+(?:-[a-z0-9]+)*)")
# `data/<path>`: a file or directory under sim/data/ (not part of a longer path such as sim/data/...).
DATA_PATTERN = re.compile(r"(?<![\w/])data/[\w./-]*\w")
DATA_DIR = Path(__file__).parent / "data"
# The project's working notes that are not in the repository: a user who clones it cannot check them.
OUTSIDE_PATTERN = re.compile(r"facts\.md|design\.md|shared[/]")


def source_problems(source: str, anchors: set[str], data_dir: Path = DATA_DIR) -> list[str]:
    """What is wrong with a parameter's ``source`` under the convention above ([] when it resolves).

    ``anchors`` are the heading ids of docs/sources.md (:func:`sim.docs.source_anchors`).
    """
    problems = []
    sections = SECTION_PATTERN.findall(source)
    files = DATA_PATTERN.findall(source)
    if source.count("§") != len(sections):
        problems.append("a '§' that is not part of a `sources §<anchor>` citation")
    problems += [f"unknown anchor `sources §{a}` (no such heading in docs/sources.md)" for a in sections if a not in anchors]
    problems += [f"`{f}` does not exist under sim/data/" for f in files if not (data_dir / f.removeprefix("data/")).exists()]
    if OUTSIDE_PATTERN.search(source):
        problems.append("cites a note outside the repository: cite docs/sources.md instead")
    if not sections and not files and not KIND_PATTERN.match(source):
        problems.append(f"cites nothing and does not start with one of {', '.join(SOURCE_KINDS)}")
    return problems


def _accepts_bool(annotation: Any) -> bool:
    """Whether a field of this type may hold true/false (a bool, or Any)."""
    if annotation is bool or annotation is Any:
        return True
    return any(_accepts_bool(a) for a in get_args(annotation) if get_origin(annotation) in (Union, UnionType, Literal))


def _items_type(annotation: Any) -> Any:
    """The type of the items of a list, tuple or dict field (None for other fields)."""
    for option in [annotation, *get_args(annotation)]:
        origin, args = get_origin(option), get_args(option)
        if origin in (list, tuple) and args:
            return Union[tuple(a for a in args if a is not Ellipsis)]  # noqa: UP007 (built from a tuple)
        if origin is dict and len(args) == 2:
            return args[1]
    return None


@functools.cache
def _bool_rule(section: type, field: str) -> tuple[bool, Any]:
    """Whether field ``field`` of ``section`` may hold true/false, and the type of its items when they may not
    (None: no items, or items that may). Read once per field: every field of every scenario loaded asks
    (a run of a scenario that names a posterior loads its particle's: ~3,000 fields). With the merge of
    :func:`sim.scenario._deep_merge` this took a particle's load from ~9 to ~4 ms."""
    annotation = section.model_fields[field].annotation
    items = _items_type(annotation)
    return _accepts_bool(annotation), None if items is None or _accepts_bool(items) else items


def _kind(annotation: Any) -> str:
    args = {annotation, *get_args(annotation)}
    return "a number" if args & {int, float} else "a value of its own type"


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors, values are validated on assignment.

    Numbers must be finite (``inf`` and ``nan`` are refused everywhere), and true/false is not a
    number: ``horizon_years = true`` is refused instead of read as 1. A negative zero (``-0.0``) reads as
    zero: it passes every bound zero passes, but numpy refuses to draw between 0 and −0.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        accepts, items = _bool_rule(cls, info.field_name)
        if isinstance(value, bool) and not accepts:
            raise ValueError(f"needs {_kind(cls.model_fields[info.field_name].annotation)}, not {str(value).lower()}")
        if items is not None:
            inside = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
            if any(isinstance(v, bool) for v in inside):
                raise ValueError(f"needs items that are {_kind(items)}, not true/false")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _zero_without_sign(cls, value: Any) -> Any:
        # after conversion: a zero written as a string ("-0.0") is a number by now
        return _unsigned_zero(value)


def _unsigned_zero(value: Any) -> Any:
    """``value`` with every negative zero in it (a number, or in a list, tuple or dict of numbers) as zero; a
    section inside it clears its own."""
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, (list, tuple)):
        return type(value)(_unsigned_zero(v) for v in value)
    if isinstance(value, dict):
        return {k: _unsigned_zero(v) for k, v in value.items()}
    return value


def ordered_range(value: tuple[float, float], low: float = 0.0) -> tuple[float, float]:
    """Check a (low, high) range: ``low`` ≤ first ≤ second (for a ``field_validator`` of a range field)."""
    if not low <= value[0] <= value[1]:
        raise ValueError(f"needs [low, high] with {low:g} ≤ low ≤ high, got [{value[0]:g}, {value[1]:g}]")
    return value


# Upper bounds by unit for the numbers that state none. Beyond them a value is impossible for the Dutch
# reception chain (ten million persons or places is more than half the country), and a run would
# exhaust memory or overflow on it (a person is a row; a rate drives how many events there are).
UNIT_LIMITS: dict[str, float] = {
    "persons": 10**7,
    "places": 10**7,
    "applications": 10**7,
    "persons/year": 10**6,
    "applications/year": 10**6,
    "places/year": 10**6,
    "persons/half-year": 10**6,
    "persons/day": 10**5,
    "decisions/week": 10**5,
    "offers/week": 1_000,
    "days": 36_525,  # a hundred years
    "weeks": 5_218,
    "months": 1_200,
    "years": 100,
    "multiplier": 100,
    "share": 100,  # shares that may exceed 1 (a boost, a bias); shares of a whole say le=1 themselves
    "log-share": 10,
    "share per €1,000": 100,
    "-": 10**6,  # dimensionless: weights, coefficients of variation, dispersion
    "euros": 10**12,
    "euros/day": 10**12,
    "euros/place": 10**12,
    "euros/place-day": 10**12,
    "euros/person-night": 10**12,
}


def param(default: Any, *, unit: str, desc: str, source: str, **bounds: Any) -> Any:
    """A schema field with its unit, one-line description and source of the default.

    ``source`` follows the convention of this module's docstring (e.g.
    "sources §ind-production: ...", "data/municipalities.csv", "estimate: ...").
    ``bounds`` are pydantic constraints (ge, le, gt, lt, min_length...). A number without an upper
    bound gets the one of its unit (:data:`UNIT_LIMITS`).
    """
    # a required or optional field is a number if its unit says so ("-" is also the unit of names and choices)
    number = (isinstance(default, (int, float)) and not isinstance(default, bool)) or (default in (None, ...) and unit != "-")
    if number and unit in UNIT_LIMITS and "le" not in bounds and "lt" not in bounds:
        bounds["le"] = UNIT_LIMITS[unit]
    extra = {"unit": unit, "source": source}
    if isinstance(default, (list, dict)):
        value = default
        return Field(default_factory=lambda: copy.deepcopy(value), description=desc, json_schema_extra=extra, **bounds)
    return Field(default, description=desc, json_schema_extra=extra, **bounds)
