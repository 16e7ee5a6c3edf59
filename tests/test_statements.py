"""Statement files: layout detection, amounts, skipped rows, fingerprints, OFX strict and lenient paths.

Expected totals below were added up by hand from the files in tests/data/statements, not by the parser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from ofxtools.Parser import OFXTree

from integrations.statements import (
    CsvMapping,
    LayoutError,
    MappingError,
    ParsedStatement,
    StatementError,
    parse_statement,
)
from integrations.statements.csv_reader import parse_amount

DATA = Path(__file__).parent / "data" / "statements"
D = Decimal


def parse(name: str, mapping: CsvMapping | None = None) -> ParsedStatement:
    return parse_statement((DATA / name).read_bytes(), filename=name, mapping=mapping)


# file, row count, total, per-month totals, key mapping fields (CSV), skipped (line, reason)
EXPECTED = [
    (
        "chase_checking.csv",
        12,
        D("2358.68"),
        {"2024-02": D("2245.64"), "2024-03": D("113.04")},
        {
            "date_column": "Posting Date",
            "date_format": "%m/%d/%Y",
            "description_columns": ["Description"],
            "amount_column": "Amount",
            "balance_column": "Balance",
            "sign": "signed",
            "decimal": ".",
            "delimiter": ",",
            "header_row": 0,
        },
        [],
    ),
    (
        "amex_card.csv",
        8,
        D("-1263.10"),
        {"2024-01": D("-126.36"), "2024-02": D("-1136.74")},
        {
            "date_column": "Date",
            "date_format": "%m/%d/%Y",
            "description_columns": ["Description"],
            "amount_column": "Amount",
            "sign": "inverted",
            "id_column": None,
        },
        [],
    ),
    (
        "monzo.csv",
        9,
        D("1164.46"),
        {"2024-04": D("1172.25"), "2024-05": D("-7.79")},
        {
            "encoding": "utf-8-sig",
            "date_column": "Date",
            "date_format": "%d/%m/%Y",
            "amount_column": "Amount",
            "id_column": "Transaction ID",
            "merchant_column": "Name",
            "currency_column": "Currency",
            "description_columns": ["Description"],
            "sign": "signed",
        },
        [],
    ),
    (
        "revolut.csv",
        7,
        D("24.91"),
        {"2024-05": D("8.95"), "2024-06": D("15.96")},
        {
            "date_column": "Started Date",
            "date_format": "%Y-%m-%d",
            "amount_column": "Amount",
            "status_column": "State",
            "balance_column": "Balance",
            "currency_column": "Currency",
            "fee_column": "Fee",
        },
        [(4, "status DECLINED"), (5, "status REVERTED"), (11, "status FAILED")],
    ),
    (
        "german_bank.csv",
        9,
        D("1750.80"),
        {"2024-03": D("1805.88"), "2024-04": D("-55.08")},
        {
            "encoding": "cp1252",
            "delimiter": ";",
            "header_row": 7,
            "date_column": "Buchungstag",
            "date_format": "%d.%m.%Y",
            "decimal": ",",
            "amount_column": "Betrag",
            "balance_column": "Saldo",
            "currency_column": "Währung",
            "merchant_column": "Auftraggeber/Empfänger",
            "description_columns": ["Verwendungszweck"],
        },
        [],
    ),
    (
        "credit_union_debit_credit.csv",
        9,
        D("949.03"),
        {"2024-01": D("949.03")},
        {
            "header_row": 3,
            "date_column": "Date",
            "date_format": "%m/%d/%Y",
            "amount_column": None,
            "debit_column": "Debit",
            "credit_column": "Credit",
            "balance_column": "Balance",
            "description_columns": ["Description", "Memo"],
        },
        [(15, "missing date")],
    ),
    (
        "two_coffees.csv",
        5,
        D("80.25"),
        {"2024-03": D("-19.75"), "2024-04": D("100.00")},
        {"date_column": "Date", "date_format": "%Y-%m-%d", "amount_column": "Amount", "balance_column": None},
        [],
    ),
    (
        "utf16_tab_export.csv",
        5,
        D("1444.06"),
        {"2024-01": D("1484.05"), "2024-02": D("-39.99")},
        {
            "encoding": "utf-16",
            "delimiter": "\t",
            "date_column": "Date",
            "amount_column": "Amount",
            "merchant_column": "Payee",
            "description_columns": ["Payee"],
        },
        [],
    ),
    ("checking.ofx", 6, D("1154.07"), {"2024-03": D("1152.84"), "2024-04": D("1.23")}, None, []),
    ("card.qfx", 6, D("399.49"), {"2024-01": D("286.24"), "2024-02": D("113.25")}, None, []),
    (
        "broken.ofx",
        4,
        D("1977.01"),
        {"2024-01": D("2054.10"), "2024-02": D("-77.09")},
        None,
        [(40, "unreadable date '2024-02-3X'")],
    ),
]


@pytest.mark.parametrize(("name", "count", "total", "months", "layout", "skipped"), EXPECTED, ids=lambda v: v)
def test_statement_files(name, count, total, months, layout, skipped):
    statement = parse(name)
    assert len(statement.rows) == count
    assert statement.total() == total
    assert statement.by_month() == months
    assert all(isinstance(row.amount, Decimal) and type(row.date) is dt.date for row in statement.rows)
    if layout is None:
        assert statement.format == "ofx"
        assert statement.mapping is None
    else:
        assert statement.format == "csv"
        assert statement.mapping is not None
        got = statement.mapping.to_dict()
        assert {key: got[key] for key in layout} == layout
    assert [(s.line, s.reason) for s in statement.skipped] == skipped
    assert statement.statement_fingerprint == hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    json.dumps(statement.to_dict())  # the preview is JSON-ready


def test_fingerprints_are_stable_across_parses():
    for name, *_ in EXPECTED:
        first = [row.fingerprint for row in parse(name).rows]
        second = [row.fingerprint for row in parse(name).rows]
        assert first == second
        assert len(set(first)) == len(first), name  # no two rows of one file collapse


def test_two_identical_coffees_stay_two_rows():
    rows = parse("two_coffees.csv").rows
    first, second = rows[0].fingerprint, rows[1].fingerprint
    assert (rows[0].date, rows[0].amount, rows[0].description) == (rows[1].date, rows[1].amount, rows[1].description)
    assert first != second
    assert first.startswith("h:") and first.endswith("#0") and second.endswith("#1")
    assert first.split("#")[0] == second.split("#")[0]
    assert rows[2].fingerprint.endswith("#0")  # same day and text, other amount: other content


def test_overlapping_statement_shares_first_occurrence():
    # The documented trade-off: a later file with one of the coffees (CRLF, other period) matches the first coffee.
    [single] = parse("one_coffee.csv").rows
    assert single.fingerprint == parse("two_coffees.csv").rows[0].fingerprint


def test_chase_rows():
    statement = parse("chase_checking.csv")
    first = statement.rows[0]
    assert first.line == 2
    assert (first.date, first.amount, first.balance) == (dt.date(2024, 3, 28), D("-61.07"), D("3858.68"))
    assert first.description == "TRADER JOE S #552 QPS SAN FRANCISCO CA 03/27"
    assert first.raw["Details"] == "DEBIT"
    assert first.raw["Type"] == "DEBIT_CARD"
    check = next(row for row in statement.rows if row.raw["Check or Slip #"])
    assert (check.amount, check.raw["Check or Slip #"]) == (D("-850.00"), "1042")
    assert statement.currency == ""
    assert statement.account_hint is None


def test_amex_detected_inverted_and_multiline_fields_kept():
    statement = parse("amex_card.csv")
    assert any("card statement" in w for w in statement.warnings)
    amazon, coffee = statement.rows[0], statement.rows[1]
    assert amazon.amount == D("-1249.99")  # "1,249.99" quoted, a charge
    assert amazon.raw["Extended Details"] == "MKTPLACE PMTS 2X7YQ41K0\nAMZN.COM/BILL\nWA"
    assert amazon.raw["Address"] == "410 TERRY AVE N\n"
    assert (amazon.line, coffee.line) == (2, 6)  # the first record spans lines 2-5
    payment = next(row for row in statement.rows if "AUTOPAY" in row.description)
    assert payment.amount == D("412.30")  # a payment to the card is money in for the card account


def test_amex_user_corrected_sign_flips_totals():
    detected = parse("amex_card.csv").mapping
    assert detected is not None
    corrected = CsvMapping.from_dict({**detected.to_dict(), "sign": "signed"})
    statement = parse("amex_card.csv", mapping=corrected)
    assert statement.total() == D("1263.10")
    assert statement.by_month() == {"2024-01": D("126.36"), "2024-02": D("1136.74")}
    assert statement.warnings == []
    assert statement.mapping is corrected


def test_monzo_ids_and_currency():
    statement = parse("monzo.csv")
    assert statement.currency == "GBP"
    first = statement.rows[0]
    assert first.external_id == "tx_0000AhN3kWb5Xq1ZpL2b01"
    assert first.fingerprint == "id:tx_0000AhN3kWb5Xq1ZpL2b01"
    assert (first.merchant, first.description) == ("Pret A Manger", "PRET A MANGER LONDON GBR")
    assert first.date == dt.date(2024, 4, 1)
    refund = statement.rows[5]
    assert refund.raw["Notes and #tags"] == "Refund, returned headphones"
    assert statement.rows[-1].merchant == "Caffè Nero"
    assert statement.rows[-1].raw["Local amount"] == "-4.00"


def test_revolut_states_fees_and_pending():
    statement = parse("revolut.csv")
    assert statement.currency == "EUR"
    by_text = {row.description: row for row in statement.rows}
    assert by_text["Lidl"].pending is True
    assert by_text["Lidl"].balance is None
    assert not by_text["Tesco"].pending
    assert by_text["Exchanged to USD"].amount == D("-100.50")  # amount -100.00 and a 0.50 fee
    assert by_text["Tesco"].date == dt.date(2024, 5, 2)  # started date, time of day dropped
    assert statement.skipped[0].raw["Description"] == "Uber"


def test_german_bank_cp1252_preamble_and_decimal_comma():
    statement = parse("german_bank.csv")
    assert statement.currency == "EUR"
    first, rent, bakery = statement.rows[:3]
    assert first.line == 9
    assert (first.amount, first.balance) == (D("3250.00"), D("4250.00"))
    assert (rent.amount, rent.merchant) == (D("-1150.00"), "Hausverwaltung Müller")
    assert bakery.description == "Bäckerei Schäfer, Köln"
    assert statement.rows[5].description == "Fahrkarte Köln\u2013München"
    assert statement.rows[6].raw["Buchungstext"] == "Überweisung"


def test_credit_union_debit_credit_conventions():
    statement = parse("credit_union_debit_credit.csv")
    amounts = [row.amount for row in statement.rows]
    # ($29.44), - $30.00, credit $1,812.34, bare $112.18 debit, -$250.00, ($61.05), ($400.00), $18.99, $0.37
    assert amounts == [
        D("-29.44"),
        D("-30.00"),
        D("1812.34"),
        D("-112.18"),
        D("-250.00"),
        D("-61.05"),
        D("-400.00"),
        D("18.99"),
        D("0.37"),
    ]
    assert statement.rows[0].description == "POS PURCHASE KROGER #123 COLUMBUS OH"
    assert statement.rows[0].balance == D("1970.56")
    assert statement.rows[6].description == "CHECK 2211"
    assert statement.skipped[0].raw["Description"] == "Totals"


def test_utf16_file():
    statement = parse("utf16_tab_export.csv")
    assert [row.description for row in statement.rows][2:] == [
        "Salary — Ünïcode Ltd",
        "München Hbf Kiosk",
        "Florist “Rosé”",
    ]
    assert statement.rows[0].merchant == "Café Olé"


# --- OFX -------------------------------------------------------------------------------------------------------


def test_ofx_strict_path():
    statement = parse("checking.ofx")
    assert not any(w.startswith("parsed leniently") for w in statement.warnings)
    assert statement.account_hint == "****7890"
    assert statement.currency == "USD"
    assert statement.closing_balance == D("3421.50")
    first = statement.rows[0]
    assert (first.fingerprint, first.external_id) == ("id:202403020001", "202403020001")
    assert first.description == "SAFEWAY #1234 POS PURCHASE"  # MEMO appended
    assert first.merchant == "SAFEWAY #1234"
    assert first.line == 39
    assert first.raw["TRNTYPE"] == "DEBIT"
    att = statement.rows[3]
    assert att.description == "AT&T WIRELESS"  # entity decoded, MEMO equal to NAME not repeated
    interest = statement.rows[-1]
    assert interest.date == dt.date(2024, 4, 1)  # the bank's date, not the UTC instant (31 March 22:00)
    assert [row.fingerprint for row in statement.rows] == [f"id:{row.raw['FITID']}" for row in statement.rows]


def test_qfx_xml_credit_card():
    statement = parse("card.qfx")
    assert statement.account_hint == "****1111"
    assert statement.closing_balance == D("-1234.56")
    assert statement.rows[0].fingerprint == "id:2024010324692160002200031"
    assert statement.rows[0].description == "UBER *TRIP HELP.UBER.COM CA"
    assert statement.rows[2].amount == D("412.30")


def test_broken_ofx_is_refused_by_ofxtools_and_read_leniently():
    data = (DATA / "broken.ofx").read_bytes()
    with pytest.raises(Exception):  # noqa: B017 - whatever ofxtools raises, the strict path fails
        tree = OFXTree()
        tree.parse(BytesIO(data))
        tree.convert()
    statement = parse_statement(data, filename="broken.ofx")
    assert statement.warnings[0].startswith("parsed leniently: ")
    assert statement.account_hint == "****3000"
    assert statement.currency == "EUR"
    assert statement.closing_balance == D("3977.01")
    assert [row.fingerprint for row in statement.rows] == ["id:BRK-0001", "id:BRK-0002", "id:BRK-0003", "id:BRK-0004"]
    assert statement.rows[0].amount == D("-45.90")
    assert statement.rows[0].description == "Stadtwerke München Abschlag Januar"
    assert statement.rows[3].description == "EDEKA Markt & Co Kartenzahlung"
    [skipped] = statement.skipped
    assert skipped.reason == "unreadable date '2024-02-3X'"
    assert skipped.raw["FITID"] == "BRK-0005"


def test_ofx_detected_by_content_and_mapping_ignored():
    data = (DATA / "checking.ofx").read_bytes()
    mapping = CsvMapping(date_column="Date", amount_column="Amount")
    statement = parse_statement(data, filename="download.txt", mapping=mapping)
    assert statement.format == "ofx"
    assert "mapping was ignored" in statement.warnings[0]


def test_unreadable_ofx_is_a_statement_error():
    with pytest.raises(StatementError, match="OFX"):
        parse_statement(b"this is not an ofx file at all", filename="statement.ofx")


# --- mappings -------------------------------------------------------------------------------------------------


def test_mapping_round_trip():
    mapping = parse("german_bank.csv").mapping
    assert mapping is not None
    data = json.loads(json.dumps(mapping.to_dict()))
    assert CsvMapping.from_dict(data) == mapping
    statement = parse("german_bank.csv", mapping=CsvMapping.from_dict(data))
    assert statement.total() == D("1750.80")


def test_mapping_with_unknown_column_is_a_mapping_error():
    mapping = parse("chase_checking.csv").mapping
    assert mapping is not None
    bad = {**mapping.to_dict(), "balance_column": "Running Total"}
    with pytest.raises(MappingError) as caught:
        CsvMapping.from_dict(bad, columns=["Details", "Posting Date", "Description", "Amount"])
    assert caught.value.field == "balance_column"
    with pytest.raises(MappingError) as caught:
        parse("chase_checking.csv", mapping=CsvMapping.from_dict(bad))
    assert caught.value.field == "balance_column"
    assert "Running Total" in caught.value.message
    assert "'Posting Date'" in caught.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sign": "backwards"}, "sign"),
        ({"decimal": "'"}, "decimal"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"header_row": -1}, "header_row"),
        ({"header_row": "2"}, "header_row"),
        ({"encoding": "klingon-8"}, "encoding"),
        ({"date_format": "sometime"}, "date_format"),
        ({"date_format": "%d/%m"}, "date_format"),
        ({"date_column": ""}, "date_column"),
        ({"debit_column": "Debit"}, "amount_column"),
        ({"amount_column": None}, "amount_column"),
        ({"description_columns": "Description"}, None),  # a single name is accepted
        ({"description_columns": [1]}, "description_columns"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_mapping_validation(change, field):
    base = {"date_column": "Date", "amount_column": "Amount", "description_columns": ["Description"]}
    if field is None:
        assert CsvMapping.from_dict({**base, **change}).description_columns == ["Description"]
        return
    with pytest.raises(MappingError) as caught:
        CsvMapping.from_dict({**base, **change})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_named_date_format_and_header_row_override():
    data = (DATA / "credit_union_debit_credit.csv").read_bytes()
    mapping = CsvMapping.from_dict(
        {
            "header_row": 3,
            "date_column": "Date",
            "date_format": "us",
            "description_columns": ["Memo"],
            "debit_column": "Debit",
            "credit_column": "Credit",
        }
    )
    statement = parse_statement(data, mapping=mapping)
    assert statement.total() == D("949.03")
    assert statement.rows[0].description == "KROGER #123 COLUMBUS OH"
    assert statement.rows[0].balance is None  # no balance column mapped


def test_wrong_encoding_in_mapping():
    mapping = CsvMapping(date_column="Date", amount_column="Amount", encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        parse("utf16_tab_export.csv", mapping=mapping)
    assert caught.value.field == "encoding"


# --- detection and errors -------------------------------------------------------------------------------------


def test_no_amount_column_is_a_layout_error():
    data = b"Date,Description,Category\n2024-01-02,Coffee,Food\n2024-01-03,Tea,Food\n"
    with pytest.raises(LayoutError, match="amount") as caught:
        parse_statement(data, filename="x.csv")
    assert "'Description'" in caught.value.message


def test_no_header_is_a_layout_error():
    with pytest.raises(LayoutError, match="no header row"):
        parse_statement(b"just some text\nwith lines\n")


def test_empty_file():
    with pytest.raises(StatementError, match="empty"):
        parse_statement(b"  \n")


def test_garbage_bytes_raise_our_errors_only():
    rng = random.Random(20240501)
    samples = [p.read_bytes() for p in sorted(DATA.iterdir()) if p.is_file()]
    for n in range(400):
        if n % 3 == 0:
            data = rng.randbytes(rng.randint(1, 2000))
        else:
            data = bytearray(rng.choice(samples))
            for _ in range(rng.randint(1, 12)):
                i = rng.randrange(len(data))
                data[i:i] = rng.choice(
                    [b'"', b",", b";", b"\n", b"\r", b"<", b"(", b"-", b"\x00", b"<STMTTRN>", b"\xff"]
                )
            data = bytes(data[: rng.randint(1, len(data))])
        try:
            parse_statement(data, filename=rng.choice(["", "x.csv", "x.ofx"]))
        except StatementError as exc:
            assert exc.message
            assert "Traceback" not in exc.message
    with pytest.raises(StatementError, match="binary"):
        parse_statement(bytes(range(256)) * 4)


def test_ambiguous_dates_month_first_for_slash_with_warning():
    statement = parse_statement(b"Date,Description,Amount\n02/01/2024,a,-1.00\n05/01/2024,b,-2.00\n")
    assert statement.mapping is not None and statement.mapping.date_format == "%m/%d/%Y"
    assert [row.date for row in statement.rows] == [dt.date(2024, 2, 1), dt.date(2024, 5, 1)]
    assert any("%d/%m/%Y" in w for w in statement.warnings)


def test_day_over_twelve_anywhere_settles_the_format():
    lines = ["Date,Description,Amount"] + [f"0{m}/01/2024,x{m},-1.00" for m in range(1, 10)] * 10
    lines.append("25/12/2024,late,-1.00")  # only the last of 91 rows says day-first
    statement = parse_statement("\n".join(lines).encode())
    assert statement.mapping is not None and statement.mapping.date_format == "%d/%m/%Y"
    assert statement.warnings == []
    assert statement.rows[0].date == dt.date(2024, 1, 1)


def test_ambiguous_dotted_dates_are_day_first():
    statement = parse_statement(b"Datum;Text;Betrag\n02.01.2024;a;-1,50\n05.01.2024;b;-2\n")
    assert statement.mapping is not None
    assert (statement.mapping.date_format, statement.mapping.decimal) == ("%d.%m.%Y", ",")
    assert [(row.date, row.amount) for row in statement.rows] == [
        (dt.date(2024, 1, 2), D("-1.50")),
        (dt.date(2024, 1, 5), D("-2")),
    ]


def test_status_column_skips_and_flags():
    data = (
        b"Date,Description,Amount,Status\n"
        b"2024-01-02,Coffee,-3.00,Posted\n"
        b"2024-01-02,Refund,5.00,Cancelled\n"
        b"2024-01-03,Lunch,-12.00,Pending\n"
        b"2024-01-04,Rent,-900.00,Issued\n"
        b"2024-01-05,Card,-9.00,Declined\n"
        b",,,\n"
        b"2024-01-06,Taxi,abc,Posted\n"
        b"2024-13-45,Bad date,-1.00,Posted\n"
    )
    statement = parse_statement(data)
    assert [row.description for row in statement.rows] == ["Coffee", "Lunch", "Rent"]
    assert [row.pending for row in statement.rows] == [False, True, False]
    assert [(s.line, s.reason) for s in statement.skipped] == [
        (3, "status Cancelled"),
        (6, "status Declined"),
        (8, "unreadable amount 'abc'"),
        (9, "unreadable date '2024-13-45' (expected %Y-%m-%d)"),
    ]
    assert statement.total() == D("-915.00")


def test_repeated_bank_id_is_not_trusted():
    data = b"Date,Description,Amount,Transaction ID\n2024-01-02,A,-1.00,X1\n2024-01-03,B,-2.00,X1\n2024-01-04,C,-3,X2\n"
    statement = parse_statement(data)
    prints = [row.fingerprint for row in statement.rows]
    assert prints[0].startswith("h:") and prints[1].startswith("h:") and prints[0] != prints[1]
    assert prints[2] == "id:X2"
    assert any("X1" in w for w in statement.warnings)


def test_cp1252_and_latin1_fallbacks():
    text = "Date,Description,Amount\n2024-01-02,Café “Zur Post”,-3.50\n"
    mapping = parse_statement(text.encode("cp1252")).mapping
    assert mapping is not None and mapping.encoding == "cp1252"
    raw = b"Date,Description,Amount\n2024-01-02,Caf\xe9 \x81,-3.50\n"  # 0x81 is not cp1252
    statement = parse_statement(raw)
    assert statement.mapping is not None and statement.mapping.encoding == "latin-1"
    assert statement.rows[0].description == "Café \x81"


@pytest.mark.parametrize(
    ("cell", "decimal", "expected"),
    [
        ("-4.50", ".", D("-4.50")),
        ("($29.44)", ".", D("-29.44")),
        ("(29.44)", ".", D("-29.44")),
        ("- $30.00", ".", D("-30.00")),
        ("-$30.00", ".", D("-30.00")),
        ("$-30.00", ".", D("-30.00")),
        ("$1,234.56", ".", D("1234.56")),
        ("1.234,56", ",", D("1234.56")),
        ("-1.234,56", ",", D("-1234.56")),
        ("1 234,56 €", ",", D("1234.56")),
        ("30.00-", ".", D("-30.00")),
        ("30.00 CR", ".", D("30.00")),
        ("30.00DR", ".", D("-30.00")),
        ("+12.00", ".", D("12.00")),
        ("\u22127.50", ".", D("-7.50")),  # a minus sign, not a hyphen
        ("EUR 5,00", ",", D("5.00")),
        ("1'234.50", ".", D("1234.50")),
        ("", ".", None),
        ("  ", ".", None),
        ("-", ".", None),
    ],
)
def test_parse_amount(cell, decimal, expected):
    assert parse_amount(cell, decimal) == expected


@pytest.mark.parametrize(
    ("cell", "decimal"), [("abc", "."), ("12,50", "."), ("1.2.3", ","), ("N/A", "."), ("1e5", "."), ("12.00 abc", ".")]
)
def test_parse_amount_refuses(cell, decimal):
    with pytest.raises(ValueError):
        parse_amount(cell, decimal)


def test_ten_thousand_rows_parse_with_distinct_fingerprints():
    # How fast is bench's business (python -m bench.money import), not a test's: only the result is checked here.
    rng = random.Random(1)
    lines = ["Posting Date,Description,Amount,Balance,Status"]
    for i in range(10_000):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=i // 10)
        amount = rng.randint(-99999, 99999) / 100
        lines.append(f'{day:%m/%d/%Y},"SHOP {i % 37}",{amount:.2f},"{rng.randint(0, 10**7) / 100:,.2f}",Posted')
    data = "\n".join(lines).encode()
    statement = parse_statement(data)
    assert len(statement.rows) == 10_000
    assert len({row.fingerprint for row in statement.rows}) == 10_000


def test_pending_column_and_utf16_without_bom():
    text = "Date\tDescription\tAmount\tPending\n2024-01-02\tCoffee\t-3.00\tfalse\n2024-01-03\tTea\t-2.00\ttrue\n"
    statement = parse_statement(text.encode("utf-16-le"))
    assert statement.mapping is not None
    assert (statement.mapping.encoding, statement.mapping.pending_column) == ("utf-16-le", "Pending")
    assert [row.pending for row in statement.rows] == [False, True]


def test_unclosed_quote_is_reported():
    lines = ["Date,Description,Amount", '2024-01-02,"Coffee,-3.00']
    lines += [f"2024-01-{day:02d},Row {day},-1.00" for day in range(3, 28)]
    statement = parse_statement("\n".join(lines).encode())
    assert statement.rows == []
    assert [s.reason for s in statement.skipped] == ["missing amount"]
    assert any("unclosed quote" in w for w in statement.warnings)
