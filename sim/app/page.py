"""The page (Panel): levers on the left, the answer and its figures on the right.

One :class:`Page` per browser session. A change of a lever checks the proposal
at once (:func:`sim.app.levers.check`) and puts the schema's message next to
the control. "Run" stages the proposal (:func:`sim.app.proposal.stage`) and
starts a :class:`~sim.app.proposal.Job` in a background thread; a timer of the
session reads the job's state a few times a second and moves the progress
bar, so the page never waits on a run. Nothing here computes the answer: the
job does, and the page only shows it.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import panel as pn

from sim.app import answer as ans
from sim.app import i18n
from sim.app import levers as lv
from sim.app import proposal as pr
from sim.app.i18n import t
from sim.errors import UserInputError

POLL_MS = 250  # how often the page reads a running job's state
SIDEBAR_PX = 430
SECTIONS = (  # (heading key, levers)
    (
        "section_law",
        (
            "deadline",
            "cycle",
            "enforced",
            "uncertainty",
            "uncertainty_start",
            "uncertainty_end",
            "incentive",
            "amv_size",
            "reserve",
        ),
    ),
    ("section_inflow", ("inflow_path", "inflow_level")),
    ("section_run", ("horizon", "window_from", "window_to", "replications", "year_ac_days")),
)
GROUP_ERROR_AFTER = {"uncertainty_end": "uncertainty", "inflow_level": "inflow", "window_to": "window"}
CSS = """
:host { font-family: system-ui, sans-serif; }
.help { color: #555; font-size: 0.85em; margin: -4px 0 2px 0; }
.help .src { color: #888; }
.error { color: #a40000; font-weight: 600; font-size: 0.9em; }
.answer p { line-height: 1.45; max-width: 62em; }
.answer p.lead { font-size: 1.08em; }
.answer table { border-collapse: collapse; margin-top: 0.5em; }
.answer td, .answer th { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: right; }
.status { color: #333; }
"""


@dataclass(frozen=True)
class AppConfig:
    """What ``opvangsim app`` was started with: where the scenarios and the cache are, and how runs run."""

    scenario_dir: Path
    cache: Path
    executor: Callable[[], Any]  # a fresh executor for each run (worker processes or a Dask scheduler)
    executor_label: str
    language: str = i18n.DEFAULT_LANGUAGE


def _html(text: str, cls: str) -> str:
    return f'<div class="{cls}">{text}</div>' if text else ""


class Page:
    """The page of one browser session."""

    def __init__(self, config: AppConfig):
        self.config = config
        self.lang = config.language
        self.scenarios = lv.scenario_files(config.scenario_dir)
        self.job: pr.Job | None = None
        self.staged: pr.Staged | None = None
        self.answer: dict | None = None
        self._quiet = False  # while the levers are set from a starting scenario, their watchers do nothing
        self._final: pr.JobState | None = None  # how the last job ended

        self.language = pn.widgets.RadioButtonGroup(
            options={"Nederlands": "nl", "English": "en"}, value=self.lang, css_classes=["language"], button_type="light"
        )
        self.title = pn.pane.HTML("", css_classes=["title"], stylesheets=[CSS])
        self.start = pn.widgets.Select(
            options=list(self.scenarios), value=next(iter(self.scenarios)), css_classes=["lever-start"]
        )
        self.start_help = pn.pane.HTML("", stylesheets=[CSS])
        self.widgets: dict[str, Any] = {}
        self.helps: dict[str, pn.pane.HTML] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        self.headings = {key: pn.pane.HTML("", stylesheets=[CSS], margin=(12, 10, 0, 10)) for key, _ in SECTIONS}
        values = lv.start_values(lv.load_start(self.start_file).scenario)
        for lever in lv.LEVERS:
            self.widgets[lever.name] = self._widget(lever, values[lever.name])
            self.helps[lever.name] = pn.pane.HTML("", stylesheets=[CSS], margin=(0, 10))
            slot = lever.group if lever.group in ("uncertainty", "window", "inflow") else lever.name
            if slot == lever.name or lever.name in GROUP_ERROR_AFTER:
                self.errors[slot] = pn.pane.HTML(
                    "", css_classes=["lever-error", f"error-{slot}"], stylesheets=[CSS], margin=(0, 10)
                )
        self.run_button = pn.widgets.Button(button_type="primary", css_classes=["run-button"], width=160)
        self.cancel_button = pn.widgets.Button(button_type="warning", css_classes=["cancel-button"], width=120, disabled=True)
        self.progress = pn.indicators.Progress(
            value=0, max=1, visible=False, css_classes=["run-progress"], sizing_mode="stretch_width"
        )
        self.status = pn.pane.HTML("", css_classes=["run-status"], stylesheets=[CSS])
        self.general_error = pn.pane.HTML("", css_classes=["general-error"], stylesheets=[CSS])
        self.answer_pane = pn.pane.HTML("", css_classes=["answer"], stylesheets=[CSS], sizing_mode="stretch_width")
        self.figures_heading = pn.pane.HTML("", stylesheets=[CSS])
        self.figures = pn.Column(sizing_mode="stretch_width")
        self.downloads_heading = pn.pane.HTML("", stylesheets=[CSS])
        self.downloads = pn.Row()
        self.intro = pn.pane.HTML("", stylesheets=[CSS], sizing_mode="stretch_width")

        self.language.param.watch(self._on_language, "value")
        self.start.param.watch(self._on_start, "value")
        for widget in self.widgets.values():
            widget.param.watch(self._on_lever, "value")
        self.run_button.on_click(self._on_run)
        self.cancel_button.on_click(self._on_cancel)
        self._texts()
        self._check()

    # ------------------------------------------------------------------ building

    @property
    def start_file(self) -> Path:
        return self.scenarios[self.start.value]

    def _widget(self, lever: lv.Lever, value: Any) -> Any:
        common = {"css_classes": [f"lever-{lever.name}"], "width": SIDEBAR_PX - 40}
        if lever.kind == "bool":
            return pn.widgets.Checkbox(value=bool(value), **common)
        if lever.kind in ("date", "optional_date"):
            return pn.widgets.DatePicker(value=value, **common)
        if lever.kind == "choice":
            return pn.widgets.Select(options={p: p for p in lv.PATHS}, value=value, **common)
        if lever.kind == "int":
            return pn.widgets.IntInput(value=value, step=1, **common)
        return pn.widgets.FloatInput(value=value, step=_step(lever), **common)

    def view(self) -> pn.viewable.Viewable:
        """The page's layout; its session timer starts here."""
        side = [self.start, self.start_help]
        for heading, names in SECTIONS:
            side.append(self.headings[heading])
            for name in names:
                lever = lv.BY_NAME[name]
                side += [self.widgets[name], self.helps[name]]
                slot = GROUP_ERROR_AFTER.get(name, name if not lever.group else None)
                if slot in self.errors:
                    side.append(self.errors[slot])
        controls = pn.Column(
            pn.Row(self.run_button, self.cancel_button),
            self.progress,
            self.status,
            self.general_error,
            sizing_mode="stretch_width",
        )
        sidebar = pn.Column(*side, width=SIDEBAR_PX, css_classes=["levers"])
        main = pn.Column(
            pn.Row(self.title, pn.layout.HSpacer(), self.language, sizing_mode="stretch_width"),
            self.intro,
            controls,
            self.answer_pane,
            self.figures_heading,
            self.figures,
            self.downloads_heading,
            self.downloads,
            sizing_mode="stretch_width",
        )
        pn.state.add_periodic_callback(self._poll, period=POLL_MS)
        return pn.Row(sidebar, main, sizing_mode="stretch_width")

    # ------------------------------------------------------------------ texts

    def _texts(self) -> None:
        """Every label in the chosen language."""
        lang = self.lang
        self.title.object = f"<h2>{html.escape(t('title', lang))}</h2>"
        self.intro.object = f"<p>{html.escape(t('intro', lang))}</p><p class='help'>{html.escape(self.config.executor_label)}</p>"
        self.start.name = t("start", lang)
        try:
            description = lv.load_start(self.start_file).scenario.description
        except UserInputError:
            description = ""  # the message stands under the Run button (_check)
        self.start_help.object = _html(html.escape(t("start_help", lang, description=description)), "help")
        for key, pane in self.headings.items():
            pane.object = f"<h3>{html.escape(t(key, lang))}</h3>"
        for lever in lv.LEVERS:
            doc = lv.lever_doc(lever)
            unit = t(f"unit.{doc.unit}", lang) if f"unit.{doc.unit}" in i18n.TEXT else doc.unit
            label = t(f"lever.{lever.name}", lang)
            widget = self.widgets[lever.name]
            widget.name = label if lever.kind in ("bool", "choice") or unit in ("–", "-") else f"{label} ({unit})"
            explanation = doc.description if lang == "en" else i18n.HELP_NL[lever.name]
            self.helps[lever.name].object = _html(
                f"{html.escape(explanation)} <span class='src'>— {t('source', lang)}: {html.escape(doc.source)}</span>", "help"
            )
        self.widgets["inflow_path"].options = {t(f"path.{p}", lang): p for p in lv.PATHS}
        self.run_button.name = t("run", lang)
        self.cancel_button.name = t("cancel", lang)
        self._show_state()
        self._show_answer()

    # ------------------------------------------------------------------ levers

    def values(self) -> dict[str, Any]:
        return {name: widget.value for name, widget in self.widgets.items()}

    def _on_language(self, event) -> None:
        self.lang = event.new
        with pn.io.hold():  # one message to the browser instead of one per label
            self._texts()

    def _on_start(self, event) -> None:
        try:
            scenario = lv.load_start(self.start_file).scenario
        except UserInputError as exc:
            self.general_error.object = _html(html.escape(str(exc)), "error")
            return
        keep = {n: self.widgets[n].value for n in ("replications", "year_ac_days")}
        values = {**lv.start_values(scenario), **keep}
        self._quiet = True
        try:
            for name, widget in self.widgets.items():
                widget.value = values[name]
        finally:
            self._quiet = False
        self._texts()
        self._check()

    def _on_lever(self, event) -> None:
        if self._quiet:
            return
        if event.obj is self.widgets["year_ac_days"]:
            self._show_answer()  # only the reading changes: nothing to run
        self._check()

    def _check(self) -> bool:
        """Check the proposal; messages next to their controls; the Run button only for a valid proposal."""
        try:
            checked = lv.check(self.start_file, self.values())
        except UserInputError as exc:
            checked = lv.Checked({}, str(exc))
        for slot, pane in self.errors.items():
            pane.object = _html(html.escape(checked.errors.get(slot, "")), "error")
        self.general_error.object = _html(html.escape(checked.general), "error")
        running = self.job is not None
        self.run_button.disabled = running or not checked.ok
        self.widgets["uncertainty_start"].disabled = not self.widgets["uncertainty"].value
        self.widgets["uncertainty_end"].disabled = not self.widgets["uncertainty"].value
        self.widgets["inflow_level"].disabled = self.widgets["inflow_path"].value == "as_start" and self._replays()
        return checked.ok

    def _replays(self) -> bool:
        try:
            return lv.load_start(self.start_file).scenario.inflow.mode == "replay"
        except UserInputError:
            return False

    # ------------------------------------------------------------------ running

    def _on_run(self, event) -> None:
        if self.job is not None:
            self.status.object = _html(t("status.busy", self.lang), "status")
            return
        if not self._check():
            self.status.object = _html(t("status.invalid", self.lang), "status")
            return
        try:
            staged = pr.stage(self.config.cache, self.start_file, self.values())
        except (UserInputError, OSError) as exc:  # OSError: the cache cannot be written
            self.general_error.object = _html(html.escape(str(exc)), "error")
            return
        self.staged = staged
        if staged.answered:  # a second look: the answer is there already
            self.answer = ans.load(staged.directory)
            self._final = pr.JobState("done", cached=True)
            with pn.io.hold():
                self._texts()
            return
        self.answer = None
        self._show_answer()
        self.job = pr.Job(staged, self.config.executor, self.widgets["year_ac_days"].value).start()
        self.run_button.disabled = True
        self.cancel_button.disabled = False
        self.progress.visible = True
        self.progress.max = 2 * staged.replications
        self.progress.value = 0
        self._show_state()

    def _on_cancel(self, event) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.disabled = True
            self._show_state()

    def _poll(self) -> None:
        """The session timer: show a running job's progress; when it ends, show its answer."""
        if self.job is None:
            return
        with pn.io.hold():
            self._show_progress(self.job.state())

    def _show_progress(self, state: pr.JobState) -> None:
        self.progress.max = max(1, state.total)
        self.progress.value = min(state.done, state.total)
        self._show_state()
        if state.phase in ("done", "failed", "cancelled"):
            self.job = None
            self.progress.visible = False
            self.cancel_button.disabled = True
            self._final = state
            if state.phase == "done":
                self.answer = state.answer
                self._texts()
            self._check()

    def _show_state(self) -> None:
        lang = self.lang
        state = self.job.state() if self.job is not None else self._final
        if state is None:
            text = t("status.idle", lang)
        elif self.job is not None and self.job.cancelling:
            text = t("status.stopping", lang)
        elif state.phase in ("starting", "analysing"):
            text = t(f"status.{state.phase}", lang)
        elif state.phase == "running":
            arm = t("arm.start", lang) if self.staged and state.arm == self.staged.baseline else t("arm.proposal", lang)
            text = t("status.running", lang, done=state.done, total=state.total, arm=arm)
        elif state.phase == "done":
            text = (
                t("status.cached", lang) if state.cached else t("status.done", lang, seconds=i18n.number(state.seconds, lang, 2))
            )
        elif state.phase == "cancelled":
            text = t("status.cancelled", lang)
        else:
            text = t("status.failed", lang, message=state.message)
        self.status.object = _html(html.escape(text), f"status status-{state.phase if state else 'idle'}")

    # ------------------------------------------------------------------ the answer

    def _show_answer(self) -> None:
        lang = self.lang
        shown = bool(self.answer and self.staged)
        self.figures_heading.object = f"<h3>{html.escape(t('figures.heading', lang))}</h3>" if shown else ""
        self.downloads_heading.object = f"<h3>{html.escape(t('downloads.heading', lang))}</h3>" if shown else ""
        if not shown:
            self.answer_pane.object = f"<div id='answer-none'><p class='help'>{html.escape(t('answer.none', lang))}</p></div>"
            self.figures.objects = []
            self.downloads.objects = []
            return
        n = self.widgets["year_ac_days"].value
        n = n if isinstance(n, int) and n >= 0 else lv.DEFAULT_YEAR_AC_DAYS
        sentences = ans.words(self.answer, lang, n)
        rows = ans.year_table(self.answer, lang, n)
        table = ""
        if rows:
            head = [t("table.year", lang), t("table.days", lang), t("arm.proposal", lang), t("arm.start", lang)]
            table = (
                f"<p class='help'>{html.escape(t('table.title', lang, n=n))}</p><table>"
                + "<tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
                + "</table>"
            )
        body = "".join(f"<p class='{'lead' if i == 0 else ''}'>{html.escape(s)}</p>" for i, s in enumerate(sentences))
        self.answer_pane.object = (
            f"<div id='answer' lang='{lang}'><h3>{html.escape(t('answer.heading', lang))}</h3>{body}{table}</div>"
        )
        figures = []
        for name in ans.FIGURES:
            entry = self.answer["figures"].get(name, {})
            caption = f"<h4>{html.escape(t(f'figure.{name}', lang))}</h4>"
            if "skipped" in entry:
                figures.append(
                    pn.pane.HTML(caption + _html(html.escape(t("figure.skipped", lang, why=entry["skipped"])), "help"))
                )
                continue
            figures.append(pn.pane.HTML(caption, margin=(10, 10, 0, 10)))
            figures.append(
                pn.pane.PNG(
                    self.staged.directory / entry[lang],
                    css_classes=["figure", f"figure-{name}"],
                    sizing_mode="scale_width",
                    max_width=1210,
                )
            )
        self.figures.objects = figures
        self.downloads.objects = self._download_buttons()

    def _download_buttons(self) -> list:
        staged, lang = self.staged, self.lang

        def button(what: str, filename: str, **source: Any) -> pn.widgets.FileDownload:
            return pn.widgets.FileDownload(
                filename=filename, label=t(f"download.{what}", lang), css_classes=[f"download-{what}"], **source
            )

        buttons = [
            button("scenario", f"proposal-{staged.key}.zip", callback=lambda: io.BytesIO(pr.scenario_zip(staged)), embed=False),
            button("proposal", "proposal.toml", file=str(staged.directory / "proposal.toml")),
            button("results", f"results-{staged.key}.zip", callback=lambda: io.BytesIO(pr.results_zip(staged)), embed=False),
        ]
        if pr.report_html(staged).is_file():
            buttons.append(button("report", f"report-{staged.key}.html", file=str(pr.report_html(staged))))
        return buttons


def _step(lever: lv.Lever) -> float:
    return {"incentive": 100.0, "inflow_level": 1000.0, "horizon": 0.5}.get(lever.name, 1.0)


def make_page(config: AppConfig) -> Callable[[], pn.viewable.Viewable]:
    """The function Panel calls for every new session."""

    def page() -> pn.viewable.Viewable:
        return Page(config).view()

    return page
