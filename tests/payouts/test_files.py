"""Payout files as PayPal's web upload and Wise's batch templates describe them.

Expected rows are written out from the templates: PayPal's has no header row and the columns
recipient, amount, currency, customer id, note, wallet; Wise's "send by email" template has a
header row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse

from referralhub.payouts.files import (
    FORMATS,
    PayoutLine,
    payout_files,
    payout_response,
    zip_stream,
)
from tests.factories import PayoutLineFactory

WISE_HEADER = [
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
]


def line(**fields: object) -> PayoutLine:
    made: PayoutLine = PayoutLineFactory(**fields)
    return made


def files(fmt: str, lines: Iterable[PayoutLine], label: str = "nov") -> dict[str, bytes]:
    return {name: b"".join(chunks) for name, chunks in payout_files(fmt, lines, label=label)}


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def streamed(response: StreamingHttpResponse) -> bytes:
    return response.getvalue()


def test_the_formats_name_their_row_limits() -> None:
    assert FORMATS["paypal"].row_limit == 5000
    assert FORMATS["wise"].row_limit == 1000
    assert FORMATS["csv"].row_limit is None
    assert all(f.label and f.extension == "csv" for f in FORMATS.values())


def test_a_paypal_file_has_no_header_and_the_template_columns() -> None:
    lines = [
        line(
            reference="RH-1",
            email="ada@example.com",
            amount=Decimal("10.5"),
            currency="USD",
            note="Thank you, Ada",
        ),
        line(
            reference="RH-2",
            email="bo@example.com",
            amount=Decimal("3"),
            currency="USD",
            note="Merci — à bientôt",
        ),
    ]

    written = files("paypal", lines)

    assert list(written) == ["nov-paypal-USD-1.csv"]
    data = written["nov-paypal-USD-1.csv"]
    assert not data.startswith(b"\xef\xbb\xbf")  # a BOM would join the first email
    assert parse(data) == [
        ["ada@example.com", "10.50", "USD", "RH-1", "Thank you, Ada", "PAYPAL"],
        ["bo@example.com", "3.00", "USD", "RH-2", "Merci — à bientôt", "PAYPAL"],
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("1234.5"), "EUR", "1234.50"),
        (Decimal("0.01"), "USD", "0.01"),
        (Decimal("1500"), "JPY", "1500"),
        (Decimal("1500.00"), "JPY", "1500"),
        (Decimal("1.25"), "KWD", "1.250"),
        (Decimal("300"), "HUF", "300"),  # no decimals at PayPal
    ],
)
def test_a_paypal_amount_has_the_currency_s_decimals(
    amount: Decimal, currency: str, written: str
) -> None:
    (data,) = files("paypal", [line(amount=amount, currency=currency)]).values()
    assert parse(data)[0][1:3] == [written, currency]


@pytest.mark.parametrize(
    ("amount", "currency"), [(Decimal("10.5"), "JPY"), (Decimal("1.005"), "EUR")]
)
def test_an_amount_finer_than_the_currency_is_refused_not_rounded(
    amount: Decimal, currency: str
) -> None:
    for fmt in FORMATS:
        with pytest.raises(ValueError, match=r"'RH-9'.*decimals"):
            files(fmt, [line(reference="RH-9", amount=amount, currency=currency)])


def test_paypal_gets_one_file_per_currency() -> None:
    lines = [
        line(reference="e1", currency="EUR"),
        line(reference="e2", currency="EUR"),
        line(reference="j1", currency="JPY", amount=Decimal("900")),
        line(reference="u1", currency="USD"),
    ]

    written = files("paypal", lines)

    assert list(written) == ["nov-paypal-EUR-1.csv", "nov-paypal-JPY-1.csv", "nov-paypal-USD-1.csv"]
    for name, data in written.items():
        currencies = {row[2] for row in parse(data)}
        assert currencies == {name.split("-")[2]}
    assert [row[3] for row in parse(written["nov-paypal-EUR-1.csv"])] == ["e1", "e2"]


def test_paypal_refuses_lines_not_sorted_by_currency() -> None:
    lines = [line(currency="EUR"), line(currency="USD"), line(reference="back", currency="EUR")]
    with pytest.raises(ValueError, match=r"'back'.*not sorted by currency"):
        files("paypal", lines)


def test_a_paypal_file_holds_at_most_5000_rows() -> None:
    lines = [line(reference=f"r{n}") for n in range(5001)]

    written = files("paypal", lines)

    assert list(written) == ["nov-paypal-EUR-1.csv", "nov-paypal-EUR-2.csv"]
    first, second = (parse(data) for data in written.values())
    assert len(first) == 5000
    assert [row[3] for row in second] == ["r5000"]


def test_a_wise_file_has_the_email_template_s_header_and_columns() -> None:
    lines = [
        line(
            name="Zoë Ångström",
            email="zoe@example.com",
            amount=Decimal("12.3"),
            currency="EUR",
            note="Rewards November",
        ),
        line(
            name='Bob "Bobby", Jr.',
            email="bob@example.com",
            amount=Decimal("7000"),
            currency="JPY",
            note="Rewards November",
        ),
    ]

    written = files("wise", lines)

    assert list(written) == ["nov-wise-1.csv"]
    data = written["nov-wise-1.csv"]
    assert data.startswith(b"name,recipientEmail,")
    assert parse(data) == [
        WISE_HEADER,
        [
            "Zoë Ångström",
            "zoe@example.com",
            "Rewards November",
            "PERSON",
            "target",
            "12.30",
            "EUR",
            "EUR",
        ],
        [
            'Bob "Bobby", Jr.',
            "bob@example.com",
            "Rewards November",
            "PERSON",
            "target",
            "7000",
            "JPY",
            "JPY",
        ],
    ]
    # A comma or a quote inside a value is quoted, the quote doubled, as CSV does.
    assert b'"Bob ""Bobby"", Jr."' in data


def test_a_wise_file_holds_at_most_1000_transfers_and_repeats_its_header() -> None:
    lines = [line(reference=f"r{n}") for n in range(2001)]

    written = files("wise", lines)

    assert list(written) == ["nov-wise-1.csv", "nov-wise-2.csv", "nov-wise-3.csv"]
    sizes = [len(parse(data)) for data in written.values()]
    assert sizes == [1001, 1001, 2]
    assert all(parse(data)[0] == WISE_HEADER for data in written.values())


def test_a_long_note_is_cut_to_what_the_service_takes() -> None:
    note = "x" * 500
    (paypal,) = files("paypal", [line(note=note)]).values()
    (wise,) = files("wise", [line(note=note)]).values()
    assert parse(paypal)[0][4] == "x" * 400
    assert parse(wise)[1][2] == "x" * 35


def test_the_hub_csv_defuses_formulas_and_quotes_every_field() -> None:
    lines = [
        line(
            reference="RH-1",
            name="=HYPERLINK(1)",
            email="a@example.com",
            amount=Decimal("5"),
            currency="EUR",
            note="+1;-2",
        )
    ]

    (data,) = files("csv", lines).values()

    assert data.startswith("\ufeff".encode())  # for Excel
    assert data.decode("utf-8-sig").splitlines()[1].startswith('"RH-1","\'=HYPERLINK(1)"')
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["reference", "name", "email", "amount", "currency", "note"],
        ["RH-1", "'=HYPERLINK(1)", "a@example.com", "5.00", "EUR", "'+1;'-2"],
    ]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"amount": Decimal("0")}, "not above zero"),
        ({"amount": Decimal("-5")}, "not above zero"),
        ({"email": ""}, "email is missing"),
        ({"email": "=cmd|'/c calc'!A1@example.com"}, "formula"),
        ({"email": "-2+3@example.com"}, "formula"),
        ({"email": "not-an-address"}, "not an email address"),
        ({"reference": "has space"}, "reference"),
        ({"reference": "x" * 31}, "reference"),
        ({"reference": ""}, "reference"),
        ({"currency": "eur"}, "ISO 4217"),
        ({"name": " "}, "name is missing"),
        ({"note": "line one\nline two"}, "control character"),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_reference(
    fields: dict[str, object], problem: str
) -> None:
    good = line(reference="ok")
    bad = line(**{"reference": "bad-one", **fields})
    for fmt in ("paypal", "wise"):
        with pytest.raises(ValueError, match=rf"Payout line 2 .*{problem}") as refused:
            files(fmt, [good, bad])
        assert repr(bad.reference) in str(refused.value)


def test_a_reference_used_twice_in_a_file_is_refused() -> None:
    for fmt in FORMATS:
        with pytest.raises(ValueError, match=r"'twice'.*used twice"):
            files(fmt, [line(reference="twice"), line(reference="twice")])


def test_an_email_starting_like_a_formula_is_refused_in_every_format() -> None:
    for fmt in FORMATS:
        with pytest.raises(ValueError, match="formula"):
            files(fmt, [line(email="=1+1@example.com")])


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown payout format 'sepa'"):
        files("sepa", [line()])


def test_one_file_is_sent_as_csv() -> None:
    response = payout_response("wise", [line(reference="r1")], label="November 2026")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="november-2026-wise-1.csv"'
    rows = parse(streamed(response))
    assert rows[0] == WISE_HEADER
    assert len(rows) == 2


def test_several_files_are_sent_as_one_zip_of_parts() -> None:
    lines = [
        *(line(reference=f"e{n}", currency="EUR") for n in range(5001)),
        line(reference="u1", email="u@example.com", currency="USD", amount=Decimal("8")),
    ]

    response = payout_response("paypal", lines, label="Nov")

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="nov-paypal.zip"'
    archive = zipfile.ZipFile(io.BytesIO(streamed(response)))
    assert archive.testzip() is None
    assert archive.namelist() == [
        "nov-paypal-EUR-1.csv",
        "nov-paypal-EUR-2.csv",
        "nov-paypal-USD-1.csv",
    ]
    parts = [parse(archive.read(name)) for name in archive.namelist()]
    assert [len(rows) for rows in parts] == [5000, 1, 1]
    assert parts[2] == [["u@example.com", "8.00", "USD", "u1", "Your referral rewards", "PAYPAL"]]


def test_a_bad_line_in_a_list_is_refused_before_anything_is_sent() -> None:
    lines = [line(reference=f"r{n}") for n in range(1500)]
    lines.append(line(reference="late", amount=Decimal("0")))

    with pytest.raises(ValueError, match="'late'"):
        payout_response("wise", lines, label="nov")


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="no lines"):
        payout_response("paypal", [], label="nov")


def test_a_zip_is_streamed_while_the_lines_are_still_being_read() -> None:
    read = 0

    def lines() -> Iterator[PayoutLine]:
        nonlocal read
        for n in range(3000):
            read += 1
            yield line(reference=f"r{n}", email=f"p{n}@example.com")

    chunks = zip_stream(payout_files("wise", lines(), label="nov"))
    next(chunks)
    assert read < 3000
    rest = b"".join(chunks)
    assert read == 3000
    assert rest
