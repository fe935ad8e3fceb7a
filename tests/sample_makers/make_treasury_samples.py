"""Regenerate the form 0503317 samples: Ставропольский край, 2015 and 2020 layouts.

    .venv/bin/python -m tests.sample_makers.make_treasury_samples

Invented figures in the shape of the Treasury's report on the execution of a
region's consolidated budget (SOURCES.md §3b), written where
`scrapers.treasury.REPORT_URLS` points. The expense-type-630 lines of each file
add up, in the consolidated budget's `Исполнено`, to the real regional totals
SOURCES.md gives (2 383 194 997 ₽ in 2015, 1 840 778 072 ₽ in 2020); how they
split by section and by budget is ours. The two layouts differ on purpose (see
the treasury section of tests/fixtures/README.md). Output is deterministic: fixed
timestamps inside the XLSX package.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

from scrapers.samples import FIXTURES_DIR, sample_path
from scrapers.treasury import REPORT_URLS

REGION = "Ставропольский край"
NKO = ("Субсидии некоммерческим организациям (за исключением государственных (муниципальных) "
       "учреждений)")
NBSP = "\u00a0"
_FIXED = datetime(2021, 3, 1, 9, 0, 0)

# (section-subsection, executed by the consolidated budget): 2015 in rubles with kopecks.
NKO_2015 = [
    ("0113", Decimal("412350120.45")),
    ("0412", Decimal("196004876.55")),
    ("0801", Decimal("301220000.00")),
    ("1003", Decimal("889615430.00")),
    ("1006", Decimal("455004570.00")),
    ("1101", Decimal("129000000.00")),
]
# 2020 in thousand rubles, three decimals (to the ruble).
NKO_2020 = [
    ("0113", Decimal("301442.150")),
    ("0412", Decimal("148905.922")),
    ("0801", Decimal("255300.000")),
    ("1003", Decimal("702130.000")),
    ("1006", Decimal("318000.000")),
    ("1101", Decimal("115000.000")),
]
# Lines that are not ВР 630 and must not be picked: (name, КБК, executed consolidated).
OTHER_LINES = [
    ("ОБЩЕГОСУДАРСТВЕННЫЕ ВОПРОСЫ", "000 0100 0000000000 000", "1500000000"),
    ("Фонд оплаты труда государственных (муниципальных) органов",
     "000 0102 0000000000 121", "98000000"),
    ("Субсидии автономным учреждениям на финансовое обеспечение государственного "
     "(муниципального) задания", "000 0113 0000000000 621", "64000000"),
    ("Субсидии юридическим лицам (кроме некоммерческих организаций), индивидуальным "
     "предпринимателям, физическим лицам - производителям товаров, работ, услуг",
     "000 0412 0000000000 810", "230000000"),
    # `630` inside the target article, not at the end: not an expense type 630.
    ("Пособия, компенсации и иные социальные выплаты гражданам, кроме публичных "
     "нормативных обязательств", "000 1003 0100063000 321", "75000000"),
]

# The municipal share of each line, by kind of budget (the region's own budget is the rest).
SHARES_2015 = {
    "urban_districts": Decimal("0.11"),
    "municipal_districts": Decimal("0.05"),
    "settlements": Decimal("0.015"),
}
SHARES_2020 = {
    "urban_districts": Decimal("0.09"),
    "municipal_okrugs": Decimal("0.04"),
    "municipal_districts": Decimal("0.02"),
    "urban_settlements": Decimal("0.006"),
    "rural_settlements": Decimal("0.004"),
}
APPROVED_FACTOR = Decimal("1.04")

HEADERS_2015 = {
    "consolidated_with_fund": "консолидированный бюджет субъекта Российской Федерации и "
    "территориального государственного внебюджетного фонда",
    "eliminations": "суммы, подлежащие исключению в рамках консолидированного бюджета "
    "субъекта Российской Федерации и бюджета территориального государственного "
    "внебюджетного фонда",
    "consolidated": "консолидированный бюджет субъекта Российской Федерации",
    "subject": "бюджет субъекта Российской Федерации",
    "intracity_municipalities": "бюджеты внутригородских муниципальных образований городов "
    "федерального значения",
    "urban_districts": "бюджеты городских округов",
    "municipal_districts": "бюджеты муниципальных районов",
    "settlements": "бюджеты городских и сельских поселений",
    "territorial_fund": "бюджет территориального государственного внебюджетного фонда",
}
HEADERS_2020 = {
    "consolidated": "консолидированный бюджет субъекта Российской Федерации",
    "subject": "бюджет субъекта Российской Федерации",
    "urban_districts": "бюджеты городских округов",
    "municipal_okrugs": "бюджеты муниципальных округов",
    "municipal_districts": "бюджеты муниципальных районов",
    "urban_settlements": "бюджеты городских поселений",
    "rural_settlements": "бюджеты сельских поселений",
}
# 2020 lists the approved amounts second, with the eliminations column the 2015 form
# has in both groups, and the budgets in another order.
APPROVED_2020 = ["consolidated", "eliminations", "subject", "municipal_districts",
                 "municipal_okrugs", "urban_districts", "rural_settlements", "urban_settlements"]


def split(total: Decimal, shares: dict[str, Decimal], places: str) -> dict[str, Decimal]:
    """A consolidated figure by budget: municipal shares rounded, the region's budget the rest."""
    quantum = Decimal(places)
    parts = {k: (total * s).quantize(quantum, ROUND_HALF_UP) for k, s in shares.items()}
    parts["subject"] = total - sum(parts.values())
    parts["consolidated"] = total
    return parts


def approved_of(parts: dict[str, Decimal], places: str) -> dict[str, Decimal]:
    quantum = Decimal(places)
    out = {k: (v * APPROVED_FACTOR).quantize(quantum, ROUND_HALF_UP)
           for k, v in parts.items() if k != "consolidated"}
    out["consolidated"] = sum(out.values())
    return out


def kbk(section: str, expense_type: str = "630") -> str:
    return f"000 {section} 0000000000 {expense_type}"


def _number(value: Decimal) -> float:
    return float(value)


# --- 2015: title on the incomes sheet, two header rows and a row of column numbers ----------


def workbook_2015() -> bytes:
    wb = openpyxl.Workbook()
    incomes = wb.active
    incomes.title = "Доходы"
    title = [
        ["ОТЧЕТ ОБ ИСПОЛНЕНИИ КОНСОЛИДИРОВАННОГО БЮДЖЕТА СУБЪЕКТА РОССИЙСКОЙ ФЕДЕРАЦИИ "
         "И БЮДЖЕТА ТЕРРИТОРИАЛЬНОГО ГОСУДАРСТВЕННОГО ВНЕБЮДЖЕТНОГО ФОНДА", None, None, "КОДЫ"],
        ["на 1 января 2016 г.", None, "Форма по ОКУД", "0503317"],
        [None, None, "Дата", "01.01.2016"],
        ["Наименование финансового органа", "Министерство финансов (условное)", "по ОКПО",
         "00000000"],
        ["Наименование бюджета", REGION, "по ОКТМО", "07000000"],
        ["Периодичность: годовая"],
        ["Единица измерения: руб.", None, "по ОКЕИ", "383"],
        [],
        ["1. Доходы бюджета"],
        ["Наименование показателя", "Код строки", "Код дохода по бюджетной классификации",
         "Утвержденные бюджетные назначения", "Исполнено"],
        ["Доходы бюджета - всего", "010", "x", 98000000000.0, 97512345678.9],
    ]
    for row in title:
        incomes.append(row)

    sheet = wb.create_sheet("Расходы")
    groups = list(HEADERS_2015)
    width = len(groups)
    sheet.append(["2. Расходы бюджета"])
    header = ["Наименование показателя", "Код строки", "Код расхода по бюджетной классификации",
              "Утвержденные бюджетные назначения", *[None] * (width - 1),
              "Исполнено", *[None] * (width - 1)]
    sheet.append(header)
    sheet.append([None, None, None, *[HEADERS_2015[g] for g in groups] * 2])
    sheet.append([str(i) for i in range(1, 4 + 2 * width)])
    for col in (1, 2, 3):
        sheet.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    sheet.merge_cells(start_row=2, start_column=4, end_row=2, end_column=3 + width)
    sheet.merge_cells(start_row=2, start_column=4 + width, end_row=2, end_column=3 + 2 * width)

    def line(name: str, code: str, executed: dict[str, Decimal], approved: dict[str, Decimal]):
        def values(parts: dict[str, Decimal]) -> list[float | None]:
            full = {**parts, "consolidated_with_fund": parts.get("consolidated")}
            return [_number(full[g]) if g in full and full[g] is not None else None
                    for g in groups]
        sheet.append([name, "200", code, *values(approved), *values(executed)])

    total = sum(v for _, v in NKO_2015)
    everything = total + sum(Decimal(v) for _, _, v in OTHER_LINES[1:])
    sheet.append(["Расходы бюджета - всего", "200", "x",
                  _number(everything * APPROVED_FACTOR), None, None, None, None, None, None,
                  None, None, _number(everything)])
    other = iter(OTHER_LINES)
    for section, executed_total in NKO_2015:
        if section == "0113":
            for name, code, value in (next(other), next(other), next(other)):
                parts = split(Decimal(value), SHARES_2015, "0.01")
                line(name, code, parts, approved_of(parts, "0.01"))
        parts = split(executed_total, SHARES_2015, "0.01")
        line(NKO, kbk(section), parts, approved_of(parts, "0.01"))
        if section in ("0412", "1003"):
            name, code, value = next(other)
            parts = split(Decimal(value), SHARES_2015, "0.01")
            line(name, code, parts, approved_of(parts, "0.01"))
    sheet.append(["Результат исполнения бюджета (дефицит / профицит)", "450", "x"])
    _style(sheet, 2)
    return _save(wb)


# --- 2020: one sheet, title in `label: value` cells, thousands, groups in the other order --


def workbook_2020() -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Расходы"
    title = [
        ["Отчет об исполнении консолидированного бюджета субъекта Российской Федерации и "
         "бюджета территориального государственного внебюджетного фонда"],
        ["на 01.01.2021 г."],
        ["Наименование финансового органа: Министерство финансов (условное)"],
        [f"Наименование публично-правового образования: {REGION}"],
        ["Наименование бюджета: Консолидированный бюджет субъекта Российской Федерации и "
         "бюджет территориального государственного внебюджетного фонда"],
        ["Периодичность: годовая"],
        ["Единица измерения", "тыс. руб.", None, "по ОКЕИ", "384"],
        [],
        ["2. Расходы бюджета"],
    ]
    for row in title:
        sheet.append(row)
    executed_groups = list(HEADERS_2020)
    header_row = len(title) + 1
    headers = {**HEADERS_2020, "eliminations": HEADERS_2015["eliminations"]}
    sheet.append(["Код строки", "Наименование показателя",
                  "Код расхода по бюджетной классификации",
                  "Исполнено", *[None] * (len(executed_groups) - 1),
                  "Утвержденные бюджетные назначения", *[None] * (len(APPROVED_2020) - 1)])
    sheet.append([None, None, None, *(headers[g] for g in executed_groups),
                  *(headers[g] for g in APPROVED_2020)])
    for col in (1, 2, 3):
        sheet.merge_cells(start_row=header_row, start_column=col, end_row=header_row + 1,
                          end_column=col)

    def line(name: str, code: str, executed: dict[str, Decimal], approved: dict[str, Decimal],
             *, as_text: bool = False):
        def cell(value: Decimal | None) -> float | str | None:
            if value is None:
                return None
            if as_text:
                # One line's figures were pasted as text: `318 000,000` with no-break spaces.
                whole, frac = f"{value:.3f}".split(".")
                grouped = re.sub(r"(?<=\d)(?=(\d{3})+$)", NBSP, whole)
                return f"{grouped},{frac}"
            return _number(value)
        sheet.append(["200", name, code,
                      *(cell(executed.get(g)) for g in executed_groups),
                      *(cell(approved.get(g)) for g in APPROVED_2020)])

    other = iter(OTHER_LINES)
    for section, executed_total in NKO_2020:
        if section == "0113":
            for name, code, value in (next(other), next(other), next(other)):
                parts = split(Decimal(value) / 1000, SHARES_2020, "0.001")
                line(name, code, parts, approved_of(parts, "0.001"))
        parts = split(executed_total, SHARES_2020, "0.001")
        line(NKO, kbk(section), parts, approved_of(parts, "0.001"),
             as_text=section == "1006")
        if section in ("0412", "1003"):
            name, code, value = next(other)
            parts = split(Decimal(value) / 1000, SHARES_2020, "0.001")
            line(name, code, parts, approved_of(parts, "0.001"))
    _style(sheet, header_row)
    return _save(wb)


def _style(sheet, header_row: int) -> None:
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.column_dimensions["A"].width = 48


def _save(wb: openpyxl.Workbook) -> bytes:
    wb.properties.creator = "Федеральное казначейство (образец socfund)"
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed timestamps so a regenerated file is byte-identical."""
    stamp = _FIXED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + stamp, content)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


def build(root: Path = FIXTURES_DIR) -> list[Path]:
    written = []
    for (year, _region), url in REPORT_URLS.items():
        path = sample_path(url, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(workbook_2015() if year == 2015 else workbook_2020())
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in build():
        print(written_path)
