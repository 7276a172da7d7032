"""Parsing and validation of the ICAO 9303 specimen MRZs and of variants built from them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kiosk.icao.mrz import (
    MrzError,
    MrzFormat,
    MrzInformation,
    MrzUnreadableError,
    PartialDate,
    check_digit,
    is_known_code,
    make_td1,
    make_td2,
    make_td3,
    parse_mrz,
)

TODAY = dt.date(2025, 6, 1)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


def _specimens(data_dir: Path) -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads((data_dir / "mrz" / "specimens.json").read_text())
    return loaded


@pytest.fixture
def specimens(data_dir: Path) -> dict[str, list[str]]:
    return _specimens(data_dir)


def _replace(lines: list[str], line: int, col: int, char: str) -> str:
    rows = list(lines)
    rows[line] = rows[line][:col] + char + rows[line][col + 1 :]
    return "\n".join(rows)


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "TD3", "MRVA", "MRVB"])
def test_every_specimen_is_valid_and_expired(specimens: dict[str, list[str]], fmt: str) -> None:
    # GIVEN the ICAO specimen of a format WHEN parsed
    result = parse_mrz("\n".join(specimens[fmt]), today=TODAY)
    # THEN it is valid, recognised, every check passes and expiry is only a warning
    assert result.valid, result.as_dict()["errors"]
    assert result.format == MrzFormat(fmt)
    assert all(result.checks.values())
    assert "document expired" in result.warnings
    assert result.fields.surname == "ERIKSSON"
    assert result.fields.given_names == "ANNA MARIA"
    assert result.fields.issuing_state == "UTO"


def test_td3_specimen_fields(specimens: dict[str, list[str]]) -> None:
    # GIVEN the TD3 specimen WHEN parsed THEN the fields are those printed on the specimen
    fields = parse_mrz("\n".join(specimens["TD3"]), today=TODAY).as_dict()["fields"]
    assert fields == {
        "document_type": "P",
        "issuing_state": "UTO",
        "surname": "ERIKSSON",
        "given_names": "ANNA MARIA",
        "document_number": "L898902C3",
        "nationality": "UTO",
        "date_of_birth": "1974-08-12",
        "sex": "F",
        "date_of_expiry": "2012-04-15",
        "optional_data": "ZE184226B",
    }


def test_checks_per_format(specimens: dict[str, list[str]]) -> None:
    # GIVEN each specimen WHEN parsed THEN it reports exactly the check digits its format has
    expected = {
        "TD1": {"document_number", "date_of_birth", "date_of_expiry", "composite"},
        "TD2": {"document_number", "date_of_birth", "date_of_expiry", "composite"},
        "TD3": {"document_number", "date_of_birth", "date_of_expiry", "optional_data", "composite"},
        "MRVA": {"document_number", "date_of_birth", "date_of_expiry"},
        "MRVB": {"document_number", "date_of_birth", "date_of_expiry"},
    }
    for fmt, lines in specimens.items():
        assert set(parse_mrz("\n".join(lines), today=TODAY).checks) == expected[fmt]


def test_check_digit_values() -> None:
    # GIVEN values from the ICAO specimen WHEN their check digits are computed THEN they match
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"
    assert check_digit("<<<<") == "0"


def test_mrz_information_matches_icao_part_11_worked_example() -> None:
    # GIVEN the document number and dates of the ICAO 9303 Part 11 BAC worked example
    info = MrzInformation.from_values("L898902C", dt.date(1969, 8, 6), dt.date(1994, 6, 23))
    # THEN the MRZ information is the one the standard derives the keys from
    assert info.text() == "L898902C<369080619406236"
    assert "L898902C" not in repr(info)


def test_mrz_information_of_a_parsed_document(specimens: dict[str, list[str]]) -> None:
    result = parse_mrz("\n".join(specimens["TD3"]), today=TODAY)
    assert result.mrz_information() == "L898902C3674081221204159"
    assert result.information.date_of_birth == "740812"


def test_mrz_information_refused_when_its_checks_fail(specimens: dict[str, list[str]]) -> None:
    bad = _replace(specimens["TD3"], 1, 9, "7")
    result = parse_mrz(bad, strict=True, today=TODAY)
    with pytest.raises(MrzError):
        result.mrz_information()
    with pytest.raises(MrzError):
        result.require_valid()


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "TD3", "MRVA", "MRVB"])
def test_every_change_under_a_check_digit_is_detected(
    specimens: dict[str, list[str]], fmt: str
) -> None:
    # GIVEN a specimen and every position that a check digit covers (or is a check digit)
    lines = specimens[fmt]
    result = parse_mrz("\n".join(lines), today=TODAY)
    from kiosk.icao.mrz.check_digits import CHAR_VALUES
    from kiosk.icao.mrz.checks import check_specs
    from kiosk.icao.mrz.formats import LAYOUTS

    specs = check_specs(LAYOUTS[result.format], tuple(lines))
    covered = {p for s in specs for p in s.positions} | {s.digit for s in specs}
    for line, col in sorted(covered):
        old = lines[line][col]
        for new in ALPHABET:
            # a change by a multiple of 10 in value is invisible to 7-3-1 check digits
            # (A for 0, K for 0, B for 1, ...): ICAO 9303 accepts that weakness
            if (CHAR_VALUES[new] - CHAR_VALUES[old]) % 10 == 0:
                continue
            # WHEN one character is changed THEN the strict parser rejects the MRZ
            changed = parse_mrz(_replace(lines, line, col, new), strict=True, today=TODAY)
            assert not changed.valid, (fmt, line, col, new)


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "TD3", "MRVA", "MRVB"])
def test_changes_to_letters_only_fields_are_detected(
    specimens: dict[str, list[str]], fmt: str
) -> None:
    # GIVEN a specimen WHEN a digit replaces any character of the name or the state codes
    lines = specimens[fmt]
    result = parse_mrz("\n".join(lines), today=TODAY)
    from kiosk.icao.mrz.formats import LAYOUTS

    layout = LAYOUTS[result.format]
    for name in ("name", "issuing_state", "nationality", "document_type"):
        span = layout.fields[name]
        for col in range(span.start, span.end):
            changed = parse_mrz(_replace(lines, span.line, col, "7"), strict=True, today=TODAY)
            # THEN the strict parser reports an error on that field
            assert not changed.valid
            assert name in {e.field for e in changed.errors}


def test_error_positions_are_one_based_line_and_column(specimens: dict[str, list[str]]) -> None:
    bad = _replace(specimens["TD3"], 1, 19, "3")  # the birth date check digit
    errors = parse_mrz(bad, strict=True, today=TODAY).as_dict()["errors"]
    assert errors == [
        {
            "field": "date_of_birth",
            "position": {"line": 2, "column": 20},
            "message": "check digit does not match",
        },
        {
            "field": "composite",
            "position": {"line": 2, "column": 44},
            "message": "check digit does not match",
        },
    ]


def _td1(number: str, **extra: str | dt.date) -> tuple[str, ...]:
    fields: dict[str, str | dt.date] = {
        "surname": "Eriksson",
        "given_names": "Anna Maria",
        "document_number": number,
        "issuing_state": "UTO",
        "nationality": "UTO",
        "date_of_birth": dt.date(1974, 8, 12),
        "sex": "F",
        "date_of_expiry": dt.date(2030, 4, 15),
    }
    fields.update(extra)
    return make_td1(**fields)


def test_td1_long_document_number_overflows_into_optional_data() -> None:
    # GIVEN a TD1 with a 12-character document number
    lines = _td1("D23145890734", optional_data="AB12")
    # THEN the check digit position holds a filler and the rest continues in the optional data
    # (the ICAO 9303 Part 5 long-number example: I<UTOD23145890<7349...)
    assert lines[0].startswith("I<UTOD23145890<7349<AB12")
    # WHEN parsed THEN the full number and the remaining optional data come back
    result = parse_mrz("\n".join(lines), strict=True, today=TODAY)
    assert result.valid, result.as_dict()
    assert result.fields.document_number == "D23145890734"
    assert result.fields.optional_data == "AB12"
    assert result.mrz_information() == (
        "D23145890734" + "9" + "740812" + "2" + "300415" + check_digit("300415")
    )


def test_td2_long_document_number_too() -> None:
    lines = make_td2(
        surname="Eriksson",
        given_names="Anna",
        document_number="D2314589073",
        issuing_state="UTO",
        nationality="UTO",
        date_of_birth=dt.date(1974, 8, 12),
        sex="F",
        date_of_expiry=dt.date(2030, 4, 15),
    )
    result = parse_mrz("\n".join(lines), strict=True, today=TODAY)
    assert result.valid and result.fields.document_number == "D2314589073"


def test_td1_filler_in_check_digit_without_overflow_is_an_error() -> None:
    lines = list(_td1("D23145890"))
    lines[0] = lines[0][:14] + "<" + lines[0][15:]
    result = parse_mrz("\n".join(lines), strict=True, today=TODAY)
    assert not result.valid
    assert {"field": "document_number", "line": 1, "column": 15} in [
        {"field": e.field, "line": e.line, "column": e.column} for e in result.errors
    ]


def test_td1_long_number_with_a_wrong_check_digit_is_detected() -> None:
    lines = list(_td1("D23145890734"))
    wrong = str((int(lines[0][18]) + 1) % 10)
    result = parse_mrz(_replace(lines, 0, 18, wrong), strict=True, today=TODAY)
    assert not result.checks["document_number"]


def test_century_inference() -> None:
    # GIVEN births and expiries whose two-digit years need a century
    lines = _td1("X1234567", date_of_birth="300101", date_of_expiry="400101")
    result = parse_mrz("\n".join(lines), today=TODAY)
    # THEN birth lies in the past and expiry within the validity window
    assert result.fields.date_of_birth == dt.date(1930, 1, 1)
    assert result.fields.date_of_expiry == dt.date(2040, 1, 1)
    lines = _td1("X1234567", date_of_birth="250531", date_of_expiry="350531")
    result = parse_mrz("\n".join(lines), today=TODAY)
    assert result.fields.date_of_birth == dt.date(2025, 5, 31)
    lines = _td1("X1234567", date_of_birth="250602", date_of_expiry="350531")
    assert parse_mrz("\n".join(lines), today=TODAY).fields.date_of_birth == dt.date(1925, 6, 2)


def test_invalid_calendar_dates_and_expiry_before_birth() -> None:
    bad_day = parse_mrz("\n".join(_td1("X1", date_of_birth="740230")), today=TODAY)
    assert "date_of_birth" in {e.field for e in bad_day.errors}
    bad_month = parse_mrz("\n".join(_td1("X1", date_of_expiry="301315")), today=TODAY)
    assert "date_of_expiry" in {e.field for e in bad_month.errors}
    reversed_ = parse_mrz(
        "\n".join(_td1("X1", date_of_birth="100101", date_of_expiry="090101")), today=TODAY
    )
    assert not reversed_.valid
    assert "date of expiry before date of birth" in [e.message for e in reversed_.errors]


def test_unknown_day_of_birth_is_accepted_with_a_warning() -> None:
    result = parse_mrz("\n".join(_td1("X1", date_of_birth="7408<<")), today=TODAY)
    assert result.valid
    assert result.fields.date_of_birth == PartialDate(1974, 8)
    assert result.as_dict()["fields"]["date_of_birth"] == "1974-08"
    assert "date of birth partly unknown" in result.warnings


@pytest.mark.parametrize(("sex", "shown"), [("M", "M"), ("F", "F"), ("X", "X"), ("<", "")])
def test_sex_values(sex: str, shown: str) -> None:
    result = parse_mrz("\n".join(_td1("X1", sex=sex)), today=TODAY)
    assert result.valid and result.fields.sex == shown


def test_sex_other_letter_is_an_error() -> None:
    lines = list(_td1("X1"))
    result = parse_mrz(_replace(lines, 1, 7, "Q"), today=TODAY)
    assert "sex" in {e.field for e in result.errors}


@pytest.mark.parametrize(
    "code",
    ["D", "GBD", "GBN", "GBO", "GBS", "GBP", "UNO", "UNA", "UNK", "XXA", "XXB", "XXC", "XXX",
     "EUE", "UTO", "FRA", "NLD"],
)  # fmt: skip
def test_special_and_regular_codes_are_accepted(code: str) -> None:
    assert is_known_code(code)
    result = parse_mrz("\n".join(_td1("X1", issuing_state=code, nationality=code)), today=TODAY)
    assert result.valid, result.as_dict()["errors"]
    assert result.fields.issuing_state == code == result.fields.nationality


@pytest.mark.parametrize("code", ["DEU", "ABC", "QQQ", "U<O"])
def test_unknown_codes_are_rejected(code: str) -> None:
    # GIVEN a valid TD1 WHEN its issuing state is replaced by a code ICAO does not list
    lines = list(_td1("X1"))
    changed = lines[0][:2] + code + lines[0][5:]
    result = parse_mrz("\n".join([changed, *lines[1:]]), strict=True, today=TODAY)
    # THEN the issuing state is reported
    assert "issuing_state" in {e.field for e in result.errors}
    assert not is_known_code(code)


def test_document_code_rules() -> None:
    lines = list(_td1("X1"))
    assert not parse_mrz(_replace(lines, 0, 0, "P"), today=TODAY).valid
    assert not parse_mrz(_replace(lines, 0, 1, "V"), today=TODAY).valid
    assert parse_mrz(_replace(lines, 0, 1, "D"), today=TODAY).valid


def test_name_rules(specimens: dict[str, list[str]]) -> None:
    td3 = specimens["TD3"]
    # a filler at the start of the name
    assert not parse_mrz(_replace(td3, 0, 5, "<"), strict=True, today=TODAY).valid
    # a second primary/secondary separator
    second = td3[0][:25] + "<<X" + td3[0][28:]
    assert not parse_mrz("\n".join([second, td3[1]]), today=TODAY).valid
    # a mononym: primary identifier only
    mono = ("P<UTOERIKSSON").ljust(44, "<")
    result = parse_mrz("\n".join([mono, td3[1]]), today=TODAY)
    assert result.valid and result.fields.given_names == ""
    # a name filling the whole field may be truncated
    full = "P<UTO" + "ERIKSSON<<ANNA<MARIA" + "X" * 19
    result = parse_mrz("\n".join([full, td3[1]]), today=TODAY)
    assert result.valid and "name may be truncated" in result.warnings


def test_input_normalisation(specimens: dict[str, list[str]]) -> None:
    td3 = specimens["TD3"]
    # CRLF, surrounding blanks and empty lines are tolerated
    assert parse_mrz("\r\n  " + td3[0] + "  \r\n\r\n" + td3[1] + "\r\n", today=TODAY).valid
    # one line holding the whole MRZ is split by the format's line length
    assert parse_mrz(td3[0] + td3[1], today=TODAY).format is MrzFormat.TD3
    assert parse_mrz("".join(specimens["TD1"]), today=TODAY).format is MrzFormat.TD1
    # bytes are accepted
    assert parse_mrz(("\n".join(td3)).encode(), today=TODAY).valid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "P<UTOERIKSSON\nL898902C36UTO",
        "A" * 44 + "\n" + "B" * 36,
        "x" * 20_000,
    ],
)
def test_unreadable_inputs_raise_a_typed_error(text: str) -> None:
    with pytest.raises(MrzUnreadableError) as info:
        parse_mrz(text)
    assert info.value.code == "mrz_unreadable"


def test_binary_input_is_unreadable(specimens: dict[str, list[str]]) -> None:
    with pytest.raises(MrzUnreadableError):
        parse_mrz(b"\x00\xff\xfe" * 10)
    with pytest.raises(MrzUnreadableError):
        parse_mrz(b"x" * 11_000)


def test_characters_outside_the_alphabet_are_errors_not_crashes(
    specimens: dict[str, list[str]],
) -> None:
    td3 = specimens["TD3"]
    for char in "a#é ":
        result = parse_mrz(_replace(td3, 1, 3, char), today=TODAY)
        assert not result.valid
        assert result.errors[0].field == "document_number"


def test_repr_hides_personal_data(specimens: dict[str, list[str]]) -> None:
    result = parse_mrz("\n".join(specimens["TD3"]), today=TODAY)
    for text in (repr(result), repr(result.fields), repr(result.information)):
        assert "ERIKSSON" not in text and "L898902C3" not in text and "740812" not in text


def test_td3_generator_round_trip() -> None:
    lines = make_td3(
        surname="Müller-Lüdenscheidt",
        given_names="Jürgen Øystein",
        document_number="C01X00T47",
        issuing_state="D",
        nationality="D",
        date_of_birth=dt.date(1964, 8, 12),
        sex="M",
        date_of_expiry=dt.date(2031, 10, 31),
        optional_data="",
    )
    assert lines[0] == "P<D<<MUELLER<LUEDENSCHEIDT<<JUERGEN<OEYSTEIN<"[:44].ljust(44, "<")
    assert lines[1][42] == "<"  # empty personal number: filler check digit
    result = parse_mrz("\n".join(lines), strict=True, today=TODAY)
    assert result.valid and result.fields.surname == "MUELLER LUEDENSCHEIDT"
