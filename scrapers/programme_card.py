"""Programme cards of foundations: a programme's goal, years, regions and target groups.

SOURCES.md §5, seed 000. A foundation's site describes each programme it ran on a
card: the title, `Цель: …`, paragraphs of text, and labelled fields (`Год начала:`
`2004`, `Год окончания:` `2007`; on other sites `Сроки реализации`, `Регионы`,
`Целевые группы`, `Донор`). The card may be the whole page or one of several
pop-ups on a list page (seed 000 ends with the pop-up's `Закрыть`). Everything is
found by label text, never by position:

- a label alone in its element (`<div class="field-label">Год начала:&nbsp;</div>`,
  `<strong>Цель:</strong>`, `<dt>`, `<th>`): the value is the rest of its paragraph,
  else the next element (a list's items, a Drupal field's `field-item`s);
- a label that starts a paragraph (`<p>Цель: содействие …</p>`);
- a period in one field (`2004–2007`, `2004 - 2007 гг.`) gives both years.

`parse_card` returns one record per card: `programme`, `funder`, `goal`,
`year_start`, `year_end`, `regions` and `target_groups` (lists, as written, empty
when the card names none), `_row` (the card's order on the page, from 1). Nothing
is inferred: seed 000 names no foundation, region or target group, so its card
has `funder` None and empty lists. `parse_card_indicators` reads the card's text
with the practice pages' extractor (`scrapers.practice`), one record per
number–noun indicator, with the practice records' fields.

`HOST` is a host of our own naming: the foundation that published seed 000 is not
named in it and its site is unverified, so `PROGRAMME_URLS` are the offline
addresses of our HTML rendering of that document in `samples/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, CData, NavigableString, Tag

from scrapers import fpg
from scrapers.documents import other_kind
from scrapers.practice import check_text_size, extract_indicators, soup_of, text_blocks
from scrapers.values import clean_text, set_converted

HOST = "programmes.socfund.invalid"
BASE_URL = f"https://{HOST}"
PROGRAMME_URLS = (f"{BASE_URL}/programmes/effektivnaya-socialnaya-politika.html",)
PARSER_VERSION = "programme_card/1"

# Label text (lower case, `ё` as `е`, no colon) -> field.
_LABELS: dict[str, str] = {
    "цель": "goal", "цели": "goal", "цель программы": "goal", "цель проекта": "goal",
    "год начала": "year_start", "год начала реализации": "year_start",
    "начало реализации": "year_start",
    "год окончания": "year_end", "год завершения": "year_end",
    "окончание реализации": "year_end",
    "сроки реализации": "period", "период реализации": "period", "годы реализации": "period",
    "регион": "regions", "регионы": "regions", "регионы реализации": "regions",
    "география": "regions", "география проекта": "regions", "география программы": "regions",
    "территория реализации": "regions",
    "целевая группа": "target_groups", "целевые группы": "target_groups",
    "благополучатели": "target_groups",
    "донор": "funder", "фонд": "funder", "грантодатель": "funder",
    "источник финансирования": "funder", "финансирование": "funder",
    "при поддержке": "funder",
}
_FIELD_EXAMPLES = ("Цель", "Год начала", "Сроки реализации", "Регионы", "Целевые группы",
                   "Донор")
_LABEL_ONLY = re.compile(r"^(?P<label>[^:]{2,40}?)\s*:?$")
_LABEL_FIRST = re.compile(r"^(?P<label>[^:]{2,40}?)\s*:\s*(?P<rest>.+)$", re.DOTALL)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CARD_SELECTORS = "article, .node, .modal, .programme-card, .program-card"
_TITLE_SELECTORS = ("h1", "h2", "h3", ".modal-title", ".node-title", ".card-title")
_LEAF_BLOCKS = ("p", "li", "dd", "td", "div")
_BLOCK_CHILDREN = ("p", "div", "ul", "ol", "li", "table", "dl")
_ITEM_SPLIT = re.compile(r"\s*[;,]\s*")


def _key(text: str | None) -> str:
    return (clean_text(text) or "").lower().replace("ё", "е").rstrip(" :")


def _field_of(text: str | None) -> str | None:
    match = _LABEL_ONLY.match(_key(text))
    return _LABELS.get(match.group("label")) if match else None


@dataclass
class _Value:
    text: str | None
    items: list[str]


def _items(tag: Tag) -> list[str]:
    """A list's entries: `li`, or a Drupal field's `field-item`s."""
    entries = tag.find_all("li") or tag.find_all(class_="field-item")
    return [t for t in (clean_text(e.get_text(" ")) for e in entries) if t]


def _value_after_label(label: Tag) -> _Value:
    """The text after a label-only element: in its paragraph, else the next element."""
    parent = label.parent
    if isinstance(parent, Tag) and parent.name in ("p", "li", "dd", "td"):
        whole = clean_text(parent.get_text(" ")) or ""
        own = clean_text(label.get_text(" ")) or ""
        rest = clean_text(whole[len(own):].lstrip(" :")) if whole.startswith(own) else None
        if rest:
            return _Value(rest, [])
    sibling = label.find_next_sibling()
    if sibling is None and isinstance(parent, Tag) and parent.name in ("dt", "th"):
        sibling = parent.find_next_sibling()
    if sibling is None:
        return _Value(None, [])
    return _Value(clean_text(sibling.get_text(" ")), _items(sibling))


@dataclass
class _Outline:
    """What the label search needs of every element, found in one walk of the page: its
    text as `get_text(" ")` gives it while that is short enough to be a label (None
    beyond), and whether a block element lies inside it. Asking each element for these
    reads its whole subtree again: minutes on a page of 100 000 nested elements."""

    short_text: dict[int, str | None]
    holds_block: set[int]


_LABEL_TEXT_MAX = 2000  # characters before white space is collapsed; a label has ~40
_TEXT_STRINGS = {NavigableString, CData}  # what `get_text` reads of an ordinary element


def _outline(root: Tag) -> _Outline:
    short: dict[int, str | None] = {}
    blocks: set[int] = set()
    pieces: dict[int, list[str] | None] = {}
    stack: list[tuple[Tag, bool]] = [(root, False)]
    while stack:
        tag, done = stack.pop()
        if not done:
            stack.append((tag, True))
            stack.extend((c, False) for c in reversed(tag.contents) if isinstance(c, Tag))
            continue
        own: list[str] | None = []
        size = 0
        for child in tag.contents:
            if isinstance(child, Tag):
                if child.name in _BLOCK_CHILDREN or id(child) in blocks:
                    blocks.add(id(tag))
                part = pieces.pop(id(child))
            else:
                part = [child] if type(child) in _TEXT_STRINGS else []
            if own is None or part is None:
                own = None
                continue
            own.extend(part)
            size += sum(map(len, part)) + len(part)  # with the spaces that join them
            if size > _LABEL_TEXT_MAX + 1:
                own = None
        pieces[id(tag)] = own
        # Other string types (a script's, a style's) are this element's text only for it.
        if tag.interesting_string_types != _TEXT_STRINGS:
            short[id(tag)] = _get_short(tag)
        else:
            text = " ".join(own) if own is not None else None
            short[id(tag)] = text if text is not None and len(text) <= _LABEL_TEXT_MAX else None
    return _Outline(short, blocks)


def _get_short(tag: Tag) -> str | None:
    text = tag.get_text(" ")
    return text if len(text) <= _LABEL_TEXT_MAX else None


def _labelled_values(card: Tag, outline: _Outline) -> dict[str, _Value]:
    """Field -> its value, the first label of each field winning."""
    found: dict[str, _Value] = {}
    for tag in card.find_all(True):
        if id(tag) in outline.holds_block:
            continue
        field = _field_of(outline.short_text.get(id(tag)))
        if field is not None and field not in found:
            found[field] = _value_after_label(tag)
    # `<p>Цель: содействие …</p>`: a label starting a paragraph, with no element of its own.
    for tag in card.find_all(_LEAF_BLOCKS):
        if id(tag) in outline.holds_block:
            continue
        match = _LABEL_FIRST.match(clean_text(tag.get_text(" ")) or "")
        field = _LABELS.get(_key(match.group("label"))) if match else None
        if field is not None and field not in found:
            found[field] = _Value(clean_text(match.group("rest")), [])
    return found


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    years = _YEAR.findall(text)
    if len(years) != 1:
        raise ValueError(f"not one year: {text!r}")
    return int(years[0])


def _period(text: str | None) -> tuple[int, int] | None:
    years = _YEAR.findall(text or "")
    if len(years) != 2:
        raise ValueError(f"not a period of two years: {text!r}")
    return int(years[0]), int(years[1])


def _list(value: _Value | None) -> list[str]:
    """Entries as written: a list's items, or one text split at `;` and `,`."""
    if value is None:
        return []
    if value.items:
        return value.items
    if not value.text:
        return []
    return [t for t in _ITEM_SPLIT.split(value.text) if t]


def _cards(soup: BeautifulSoup, outline: _Outline) -> list[Tag]:
    """The cards of a page: the innermost card-like elements that hold a label; else the body."""
    labelled = [c for c in soup.select(_CARD_SELECTORS) if _labelled_values(c, outline)]
    ids = {id(c) for c in labelled}
    # Identity, not equality: bs4 compares tags by their markup.
    inner = [c for c in labelled if not any(id(d) in ids for d in c.find_all(True))]
    return inner or [soup.body or soup]


def _card_title(card: Tag, soup: BeautifulSoup, alone: bool) -> str | None:
    for selector in _TITLE_SELECTORS:
        heading = card.select_one(selector)
        if heading is not None and _field_of(heading.get_text(" ")) is None:
            text = clean_text(heading.get_text(" "))
            if text:
                return text
    if alone:
        # A Drupal node's title is the page's `h1`, outside the node's element.
        heading = soup.find("h1")
        if heading is not None and clean_text(heading.get_text(" ")):
            return clean_text(heading.get_text(" "))
        return clean_text(soup.title.get_text(" ")) if soup.title else None
    return None


def _card_record(card: Tag, title: str | None, number: int, where: str,
                 outline: _Outline) -> dict[str, Any]:
    if title is None:
        raise ValueError(f"{where}: card {number} has no title (no heading, no page h1)")
    values = _labelled_values(card, outline)
    record: dict[str, Any] = {
        "programme": title,
        "funder": values["funder"].text if "funder" in values else None,
        "goal": values["goal"].text if "goal" in values else None,
    }
    set_converted(record, "year_start", _year,
                  values["year_start"].text if "year_start" in values else None)
    set_converted(record, "year_end", _year,
                  values["year_end"].text if "year_end" in values else None)
    if "period" in values and record["year_start"] is None and record["year_end"] is None:
        try:
            record["year_start"], record["year_end"] = _period(values["period"].text)
        except ValueError as exc:
            record.setdefault("_errors", []).append(f"year_start: {exc}")
    record["regions"] = _list(values.get("regions"))
    record["target_groups"] = _list(values.get("target_groups"))
    record["_row"] = number
    return record


def _read(body: bytes, url: str) -> list[tuple[dict[str, Any], Tag]]:
    """The page's cards, each with its record; a ValueError for a page that is not a
    programme card: no page at all (`scrapers.documents`), another kind's page, or a page
    with no labelled field anywhere."""
    where = url or "programme card page"
    soup = soup_of(body, where, "a programme card page")
    foreign = other_kind(soup, fpg.PAGE_MARKS)
    if foreign is not None:
        raise ValueError(f"{where}: {foreign}, not a programme card")
    outline = _outline(soup)
    cards = _cards(soup, outline)
    if len(cards) == 1 and not _labelled_values(cards[0], outline):
        raise ValueError(f"{where}: not a programme card: no labelled field "
                         f"({', '.join(_FIELD_EXAMPLES)}, …)")
    alone = len(cards) == 1
    return [(_card_record(card, _card_title(card, soup, alone), number, where, outline), card)
            for number, card in enumerate(cards, start=1)]


def parse_card(body: bytes, *, url: str = "") -> list[dict]:
    """One record per programme card on the page (see the module's docstring)."""
    return [record for record, _ in _read(body, url)]


def parse_card_indicators(body: bytes, *, url: str = "") -> list[dict]:
    """Every number–noun indicator in the cards' text, with the practice records' fields.

    `page_title` is the programme, `published_on` None (a card is not dated),
    `region_text` the card's regions joined with `; ` (None when it names none).
    The labelled year fields hold no counted noun, so they give no indicator.
    """
    cards = [(record, text_blocks(card, drop="h1")) for record, card in _read(body, url)]
    check_text_size((p for _, paragraphs in cards for p in paragraphs),
                    url or "programme card page")
    out: list[dict] = []
    for record, paragraphs in cards:
        page = {
            "page_title": record["programme"],
            "published_on": None,
            "region_text": "; ".join(record["regions"]) or None,
        }
        for found in extract_indicators(paragraphs):
            out.append({**page, **found, "_row": len(out) + 1})
    return out
