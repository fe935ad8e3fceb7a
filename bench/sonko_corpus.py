"""Synthetic federal registry of socially oriented NGOs (SOURCES.md §2b), at full size.

Title in row 1, headers in row 2 (our sample's spelling), one row per decision, an
organisation's decisions on consecutive rows. Organisations are the corpus's own
(`reference.organisation`), so many of them also applied to the ФПГ.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import xlsxwriter

from bench import reference as ref
from scrapers import sonko

FULL_ROWS = 111_000
URL = sonko.FEDERAL_URL
HEADERS = [
    "ИНН организации", "Наименование организации (полное)",
    "Наименование организации (сокращённое)", "Адрес регистрации", "ОГРН",
    "Организационно-\nправовая форма", "Основной ОКВЭД", "Статус СОНКО",
    "Статус некоммерческой организации", "Критерий включения в реестр",
    "Наименование органа власти", "Дата принятия решения", "Дата включения в реестр",
]
_ABBREVIATIONS = {
    "АВТОНОМНАЯ НЕКОММЕРЧЕСКАЯ ОРГАНИЗАЦИЯ": "АНО", "БЛАГОТВОРИТЕЛЬНЫЙ ФОНД": "БФ",
    "РЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ": "РОО", "МЕСТНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ": "МОО",
    "МЕЖРЕГИОНАЛЬНАЯ ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ": "МРОО", "НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО": "НП",
    "ОБЩЕСТВЕННАЯ ОРГАНИЗАЦИЯ": "ОО", "РЕЛИГИОЗНАЯ ОРГАНИЗАЦИЯ": "РО",
}
_OKVED = ["88.99", "94.99", "85.41", "93.19", "64.99", "87.90", "90.04", "91.02", "86.90"]
_CRITERIA = ["Получатель поддержки", "Получатель гранта Президента Российской Федерации",
             "Исполнитель общественно полезных услуг", "Получатель субсидии"]
_AUTHORITIES = ["Министерство социального развития", "Министерство культуры",
                "Департамент по вопросам семьи и детей", "Комитет по молодежной политике",
                "Министерство здравоохранения"]
_DEFECTS = ["missing_inn", "missing_name", "odd_date", "shifted"]


def rows(scale: float) -> int:
    return max(1, round(FULL_ROWS * scale))


def _names(name: str) -> tuple[str, str]:
    """(full, short) as the Ministry writes them: sentence case, «» quotes, an abbreviation."""
    form, _, quoted = name.partition(' "')
    words = quoted.rstrip('"').capitalize()
    return f"{form.capitalize()} «{words}»", f"{_ABBREVIATIONS.get(form, form)} «{words}»"


def _date_cell(value: date, as_text: bool) -> object:
    return f"{value:%d.%m.%Y}" if as_text else value


def registry_rows(seed: int, scale: float):
    """Every row of the registry, in order: organisation after organisation."""
    total = rows(scale)
    written = 0
    index = 0
    while written < total:
        rng = ref.rng_for(seed, "sonko", index)
        org = ref.organisation(seed, index)
        full, short = _names(org.name)
        decisions = min(rng.choices([1, 2, 3, 4], weights=[50, 30, 15, 5])[0], total - written)
        okved = rng.choice(_OKVED)
        for _ in range(decisions):
            decided = date(2021, 1, 1) + timedelta(days=rng.randrange(0, 5 * 365))
            included = decided + timedelta(days=rng.randrange(5, 45))
            criterion = rng.choice(_CRITERIA)
            authority = ("Фонд президентских грантов" if "Президента" in criterion
                         else f"{rng.choice(_AUTHORITIES)} ({org.region.name})")
            inn: object = org.inn if rng.random() > 0.15 else int(org.inn)
            ogrn = org.ogrn
            flag = rng.random()
            if flag < ref.FLAG_RATE:
                inn = ref.typo_inn(org.inn)
            elif flag < 2 * ref.FLAG_RATE:
                ogrn = ref.typo_ogrn(org.ogrn)
            text_dates = rng.random() < 0.1
            row: list[object] = [
                inn, full, short, org.address, ogrn, org.legal_form, okved, "Является СОНКО",
                "Действующая", criterion, authority, _date_cell(decided, text_dates),
                _date_cell(included, text_dates),
            ]
            if rng.random() < ref.DEFECT_RATE:
                defect = rng.choice(_DEFECTS)
                if defect == "missing_inn":
                    row[0] = None
                elif defect == "missing_name":
                    row[1] = None
                elif defect == "odd_date":
                    row[11] = f"{decided:%Y/%m/%d}"
                else:
                    row = [*row[:4], None, *row[4:-1]]
            yield row
            written += 1
        index += 1


def write_xlsx(path: Path, seed: int, scale: float) -> int:
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    workbook.set_properties({"author": "Минэкономразвития России",
                             "created": ref.CORPUS_TIME.replace(tzinfo=None)})
    sheet = workbook.add_worksheet("Реестр СОНКО")
    bold = workbook.add_format({"bold": True, "text_wrap": True})
    day = workbook.add_format({"num_format": "DD.MM.YYYY"})
    sheet.write_string(0, 0, "Реестр социально ориентированных некоммерческих организаций", bold)
    for col, text in enumerate(HEADERS):
        sheet.write_string(1, col, text, bold)
    r = 1
    for row in registry_rows(seed, scale):
        r += 1
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            else:
                sheet.write_number(r, c, value)
    workbook.close()
    return r - 1
