"""ФПГ schemas: columns are the parsers' fields, and each rule quarantines what it should."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from pipelines.paths import WarehousePaths
from pipelines.store import replace_entity, store_writer
from schemas import fpg as schema
from schemas.base import each, validate
from schemas.identifiers import is_valid_inn
from schemas.vocabularies.statuses import KNOWN_STATUSES, status_key
from scrapers import fpg
from scrapers.columns import records_of
from scrapers.samples import FIXTURES_DIR, sample_path

XLSX_URL = f"https://{fpg.HOST}/upload/opendata/projects.xlsx"
CARD_FILES = sorted((FIXTURES_DIR / fpg.HOST / "public" / "application").glob("item@id=*"))
FLAGS = {"inn_valid", "ogrn_valid"}
BOOKKEEPING = {"_row", "_errors"}


def _url(path) -> str:
    return f"https://{fpg.HOST}/public/application/item?id={path.name.removeprefix('item@id=')}"


@pytest.fixture(scope="module")
def list_items() -> list[dict]:
    items = []
    for n in (1, 2, 3):
        url = fpg.list_page_url(n)
        items += fpg.parse_list(sample_path(url, FIXTURES_DIR).read_bytes(), url=url)
    return items


@pytest.fixture(scope="module")
def cards() -> list[dict]:
    return [fpg.parse_card(p.read_bytes(), url=_url(p))[0] for p in CARD_FILES]


@pytest.fixture(scope="module")
def applications() -> list[dict]:
    return records_of(fpg.parse_xlsx(sample_path(XLSX_URL, FIXTURES_DIR).read_bytes(),
                                     url=XLSX_URL))


def _card(cards, number):
    return dict(next(c for c in cards if c["application_number"] == number))


def _application(applications, number):
    return dict(next(a for a in applications if a["application_number"] == number))


# --- shape --------------------------------------------------------------------------------


def test_entities_name_their_tables():
    assert schema.LIST_ITEMS.table == "fpg__list_items"
    assert schema.CARDS.table == "fpg__cards"
    assert schema.APPLICATIONS.table == "fpg__applications"
    assert schema.CARDS.key == schema.APPLICATIONS.key == ("application_number",)


def test_columns_are_exactly_the_parsed_fields_plus_flags(list_items, cards, applications):
    for entity, records, flags in ((schema.LIST_ITEMS, list_items, set()),
                                   (schema.CARDS, cards, FLAGS),
                                   (schema.APPLICATIONS, applications, FLAGS)):
        fields = set().union(*(r.keys() for r in records)) - BOOKKEEPING
        assert set(entity.columns()) == fields | flags, entity.table


def test_duckdb_types():
    cards = schema.CARDS.columns()
    for money in ("amount_requested", "amount_awarded", "cofinancing", "amount_transferred",
                  "total_cost"):
        assert cards[money] == "DECIMAL(18,2)"
    for day in ("submitted_on", "start_date", "end_date"):
        assert cards[day] == "DATE"
    for items in ("tasks", "geography", "target_groups"):
        assert cards[items] == "VARCHAR[]"
    assert cards["rating"] == "DECIMAL(5,2)"
    assert cards["contest_year"] == "INTEGER"
    assert cards["inn_valid"] == cards["ogrn_valid"] == "BOOLEAN"
    assert cards["inn"] == cards["ogrn"] == "VARCHAR"
    apps = schema.APPLICATIONS.columns()
    assert apps["decision_date"] == "DATE" and apps["amount_awarded"] == "DECIMAL(18,2)"
    assert schema.LIST_ITEMS.columns()["amount_requested"] == "DECIMAL(18,2)"


# --- the samples --------------------------------------------------------------------------


def test_every_list_item_and_card_is_valid(list_items, cards):
    assert len(validate(list_items, schema.LIST_ITEMS).valid) == len(list_items)
    result = validate(cards, schema.CARDS)
    assert [q.reasons for q in result.quarantined] == []
    assert len(result.valid) == len(cards)


def test_bulk_file_quarantines_exactly_its_two_broken_rows(applications):
    result = validate(applications, schema.APPLICATIONS)
    assert result.parsed == len(applications) == len(result.valid) + 2
    reasons = {q.record["application_number"]: q.reasons for q in result.quarantined}
    (amount,) = [r for r in reasons.values() if any("amount_requested" in x for x in r)]
    assert any("not a number" in x for x in amount)
    (dates,) = [r for r in reasons.values() if any("start_date" in x for x in r)]
    assert any("start_date" in x and "end_date" in x for x in dates)
    rows = {q.row for q in result.quarantined}
    assert all(isinstance(row, int) and row > 5 for row in rows)


def test_every_status_in_the_samples_is_known(list_items, cards, applications):
    statuses = {status_key(r["status"]) for r in [*list_items, *cards, *applications]}
    assert statuses <= KNOWN_STATUSES
    assert {"победитель конкурса", "проект не получил поддержку",
            "на независимой экспертизе"} <= statuses


def test_invalid_inn_is_flagged_not_quarantined(cards, applications):
    card = _card(cards, "19-1-002211")
    assert not is_valid_inn(card["inn"])
    (valid,) = validate([card], schema.CARDS).valid
    assert valid["inn_valid"] is False and valid["ogrn_valid"] is True
    row = _application(applications, "19-1-002211")
    (valid,) = validate([row], schema.APPLICATIONS).valid
    assert valid["inn"] == card["inn"] and valid["inn_valid"] is False


def test_bulk_and_cards_disagree_where_the_samples_say(cards, applications):
    """The warehouse flags these: the samples must hold them for it to have something to flag."""
    status = [c["application_number"] for c in cards
              if status_key(c["status"]) != status_key(
                  _application(applications, c["application_number"])["status"])]
    assert len(status) >= 1
    amounts = [c["application_number"] for c in cards if c["amount_awarded"] is not None
               and _application(applications, c["application_number"])["amount_awarded"]
               not in (None, c["amount_awarded"])]
    assert amounts == ["23-1-010455"]


# --- the rules, one at a time -------------------------------------------------------------


@pytest.mark.parametrize("number", [None, "17-1-ABC", "171010190", "17-1-010190 "])
def test_application_number_is_required_and_shaped(applications, number):
    row = _application(applications, "17-1-004518")
    row["application_number"] = number
    (held,) = validate([row], schema.APPLICATIONS).quarantined
    assert any("application_number" in reason for reason in held.reasons)


def test_negative_amounts_are_quarantined(cards, applications):
    card = _card(cards, "17-1-004518")
    card["cofinancing"] = Decimal("-1.00")
    (held,) = validate([card], schema.CARDS).quarantined
    assert any("cofinancing" in reason for reason in held.reasons)
    row = _application(applications, "17-1-004518")
    row["total_cost"] = Decimal("-0.01")
    (held,) = validate([row], schema.APPLICATIONS).quarantined
    assert any("total_cost" in reason for reason in held.reasons)


def test_end_before_start_names_both_fields(cards):
    card = _card(cards, "17-1-004518")
    card["start_date"], card["end_date"] = date(2018, 7, 1), date(2017, 7, 1)
    (held,) = validate([card, _card(cards, "18-2-019044")], schema.CARDS).quarantined
    assert len(held.reasons) == 1
    assert "start_date" in held.reasons[0] and "end_date" in held.reasons[0]
    card["end_date"] = card["start_date"]  # a one-day project is fine
    assert validate([card], schema.CARDS).valid
    card["start_date"] = card["end_date"] = None  # no period at all: nothing to compare
    assert validate([card], schema.CARDS).valid
    card["start_date"] = date(2030, 1, 1)  # one date alone: nothing to compare either
    assert validate([card], schema.CARDS).valid


def test_status_must_be_known_whatever_its_case(applications):
    row = _application(applications, "17-1-004518")
    row["status"] = "ПОБЕДИТЕЛЬ  КОНКУРСА"
    assert validate([row], schema.APPLICATIONS).valid
    row["status"] = "грант отозван"
    (held,) = validate([row], schema.APPLICATIONS).quarantined
    assert any("status" in reason for reason in held.reasons)


def test_a_duplicated_application_number_quarantines_both(applications):
    row = _application(applications, "17-1-004518")
    result = validate([row, dict(row, _row=99)], schema.APPLICATIONS)
    assert not result.valid and len(result.quarantined) == 2


def test_rating_must_fit_its_column(cards):
    card = _card(cards, "18-2-019044")
    card["rating"] = Decimal("88.675")
    (held,) = validate([card], schema.CARDS).quarantined
    assert any("rating" in reason for reason in held.reasons)


def test_lists_must_hold_text(cards):
    card = _card(cards, "18-2-019044")
    card["geography"] = ["г. Москва", None]
    (held,) = validate([card], schema.CARDS).quarantined
    assert any("geography" in reason for reason in held.reasons)


# --- loading ------------------------------------------------------------------------------


def test_valid_records_load_into_duckdb(tmp_path, list_items, cards, applications):
    paths = WarehousePaths(tmp_path)
    lineage = {"_source": "fpg", "_parser_version": fpg.PARSER_VERSION}
    stamp = {"_source_url": "u", "_raw_sha256": "s", "_fetched_at": "2025-07-01T00:00:00+00:00"}
    for entity, records in ((schema.LIST_ITEMS, list_items), (schema.CARDS, cards),
                            (schema.APPLICATIONS, applications)):
        batch = [dict(r, **stamp) for r in records]
        with store_writer(paths) as con:
            counts = replace_entity(con, entity, validate(batch, entity), lineage)
        assert counts.reconciles and counts.parsed == len(records)
    con = duckdb.connect(str(paths.store_db), read_only=True)
    geography, rating, year = con.execute(
        "select geography, rating, contest_year from raw.fpg__cards "
        "where application_number = '18-2-019044'").fetchone()
    assert len(geography) == 12 and rating == Decimal("88.67") and year == 2018
    assert con.execute("select count(*) from quarantine.fpg__applications").fetchone()[0] == 2


def test_vectorised_application_checks_name_each_failing_cell(applications):
    """The applications table checks a column at a time, once per distinct value
    (`schemas.base.each`); every row holding a failing value is named, and only those."""
    base = _application(applications, "17-1-004518")
    rows = []
    for i, change in enumerate([
        {"amount_awarded": Decimal("-5.00")}, {}, {"amount_awarded": Decimal("-5.00")},
        {"status": "грант отозван"}, {"contest_year": True}, {"contest_year": 2016},
        {"amount_awarded": None, "contest_year": 2017},
    ]):
        rows.append({**base, "application_number": f"17-1-{i:06d}", "_row": i + 2, **change})
    result = validate(rows, schema.APPLICATIONS)
    reasons = {q.row: q.reasons for q in result.quarantined}
    assert reasons == {
        2: ["field 'amount_awarded': check amount_not_negative failed for Decimal('-5.00')"],
        4: ["field 'amount_awarded': check amount_not_negative failed for Decimal('-5.00')"],
        5: ["field 'status': check status_known failed for 'грант отозван'"],
        6: ["field 'contest_year': check contest_year_plausible failed for True"],
        7: ["field 'contest_year': check contest_year_plausible failed for 2016"],
    }
    assert sorted(r["_row"] for r in result.valid) == [3, 8]


def test_each_checks_values_equal_across_types_apart():
    # True == 1 == 1.0: the memo must not hand one's result to the other.
    series = pd.Series([1, True, 1.0, None, "1"], dtype=object)
    assert each(series, lambda v: type(v) is int).tolist() == [True, False, False, True, False]
