"""Markdown and HTML of a release, rendered from the templates in
`pipelines/templates/release/`.

HTML templates (`*.html.j2`) are autoescaped: every value is escaped unless a filter here
marks it safe after escaping it. Markdown templates (`*.md.j2`) are not HTML-escaped (a
Markdown reader shows `&amp;` as it is); there, text going into a table cell passes
through `md_cell`, which keeps it on one line and escapes the pipes that would split it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_CODE_SPAN = re.compile(r"`([^`]+)`")


def md_cell(text: str) -> str:
    """Text as one Markdown table cell: whitespace collapsed, `|` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def paragraphs(text: str) -> list[str]:
    """Text wrapped over lines as its paragraphs (separated by blank lines), each on one
    line."""
    blocks = re.split(r"\n\s*\n", str(text))
    return [" ".join(block.split()) for block in blocks if block.strip()]


def code_segments(text: str) -> list[tuple[str, bool]]:
    """Plain text cut at its `code` spans: (text, is_code) pieces, for a template to mark up."""
    pieces = _CODE_SPAN.split(str(text))
    # re.split with one group alternates: text, code, text, code, …
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipelines", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                     disabled_extensions=("md", "md.j2", "css"),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md_cell"] = md_cell
    env.filters["code_segments"] = code_segments
    env.filters["paragraphs"] = paragraphs
    return env


def render(name: str, **context: Any) -> str:
    """Render `pipelines/templates/<name>` with `context`."""
    return environment().get_template(name).render(**context)
