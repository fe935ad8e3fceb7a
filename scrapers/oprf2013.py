"""Presidential grants 2013 through six operators: the consolidated winners list (CSV).

In 2013 the presidential grants were distributed by six operators (ИПГО,
Национальный благотворительный фонд, Лига здоровья нации, РСМ, Общество
«Знание», ИСЭПИ), each publishing its own spreadsheet of winners in the
Общественная палата catalogue at grants.oprf.ru. The operators' sheets were
merged into one CSV, `filename,operator,N,ogrn,summ,req_num,org_name,
project_name,region,city,fedokrug` (SOURCES.md §1c).

`CSV_URL` is our offline address for that consolidated list: the historical
catalogue has no live copy we can reach, so the fetch is served from
`samples/` (a sample of the same shape that we made) or from a kept copy of the
real file. It is a stable name for the document, not a page that answers.

The parser is pure: bytes in, one dict per winner out. Values that do not
parse are stored as None with a reason in `_errors`, so the validator
quarantines the record instead of the load guessing.
"""

from __future__ import annotations

import re
from typing import Any

from scrapers.headers import extra_columns, extra_values, match_columns, named_column, require
from scrapers.values import clean_text, parse_identifier, parse_money, read_csv, set_converted

HOST = "grants.oprf.ru"
CSV_URL = f"https://{HOST}/grants2013/oprf_grants_2013.csv"
PARSER_VERSION = "oprf2013-1"

# Header of each column we read -> our field, found through `scrapers.headers` by the
# header's words (case and spacing aside), never by position.
COLUMNS = {
    "filename": "source_file",
    "operator": "operator",
    "N": "row_number",
    "ogrn": "ogrn",
    "summ": "amount",
    "req_num": "application_number",
    "org_name": "organisation_name",
    "project_name": "title",
    "region": "region",
    "city": "city",
    "fedokrug": "federal_district",
}
_HEADER_COLUMNS = tuple(named_column(header) for header in COLUMNS)

# The operators numbered their lists `1`, `2`, … except one that wrote `1.`, `2.`.
_ROW_NUMBER = re.compile(r"^(\d+)\.?$")
_APPLICATION_NUMBER = re.compile(r"^\d+$")
_DIGIT_RUN = re.compile(r"\d+")
_LETTERS = re.compile(r"[A-Za-zА-Яа-яЁё]{2,}")


def parse_csv(body: bytes, *, url: str = "") -> list[dict]:
    """One record per winner; `_row` is the CSV record number (the header is record 1)."""
    where = url or "oprf2013 CSV"
    # Several organisation names and titles span two lines in the real file: the reader
    # keeps a quoted field's line breaks inside the field.
    names, reader = read_csv(body, where)
    position = match_columns(names, _HEADER_COLUMNS)
    require(position, _HEADER_COLUMNS, names, where, "header")
    extras = extra_columns(names, position)

    records: list[dict] = []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        record = _record(fields, position, number, len(names))
        record["extra_columns"] = extra_values(fields, extras)
        records.append(record)
    return records


def _record(fields: list[str], position: dict[str, int], number: int, width: int) -> dict:
    raw = {c: (fields[i] if i < len(fields) else None) for c, i in position.items()}
    record: dict[str, Any] = {"_row": number}
    if len(fields) != width:
        record.setdefault("_errors", []).append(
            f"record: expected {width} fields, got {len(fields)}"
        )

    record["source_file"] = clean_text(raw["filename"])
    # One operator's rows carry a leading no-break space (`\xa0РСМ`); clean_text
    # treats it as white space, so all 116 rows name the same operator.
    record["operator"] = clean_text(raw["operator"])
    set_converted(record, "row_number", _row_number, raw["N"])
    # Most ОГРН were stored as numbers and exported in E-notation
    # (`1.095200000224E12`); parse_identifier recovers the exact digits.
    record["ogrn"] = parse_identifier(raw["ogrn"])
    set_converted(record, "amount", parse_money, raw["summ"])
    record["organisation_name"] = _as_reported(raw["org_name"])
    record["title"] = _as_reported(raw["project_name"])
    # Region as the operator wrote it (`Челябинск ая область`, `г. Санкт- Петербург`):
    # only runs of spaces are collapsed; matching to a subject happens in dbt.
    record["region"] = clean_text(raw["region"])
    record["city"] = clean_text(raw["city"])
    # `СКФО ` has a trailing space; 849 rows leave the district empty.
    record["federal_district"] = clean_text(raw["fedokrug"])
    record["repaired"] = False
    record["repair_note"] = None
    _set_application_number(record, raw["req_num"])

    operator, application = record["operator"], record["application_number"]
    record["grant_key"] = f"{operator}:{application}" if operator and application else None
    return record


def _row_number(value: str | None) -> int | None:
    text = clean_text(value)
    if text is None:
        return None
    match = _ROW_NUMBER.match(text)
    if not match:
        raise ValueError(f"not a row number: {value!r}")
    return int(match.group(1))


def _as_reported(value: str | None) -> str | None:
    """Names and titles keep their inner line breaks and spacing; only the ends are trimmed."""
    if value is None:
        return None
    text = value.replace("\r\n", "\n").strip()
    return text or None


def _set_application_number(record: dict, raw: str | None) -> None:
    """The operator's application number, repairing a row shifted into `req_num`.

    ИПГО row N=102 holds the organisation's name in `req_num` with its application
    number inside it (`Межрегиональная общественная организация 510   "Общественный
    центр …"`) and leaves `org_name` empty. Such a row is split only when that is
    unambiguous: `org_name` empty, exactly one run of digits in the text, and
    letters around it. Any other non-numeric value is quarantined, never guessed.
    """
    text = clean_text(raw)
    if text is None or _APPLICATION_NUMBER.match(text):
        record["application_number"] = text
        return
    runs = _DIGIT_RUN.findall(text)
    name = clean_text(_DIGIT_RUN.sub(" ", text, count=1))
    if record["organisation_name"] is None and len(runs) == 1 and name and _LETTERS.search(name):
        record["application_number"] = runs[0]
        record["organisation_name"] = name
        record["repaired"] = True
        record["repair_note"] = (
            f"req_num held the organisation name with application number {runs[0]} "
            "inside it and org_name was empty: split into both"
        )
        return
    record["application_number"] = None
    record.setdefault("_errors", []).append(
        f"application_number: not a number and not unambiguously repairable: {raw!r}"
    )
