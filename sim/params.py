"""Helpers for declaring scenario parameters with a unit, a description and a source.

Every parameter of the scenario schema is declared with :func:`param`, so that
`docs/parameters.md` can be generated from the schema and every default says
where its number comes from: a row of ``shared/domain/facts.md`` ("facts §N"),
"estimate" (no source; an assumption), or "fitted".
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Base for every scenario section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def param(default: Any, *, unit: str, desc: str, source: str, **bounds: Any) -> Any:
    """A schema field with its unit, one-line description and source of the default.

    ``source`` is "facts §N: ..." for a sourced figure, or starts with "estimate"
    or "fitted". ``bounds`` are pydantic constraints (ge, le, gt, lt, min_length...).
    """
    extra = {"unit": unit, "source": source}
    if isinstance(default, (list, dict)):
        value = default
        return Field(default_factory=lambda: copy.deepcopy(value), description=desc, json_schema_extra=extra, **bounds)
    return Field(default, description=desc, json_schema_extra=extra, **bounds)
