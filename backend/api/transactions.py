"""/api/bank-accounts, /api/transactions and /api/analytics: money accounts and their transactions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.csv_safe import csv_chunks
from backend.models import BankAccount, Transaction
from backend.schemas import transactions as schemas
from backend.services import bank_accounts, money_analytics, transactions
from backend.services.transactions import shown

bp = APIBlueprint(
    "transactions",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="transactions")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


# --- /api/bank-accounts --------------------------------------------------------------------------------------------


def _money(value: Any) -> Any:
    return None if value is None else shown(value)


def _bank_account_out(account: BankAccount, stats: bank_accounts.AccountStats) -> schemas.BankAccountOut:
    return schemas.BankAccountOut(
        id=account.id,
        account_id=account.account_id,
        name=account.name,
        institution=account.institution,
        currency=account.currency,
        balance=_money(account.balance),
        available_balance=_money(account.available_balance),
        balance_at=account.balance_at,
        transaction_count=stats.count,
        last_transaction_on=stats.last_posted_on,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _bank_account(bank_account_id: int) -> BankAccount:
    return bank_accounts.get_account(
        session=db(), workspace_id=current_actor().workspace_id, bank_account_id=bank_account_id
    )


def _bank_account_answer(account: BankAccount, status: int = 200) -> Response:
    stats = bank_accounts.stats(session=db(), workspace_id=account.workspace_id)
    return json_response(_bank_account_out(account, stats.get(account.id, bank_accounts.AccountStats())), status)


@bp.get("/bank-accounts", responses={200: schemas.BankAccountList})
def list_bank_accounts() -> Response:
    """The workspace's bank accounts (synced and hand-kept) with balances and transaction counts."""
    session = db()
    workspace_id = current_actor().workspace_id
    accounts = bank_accounts.list_accounts(session=session, workspace_id=workspace_id)
    stats = bank_accounts.stats(session=session, workspace_id=workspace_id)
    empty = bank_accounts.AccountStats()
    return json_response(
        schemas.BankAccountList(items=[_bank_account_out(a, stats.get(a.id, empty)) for a in accounts])
    )


@bp.post("/bank-accounts", responses={201: schemas.BankAccountOut})
def create_bank_account(body: schemas.BankAccountIn) -> Response:
    """Add a hand-kept account (no connection), for statement imports and transactions entered by hand."""
    session = db()
    account = bank_accounts.create_account(
        session=session, workspace_id=current_actor().workspace_id, data=body.model_dump()
    )
    session.commit()
    return _bank_account_answer(account, 201)


@bp.get("/bank-accounts/balances", responses={200: schemas.BalancesOut})
def balances() -> Response:
    """Every account's balance, and the balances added up per currency."""
    accounts = bank_accounts.list_accounts(session=db(), workspace_id=current_actor().workspace_id)
    out = schemas.BalancesOut(
        accounts=[
            schemas.BalanceOut(
                id=a.id,
                account_id=a.account_id,
                name=a.name,
                institution=a.institution,
                currency=a.currency,
                balance=_money(a.balance),
                available_balance=_money(a.available_balance),
                balance_at=a.balance_at,
            )
            for a in accounts
        ],
        totals=[
            schemas.CurrencyTotal(
                currency=t.currency,
                balance=shown(t.balance),
                available_balance=shown(t.available_balance),
                accounts=t.accounts,
            )
            for t in bank_accounts.totals(accounts)
        ],
    )
    return json_response(out)


@bp.get("/bank-accounts/<int:bank_account_id>", responses={200: schemas.BankAccountOut})
def get_bank_account(path: schemas.BankAccountPath) -> Response:
    """One bank account."""
    return _bank_account_answer(_bank_account(path.bank_account_id))


@bp.patch("/bank-accounts/<int:bank_account_id>", responses={200: schemas.BankAccountOut})
def update_bank_account(path: schemas.BankAccountPath, body: schemas.BankAccountPatch) -> Response:
    """Rename an account or change its institution; the balance of hand-kept accounts only (422 for synced ones)."""
    session = db()
    account = _bank_account(path.bank_account_id)
    bank_accounts.update_account(session=session, account=account, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return _bank_account_answer(account)


@bp.delete("/bank-accounts/<int:bank_account_id>", responses={204: None})
def delete_bank_account(path: schemas.BankAccountPath) -> Response:
    """Delete a hand-kept account with its transactions; a synced one answers 409 (delete the connection)."""
    session = db()
    bank_accounts.delete_account(session=session, account=_bank_account(path.bank_account_id))
    session.commit()
    return no_content()


# --- /api/transactions ---------------------------------------------------------------------------------------------


def _filters(query: schemas.TransactionFilters) -> transactions.Filters:
    return transactions.Filters(
        bank_account_id=query.bank_account_id,
        category_id=query.category_id,
        uncategorized=query.uncategorized,
        start=query.from_,
        end=query.to,
        min_amount=query.min_amount,
        max_amount=query.max_amount,
        q=query.q,
        pending=query.pending,
        is_transfer=query.is_transfer,
        excluded=query.excluded,
    )


def _out_fields(row: Transaction) -> dict[str, Any]:
    return {
        "id": row.id,
        "bank_account_id": row.bank_account_id,
        "posted_on": row.posted_on,
        "amount": shown(row.amount),
        "currency": row.currency,
        "description": row.description,
        "merchant": row.merchant,
        "pending": row.pending,
        "category_id": row.category_id,
        "category_source": row.category_source,
        "category_confidence": row.category_confidence,
        "category_rule_id": row.category_rule_id,
        "notes": row.notes,
        "excluded": row.excluded,
        "is_transfer": row.is_transfer,
        "transfer_peer_id": row.transfer_peer_id,
        "transfer_locked": row.transfer_locked,
        "import_id": row.import_id,
        "external_id": row.external_id,
        "created_at": row.created_at,
    }


def _detail(row: Transaction) -> schemas.TransactionDetail:
    return schemas.TransactionDetail(**_out_fields(row), raw=dict(row.raw or {}))


def _transaction(transaction_id: int) -> Transaction:
    return transactions.get_transaction(
        session=db(), workspace_id=current_actor().workspace_id, transaction_id=transaction_id
    )


@bp.get("/transactions", responses={200: schemas.TransactionPage})
def list_transactions(query: schemas.TransactionsQuery) -> Response:
    """Transactions, newest first by default; filter, sort, and pass `next_cursor` back as `cursor` for more."""
    rows, next_cursor = transactions.page(
        session=db(),
        workspace_id=current_actor().workspace_id,
        filters=_filters(query),
        sort=query.sort,
        limit=query.limit,
        cursor=query.cursor,
    )
    items = [schemas.TransactionOut(**_out_fields(r)) for r in rows]
    return json_response(schemas.TransactionPage(items=items, next_cursor=next_cursor))


@bp.post("/transactions", responses={201: schemas.TransactionDetail})
def create_transaction(body: schemas.TransactionIn) -> Response:
    """Enter a transaction by hand; it is categorized (or takes the given category) and paired like any other."""
    session = db()
    row = transactions.create_transaction(
        session=session, workspace_id=current_actor().workspace_id, data=body.model_dump()
    )
    session.commit()
    return json_response(_detail(row), 201)


@bp.get("/transactions/export", responses={200: {"content": {"text/csv": {}}}})
def export_transactions(query: schemas.ExportQuery) -> Response:
    """Every matching transaction as CSV (the list's filters and sort), streamed."""
    session = db()
    rows = transactions.export_rows(
        session=session, workspace_id=current_actor().workspace_id, filters=_filters(query), sort=query.sort
    )
    body = csv_chunks(rows, transactions.EXPORT_COLUMNS)

    def stream() -> Iterator[str]:
        try:
            yield from body
        finally:
            # End the read transaction as soon as the last row is out, not when the response object is collected.
            session.close()

    response = Response(stream_with_context(stream()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="spendwatch-transactions.csv"'
    return response


@bp.get("/transactions/<int:transaction_id>", responses={200: schemas.TransactionDetail})
def get_transaction(path: schemas.TransactionPath) -> Response:
    """One transaction, with the source row it came from."""
    return json_response(_detail(_transaction(path.transaction_id)))


@bp.patch("/transactions/<int:transaction_id>", responses={200: schemas.TransactionPatched})
def update_transaction(path: schemas.TransactionPath, body: schemas.TransactionPatch) -> Response:
    """Set the category (a person's choice, kept by every later categorization), notes, merchant or excluded;
    `create_rule` also makes a rule from this transaction and `apply_to_similar` runs it on the others."""
    session = db()
    row = _transaction(path.transaction_id)
    outcome = transactions.update_transaction(session=session, row=row, changes=body.model_dump(exclude_unset=True))
    session.commit()
    answer = schemas.TransactionPatched(
        **_detail(row).model_dump(), created_rule_id=outcome.created_rule_id, applied_to=outcome.applied_to
    )
    return json_response(answer)


@bp.delete("/transactions/<int:transaction_id>", responses={204: None})
def delete_transaction(path: schemas.TransactionPath) -> Response:
    """Delete a transaction entered by hand (409 for a bank's or a statement's: exclude those instead)."""
    session = db()
    transactions.delete_transaction(session=session, row=_transaction(path.transaction_id))
    session.commit()
    return no_content()


@bp.post("/transactions/<int:transaction_id>/unpair", responses={200: schemas.TransactionDetail})
def unpair_transaction(path: schemas.TransactionPath) -> Response:
    """Not a transfer: this transaction and its peer count as spend or income again, never re-paired automatically."""
    session = db()
    row = _transaction(path.transaction_id)
    transactions.unpair(session=session, row=row)
    session.commit()
    return json_response(_detail(row))


@bp.post("/transactions/<int:transaction_id>/pair", responses={200: schemas.TransactionDetail})
def pair_transaction(path: schemas.TransactionPath, body: schemas.PairIn) -> Response:
    """Pair this transaction with `peer_id` as a transfer (opposite amounts, two different accounts)."""
    session = db()
    row = _transaction(path.transaction_id)
    transactions.pair(session=session, row=row, peer_id=body.peer_id)
    session.commit()
    return json_response(_detail(row))


# --- /api/analytics ------------------------------------------------------------------------------------------------


@bp.get("/analytics/spending-by-category", responses={200: schemas.SpendingByCategoryOut})
def spending_by_category(query: schemas.CategorySpendQuery) -> Response:
    """Spend per month (or day), currency and category; top-level categories also carry their children's (`total`)."""
    rows = money_analytics.spending_by_category(
        session=db(),
        workspace_id=current_actor().workspace_id,
        start=query.from_,
        end=query.to,
        by_day=query.interval == "day",
    )
    items = [schemas.CategorySpend.model_validate(r, from_attributes=True) for r in rows]
    return json_response(schemas.SpendingByCategoryOut(from_=query.from_, to=query.to, items=items))


@bp.get("/analytics/income-expense", responses={200: schemas.IncomeExpenseOut})
def income_expense(query: schemas.RangeQuery) -> Response:
    """Income, expense and net per month and currency."""
    rows = money_analytics.income_expense(
        session=db(), workspace_id=current_actor().workspace_id, start=query.from_, end=query.to
    )
    items = [schemas.MonthFlow(**r) for r in rows]
    return json_response(schemas.IncomeExpenseOut(from_=query.from_, to=query.to, items=items))


@bp.get("/analytics/top-merchants", responses={200: schemas.TopMerchantsOut})
def top_merchants(query: schemas.TopMerchantsQuery) -> Response:
    """The merchants (else descriptions) with the most spend, per currency."""
    rows = money_analytics.top_merchants(
        session=db(), workspace_id=current_actor().workspace_id, start=query.from_, end=query.to, limit=query.limit
    )
    items = [schemas.MerchantSpend(**r) for r in rows]
    return json_response(schemas.TopMerchantsOut(from_=query.from_, to=query.to, items=items))
