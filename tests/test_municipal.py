"""Municipal competitions' winners pages: our two illustrative pages and small inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas.base import validate
from schemas.municipal import WINNERS
from scrapers import municipal
from scrapers.samples import FIXTURES_DIR, sample_path

UTF8_URL = f"{municipal.BASE_URL}/perm/konkurs/2023/pobediteli.html"
CP1251_URL = f"{municipal.BASE_URL}/perm/rayon/2022/itogi.html"


def _body(url: str) -> bytes:
    return sample_path(url, FIXTURES_DIR).read_bytes()


def _page(table: str, *, h1: str = "Итоги конкурса «Тест» 2021 года", head: str = "") -> bytes:
    return (f"<html><head>{head}<title>Итоги</title></head><body><h1>{h1}</h1>"
            f"{table}</body></html>").encode()


def _parse(body: bytes) -> list[dict]:
    return municipal.parse_winners(body, url="test://winners.html")


@pytest.fixture(scope="module")
def city() -> list[dict]:
    return municipal.parse_winners(_body(UTF8_URL), url=UTF8_URL)


@pytest.fixture(scope="module")
def district() -> list[dict]:
    return municipal.parse_winners(_body(CP1251_URL), url=CP1251_URL)


# --- the samples --------------------------------------------------------------------------


def test_samples_live_where_the_urls_point():
    assert municipal.HOST.endswith(".invalid")  # our own name: never a real site
    assert set(municipal.WINNERS_URLS) == {UTF8_URL, CP1251_URL}
    for url in municipal.WINNERS_URLS:
        assert url.startswith(f"https://{municipal.HOST}/")
        assert sample_path(url, FIXTURES_DIR).is_file()


def test_samples_say_they_are_illustrations(city, district):
    for url in municipal.WINNERS_URLS:
        text = _body(url).decode("utf-8" if url == UTF8_URL else "cp1251")
        assert "Иллюстрация socfund" in text
        assert "вымышлены" in text
    assert {r["competition"] for r in city} == {"Город, где хочется жить (иллюстрация)"}
    assert {r["competition"] for r in district} == {"Соседский двор (иллюстрация)"}


def test_city_page_winners_reconcile_with_its_total(city):
    assert len(city) == 8
    total = municipal.parse_winners_total(_body(UTF8_URL), url=UTF8_URL)
    assert total == Decimal("1100750.50")
    assert sum(r["amount"] for r in city) == total
    assert not any((r["organisation_name"] or "").lower().startswith("итого") for r in city)


def test_city_page_nomination_column_with_rowspan_keeps_columns_aligned(city):
    assert [r["nomination"] for r in city] == (
        ["Здоровый город"] * 3 + ["Культура рядом"] * 2 + ["Добрые соседи"] * 3
    )
    # rows under a rowspan cell have one cell fewer; without the grid they shift left
    second = city[1]
    assert second["organisation_name"] == "Местная общественная организация «Ветераны Заречья»"
    assert second["project_title"] == "Скандинавская ходьба для всех"
    assert all(r["inn"].isdigit() and len(r["inn"]) == 10 for r in city)


def test_city_page_amounts_with_nbsp_narrow_space_and_currency(city):
    by_project = {r["project_title"]: r["amount"] for r in city}
    assert by_project["Зарядка во дворе"] == Decimal("150000.00")  # no-break space
    assert by_project["Скандинавская ходьба для всех"] == Decimal("95500.00")  # `руб.` after it
    assert by_project["Лыжня у дома"] == Decimal("200000")  # narrow no-break space U+202F
    assert by_project["Соседские субботы"] == Decimal("120250.50")  # kopecks after a comma
    assert {r["currency"] for r in city} == {"RUB"}


def test_city_page_heading_name_year_and_quotes(city):
    assert {r["year"] for r in city} == {2023}
    assert {r["municipality"] for r in city} == {"Пермь"}
    titles = [r["project_title"] for r in city]
    assert titles[0] == "Зарядка во дворе"  # the page quotes titles: «Зарядка во дворе»
    orgs = [r["organisation_name"] for r in city]
    assert "Автономная некоммерческая организация «Театральная мастерская «Антресоль»»" in orgs


def test_city_page_other_tables_are_not_winners(city):
    assert not any("Заключение договоров" in (r["organisation_name"] or "") for r in city)
    assert [r["_row"] for r in city] == list(range(2, 10))


def test_city_page_validates_and_flags_the_bad_inn(city):
    result = validate(city, WINNERS)
    assert result.quarantined == []
    flagged = [r["organisation_name"] for r in result.valid if r["inn_valid"] is False]
    assert flagged == ["Общественная организация «Соседский центр «Окно»»"]
    assert sum(r["inn_valid"] is True for r in result.valid) == 7


def test_district_page_is_windows_1251_with_only_a_meta_charset(district):
    body = _body(CP1251_URL)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert b'<meta charset="windows-1251">' in body
    assert district[0]["organisation_name"] == "ТОС «Улица Лесная»"
    assert district[4]["organisation_name"] == "Молодёжный совет «Новое поколение»"


def test_district_page_thousands_header_scaled_to_rubles(district):
    assert [r["amount"] for r in district] == [
        Decimal("45500"), Decimal("30000"), Decimal("120000"), Decimal("80000"), Decimal("143000"),
    ]
    total = municipal.parse_winners_total(_body(CP1251_URL), url=CP1251_URL)
    assert total == Decimal("418500.00") == sum(r["amount"] for r in district)


def test_district_page_section_rows_are_nominations(district):
    assert [r["nomination"] for r in district] == (
        ["Двор без барьеров"] * 3 + ["Память поколений"] * 2
    )
    assert all(r["inn"] is None for r in district)


def test_district_page_column_numbers_subtotals_and_logo_are_skipped(district):
    assert len(district) == 5
    assert [r["_row"] for r in district] == [4, 5, 6, 9, 10]
    assert not any(r["organisation_name"] in {"2", "Итого по номинации:"} for r in district)
    # the site's logo is the first h1; the news heading is the one naming a competition
    assert {r["year"] for r in district} == {2022}
    assert validate(district, WINNERS).quarantined == []


# --- quirks on small inputs -------------------------------------------------------------------


def test_headers_matched_by_text_in_any_order():
    table = ("<table><tr><th>Размер гранта</th><th>Проект</th><th>Заявитель</th></tr>"
             "<tr><td>10 000</td><td>Сад</td><td>АНО «Сад»</td></tr></table>")
    (rec,) = _parse(_page(table))
    assert (rec["organisation_name"], rec["project_title"], rec["amount"]) == (
        "АНО «Сад»", "Сад", Decimal("10000.00"))
    assert rec["competition"] == "Тест" and rec["year"] == 2021
    assert rec["nomination"] is None


def test_missing_amount_column_names_the_column_and_page():
    table = ("<table><tr><th>Организация</th><th>Проект</th></tr>"
             "<tr><td>А</td><td>Б</td></tr></table>")
    with pytest.raises(ValueError, match=r"test://winners\.html.*amount"):
        _parse(_page(table))


def test_two_amount_columns_prefer_the_grant_or_fail():
    granted = ("<table><tr><th>Организация</th><th>Сумма заявки</th>"
               "<th>Сумма гранта, руб.</th></tr>"
               "<tr><td>А</td><td>900</td><td>500</td></tr></table>")
    (rec,) = _parse(_page(granted))
    assert rec["amount"] == Decimal("500.00")
    unclear = ("<table><tr><th>Организация</th><th>Сумма, руб.</th><th>Сумма, тыс. руб.</th></tr>"
               "<tr><td>А</td><td>500</td><td>0,5</td></tr></table>")
    with pytest.raises(ValueError, match="more than one amount column"):
        _parse(_page(unclear))


def test_millions_header_and_decimal_comma():
    table = ("<table><tr><th>Организация</th><th>Сумма гранта, млн руб.</th></tr>"
             "<tr><td>А</td><td>1,25</td></tr></table>")
    (rec,) = _parse(_page(table))
    assert rec["amount"] == Decimal("1250000.00")


def test_unreadable_or_negative_amount_is_quarantined():
    table = ("<table><tr><th>Организация</th><th>Сумма</th></tr>"
             "<tr><td>А</td><td>10 тыс.</td></tr><tr><td>Б</td><td>-5 000</td></tr>"
             "<tr><td>В</td><td>7 000</td></tr></table>")
    records = _parse(_page(table))
    assert records[0]["amount"] is None and any("amount" in e for e in records[0]["_errors"])
    result = validate(records, WINNERS)
    assert [r["organisation_name"] for r in result.valid] == ["В"]
    assert sorted(q.row for q in result.quarantined) == [2, 3]


def test_organisation_called_vsego_is_a_winner_not_a_total():
    table = ("<table><tr><th>Организация</th><th>Сумма</th></tr>"
             "<tr><td>Клуб «Всего понемногу»</td><td>100</td></tr>"
             "<tr><td>Всего понемногу</td><td>200</td></tr>"
             "<tr><td>Всего:</td><td>300</td></tr></table>")
    body = _page(table)
    assert [r["organisation_name"] for r in _parse(body)] == [
        "Клуб «Всего понемногу»", "Всего понемногу"]
    assert municipal.parse_winners_total(body, url="t") == Decimal("300.00")


def test_section_row_without_colspan_and_total_without_amount():
    table = ("<table><tr><th>Организация</th><th>Проект</th><th>Сумма</th></tr>"
             "<tr><td>Номинация — Спорт</td></tr>"
             "<tr><td>А</td><td>П</td><td>100</td></tr>"
             "<tr><td>Итого</td><td></td><td></td></tr></table>")
    body = _page(table)
    (rec,) = _parse(body)
    assert rec["nomination"] == "Спорт"
    with pytest.raises(ValueError, match="row 4: totals row has no readable amount"):
        municipal.parse_winners_total(body, url="t")


def test_page_without_totals_row_has_no_total():
    table = ("<table><tr><th>Организация</th><th>Сумма</th></tr>"
             "<tr><td>А</td><td>1</td></tr></table>")
    assert municipal.parse_winners_total(_page(table), url="t") is None


def test_winners_table_nested_in_a_layout_table():
    inner = ("<table><tr><th>Наименование организации</th><th>Сумма гранта, руб.</th></tr>"
             "<tr><td>А</td><td>1 000</td></tr></table>")
    layout = f"<table><tr><td>Меню</td><td>Организация Сумма {inner}</td></tr></table>"
    (rec,) = _parse(_page(layout))
    assert rec["organisation_name"] == "А" and rec["_row"] == 2


def test_http_equiv_charset_windows_1251():
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
            "</head><body><h1>Итоги конкурса «Тест» 2020</h1><table><tr><th>Организация</th>"
            "<th>Сумма</th></tr><tr><td>Фонд «Ёлка»</td><td>1\xa0000,50</td></tr>"
            "</table></body></html>")
    (rec,) = _parse(html.encode("cp1251"))
    assert rec["organisation_name"] == "Фонд «Ёлка»"
    assert rec["amount"] == Decimal("1000.50")


def test_model_columns_are_the_parser_fields_plus_the_flag(city):
    parsed = {k for k in city[0] if not k.startswith("_")}
    assert set(WINNERS.columns()) == parsed | {"inn_valid"}
    assert WINNERS.columns()["amount"] == "DECIMAL(18,2)"


def test_missing_organisation_or_competition_is_quarantined():
    table = ("<table><tr><th>Организация</th><th>Сумма</th></tr>"
             "<tr><td></td><td>100</td></tr></table>")
    records = municipal.parse_winners(
        b"<html><body>" + table.encode() + b"</body></html>", url="t")
    (q,) = validate(records, WINNERS).quarantined
    assert any("organisation_name" in r for r in q.reasons)
    assert any("competition" in r for r in q.reasons)
