import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, messageOf } from "../../api/errors";
import type { Page } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { FormError, SelectField, TextField } from "../../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../../components/Notice";
import { PageHeader } from "../../components/PageHeader";
import { Amount } from "../../components/transactions/Amount";
import { CategorySelect } from "../../components/transactions/CategorySelect";
import { MoneyTabs } from "../../components/transactions/MoneyTabs";
import { isDecimal } from "../../lib/decimal";
import { formatDay, formatInteger, pluralize } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { moneyApi } from "./api";
import { useMoney } from "./context";
import type { Transaction, TransactionFilters, TransactionSort } from "./types";

const PAGE_SIZE = 50;

const SORTS: { value: TransactionSort; label: string }[] = [
  { value: "-date", label: "Newest first" },
  { value: "date", label: "Oldest first" },
  { value: "amount", label: "Biggest money out first" },
  { value: "-amount", label: "Biggest money in first" },
];

const SOURCES: Record<string, string> = {
  rule: "by a rule",
  manual: "by hand",
  provider: "by the bank",
  learned: "from your earlier choices",
  keyword: "from a keyword",
};

/** The filter form's fields, as text (the URL's search parameters). */
interface Draft {
  account: string;
  category: string; // "", "uncategorized" or an id
  from: string;
  to: string;
  min: string;
  max: string;
  q: string;
  pending: string; // "", "true", "false"
}

const EMPTY: Draft = { account: "", category: "", from: "", to: "", min: "", max: "", q: "", pending: "" };
const KEYS = Object.keys(EMPTY) as (keyof Draft)[];

function draftFrom(search: URLSearchParams): Draft {
  const draft = { ...EMPTY };
  for (const key of KEYS) draft[key] = search.get(key) ?? "";
  return draft;
}

function sortFrom(search: URLSearchParams): TransactionSort {
  const value = search.get("sort");
  return SORTS.some((s) => s.value === value) ? (value as TransactionSort) : "-date";
}

/** The API's filters for DRAFT (invalid text is left out: the form shows why). */
export function toFilters(draft: Draft, sort: TransactionSort): TransactionFilters {
  const filters: TransactionFilters = { sort };
  if (draft.account) filters.bank_account_id = Number(draft.account);
  if (draft.category === "uncategorized") filters.uncategorized = true;
  else if (draft.category) filters.category_id = Number(draft.category);
  if (draft.from) filters.from = draft.from;
  if (draft.to) filters.to = draft.to;
  if (draft.min.trim() && isDecimal(draft.min.trim())) filters.min_amount = draft.min.trim();
  if (draft.max.trim() && isDecimal(draft.max.trim())) filters.max_amount = draft.max.trim();
  if (draft.q.trim()) filters.q = draft.q.trim();
  if (draft.pending) filters.pending = draft.pending === "true";
  return filters;
}

function problems(draft: Draft): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of ["min", "max"] as const) {
    const text = draft[key].trim();
    if (text && !isDecimal(text)) out[key] = ["Enter an amount such as -20 or 12.50."];
  }
  if (draft.from && draft.to && draft.to < draft.from) out.to = ["The end is before the start."];
  return out;
}

// --- one row ----------------------------------------------------------------------------------------------

type Offer = { categoryId: number; payee: string };

function TransactionRow({
  txn,
  canWrite,
  showAccount,
  onChanged,
  onRuleCreated,
}: {
  txn: Transaction;
  canWrite: boolean;
  showAccount: boolean;
  onChanged: (t: Transaction) => void;
  onRuleCreated: (text: string) => void;
}) {
  const money = useMoney();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [offer, setOffer] = useState<Offer | null>(null);
  const [open, setOpen] = useState(false);
  const [notes, setNotes] = useState(txn.notes);
  const [excluded, setExcluded] = useState(txn.excluded);
  const [detailError, setDetailError] = useState<unknown>(null);
  const [detailMessage, setDetailMessage] = useState<string | null>(null);
  const id = useId();
  const payee = txn.merchant || txn.description;

  useEffect(() => {
    setNotes(txn.notes);
    setExcluded(txn.excluded);
  }, [txn.notes, txn.excluded]);

  const run = async (work: () => Promise<void>) => {
    setSaving(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setError(messageOf(err));
    } finally {
      setSaving(false);
    }
  };

  const recategorize = (categoryId: number | null) =>
    run(async () => {
      const updated = await moneyApi.transactions.update(txn.id, { category_id: categoryId });
      onChanged(updated);
      setOffer(categoryId != null && payee ? { categoryId, payee } : null);
    });

  const createRule = (chosen: Offer) =>
    run(async () => {
      const updated = await moneyApi.transactions.update(txn.id, {
        category_id: chosen.categoryId,
        create_rule: true,
        apply_to_similar: true,
      });
      setOffer(null);
      onChanged(updated);
      const others = updated.applied_to ?? 0;
      onRuleCreated(
        `Rule created: “${chosen.payee}” is now always ${money.categoryLabel(chosen.categoryId)}` +
          (others ? `; ${pluralize(others, "other transaction")} changed.` : "; no other transaction needed changing."),
      );
    });

  const saveDetails = async (event: FormEvent) => {
    event.preventDefault();
    setDetailError(null);
    setDetailMessage(null);
    const body: { notes?: string; excluded?: boolean } = {};
    if (notes !== txn.notes) body.notes = notes;
    if (excluded !== txn.excluded) body.excluded = excluded;
    if (!Object.keys(body).length) {
      setOpen(false);
      return;
    }
    setSaving(true);
    try {
      onChanged(await moneyApi.transactions.update(txn.id, body));
      setDetailMessage("Saved.");
    } catch (err) {
      setDetailError(err);
    } finally {
      setSaving(false);
    }
  };

  const unpair = () =>
    run(async () => {
      onChanged(await moneyApi.transactions.unpair(txn.id));
      setDetailMessage("Unpaired: it counts as spend or income again, and is never paired automatically.");
    });

  const confidence = txn.category_confidence && txn.category_source !== "manual" ? ` (${Math.round(Number(txn.category_confidence) * 100)}% sure)` : "";
  return (
    <li className={`txn${txn.excluded ? " txn-excluded" : ""}${txn.pending ? " txn-pending" : ""}`}>
      <div className="txn-main">
        <div className="txn-date">
          <time dateTime={txn.posted_on}>{formatDay(txn.posted_on, true)}</time>
        </div>
        <div className="txn-text">
          <span className="txn-payee">{txn.merchant || txn.description}</span>
          {txn.merchant && txn.merchant !== txn.description && <span className="txn-description muted small">{txn.description}</span>}
          <span className="txn-badges">
            {showAccount && <span className="muted small">{money.accountName(txn.bank_account_id)}</span>}
            {txn.pending && <span className="badge badge-pending">Pending</span>}
            {txn.is_transfer && <span className="badge badge-transfer">Transfer</span>}
            {txn.excluded && <span className="badge">Excluded</span>}
            {txn.notes && (
              <span className="badge badge-note" title={txn.notes}>
                Note
              </span>
            )}
          </span>
        </div>
        <div className="txn-category">
          {money.categories ? (
            <CategorySelect
              categories={money.categories}
              value={txn.category_id}
              onChange={recategorize}
              disabled={!canWrite || saving}
              aria-label={`Category of ${payee}, ${formatDay(txn.posted_on, true)}`}
              aria-describedby={`${id}-source`}
            />
          ) : (
            <span>{money.categoryLabel(txn.category_id)}</span>
          )}
          <span id={`${id}-source`} className="visually-hidden">
            {txn.category_source ? `Categorized ${SOURCES[txn.category_source] ?? txn.category_source}${confidence}` : "Not categorized"}
          </span>
        </div>
        <div className="txn-amount">
          <Amount value={txn.amount} currency={txn.currency} />
        </div>
        <div className="txn-more">
          <button
            type="button"
            className="btn btn-ghost btn-small"
            aria-expanded={open}
            aria-controls={`${id}-details`}
            aria-label={`Details of ${payee}, ${formatDay(txn.posted_on, true)}`}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? "Close" : "Details"}
          </button>
        </div>
      </div>

      {error && <Notice kind="error">{error}</Notice>}
      {offer && (
        <div className="txn-offer" role="group" aria-label="Create a rule">
          <p>
            Always categorize <strong>{offer.payee}</strong> as <strong>{money.categoryLabel(offer.categoryId)}</strong>? This
            creates a rule and applies it to similar transactions.
          </p>
          <div className="form-actions">
            <button type="button" className="btn btn-primary btn-small" onClick={() => void createRule(offer)} disabled={saving}>
              {saving ? "Creating…" : "Yes, create a rule"}
            </button>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setOffer(null)} disabled={saving}>
              Just this one
            </button>
          </div>
        </div>
      )}

      <div id={`${id}-details`} className="txn-details" hidden={!open}>
        {open && (
          <>
            <dl className="facts">
              <div>
                <dt>Description</dt>
                <dd className="wrap">{txn.description}</dd>
              </div>
              <div>
                <dt>Account</dt>
                <dd>{money.accountName(txn.bank_account_id)}</dd>
              </div>
              <div>
                <dt>Category</dt>
                <dd>
                  {money.categoryLabel(txn.category_id)}
                  {txn.category_source && (
                    <span className="muted small">
                      {" "}
                      · {SOURCES[txn.category_source] ?? txn.category_source}
                      {confidence}
                    </span>
                  )}
                </dd>
              </div>
              {txn.is_transfer && (
                <div>
                  <dt>Transfer</dt>
                  <dd>{txn.transfer_peer_id ? `Paired with transaction #${txn.transfer_peer_id}` : "Marked as a transfer"}</dd>
                </div>
              )}
            </dl>
            {txn.is_transfer && canWrite && txn.transfer_peer_id && (
              <p>
                <button type="button" className="btn btn-secondary btn-small" onClick={() => void unpair()} disabled={saving}>
                  Not a transfer: unpair
                </button>
              </p>
            )}
            {detailMessage && <Notice kind="success">{detailMessage}</Notice>}
            {canWrite ? (
              <form onSubmit={saveDetails} aria-label={`Notes of ${payee}`}>
                <FormError error={detailError} fields={["notes", "excluded"]} />
                <div className="field">
                  <label htmlFor={`${id}-notes`}>Notes</label>
                  <textarea id={`${id}-notes`} name="notes" rows={2} maxLength={5000} value={notes} onChange={(e) => setNotes(e.target.value)} />
                </div>
                <div className="field field-checkbox">
                  <div className="checkbox-row">
                    <input id={`${id}-excluded`} type="checkbox" checked={excluded} onChange={(e) => setExcluded(e.target.checked)} />
                    <label htmlFor={`${id}-excluded`}>Exclude from budgets and analytics</label>
                  </div>
                </div>
                <div className="form-actions">
                  <button type="submit" className="btn btn-primary btn-small" disabled={saving}>
                    {saving ? "Saving…" : "Save"}
                  </button>
                </div>
              </form>
            ) : (
              txn.notes && <p className="wrap">{txn.notes}</p>
            )}
          </>
        )}
      </div>
    </li>
  );
}

// --- the page ---------------------------------------------------------------------------------------------

export default function TransactionList() {
  const { canWrite } = useAuth();
  const money = useMoney();
  const [search, setSearch] = useSearchParams();
  const applied = useMemo(() => draftFrom(search), [search]);
  const sort = sortFrom(search);
  const [draft, setDraft] = useState<Draft>(applied);
  const [flash, setFlash] = useState<string | null>(null);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const filters = useMemo(() => toFilters(applied, sort), [applied, sort]);
  const key = JSON.stringify(filters);
  const page = useAsync<Page<Transaction>>((signal) => moneyApi.transactions.list(filters, null, PAGE_SIZE, signal), [key]);
  const formProblems = problems(draft);

  useEffect(() => setDraft(applied), [applied]);

  const apply = (event?: FormEvent) => {
    event?.preventDefault();
    if (Object.keys(formProblems).length) return;
    const next = new URLSearchParams();
    for (const k of KEYS) if (draft[k].trim()) next.set(k, draft[k].trim());
    if (sort !== "-date") next.set("sort", sort);
    setSearch(next, { replace: true });
  };
  const reset = () => {
    setDraft(EMPTY);
    setSearch(sort !== "-date" ? new URLSearchParams({ sort }) : new URLSearchParams(), { replace: true });
  };
  const changeSort = (value: string) => {
    const next = new URLSearchParams(search);
    if (value === "-date") next.delete("sort");
    else next.set("sort", value);
    setSearch(next, { replace: true });
  };

  const loadMore = async () => {
    const cursor = page.data?.next_cursor;
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const more = await moneyApi.transactions.list(filters, cursor, PAGE_SIZE);
      page.setData((current) => ({
        items: [...(current?.items ?? []), ...more.items],
        next_cursor: more.next_cursor,
      }));
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setMoreError(messageOf(err));
    } finally {
      setLoadingMore(false);
    }
  };

  const replace = (updated: Transaction) =>
    page.setData((current) => ({
      items: (current?.items ?? []).map((t) => (t.id === updated.id ? { ...t, ...updated } : t)),
      next_cursor: current?.next_cursor ?? null,
    }));

  const ruleCreated = (text: string) => {
    setFlash(text);
    page.reload(); // other transactions may have changed category
    money.reloadCategories();
  };

  const items = page.data?.items ?? [];
  const accounts = money.bankAccounts ?? [];
  const noAccounts = money.bankAccounts !== undefined && accounts.length === 0;
  const filtered = KEYS.some((k) => applied[k]);
  const activeFilters = KEYS.filter((k) => applied[k]).length;

  return (
    <>
      <PageHeader title="Transactions" subtitle="Bank transactions from your synced accounts and statement imports.">
        {canWrite && (
          <Link className="btn btn-secondary" to="/transactions/import">
            Import a statement
          </Link>
        )}
      </PageHeader>
      <MoneyTabs />

      <button
        type="button"
        className="btn btn-secondary txn-filters-toggle"
        aria-expanded={filtersOpen}
        aria-controls="txn-filters"
        onClick={() => setFiltersOpen((o) => !o)}
      >
        {filtersOpen ? "Hide filters" : `Filters${activeFilters ? ` (${activeFilters})` : ""}`}
      </button>
      <form
        id="txn-filters"
        className={`panel txn-filters${filtersOpen ? "" : " txn-filters-collapsed"}`}
        onSubmit={apply}
        aria-label="Transaction filters"
      >
        <SelectField name="account" label="Account" value={draft.account} onChange={(e) => setDraft({ ...draft, account: e.target.value })}>
          <option value="">All accounts</option>
          {accounts.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </SelectField>
        <SelectField name="category" label="Category" value={draft.category} onChange={(e) => setDraft({ ...draft, category: e.target.value })}>
          <option value="">All categories</option>
          <option value="uncategorized">Uncategorized</option>
          {money.flatCategories.map((c) => (
            <option key={c.id} value={c.id}>
              {`${c.parent_id ? "\u00a0\u00a0\u00a0\u00a0" : ""}${c.icon ? `${c.icon} ` : ""}${c.name}`}
            </option>
          ))}
        </SelectField>
        <TextField name="from" label="From" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <TextField
          name="to"
          label="To"
          type="date"
          value={draft.to}
          onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          messages={formProblems.to}
        />
        <TextField
          name="min"
          label="Amount from"
          inputMode="decimal"
          placeholder="-100"
          value={draft.min}
          onChange={(e) => setDraft({ ...draft, min: e.target.value })}
          messages={formProblems.min}
        />
        <TextField
          name="max"
          label="Amount to"
          inputMode="decimal"
          placeholder="-5"
          value={draft.max}
          onChange={(e) => setDraft({ ...draft, max: e.target.value })}
          messages={formProblems.max}
        />
        <TextField name="q" label="Search" type="search" placeholder="merchant, description, notes" value={draft.q} maxLength={200} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        <SelectField name="pending" label="Pending" value={draft.pending} onChange={(e) => setDraft({ ...draft, pending: e.target.value })}>
          <option value="">Pending or not</option>
          <option value="true">Only pending</option>
          <option value="false">Only posted</option>
        </SelectField>
        <div className="form-actions filters-actions">
          <button type="submit" className="btn btn-primary">
            Filter
          </button>
          <button type="button" className="btn btn-ghost" onClick={reset}>
            Reset
          </button>
        </div>
        <p className="help txn-filters-help">Amounts are signed: money out is negative (purchases of 5 to 20 are −20 to −5).</p>
      </form>

      {flash && <Notice kind="success">{flash}</Notice>}

      <section className="panel" aria-labelledby="txn-list-h">
        <div className="section-head">
          <h2 id="txn-list-h" ref={listHeading} tabIndex={-1}>
            {page.data ? `${formatInteger(items.length)}${page.data.next_cursor ? "+" : ""} transaction${items.length === 1 && !page.data.next_cursor ? "" : "s"}` : "Transactions"}
          </h2>
          <div className="field txn-sort">
            <label htmlFor="txn-sort">Sort</label>
            <select id="txn-sort" value={sort} onChange={(e) => changeSort(e.target.value)}>
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        {page.error ? (
          <ErrorState error={page.error} what="the transactions" onRetry={page.reload} />
        ) : !page.data ? (
          <Loading>Loading transactions…</Loading>
        ) : items.length === 0 ? (
          filtered ? (
            <EmptyState title="No transactions match these filters.">
              <p className="muted">Try fewer filters or a longer period.</p>
            </EmptyState>
          ) : (
            <EmptyState title="No transactions yet.">
              <p className="muted">
                {noAccounts ? "Add a bank account, then " : ""}
                <Link to="/transactions/import">import a statement</Link> (CSV, OFX or QFX), or connect a bank with SimpleFIN or Plaid on the{" "}
                <Link to="/accounts">Accounts</Link> page.
              </p>
            </EmptyState>
          )
        ) : (
          <>
            <ul className="txn-list" aria-busy={page.loading}>
              {items.map((txn) => (
                <TransactionRow
                  key={txn.id}
                  txn={txn}
                  canWrite={canWrite}
                  showAccount={accounts.length > 1}
                  onChanged={replace}
                  onRuleCreated={ruleCreated}
                />
              ))}
            </ul>
            {moreError && <Notice kind="error">Could not load more: {moreError}</Notice>}
            {page.data.next_cursor ? (
              <div className="form-actions txn-more-row">
                <button type="button" className="btn btn-secondary" onClick={() => void loadMore()} disabled={loadingMore}>
                  {loadingMore ? "Loading…" : "Load more"}
                </button>
              </div>
            ) : (
              items.length > PAGE_SIZE && <p className="muted small">That is all of them.</p>
            )}
          </>
        )}
      </section>
    </>
  );
}
