"""Build the example county's KOSTRA sample files in SSB's JSON-stat 2.0 format.

The figures are CONSTRUCTED sample data in the shape PxWebApi v2 returns (dimensions Region,
ContentsCode, Tid; a ``status`` map with SSB's symbols), so that ``bms kostra import`` and the
demo exercise the real code path. They are not official statistics. Re-run with
``python -m bms_excel.examples.make_kostra``.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).parent / "stfk" / "kostra"
YEARS = ("2022", "2023", "2024", "2025")
REGIONS = {
    "50": "Trøndelag - Trööndelage",
    "EAFKUO": "Landet uten Oslo",
    "EAFK": "Fylkeskommunene i alt",
}
NOTE = (
    "Eksempeldata i SSBs JSON-stat-format, laget for bms_excel sitt demofylke. "
    "Tallene er konstruerte og er ikke offisiell statistikk."
)

# table id → (table title, contents code, contents label, unit, decimals, {region: values})
TABLES: dict[str, tuple[str, str, str, str, int, dict[str, list[float | None]]]] = {
    "12971": (
        "Gjennomføring i videregående opplæring (K) (F) 2015 - 2025",
        "KOSandelfullfbest0000",
        "Andel elever og lærlinger som har fullført og bestått vgo i løpet av fem år (prosent)",
        "prosent",
        1,
        {
            "50": [78.9, 79.6, 80.4, None],
            "EAFKUO": [79.5, 80.1, 80.6, None],
            "EAFK": [79.2, 79.8, 80.3, None],
        },
    ),
    "12367": (
        "Videregående opplæring - nøkkeltall (F) 2015 - 2025",
        "KOSutgperbrukerv0000",
        "Netto driftsutgifter per elev i videregående opplæring (kr)",
        "kroner",
        0,
        {
            "50": [164120.0, 171350.0, 178900.0, 186400.0],
            "EAFKUO": [168800.0, 175200.0, 183100.0, 190700.0],
            "EAFK": [170100.0, 176900.0, 184800.0, 192300.0],
        },
    ),
    "12163": (
        "Samferdsel - fylkesveier, nøkkeltall (F) 2015 - 2025",
        "KOSbtodrutgfv0000",
        "Brutto driftsutgifter til fylkesveier per km fylkesvei (1000 kr)",
        "1000 kr",
        0,
        {
            "50": [44.0, 47.0, 49.0, 52.0],
            "EAFKUO": [46.0, 48.0, 51.0, 53.0],
            "EAFK": [47.0, 49.0, 52.0, None],
        },
    ),
}


def dataset(table: str) -> dict[str, object]:
    """One JSON-stat 2.0 dataset as PxWebApi v2 returns it."""
    title, code, label, unit, decimals, series = TABLES[table]
    values: list[float | None] = []
    status: dict[str, str] = {}
    for region in REGIONS:
        for year, value in zip(YEARS, series[region], strict=True):
            if value is None:
                status[str(len(values))] = ".."  # tall foreligger ikke (ennå)
            values.append(value)
            del year
    return {
        "version": "2.0",
        "class": "dataset",
        "label": f"{table}: {title}",
        "source": "Statistisk sentralbyrå (eksempeldata)",
        "updated": "2026-06-15T06:00:00Z",
        "note": [NOTE],
        "role": {"time": ["Tid"], "geo": ["Region"], "metric": ["ContentsCode"]},
        "id": ["Region", "ContentsCode", "Tid"],
        "size": [len(REGIONS), 1, len(YEARS)],
        "dimension": {
            "Region": {
                "label": "region",
                "category": {
                    "index": {r: i for i, r in enumerate(REGIONS)},
                    "label": dict(REGIONS),
                },
            },
            "ContentsCode": {
                "label": "statistikkvariabel",
                "category": {
                    "index": {code: 0},
                    "label": {code: label},
                    "unit": {code: {"base": unit, "decimals": decimals}},
                },
            },
            "Tid": {
                "label": "år",
                "category": {
                    "index": {y: i for i, y in enumerate(YEARS)},
                    "label": {y: y for y in YEARS},
                },
            },
        },
        "value": values,
        "status": status,
        "extension": {"px": {"tableid": table, "language": "no"}},
    }


def main() -> None:
    """Write one file per table."""
    OUT.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        path = OUT / f"ssb_{table}_eksempel.json"
        path.write_text(json.dumps(dataset(table), ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
