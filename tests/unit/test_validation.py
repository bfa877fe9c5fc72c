"""Petitioner field checks: resident ID numbers, phones, names, addresses and masks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidField
from domain.validation import (
    make_id_number,
    mask_id_number,
    mask_phone,
    validate_address,
    validate_id_number,
    validate_name,
    validate_phone,
)

# The GB 11643 standard's own example number, with X as its check character.
KNOWN_VALID = "11010519491231002X"
TODAY = date(2026, 1, 15)


def refusal(value: str, validate: object = validate_id_number, **options: object) -> InvalidField:
    """The InvalidField that validating `value` raises."""
    assert callable(validate)
    with pytest.raises(InvalidField) as refused:
        validate(value, **options)
    return refused.value


def test_make_id_number_appends_the_check_character_of_the_standards_example() -> None:
    """The check character of 11010519491231002 is X."""
    assert make_id_number("11010519491231002") == KNOWN_VALID


def test_make_id_number_refuses_anything_but_17_digits() -> None:
    """make_id_number needs exactly 17 digits."""
    with pytest.raises(ValueError, match="17"):
        make_id_number("1101051949123100")


def test_valid_id_number_is_returned_unchanged() -> None:
    """A valid number passes through as it is."""
    assert validate_id_number(KNOWN_VALID, today=TODAY) == KNOWN_VALID
    generated = make_id_number("31010119900101123")
    assert validate_id_number(generated, today=TODAY) == generated


def test_lowercase_x_spaces_and_full_width_digits_are_normalised() -> None:
    """A lowercase x is uppercased, spaces dropped and full-width digits folded to ASCII."""
    assert validate_id_number("11010519491231002x", today=TODAY) == KNOWN_VALID
    assert validate_id_number(" 110105 19491231 002X ", today=TODAY) == KNOWN_VALID
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY) == KNOWN_VALID


def test_wrong_check_digit_is_refused() -> None:
    """A number whose last character does not match the checksum is refused."""
    error = refusal("110105194912310021", today=TODAY)
    assert error.message == "id_number: the check digit does not match; please re-check the number"
    assert error.field == "id_number"


@pytest.mark.parametrize(
    "value",
    ["11010519491231002", "11010519491231002X1", "1101051949123100X2", "A1010519491231002X"],
)
def test_wrong_length_or_characters_are_refused(value: str) -> None:
    """Anything but 17 digits followed by a digit or X is refused."""
    assert refusal(value).message == "id_number: must be 18 characters (17 digits and a digit or X)"


def test_empty_id_number_is_refused() -> None:
    """A blank ID number is refused as empty."""
    assert refusal("   ").message == "id_number: must not be empty"


def test_impossible_date_of_birth_is_refused() -> None:
    """A number born on February 30 is refused even with a correct check digit."""
    error = refusal(make_id_number("11010519900230001"), today=TODAY)
    assert error.message == "id_number: the date of birth in it is not a real date"


def test_future_date_of_birth_is_refused_but_today_is_accepted() -> None:
    """A date of birth after today is refused; one on today is accepted."""
    tomorrow = make_id_number("11010520260116001")
    born_today = make_id_number("11010520260115001")
    assert refusal(tomorrow, today=TODAY).message.endswith("is in the future")
    assert validate_id_number(born_today, today=TODAY) == born_today


def test_date_of_birth_before_1900_is_refused() -> None:
    """A date of birth in 1899 is refused."""
    error = refusal(make_id_number("11010518991231001"), today=TODAY)
    assert error.message == "id_number: the date of birth in it is before 1900"


@pytest.mark.parametrize("province", ["00", "10", "16", "47", "55", "66", "80", "84", "99"])
def test_unknown_province_code_is_refused(province: str) -> None:
    """A number whose first two digits are not a province code is refused."""
    error = refusal(make_id_number(province + "010519491231002"), today=TODAY)
    assert error.message == "id_number: the first two digits are not a province code"


@pytest.mark.parametrize("province", ["11", "46", "65", "71", "81", "82", "83"])
def test_province_hong_kong_macao_and_taiwan_codes_are_accepted(province: str) -> None:
    """Province codes, and the 81/82/83 codes of residence permits, are accepted."""
    number = make_id_number(province + "000019491231002")
    assert validate_id_number(number, today=TODAY) == number


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",
        make_id_number("11010519900230001"),
        make_id_number("11010520260116001"),
        make_id_number("99010519491231002"),
        "11010519491231002",
    ],
)
def test_id_number_messages_do_not_repeat_the_number(value: str) -> None:
    """No refusal message contains the number or its first 17 digits."""
    message = str(refusal(value, today=TODAY))
    assert value[:17] not in message
    assert value[6:14] not in message


def test_id_number_refusal_names_the_given_field() -> None:
    """The refusal names the field the caller passes."""
    error = refusal("110105194912310021", field="representatives[2].id_number", today=TODAY)
    assert error.field == "representatives[2].id_number"
    assert str(error).startswith("representatives[2].id_number: ")


provinces = st.sampled_from(["11", "31", "44", "51", "65", "81"])
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@given(province=provinces, born=births, sequence=sequences)
def test_generated_numbers_are_valid(province: str, born: date, sequence: int) -> None:
    """Any number make_id_number builds from a province, a birth date and a sequence is valid."""
    number = make_id_number(f"{province}0101{born:%Y%m%d}{sequence:03d}")
    assert validate_id_number(number, today=TODAY) == number


@given(
    province=provinces,
    born=births,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=17),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_mistyped_character_is_refused(
    province: str, born: date, sequence: int, position: int, shift: int
) -> None:
    """Changing any one character of a valid number makes it invalid."""
    number = make_id_number(f"{province}0101{born:%Y%m%d}{sequence:03d}")
    digits = "0123456789X" if position == 17 else "0123456789"
    wrong = digits[(digits.index(number[position]) + shift) % len(digits)]
    with pytest.raises(InvalidField):
        validate_id_number(number[:position] + wrong + number[position + 1 :], today=TODAY)


def test_validation_uses_the_real_today_by_default() -> None:
    """Without `today`, a birth date tomorrow is refused and one yesterday accepted."""
    tomorrow = date.today() + timedelta(days=1)
    yesterday = date.today() - timedelta(days=1)
    with pytest.raises(InvalidField, match="future"):
        validate_id_number(make_id_number(f"110105{tomorrow:%Y%m%d}001"))
    accepted = make_id_number(f"110105{yesterday:%Y%m%d}001")
    assert validate_id_number(accepted) == accepted


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１９９１２３４５６７８", "19912345678"),
        ("010-65529988", "010-65529988"),
        ("01065529988", "010-65529988"),
        ("0755 8888 6666", "0755-88886666"),
        ("0571-8765432", "0571-8765432"),
        ("010-65529988-1234", "010-65529988-1234"),
        ("02166778899转123", "021-66778899-123"),
    ],
)
def test_valid_phone_numbers_are_normalised(value: str, normalised: str) -> None:
    """Mobiles become 11 digits; landlines become area-local[-extension]."""
    assert validate_phone(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",
        "1381234567",
        "138123456789",
        "+1 138 1234 5678",
        "87613812345678",
        "010-1234567",
        "10-65529988",
        "010-655299889",
        "0755-88886666-1234567",
        "phone me",
    ],
)
def test_invalid_phone_numbers_are_refused_without_repeating_them(value: str) -> None:
    """Anything that is not a mainland mobile or landline is refused, and not echoed."""
    error = refusal(value, validate_phone)
    assert error.field == "phone"
    assert value not in error.message
    digits = "".join(ch for ch in value if ch.isdigit())
    assert not digits or digits[-7:] not in error.message


def test_empty_phone_is_refused() -> None:
    """A blank phone number is refused as empty."""
    assert refusal(" ", validate_phone).message == "phone: must not be empty"


def test_name_and_address_are_stripped() -> None:
    """Surrounding spaces are removed from names and addresses."""
    assert validate_name("  张三 ") == "张三"
    assert validate_address(" 上海市黄浦区人民大道200号\n") == "上海市黄浦区人民大道200号"


@pytest.mark.parametrize(
    ("validate", "field", "limit"),
    [(validate_name, "name", 50), (validate_address, "address", 200)],
)
def test_name_and_address_must_be_present_and_not_too_long(
    validate: object, field: str, limit: int
) -> None:
    """A blank value or one over the limit is refused; one at the limit is accepted."""
    assert callable(validate)
    assert validate("字" * limit) == "字" * limit
    assert refusal(" \t", validate).message == f"{field}: must not be empty"
    too_long = refusal("字" * (limit + 1), validate).message
    assert too_long == f"{field}: must be at most {limit} characters"


def test_masks_keep_only_the_ends() -> None:
    """An ID number keeps its first and last four characters; a phone its first three, last four."""
    assert mask_id_number("310101199001011234") == "3101**********1234"
    assert mask_id_number(KNOWN_VALID) == "1101**********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-65529988") == "010*****9988"


def test_masks_hide_short_values_entirely() -> None:
    """A value too short to keep both ends is masked whole."""
    assert mask_id_number("12345678") == "********"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""
