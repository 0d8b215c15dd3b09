"""Payout files: the lines of a payout batch written as PayPal, Wise or the hub's own CSV.

- Each format has a row limit and, for PayPal, one currency per file: the lines (sorted by
  currency) are cut into parts as they stream past, and every part is one file.
- One file is sent as CSV; several are sent as one ZIP, written to an unseekable stream part by
  part, so memory holds one part's buffer whatever the batch's size.
- Every line is checked before it is written, and a bad one is a `ValueError` naming it.
  `payout_response` checks a re-iterable batch in full before sending its first byte.
- PayPal and Wise files go to a payment service, not a spreadsheet: their values are written as
  they are, and a line that a spreadsheet would run as a formula is refused, never altered. The
  hub's CSV is opened in spreadsheets, so its cells are defused instead (`cell`).
"""

from __future__ import annotations

import csv
import functools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, groupby
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import StreamingHttpResponse
from django.utils.text import slugify

# A byte order mark first: without it Excel, where payouts are mostly read, takes the file for
# the local code page and garbles every name that is not ASCII.
BOM: Final = "\ufeff"
# Every field of the spreadsheet CSV is quoted, so that a separator inside one (a `;` in a name,
# Excel's separator in many locales) cannot start a new cell.
QUOTING: Final = csv.QUOTE_ALL
# A cell starting with one of these is a formula in spreadsheet programs: names and emails come
# from the providers, so they are defused with a leading apostrophe, at the start of the cell and
# after any character a spreadsheet may split cells or lines on (`R1;=1+1;` opened with `;` as
# the separator is three cells, the second a formula).
FORMULA = re.compile(r"(^|[,;|\t\r\n])(?=[=+\-@\t\r])")
FORMULA_START: Final = ("=", "+", "-", "@")
REFERENCE = re.compile(r"\S{1,30}")
CURRENCY = re.compile(r"[A-Z]{3}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The decimals of an ISO 4217 currency's minor unit, where it is not 2.
MINOR_UNITS: Final = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"), 0
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}
# PayPal's currency codes page: these take no decimals at PayPal, though ISO gives them two.
PAYPAL_MINOR_UNITS: Final = {**MINOR_UNITS, "HUF": 0, "TWD": 0}
CHUNK_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class PayoutLine:
    reference: str  # the hub's id for the line: unique in the batch, ≤30 chars, no spaces
    name: str
    email: str
    amount: Decimal
    currency: str  # ISO 4217, upper case
    note: str  # shown to the recipient


class UniqueReferences(Iterable[PayoutLine]):
    """Lines whose references are unique by construction (a database constraint says so): the
    files do not collect them to look for a second use, which in a file without a row limit
    (the hub's CSV) would hold every reference of the batch in memory at once."""


@dataclass(frozen=True)
class PayoutFormat:
    label: str
    extension: str
    row_limit: int | None  # rows per file, header not counted
    one_currency_per_file: bool
    header: tuple[str, ...] | None
    row: Callable[[PayoutLine], list[str]]
    # Written before the first row: the byte order mark for spreadsheets, nothing for services.
    preamble: str
    quoting: Literal[0, 1, 2, 3]  # csv.QUOTE_*
    # Whether values go as they are (for a payment service, which a defused value would mislead).
    for_service: bool


class _Echo:
    """csv.writer writes into this and gets the line back, to stream it."""

    def write(self, value: str) -> str:
        return value


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return FORMULA.sub(_defused, text)


def _defused(match: re.Match[str]) -> str:
    # A function rather than the template r"\1'": re parses a template on every call, and the
    # hub's CSV defuses every cell of every line.
    return match.group(1) + "'"


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The lines of a CSV file for spreadsheets: a byte order mark, then every field quoted.

    Cells are written as given: pass what comes from outside through `cell` first.
    """
    writer = csv.writer(_Echo(), quoting=QUOTING)
    return chain([BOM], (writer.writerow(row) for row in rows))


def format_amount(amount: Decimal, currency: str, minor_units: dict[str, int]) -> str:
    """`amount` with the currency's decimals and a dot (100.50 EUR, 1000 JPY).

    An amount finer than the currency's smallest unit is refused rather than rounded: rounding
    would pay someone a different sum from the one approved.
    """
    decimals = minor_units.get(currency, 2)
    exact = amount.quantize(Decimal(1).scaleb(-decimals))
    if exact != amount:
        raise ValueError(f"{amount} {currency} has more than {decimals} decimals")
    return f"{exact:f}"


def _paypal_row(line: PayoutLine) -> list[str]:
    return [
        line.email,
        format_amount(line.amount, line.currency, PAYPAL_MINOR_UNITS),
        line.currency,
        line.reference,
        # PayPal refuses a note over 400 characters. The note is the hub's own text, so it is cut
        # rather than failing the batch.
        line.note[:400],
        "PAYPAL",
    ]


def _wise_row(line: PayoutLine) -> list[str]:
    return [
        line.name,
        line.email,
        # What the recipient sees on their statement. Wise's limit depends on the currency route;
        # 35 characters is the common one (SWIFT's remittance line), so a longer note is cut.
        line.note[:35],
        "PERSON",
        # The recipient gets the exact amount approved; the fees are the sender's.
        "target",
        format_amount(line.amount, line.currency, MINOR_UNITS),
        line.currency,
        line.currency,
    ]


def _spreadsheet_row(line: PayoutLine) -> list[str]:
    return [
        cell(line.reference),
        cell(line.name),
        cell(line.email),
        format_amount(line.amount, line.currency, MINOR_UNITS),
        cell(line.currency),
        cell(line.note),
    ]


FORMATS: Final[dict[str, PayoutFormat]] = {
    # PayPal's "Use Web UI" page of the Payouts documentation (developer.paypal.com, Payouts,
    # Send money, Use Web UI): no header row; one payment per row: recipient, amount, currency,
    # customer id (up to 30 characters, no spaces), note to recipient (up to 400 characters),
    # recipient wallet; one currency per file; at most 5,000 rows. UTF-8 (PayPal's file
    # validation errors: ENCODING_ERROR), and no byte order mark, which would become part of the
    # first recipient's email in a file without a header.
    "paypal": PayoutFormat(
        label="PayPal Payouts (web upload)",
        extension="csv",
        row_limit=5000,
        one_currency_per_file=True,
        header=None,
        row=_paypal_row,
        preamble="",
        quoting=csv.QUOTE_MINIMAL,
        for_service=True,
    ),
    # Wise's help pages "What's a batch payment template?" and "How do I fill in my batch
    # template?": the "Send by email" template, its header row as in the template, at most 1,000
    # transfers per file. Wise reads the columns by their header; a file may hold several
    # currencies.
    "wise": PayoutFormat(
        label="Wise batch payment (by email)",
        extension="csv",
        row_limit=1000,
        one_currency_per_file=False,
        header=(
            "name",
            "recipientEmail",
            "paymentReference",
            "receiverType",
            "amountCurrency",
            "amount",
            "sourceCurrency",
            "targetCurrency",
        ),
        row=_wise_row,
        preamble="",
        quoting=csv.QUOTE_MINIMAL,
        for_service=True,
    ),
    "csv": PayoutFormat(
        label="CSV (spreadsheet)",
        extension="csv",
        row_limit=None,
        one_currency_per_file=False,
        header=("reference", "name", "email", "amount", "currency", "note"),
        row=_spreadsheet_row,
        preamble=BOM,
        quoting=QUOTING,
        for_service=False,
    ),
}


def _payout_format(fmt: str) -> PayoutFormat:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"Unknown payout format {fmt!r}: one of {', '.join(FORMATS)}") from None


# A promoter's rewards share one address, and every line is checked twice (before the first
# byte, then as it is written): Django's validator is the slowest step of a large file, so its
# answers are remembered, for a bounded number of addresses.
@functools.lru_cache(maxsize=4096)
def _is_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _problem(line: PayoutLine, payout_format: PayoutFormat) -> str | None:
    """What is wrong with `line` for `payout_format`, or None."""
    if not REFERENCE.fullmatch(line.reference):
        return "the reference must be 1 to 30 characters without spaces"
    if not CURRENCY.fullmatch(line.currency):
        return f"the currency {line.currency!r} is not an upper-case ISO 4217 code"
    if not line.amount.is_finite() or line.amount <= 0:
        return f"the amount {line.amount} is not above zero"
    if not line.email:
        return "the email is missing"
    if line.email.startswith(FORMULA_START):
        return f"the email {line.email!r} starts with {line.email[0]!r}, a spreadsheet formula"
    if not _is_email(line.email):
        return f"the email {line.email!r} is not an email address"
    if payout_format.for_service and not line.name.strip():
        return "the name is missing"
    if payout_format.for_service and any(CONTROL.search(text) for text in (line.name, line.note)):
        return "the name or the note holds a line break or another control character"
    try:
        payout_format.row(line)
    except ValueError as error:
        return str(error)
    return None


def _checked(payout_format: PayoutFormat, lines: Iterable[PayoutLine]) -> Iterator[PayoutLine]:
    for number, line in enumerate(lines, start=1):
        problem = _problem(line, payout_format)
        if problem:
            raise ValueError(f"Payout line {number} ({line.reference!r}): {problem}.")
        yield line


def _parts(
    payout_format: PayoutFormat, lines: Iterable[PayoutLine]
) -> Iterator[tuple[str, Iterator[PayoutLine]]]:
    """The lines cut into files: (the file's currency or "", its lines), lazily, in order."""
    part = 0
    rows = 0
    current: str | None = None
    finished: set[str] = set()
    references: set[str] = set()
    track_references = not isinstance(lines, UniqueReferences)

    def part_of(line: PayoutLine) -> tuple[int, str]:
        nonlocal part, rows, current
        key = line.currency if payout_format.one_currency_per_file else ""
        if key != current or rows == payout_format.row_limit:
            if key != current and key in finished:
                raise ValueError(
                    f"Payout line {line.reference!r}: the lines are not sorted by currency "
                    f"({key} comes again after {current})."
                )
            if current is not None:
                finished.add(current)
            part, rows, current = part + 1, 0, key
            references.clear()
        if track_references:
            if line.reference in references:
                raise ValueError(f"Payout line {line.reference!r}: the reference is used twice.")
            references.add(line.reference)
        rows += 1
        return part, key

    for (_, currency), group in groupby(_checked(payout_format, lines), key=part_of):
        yield currency, group


def _file_bytes(payout_format: PayoutFormat, lines: Iterable[PayoutLine]) -> Iterator[bytes]:
    """One file's bytes, in chunks of about CHUNK_BYTES."""
    writer = csv.writer(_Echo(), quoting=payout_format.quoting)
    header = [writer.writerow(payout_format.header)] if payout_format.header else []
    buffer: list[str] = [payout_format.preamble, *header]
    size = sum(map(len, buffer))
    for line in lines:
        text = writer.writerow(payout_format.row(line))
        buffer.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _file_name(label: str, fmt: str, currency: str, number: int | None, extension: str) -> str:
    parts = [slugify(label) or "payouts", fmt, currency, str(number) if number else ""]
    return "-".join(part for part in parts if part) + "." + extension


def payout_files(
    fmt: str, lines: Iterable[PayoutLine], *, label: str = "payouts"
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The files of a batch, lazily: (file name, its bytes). Read each file before the next.

    Files are numbered per currency (`november-paypal-EUR-2.csv`), or per batch for a format that
    mixes currencies (`november-wise-2.csv`).
    """
    payout_format = _payout_format(fmt)
    numbers: dict[str, int] = {}
    for currency, part_lines in _parts(payout_format, lines):
        numbers[currency] = numbers.get(currency, 0) + 1
        name = _file_name(label, fmt, currency, numbers[currency], payout_format.extension)
        yield name, _file_bytes(payout_format, part_lines)


class _Sink:
    """An unseekable file for zipfile: what is written is held until it is drained."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(files: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A ZIP of `files`, as it is written: sizes go after each entry (data descriptors)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in files:
            with archive.open(name, mode="w") as entry:
                for chunk in chunks:
                    entry.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    yield sink.drain()


def _first_files(
    files: Iterator[tuple[str, Iterator[bytes]]],
) -> tuple[list[tuple[str, Iterable[bytes]]], bool]:
    """The first file read in full, then the second one (still lazy) if there is one.

    A part is at most a row limit long, so this holds at most one part in memory.
    """
    first = next(files, None)
    if first is None:
        return [], False
    name, chunks = first
    read: list[tuple[str, Iterable[bytes]]] = [(name, list(chunks))]
    second = next(files, None)
    if second is None:
        return read, False
    return [*read, second], True


def _check(fmt: str, lines: Iterable[PayoutLine]) -> None:
    """Every line checked and split as for writing, nothing written."""
    for _, part_lines in _parts(_payout_format(fmt), lines):
        for _ in part_lines:
            pass


def payout_response(fmt: str, lines: Iterable[PayoutLine], *, label: str) -> StreamingHttpResponse:
    """The batch as a download: one CSV file, or a ZIP of several.

    A batch that can be read twice (a list, a queryset) is checked in full first, so a bad line
    is a ValueError here rather than a download cut short. A one-shot iterator is checked as it
    is written (for PayPal and Wise, its first file before the response is returned).
    """
    payout_format = _payout_format(fmt)
    if iter(lines) is not lines:
        _check(fmt, lines)
    files = payout_files(fmt, lines, label=label)
    if payout_format.row_limit is None and not payout_format.one_currency_per_file:
        # Always one file: streamed from the start, without reading a part ahead.
        only = next(files, None)
        read: list[tuple[str, Iterable[bytes]]] = [only] if only else []
        several = False
    else:
        read, several = _first_files(files)
    if not read:
        raise ValueError("The payout batch has no lines.")
    if several:
        chained = chain(read, files)
        response = StreamingHttpResponse(zip_stream(chained), content_type="application/zip")
        name = _file_name(label, fmt, "", None, "zip")
    else:
        ((name, chunks),) = read
        response = StreamingHttpResponse(
            iter(chunks), content_type=f"text/{payout_format.extension}; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
