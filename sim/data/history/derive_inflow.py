"""Derive ``inflow_replay.csv`` (the back-test's monthly inflow) from the compiled history series.

Run once, by hand, with the directory of the compiled series (described in
docs/sources.md, "History series")::

    python sim/data/history/derive_inflow.py /path/to/history

Rules (also written in each row's ``note``):

* a month's first applications: the IND monthly figure, else the CBS monthly
  figure, else the CBS-derived monthly figure; family reunification
  (nareizigers) likewise;
* a month without a figure is filled from the CBS quarter total: the quarter
  total minus the quarter's known months, spread evenly over its missing months
  (``filled: quarter``); IND dashboard counts are a different definition and
  are not used;
* unaccompanied minors (AMV): the IND monthly figure, else the year's AMV total
  minus the known months, spread over the missing months in proportion to their
  first applications (2022: IND 4,207; 2023: IND 5,804, sources §amv-inflow); for
  2024–25 no AMV total exists: 13 % of first applications (sources §amv-inflow:
  12–15 %; estimate).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FIRST = ("first_applications", "first_applications_cbs", "first_applications_derived")
FAMILY = ("family_reunification", "family_reunification_cbs", "family_reunification_derived")
AMV_YEAR = {
    2022: (4207, "https://ind.nl/nl/nieuws/asielinstroom-in-december-2022"),
    2023: (5804, "sources §amv-inflow (IND: 5,804 AMV first applications in 2023)"),
}
AMV_SHARE_ESTIMATE = 0.13
MONTHS = [f"{y}-{m:02d}" for y in range(2022, 2026) for m in range(1, 13)]


def _sources(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(" | "):
        if "=" in part:
            key, url = part.split("=", 1)
            out.setdefault(key.strip(), url.strip())
    return out


def main(src: Path, out: Path) -> None:
    monthly = {r["month"]: r for r in csv.DictReader((src / "inflow_monthly.csv").open())}
    quarterly = {r["quarter"]: r for r in csv.DictReader((src / "inflow_quarterly_cbs.csv").open())}
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
                        notes[m].append(f"{kind}: CBS-derived monthly figure (quarter minus known months, in the compiled data)")
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
    for year in range(2022, 2026):
        ms = [m for m in MONTHS if m.startswith(str(year))]
        known = {}
        for m in ms:
            r = monthly.get(m, {})
            if r.get("amv_first_applications"):
                known[m] = int(r["amv_first_applications"])
                srcs[m].append("amv=" + _sources(r["source"]).get("amv_first_applications", "inflow_monthly.csv"))
        missing = [m for m in ms if m not in known]
        if year in AMV_YEAR:
            total, url = AMV_YEAR[year]
            rest = max(total - sum(known.values()), 0)
            weight = sum(rows[m]["first_applications"] for m in missing)
            for m in missing:
                known[m] = round(rest * rows[m]["first_applications"] / weight)
                srcs[m].append(f"amv={url}")
                notes[m].append(
                    f"amv: filled from the {year} total {total} minus known months, in proportion to first applications"
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
            "# the history series (docs/sources.md#history-inflow: inflow_monthly.csv, inflow_quarterly_cbs.csv); rows marked 'filled' in note are\n"
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
