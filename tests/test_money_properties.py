"""Properties of statement parsing and storing, over generated inputs (hypothesis).

- Amount cells: every rendering the CSV reader documents (integrations/statements/csv_reader.parse_amount and
  docs/imports.md: plain signed, thousands separators, "($29.44)", "- $30.00", "-$30.00", a decimal comma
  "1.234,56", a trailing minus "30.00-", "CR"/"DR" suffixes, currency symbols and codes, no-break spaces as
  grouping, the minus sign U+2212) reads back to the value it renders; also through a whole CSV file, in a signed
  amount column and in debit/credit columns.
- Importing a file twice stores what importing it once stores, and identical rows inside one file are all kept.
- Fingerprints: parsing twice gives the same ones, no two rows of one file share one, and the order of the rows
  does not change the set.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from backend.models import BankAccount, Transaction
from backend.services import money_ingest
from backend.services.imports import stored_fingerprint
from integrations.statements import CsvMapping, parse_statement
from integrations.statements.csv_reader import parse_amount

CENT = Decimal("0.01")
MONEY = st.decimals(
    min_value=Decimal("-999999999.99"),
    max_value=Decimal("999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
).map(lambda d: d.quantize(CENT))


# --- amount renderings ----------------------------------------------------------------------------------------------


def _grouped(size: Decimal) -> str:
    return f"{size:,.2f}"  # 1,234,567.89


def _european(size: Decimal) -> str:
    return _grouped(size).replace(",", "_").replace(".", ",").replace("_", ".")  # 1.234.567,89


def _minus(negative: bool) -> str:
    return "-" if negative else ""


# name -> (decimal separator, render(value) -> cell)
RENDERINGS: dict[str, tuple[str, Callable[[Decimal], str]]] = {
    "plain": (".", lambda v: format(v, "f")),
    "grouped": (".", lambda v: _minus(v < 0) + _grouped(abs(v))),
    "parentheses": (".", lambda v: f"({_grouped(abs(v))})" if v < 0 else _grouped(v)),
    "dollar parentheses": (".", lambda v: f"(${_grouped(abs(v))})" if v < 0 else f"${_grouped(v)}"),
    "minus space dollar": (".", lambda v: f"- ${_grouped(abs(v))}" if v < 0 else f"${_grouped(v)}"),
    "minus dollar": (".", lambda v: f"-${_grouped(abs(v))}" if v < 0 else f"${_grouped(v)}"),
    "trailing minus": (".", lambda v: format(abs(v), "f") + _minus(v < 0)),
    "grouped trailing minus": (".", lambda v: _grouped(abs(v)) + _minus(v < 0)),
    "cr dr": (".", lambda v: f"{_grouped(abs(v))} {'DR' if v < 0 else 'CR'}"),
    "iso code": (".", lambda v: f"{_minus(v < 0)}{_grouped(abs(v))} USD"),
    "minus sign": (".", lambda v: ("\u2212" if v < 0 else "") + _grouped(abs(v))),
    "european": (",", lambda v: _minus(v < 0) + _european(abs(v))),
    "european plain": (",", lambda v: format(v, "f").replace(".", ",")),
    "european trailing minus": (",", lambda v: _european(abs(v)) + _minus(v < 0)),
    "european euro": (",", lambda v: f"{_minus(v < 0)}{_european(abs(v))} €"),
    "european no-break space": (",", lambda v: _minus(v < 0) + _european(abs(v)).replace(".", "\u00a0")),
}


def test_the_renderings_look_like_bank_cells() -> None:
    """The renderings themselves, on one value each way (so the properties below test what they claim)."""
    cells = {name: render(Decimal("-1234.56")) for name, (_, render) in RENDERINGS.items()}
    assert cells == {
        "plain": "-1234.56",
        "grouped": "-1,234.56",
        "parentheses": "(1,234.56)",
        "dollar parentheses": "($1,234.56)",
        "minus space dollar": "- $1,234.56",
        "minus dollar": "-$1,234.56",
        "trailing minus": "1234.56-",
        "grouped trailing minus": "1,234.56-",
        "cr dr": "1,234.56 DR",
        "iso code": "-1,234.56 USD",
        "minus sign": "\u22121,234.56",
        "european": "-1.234,56",
        "european plain": "-1234,56",
        "european trailing minus": "1.234,56-",
        "european euro": "-1.234,56 €",
        "european no-break space": "-1\u00a0234,56",
    }
    assert RENDERINGS["cr dr"][1](Decimal("1234.56")) == "1,234.56 CR"
    assert RENDERINGS["dollar parentheses"][1](Decimal("1234567.89")) == "$1,234,567.89"
    assert RENDERINGS["european"][1](Decimal("1234567.89")) == "1.234.567,89"


@settings(max_examples=300, deadline=None)
@given(value=MONEY, name=st.sampled_from(sorted(RENDERINGS)))
def test_every_documented_rendering_parses_back(value: Decimal, name: str) -> None:
    decimal, render = RENDERINGS[name]
    cell = render(value)
    assert parse_amount(cell, decimal) == value, (name, cell)
    # Cells carry spaces around them in many exports.
    assert parse_amount(f"  {cell} ", decimal) == value, (name, cell)


@pytest.mark.parametrize(
    ("cell", "decimal", "value"),
    [
        ("1.234,56", ".", "1234.56"),
        ("1,234.56", ",", "1234.56"),
        ("(1.234,56)", ".", "-1234.56"),
        ("1.234,56-", ".", "-1234.56"),
    ],
)
def test_a_cell_in_the_other_decimal_convention_is_refused_not_misread(cell: str, decimal: str, value: str) -> None:
    """The rule csv_reader states for "12,50" read with decimal "." (an error, not 1250) holds for a grouped
    amount too: either the true value or a ValueError (the row is then skipped as unreadable), never 1.23456."""
    with pytest.raises(ValueError):  # the stated rule, which holds
        parse_amount("12,50", ".")
    try:
        parsed = parse_amount(cell, decimal)
    except ValueError:
        return
    assert parsed == Decimal(value)


def test_a_statement_read_with_the_wrong_decimal_skips_the_rows_it_cannot_read() -> None:
    """A European statement read with decimal "." (a wrong saved format, a wrong correction): "12,50" is skipped as
    unreadable, and so should "1.234,56" be, instead of becoming a 1.23456 transaction."""
    data = _csv(
        ["Date", "Description", "Amount"], [["2026-05-01", "Miete", "-1.234,56"], ["2026-05-02", "Kaffee", "-12,50"]]
    )
    mapping = CsvMapping(date_column="Date", description_columns=["Description"], amount_column="Amount", decimal=".")
    statement = parse_statement(data, filename="de.csv", mapping=mapping)
    assert [(s.line, s.reason) for s in statement.skipped][-1] == (3, "unreadable amount '-12,50'")
    assert [(r.description, r.amount) for r in statement.rows] in ([], [("Miete", Decimal("-1234.56"))])


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(MONEY, min_size=1, max_size=12), decimal=st.sampled_from([".", ","]))
def test_a_whole_file_of_mixed_renderings_reads_back(values: list[Decimal], decimal: str) -> None:
    names = sorted(n for n, (sep, _) in RENDERINGS.items() if sep == decimal)
    cells = [RENDERINGS[names[i % len(names)]][1](v) for i, v in enumerate(values)]
    delimiter = "," if decimal == "." else ";"
    data = _csv(
        ["Date", "Description", "Amount"],
        [["2026-05-01", f"row {i}", c] for i, c in enumerate(cells)],
        delimiter,
    )
    mapping = CsvMapping(
        date_column="Date", description_columns=["Description"], amount_column="Amount", delimiter=delimiter
    )
    mapping.decimal = decimal
    statement = parse_statement(data, filename="mixed.csv", mapping=mapping)
    assert statement.skipped == []
    assert [r.amount for r in statement.rows] == values
    assert statement.total() == sum(values, Decimal(0))
    # Inverted (a card statement): every amount flips.
    mapping.sign = "inverted"
    flipped = parse_statement(data, filename="mixed.csv", mapping=mapping)
    assert [r.amount for r in flipped.rows] == [-v for v in values]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(MONEY, min_size=1, max_size=12), name=st.sampled_from(sorted(RENDERINGS)))
def test_debit_and_credit_columns_read_back(values: list[Decimal], name: str) -> None:
    """Money out in the debit column, money in in the credit column; a debit written with its own minus (some banks
    write "($29.44)" in the debit column) is still money out."""
    decimal, render = RENDERINGS[name]
    rows = []
    for i, v in enumerate(values):
        debit, credit = (render(v), "") if v < 0 else ("", render(v))
        rows.append([f"05/{i + 1:02d}/2026", f"row {i}", debit, credit])
    delimiter = "," if decimal == "." else ";"
    mapping = CsvMapping(
        date_column="Date",
        description_columns=["Description"],
        debit_column="Debit",
        credit_column="Credit",
        date_format="us",
        delimiter=delimiter,
        decimal=decimal,
    )
    data = _csv(["Date", "Description", "Debit", "Credit"], rows, delimiter)
    statement = parse_statement(data, filename="split.csv", mapping=mapping)
    assert statement.skipped == []
    assert [r.amount for r in statement.rows] == values


# --- generated statements ---------------------------------------------------------------------------------------

DESCRIPTIONS = st.sampled_from(
    [
        "STARBUCKS STORE 05521",
        "starbucks  store 05521",  # the same text to the content fingerprint (case and spacing ignored)
        "TRADER JOE S #552",
        'Café "Le Petit", Paris',
        "ATM WITHDRAWAL",
        "RENT",
        "",
    ]
)
SMALL_MONEY = st.integers(min_value=-50000, max_value=50000).map(lambda c: (Decimal(c) / 100).quantize(CENT))


@st.composite
def statements(draw: st.DrawFn) -> tuple[bytes, CsvMapping, int]:
    """A CSV statement with deliberate duplicates: a few distinct rows, each repeated any number of times, in any
    order; optionally a running balance and a transaction id column (ids from a small set, so some repeat).
    Returns (file, mapping, number of rows)."""
    with_balance = draw(st.booleans())
    with_ids = draw(st.booleans())
    distinct = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=45).map(lambda d: dt.date(2026, 1, 1) + dt.timedelta(days=d)),
                SMALL_MONEY,
                DESCRIPTIONS,
                SMALL_MONEY,  # balance
                st.sampled_from(["", "T1", "T2", "T3", "T4"]),  # bank id
            ),
            min_size=1,
            max_size=6,
        )
    )
    picks = draw(st.lists(st.integers(min_value=0, max_value=len(distinct) - 1), min_size=1, max_size=14))
    header = ["Date", "Description", "Amount"] + (["Balance"] if with_balance else []) + (["Id"] if with_ids else [])
    rows = []
    for i in picks:
        day, amount, description, balance, bank_id = distinct[i]
        row = [day.isoformat(), description, str(amount)]
        row += [str(balance)] if with_balance else []
        row += [bank_id] if with_ids else []
        rows.append(row)
    mapping = CsvMapping(
        date_column="Date",
        description_columns=["Description"],
        amount_column="Amount",
        balance_column="Balance" if with_balance else None,
        id_column="Id" if with_ids else None,
    )
    return _csv(header, rows), mapping, len(rows)


def _parse(data: bytes, mapping: CsvMapping) -> Any:
    return parse_statement(data, filename="generated.csv", mapping=CsvMapping.from_dict(mapping.to_dict()))


@settings(max_examples=200, deadline=None)
@given(statement=statements())
def test_fingerprints_are_stable_and_unique_within_a_file(statement: tuple[bytes, CsvMapping, int]) -> None:
    data, mapping, count = statement
    first, second = _parse(data, mapping), _parse(data, mapping)
    prints = [r.fingerprint for r in first.rows]
    assert len(prints) == count and first.skipped == []
    assert prints == [r.fingerprint for r in second.rows]
    assert len(set(prints)) == count
    assert all(p.startswith(("id:", "h:")) for p in prints)
    # The same rows in another order (a bank exporting newest first) give the same set of fingerprints.
    lines = data.decode().split("\r\n")
    reversed_file = "\r\n".join([lines[0], *reversed([line for line in lines[1:] if line])]) + "\r\n"
    assert sorted(r.fingerprint for r in _parse(reversed_file.encode(), mapping).rows) == sorted(prints)


@pytest.fixture
def ledger(app: Any, owner: dict[str, Any]) -> tuple[Any, int]:
    """The app's database and one hand-kept bank account of workspace 1."""
    db = app.extensions["spendwatch"].db
    with db.system_session() as session:
        bank = BankAccount(workspace_id=1, account_id=None, name="Generated", currency="USD")
        session.add(bank)
        session.flush()
        return db, int(bank.id)


def _items(data: bytes, mapping: CsvMapping) -> list[money_ingest.NewTransaction]:
    """The parsed rows as an import stores them (services.imports._new_transaction, without its text limits)."""
    return [
        money_ingest.NewTransaction(
            fingerprint=stored_fingerprint(row.fingerprint),
            posted_on=row.date,
            amount=row.amount,
            currency="USD",
            description=row.description,
            external_id=row.external_id,
        )
        for row in _parse(data, mapping).rows
    ]


def _stored(db: Any, bank_id: int) -> list[tuple[str, dt.date, Decimal, str]]:
    with db.system_session() as session:
        rows = session.execute(
            select(Transaction.fingerprint, Transaction.posted_on, Transaction.amount, Transaction.description)
            .where(Transaction.bank_account_id == bank_id)
            .order_by(Transaction.fingerprint)
        ).all()
        return [(f, d, Decimal(a).quantize(CENT), text) for f, d, a, text in rows]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(statement=statements())
def test_importing_twice_stores_what_importing_once_stores(
    ledger: tuple[Any, int], statement: tuple[bytes, CsvMapping, int]
) -> None:
    db, bank_id = ledger
    data, mapping, count = statement
    with db.system_session() as session:  # a clean account for every example
        session.execute(delete(Transaction).where(Transaction.bank_account_id == bank_id))

    with db.system_session() as session:
        once = money_ingest.store(
            session, bank_account=session.get(BankAccount, bank_id), items=_items(data, mapping), update_existing=False
        )
    assert (len(once.added), once.duplicates) == (count, [])  # identical rows are all kept
    after_once = _stored(db, bank_id)
    assert len(after_once) == count
    assert sorted(a for _, _, a, _ in after_once) == sorted(r.amount for r in _parse(data, mapping).rows)

    with db.system_session() as session:
        twice = money_ingest.store(
            session, bank_account=session.get(BankAccount, bank_id), items=_items(data, mapping), update_existing=False
        )
    assert twice.added == []
    assert sorted(twice.duplicates) == sorted(f for f, _, _, _ in after_once)
    assert _stored(db, bank_id) == after_once
    with db.system_session() as session:
        total = session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.bank_account_id == bank_id)
        )
    assert total == count
