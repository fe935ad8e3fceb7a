"""Электронный бюджет subsidy agreements: the parsers on our sample pages and on small inputs."""

from __future__ import annotations

import gc
import json
from datetime import date
from decimal import Decimal

import msgspec
import polars as pl
import pytest

from schemas.base import Validated, validate_frame
from schemas.ebudget import AGREEMENTS, PERIOD_ORIGINS, PERIODS
from scrapers import ebudget
from scrapers.columns import records_of
from scrapers.samples import FIXTURES_DIR, sample_path

PAGES = (1, 2, 3)


class Rows(list):
    """A parser's rows as the records the assertions read, with the columns they came from."""

    frame: pl.DataFrame


def _rows(frame: pl.DataFrame) -> Rows:
    rows = Rows(records_of(frame))
    rows.frame = frame
    return rows


def _agreements(body: bytes, **kw) -> Rows:
    return _rows(ebudget.parse_agreements(body, **kw))


def _periods(body: bytes, **kw) -> Rows:
    return _rows(ebudget.parse_agreement_periods(body, **kw))


def validated(rows: Rows, entity) -> Validated:
    """The rows validated as a load does (as columns), the valid ones as records."""
    result = validate_frame(rows.frame, entity)
    assert result.parsed == len(rows)
    return Validated(result.valid.to_pylist(), result.quarantined)


def _url(page: int) -> str:
    return ebudget.page_url(page, ebudget.SAMPLE_PAGE_SIZE)


def _body(page: int) -> bytes:
    return sample_path(_url(page), FIXTURES_DIR).read_bytes()


def _page(*items: dict, count: int | None = None) -> bytes:
    document = {"recordCount": len(items) if count is None else count, "data": list(items)}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _item(**overrides) -> dict:
    """A minimal agreement with one non-profit recipient and one monthly fact."""
    item = {
        "id": "x1",
        "info": {"regNum": "R1", "numAgreem": "1",
                 "dateAgreem": {"$date": "2021-01-10T00:00:00.000Z"},
                 "startDate": {"$date": "2021-02-01T00:00:00.000Z"},
                 "endDate": {"$date": "2021-12-31T00:00:00.000Z"}, "sum": 100.0,
                 "currencyCode": "643"},
        "grbs": {"inn": "7701001238", "fullName": "ГРБС", "budgtypename": "Федеральный бюджет",
                 "budgtypecode": "01", "budgetcode": "99010001"},
        "receiver": [{"fullName": "АНО Тест", "shortName": "АНО Тест", "inn": "7104001010",
                      "ogrn": "1197100400104", "okopf": "71400",
                      "localAddress": {"regionCode": "71", "regionName": "Тульская область"}}],
        "plansSubject": [{"kbk": "07510060150090010633", "purpose": "Цель",
                          "facts": [{"period": "20211200", "sumsubrub": 100.0}]}],
    }
    item.update(overrides)
    return item


@pytest.fixture(scope="module")
def agreements() -> Rows:
    return _rows(pl.concat([ebudget.parse_agreements(_body(p), url=_url(p)) for p in PAGES]))


@pytest.fixture(scope="module")
def periods() -> Rows:
    return _rows(pl.concat([ebudget.parse_agreement_periods(_body(p), url=_url(p))
                            for p in PAGES]))


def _by_id(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records:
        out.setdefault(r["agreement_id"], []).append(r)
    return out


# --- URLs and paging ----------------------------------------------------------------------


def test_live_urls_ask_for_1000_and_samples_live_at_the_sample_page_size():
    live = ebudget.page_url(2)
    assert live.startswith(f"https://{ebudget.HOST}/epbs/registry/grants/data?")
    assert "pageNum=2&pageSize=1000&blocks=info,grbs,receiver,plansSubject" in live
    assert live.endswith("filterminstartdate=01.01.2017")
    for page in PAGES:
        assert sample_path(_url(page), FIXTURES_DIR).is_file()
    assert not sample_path(_url(4), FIXTURES_DIR).exists()
    assert not sample_path(ebudget.page_url(1), FIXTURES_DIR).exists()
    with pytest.raises(ValueError, match=r"dd\.mm\.yyyy"):
        ebudget.page_url(1, min_start_date="2017-01-01")


def test_page_count_keeps_the_short_last_page():
    assert ebudget.parse_page_count(_page(count=2001)) == 3
    assert ebudget.parse_page_count(_page(count=2000)) == 2
    assert ebudget.parse_page_count(_page(count=1)) == 1
    assert ebudget.parse_page_count(_page(count=0)) == 1
    assert ebudget.parse_page_count(_body(1), ebudget.SAMPLE_PAGE_SIZE) == 3
    with pytest.raises(ValueError, match=r"test://p.*recordCount"):
        ebudget.parse_page_count(b'{"data": []}', url="test://p")


def test_every_sample_record_is_reached_through_paging():
    pages = ebudget.parse_page_count(_body(1), ebudget.SAMPLE_PAGE_SIZE)
    seen = [json.loads(ebudget.repair_quotes(_body(p).decode())[0])["data"]
            for p in range(1, pages + 1)]
    assert [len(s) for s in seen] == [4, 4, 1]  # the last page is short and kept
    assert sum(len(s) for s in seen) == json.loads(_body(1))["recordCount"] == 9


# --- dates --------------------------------------------------------------------------------


def test_dates_come_as_date_objects(agreements):
    first = _by_id(agreements)["5f8e1c2a9d4b7a0012345601"][0]
    assert first["agreement_date"] == date(2020, 4, 3)
    assert first["start_date"] == date(2020, 4, 9)
    assert first["end_date"] == date(2020, 12, 31)


@pytest.mark.parametrize(("value", "expected"), [
    ({"$date": "2020-04-09T00:00:00.000Z"}, date(2020, 4, 9)),
    # Moscow midnight written in UTC is the next day, not the evening before.
    ({"$date": "2020-04-08T21:00:00.000Z"}, date(2020, 4, 9)),
    ({"$date": 1586390400000}, date(2020, 4, 9)),
    ({"$date": {"$numberLong": "1586379600000"}}, date(2020, 4, 9)),
    ("09.04.2020", date(2020, 4, 9)),
    (None, None),
])
def test_api_date_forms(value, expected):
    assert ebudget.parse_api_date(value) == expected


def test_a_date_that_does_not_parse_quarantines_the_record():
    item = _item()
    item["info"]["endDate"] = {"$date": "скоро"}
    rows = _agreements(_page(item), url="test://p")
    (record,) = rows
    assert record["end_date"] is None
    assert any("end_date" in e for e in record["_errors"])
    assert validated(rows, AGREEMENTS).quarantined


# --- periods ------------------------------------------------------------------------------


def test_period_codes_month_year_and_later_years(agreements, periods):
    codes = {(p["agreement_id"], p["period_code"]): (p["year"], p["month"]) for p in periods}
    assert codes[("5f8e1c2a9d4b7a0012345601", "20201200")] == (2020, 12)
    assert codes[("5f8e1c2a9d4b7a0012345601", "20200400")] == (2020, 4)
    assert codes[("5f8e1c2a9d4b7a0012345604", "20210001")] == (2021, None)
    assert codes[("5f8e1c2a9d4b7a0012345604", "-1")] == (None, None)
    # written as the number -1 in one record, as text in another: the same code
    assert codes[("5f8e1c2a9d4b7a0012345605", "-1")] == (None, None)
    assert len(periods) == 18
    # in our sample every agreement's plan adds up to its amount
    plans: dict[str, Decimal] = {}
    for p in periods:
        plans[p["agreement_id"]] = plans.get(p["agreement_id"], Decimal(0)) + p["amount"]
    assert plans == {r["agreement_id"]: r["amount"] for r in agreements}
    assert sum(plans.values()) == Decimal("7750000")


def test_a_period_code_that_is_neither_month_nor_year_is_quarantined():
    item = _item(plansSubject=[{"kbk": "K", "facts": [{"period": "20211300", "sumsubrub": 5}]}])
    rows = _periods(_page(item), url="test://p")
    (period,) = rows
    assert period["year"] is None and period["month"] is None
    assert any("20211300" in e for e in period["_errors"])
    (q,) = validated(rows, PERIODS).quarantined
    assert any("period_code" in r for r in q.reasons)


# --- who is kept --------------------------------------------------------------------------


def test_commercial_and_state_institution_recipients_are_left_out(agreements, periods):
    kept = {r["recipient_okopf"] for r in agreements}
    assert "12267" not in kept and "75203" not in kept
    assert kept == {"71400", "20200", "70401", "20600"}
    assert all(r["is_nonprofit"] is True for r in agreements)
    left_out = {"5f8e1c2a9d4b7a0012345602", "5f8e1c2a9d4b7a0012345603"}
    assert not left_out & {p["agreement_id"] for p in periods}
    everything = _agreements(_body(1), url=_url(1), include_all=True)
    assert {(r["recipient_okopf"], r["is_nonprofit"]) for r in everything} >= {
        ("12267", False), ("75203", False)}
    all_periods = _periods(_body(1), url=_url(1), include_all=True)
    assert left_out <= {p["agreement_id"] for p in all_periods}


@pytest.mark.parametrize(("code", "expected"), [
    ("71400", True), ("20200", True), ("70401", True), ("71601", True), ("75500", True),
    ("7 14 00", True), (71400, True),
    ("12267", False), ("65241", False), ("75101", False), ("75104", False), ("75203", False),
    ("75404", False),
    ("20906", True), ("20901", None), ("20903", None),
    ("30002", None), ("5010", None), ("abcde", None), (None, None),
])
def test_okopf_rule(code, expected):
    assert ebudget.is_nonprofit_okopf(code) is expected


def test_an_undecided_okopf_is_kept_and_says_so():
    item = _item()
    item["receiver"][0]["okopf"] = None
    (record,) = _agreements(_page(item), url="test://p")
    assert record["is_nonprofit"] is None
    assert len(_periods(_page(item), url="test://p")) == 1


def test_agreement_with_two_recipients_is_one_record_per_recipient(agreements, periods):
    both = _by_id(agreements)["5f8e1c2a9d4b7a0012345604"]
    assert [r["recipient_region_name"] for r in both] == ["Ставропольский край",
                                                          "Краснодарский край"]
    assert [r["recipient_region_code"] for r in both] == ["26", "23"]
    assert {r["recipient_count"] for r in both} == {2}
    assert {r["amount"] for r in both} == {Decimal("1400000.00")}
    assert {r["_row"] for r in both} == {4}
    # the plan belongs to the agreement: not repeated per recipient
    assert len([p for p in periods if p["agreement_id"] == "5f8e1c2a9d4b7a0012345604"]) == 3


# --- unescaped quotes ---------------------------------------------------------------------


def test_unescaped_quotes_in_a_name_are_repaired_not_lost():
    body = _body(3)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    (record,) = _agreements(body, url=_url(3))
    assert record["recipient_name"] == (
        'АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ "ЦЕНТР "ДОБРОЕ СЕРДЦЕ""'
    )
    assert record["recipient_short_name"] == 'АНО "ЦЕНТР "ДОБРОЕ СЕРДЦЕ""'
    assert record["recipient_inn"] == "5213009092"
    assert record["repaired"] is True
    assert ebudget.parse_page_count(body, ebudget.SAMPLE_PAGE_SIZE) == 3


def test_only_the_broken_record_is_marked_repaired():
    good = json.dumps(_item(id="ok"), ensure_ascii=False)
    broken = json.dumps(_item(id="bad"), ensure_ascii=False).replace(
        '"shortName": "АНО Тест"', '"shortName": "АО "КБП""')
    body = ('{"recordCount": 2, "data": [' + good + ", " + broken + "]}").encode()
    records = _agreements(body, url="test://p")
    assert [(r["agreement_id"], r["repaired"]) for r in records] == [("ok", False), ("bad", True)]
    assert records[1]["recipient_short_name"] == 'АО "КБП"'


def test_valid_json_is_never_changed_by_the_repair():
    for page in (1, 2):
        text = _body(page).decode()
        assert ebudget.repair_quotes(text) == (text, [])
        assert all(r["repaired"] is False
                   for r in _agreements(_body(page), url=_url(page)))


def test_a_quote_that_looks_like_an_end_is_not_guessed():
    broken = json.dumps(_item(), ensure_ascii=False).replace(
        '"shortName": "АНО Тест"', '"shortName": "Фонд "Мир", филиал"')
    body = ('{"recordCount": 1, "data": [' + broken + "]}").encode()
    with pytest.raises(ValueError, match=r"test://broken.*line 1 column \d+"):
        _agreements(body, url="test://broken")


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": "x "y" z"}', ('{"a": "x \\"y\\" z"}', [9, 12])),
    ('{"a": "\\"q\\" "r" "}', ('{"a": "\\"q\\" \\"r\\" "}', [13, 16])),
    ('["a"b', ('["a\\"b', [3])),  # a string never closed keeps its quotes escaped
    ('"a"  : "b" "', ('"a"  : "b\\" "', [9])),
    ('"ab\\', ('"ab\\', [])),  # a backslash at the very end escapes nothing
    ("", ("", [])),
])
def test_repair_quotes_edges(text, expected):
    assert ebudget.repair_quotes(text) == expected


@pytest.mark.parametrize("text", [
    '{"data": [1, 18446744073709551616, -9223372036854775809, 1e400, -0.0, 0.1]}',
    '{"data": [NaN, Infinity]}', '{"data": ["\\ud800", "\\ud83d\\ude00", "\\u0000"]}',
    '\ufeff{"data": {"a": 1, "b": 2, "a": 3}}', '{"data": ["\x7f", "\u00a0"]}',
])
def test_a_page_reads_as_json_loads_reads_it(text):
    """The fast reading gives what `json.loads` gives, type for type (integers of any size
    stay integers); what it refuses, `json.loads` reads."""
    document, repaired = ebudget._load(text.encode(), "test://p")
    want = json.loads(text.removeprefix("\ufeff"))
    assert repr(document) == repr(want) and repaired == set()


@pytest.mark.parametrize("text", ['["\\ud800"', "[1,]", '{"data": [1] x', "\xff"])
def test_text_that_is_not_json_is_refused_as_json_loads_refuses_it(text):
    body = text.encode("utf-8", "surrogateescape") if text != "\xff" else b"\xff"
    with pytest.raises(ValueError, match="test://p"):
        ebudget._load(body, "test://p")


# Plans a КБК can have: every fact's period and amount, with repeats, a year both as months
# and as a year row (adding up or not), a year named twice in different digits, odd values.
_PLANS = [
    [("20200100", 100.0), ("20200200", 50.5), ("20200001", 150.5), ("-1", 7.0)],
    [("20200100", 100.0), ("20200200", 50.5), ("20200001", 150.0)],
    [("20200001", 150.0), ("20200100", 100.0), ("20200100", 99.0), ("20210001", 3)],
    [("20200001", 150.0), ("２０２０0001", 150.0), ("20201200", 150.0)],
    [("20200001", 150.0), ("２０２０0001", 120.0), ("20201200", 150.0)],
    [("２０２０0001", 150.0), ("20200001", 120.0)],
    [(" 20200300 ", 1.0), ("20200300", 2.0), ("-1", 1.0), ("-1", 2.0)],
    [("20201300", 1.0), ("20200100", 1.0)], [("20200100", 1.005)], [("20200100", -0.0)],
    [("20200100", 1e13)], [("20200100", "1,00")], [(20200100, 1.0)], [("20200100", None)],
    [("20200100", True)], [], [("-1", 0)],
]


@pytest.mark.parametrize("plan", _PLANS)
def test_the_usual_plan_is_read_as_every_plan_is(plan):
    """`_plain_plan` gives the rows `_plan_records` gives, or leaves the plan to it."""
    facts = ebudget._facts([{"period": p, "sumsubrub": a} for p, a in plan])
    want = [(r["period_code"], r["year"], r["month"], r["amount"], r["origin"])
            for r in ebudget._plan_records(ebudget._fact_records(facts, 1, "a", "k"), {}, 1,
                                           "a", "k")]
    got = ebudget._plain_plan(facts, {})
    if got is not None:
        assert [(c, y, m, Decimal(a), o) for c, y, m, a, o in got] == want
    # an invalid period or an amount not a plain number: left to `_plan_records`
    assert (got is None) == (plan in _PLANS[7:15])


def test_values_equal_to_python_but_read_differently_are_told_apart():
    assert ebudget._each_distinct([0.0, -0.0, 0, False, "0"], ebudget._clean_text) == [
        "0.0", "-0.0", "0", "False", "0"]


def test_a_page_that_is_not_json_names_the_url():
    with pytest.raises(ValueError, match=r"test://html.*not valid JSON"):
        _agreements(b"<html>403 Forbidden</html>", url="test://html")
    with pytest.raises(ValueError, match=r"test://p.*data"):
        _agreements(b'{"recordCount": 1}', url="test://p")


# --- fields -------------------------------------------------------------------------------


def test_amendment_is_counted_and_not_added_again(agreements, periods):
    (amended,) = _by_id(agreements)["5f8e1c2a9d4b7a0012345606"]
    assert amended["amendment_count"] == 1
    plan = [p["amount"] for p in periods if p["agreement_id"] == "5f8e1c2a9d4b7a0012345606"]
    assert sum(plan) == amended["amount"] == Decimal("1200000.00")
    assert sum(r["amendment_count"] for r in agreements) == 1


def test_agreement_without_id_is_known_by_its_registry_number(agreements):
    (record,) = _by_id(agreements)["57701000120220007"]
    assert record["reg_num"] == "57701000120220007"
    assert record["agreement_number"] == "15-с"


def test_budget_levels_currency_and_codes(agreements):
    by_id = _by_id(agreements)
    assert by_id["5f8e1c2a9d4b7a0012345601"][0]["budget_level"] == "federal"
    assert by_id["5f8e1c2a9d4b7a0012345604"][0]["budget_level"] == "regional"
    assert by_id["57701000120220007"][0]["budget_level"] == "municipal"
    assert {r["currency"] for r in agreements} == {"RUB"}
    first = by_id["5f8e1c2a9d4b7a0012345601"][0]
    assert first["kbk"] == ["07510060150090010633"]
    assert first["purpose"] == "Поддержка проектов семейного досуга"
    assert first["grantor_inn"] == "7701001238"
    assert first["recipient_kpp"] == "710101001"
    assert first["recipient_oktmo"] == "70701000"
    assert [r["_row"] for r in agreements] == [1, 4, 4, 1, 2, 3, 4, 1]


def test_small_field_quirks():
    item = _item()
    item["info"]["currencyCode"] = "840"
    item["grbs"] = {"budgtypecode": "01"}
    item["receiver"][0]["localAddress"]["regionCode"] = 7
    (record,) = _agreements(_page(item), url="test://p")
    assert record["currency"] == "840"
    assert record["budget_level"] == "federal"
    assert record["recipient_region_code"] == "07"


# --- the schema ---------------------------------------------------------------------------


def test_sample_validates_and_a_bad_inn_is_a_flag(agreements, periods):
    result = validated(agreements, AGREEMENTS)
    assert result.quarantined == []
    assert len(result.valid) == 8
    flagged = [r for r in result.valid if r["recipient_inn_valid"] is False]
    assert [r["recipient_short_name"] for r in flagged] == ['НООО "КСХ"']
    assert all(r["recipient_ogrn_valid"] is True for r in result.valid)
    assert validated(periods, PERIODS).quarantined == []


def test_schema_failures():
    negative = _item(id="neg")
    negative["info"]["sum"] = -5
    backwards = _item(id="back")
    backwards["info"]["endDate"] = {"$date": "2020-01-01T00:00:00.000Z"}
    nameless = _item(id=None)
    nameless["info"]["regNum"] = None
    records = _agreements(_page(negative, backwards, nameless), url="test://p")
    result = validated(records, AGREEMENTS)
    reasons = {q.record["agreement_id"]: " ".join(q.reasons) for q in result.quarantined}
    assert "amount" in reasons["neg"]
    assert "start_date" in reasons["back"]
    assert "agreement_id" in reasons[None]
    assert result.valid == []
    bad_fact = _item(plansSubject=[{"kbk": "K", "facts": [{"period": "20211200",
                                                          "sumsubrub": -1}]}])
    (q,) = validated(_periods(_page(bad_fact)), PERIODS).quarantined
    assert any("amount" in r for r in q.reasons)


def test_model_columns_are_the_parser_fields(agreements, periods):
    fields = {k for k in agreements[0] if not k.startswith("_")}
    assert set(AGREEMENTS.columns()) == fields | {"recipient_inn_valid", "recipient_ogrn_valid"}
    assert set(PERIODS.columns()) == {k for k in periods[0] if not k.startswith("_")}
    assert AGREEMENTS.columns()["amount"] == "DECIMAL(18,2)"
    assert AGREEMENTS.columns()["kbk"] == "VARCHAR[]"


# --- a year's money counted once (SOURCES.md §3a, record 250939) ------------------------------

YEAR_2020 = Decimal("1560895622.34")


def _record_250939() -> dict:
    """The real record's money (id 250939, regNum 02020P13000), its recipient made a
    non-profit (АНО, ОКОПФ 71400): 2020 as the month 20201200 and as the year 20200001,
    zero rows for 2021–2023 and later years, once in plansNormalized, and repeated by
    the amendment's plantranssub."""
    kbk = "02004120P1301500P630"
    money = 1560895622.34
    return {
        "id": 250939,
        "info": {"regNum": "02020P13000", "numAgreem": "020-11-2020-001",
                 "name": "Соглашение о предоставлении субсидии\nиз федерального бюджета",
                 "dateAgreem": {"$date": "2020-04-03T00:00:00.000Z"},
                 "startDate": {"$date": "2020-04-09T00:00:00.000Z"},
                 "endDate": {"$date": "2023-12-31T00:00:00.000Z"},
                 "sum": money, "currencySum": money, "currencyCode": "643",
                 "currencyName": "рубль", "dateUpdate": {"$date": "2021-02-01T00:00:00.000Z"},
                 "loaddate": {"$date": "2021-02-02T00:00:00.000Z"}, "outerSystem": "ЭБ"},
        "grbs": {"inn": "7705596339", "fullName": "МИНИСТЕРСТВО ПРОМЫШЛЕННОСТИ И ТОРГОВЛИ "
                 "РОССИЙСКОЙ ФЕДЕРАЦИИ", "budgtypename": "Федеральный бюджет",
                 "budgtypecode": "01", "budgetcode": "99010001", "regionCode": "77",
                 "location": "77,ГОРОД МОСКВА,45380000,…", "tofkcode": "9500"},
        "receiver": [{"fullName": "АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ «ПРИМЕР»",
                      "shortName": "АНО «ПРИМЕР»", "inn": "7104001010", "kpp": "710401001",
                      "ogrn": "1197100400104", "okopf": "71400", "foreignAddress": None,
                      "localAddress": {"regionCode": "71", "regionCodeFixed": "71",
                                       "regionName": "Тульская область",
                                       "oktmo": "70701000"}}],
        "plansSubject": [{"kbk": kbk, "purpose": "Субсидия", "facts": [
            {"period": "20201200", "sumsubrub": money},
            {"period": "20200001", "sumsubrub": money},
            {"period": "20210001", "sumsubrub": 0.0},
            {"period": "20220001", "sumsubrub": 0.0},
            {"period": "20230001", "sumsubrub": 0.0},
            {"period": "-1", "sumsubrub": 0.0},
        ]}],
        "plansNormalized": [{"kbk": kbk, "byYear": {"2020": {"total": money,
                                                              "byMonth": {"12": money}}}}],
        "addagreement": [{"regNum": "02020P13000001", "sum": money, "plantranssub": [
            {"kbk": kbk, "period": "20201200", "sumsubrub": money},
            {"kbk": kbk, "period": "20200001", "sumsubrub": money}]}],
        "npa": [{"name": "Постановление Правительства Российской Федерации"}],
        "typereport": [{"name": "Отчёт о достижении результатов"}],
    }


def _by_year(periods: list[dict]) -> dict[int, Decimal]:
    """`sum(amount) … where year is not null group by agreement_id, year`, as the budget
    reports model adds the periods up (int_funding__budget_reports.agreement_years)."""
    out: dict[int, Decimal] = {}
    for p in periods:
        if p["year"] is not None:
            out[p["year"]] = out.get(p["year"], Decimal(0)) + p["amount"]
    return out


def test_a_year_listed_as_month_year_and_normalized_is_counted_once():
    body = _page(_record_250939())
    (agreement,) = _agreements(body, url="test://250939")
    assert agreement["is_nonprofit"] is True
    assert agreement["amount"] == YEAR_2020 and agreement["amendment_count"] == 1
    periods = _periods(body, url="test://250939")
    assert validated(periods, PERIODS).quarantined == []
    assert _by_year(periods) == {2020: YEAR_2020, 2021: 0, 2022: 0, 2023: 0}
    assert sum(p["amount"] for p in periods) == agreement["amount"]
    codes = [(p["period_code"], p["origin"]) for p in periods]
    assert codes == [("20201200", "facts_month"), ("20210001", "facts_year"),
                     ("20220001", "facts_year"), ("20230001", "facts_year"),
                     ("-1", "facts_later_years")]


def test_a_year_total_from_plans_normalized_wins_over_months_that_do_not_make_it_up():
    item = _record_250939()
    item["plansSubject"][0]["facts"][0]["sumsubrub"] = 1000.0  # a month that is not the year
    periods = _periods(_page(item))
    assert _by_year(periods)[2020] == YEAR_2020
    (year,) = [p for p in periods if p["year"] == 2020]
    assert (year["period_code"], year["month"], year["origin"]) == (
        "20200001", None, "facts_year")
    item["plansSubject"][0]["facts"] = item["plansSubject"][0]["facts"][:1]  # month only
    periods = _periods(_page(item))
    (year,) = [p for p in periods if p["year"] == 2020]
    assert (year["period_code"], year["amount"], year["origin"]) == (
        "20200001", YEAR_2020, "plans_normalized")
    assert validated(periods, PERIODS).quarantined == []


def test_a_year_row_without_months_and_months_without_a_year_row_each_count():
    item = _item(plansSubject=[{"kbk": "K", "facts": [
        {"period": "20210600", "sumsubrub": 40.0}, {"period": "20211200", "sumsubrub": 60.0},
        {"period": "20220001", "sumsubrub": 70.0}, {"period": "20220001", "sumsubrub": 70.0},
    ]}])
    periods = _periods(_page(item))
    assert _by_year(periods) == {2021: Decimal("100.00"), 2022: Decimal("70.00")}
    assert [p["origin"] for p in periods] == ["facts_month", "facts_month", "facts_year"]


def test_a_normalized_entry_without_kbk_is_used_only_for_a_single_kbk():
    item = _record_250939()
    del item["plansNormalized"][0]["kbk"]
    item["plansSubject"][0]["facts"] = item["plansSubject"][0]["facts"][:1]
    item["plansSubject"][0]["facts"][0]["sumsubrub"] = 5.0
    (period,) = [p for p in _periods(_page(item)) if p["year"] == 2020]
    assert period["amount"] == YEAR_2020 and period["origin"] == "plans_normalized"
    item["plansSubject"].append({"kbk": "K2", "facts": [{"period": "20201200",
                                                          "sumsubrub": 1.0}]})
    periods = _periods(_page(item))
    assert _by_year(periods) == {2020: Decimal("6.00")}


def test_no_sample_year_is_counted_twice(periods):
    assert {p["origin"] for p in periods} <= ebudget.ORIGINS
    assert ebudget.ORIGINS == PERIOD_ORIGINS
    for agreement_id, rows in _by_id(periods).items():
        years = {}
        for p in rows:
            if p["year"] is not None:
                years.setdefault((p["kbk"], p["year"]), set()).add(p["month"] is None)
        # a year is months or one year row, never both
        assert all(len(kinds) == 1 for kinds in years.values()), agreement_id


# Values a page can hold in a date or an amount, the usual ones and every odd one we know.
_ODD_DATES = [
    None, {"$date": "2020-04-08T21:00:00.000Z"}, {"$date": "2020-04-09T00:00:00.000Z"},
    {"$date": "2020-12-31T22:30:00.000Z"}, {"$date": "2020-02-30T00:00:00.000Z"},
    {"$date": "2020-04-09T00:00:00Z"}, {"$date": "2020-04-09T00:00:00.000+03:00"},
    {"$date": 1586379600000}, {"$date": {"$numberLong": "1586379600000"}},
    {"$date": "2020-04-09T00:00:00.000Z", "other": 1}, {"$date": None}, {"other": 1},
    "2020-04-08T21:00:00.000Z", " 2020-04-08T21:00:00.000Z", "20.03.2017 0:00:00",
    "09.04.2020", "2020-04-09", "", "не дата", 20200409, 1.5, True, [],
    {"$date": "1899-12-31T23:00:00.000Z"}, {"$date": "0000-01-01T00:00:00.000Z"},
]
_ODD_SUMS = [
    None, 404000.0, 304236.82, 0.1 + 0.2, 1.005, 0.0, -0.0, -5.0, 12.5, 1e13, 9999999999999.99,
    1e16, float("nan"), float("inf"), 404000, -404000, 10**13, 10**30, True, False,
    "404 000,00", "сумма уточняется", "", " ", {"$numberDecimal": "1.00"}, [],
]


@pytest.mark.parametrize(("column", "values", "convert", "dtype"), [
    (ebudget._date_column, _ODD_DATES, ebudget.parse_api_date, pl.Date),
    (ebudget._money_column, _ODD_SUMS, ebudget.parse_money, ebudget.MONEY_TYPE),
])
def test_column_wise_conversions_are_the_helpers(column, values, convert, dtype):
    """The column-wise dates and amounts: value for value and reason for reason what the
    helper gives one value at a time, for the usual values and the odd ones."""
    got, reasons = column(values * 2, "field")
    want, want_reasons = ebudget._converted_column(values * 2, convert, dtype, "field")
    assert got.dtype == want.dtype
    assert got.to_list() == want.to_list()
    assert reasons.to_list() == want_reasons.to_list()
    assert reasons.null_count() < len(values) * 2  # the odd values do give reasons


@pytest.mark.parametrize("known", [False, True])
@pytest.mark.parametrize("odd", [False, True])
def test_dates_known_or_not_are_the_helpers(known, odd):
    """The dates read column-wise whether their texts were read before or not, with or
    without an object or a list inside `$date` (which the lookup all at once cannot take),
    a text repeated: what `parse_api_date` gives one value at a time."""
    values = [v for v in _ODD_DATES
              if odd or not isinstance(v, dict) or not isinstance(v.get("$date"), dict | list)]
    assert odd or len(values) < len(_ODD_DATES)
    ebudget._INSTANT_DAYS.clear()
    if known:
        ebudget._date_column(values[::2], "field")
    got, reasons = ebudget._date_column(values * 3, "field")
    want, want_reasons = ebudget._converted_column(values * 3, ebudget.parse_api_date,
                                                   pl.Date, "field")
    assert got.to_list() == want.to_list()
    assert reasons.to_list() == want_reasons.to_list()
    assert "2020-04-08T21:00:00.000Z" in ebudget._INSTANT_DAYS
    ebudget._INSTANT_DAYS.clear()


def test_a_kept_table_is_found_by_the_bytes_of_its_page(monkeypatch):
    """The table kept for later is found by an equal copy of the page's bytes (a load reads
    the page again for its second table), never by another page, and a page given as a
    bytearray reads as its bytes."""
    ebudget._KEPT.clear()
    read = ebudget._read_page
    readings = []
    monkeypatch.setattr(ebudget, "_read_page",
                        lambda body, where: readings.append(where) or read(body, where))
    body = _body(1)
    ebudget.parse_agreements(body, url=_url(1))
    copy = bytes(bytearray(body))
    assert copy is not body
    kept = ebudget.parse_agreement_periods(copy, url=_url(1))
    assert readings == [_url(1)]
    ebudget.parse_agreements(_body(2), url=_url(2))
    other = ebudget.parse_agreement_periods(body, url=_url(1))
    assert len(readings) == 3  # page 2's periods are kept, not page 1's
    assert other.equals(kept)
    ebudget._KEPT.clear()
    assert ebudget.parse_agreements(bytearray(body), url=_url(1)).equals(
        ebudget.parse_agreements(body, url=_url(1)))
    ebudget._KEPT.clear()


@pytest.mark.parametrize("first", [ebudget.parse_agreements, ebudget.parse_agreement_periods])
def test_both_tables_of_a_page_come_from_one_reading_of_it(monkeypatch, first):
    """The parser asked first reads the page once for both tables; the other table, asked
    for next, is the one a reading of its own gives, and `include_all` is a page of its own."""
    body = _body(1)
    second = (ebudget.parse_agreement_periods if first is ebudget.parse_agreements
              else ebudget.parse_agreements)
    ebudget._KEPT.clear()
    read = ebudget._read_page
    readings = []
    monkeypatch.setattr(ebudget, "_read_page",
                        lambda body, where: readings.append(where) or read(body, where))
    first(body, url=_url(1))
    kept = second(body, url=_url(1))
    assert readings == [_url(1)]
    assert not ebudget._KEPT
    every = second(body, url=_url(1), include_all=True)
    assert len(readings) == 2
    ebudget._KEPT.clear()
    assert kept.equals(second(body, url=_url(1)))
    assert every.equals(second(body, url=_url(1), include_all=True))
    ebudget._KEPT.clear()


def test_tables_kept_for_later_are_bounded(monkeypatch):
    monkeypatch.setattr(ebudget, "_KEPT_BYTES", 1)
    ebudget._KEPT.clear()
    for page in PAGES:
        ebudget.parse_agreements(_body(page), url=_url(page))
    assert len(ebudget._KEPT) == 1  # only the last page's periods stay
    assert ebudget.parse_agreement_periods(_body(1), url=_url(1)).equals(
        ebudget.parse_agreement_periods(_body(1), url=_url(1)))
    ebudget._KEPT.clear()


@pytest.mark.parametrize("missing", [None, ""], ids=["null", "blank"])
def test_a_month_without_an_amount_in_a_year_with_a_total_leaves_the_year_one_row(missing):
    # Months that cannot be shown to add up to the year's total are no breakdown of it.
    item = _item(plansSubject=[{"kbk": "K", "facts": [
        {"period": "20210600", "sumsubrub": 40.0}, {"period": "20211200", "sumsubrub": missing},
        {"period": "20210001", "sumsubrub": 100.0},
    ]}])
    periods = _periods(_page(item))
    assert [(p["period_code"], p["origin"]) for p in periods] == [("20210001", "facts_year")]
    assert _by_year(periods) == {2021: Decimal("100.00")}
    assert validated(periods, PERIODS).quarantined == []


# --- the typed reading of the usual page and the untyped reading of every page ----------------

# Agreements of every shape the typed structs take: parts missing, null or empty, several
# recipients, values of other types than the usual, a total in `plansNormalized`.
_ODD_ITEMS = [
    _item(), _item(receiver=[]), _item(receiver=None), _item(info=None, grbs=None, id=None),
    _item(receiver=[_item()["receiver"][0], {"fullName": "  АНО\u00a0 Второй\ufeff ",
                                             "inn": 7104001010, "okopf": "7 14 00",
                                             "localAddress": None}]),
    _item(receiver=[{"okopf": {"code": "71400"}, "kpp": " 7104 01001 ",
                     "localAddress": {"regionCode": 7, "regionName": "\u2028Тула  "}}]),
    _item(info={"regNum": 123, "sum": "сумма уточняется", "numAgreem": "  1 ",
                "dateAgreem": "20.03.2017 0:00:00", "startDate": {"$date": 1586379600000},
                "currencyCode": 643}),
    _item(plansSubject=[{"kbk": None, "purpose": None, "facts": None},
                        {"kbk": "K2", "purpose": " Цель  два", "facts": []},
                        {"kbk": "K3", "facts": [{"period": 20200100, "sumsubrub": "1,00"},
                                                {"sumsubrub": 5.0}, {"period": "-1"}]}]),
    _item(addagreement=[{"num": "1"}, {"num": "2"}], npa=[{"name": "x"}]),
    _record_250939(),
]


def _both_readings(body: bytes) -> tuple[ebudget._Page, ebudget._Page]:
    typed = ebudget._TYPED.decode(body).data
    return (ebudget._Page.of_structs(typed),
            ebudget._Page.of_objects(*ebudget._page_items(body, "test://p")))


# The fixture pages but the third, whose quotes are mended first: no typed reading of it.
_TYPED_PAGES = (1, 2)


@pytest.mark.parametrize("body", [_body(page) for page in _TYPED_PAGES] + [_page(*_ODD_ITEMS)],
                         ids=[f"fixture page {page}" for page in _TYPED_PAGES]
                         + ["odd agreements"])
def test_the_typed_reading_gives_the_page_the_untyped_reading_gives(body):
    typed, untyped = _both_readings(body)
    assert ebudget._agreements_frame(typed).equals(ebudget._agreements_frame(untyped))
    assert ebudget._periods_frame(typed, None).equals(ebudget._periods_frame(untyped, None))
    assert len(ebudget._agreements_frame(typed)) >= 3


# Pages the typed structs refuse: a part of another kind than they take.
_REFUSED = {
    "a fact not an object": (_item(plansSubject=[{"kbk": "K", "facts": [5]}]),
                             "periods", "_errors", [["period_code: no period"]]),
    "recipients as one object": (_item(receiver={"inn": "7104001010"}),
                                 "agreements", "recipient_count", [0]),
    "info not an object": (_item(info="x"), "agreements", "_errors", [[]]),
    "a recipient not an object": (_item(receiver=[None]), "agreements", "recipient_inn", [None]),
    "amendments not a list": (_item(addagreement={"num": "1"}),
                              "agreements", "amendment_count", [0]),
}


@pytest.mark.parametrize("case", list(_REFUSED))
def test_a_page_the_typed_reading_refuses_is_read_untyped_as_before(case):
    item, table, column, want = _REFUSED[case]
    body = _page(item)
    with pytest.raises(msgspec.ValidationError):
        ebudget._TYPED.decode(body)
    untyped = ebudget._Page.of_objects(*ebudget._page_items(body, "test://p"))
    want_frame = (ebudget._agreements_frame(untyped) if table == "agreements"
                  else ebudget._periods_frame(untyped, None))
    parse = ebudget.parse_agreements if table == "agreements" else ebudget.parse_agreement_periods
    got = parse(body, url="test://p", include_all=True)
    assert got.equals(want_frame)
    assert got[column].to_list() == want


@pytest.mark.parametrize("body", [
    _page(_item(npa=[{"name": "x"}])).replace(b'"x"', b'"\xff"'),  # in a field not read
    _page(_item()).replace("АНО Тест".encode(), b"\xc0\xaf"),  # in a field read
])
def test_a_page_not_utf8_is_refused_wherever_the_bad_bytes_are(body):
    with pytest.raises(ValueError, match="test://p: not UTF-8 text"):
        ebudget.parse_agreements(body, url="test://p")


def test_the_spaces_polars_is_told_of_are_those_python_splits_on():
    python = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {" "}
    assert set(ebudget._SPACES) == python | {"\ufeff"}


_ODD_TEXTS = ["", " ", "a  b", " a", "a ", "a\u00a0b", "a\ufeffb", "a\x1cb", "a\u2028b",
              "a\tb", "аб вг", "аб вг", None, "x", "２０２０", "a\u200bb"]


@pytest.mark.parametrize("values", [_ODD_TEXTS, [*_ODD_TEXTS, 1.0], ["аб вг", None, "x"],
                                    ["аб вг", "x", "7701"], [None, None], []],
                         ids=["texts", "not only texts", "clean texts", "clean texts only",
                              "nothing", "empty"])
def test_a_column_of_texts_is_cleaned_as_value_by_value(values):
    got = ebudget._text_column(values, ebudget._text, ebudget._CLEAN)
    assert got.dtype == pl.String
    assert got.to_list() == [ebudget._text(v) for v in values]


@pytest.mark.parametrize(("convert", "shortest"), [
    (ebudget.parse_identifier, 1), (ebudget._okopf, 1), (ebudget._region_code, 2)])
def test_identifiers_are_read_as_value_by_value(convert, shortest):
    values = ["7701", "７７０１", "", " 77 01 ", "1", "07", 7, 7.0, None, "1.5E3", "7 14 00",
              {"code": "71400"}, True]
    got = ebudget._identifiers(values, convert, shortest=shortest)
    assert got.to_list() == [convert(v) for v in values]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_left_as_it_was(monkeypatch, enabled):
    """Paused while a page is parsed (`schemas.records.cycles_not_collected`), resumed after
    it, a page that fails included; a collector the caller paused stays paused."""
    real, seen = ebudget._read_page, []
    monkeypatch.setattr(ebudget, "_read_page",
                        lambda body, where: seen.append(gc.isenabled()) or real(body, where))
    ebudget._KEPT.clear()
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        ebudget.parse_agreements(_body(1), url=_url(1))
        with pytest.raises(ValueError, match="test://p"):
            ebudget.parse_agreements(b"not json", url="test://p")
        assert seen == [False, False]
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
        ebudget._KEPT.clear()


# --- the page read all at once ------------------------------------------------------------


def _page_read(body: bytes) -> ebudget._Page:
    """The page as the parsers read it: typed where it fits the structs, else untyped."""
    return ebudget._read_page(body, "test://p")


def _periods_one_by_one(page: ebudget._Page, kept: set[int] | None) -> list[tuple]:
    """The period rows as `_plan_records` gives them, agreement by agreement and subject by
    subject, one record per fact (the slowest reading, which every plan goes through)."""
    ids = page.ids.to_list()
    out = []
    for index, subjects in enumerate(page.subjects_of()):
        row = page.rows[index]
        if kept is not None and row not in kept:
            continue
        plans = page.normalized[index]
        totals = (ebudget._normalized_totals(plans, [k for _, k, _ in subjects])
                  if isinstance(plans, list) and plans else {})
        for _, kbk, facts in subjects:
            records = ebudget._plan_records(
                ebudget._fact_records(facts, row, ids[index], kbk), totals.get(kbk, {}), row,
                ids[index], kbk)
            out.extend((ids[index], kbk, r["period_code"], r["year"], r["month"], r["amount"],
                        r["origin"], row, r.get("_errors") or []) for r in records)
    return out


def _plan_item(number: int, *plans: list[tuple], normalized: list | None = None) -> dict:
    subjects = [{"kbk": f"K{number}-{i}", "purpose": "Цель",
                 "facts": [{"period": p, "sumsubrub": a} for p, a in plan]}
                for i, plan in enumerate(plans)]
    extra = {} if normalized is None else {"plansNormalized": normalized}
    return _item(id=f"a{number}", plansSubject=subjects, **extra)


# Pages of plans: every plan of `_PLANS` (odd values among them: no page read all at once),
# the plans with usual values only (read all at once, year rows and repeats among them), and
# with them a plan beside `plansNormalized` totals and an agreement of two subjects.
_USUAL_PLANS = _PLANS[:7] + _PLANS[15:]
_PLAN_PAGES = {
    "every plan": _page(*(_plan_item(n, plan) for n, plan in enumerate(_PLANS))),
    "usual plans": _page(*(_plan_item(n, plan) for n, plan in enumerate(_USUAL_PLANS))),
    "usual plans, totals and two subjects": _page(
        *(_plan_item(n, plan) for n, plan in enumerate(_USUAL_PLANS)),
        _plan_item(90, _USUAL_PLANS[1], normalized=[
            {"kbk": "K90-0", "byYear": {"2020": {"total": 150.5}}}]),
        _plan_item(91, _USUAL_PLANS[0], _USUAL_PLANS[1]),
        _plan_item(92, [("20200100", 1.0), ("20200200", 2.0)])),
    "fixture page 1": _body(1),
    "fixture page 2": _body(2),
    "fixture page 3": _body(3),
}


@pytest.mark.parametrize("name", list(_PLAN_PAGES))
@pytest.mark.parametrize("every", [True, False], ids=["every agreement", "some agreements"])
def test_the_periods_read_all_at_once_are_the_records_one_by_one(name, every):
    page = _page_read(_PLAN_PAGES[name])
    kept = None if every else set(page.rows[::2])
    want = _periods_one_by_one(page, kept)
    frame = ebudget._periods_frame(page, kept)
    got = list(frame.select("agreement_id", "kbk", "period_code", "year", "month", "amount",
                            "origin", "_row", "_errors").iter_rows())
    assert got == want
    assert len(got) >= 2


def test_the_usual_plans_are_read_all_at_once():
    """Usual values only: the facts are read at once (`_plain_facts`), not fact by fact."""
    page = _page_read(_PLAN_PAGES["usual plans"])
    facts = [f for _, _, facts in page.subjects for f in facts]
    assert ebudget._plain_facts(facts) is not None
    assert ebudget._plain_facts([*facts, ebudget._Fact("20200100", "1,00")]) is None
    assert ebudget._plain_facts([*facts, ebudget._Fact(20200100, 1.0)]) is None
    assert ebudget._plain_facts([*facts, ebudget._Fact("20201300", 1.0)]) is None
    assert ebudget._plain_facts([*facts, ebudget._Fact({"$date": 1}, 1.0)]) is None
    assert ebudget._plain_facts([*facts, ebudget._Fact("20200100", 10**5000)]) is None


# Texts with every kind of white space `clean_text` folds, in an ASCII text and in another.
_SPACED = [f"{word}{space}" for word in ("ab", "аб") for space in ebudget._SPACES + " "] + [
    f"{space}{word}" for word in ("ab", "аб") for space in ebudget._SPACES + " "] + [
    f"a{space}{space}b" for space in " \t"] + ["a b", "а б", "a-1", "7701", "", "\x00", "a\x7f"]


@pytest.mark.parametrize("text", _SPACED)
@pytest.mark.parametrize("beside", [["7701"], ["аб вг"], ["a-1", "b.2"]])
def test_a_column_is_clean_at_once_only_when_each_text_is(text, beside):
    for values in ([text], [*beside, text], [text, *beside]):
        assert ebudget._clean_texts(values) == all(ebudget._clean_text(v) == v for v in values)
    assert ebudget._clean_texts(beside)


@pytest.mark.parametrize("shortest", [1, 2])
@pytest.mark.parametrize("values", [["7701", "07"], ["7701", "7"], ["7701", ""], ["７７０１"],
                                    ["77 01"], ["7701", None], ["0x1"], [7701], []])
def test_a_column_is_of_digits_at_once_only_when_each_text_is(values, shortest):
    each = bool(values) and all(isinstance(v, str) and v.isascii() and v.isdigit()
                                and len(v) >= shortest for v in values)
    assert ebudget._digit_texts(values, shortest) == each


def test_a_column_of_usual_amounts_is_read_at_once():
    values = [404000.0, 304236.82, 12.5, 0.0, 404000, 9999999999999.99, 0.1, 10**12]
    got, reasons = ebudget._money_column(values, "field")
    want, want_reasons = ebudget._converted_column(values, ebudget.parse_money,
                                                   ebudget.MONEY_TYPE, "field")
    assert got.dtype == want.dtype
    assert got.to_list() == want.to_list()
    assert reasons.to_list() == want_reasons.to_list() == [None] * len(values)


def test_each_distinct_text_is_converted_once_page_after_page():
    calls = []

    def convert(value):
        calls.append(value)
        return None if value is None else value.upper()

    try:
        for values in (["a", "b", "a", None], ["b", "c", None, "c"]):
            assert ebudget._each_distinct(values, convert) == [
                None if v is None else v.upper() for v in values]
        assert len(calls) == len(set(calls)) == 4  # a, b, c and None, each once
    finally:
        ebudget._CONVERTED.pop(convert, None)


def test_budget_levels_by_name_then_by_code():
    codes = ["01", "01", "02", None, 1, "01"]
    names = ["Бюджет субъекта Российской Федерации", None, "Прочее", "Местный бюджет",
             "Федеральный бюджет", 5]
    assert ebudget._budget_levels(codes, names) == [
        "regional", "federal", None, "municipal", "federal", "federal"]
