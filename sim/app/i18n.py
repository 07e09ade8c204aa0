"""The page's words in Dutch and English, and numbers as each language writes them.

Policy advisers read Dutch; the schema and the model speak English. Every label
of the page is looked up here by key (:func:`t`); a key without a translation
is a defect the tests find (``tests/test_app.py``), not a silent fallback.
"""

from __future__ import annotations

import datetime as dt
import math
import re

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
MONTHS_SHORT = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

TEXT: dict[str, dict[str, str]] = {
    # page
    "title": {"nl": "opvangsim — een voorstel doorrekenen", "en": "opvangsim — try a proposal"},
    "intro": {
        "nl": "Kies een uitgangspunt, zet de knoppen op uw voorstel en klik op Doorrekenen. Het voorstel en het uitgangspunt "
        "worden met dezelfde toevalsgetallen doorgerekend, zodat verschillen door het voorstel komen. Alles blijft op deze computer.",
        "en": "Choose a starting point, set the levers to your proposal and press Run. The proposal and the starting point run "
        "with the same random numbers, so differences come from the proposal. Nothing leaves this computer.",
    },
    "language": {"nl": "Taal", "en": "Language"},
    "start": {"nl": "Uitgangspunt (scenario)", "en": "Starting point (scenario)"},
    "start_help": {
        "nl": "een meegeleverd scenariobestand; de knoppen tonen zijn waarden. {description}",
        "en": "a shipped scenario file; the levers show its values. {description}",
    },
    "section_law": {"nl": "De Spreidingswet", "en": "The Spreidingswet"},
    "section_inflow": {"nl": "Instroom", "en": "Inflow"},
    "section_run": {"nl": "Doorrekening", "en": "The run"},
    "run": {"nl": "Doorrekenen", "en": "Run"},
    "cancel": {"nl": "Stoppen", "en": "Cancel"},
    "unit": {"nl": "eenheid", "en": "unit"},
    "source": {"nl": "bron", "en": "source"},
    "on": {"nl": "aan", "en": "on"},
    # levers: label (the unit is the schema's, shown beside it)
    "lever.deadline": {"nl": "Realisatietermijn na de capaciteitsraming", "en": "Realisation deadline after the estimate"},
    "lever.cycle": {"nl": "Duur van de cyclus", "en": "Cycle length"},
    "lever.enforced": {"nl": "Interbestuurlijk toezicht (IBT) handhaaft", "en": "Intergovernmental supervision (IBT) enforces"},
    "lever.uncertainty": {"nl": "Politieke onzekerheid over de wet", "en": "Political uncertainty about the law"},
    "lever.uncertainty_start": {"nl": "Begin van de periode", "en": "Start of the period"},
    "lever.uncertainty_end": {"nl": "Einde van de periode", "en": "End of the period"},
    "lever.incentive": {"nl": "Stimuleringsbijdrage per duurzame plek", "en": "Incentive per durable place"},
    "lever.amv_size": {"nl": "Grootste AMV-locatie", "en": "Largest AMV location"},
    "lever.reserve": {"nl": "Noodreserve voor Ter Apel", "en": "Emergency reserve for Ter Apel"},
    "lever.inflow_path": {"nl": "Verloop van de instroom", "en": "Inflow path"},
    "lever.inflow_level": {"nl": "Eerste asielaanvragen per jaar", "en": "First applications per year"},
    "lever.horizon": {"nl": "Looptijd", "en": "Run length"},
    "lever.window_from": {"nl": "Evaluatieperiode vanaf", "en": "Evaluation window from"},
    "lever.window_to": {"nl": "Evaluatieperiode tot", "en": "Evaluation window to"},
    "lever.replications": {"nl": "Herhalingen", "en": "Replications"},
    "lever.year_ac_days": {
        "nl": "Drempel: dagen Ter Apel boven de norm per jaar",
        "en": "Threshold: days Ter Apel above its norm per year",
    },
    # inflow paths
    "path.as_start": {"nl": "zoals in het uitgangspunt", "en": "as in the starting point"},
    "path.steady": {"nl": "gelijk: elk jaar het niveau", "en": "steady: the level every year"},
    "path.rising": {"nl": "stijgend: +20 % per jaar (zoals 2021–2023)", "en": "rising: +20 % a year (like 2021–2023)"},
    "path.falling": {"nl": "dalend: −20 % per jaar (zoals 2023–2025)", "en": "falling: −20 % a year (like 2023–2025)"},
    "path.surge": {
        "nl": "piek zoals 2015: een extra jaar instroom in 26 weken vanaf 1 juli van jaar 2",
        "en": "surge like 2015: an extra year's inflow in 26 weeks from 1 July of year 2",
    },
    # units as the page shows them
    "unit.months": {"nl": "maanden", "en": "months"},
    "unit.years": {"nl": "jaren", "en": "years"},
    "unit.euros/place": {"nl": "euro per plek", "en": "euros per place"},
    "unit.places": {"nl": "plekken", "en": "places"},
    "unit.persons/year": {"nl": "personen per jaar", "en": "persons per year"},
    "unit.date": {"nl": "datum", "en": "date"},
    "unit.runs": {"nl": "doorrekeningen", "en": "runs"},
    "unit.days": {"nl": "dagen", "en": "days"},
    "unit.on/off": {"nl": "aan/uit", "en": "on/off"},
    "unit.-": {"nl": "–", "en": "–"},
    # status
    "status.idle": {"nl": "Nog niet doorgerekend.", "en": "Not run yet."},
    "status.starting": {"nl": "Starten…", "en": "Starting…"},
    "status.running": {
        "nl": "Bezig: {done} van {total} doorrekeningen klaar ({arm}).",
        "en": "Running: {done} of {total} runs done ({arm}).",
    },
    "status.stopping": {
        "nl": "Stoppen na de doorrekeningen die nu lopen (wat klaar is, blijft bewaard)…",
        "en": "Stopping after the runs in flight (what finished is kept)…",
    },
    "status.analysing": {
        "nl": "Alle doorrekeningen klaar; vergelijken en figuren tekenen…",
        "en": "All runs done; comparing and drawing…",
    },
    "status.done": {"nl": "Klaar in {seconds} s.", "en": "Done in {seconds} s."},
    "status.cached": {
        "nl": "Dit voorstel was al doorgerekend: uit de opslag.",
        "en": "This proposal was run before: from the cache.",
    },
    "status.cancelled": {
        "nl": "Gestopt. Wat klaar was, is bewaard: opnieuw Doorrekenen gaat verder waar het stopte.",
        "en": "Cancelled. What finished is kept: Run again resumes where it stopped.",
    },
    "status.failed": {"nl": "Mislukt: {message}", "en": "Failed: {message}"},
    "status.invalid": {"nl": "Pas eerst de waarden met een melding aan.", "en": "First correct the values with a message."},
    "status.busy": {"nl": "Er loopt al een doorrekening.", "en": "A run is going on already."},
    # answer
    "answer.heading": {"nl": "Het antwoord", "en": "The answer"},
    "answer.none": {
        "nl": "Zet de knoppen en klik op Doorrekenen; het antwoord verschijnt hier.",
        "en": "Set the levers and press Run; the answer appears here.",
    },
    "answer.proposal": {"nl": "het voorstel", "en": "the proposal"},
    "answer.unchanged": {"nl": "gelijk aan het uitgangspunt", "en": "the same as the starting point"},
    "answer.emergency": {
        "nl": "Onder {proposal} ({changes}) verblijven gemiddeld {value} personen per nacht in de noodopvang "
        "(95 %-interval {low} tot {high}), tegen {base} in het uitgangspunt ({start}): {diff}. "
        "Over de evaluatieperiode zijn dat {nights} persoonsnachten (uitgangspunt {base_nights}).",
        "en": "Under {proposal} ({changes}) emergency shelter holds on average {value} persons a night "
        "(95 % interval {low} to {high}), against {base} at the starting point ({start}): {diff}. "
        "Over the evaluation window that is {nights} person-nights (starting point {base_nights}).",
    },
    "answer.ter_apel": {
        "nl": "De kans dat Ter Apel in een kalenderjaar op meer dan {n} dagen boven de norm zit, is hoogstens {p} ({year}; "
        "interval {low} tot {high}), tegen {base_p} in dat jaar in het uitgangspunt.",
        "en": "The chance that Ter Apel is above its norm on more than {n} days in a calendar year is at most {p} ({year}; "
        "interval {low} to {high}), against {base_p} that year at the starting point.",
    },
    "answer.ter_apel_never": {
        "nl": "Ter Apel zit in geen enkel jaar en geen enkele herhaling op meer dan {n} dagen boven de norm, in geen van beide varianten.",
        "en": "Ter Apel is above its norm on more than {n} days in no year of any replication of either.",
    },
    "answer.ter_apel_none": {
        "nl": "De evaluatieperiode bevat geen dagelijkse gegevens van Ter Apel.",
        "en": "The evaluation window holds no daily series of Ter Apel.",
    },
    "answer.outside_none": {
        "nl": "In geen enkele herhaling slaapt iemand buiten, in geen van beide varianten.",
        "en": "Nobody sleeps outside in any replication of either.",
    },
    "answer.outside": {
        "nl": "Buiten slapen: gemiddeld {value} persoonsnachten (interval {low} tot {high}), in {k} van de {n} herhalingen; "
        "uitgangspunt {base} persoonsnachten, in {base_k} van de {n}.",
        "en": "Sleeping outside: on average {value} person-nights (interval {low} to {high}), in {k} of {n} replications; "
        "starting point {base} person-nights, in {base_k} of {n}.",
    },
    "answer.moves": {
        "nl": "Iedere persoon verhuist gemiddeld {value} keer tussen locaties (interval {low} tot {high}; uitgangspunt {base}).",
        "en": "Each person moves between locations {value} times on average (interval {low} to {high}; starting point {base}).",
    },
    "answer.cost": {
        "nl": "De opvang kost {value} per jaar (interval {low} tot {high}), tegen {base} in het uitgangspunt: {diff}.",
        "en": "Reception costs {value} a year (interval {low} to {high}), against {base} at the starting point: {diff}.",
    },
    "answer.share": {
        "nl": "Op de realisatietermijn is gemiddeld {value} van de taakstelling gerealiseerd (interval {low} tot {high}; "
        "uitgangspunt {base}).",
        "en": "By the realisation deadline {value} of the task is realised on average (interval {low} to {high}; "
        "starting point {base}).",
    },
    "answer.share_none": {
        "nl": "Binnen de looptijd valt geen realisatietermijn (de eerste is {deadline}): verleng de looptijd om te zien hoeveel "
        "van de taakstelling op tijd gerealiseerd is.",
        "en": "No realisation deadline falls inside the run (the first is {deadline}): lengthen the run to see how much of "
        "the task is realised in time.",
    },
    "answer.share_off": {
        "nl": "De Spreidingswet-cyclus staat in dit scenario uit: er is geen taakstelling.",
        "en": "The Spreidingswet cycle is off in this scenario: there is no task.",
    },
    "answer.how": {
        "nl": "{n} herhalingen per variant met dezelfde toevalsgetallen (zaad {seed}); evaluatieperiode {window}. "
        "Intervallen zijn 95 %-betrouwbaarheidsintervallen van het gemiddelde over de herhalingen; verschillen zijn per "
        "herhaling gepaard.",
        "en": "{n} replications per arm with the same random numbers (seed {seed}); evaluation window {window}. "
        "Intervals are 95 % confidence intervals of the mean over replications; differences are paired by replication.",
    },
    "answer.incomplete": {"nl": "Let op: {what}.", "en": "Note: {what}."},
    "diff.more": {"nl": "{value} meer (interval {low} tot {high} meer)", "en": "{value} more (interval {low} to {high} more)"},
    "diff.fewer": {
        "nl": "{value} minder (interval {low} tot {high} minder)",
        "en": "{value} fewer (interval {low} to {high} fewer)",
    },
    "diff.unclear": {
        "nl": "geen duidelijk verschil ({value}; interval {low} tot {high})",
        "en": "no clear difference ({value}; interval {low} to {high})",
    },
    "diff.none": {"nl": "geen verschil", "en": "no difference"},
    "diff.higher": {
        "nl": "{value} hoger (interval {low} tot {high} hoger)",
        "en": "{value} higher (interval {low} to {high} higher)",
    },
    "diff.lower": {
        "nl": "{value} lager (interval {low} tot {high} lager)",
        "en": "{value} lower (interval {low} to {high} lower)",
    },
    "money.billion": {"nl": "€ {value} miljard", "en": "€{value} billion"},
    "money.million": {"nl": "€ {value} miljoen", "en": "€{value} million"},
    # the table under the answer
    "table.year": {"nl": "Jaar", "en": "Year"},
    "table.days": {"nl": "dagen in de periode", "en": "days in the window"},
    "table.title": {
        "nl": "Kans dat Ter Apel meer dan {n} dagen boven de norm zit, per kalenderjaar",
        "en": "Chance that Ter Apel is above its norm on more than {n} days, per calendar year",
    },
    "arm.start": {"nl": "uitgangspunt", "en": "starting point"},
    "arm.proposal": {"nl": "voorstel", "en": "proposal"},
    # figures and downloads
    "figures.heading": {"nl": "Figuren", "en": "Figures"},
    "figure.occupancy_fan": {
        "nl": "Bezetting per type opvang tegen het aantal plekken (waaierdiagram)",
        "en": "Occupancy by location type against places (fan chart)",
    },
    "figure.ter_apel": {"nl": "Ter Apel tegen zijn norm", "en": "Ter Apel against its norm"},
    "figure.capacity_pipeline": {"nl": "Plekken in de pijplijn", "en": "Pipeline of places"},
    "figure.skipped": {"nl": "Niet getekend: {why}", "en": "Not drawn: {why}"},
    "downloads.heading": {"nl": "Downloaden", "en": "Downloads"},
    "download.scenario": {"nl": "Scenariobestanden (TOML, zip)", "en": "Scenario files (TOML, zip)"},
    "download.proposal": {"nl": "Voorstel (proposal.toml)", "en": "Proposal (proposal.toml)"},
    "download.results": {"nl": "Resultaten (Parquet, zip)", "en": "Results (Parquet, zip)"},
    "download.report": {"nl": "Rapport (HTML, Engels)", "en": "Report (HTML)"},
}

# One-line explanations of the levers in Dutch; the English ones are the schema's (sim.app.levers.lever_doc).
HELP_NL: dict[str, str] = {
    "deadline": "realisatietermijn na de capaciteitsraming (1 juli van jaar 2)",
    "cycle": "jaren tussen twee capaciteitsramingen",
    "enforced": "tekorten na de termijn worden gehandhaafd: eerst een waarschuwing, dan een aanwijzing",
    "uncertainty": "een periode waarin intrekking van de wet wordt besproken",
    "uncertainty_start": "begin van de periode",
    "uncertainty_end": "einde van de periode",
    "incentive": "betaald per geopende duurzame plek",
    "amv_size": "grootste AMV-locatie; het AMV-deel van de taak wordt in eenheden van deze omvang gebouwd",
    "reserve": "noodplekken die worden achtergehouden voor overloop van het aanmeldcentrum (alleen gebruikt boven de norm)",
    "inflow_path": "het verloop van de instroom over de looptijd, vanaf het niveau hieronder",
    "inflow_level": "eerste asielaanvragen in het eerste gesimuleerde jaar, AMV inbegrepen",
    "horizon": "lengte van de doorrekening, voor beide varianten",
    "window_from": "eerste dag die telt (leeg: een jaar na de start, zodat de beginsituatie de pieken niet bepaalt)",
    "window_to": "eerste dag die niet meer telt (leeg: het einde van de doorrekening)",
    "replications": "herhalingen van beide varianten; herhaling r gebruikt in beide dezelfde toevalsgetallen",
    "year_ac_days": "meer dan zoveel dagen per kalenderjaar boven de norm telt als een slecht jaar (verandert alleen de lezing)",
}

# Words in the report's figures (sim.report.figures) and their Dutch; a text not listed stays English.
FIGURE_TEXT_NL: dict[str, str] = {
    "Occupancy by location type against places, per scenario": "Bezetting per type opvang tegen het aantal plekken",
    "Application-centre (Ter Apel) occupancy against its norm": "Bezetting van het aanmeldcentrum (Ter Apel) tegen de norm",
    "Capacity pipeline: places planned, under construction and open": "Pijplijn: plekken gepland, in aanbouw en open",
    "persons / places": "personen / plekken",
    "persons at the centre": "personen in het aanmeldcentrum",
    "places": "plekken",
    "durable": "duurzaam",
    "temporary": "tijdelijk",
    "emergency + crisis": "nood- en crisisnoodopvang",
    "AMV (minors)": "AMV (minderjarigen)",
    "total (all types)": "totaal (alle typen)",
    "planned (durable task)": "gepland (duurzame taak)",
    "under construction": "in aanbouw",
    "open (durable)": "open (duurzaam)",
    "occupancy: line median, bands 50 % and 90 % of replications; dashed: places (median); grey: before the evaluation window": (
        "bezetting: lijn mediaan, banden 50 % en 90 % van de herhalingen; gestreept: plekken (mediaan); grijs: vóór de evaluatieperiode"
    ),
    "line median, bands 50 % and 90 % of replications; grey: before the evaluation window": (
        "lijn mediaan, banden 50 % en 90 % van de herhalingen; grijs: vóór de evaluatieperiode"
    ),
    "line median, bands 50 % and 90 % of replications; dotted: realisation deadlines": (
        "lijn mediaan, banden 50 % en 90 % van de herhalingen; gestippeld: realisatietermijnen"
    ),
    "line median, bands 50 % and 90 % of replications": "lijn mediaan, banden 50 % en 90 % van de herhalingen",
}
FIGURE_PATTERNS_NL: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^norm \((?P<n>[\d,]+)\)$"), "norm ({n})"),
    (re.compile(r"^physical limit \((?P<n>[\d,]+)\)$"), "fysieke grens ({n})"),
    (re.compile(r"^norm of the centres together \((?P<n>[\d,]+)\)$"), "norm van de centra samen ({n})"),
    (re.compile(r"^physical limit of the centres together \((?P<n>[\d,]+)\)$"), "fysieke grens van de centra samen ({n})"),
)


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang``, with ``values`` filled in."""
    text = TEXT[key][lang]
    return text.format(**values) if values else text


def figure_text(text: str, lang: str) -> str:
    """A text of a report figure in ``lang`` (numbers in Dutch notation); unknown texts unchanged."""
    if lang == "en" or not text:
        return text
    if text in FIGURE_TEXT_NL:
        return FIGURE_TEXT_NL[text]
    for pattern, replacement in FIGURE_PATTERNS_NL:
        m = pattern.match(text)
        if m:
            return replacement.format(**{k: v.replace(",", ".") for k, v in m.groupdict().items()})
    return text


# --------------------------------------------------------------------------- numbers


def number(value: float, lang: str, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, thousands separated as ``lang`` writes them (12,300 / 12.300)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    if abs(rounded) >= 10 ** (digits - 1):
        text = f"{rounded:,.0f}"
    else:
        decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(rounded)))))
        text = f"{rounded:,.{decimals}f}"
    return _localise(text, lang)


def plain(value: float, lang: str) -> str:
    """A value as set on a control: whole numbers without decimals (36), others as typed (0.5 / 0,5)."""
    value = float(value)
    text = f"{int(value):,}" if value.is_integer() else f"{value:,.10g}"
    return _localise(text, lang)


def _localise(text: str, lang: str) -> str:
    """English digits as ``lang`` writes them: Dutch swaps the thousands separator and the decimal mark; a real minus."""
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−")


def percent(share: float, lang: str) -> str:
    """A share as a whole percentage (45 %)."""
    if share is None or math.isnan(share):
        return "–"
    return f"{round(100 * share)} %"


def money(eur: float, lang: str) -> str:
    """An amount in euros, in millions or billions (€2.85 billion / € 2,85 miljard)."""
    if eur is None or math.isnan(eur):
        return "–"
    sign = "−" if eur < 0 else ""
    if abs(eur) >= 1e9:
        return sign + t("money.billion", lang, value=number(abs(eur) / 1e9, lang))
    return sign + t("money.million", lang, value=number(abs(eur) / 1e6, lang))


def date(d: dt.date | str, lang: str) -> str:
    """A date written out (1 July 2027 / 1 juli 2027)."""
    d = dt.date.fromisoformat(d) if isinstance(d, str) else d
    return f"{d.day} {MONTHS[lang][d.month - 1]} {d.year}"
