"""Checks and masks for petitioners' personal fields; messages never repeat the value."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from domain.errors import InvalidField

# ISO 7064 MOD 11-2, as GB 11643 specifies for the 18th character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes, plus 83: Taiwan residents' residence permits (2018) use
# 830000 the way Hong Kong and Macao residents' permits use 810000 and 820000.
_PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65", "71", "81", "82", "83",
    }
)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_OLDEST_BIRTH_YEAR = 1900

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Three-digit area codes are exactly 010 and 02x; all others have four digits, so the split
# is unambiguous even when the caller typed no hyphen. Local numbers never begin with 0 or 1.
_LANDLINE = re.compile(
    r"(?P<area>0[12][0-9]|0[3-9][0-9]{2})-?(?P<local>[2-9][0-9]{6,7})"
    r"(?:(?:-|转)(?P<extension>[0-9]{1,6}))?"
)
# A bare '86' is safe to strip: a mainland mobile number itself never begins with 8.
_MOBILE_PREFIXES = ("+86", "0086", "86")

NAME_MAX_LENGTH = 50
ADDRESS_MAX_LENGTH = 200


def _compact(value: str) -> str:
    """Fold full-width characters from Chinese input methods to ASCII and drop all spaces."""
    return "".join(unicodedata.normalize("NFKC", value).split())


def _check_char(prefix17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(prefix17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def make_id_number(prefix17: str) -> str:
    """Append the correct check character to 17 digits (for tests and fixtures)."""
    if not re.fullmatch(r"[0-9]{17}", prefix17):
        raise ValueError("make_id_number needs exactly 17 ASCII digits")
    return prefix17 + _check_char(prefix17)


def validate_id_number(value: str, field: str = "id_number", *, today: date | None = None) -> str:
    """Return the normalised 18-digit resident ID number or raise InvalidField naming the field."""
    number = _compact(value).upper()
    if not number:
        raise InvalidField(field, "must not be empty")
    if not _ID_SHAPE.fullmatch(number):
        raise InvalidField(field, "must be 18 characters (17 digits and a digit or X)")
    # The check digit first: a mistyped digit is the likeliest fault, and this names it best.
    if number[17] != _check_char(number[:17]):
        raise InvalidField(field, "the check digit does not match; please re-check the number")
    if number[:2] not in _PROVINCE_CODES:
        raise InvalidField(field, "the first two digits are not a province code")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidField(field, "the date of birth in it is not a real date") from None
    if born.year < _OLDEST_BIRTH_YEAR:
        raise InvalidField(field, f"the date of birth in it is before {_OLDEST_BIRTH_YEAR}")
    if born > (today or date.today()):
        raise InvalidField(field, "the date of birth in it is in the future")
    return number


def validate_phone(value: str, field: str = "phone") -> str:
    """Return the normalised phone number or raise InvalidField (without echoing the number)."""
    compact = _compact(value)
    if not compact:
        raise InvalidField(field, "must not be empty")
    mobile = compact.replace("-", "")
    for prefix in _MOBILE_PREFIXES:
        if mobile.startswith(prefix):
            mobile = mobile[len(prefix) :]
            break
    if _MOBILE.fullmatch(mobile):
        return mobile
    landline = _LANDLINE.fullmatch(compact)
    if landline:
        normalised = f"{landline['area']}-{landline['local']}"
        extension = landline["extension"]
        return f"{normalised}-{extension}" if extension else normalised
    raise InvalidField(
        field,
        "must be a mainland mobile number (11 digits starting with 1) "
        "or a landline number beginning with its area code",
    )


def validate_address(value: str, field: str = "address") -> str:
    """Return the stripped address or raise InvalidField (not blank, at most 200 characters)."""
    address = value.strip()
    if not address:
        raise InvalidField(field, "must not be empty")
    if len(address) > ADDRESS_MAX_LENGTH:
        raise InvalidField(field, f"must be at most {ADDRESS_MAX_LENGTH} characters")
    return address


def validate_name(value: str, field: str = "name") -> str:
    """Return the stripped name; 1..50 characters, not blank."""
    name = value.strip()
    if not name:
        raise InvalidField(field, "must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidField(field, f"must be at most {NAME_MAX_LENGTH} characters")
    return name


def mask_id_number(value: str) -> str:
    """'310101199001011234' -> '3101**********1234' (first 4, last 4)."""
    return _mask(value, keep_start=4, keep_end=4)


def mask_phone(value: str) -> str:
    """'13812345678' -> '138****5678'."""
    return _mask(value, keep_start=3, keep_end=4)


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    """Star the middle of `value`; a value too short to keep both ends is starred whole."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[-keep_end:]
