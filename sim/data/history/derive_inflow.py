"""Derive ``inflow_replay.csv`` (the back-test's monthly inflow, 2015-01 to 2025-12) from the compiled history series.

Run once, by hand, with the directory of the compiled series (described in
docs/sources.md, "History series")::

    python sim/data/history/derive_inflow.py /path/to/history

Rules (also written in each row's ``note``):

* a month's first applications: the IND monthly figure, else the CBS monthly
  figure, else the monthly figure derived in the compiled data (a CBS quarter
  total minus the quarter's known months, or the IND total minus repeat
  applications and nareizigers); family reunification (nareizigers) likewise;
* a month without a figure is filled from the CBS quarter total: the quarter
  total minus the quarter's known months, spread evenly over its missing months
  (``filled: quarter``); IND dashboard counts are a different definition and
  are not used;
* unaccompanied minors (AMV): the IND monthly figure, else the year's AMV total
  minus the known months, spread over the missing months in proportion to their
  first applications (IND totals of 2015–17 and 2021–22 from
  ``inflow_annual.csv``; 2023: 5,804, sources §amv-inflow); a year without a
  total but with some monthly AMV figures (2018–20) uses the AMV share of first
  applications in its known months (estimate); a year with neither (2024–25)
  uses 13 % of first applications (sources §amv-inflow: 12–15 %; estimate).

Family reunification *applications* (the IND dashboard's, 2023–25) are not
written: they are known for three months only, and the model's
``sim.procedure.family_applications`` needs a value for every month of a run
when the replay file has that column.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FIRST = ("first_applications", "first_applications_cbs", "first_applications_derived")
FAMILY = ("family_reunification", "family_reunification_cbs", "family_reunification_derived")
# AMV totals not in inflow_annual.csv (year: (total, source))
AMV_YEAR_EXTRA = {2023: (5804, "sources §amv-inflow (IND: 5,804 AMV first applications in 2023)")}
AMV_SHARE_ESTIMATE = 0.13
FIRST_YEAR, LAST_YEAR = 2015, 2025
MONTHS = [f"{y}-{m:02d}" for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)]


def _sources(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(" | "):
        if "=" in part:
            key, url = part.split("=", 1)
            out.setdefault(key.strip(), url.strip())
    return out


def _derivation(note: str, column: str) -> str:
    """How the compiled data derived a monthly figure, in a few words (from its note)."""
    part = next((p for p in note.split(" || ") if p.startswith(column)), "")
    if "IND identity" in part:
        return "IND total minus repeat applications and nareizigers, in the compiled data"
    return "CBS quarter total minus known months, in the compiled data"


def amv_totals(src: Path) -> dict[int, tuple[int, str]]:
    """Yearly AMV first applications (IND) with their source: inflow_annual.csv, plus the ones cited in docs/sources.md."""
    out = {}
    for r in csv.DictReader((src / "inflow_annual.csv").open()):
        if r["measure"] == "amv_ind" and r["period"].isdigit():
            out[int(r["period"])] = (int(float(r["value"])), r["source"])
    for year, item in AMV_YEAR_EXTRA.items():
        out.setdefault(year, item)
    return out


def main(src: Path, out: Path) -> None:
    monthly = {r["month"]: r for r in csv.DictReader((src / "inflow_monthly.csv").open())}
    quarterly = {r["quarter"]: r for r in csv.DictReader((src / "inflow_quarterly_cbs.csv").open())}
    amv_year = amv_totals(src)
    rows = {m: {"month": m} for m in MONTHS}
    notes = {m: [] for m in MONTHS}
    srcs = {m: [] for m in MONTHS}
    for kind, columns, qcol in (("first", FIRST, "first_applications_cbs"), ("family", FAMILY, "family_reunification_cbs")):
        known = {}
        for m in MONTHS:
            r = monthly.get(m, {})
            s = _sources(r.get("source", ""))
            for col in columns:
                if r.get(col):
                    known[m] = float(r[col])
                    srcs[m].append(f"{kind}={s.get(col, col)}")
                    if col.endswith("_derived"):
                        notes[m].append(f"{kind}: derived monthly figure ({_derivation(r.get('note', ''), col)})")
                    break
        for q in sorted({f"{m[:4]}Q{(int(m[5:]) - 1) // 3 + 1}" for m in MONTHS}):
            year, qi = int(q[:4]), int(q[-1])
            ms = [f"{year}-{mm:02d}" for mm in range(3 * qi - 2, 3 * qi + 1)]
            missing = [m for m in ms if m not in known]
            if not missing:
                continue
            total = float(quarterly[q][qcol])
            rest = max(total - sum(known[m] for m in ms if m in known), 0.0)
            qsrc = _sources(quarterly[q]["source"]).get("first" if kind == "first" else "nareis", "")
            for m in missing:
                known[m] = round(rest / len(missing))
                srcs[m].append(f"{kind}={qsrc}")
                notes[m].append(
                    f"{kind}: filled from CBS {q} total {total:.0f} minus known months, spread over {len(missing)} month(s)"
                )
        for m in MONTHS:
            rows[m]["first_applications" if kind == "first" else "family_reunification"] = int(known[m])
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        ms = [m for m in MONTHS if m.startswith(str(year))]
        known = {}
        for m in ms:
            r = monthly.get(m, {})
            if r.get("amv_first_applications"):
                known[m] = int(r["amv_first_applications"])
                srcs[m].append("amv=" + _sources(r["source"]).get("amv_first_applications", "inflow_monthly.csv"))
        missing = [m for m in ms if m not in known]
        if year in amv_year:
            total, url = amv_year[year]
            rest = max(total - sum(known.values()), 0)
            weight = sum(rows[m]["first_applications"] for m in missing)
            for m in missing:
                known[m] = round(rest * rows[m]["first_applications"] / weight)
                srcs[m].append(f"amv={url}")
                notes[m].append(
                    f"amv: filled from the {year} total {total} minus known months, in proportion to first applications"
                )
        elif known:
            # no yearly total: the minors' share of first applications in the year's known months (an estimate)
            share = sum(known.values()) / sum(rows[m]["first_applications"] for m in known)
            for m in missing:
                known[m] = round(share * rows[m]["first_applications"])
                srcs[m].append("amv=estimate")
                notes[m].append(
                    f"amv: estimate, {share:.1%} of first applications (the AMV share in the {len(ms) - len(missing)} known month(s) of {year})"
                )
        else:
            for m in missing:
                known[m] = round(AMV_SHARE_ESTIMATE * rows[m]["first_applications"])
                srcs[m].append("amv=estimate")
                notes[m].append(f"amv: estimate, {AMV_SHARE_ESTIMATE:.0%} of first applications (sources §amv-inflow: 12–15 %)")
        for m in ms:
            rows[m]["amv_first_applications"] = min(known[m], rows[m]["first_applications"])
    with out.open("w", newline="") as fh:
        fh.write("# Monthly asylum inflow for the back-test replay (persons per month). Derived by derive_inflow.py from\n")
        fh.write(
            "# the history series (docs/sources.md#history-inflow: inflow_monthly.csv, inflow_quarterly_cbs.csv, inflow_annual.csv); rows marked 'filled' in note are\n"
        )
        fh.write("# not observed monthly figures but quarter (or year) totals spread over the missing months.\n")
        w = csv.DictWriter(
            fh, ["month", "first_applications", "family_reunification", "amv_first_applications", "source", "note"]
        )
        w.writeheader()
        for m in MONTHS:
            w.writerow({**rows[m], "source": " | ".join(srcs[m]), "note": "; ".join(notes[m]) or "observed"})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).with_name("inflow_replay.csv"))
