"""ОКОПФ (classifier ОК 028-2012): which legal forms are non-profits of expense type 630.

Expense type 630 pays non-profit organisations other than state and municipal
institutions. `nonprofit_by_okopf` says, from a recipient's ОКОПФ code, whether it is
one: True, False, or None when the code does not decide (malformed, or outside the
sourced groups), so nothing is dropped on a guess.
"""

from __future__ import annotations

# Codes are five digits; the first digit is the section. Sources, as read:
# [C] consultant.ru, cons_doc_LAW_344201: Приказ Росстата от 20.12.2019 № 788,
#     Приложение № 3 (введено Приказом Росстата от 18.12.2020 № 813), «Перечень кодов
#     по ОКОПФ ОК 028-2012»: 7 04 01 Благотворительные фонды, 7 14 00 Автономные
#     некоммерческие организации, 7 15 00 Религиозные организации, 7 51 04 Федеральные
#     государственные казенные учреждения, 7 52 04 Государственные казенные учреждения
#     (субъектов РФ).
# [L] lugasoft.ru/ok/okopf/2012/21200: «2 00 00 Организационно-правовые формы
#     юридических лиц, являющихся некоммерческими корпоративными организациями».
# [P] poporyadku.ru/okopf/71600.html: 7 16 00 Публично-правовые компании (7 16 01
#     Государственные корпорации, 7 16 02 Государственные компании, 7 16 10 Отделения
#     иностранных некоммерческих неправительственных организаций) — non-profit
#     unitary forms, kept.
# [R] Письмо Росстата от 02.04.2015 № АК-01-5/822-МВ (pravo.ppt.ru), the recoding
#     table to Изменение 2/2014: unitary enterprises moved from 1 51 4x / 1 52 4x to
#     6 51 4x / 6 52 4x, so section 6 is commercial too.
# [S] a public SQL script of the Изменение 2/2014 additions, found by code search
#     (the search tool does not name its repository; corroborated by [C] for 7 51 04
#     and 7 52 04): 6 00 00 «…коммерческими унитарными организациями», 7 00 00
#     «…некоммерческими унитарными организациями», 7 51 00 «Учреждения, созданные
#     Российской Федерацией» (7 51 01, 7 51 03, 7 51 04), 7 52 00 «Учреждения, созданные
#     субъектом Российской Федерации» (7 52 01, 7 52 03, 7 52 04), 7 54 00 «Учреждения,
#     созданные муниципальным образованием (муниципальные учреждения)» (7 54 01, …).
# [O] docs.cntd.ru/document/420216824: the edition before Изменение 2/2014 listed
#     institutions of every owner inside the non-profit corporate section, «Учреждения
#     2 09 00»: 2 09 01 Автономные учреждения, 2 09 02 Благотворительные учреждения,
#     2 09 05 Общественные учреждения, 2 09 06 Частные учреждения, 2 09 07 Учреждения
#     академии наук, 2 09 08 Учреждения религиозных организаций.
OKOPF_NONPROFIT_SECTIONS = {
    "2": "некоммерческие корпоративные организации [L]",
    "7": "некоммерческие унитарные организации [S], e.g. 70401, 71400, 71500 [C], 716xx [P]",
}
OKOPF_COMMERCIAL_SECTIONS = {
    "1": "коммерческие корпоративные организации (SOURCES.md §3a; 12267 in the record seen)",
    "6": "коммерческие унитарные организации [R], [S]",
}
# State and municipal institutions: the classifier's groups by founder. A group code
# ends in 00 and its members share its first three digits ([S]: 75100 → 75101, 75103,
# 75104), so the prefix covers members not listed in our sources.
OKOPF_STATE_INSTITUTION_GROUPS = {
    "751": "Учреждения, созданные Российской Федерацией (7 51 00) [S], 7 51 04 [C]",
    "752": "Учреждения, созданные субъектом Российской Федерации (7 52 00) [S], 7 52 04 [C]",
    "754": "Учреждения, созданные муниципальным образованием (7 54 00) [S]",
}
# The old edition's institutions (2 09 xx) do not say who founded them, except these,
# which are not state or municipal by their names [O]; the rest of 2 09 xx is undecided.
OKOPF_OLD_INSTITUTION_GROUP = "209"
OKOPF_OLD_NONSTATE_INSTITUTIONS = {
    "20902": "Благотворительные учреждения [O]",
    "20905": "Общественные учреждения [O]",
    "20906": "Частные учреждения [O]",
    "20908": "Учреждения религиозных организаций [O]",
}


def nonprofit_by_okopf(code: str | None) -> bool | None:
    """Non-profit other than a state or municipal institution, by ОКОПФ; None when undecided.

    `code` is the code as written (white space folded); spaces between its groups of
    digits (`7 14 00`) are ignored.
    """
    if code is None:
        return None
    digits = code.replace(" ", "")
    if not (len(digits) == 5 and digits.isascii() and digits.isdigit()):
        return None
    if digits[0] in OKOPF_COMMERCIAL_SECTIONS:
        return False
    if digits[:3] in OKOPF_STATE_INSTITUTION_GROUPS:
        return False
    if digits[:3] == OKOPF_OLD_INSTITUTION_GROUP:
        return True if digits in OKOPF_OLD_NONSTATE_INSTITUTIONS else None
    if digits[0] in OKOPF_NONPROFIT_SECTIONS:
        return True
    return None
