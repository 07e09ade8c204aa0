"""docs/parameters.md is generated from the schema and up to date; every default names its source."""

import re

from sim.docs import DOCS, SOURCE_MARKERS, parameters_markdown
from sim.scenario import field_docs


def test_parameters_md_is_up_to_date():
    committed = (DOCS / "parameters.md").read_text()
    assert committed == parameters_markdown(), "docs/parameters.md is stale: run `python -m sim.docs --parameters`"


def test_every_parameter_is_in_parameters_md():
    text = (DOCS / "parameters.md").read_text()
    for row in field_docs():
        assert f"`{row['key']}`" in text


def _has_source(source: str, rows: dict[str, str], depth: int = 0) -> bool:
    if any(marker in source for marker in SOURCE_MARKERS):
        return True
    # "as other_key": the source of another parameter applies
    m = re.fullmatch(r"as (\S+)", source.strip())
    if m and depth < 3:
        target = [s for k, s in rows.items() if k == m.group(1) or k.endswith("." + m.group(1))]
        return bool(target) and _has_source(target[0], rows, depth + 1)
    return False


def test_every_default_has_a_source():
    rows = field_docs()
    by_key = {r["key"]: r["source"] for r in rows}
    missing = []
    for r in rows:
        if r["default"] == "(required)":
            continue  # no default: the value comes from the scenario (or its parent's default, whose source is listed)
        if not _has_source(r["source"], by_key):
            missing.append(f"{r['key']}: {r['source']!r}")
    assert not missing, "defaults without a source, 'estimate' or 'fitted':\n" + "\n".join(missing)
