"""One header matcher for every workbook and CSV loader (scrapers.headers): each real header
of SOURCES.md §1b, §2a and §2b finds its column, and the normalisations it rests on."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from scrapers import curated, fpg, oprf2013, sonko, treasury
from scrapers.headers import (
    Column,
    column,
    extra_columns,
    extra_values,
    find_header_row,
    header_key,
    header_words,
    match_columns,
    named_column,
    require,
)
from scrapers.values import MissingColumnError

# The fund's data passport (SOURCES.md §1b): the 17 headers of row 1 of sheet `Проекты`,
# with the line breaks of the real header row, and the field each one fills.
FPG_PASSPORT = [
    ("Номер заявки", "application_number"),
    ("Конкурс", "contest"),
    ("Организация", "organisation_name"),
    ("ОГРН", "ogrn"),
    ("ИНН", "inn"),
    ("Регион", "region"),
    ("Название проекта", "title"),
    ("Грантовое направление", "direction"),
    ("Запрошенная сумма гранта, руб.", "amount_requested"),
    ("Общая сумма расходов \nна реализацию проекта, руб.", "total_cost"),
    ("Начало реализации проекта", "start_date"),
    ("Окончание реализации проекта", "end_date"),
    ("Статус проекта", "status"),
    ("Дата принятия решения \nо предоставлении гранта", "decision_date"),
    ("Размер гранта, руб.", "amount_awarded"),
    ("Оценка результатов проекта", "evaluation"),
    ("Информация \nо допущенных нарушениях", "violations"),
]
# The federal registry (SOURCES.md §2b): the 13 headers of row 2, exactly.
FEDERAL = [
    ("ИНН организации", "inn"),
    ("Наименование организации (полное)", "full_name"),
    ("Наименование организации (сокращенное)", "short_name"),
    ("Адрес регистрации", "address"),
    ("ОГРН", "ogrn"),
    ("Организационно-правовая форма", "legal_form"),
    ("Основной ОКВЭД", "okved"),
    ("Статус СОНКО", "sonko_status"),
    ("Статус некоммерческой организации (добавлено 1 января 2022 г.)", "nko_status"),
    ("Критерий включения организации в реестр (добавлено 1 января 2022 г.)",
     "inclusion_criterion"),
    ("Наименование органа власти, предоставившего поддержку/включившего в реестр "
     "поставщиков социальных услуг", "authority"),
    ("Дата принятия решения об оказании поддержки / включения в реестр поставщиков "
     "социальных услуг", "decision_date"),
    ("Дата включения в реестр", "included_on"),
]
# The 2011 template as the real Smolensk files write it (SOURCES.md §2a): each column's
# header cells top to bottom, a group header above the name and the form of support.
REGISTRY2011 = [
    ("Номер \nреестровой \nзаписи\nи дата\nвключения \nсведений в \nреестр\n",
     "record_number"),
    ("Дата\nпринятия решения \nоб оказании \nподдержки \nили о  \nпрекращении \nоказания  \n"
     "поддержки\n", "decision"),
    ("Сведения о социально ориентированных  \nнекоммерческих организациях - получателях "
     "поддержки\n \nнаименование   \nпостоянно  \nдействующего органа  \nнекоммерческой  \n"
     "организации   \n", "organisation_name"),
    ("почтовый \nадрес    \n(местонахождение)\nпостоянно\nдействующего органа некоммерческой "
     "организации\n- получателя   \nподдержки\n", "address"),
    ("основной \nгосударственный \nрегистрационный  \nномер записи о   \nгосударственной \n"
     "регистрации некоммерческой организации\n(ОГРН) \n", "ogrn"),
    ("идентифика- ционный \nномер \nналогопла-тельщика\n", "inn"),
    ("виды \nдеятельности \nнекоммерческой\nорганизации\n", "activities"),
    ("Сведения о предоставленной \nподдержке\n\nформа \nподдержки\n", "support_form"),
    ("размер \nподдержки\n(руб.)   \n", "amount"),
    ("срок \nоказания\nподдержки   \n", "support_term"),
    ("Информация\n(если имеется) о нарушениях, допущенных социально ориентированной \n"
     "некоммерческой организацией, получившей поддержку, в том\nчисле о нецелевом "
     "использовании предоставленных \nсредств и    \nимущества\n", "violations"),
]
# Our first copies' spellings, still read: the ФПГ sample's header row and the federal
# registry's shorter headers (the bench corpus writes these).
FPG_FIRST_COPY = [
    "Номер\nзаявки", "Конкурс", "Организация", "ОГРН", "ИНН", "Регион", "Название\nпроекта",
    "Грантовое\u00a0направление", "Запрошенная сумма,\nруб.", "Общая сумма\nрасходов, руб.",
    "Начало\nреализации", "Окончание\nреализации", "Статус  проекта", "Дата решения\nо гранте",
    "Размер гранта,\nруб.", "Оценка\nрезультатов", "Информация о нару-\nшениях",
]
FEDERAL_FIRST_COPY = [
    "ИНН организации", "Наименование организации (полное)",
    "Наименование организации (сокращённое)", "Адрес регистрации", "ОГРН",
    "Организационно-\nправовая форма", "Основной ОКВЭД", "Статус СОНКО",
    "Статус некоммерческой организации", "Критерий включения в реестр",
    "Наименование органа власти", "Дата принятия решения", "Дата включения в реестр",
]


# --- every real header ----------------------------------------------------------------------


@pytest.mark.parametrize(("header", "field"), FPG_PASSPORT)
def test_each_fpg_passport_header_finds_its_column(header, field):
    headers = [h for h, _ in FPG_PASSPORT]
    assert match_columns(headers, fpg.XLSX_COLUMNS)[field] == headers.index(header)
    assert match_columns([header], fpg.XLSX_COLUMNS) == {field: 0}


def test_the_fpg_passport_row_takes_every_column_and_leaves_no_extra():
    headers = [h for h, _ in FPG_PASSPORT]
    found = match_columns(headers, fpg.XLSX_COLUMNS)
    assert found == {field: i for i, (_, field) in enumerate(FPG_PASSPORT)}
    assert extra_columns(headers, found) == {}
    assert find_header_row([["Проекты"], headers], fpg.XLSX_COLUMNS) == (1, found)


@pytest.mark.parametrize(("header", "field"), FEDERAL)
def test_each_federal_registry_header_finds_its_column(header, field):
    headers = [h for h, _ in FEDERAL]
    assert match_columns(headers, sonko.FEDERAL_COLUMNS)[field] == headers.index(header)
    assert match_columns([header], sonko.FEDERAL_COLUMNS) == {field: 0}


def test_the_federal_registry_row_takes_every_column():
    headers = [h for h, _ in FEDERAL]
    found = match_columns(headers, sonko.FEDERAL_COLUMNS)
    assert found == {field: i for i, (_, field) in enumerate(FEDERAL)}
    assert [c.label for c in sonko.FEDERAL_COLUMNS] == headers  # errors name them as written


@pytest.mark.parametrize(("header", "field"), REGISTRY2011)
def test_each_2011_template_header_finds_its_column(header, field):
    headers = [h for h, _ in REGISTRY2011]
    assert match_columns(headers, sonko.REGISTRY2011_COLUMNS)[field] == headers.index(header)


def test_first_copy_spellings_are_still_read():
    fpg_found = match_columns(FPG_FIRST_COPY, fpg.XLSX_COLUMNS)
    assert fpg_found == {field: i for i, (_, field) in enumerate(FPG_PASSPORT)}
    federal_found = match_columns(FEDERAL_FIRST_COPY, sonko.FEDERAL_COLUMNS)
    assert federal_found == {field: i for i, (_, field) in enumerate(FEDERAL)}


def test_the_inclusion_date_is_not_taken_for_the_decision_date():
    # The decision header names `включения в реестр` too: the tighter header wins, and
    # `решения` rules the decision header out for the inclusion date.
    decision, included = FEDERAL[11][0], FEDERAL[12][0]
    assert match_columns([included, decision], sonko.FEDERAL_COLUMNS) == {
        "included_on": 0, "decision_date": 1}
    assert match_columns([decision], sonko.FEDERAL_COLUMNS) == {"decision_date": 0}


def test_treasury_headers_by_their_words():
    headers = ["Наименование\nпоказателя", "Код строки", "Код расхода по бюджетной "
               "классификации", "Код вида\nрасходов", "Утвержденные бюджетные назначения",
               "Исполнено"]
    assert match_columns(headers, treasury.HEADER_COLUMNS) == {
        "line_name": 0, "line_code": 1, "kbk": 2, "expense_type": 3, "approved": 4,
        "executed": 5}
    # `Кассовое исполнение` is not `Исполнено`; `Код вида расходов` is not the КБК.
    assert "executed" not in match_columns(["Кассовое исполнение"], treasury.HEADER_COLUMNS)
    assert match_columns(["Код вида расходов"], treasury.HEADER_COLUMNS) == {"expense_type": 0}


# --- the normalisations -------------------------------------------------------------------


@pytest.mark.parametrize(("header", "words"), [
    ("ИНН", ("инн",)),
    ("  Статус\u00a0\u00a0проекта ", ("статус", "проекта")),  # spaces of every kind
    ("СТАТУС ПРОЕКТА", ("статус", "проекта")),  # case
    ("Дата принятия решения \nо предоставлении гранта",
     ("дата", "принятия", "решения", "о", "предоставлении", "гранта")),  # a line break
    ("идентифика- ционный \nномер \nналогопла-тельщика",
     ("идентификационный", "номер", "налогоплательщика")),  # hyphenation, with a space
    ("налогопла-\nтельщика", ("налогоплательщика",)),  # hyphenation across lines
    ("деятель\u00adности", ("деятельности",)),  # a soft hyphen
    ("Организационно-\nправовая форма", ("организационноправовая", "форма")),
    ("Организационно-правовая форма", ("организационноправовая", "форма")),
    ("организациях - получателях", ("организациях", "получателях")),  # a dash separates
    ("Размер гранта, руб.", ("размер", "гранта")),  # units
    ("Размер гранта (руб.)", ("размер", "гранта")),
    ("Размер гранта, ₽", ("размер", "гранта")),
    ("Размер гранта, рублей", ("размер", "гранта")),
    ("Размер поддержки (тыс. руб.)", ("размер", "поддержки", "тыс")),  # a scale stays
    ("Наименование (сокращённое)", ("наименование", "сокращенное")),  # ё
    ("Cофинансирование", ("софинансирование",)),  # a Latin C in a Cyrillic word
    ("req_num", ("req_num",)),  # a Latin name is left alone
    (None, ()),
    (2022.0, ("2022", "0")),
])
def test_header_words(header, words):
    assert header_words(header) == words


def test_every_normalisation_meets_the_same_column():
    spellings = ["Дата принятия решения о предоставлении гранта",
                 "ДАТА ПРИНЯТИЯ РЕШЕНИЯ\nО ПРЕДОСТАВЛЕНИИ ГРАНТА",
                 "Дата  принятия ре-\nшения о предоставлении гранта",
                 "Дата\u00a0решения о гранте"]
    for spelling in spellings:
        assert match_columns([spelling], fpg.XLSX_COLUMNS) == {"decision_date": 0}, spelling
    assert len({header_key(s) for s in spellings[:3]}) == 1


def test_a_column_is_found_by_its_words_never_by_the_whole_string():
    # More words around the distinctive ones still match; fewer do not.
    assert match_columns(["ИНН организации-получателя"], fpg.XLSX_COLUMNS) == {"inn": 0}
    assert match_columns(["Сумма"], fpg.XLSX_COLUMNS) == {}
    assert match_columns(["Дата"], fpg.XLSX_COLUMNS) == {}


def test_whole_word_columns_for_machine_names():
    columns = [named_column("document"), named_column("document_date", required=False)]
    assert match_columns(["document_date", "document"], columns) == {
        "document_date": 0, "document": 1}
    assert match_columns(["document_date"], columns) == {"document_date": 0}
    assert match_columns(["DOCUMENT "], columns) == {"document": 0}


def test_a_column_needs_a_word():
    with pytest.raises(ValueError, match="'x'"):
        column("x", "X", ", руб.")


# --- what a loader does with the match --------------------------------------------------------


def test_a_missing_column_names_itself_the_file_and_the_headers_found():
    headers = [h for h, _ in FPG_PASSPORT if not h.startswith("Размер")]
    found = match_columns(headers, fpg.XLSX_COLUMNS)
    with pytest.raises(MissingColumnError) as caught:
        require(found, fpg.XLSX_COLUMNS, headers, "https://files.test/projects.xlsx",
                "sheet 'Проекты', header row 1")
    message = str(caught.value)
    assert caught.value.column == "Размер гранта"
    assert caught.value.where == "https://files.test/projects.xlsx"
    assert "sheet 'Проекты', header row 1" in message
    assert "'Дата принятия решения о предоставлении гранта'" in message  # one line each
    # Optional columns may be absent.
    required = [h for h, f in FPG_PASSPORT if f not in fpg.OPTIONAL_COLUMNS]
    require(match_columns(required, fpg.XLSX_COLUMNS), fpg.XLSX_COLUMNS, required, "x")


def test_extra_columns_are_named_by_their_headers_and_kept_as_json():
    headers = ["ИНН", "Примечание", "", "Примечание", "Код\nОКТМО"]
    found = {"inn": 0}
    extras = extra_columns(headers, found)
    assert extras == {1: "Примечание", 3: "Примечание [4]", 4: "Код ОКТМО"}
    row = ["7700000000", " см. письмо ", "x", datetime(2024, 1, 15), 88701000.0]
    assert json.loads(extra_values(row, extras)) == {
        "Примечание": "см. письмо", "Примечание [4]": "2024-01-15", "Код ОКТМО": 88701000}
    assert extra_values(["7700000000", " ", None], extras) is None
    assert json.loads(extra_values([None, date(2020, 1, 2)], {1: "Дата"})) == {
        "Дата": "2020-01-02"}


def test_every_workbook_and_csv_loader_uses_the_matcher():
    # Their column lists are the matcher's, so a header is read the same way everywhere.
    for columns in (fpg.XLSX_COLUMNS, sonko.FEDERAL_COLUMNS, sonko.REGISTRY2011_COLUMNS,
                    treasury.HEADER_COLUMNS, oprf2013._HEADER_COLUMNS,
                    curated._HEADER_COLUMNS):
        assert columns and all(isinstance(c, Column) for c in columns)
