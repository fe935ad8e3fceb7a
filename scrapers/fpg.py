"""Presidential Grants Fund (ФПГ, президентскиегранты.рф): list pages, project cards, bulk XLSX.

SOURCES.md §1a (list pages and project cards) and §1b (the open-data projects
file). Every function is pure: bytes in, plain dicts out. Values that do not
convert are stored as None with a reason in `_errors`, so the validator
quarantines the record instead of the load guessing; labels and headers are
matched by their text, never by position.

Reading of the list page (`parse_list`): a row shows two figures.
`.projects__price` is the amount the application asks of the Fund
(`amount_requested`, the card's `Запрашиваемая сумма`); `.projects__price--fond`
is what the Fund granted (`amount_awarded`, the card's `Размер гранта`) and is
shown on winners' rows only. The `--fond` element also carries the class
`projects__price`, so the requested amount is the `.projects__price` that is not
`--fond`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import numpy as np
import polars as pl
from lxml import etree

from scrapers.documents import html_tree
from scrapers.headers import (
    Column,
    column,
    extra_columns,
    extra_value,
    extras_json,
    find_header_row,
    require,
)
from scrapers.values import (
    MissingColumnError,
    clean_text,
    parse_date,
    parse_decimal,
    parse_identifier,
    parse_inn_cell,
    parse_money,
    set_converted,
)
from scrapers.workbooks import Sheet, read_sheets

HOST = "xn--80afcdbalict6afooklqi5o.xn--p1ai"
BASE_URL = f"https://{HOST}"
OPEN_DATA_URL = BASE_URL + "/public/open-data"
LIST_URL = BASE_URL + "/public/application/cards"
PARSER_VERSION = "fpg/1"


# --- shared text helpers ------------------------------------------------------------------

# The site writes some Cyrillic labels with a Latin look-alike (`Cофинансирование`
# starts with a Latin C); folding look-alikes lets one spelling match both.
_LOOKALIKES = str.maketrans("aceopxyACEOPXYё", "асеорхуАСЕОРХУе")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_APPLICATION_NUMBER = re.compile(r"\d{2}-\d{1,2}-\d{4,6}")
# A value the site prints where it has none.
_PLACEHOLDERS = frozenset({"-", "–", "—", "нет", "нет данных"})


@lru_cache(maxsize=4096)
def _label_key(text: str | None) -> str:
    """A label or header as a matching key: spaces collapsed, lower case, look-alikes folded.

    Cached: a site has a few dozen labels, seen on every one of its pages."""
    cleaned = clean_text(text) or ""
    return cleaned.lower().translate(_LOOKALIKES).rstrip(" :*")


def _value_or_none(text: str | None) -> str | None:
    cleaned = clean_text(text)
    if cleaned is None or cleaned.lower() in _PLACEHOLDERS:
        return None
    return cleaned


def _money(text: str | None) -> Any:
    """An amount as the site prints it (`1 515 679,40 ₽`); a dash placeholder is None."""
    return parse_money(_value_or_none(text))


def _rating(text: str | None) -> Any:
    """`77,00`: decimal comma; a dash placeholder (no rating yet) is None."""
    return parse_decimal(_value_or_none(text))


def _card_id(url: str) -> str | None:
    """The card's UUID from its URL, in lower case: GUIDs are case-insensitive, and one
    spelling lets a list-page link and a card URL typed in another case join."""
    if not url:
        return None
    ids = parse_qs(urlsplit(url).query).get("id")
    if ids and _UUID.fullmatch(ids[0].strip()):
        return ids[0].strip().lower()
    return None


def _application_number(text: str | None) -> str | None:
    """`17-1-010190` out of `№ 17-1-010190` or `Заявка № 17-1-010190 от 20.03.2017`."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    match = _APPLICATION_NUMBER.search(cleaned)
    # Text that does not hold a number is kept as written, for the schema to reject.
    return match.group(0) if match else cleaned


# --- contests -----------------------------------------------------------------------------

# `2017 г.`, `2017 года`: the year's abbreviation after the year, not part of the name.
_CONTEST_SUFFIX = re.compile(r"(?<=\d)\s*(?:г\.?|год|года)\s*\.?$")
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def normalise_contest(text: Any) -> str | None:
    """`Первый конкурс 2017 г.` and `первый  конкурс 2017` are `Первый конкурс 2017`.

    Cards and list pages write `Первый конкурс 2017`, the bulk file `Первый конкурс
    2017 г.`; every parser emits the normalised name so the three sources agree on
    one programme. Capitalisation is the cards' (first letter upper, rest lower):
    contest names hold no proper nouns, and case differs between sources.
    """
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    name = _CONTEST_SUFFIX.sub("", cleaned.lower()).strip()
    return name[:1].upper() + name[1:] if name else None


def contest_year(text: Any) -> int | None:
    """The year a contest name carries (`Второй конкурс 2019` → 2019), else None."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    match = _YEAR.search(cleaned)
    return int(match.group(1)) if match else None


# --- HTML ---------------------------------------------------------------------------------

# Class names only the Fund's own pages carry: a page with them is a ФПГ card or list page,
# whichever parser it is handed (`scrapers.documents.other_kind`).
PAGE_MARKS: dict[str, tuple[str, ...]] = {
    "a ФПГ project card (read it as fpg.card)": ("winner-info__title", "circle-bar__info-item"),
    "a ФПГ list page (read it as fpg.list)": ("table--projects",),
}


def _text(el: etree._Element | None) -> str | None:
    """All text inside an element, white space (no-break spaces too) collapsed."""
    if el is None:
        return None
    if len(el) == 0:  # most labels and values: a leaf, its text is all there is
        return clean_text(el.text)
    return clean_text("".join(el.itertext()))


def _classes(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split()


def _has_class(name: str) -> str:
    """XPath predicate: the element's class list holds `name` (not merely a prefix of it)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# --- list pages ---------------------------------------------------------------------------

_PAGINATION_ITEMS = etree.XPath(f"//li[{_has_class('pagination__item')}]")
_PROJECT_TABLES = etree.XPath(
    f"//div[{_has_class('table')} and {_has_class('table--p-present')}"
    f" and {_has_class('table--projects')}]"
)
_CARD_LINKS = etree.XPath(".//a[contains(@href, 'public/application/item')]")
_ROW = etree.XPath(f"ancestor-or-self::*[{_has_class('cards-item-row')}][1]")


def list_page_url(page: int) -> str:
    """The URL of list page `page` (1-based)."""
    if page < 1:
        raise ValueError(f"ФПГ list pages start at 1, not {page}")
    return f"{LIST_URL}?page={page}"


def parse_page_count(body: bytes) -> int:
    """The number of list pages: the largest number among the `li.pagination__item`s.

    The last item is the last page number; taking the largest number instead also
    holds should the widget end with an arrow or an ellipsis. A page without
    pagination has one page; a page with neither pagination nor a project table is
    not a list page (a block page, a JavaScript shell) and raises ValueError rather
    than end the crawl quietly after page 1.
    """
    doc = html_tree(body, "ФПГ list page", "a ФПГ list page")
    numbers = []
    for item in _PAGINATION_ITEMS(doc):
        text = _text(item)
        if text and text.isdigit():
            numbers.append(int(text))
    if numbers:
        return max(numbers)
    if not _PROJECT_TABLES(doc):
        raise ValueError("ФПГ list page: neither pagination nor a project table found")
    return 1


def _first(scope: etree._Element, css_class: str, *, exclude: str = "") -> etree._Element | None:
    for el in scope.iter(etree.Element):
        classes = _classes(el)
        if css_class in classes and (not exclude or exclude not in classes):
            return el
    return None


def _region_of(scope: etree._Element) -> str | None:
    """The region: the first block of `.projects__descr`, before the status block."""
    descr = _first(scope, "projects__descr")
    if descr is None:
        return None
    for child in descr.iterchildren(etree.Element):
        if "projects__type" in _classes(child):
            return None
        return _text(child)
    return None


def _status_of(scope: etree._Element) -> str | None:
    box = _first(scope, "projects__type")
    if box is None:
        return None
    span = box.find(".//span")
    return _text(span if span is not None else box)


def parse_list(body: bytes, *, url: str = "") -> list[dict]:
    """One record per project card linked from a list page; `_row` is its position."""
    where = url or "ФПГ list page"
    doc = html_tree(body, where, "a ФПГ list page")
    tables = _PROJECT_TABLES(doc)
    if not tables:
        raise ValueError(f"{where}: no project table (div.table--projects) on the page")
    base = url or BASE_URL
    records: list[dict] = []
    for table in tables:
        for link in _CARD_LINKS(table):
            # The link wraps the row on the live site; should the row come to wrap the
            # link instead, the row is the scope.
            scope = link
            if _first(link, "projects__title") is None:
                scope = next(iter(_ROW(link)), link)
            card_url = urljoin(base, link.get("href").strip())
            record: dict[str, Any] = {
                "card_url": card_url,
                "card_id": _card_id(card_url),
                "application_number": _application_number(
                    _text(_first(scope, "projects__str-no-wrap"))
                ),
                "title": _text(_first(scope, "projects__title")),
                "contest": normalise_contest(_text(_first(scope, "contest"))),
                "direction": _text(_first(scope, "direction")),
            }
            # `.projects__price--fond` is also a `.projects__price`: the requested
            # amount is the one that is not `--fond` (see the module docstring).
            set_converted(record, "amount_requested", _money,
                          _text(_first(scope, "projects__price",
                                       exclude="projects__price--fond")))
            set_converted(record, "amount_awarded", _money,
                          _text(_first(scope, "projects__price--fond")))
            record["region"] = _region_of(scope)
            record["status"] = _status_of(scope)
            record["_row"] = len(records) + 1
            records.append(record)
    return records


# --- project cards ------------------------------------------------------------------------

_CANONICAL = etree.XPath(
    "/html/head/link[@rel='canonical']/@href | /html/head/meta[@property='og:url']/@content"
)
_INFO_LABELS = {
    "конкурс": "contest",
    "грантовое направление": "direction",
    "рейтинг заявки": "rating",
    "номер заявки": "application_number",
    "дата подачи": "submitted_on",
    "сроки реализации": "period",
    "организация": "organisation_name",
    "инн": "inn",
    "огрн": "ogrn",
}
# Winners show `Размер гранта` / `Cофинансирование` / `Перечислено Фондом на
# реализацию проекта`; other applications `Запрашиваемая сумма` / `Cофинансирование` /
# `Общая сумма расходов на реализацию проекта`. Keys are folded by `_label_key`, so
# the site's Latin-C `Cофинансирование` and a Cyrillic one are the same key.
_AMOUNT_LABELS = {
    _label_key("Размер гранта"): "amount_awarded",
    _label_key("Запрашиваемая сумма"): "amount_requested",
    _label_key("Софинансирование"): "cofinancing",
    _label_key("Перечислено Фондом на реализацию проекта"): "amount_transferred",
    _label_key("Общая сумма расходов на реализацию проекта"): "total_cost",
}
_AMOUNT_FIELDS = ("amount_requested", "amount_awarded", "cofinancing",
                  "amount_transferred", "total_cost")
_SECTIONS = {
    "winner-summary": "summary",
    "winner-aims": "aims",
    "winner-tasks": "tasks",
    "winner-social": "social_significance",
    "winner-geography": "geography",
    "winner-target": "target_groups",
}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_PERIOD = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{4})\s*[-–—]\s*(\d{1,2}\.\d{1,2}\.\d{4})$")
# `12 регионов:` or `Всего 12 регионов —` before the list is a count, not a region.
_GEOGRAPHY_SUMMARY = re.compile(
    r"^(?:всего\s*)?\d+\s+(?:регион|субъект)\w*(?:\s+\w+)?\s*[:—–-]\s*", re.IGNORECASE
)
_SITE_PREFIX = re.compile(r"^веб-сайт\s*:?\s*", re.IGNORECASE)
_ADDRESS_PREFIX = re.compile(r"^адрес\s*:?\s*", re.IGNORECASE)


def _labelled(item: etree._Element, title_class: str, value_class: str
              ) -> tuple[str | None, etree._Element | None]:
    """(label, value element) of a list item made of a title span and a value span."""
    title = value = None
    for child in item.iter(etree.Element):
        classes = _classes(child)
        if title_class in classes:
            title = child
        elif value_class in classes:
            value = child
    return _text(title), value


def _section_blocks(box: etree._Element) -> list[str]:
    """The text of a details box without its heading, one entry per block."""
    blocks = [box.text]
    for child in box:
        if isinstance(child.tag, str) and child.tag not in _HEADINGS:
            blocks.append("".join(child.itertext()))
        blocks.append(child.tail)
    return [text for text in map(clean_text, blocks) if text]


def _section_items(box: etree._Element) -> list[str]:
    return [text for text in map(_text, box.iter("li")) if text]


def _geography(text: str | None) -> list[str]:
    """Regions named by the geography box; a leading count (`12 регионов:`) is dropped."""
    if not text:
        return []
    body = _GEOGRAPHY_SUMMARY.sub("", text)
    return [region for region in map(clean_text, re.split(r"[,;]", body)) if region]


def _period(text: str | None) -> tuple[date | None, date | None]:
    """`02.10.2017 - 30.11.2018` (a no-break space before the dash, at times) → (start, end)."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None, None
    match = _PERIOD.match(cleaned)
    if not match:
        raise ValueError(f"not a period 'dd.mm.yyyy - dd.mm.yyyy': {text!r}")
    return parse_date(match.group(1)), parse_date(match.group(2))


def _website(el: etree._Element) -> str | None:
    """The link's address; `Веб-сайт: нет` (the site's way of saying none) is None."""
    href = (el.get("href") or "").strip()
    if href.lower().startswith(("http://", "https://")):
        return href
    return _value_or_none(_SITE_PREFIX.sub("", _text(el) or ""))


def _contacts(box: etree._Element, record: dict) -> None:
    for item in box.iter(etree.Element):
        classes = _classes(item)
        if "winner__details-contacts-item--link" in classes:
            record["website"] = record["website"] or _website(item)
        elif "winner__details-contacts-item" in classes and record["address"] is None:
            record["address"] = _value_or_none(_ADDRESS_PREFIX.sub("", _text(item) or ""))


def _empty_card(card_id: str | None) -> dict[str, Any]:
    return {
        "card_id": card_id, "application_number": None, "title": None, "status": None,
        "contest": None, "contest_year": None, "direction": None, "rating": None,
        "submitted_on": None, "start_date": None, "end_date": None,
        "organisation_name": None, "inn": None, "ogrn": None,
        **dict.fromkeys(_AMOUNT_FIELDS),
        "summary": None, "aims": None, "tasks": [], "social_significance": None,
        "geography": [], "target_groups": [], "address": None, "website": None,
        "_row": 1,
    }


def parse_card(body: bytes, *, url: str = "") -> list[dict]:
    """The one record of a project card page (a list of one, like every parser).

    A page without the card's title or number (a block page, a changed layout)
    still yields its record, with the reasons in `_errors`, so it is quarantined. What is
    no page at all (empty, binary, nested past reading) is refused with a ValueError, which
    a night's load quarantines as that document and `socfund parse` reports as unreadable.
    """
    card_id = _card_id(url)
    doc = html_tree(body, url or "ФПГ card page", "a ФПГ project card")
    if card_id is None:
        card_id = next((cid for cid in map(_card_id, _CANONICAL(doc)) if cid), None)
    record = _empty_card(card_id)
    info: dict[str, str | None] = {}
    amounts: dict[str, str | None] = {}
    # One walk over the content's blocks (the header, footer and icon sprite lie outside
    # <main>; the whole page is walked if it has none). Every block is recognised by
    # its class or id, never by its position.
    scope = doc.find("body/main")
    for node in (scope if scope is not None else doc).iter("h2", "p", "li", "div"):
        css = node.get("class") or ""
        if "winner" not in css and "circle-bar" not in css:
            continue
        classes = css.split()
        if "winner-info__title" in classes:
            record["title"] = record["title"] or _text(node)
        elif "winner-info__status" in classes:
            span = node.find(".//span")
            record["status"] = record["status"] or _text(span if span is not None else node)
        elif "winner-info__list-item" in classes:
            label, value = _labelled(node, "winner-info__list-item-title",
                                     "winner-info__list-item-text")
            field = _INFO_LABELS.get(_label_key(label))
            if field and field not in info:
                info[field] = _text(value)
        elif "circle-bar__info-item" in classes:
            label, value = _labelled(node, "circle-bar__info-item-title",
                                     "circle-bar__info-item-number")
            field = _AMOUNT_LABELS.get(_label_key(label))
            if field and field not in amounts:
                amounts[field] = _text(value)
        elif node.get("id") in _SECTIONS:
            _section(node, _SECTIONS[node.get("id")], record)
        elif "winner__details-contacts" in classes:
            _contacts(node, record)
    _card_values(record, info, amounts)

    missing = [f for f in ("title", "application_number") if not record[f]]
    for field in missing:
        record.setdefault("_errors", []).append(
            f"{field}: not found on the card page {url}".rstrip()
        )
    if not missing and not amounts:
        record.setdefault("_errors", []).append(
            "amounts: no known label in ul.circle-bar__info (layout changed?)"
        )
    return [record]


def _section(box: etree._Element, field: str, record: dict) -> None:
    if field in ("tasks", "target_groups"):
        record[field] = _section_items(box)
    elif field == "aims":
        # The aim comes as an `ol` of one item, at times as plain text.
        record[field] = "\n".join(_section_items(box) or _section_blocks(box)) or None
    elif field == "geography":
        record[field] = _geography(" ".join(_section_blocks(box)))
    else:
        record[field] = "\n".join(_section_blocks(box)) or None


def _card_values(record: dict, info: dict[str, str | None],
                 amounts: dict[str, str | None]) -> None:
    record["application_number"] = _application_number(info.get("application_number"))
    record["contest"] = normalise_contest(info.get("contest"))
    record["contest_year"] = contest_year(record["contest"])
    record["direction"] = _value_or_none(info.get("direction"))
    record["organisation_name"] = _value_or_none(info.get("organisation_name"))
    record["inn"] = parse_identifier(_value_or_none(info.get("inn")))
    record["ogrn"] = parse_identifier(_value_or_none(info.get("ogrn")))
    set_converted(record, "rating", _rating, info.get("rating"))
    set_converted(record, "submitted_on", parse_date, _value_or_none(info.get("submitted_on")))
    try:
        record["start_date"], record["end_date"] = _period(info.get("period"))
    except ValueError as exc:
        record.setdefault("_errors", []).append(f"start_date, end_date: {exc}")
    for field, text in amounts.items():
        set_converted(record, field, _money, text)


# --- open-data catalogue ------------------------------------------------------------------


def find_bulk_url(body: bytes, base_url: str = OPEN_DATA_URL) -> str:
    """The projects XLSX linked from the open-data catalogue page.

    Links are matched by their extension (`.xlsx` in the address, or `XLSX` in the
    link text) and by the dataset they belong to: the text around the link must
    speak of projects, and the regional co-financing dataset is passed over.
    """
    doc = html_tree(body, base_url, "the ФПГ open-data page")
    links = [a for a in doc.iter("a") if _is_xlsx_link(a)]
    best: tuple[int, str] | None = None
    for link in links:
        context = _dataset_text(link, links)
        score = ("проект" in context) * 2 - ("софинансир" in context) * 3
        if score > 0 and (best is None or score > best[0]):
            best = (score, urljoin(base_url, link.get("href").strip()))
    if best is None:
        raise ValueError(f"{base_url}: no link to the projects XLSX on the open-data page")
    return best[1]


def _is_xlsx_link(link: etree._Element) -> bool:
    href = (link.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:")):
        return False
    # Plain lower case here: folding look-alikes would turn the Latin `xlsx` Cyrillic.
    text = (_text(link) or "").lower()
    return urlsplit(href).path.lower().endswith(".xlsx") or "xlsx" in text


def _dataset_text(link: etree._Element, links: list[etree._Element]) -> str:
    """The text of the block describing the link's dataset: climb from the link until
    the block names a dataset, but never into a block holding another file's link."""
    context = _label_key(_text(link))
    block = link
    for _ in range(4):
        parent = block.getparent()
        if parent is None:
            break
        inside = set(parent.iter("a"))
        if any(other is not link and other in inside for other in links):
            break
        block = parent
        context = _label_key(_text(block))
        if "проект" in context or "софинансир" in context:
            break
    return context


# --- bulk XLSX ----------------------------------------------------------------------------

# The 17 attributes of the fund's data passport (SOURCES.md §1b), found by the distinctive
# words of their headers (`scrapers.headers`): the passport's `Запрошенная сумма гранта,
# руб.` and our first copy's `Запрошенная сумма,\nруб.` are one column, as are `Дата
# принятия решения \nо предоставлении гранта` and `Дата решения\nо гранте`. A label is the
# passport's header without its unit, as an error names the column.
XLSX_COLUMNS: tuple[Column, ...] = (
    column("application_number", "Номер заявки", "номер заявк"),
    column("contest", "Конкурс", "конкурс"),
    column("organisation_name", "Организация", "организац", "наименовани",
           unless="инн огрн адрес"),
    column("ogrn", "ОГРН", "огрн"),
    column("inn", "ИНН", "инн"),
    column("region", "Регион", "регион"),
    column("title", "Название проекта", "назван проект", "наименовани проект"),
    column("direction", "Грантовое направление", "направлени"),
    column("amount_requested", "Запрошенная сумма гранта", "запрош сумм", "запрашива сумм"),
    column("total_cost", "Общая сумма расходов на реализацию проекта", "общ сумм расход"),
    column("start_date", "Начало реализации проекта", "начал реализац"),
    column("end_date", "Окончание реализации проекта", "окончани реализац"),
    column("status", "Статус проекта", "статус"),
    column("decision_date", "Дата принятия решения о предоставлении гранта", "дат решени"),
    column("amount_awarded", "Размер гранта", "размер грант"),
    # The outcome columns concern finished projects only; a copy without them (an older
    # or a filtered export) still holds every application fact, so they may be absent.
    column("evaluation", "Оценка результатов проекта", "оценк", required=False),
    column("violations", "Информация о допущенных нарушениях", "нарушени", required=False),
)
OPTIONAL_COLUMNS = frozenset(c.field for c in XLSX_COLUMNS if not c.required)
_HEADER_SCAN_ROWS = 50
_MIN_HEADER_MATCHES = 3
_MONEY = pl.Decimal(18, 2)
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel day numbers of 01.01.2000 and 31.12.2099: a number in a date column inside
# this range is a date cell whose format was lost, anything else is not a date.
_EXCEL_DAYS = (36526, 73415)


def _excel_date(value: Any) -> date | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _EXCEL_DAYS[0] <= value <= _EXCEL_DAYS[1] and float(value).is_integer():
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(f"not a date: {value!r}")
    return parse_date(value)


def _cell_text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


def parse_xlsx(body: bytes, *, url: str = "") -> pl.DataFrame:
    """One row per application row of the open-data projects file, as columns.

    The header row is found by its words below any title rows (the live file has
    it in row 1 of the sheet `Проекты`, our first copy in row 5); `_row` is the row
    number Excel shows. Columns the passport does not name are kept per row in
    `extra_columns` (JSON). A required column that is missing raises
    MissingColumnError naming the column, the file and the headers found. A value that
    does not convert is null, with its reason in the row's `_errors`.
    """
    where = url or "ФПГ projects XLSX"
    found = None
    for sheet in read_sheets(body, where, "XLSX"):
        head = sheet.head(_HEADER_SCAN_ROWS)
        header = find_header_row(head, XLSX_COLUMNS, scan=_HEADER_SCAN_ROWS,
                                 at_least=_MIN_HEADER_MATCHES)
        if header is not None:
            found = (sheet, head, header)
            break
    if found is None:
        raise MissingColumnError(
            XLSX_COLUMNS[0].label, where,
            f"no header row in the first {_HEADER_SCAN_ROWS} rows of any sheet",
        )
    sheet, head, (header_index, columns) = found
    headers = head[header_index]
    require(columns, XLSX_COLUMNS, headers, where,
            f"sheet {sheet.name!r}, header row {header_index + 1}")
    return _xlsx_frame(sheet, columns, header_index, extra_columns(headers, columns))


# An amount as the file mostly writes it: `1 234 567,89` (a currency sign after it or not).
_PLAIN_AMOUNT = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})*),(\d\d)(?: ?₽)?")
_GROUP_SPACES = str.maketrans("", "", " \u00a0\u202f")


def _money_cell(value: Any) -> Any:
    """`parse_money` of a cell, the common cases first: a float of whole kopecks (the
    nearest double to an amount of two places) and the plain written amount give the
    Decimal `parse_money` gives, without its general reader."""
    if type(value) is float and 0 < abs(value) < 1e13:
        cents = round(value * 100)
        if cents / 100 == value:
            return Decimal(cents).scaleb(-2)
    elif type(value) is str:
        plain = _PLAIN_AMOUNT.fullmatch(value)
        if plain is not None:
            return Decimal(f"{plain.group(1).translate(_GROUP_SPACES)}.{plain.group(2)}")
    return parse_money(value)


def _number_cell(value: Any) -> str | None:
    return _application_number(_cell_text(value))


def _contest_cell(value: Any) -> str | None:
    return normalise_contest(_cell_text(value))


# Field -> how a cell becomes its value and the column's type, in the record's order.
# `inn` is converted with its row's ОГРН (a lost leading zero is restored only when the two
# agree), `contest_year` from the converted contest. A converter marked True is the kind
# whose failure leaves the field null with a reason (`_errors`); the others do not fail.
_XLSX_FIELDS: dict[str, tuple[Any, bool, Any]] = {
    "application_number": (_number_cell, False, pl.String),
    "contest": (_contest_cell, False, pl.String),
    "contest_year": (None, False, pl.Int32),
    "organisation_name": (_cell_text, False, pl.String),
    "ogrn": (parse_identifier, False, pl.String),
    "inn": (None, False, pl.String),
    "region": (_cell_text, False, pl.String),
    "title": (_cell_text, False, pl.String),
    "direction": (_cell_text, False, pl.String),
    "amount_requested": (_money_cell, True, _MONEY),
    "total_cost": (_money_cell, True, _MONEY),
    "start_date": (_excel_date, True, pl.Date),
    "end_date": (_excel_date, True, pl.Date),
    "status": (_cell_text, False, pl.String),
    "decision_date": (_excel_date, True, pl.Date),
    "amount_awarded": (_money_cell, True, _MONEY),
    "evaluation": (_cell_text, False, pl.String),
    "violations": (_cell_text, False, pl.String),
}


# --- the same conversions column-wise, for the cells that need no Python -----------------------
#
# A column of the projects file holds tens of thousands of distinct names, numbers and
# amounts; the common spellings are converted here as polars columns, exactly as the
# converters above would, and every other cell (another type, a Unicode digit, an odd
# spelling) still goes through its converter. Each gives (which distinct cells it
# converted, their values).

# What `str.split()` splits on (every Unicode space, U+001C-U+001F) and U+FEFF.
_SPACE_RUN = r"[\s\x1c-\x1f\ufeff]+"
_ASCII_NUMBER = r"^[0-9]{2}-[0-9]{1,2}-[0-9]{4,6}$"
_ASCII_DIGITS = r"^[0-9]+$"
# `_PLAIN_AMOUNT` in ASCII digits, of at most 12 whole digits (within the float path's bound).
_ASCII_AMOUNT = (r"^([0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3}){0,3}),([0-9]{2})(?: ?₽)?$")
_EXACT_FLOAT = 2.0**53


class _Cells(list):
    """A column's distinct cells, "" as None, with those that are text as a String column
    (`texts`) where the sheet gave them so."""

    texts: pl.Series | None = None


def _typed(raw: list[Any], kind: type) -> pl.Series:
    if kind is str and getattr(raw, "texts", None) is not None:
        return raw.texts
    polars_type = pl.String if kind is str else pl.Float64
    return pl.Series([v if type(v) is kind else None for v in raw], dtype=polars_type)


def _cleaned(texts: pl.Series) -> pl.Series:
    """`clean_text` of each text: spaces collapsed and stripped, '' null."""
    cleaned = texts.str.replace_all(_SPACE_RUN, " ").str.strip_chars(" ")
    return cleaned.replace("", None)


def _quick_text(raw: list[Any]) -> tuple[np.ndarray, pl.Series]:
    texts = _typed(raw, str)
    return texts.is_not_null().to_numpy(), _cleaned(texts)


def _quick_number(raw: list[Any]) -> tuple[np.ndarray, pl.Series]:
    texts = _typed(raw, str)
    cleaned = _cleaned(texts)
    done = texts.is_not_null() & (cleaned.is_null() | cleaned.str.contains(_ASCII_NUMBER))
    return done.fill_null(False).to_numpy(), cleaned


def _whole(raw: list[Any]) -> tuple[pl.Series, pl.Series]:
    """(the floats that are whole and exact, their digits as `str(int(value))` gives them)."""
    numbers = _typed(raw, float)
    whole = numbers.is_finite() & (numbers == numbers.floor()) & (numbers.abs() < _EXACT_FLOAT)
    whole = whole.fill_null(False)
    digits = pl.select(pl.when(whole).then(numbers.cast(pl.Int64, strict=False))).to_series()
    return whole, digits.cast(pl.String)


def _quick_identifier(raw: list[Any]) -> tuple[np.ndarray, pl.Series]:
    texts = _typed(raw, str)
    plain = texts.str.contains(_ASCII_DIGITS).fill_null(False)
    whole, digits = _whole(raw)
    return (plain | whole).to_numpy(), texts.zip_with(plain, digits)


def _quick_inn(raw: list[Any]) -> tuple[np.ndarray, pl.Series]:
    """`parse_inn_cell` whatever the ОГРН: digits written as text stay as written, and a
    whole number is its digits unless 9 or 11 of them (a leading zero may be lost)."""
    done, values = _quick_identifier(raw)
    texts = _typed(raw, str)
    lost_zero = texts.is_null() & values.str.len_chars().is_in([9, 11]).fill_null(False)
    return done & ~lost_zero.to_numpy(), values


def _quick_money(raw: list[Any]) -> tuple[np.ndarray, pl.Series]:
    """`_money_cell`'s two common cases: a float of whole kopecks and the plain amount."""
    numbers = _typed(raw, float)
    cents = (numbers * 100).round(0)
    kopecks = ((numbers.abs() > 0) & (numbers.abs() < 1e13) & (cents / 100 == numbers))
    kopecks = kopecks.fill_null(False)
    whole = cents.abs().cast(pl.Int64, strict=False)
    written = pl.select(pl.when(kopecks).then(pl.concat_str(
        pl.when(numbers < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (whole // 100).cast(pl.String), pl.lit("."),
        (whole % 100).cast(pl.String).str.pad_start(2, "0")))).to_series()
    texts = _typed(raw, str)
    parts = texts.str.extract_groups(_ASCII_AMOUNT)
    plain = parts.struct.field("1").is_not_null().fill_null(False)
    amount = pl.select(pl.concat_str(
        parts.struct.field("1").str.replace_all(r"[ \u00a0\u202f]", ""), pl.lit("."),
        parts.struct.field("2"))).to_series()
    return (kopecks | plain).to_numpy(), written.zip_with(kopecks, amount).cast(_MONEY)


_QUICK = {
    _cell_text: _quick_text,
    _number_cell: _quick_number,
    parse_identifier: _quick_identifier,
    _money_cell: _quick_money,
}


def _xlsx_frame(sheet: Sheet, columns: dict[str, int], header_index: int,
                extras: dict[int, str]) -> pl.DataFrame:
    """The rows below the header, a column at a time.

    The file repeats itself down its columns (twenty contests, a few thousand regions
    and amounts in 190 000 rows), so each distinct cell is converted once and the
    result laid out over the rows holding it by their codes; an empty cell ("") is
    None, as everywhere. Blank rows are dropped.
    """
    fields = {c.field: columns[c.field] for c in XLSX_COLUMNS if c.field in columns}
    blank = np.ones(sheet.height, dtype=bool)
    codes: dict[str, np.ndarray] = {}
    distinct: dict[str, list[Any]] = {}
    for field, j in fields.items():
        values, row_codes = sheet.column_codes(j)
        distinct[field] = cells = _Cells(None if v == "" else v for v in values)
        cells.texts = sheet.column_texts(j).replace("", None)
        codes[field] = np.frombuffer(row_codes, dtype=np.uint32)
    # Every column counts for an empty row, not only the known ones.
    for j in range(sheet.width):
        values, row_codes = sheet.column_codes(j)
        texts = sheet.column_texts(j)
        # `not v.strip()`: nothing but what `str.isspace` calls a space.
        empty = (texts.str.contains(r"^[\s\x1c-\x1f]*$").fill_null(False).to_numpy()
                 | np.array([v is None for v in values], dtype=bool))
        blank &= empty[np.frombuffer(row_codes, dtype=np.uint32)]
    blank[: header_index + 1] = True
    kept = np.flatnonzero(~blank)
    n = len(kept)

    def spread(field: str, convert, quarantines: bool, dtype) -> tuple[pl.Series, pl.Series]:
        """(each kept row's value, each kept row's reason or null)."""
        raw = distinct.get(field, [None])
        row_codes = codes[field][kept] if field in codes else np.zeros(n, dtype=np.uint32)
        quick = _QUICK.get(convert)
        done, fast = quick(raw) if quick is not None else (None, None)
        values: list[Any] = [None] * len(raw)
        errors: list[str | None] = [None] * len(raw)
        for i in range(len(raw)) if done is None else np.flatnonzero(~done).tolist():
            if not quarantines:
                # Not the kind that fails: an error here is a bug to surface, not a reason.
                values[i] = convert(raw[i])
                continue
            try:
                values[i] = convert(raw[i])
            except ValueError as exc:
                errors[i] = f"{field}: {exc}"
        slow = pl.Series(field, values, dtype=dtype)
        if fast is not None:
            slow = fast.cast(dtype).zip_with(pl.Series(done), slow)
        taken = slow.gather(row_codes)
        return taken, pl.Series(field, errors, dtype=pl.String).gather(row_codes)

    out: dict[str, pl.Series] = {}
    failed: list[pl.Series] = []
    for field, (convert, quarantines, dtype) in _XLSX_FIELDS.items():
        if convert is None:
            continue
        out[field], errors = spread(field, convert, quarantines, dtype)
        if errors.null_count() < n:
            failed.append(errors)
    out["contest_year"] = out["contest"].replace_strict(
        {c: contest_year(c) for c in out["contest"].unique().drop_nulls().to_list()},
        default=None, return_dtype=pl.Int32).alias("contest_year")
    out["inn"] = _inn_column(distinct.get("inn"), codes.get("inn"), kept, out["ogrn"])
    out["extra_columns"] = _extra_column(sheet, extras, kept)
    out["_row"] = pl.Series("_row", kept + 1, dtype=pl.Int64)
    names = [*_XLSX_FIELDS, "extra_columns", "_row"]
    frame = pl.DataFrame([out[name].alias(name) for name in names])
    if failed:
        reasons = pl.concat_list([pl.lit(s) for s in failed]).list.drop_nulls()
        return frame.with_columns(reasons.alias("_errors"))
    return frame.with_columns(pl.lit([], pl.List(pl.String)).alias("_errors"))


def _extra_column(sheet: Sheet, extras: dict[int, str], kept: np.ndarray) -> pl.Series:
    """Each kept row's cells in the columns the passport does not name, as JSON text."""
    if not extras:
        return pl.Series("extra_columns", [None] * len(kept), dtype=pl.String)
    cells: dict[str, list[Any]] = {}
    for j, name in extras.items():
        values, row_codes = sheet.column_codes(j)
        cells[name] = _take([extra_value(v) for v in values],
                            np.frombuffer(row_codes, dtype=np.uint32)[kept])
    return pl.Series("extra_columns", [
        extras_json({name: values[i] for name, values in cells.items()
                     if values[i] not in (None, "")})
        for i in range(len(kept))], dtype=pl.String)


def _take(values: list[Any], row_codes: np.ndarray) -> list[Any]:
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[row_codes].tolist()


def _inn_column(values: list[Any] | None, row_codes: np.ndarray | None, kept: np.ndarray,
                ogrns: pl.Series) -> pl.Series:
    """`parse_inn_cell` per row, once per distinct (cell, ОГРН) pair."""
    if values is None or row_codes is None:
        pairs = pl.DataFrame({"code": np.zeros(len(kept), dtype=np.uint32), "ogrn": ogrns})
        values = [None]
    else:
        pairs = pl.DataFrame({"code": row_codes[kept], "ogrn": ogrns})
    # Most cells need no ОГРН (digits as text, a whole number not of 9 or 11 digits).
    done, quick = _quick_inn(values)
    pairs = pairs.with_columns(done=pl.Series(done).gather(pairs["code"]),
                               quick=quick.gather(pairs["code"]))
    distinct = pairs.filter(~pl.col("done")).select("code", "ogrn").unique()
    converted = distinct.with_columns(inn=pl.Series(
        [parse_inn_cell(values[code], ogrn) for code, ogrn in distinct.iter_rows()],
        dtype=pl.String))
    joined = pairs.join(converted, on=["code", "ogrn"], how="left", nulls_equal=True,
                        maintain_order="left")
    return joined.select(pl.when(pl.col("done")).then(pl.col("quick"))
                         .otherwise(pl.col("inn")).alias("inn"))["inn"]
