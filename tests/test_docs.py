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


def test_validation_md_has_the_stored_calibration_and_rolling_origin_results():
    """validation.md's calibration and rolling-origin sections are generated from the stored files
    (calibration/backtest_2015_2022/, docs/evaluation/): regenerating them runs nothing."""
    from sim.docs import calibration_markdown, rolling_origin_markdown

    text = (DOCS / "validation.md").read_text()
    assert calibration_markdown() in text, "docs/validation.md is stale: run `python -m sim.docs`"
    assert rolling_origin_markdown() in text, "docs/validation.md is stale: run `python -m sim.docs`"
