"""Regenerate the СО НКО registry samples: a regional registry (2011 template) and the federal one.

    .venv/bin/python -m tests.sample_makers.make_sonko_samples

Organisations, identifiers, addresses and amounts are invented; the layout is
the real one (SOURCES.md §2a, §2b), with the real files' defects kept on purpose
(see the sonko section of tests/fixtures/README.md). The output is deterministic: fixed
dates inside the XLSX package, no clock, no randomness.

- `REGISTRY2011_URLS[0]`: a registry for 2016 in the 2011 federal template, laid
  out cell for cell like the Smolensk files (title merged over A1:K6, headers
  merged over rows 7–20, column numbers in row 21, data from row 22).
- `FEDERAL_URL`: 20 rows of the federal registry in the live file's layout: sheet
  `Worksheet`, the title with the registry's date in row 1, the 13 headers in row 2,
  rows 3–20 empty but for single spaces, data from row 21, ИНН and ОГРН text cells
  with a trailing space.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from scrapers.samples import FIXTURES_DIR, sample_path
from scrapers.sonko import FEDERAL_URL, REGISTRY2011_URLS
from tests.sample_makers.identifiers import broken_ogrn, inn10, ogrn13

NBSP = "\u00a0"
SOFT_HYPHEN = "\u00ad"

# --- identifiers --------------------------------------------------------------------------

# --- the 2011 template --------------------------------------------------------------------

TITLE_2016 = (
    "Реестр социально ориентированных некоммерческих организаций –\n"
    "получателей поддержки в рамках проведения конкурсного отбора среди некоммерческих "
    "организаций, подавших заявку на участие в конкурсе для  предоставления субсидий из "
    "областного и федерального бюджетов социально ориентированным НКО на реализацию "
    "социальных программ, сформированных некоммерческими организациями\n"
    "в 2016 году\n\n"
    "Департамент Смоленской области по внутренней политике\n"
)
# The template's header texts, with its line breaks and hyphenation
# (`идентифика- ционный`, `налогопла-тельщика`), plus a soft hyphen of our own.
HEADER_TOP = {
    "A": "Номер \nреестровой \nзаписи\nи дата\nвключения \nсведений в \nреестр\n",
    "B": "Дата\nпринятия решения \nоб оказании \nподдержки \nили о  \nпрекращении \n"
         "оказания  \nподдержки\n",
    "C": "Сведения о социально ориентированных  \nнекоммерческих организациях - "
         "получателях поддержки\n ",
    "H": "Сведения о предоставленной \nподдержке\n",
    "K": "Информация\n(если имеется) о нарушениях, допущенных социально ориентированной \n"
         "некоммерческой организацией, получившей поддержку, в том\nчисле о нецелевом "
         "использовании предоставленных \nсредств и    \nимущества\n",
}
HEADER_LOW = {
    "C": "наименование   \nпостоянно  \nдействующего органа  \nнекоммерческой  \nорганизации   \n",
    "D": "почтовый \nадрес    \n(местонахождение)\nпостоянно\nдействующего органа "
         "некоммерческой организации\n- получателя   \nподдержки\n",
    "E": "основной \nгосударственный \nрегистрационный  \nномер записи о   \nгосударственной \n"
         "регистрации некоммерческой организации\n(ОГРН) \n",
    "F": "идентифика- ционный \nномер \nналогопла-тельщика\n",
    "G": f"виды \nдеятель{SOFT_HYPHEN}ности \nнекоммерческой\nорганизации\n",
    "H": "форма \nподдержки\n",
    "I": "размер \nподдержки\n(руб.)   \n",
    "J": "срок \nоказания\nподдержки   \n",
}
TOP, LOW, NUMBERS, FIRST_DATA = 7, 14, 21, 22
DECISION = "21.04.2016, протокол № 1 заседания конкурсной комиссии"
INCLUDED = "20.05.2016"
REGIONAL = "Субсидия из областного бюджета"
FEDERAL = "Субсидия из федерального бюджета"
NOT_SIGNED = "Организация не заключила договор о предоставлении субсидии"


@dataclass
class Entry:
    """One registry record as the cells show it (values already in their cell types)."""

    number: object
    name: str
    address: str
    ogrn: object
    inn: object
    activities: str
    form: str
    amount: object
    term: str = "2016 год"
    decision: str = DECISION
    violations: str = ""
    second_address: str | None = None


def registry_entries() -> list[Entry]:
    return [
        # The 2015 file's defect: number and inclusion date repeated three times, no separator.
        Entry(f"1.\n{INCLUDED}" * 3,
              "Смоленская областная общественная организация «Серебряная нить»",
              # Every space a no-break space, as in the real record 1.
              "214000, Смоленская область, г. Смоленск, ул. Лесная, д. 3".replace(" ", NBSP),
              # Identifiers stored as numbers: a float in the cell.
              float(ogrn13("102679990131")), float(inn10("673099131")),
              "Социальная поддержка пожилых людей; клубы общения; патронаж одиноких пенсионеров",
              # 2012's text amount with a no-break space as the thousands separator.
              REGIONAL, f"1{NBSP}200 000"),
        # 2012 record 18: a second physical row holding only another address.
        Entry(f"2.\n{INCLUDED}" * 2,
              "Автономная некоммерческая организация «Центр семейных встреч»",
              "214014, Смоленская область, г. Смоленск, ул. Садовая, д.7, оф. 12",
              ogrn13("106679990212"), inn10("673199212"),
              "Психологическая и правовая помощь семьям с детьми; школа приёмных родителей",
              FEDERAL, 450000,
              second_address="214000, Смоленская область, г.Смоленск, ул.Садовая, д.7, оф.12"),
        # A nine-digit ИНН as text, like the real `673004802`: fails its check, a flag.
        Entry(f"3.\n{INCLUDED}",
              "Смоленская региональная общественная организация «Лыжня Поднепровья»",
              "215110, Смоленская область, г.Вязьма, ул. Полевая д. 2",
              ogrn13("103679990333"), "673199344",
              "Развитие массового лыжного спорта среди детей и ветеранов",
              REGIONAL, 300000.0),
        # Two protocols in one decision cell: the first date is the decision's.
        Entry(f"4.\n{INCLUDED}",
              "Общественная организация «Смоленское общество книголюбов»",
              "214025, Смоленская область, г. Смоленск, ул. Книжная, д. 4, кв. 1",
              ogrn13("111679990414"), inn10("673299414"),
              "Просветительская деятельность, передвижные библиотеки для сёл",
              REGIONAL, "250 000",
              decision=DECISION + ";\n16.06.2016, протокол № 2 заседания конкурсной комиссии"),
        # 2014 record 27: the organisation did not sign the agreement.
        Entry(f"5.\n{INCLUDED}",
              "Некоммерческое партнерство «Дом ремёсел «Берёста»",
              "215100, Смоленская область, г. Вязьма, пер. Гончарный, д. 5",
              ogrn13("110679990515"), inn10("672299515"),
              "Обучение народным ремёслам детей из семей в трудной жизненной ситуации",
              REGIONAL, 80000, violations=NOT_SIGNED),
        # An amount that does not parse (two tranches in one cell): quarantined.
        Entry(f"6.\n{INCLUDED}",
              "Смоленская областная молодёжная общественная организация «Перекрёсток»",
              "214013, Смоленская область, г. Смоленск, проезд Речной, дом 6, оф. 16",
              ogrn13("113679990616"), inn10("673299616"),
              "Вовлечение молодёжи в добровольческую деятельность",
              FEDERAL, "150 000 / 75 000"),
        # An empty term (a few 2012 records); an ИНН with a trailing space.
        Entry(f"7.\n{INCLUDED}",
              "Смоленское региональное отделение общественной организации «Добрые соседи»",
              "214018, Смоленская область, г.Смоленск, ул.Ключевая, д.7",
              ogrn13("104679990717"), inn10("673099717") + " ",
              "Помощь людям с инвалидностью в быту; сопровождение на прогулках",
              FEDERAL, 95000.0, term=""),
        # An ОГРН whose check digit fails, like the real `1076700006484`: a flag.
        Entry(f"8.\n{INCLUDED}",
              "Общественная организация «Смоленский клуб садоводов-любителей»",
              "214000, Смоленская\u00a0  область, г. Смоленск, ул. Яблоневая, 8, к. 1",
              broken_ogrn("107679990818"), inn10("673099818"),
              "Консультации садоводам; выставки урожая; помощь многодетным семьям рассадой",
              REGIONAL, 140000),
        Entry(f"9.\n{INCLUDED}",
              "Смоленская городская общественная организация «Шахматный клуб «Ладья»",
              "214004, Смоленская область, г. Смоленск, ул. Турнирная, д. 9",
              float(ogrn13("112679990919")), float(inn10("673299919")),
              "Шахматные кружки для школьников и пенсионеров",
              REGIONAL, 60000),
        Entry(f"10.\n{INCLUDED}",
              "Региональная общественная организация «Смоленский поисковый отряд «Память»",
              "214030, Смоленская область, г. Смоленск, ул. Лесопарковая, д. 10, кв. 20",
              ogrn13("103679991010"), inn10("673091010"),
              "Поиск и перезахоронение останков воинов; уроки памяти в школах",
              REGIONAL, 45000),
    ]


def _header(ws, top_left: str, bottom_right: str, text: str) -> None:
    ws[top_left] = text
    ws[top_left].alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws[top_left].font = Font(name="Times New Roman", size=10)
    ws.merge_cells(f"{top_left}:{bottom_right}")


def registry2011_xlsx(entries: list[Entry], title: str = TITLE_2016) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Лист1"
    ws["A1"] = title
    ws["A1"].alignment = Alignment(wrap_text=True, horizontal="center")
    ws["A1"].font = Font(name="Times New Roman", size=12, bold=True)
    ws.merge_cells("A1:K6")
    last = NUMBERS - 1
    for col in ("A", "B", "K"):
        _header(ws, f"{col}{TOP}", f"{col}{last}", HEADER_TOP[col])
    _header(ws, f"C{TOP}", f"G{LOW - 1}", HEADER_TOP["C"])
    _header(ws, f"H{TOP}", f"J{LOW - 1}", HEADER_TOP["H"])
    for col, text in HEADER_LOW.items():
        _header(ws, f"{col}{LOW}", f"{col}{last}", text)
    # The column numbers are text in the real files.
    for index in range(11):
        ws.cell(row=NUMBERS, column=index + 1, value=str(index + 1))
    row = FIRST_DATA
    for entry in entries:
        values = [entry.number, entry.decision, entry.name, entry.address, entry.ogrn,
                  entry.inn, entry.activities, entry.form, entry.amount, entry.term,
                  entry.violations]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value if value != "" else None)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if entry.second_address is None:
            row += 1
            continue
        # Every column but the address is merged over the record's two rows.
        ws.cell(row=row + 1, column=4, value=entry.second_address)
        for col in range(1, 12):
            if col != 4:
                letter = get_column_letter(col)
                ws.merge_cells(f"{letter}{row}:{letter}{row + 1}")
        row += 2
    for col, width in zip("ABCDEFGHIJK", (12, 16, 30, 28, 16, 14, 36, 18, 12, 10, 24),
                          strict=True):
        ws.column_dimensions[col].width = width
    wb.properties.creator = "Департамент Смоленской области по внутренней политике"
    return _deterministic(wb, datetime(2016, 5, 20, 9, 0, 0))


# --- the federal registry -----------------------------------------------------------------

# The 13 headers exactly as the live file writes them (SOURCES.md §2b).
FEDERAL_HEADERS = [
    "ИНН организации",
    "Наименование организации (полное)",
    "Наименование организации (сокращенное)",
    "Адрес регистрации",
    "ОГРН",
    "Организационно-правовая форма",
    "Основной ОКВЭД",
    "Статус СОНКО",
    "Статус некоммерческой организации (добавлено 1 января 2022 г.)",
    "Критерий включения организации в реестр (добавлено 1 января 2022 г.)",
    "Наименование органа власти, предоставившего поддержку/включившего в реестр "
    "поставщиков социальных услуг",
    "Дата принятия решения об оказании поддержки / включения в реестр поставщиков "
    "социальных услуг",
    "Дата включения в реестр",
]
FEDERAL_TITLE = "Реестр СОНКО по состоянию на 15.01.2024"
# Rows 3–20 of the live file hold no record, only a single space in some cells.
FEDERAL_FIRST_DATA_ROW = 21
FEDERAL_SPACE_CELLS = ((3, 1), (4, 2), (7, 5), (12, 1), (12, 13), (20, 3))
SUPPORT = "Получатель поддержки"
GRANT = "Получатель гранта Президента Российской Федерации"
SERVICES = "Исполнитель общественно полезных услуг"
ACTIVE = "Действующая"
SONKO = "Является СОНКО"
FUND = "Фонд президентских грантов"


@dataclass
class Org:
    inn: object
    full_name: str
    short_name: str
    address: str
    ogrn: object
    legal_form: str
    okved: str


def _orgs() -> dict[str, Org]:
    def org(key: str, subject: str, seq: str, full: str, short: str, address: str,
            form: str, okved: str, *, inn_as_number: bool = False) -> tuple[str, Org]:
        inn = inn10(subject + seq[:7])
        ogrn = ogrn13("102" + subject + "990" + seq[:4])
        return key, Org(int(inn) if inn_as_number else inn, full, short, address, ogrn,
                        form, okved)

    ano, roo, fund, assoc = ("Автономная некоммерческая организация",
                             "Общественная организация", "Фонд", "Ассоциация (союз)")
    return dict([
        org("perm", "59", "12345678", "Автономная некоммерческая организация «Тёплый дом»",
            "АНО «Тёплый дом»", "614000, Пермский край, г. Пермь, ул. Речная, д. 1", ano,
            "88.99"),
        org("tomsk", "70", "23456781", "Томская региональная общественная организация "
            "«Клуб исследователей Сибири»", "ТРОО «КИС»",
            "634050, Томская обл., г. Томск, пр-кт Ленина, д. 2", roo, "94.99"),
        # Dagestan: an ИНН beginning with 0, stored as a number, so the zero is lost
        # (`541…`); the parser restores it from the ОГРН's region.
        org("dagestan", "05", "34567812", "Благотворительный фонд «Горный родник»",
            "БФ «Горный родник»", "367000, Республика Дагестан, г. Махачкала, ул. Садовая, д. 3",
            fund, "64.99", inn_as_number=True),
        org("kazan", "16", "45678123", "Ассоциация содействия развитию волонтёрства «Вместе»",
            "Ассоциация «Вместе»", "420111, Республика Татарстан, г. Казань, ул. Кремлёвская, д. 4",
            assoc, "94.99"),
        org("omsk", "55", "56781234", "Омская городская общественная организация «Мы рядом»",
            "ОГОО «Мы рядом»", "644099, Омская обл., г. Омск, ул. Ленина, д. 5", roo, "88.10",
            inn_as_number=True),
        org("tver", "69", "67812345", "Автономная некоммерческая организация "
            "«Центр реабилитации «Опора»", "АНО «Опора»",
            "170100, Тверская обл., г. Тверь, ул. Советская, д. 6", ano, "86.90"),
        org("kaluga", "40", "78123456", "Калужская областная общественная организация "
            "«Семейный клуб «Гнездо»", "", "248000, Калужская обл., г. Калуга, ул. Ленина, д. 7",
            roo, "88.99"),
        org("vologda", "35", "81234567", "Фонд поддержки сельских инициатив «Вологодская околица»",
            "Фонд «Околица»", "160000, Вологодская обл., г. Вологда, ул. Мира, д. 8", fund,
            "64.99"),
    ])


def federal_rows() -> list[list[object]]:
    orgs = _orgs()
    perm_ministry = "Министерство социального развития Пермского края"
    tomsk_committee = "Департамент по вопросам семьи и детей Томской области"

    def row(key: str, criterion: str, authority: str, decided: object, included: object,
            *, status: str = ACTIVE, inn: object = None) -> list[object]:
        o = orgs[key]
        number = o.inn if inn is None else inn
        # The live file's ИНН and ОГРН text cells end in a space; a number cell cannot.
        return [f"{number} " if isinstance(number, str) else number, o.full_name,
                o.short_name or None, o.address, f"{o.ogrn} ", o.legal_form, o.okved, SONKO,
                status, criterion, authority, decided, included]

    broken = orgs["tver"].inn[:-1] + str((int(orgs["tver"].inn[-1]) + 1) % 10)
    return [
        # One ИНН, three decisions: three rows, all kept.
        row("perm", SUPPORT, perm_ministry, date(2021, 3, 15), date(2021, 4, 1)),
        row("perm", SUPPORT, perm_ministry, date(2022, 3, 14), date(2022, 4, 1)),
        row("perm", GRANT, FUND, date(2022, 7, 1), date(2022, 8, 1)),
        row("tomsk", SUPPORT, tomsk_committee, date(2021, 5, 20), date(2021, 6, 1)),
        # Dates as text instead of date cells.
        row("tomsk", SUPPORT, tomsk_committee, "19.05.2022", "01.06.2022"),
        row("dagestan", GRANT, FUND, date(2021, 12, 28), date(2022, 1, 20)),
        row("dagestan", GRANT, FUND, date(2023, 6, 30), date(2023, 7, 20)),
        row("kazan", SERVICES, "Министерство труда, занятости и социальной защиты "
            "Республики Татарстан", date(2021, 9, 1), date(2021, 9, 15)),
        row("kazan", SUPPORT, "Министерство по делам молодёжи Республики Татарстан",
            date(2022, 2, 10), date(2022, 3, 1)),
        row("omsk", SUPPORT, "Администрация города Омска", date(2021, 10, 5), date(2021, 11, 1)),
        row("omsk", SUPPORT, "Министерство труда и социального развития Омской области",
            date(2022, 10, 3), date(2022, 11, 1)),
        row("omsk", GRANT, FUND, date(2023, 1, 31), date(2023, 2, 20)),
        # An ИНН whose check digit fails: loaded and flagged.
        row("tver", SUPPORT, "Министерство социальной защиты населения Тверской области",
            date(2022, 4, 12), date(2022, 5, 1), inn=broken),
        row("tver", SERVICES, "Министерство социальной защиты населения Тверской области",
            date(2023, 4, 11), date(2023, 5, 2)),
        # No short name; an organisation being wound up.
        row("kaluga", SUPPORT, "Министерство труда и социальной защиты Калужской области",
            date(2021, 8, 16), date(2021, 9, 1), status="Находится в стадии ликвидации"),
        row("vologda", GRANT, FUND, date(2021, 6, 30), date(2021, 7, 20)),
        row("vologda", SUPPORT, "Департамент сельского хозяйства и продовольственных "
            "ресурсов Вологодской области", date(2022, 6, 1), date(2022, 6, 20)),
        # A decision date that is not a date (31 February): quarantined.
        row("vologda", SUPPORT, "Департамент сельского хозяйства и продовольственных "
            "ресурсов Вологодской области", "31.02.2023", date(2023, 3, 20)),
        row("kaluga", GRANT, FUND, date(2023, 1, 31), date(2023, 2, 20)),
        row("tomsk", GRANT, FUND, date(2023, 6, 30), date(2023, 7, 20)),
    ]


def federal_xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Worksheet"
    ws["A1"] = FEDERAL_TITLE
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(FEDERAL_HEADERS))
    for col, text in enumerate(FEDERAL_HEADERS, start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row, col in FEDERAL_SPACE_CELLS:
        ws.cell(row=row, column=col, value=" ")
    for offset, values in enumerate(rows, start=FEDERAL_FIRST_DATA_ROW):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=offset, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "DD.MM.YYYY"
            elif isinstance(value, int):
                cell.number_format = "0"
    ws.freeze_panes = "A3"
    wb.properties.creator = "Минэкономразвития России"
    return _deterministic(wb, datetime(2024, 1, 15, 9, 0, 0))


# --- writing ------------------------------------------------------------------------------


def _deterministic(wb: openpyxl.Workbook, stamp: datetime) -> bytes:
    """Save with fixed timestamps so a regenerated file is byte-identical."""
    buf = io.BytesIO()
    wb.save(buf)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + text, content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


def build(root: Path = FIXTURES_DIR) -> list[Path]:
    written = []
    for url, data in ((REGISTRY2011_URLS[0], registry2011_xlsx(registry_entries())),
                      (FEDERAL_URL, federal_xlsx(federal_rows()))):
        path = sample_path(url, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(FIXTURES_DIR), path.stat().st_size)
