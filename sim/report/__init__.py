"""Figures and the self-contained HTML report: ``opvangsim report DIR``.

Every figure is drawn by one function from the loaded results; a figure whose
inputs are missing (no Spreidingswet pipeline, no cycles, no sampling design)
is skipped with a note that the report shows. Figures are written as PNG and
SVG; the HTML embeds the PNGs as base64 data URIs, so the one file opens
anywhere without a network and prints on A4.

The layers, each a module: :mod:`~sim.report.context` (the results and the
tables computed once, shared by the rest), :mod:`~sim.report.figures`,
:mod:`~sim.report.text` (tables and paragraphs), :mod:`~sim.report.html`
(the page) and :mod:`~sim.report.command` (the ``report`` command, which the
command line finds here as ``add_arguments`` and ``main``).
"""

from sim.report.command import add_arguments, main, make_report
from sim.report.context import Context, build_context
from sim.report.figures import FIGURES, Drawn, draw_figures
from sim.report.html import render_html

__all__ = ["FIGURES", "Context", "Drawn", "add_arguments", "build_context", "draw_figures", "main", "make_report", "render_html"]
