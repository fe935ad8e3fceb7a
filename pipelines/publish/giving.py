"""fact_grant in the 360Giving Data Standard 1.4: a package JSON and its flat CSV."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.illustrative import WARNING_EN
from pipelines.publish.legal import LICENCE_URL, PUBLISHER
from pipelines.publish.sources import to_uri
from pipelines.publish.tables import (
    Column,
    ReleaseFile,
    Table,
    fetch_rows,
    illustrative_column,
    write_rows_csv,
)
from schemas.identifiers import is_valid_inn, is_valid_ogrn

# Our own 360Giving identifier prefix: 360Giving assigns `360G-<publisher>` prefixes to
# registered publishers; socfund is not registered, so this one is ours and documented here
# and in the package description. Grant ids are `360G-socfund-<grant_id>`.
GRANT_ID_PREFIX = "360G-socfund"
GIVING_VERSION = "1.4"
_ITEM_INDENT = " " * 4  # a grant is an item of `grants`, two levels deep

NO_AWARD_DATE = "without an award date"
NO_RECIPIENT_ID = "without a recipient ИНН or ОГРН that passes its check digits"
NOT_CARRIED_OUT = "decided but not carried out"

GIVING_FLAT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Identifier", "string", f"`{GRANT_ID_PREFIX}-<grant_id>` (fact_grant.grant_id)."),
    ("Title", "string", "Project title, else the form of support and the recipient."),
    ("Description", "string", "Title, programme, direction, form of support and status."),
    ("Currency", "string", "ISO 4217 code of the amounts."),
    ("Amount Applied For", "number", "Amount requested (fact_grant.amount_requested)."),
    ("Amount Awarded", "number", "Amount awarded (fact_grant.amount_awarded)."),
    ("Amount Disbursed", "number", "Transferred so far (fact_grant.amount_transferred)."),
    ("Award Date", "date", "Date of the decision (fact_grant.decision_date)."),
    ("Planned Dates:Start Date", "date", "Project start."),
    ("Planned Dates:End Date", "date", "Project end."),
    ("Recipient Org:Identifier", "string",
     "`RU-INN-<ИНН>`, else `RU-OGRN-<ОГРН>`; either passes its check digits."),
    ("Recipient Org:Name", "string", "Recipient as reported."),
    ("Recipient Org:County", "string", "Recipient's region (360Giving `addressRegion`)."),
    ("Funding Org:Identifier", "string",
     f"socfund's id for the funder: `{GRANT_ID_PREFIX}-funder-<source>-<8 hex of SHA-256 "
     "of its name>`."),
    ("Funding Org:Name", "string", "Funder (dim_programme.funder)."),
    ("Grant Programme:Code", "string", "Contest, operator or authority (programme_id)."),
    ("Grant Programme:Title", "string", "Its name."),
    ("Beneficiary Location:Name", "string", "The recipient's region."),
    ("Beneficiary Location:Country Code", "string", "ISO 3166-1 alpha-2, where known."),
    ("Beneficiary Location:Geographic Code", "string",
     "ISO 3166-2 code where assigned, else the subject code (dim_region.region_code)."),
    ("Beneficiary Location:Geographic Code Type", "string",
     "`ISO 3166-2` or `RU subject code (ИНН digits 1-2)`."),
    ("Data Source", "string", "URL of the source document."),
)
_FLAT_REQUIRED = frozenset({
    "Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
    "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier",
    "Funding Org:Name"})

_GIVING_SQL = """
SELECT g.grant_id, g.source, g.title, g.recipient_name, o.name AS organisation_name,
       g.inn, g.inn_valid, g.ogrn, g.ogrn_valid, g.amount_requested, g.amount_awarded,
       g.amount_transferred, g.currency, g.decision_date, g.start_date, g.end_date,
       g.carried_out, g.support_form, g.status, g.year, g.source_url, g.region_method,
       p.programme_id, p.name AS programme_name, p.funder,
       d.programme_id AS direction_id, d.name AS direction_name,
       r.region_code, r.name AS region_name, r.kind AS region_kind, r.iso_3166_2
FROM wh.main.fact_grant AS g
LEFT JOIN wh.main.dim_programme AS p ON p.programme_id = g.programme_id
LEFT JOIN wh.main.dim_programme AS d ON d.programme_id = g.direction_programme_id
LEFT JOIN wh.main.dim_region AS r ON r.region_code = g.region_code
LEFT JOIN wh.main.dim_organisation AS o ON o.organisation_key = g.organisation_key
ORDER BY g.grant_id
"""


def recipient_org_id(inn: str | None, inn_valid: bool | None, ogrn: str | None,
                     ogrn_valid: bool | None) -> str | None:
    """`RU-INN-<ИНН>` for a valid ИНН, else `RU-OGRN-<ОГРН>` for a valid ОГРН (org-id.guide
    lists); None when neither passes its check digits."""
    if inn_valid and is_valid_inn(inn):
        return f"RU-INN-{inn}"
    if ogrn_valid and is_valid_ogrn(ogrn):
        return f"RU-OGRN-{ogrn}"
    return None


def funder_org_id(source: str, funder: str) -> str:
    """Our own id for a funding organisation (we know no registered identifier for them):
    `360G-socfund-funder-<source>-<first 8 hex of SHA-256 of the funder's name>`."""
    digest = hashlib.sha256(funder.encode("utf-8")).hexdigest()[:8]
    return f"{GRANT_ID_PREFIX}-funder-{source}-{digest}"


def _json_number(value: Decimal | float | int) -> int | float:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def giving_grant(row: dict) -> tuple[dict | None, str | None]:
    """One fact_grant row (joined with its programme, region and organisation) as a
    360Giving grant, or None and the reason it is left out."""
    if row["carried_out"] is False:
        return None, NOT_CARRIED_OUT
    if row["decision_date"] is None:
        return None, NO_AWARD_DATE
    org_id = recipient_org_id(row["inn"], row["inn_valid"], row["ogrn"], row["ogrn_valid"])
    if org_id is None:
        return None, NO_RECIPIENT_ID
    recipient_name = row["recipient_name"] or row["organisation_name"] or org_id
    support = row["support_form"] or "грант"
    title = row["title"] or f"{support.capitalize()}: {recipient_name}"
    description = " · ".join(str(x) for x in (
        row["title"], row["programme_name"], row["direction_name"], row["support_form"],
        row["status"]) if x)
    funder = row["funder"] or row["programme_name"] or row["source"]
    grant: dict[str, Any] = {
        "id": f"{GRANT_ID_PREFIX}-{row['grant_id']}",
        "title": title,
        "description": description or title,
        "currency": row["currency"] or "RUB",
        "amountAwarded": _json_number(row["amount_awarded"]),
        "awardDate": row["decision_date"].isoformat(),
        "recipientOrganization": [{"id": org_id, "name": recipient_name}],
        "fundingOrganization": [{"id": funder_org_id(row["source"], funder), "name": funder}],
    }
    if row["region_name"]:
        grant["recipientOrganization"][0]["addressRegion"] = row["region_name"]
    if row["amount_requested"] is not None:
        grant["amountAppliedFor"] = _json_number(row["amount_requested"])
    if row["amount_transferred"] is not None:
        grant["amountDisbursed"] = _json_number(row["amount_transferred"])
    if row["start_date"] is not None:
        planned = {"startDate": row["start_date"].isoformat()}
        if row["end_date"] is not None:
            planned["endDate"] = row["end_date"].isoformat()
        grant["plannedDates"] = [planned]
    location = _giving_location(row)
    if location:
        grant["beneficiaryLocation"] = [location]
    programmes = [{"code": code, "title": title} for code, title in (
        (row["programme_id"], row["programme_name"]),
        (row["direction_id"], row["direction_name"])) if code]
    if programmes:
        grant["grantProgramme"] = programmes
    if row["source_url"]:
        grant["dataSource"] = to_uri(row["source_url"])
    return grant, None


def _giving_location(row: dict) -> dict | None:
    if not row["region_code"]:
        return None
    location: dict[str, Any] = {"id": row["region_code"], "name": row["region_name"],
                                "description": "The recipient's region "
                                               f"(found by {row['region_method']})."}
    if row["region_kind"] == "country":
        location["countryCode"] = row["region_code"]
    elif row["iso_3166_2"]:
        location["countryCode"] = row["iso_3166_2"][:2]
        location["geoCode"] = row["iso_3166_2"]
        location["geoCodeType"] = "ISO 3166-2"
    else:
        location["geoCode"] = row["region_code"]
        location["geoCodeType"] = "RU subject code (ИНН digits 1-2)"
    return location


class _Tally:
    """What a pass over fact_grant published and left out, for the package's description."""

    def __init__(self) -> None:
        self.total = self.published = 0
        self.left_out: dict[str, int] = {}
        self.left_by_source: dict[str, dict[str, int]] = {}


def _giving_grants(con: duckdb.DuckDBPyConnection, tally: _Tally) -> Iterator[dict]:
    """fact_grant's grants that 360Giving can take, one at a time, counted in `tally`."""
    result = con.execute(_GIVING_SQL)
    names = [d[0] for d in result.description]
    for values in fetch_rows(result):
        tally.total += 1
        row = dict(zip(names, values, strict=True))
        grant, reason = giving_grant(row)
        if grant is not None:
            tally.published += 1
            yield grant
            continue
        tally.left_out[reason] = tally.left_out.get(reason, 0) + 1
        per = tally.left_by_source.setdefault(reason, {})
        per[row["source"]] = per.get(row["source"], 0) + 1


def _package_head(release_date: date, tally: _Tally) -> dict:
    """The package's every field before `grants`, once every grant is counted."""
    reasons = []
    for reason, why in ((NO_AWARD_DATE, "the source publishes no decision date; the 2013 "
                                        "operators' list has none"),
                        (NO_RECIPIENT_ID, "a recipient 360Giving can identify needs one"),
                        (NOT_CARRIED_OUT, "the agreement was not signed")):
        n = tally.left_out.get(reason, 0)
        by = ", ".join(f"{s}: {k}"
                       for s, k in sorted(tally.left_by_source.get(reason, {}).items()))
        reasons.append(f"{n} {reason}" + (f" ({by}; {why})" if n else ""))
    description = (
        f"Grants and support decisions from socfund's fact_grant, release {release_date}: "
        f"{tally.published} of {tally.total} grants are published here, those with an award "
        f"date and a recipient identified by a valid ИНН (RU-INN-…) or ОГРН (RU-OGRN-…). Left "
        "out: " + "; ".join(reasons) + ". Grant ids are `" + GRANT_ID_PREFIX + "-<grant_id>`, "
        "socfund's own prefix (not registered with 360Giving); funders carry socfund ids "
        "too. Amounts are in the currency given, rubles unless stated.")
    return {
        "version": GIVING_VERSION,
        "title": f"socfund grants {release_date}",
        "description": description,
        "identifier": f"socfund-grants-{release_date}",
        "issued": release_date.isoformat(),
        "publisher": {"name": PUBLISHER},
        "license": LICENCE_URL,
    }


def giving_package(con: duckdb.DuckDBPyConnection, release_date: date) -> dict:
    """fact_grant as a 360Giving package; grants left out are counted in its description."""
    tally = _Tally()
    grants = list(_giving_grants(con, tally))
    return {**_package_head(release_date, tally), "grants": grants}


def giving_flat_rows(grants: Iterable[dict]) -> Iterator[list[Any]]:
    """360Giving grants as rows under `GIVING_FLAT_COLUMNS` (first organisation, location,
    programme and planned dates of each)."""
    for g in grants:
        rec = g["recipientOrganization"][0]
        fund = g["fundingOrganization"][0]
        prog = (g.get("grantProgramme") or [{}])[0]
        loc = (g.get("beneficiaryLocation") or [{}])[0]
        dates = (g.get("plannedDates") or [{}])[0]
        yield [g["id"], g["title"], g["description"], g["currency"],
               g.get("amountAppliedFor"), g["amountAwarded"], g.get("amountDisbursed"),
               g["awardDate"], dates.get("startDate"), dates.get("endDate"),
               rec["id"], rec["name"], rec.get("addressRegion"), fund["id"], fund["name"],
               prog.get("code"), prog.get("title"), loc.get("name"), loc.get("countryCode"),
               loc.get("geoCode"), loc.get("geoCodeType"), g.get("dataSource")]


def write_giving(con: duckdb.DuckDBPyConnection, folder: Path, release_date: date,
                 illustrative: bool = False) -> tuple[list[ReleaseFile], Table]:
    """`360giving/grants.json` and `360giving/grants.csv`; the flat file described as a
    table, for the datapackage and the dictionary. An illustrative release's package says
    so first, and its flat file's first column `illustrative` is true on every row.

    One pass over the grants writes the flat file and the package's grants (to a scratch
    file: the package's description, which comes before them, counts them all), so no more
    than one grant is held at a time; the JSON is byte for byte `json.dumps(package,
    indent=2)` of the whole package.
    """
    json_path = folder / "360giving" / "grants.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    tally = _Tally()
    header = [name for name, *_ in GIVING_FLAT_COLUMNS]
    columns = [Column(name=name, duckdb_type="", kind=kind, description=about,
                      required=name in _FLAT_REQUIRED, unique=name == "Identifier")
               for name, kind, about in GIVING_FLAT_COLUMNS]
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=json_path.parent) as grants_json:
        def grants() -> Iterator[dict]:
            separator = ""
            for grant in _giving_grants(con, tally):
                # Each grant as `json.dumps` writes a list item at depth two.
                text = json.dumps(grant, ensure_ascii=False, indent=2)
                grants_json.write(separator + _ITEM_INDENT
                                  + text.replace("\n", "\n" + _ITEM_INDENT))
                separator = ",\n"
                yield grant

        rows = giving_flat_rows(grants())
        if illustrative:
            marker = illustrative_column("")
            header = [marker.name, *header]
            rows = (["true", *row] for row in rows)  # as the other CSVs write a boolean
            columns = [marker, *columns]
        n = write_rows_csv(folder / "360giving" / "grants.csv", header, rows)
        package = _package_head(release_date, tally)
        if illustrative:
            package["title"] = "ILLUSTRATIVE — " + package["title"]
            package["description"] = WARNING_EN + " " + package["description"]
        head = json.dumps({**package, "grants": []}, ensure_ascii=False, indent=2)
        with json_path.open("w", encoding="utf-8") as out:
            if not tally.published:
                out.write(head + "\n")
            else:
                out.write(head.removesuffix("[]\n}") + "[\n")
                grants_json.seek(0)
                shutil.copyfileobj(grants_json, out, 1 << 20)
                out.write("\n  ]\n}\n")
    flat = Table(
        name="360giving-grants", relation="", rows=n,
        description="Grants in the 360Giving Data Standard's flat layout (column titles of "
                    "its spreadsheet template). " + package["description"],
        columns=tuple(columns),
        primary_key=("Identifier",), upstream=("main.fact_grant",),
        files=("360giving/grants.csv", "360giving/grants.json"))
    files = [ReleaseFile("360giving/grants.json", "json",
                         "360Giving package (Data Standard 1.4). " + package["description"],
                         "fact_grant", tally.published),
             ReleaseFile("360giving/grants.csv", "csv",
                         "The 360Giving grants, flat (one row per grant).", "fact_grant", n)]
    return files, flat
