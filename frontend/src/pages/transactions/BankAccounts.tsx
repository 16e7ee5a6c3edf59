import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import type { BankAccount } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { focusFirstError, FormError, TextField } from "../../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../../components/Notice";
import { PageHeader } from "../../components/PageHeader";
import { MoneyTabs } from "../../components/transactions/MoneyTabs";
import { isDecimal } from "../../lib/decimal";
import { formatDay, formatMoney, formatRelative, pluralize } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { moneyApi } from "./api";
import { useMoney } from "./context";

function AddBankAccountForm({ onAdded, onCancel }: { onAdded: (a: BankAccount) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [currency, setCurrency] = useState("USD");
  const [institution, setInstitution] = useState("");
  const [balance, setBalance] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const balanceProblem = balance.trim() && !isDecimal(balance.trim()) ? ["Enter an amount such as 1250.00 (or leave it empty)."] : [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (balanceProblem.length) return;
    setBusy(true);
    setError(null);
    try {
      const account = await moneyApi.bankAccounts.create({
        name: name.trim(),
        currency: currency.trim(),
        ...(institution.trim() ? { institution: institution.trim() } : {}),
        ...(balance.trim() ? { balance: balance.trim() } : {}),
      });
      onAdded(account);
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  return (
    <form ref={formRef} className="card money-form" aria-labelledby="add-bank-h" onSubmit={submit} aria-busy={busy}>
      <h2 id="add-bank-h">Add a hand-kept account</h2>
      <p className="help">
        An account without a bank connection: fill it by importing its statements (CSV, OFX, QFX).
      </p>
      <FormError error={error} fields={["name", "currency", "institution", "balance"]} />
      <div className="field-grid">
        <TextField name="name" label="Name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" error={error} />
        <TextField
          name="currency"
          label="Currency"
          required
          maxLength={3}
          value={currency}
          onChange={(e) => setCurrency(e.target.value.toUpperCase())}
          help="Three letters (ISO 4217), e.g. USD, EUR."
          autoComplete="off"
          error={error}
        />
        <TextField name="institution" label="Bank" maxLength={200} value={institution} onChange={(e) => setInstitution(e.target.value)} help="Optional." error={error} />
        <TextField
          name="balance"
          label="Current balance"
          inputMode="decimal"
          value={balance}
          onChange={(e) => setBalance(e.target.value)}
          help="Optional."
          messages={balanceProblem}
          error={error}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
          {busy ? "Adding…" : "Add account"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export default function BankAccounts() {
  const { canWrite } = useAuth();
  const money = useMoney();
  const balances = useAsync((signal) => moneyApi.bankAccounts.balances(signal), []);
  const [adding, setAdding] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const accounts = money.bankAccounts;

  const added = (account: BankAccount) => {
    setAdding(false);
    setMessage(`Added “${account.name}”. Import a statement to fill it.`);
    money.reloadBankAccounts();
    balances.reload();
  };

  return (
    <>
      <PageHeader title="Bank accounts" subtitle="Balances of your synced and hand-kept accounts.">
        {canWrite && !adding && (
          <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
            Add a hand-kept account
          </button>
        )}
      </PageHeader>
      <MoneyTabs />
      {message && <Notice kind="success">{message}</Notice>}
      {adding && <AddBankAccountForm onAdded={added} onCancel={() => setAdding(false)} />}

      <section className="stats balance-totals" aria-label="Balances by currency">
        {balances.error ? (
          <ErrorState error={balances.error} what="the balances" onRetry={balances.reload} />
        ) : !balances.data ? (
          <div className="stat">
            <p className="stat-value skeleton">Loading…</p>
          </div>
        ) : balances.data.totals.length === 0 ? null : (
          balances.data.totals.map((total) => (
            <div className="stat" key={total.currency}>
              <h2 className="stat-label">Total balance, {total.currency}</h2>
              <p className="stat-value">{formatMoney(total.balance, total.currency)}</p>
              <p className="stat-sub muted">{pluralize(total.accounts, "account")}</p>
            </div>
          ))
        )}
      </section>

      <section className="panel" aria-labelledby="bank-list-h">
        <h2 id="bank-list-h">Accounts</h2>
        {money.bankAccountsError ? (
          <ErrorState error={money.bankAccountsError} what="the bank accounts" onRetry={money.reloadBankAccounts} />
        ) : !accounts ? (
          <Loading>Loading bank accounts…</Loading>
        ) : accounts.length === 0 ? (
          <EmptyState title="No bank accounts yet.">
            <p className="muted">
              Connect a bank with SimpleFIN or Plaid on the <Link to="/accounts">Accounts</Link> page, or add a hand-kept account and
              import its statements.
            </p>
          </EmptyState>
        ) : (
          <ul className="bank-list">
            {accounts.map((a) => (
              <li key={a.id}>
                <div className="bank-name">
                  <Link to={`/transactions?account=${a.id}`}>{a.name}</Link>
                  <div className="muted small">
                    {[a.institution, a.account_id == null ? "Hand-kept" : "Synced", a.currency].filter(Boolean).join(" · ")}
                  </div>
                  <div className="muted small">
                    {pluralize(a.transaction_count, "transaction")}
                    {a.last_transaction_on ? `, latest ${formatDay(a.last_transaction_on, true)}` : ""}
                  </div>
                </div>
                <div className="bank-balance">
                  {a.balance == null ? <span className="muted">Balance unknown</span> : <strong>{formatMoney(a.balance, a.currency)}</strong>}
                  {a.balance_at && <div className="muted small">as of {formatRelative(a.balance_at)}</div>}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
