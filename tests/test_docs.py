"""docs/parameters.md is generated from the schema and up to date (sources: tests/test_sources.py)."""

from sim.docs import DOCS, parameters_markdown
from sim.scenario import field_docs


def test_parameters_md_is_up_to_date():
    committed = (DOCS / "parameters.md").read_text()
    assert committed == parameters_markdown(), "docs/parameters.md is stale: run `python -m sim.docs --parameters`"


def test_every_parameter_is_in_parameters_md():
    text = (DOCS / "parameters.md").read_text()
    for row in field_docs():
        assert f"`{row['key']}`" in text
