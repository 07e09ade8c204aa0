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
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def param(default: Any, *, unit: str, desc: str, source: str, **bounds: Any) -> Any:
    """A schema field with its unit, one-line description and source of the default.

    ``source`` follows the convention of this module's docstring (e.g.
    "sources §ind-production: ...", "data/municipalities.csv", "estimate: ...").
    ``bounds`` are pydantic constraints (ge, le, gt, lt, min_length...).
    """
    extra = {"unit": unit, "source": source}
    if isinstance(default, (list, dict)):
        value = default
        return Field(default_factory=lambda: copy.deepcopy(value), description=desc, json_schema_extra=extra, **bounds)
    return Field(default, description=desc, json_schema_extra=extra, **bounds)
