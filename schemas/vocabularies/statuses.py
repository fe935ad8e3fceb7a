"""The statuses of a ФПГ application, and how a written status is compared with them."""

from __future__ import annotations

import re
from typing import Any

# Lower case, `ё` written `е`: how a status is compared (`status_key`). The first
# three are the site's (SOURCES.md §1a); cards and list pages write them in lower case,
# the bulk file capitalises them. The fourth is the bulk file's word for an
# application stopped before the expertise (our sample's; unverified against the
# live file). The fifth is a normal outcome by the fund's data passport (§1b): an
# organisation's other qualifying projects in a contest where one was funded, and
# projects withdrawn before the expertise. A status outside the set quarantines its
# record: add it here once seen.
KNOWN_STATUSES = frozenset({
    "победитель конкурса",
    "проект не получил поддержку",
    "на независимой экспертизе",
    "проект не допущен к независимой экспертизе",
    "отозван заявителем",
})

_SPACES = re.compile(r"\s+")


def status_key(value: Any) -> str:
    """A status as compared with KNOWN_STATUSES: spaces collapsed, lower case, ё as е."""
    return _SPACES.sub(" ", str(value)).strip().lower().replace("ё", "е")


def is_known_status(value: Any) -> bool:
    """The written status is one of KNOWN_STATUSES."""
    return status_key(value) in KNOWN_STATUSES
