import pytest

from schemas.identifiers import inn_subject_code, is_valid_inn, is_valid_ogrn, ogrn_subject_code


def _inn10(prefix9: str) -> str:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(w * int(d) for w, d in zip(weights, prefix9, strict=True)) % 11 % 10
    return prefix9 + str(check)


def test_inn10_check_digit():
    inn = _inn10("770708389")
    assert is_valid_inn(inn)
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    assert not is_valid_inn(wrong)


def test_inn12_both_check_digits():
    assert is_valid_inn("500100732259")
    assert not is_valid_inn("500100732250")


@pytest.mark.parametrize("bad", ["673004802", "67300072640", "25760723", "", None, "77070838x1"])
def test_inn_wrong_length_or_not_digits(bad):
    assert not is_valid_inn(bad)


def test_ogrn13_check_digit():
    assert is_valid_ogrn("1095200000224")
    assert not is_valid_ogrn("1095200000225")


def test_ogrnip15_keeps_the_final_mod_10():
    # Find a 15-digit ОГРНИП whose first 14 digits leave a remainder of 10..12 mod 13:
    # its check digit is that remainder mod 10, which a check without the final mod 10 rejects.
    base = 30450000000000
    for n in range(base, base + 100):
        if n % 13 >= 10:
            valid = f"{n}{n % 13 % 10}"
            break
    assert len(valid) == 15 and is_valid_ogrn(valid)
    assert not is_valid_ogrn(valid[:-1] + str((int(valid[-1]) + 1) % 10))


def test_subject_codes():
    assert ogrn_subject_code("1095200000224") == "52"
    assert ogrn_subject_code("1095200000225") == "52"  # a failing check digit is still evidence
    assert inn_subject_code("7707083893") == "77"
    assert ogrn_subject_code("12345") is None
