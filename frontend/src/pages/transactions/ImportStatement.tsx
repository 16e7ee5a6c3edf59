import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError, messageOf } from "../../api/errors";
import { useAuth } from "../../auth/AuthContext";
import { focusFirstError, FormError, SelectField, TextField } from "../../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../../components/Notice";
import { PageHeader } from "../../components/PageHeader";
import { Amount } from "../../components/transactions/Amount";
import { MappingForm } from "../../components/transactions/MappingForm";
import { MoneyTabs } from "../../components/transactions/MoneyTabs";
import { formatDateTime, formatDay, formatInteger, pluralize } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { moneyApi } from "./api";
import { useMoney } from "./context";
import type { ImportBatch, ImportPreview, Mapping } from "./types";

const SHOWN_ROWS = 200;

/** The file's columns, from the preview's rows (and skipped rows), in file order. */
export function columnsOf(preview: ImportPreview): string[] {
  const seen: string[] = [];
  for (const row of [...preview.rows, ...preview.skipped]) {
    for (const key of Object.keys(row.raw)) if (!seen.includes(key)) seen.push(key);
  }
  return seen;
}

function describeMapping(mapping: Mapping): string {
  const amount = mapping.amount_column
    ? `amount from “${mapping.amount_column}”`
    : `money out from “${mapping.debit_column}”, money in from “${mapping.credit_column}”`;
  const description = mapping.description_columns.length
    ? `description from ${mapping.description_columns.map((c) => `“${c}”`).join(" + ")}`
    : "no description column";
  return `Date from “${mapping.date_column}” (${mapping.date_format}), ${amount}${mapping.sign === "inverted" ? " (sign inverted)" : ""}, ${description}, decimal “${mapping.decimal}”.`;
}

// --- step 1: the file -------------------------------------------------------------------------------------

function UploadForm({ onPreview }: { onPreview: (p: ImportPreview) => void }) {
  const money = useMoney();
  const formats = useAsync((signal) => moneyApi.imports.formats(signal), []);
  const accounts = money.bankAccounts ?? [];
  const ordered = [...accounts.filter((a) => a.account_id == null), ...accounts.filter((a) => a.account_id != null)];
  const [account, setAccount] = useState("");
  const [formatId, setFormatId] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const chosen = account || (ordered[0] ? String(ordered[0].id) : "");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file || !chosen) return;
    setBusy(true);
    setError(null);
    try {
      onPreview(await moneyApi.imports.upload(Number(chosen), file, formatId ? Number(formatId) : null));
    } catch (err) {
      setError(err);
      focusFirstError(formRef.current);
    } finally {
      setBusy(false);
    }
  };

  if (money.bankAccounts !== undefined && accounts.length === 0) {
    return (
      <section className="panel">
        <EmptyState title="No bank account to import into.">
          <p className="muted">
            <Link to="/transactions/accounts">Add a hand-kept account</Link> first: statements are imported into one.
          </p>
        </EmptyState>
      </section>
    );
  }
  return (
    <form ref={formRef} className="panel money-form" onSubmit={submit} aria-labelledby="upload-h" aria-busy={busy}>
      <h2 id="upload-h">Import a statement</h2>
      <p className="help">
        A CSV export or an OFX/QFX file from your bank (at most 5 MB). Nothing is added until you have seen the preview and
        committed it.
      </p>
      <FormError error={error} fields={["bank_account_id", "file", "format_id"]} />
      <div className="field-grid">
        <SelectField name="bank_account_id" label="Into the account" value={chosen} onChange={(e) => setAccount(e.target.value)} error={error}>
          {ordered.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
              {a.account_id != null ? " (synced)" : ""}
            </option>
          ))}
        </SelectField>
        <SelectField
          name="format_id"
          label="Saved format"
          value={formatId}
          onChange={(e) => setFormatId(e.target.value)}
          help="Optional: a column mapping you saved before."
          error={error}
        >
          <option value="">Detect the layout</option>
          {(formats.data?.items ?? []).map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </SelectField>
        <TextField
          name="file"
          label="Statement file"
          type="file"
          accept=".csv,.ofx,.qfx,.txt,text/csv"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          error={error}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !file || !chosen}>
          {busy ? "Reading the file…" : "Preview"}
        </button>
      </div>
    </form>
  );
}

// --- step 2: the preview ----------------------------------------------------------------------------------

function SaveFormat({ importId }: { importId: number }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const format = await moneyApi.imports.saveFormat(importId, name.trim());
      setSaved(format.name);
      setName("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="save-format" onSubmit={submit} aria-label="Save this format">
      <FormError error={error} fields={["name"]} />
      {saved && <Notice kind="success">Saved as “{saved}”: choose it for the next statement of this bank.</Notice>}
      <div className="input-row save-format-row">
        <TextField name="name" label="Save this format as" placeholder="e.g. Chase checking" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={error} />
        <button type="submit" className="btn btn-secondary" disabled={busy || !name.trim()}>
          {busy ? "Saving…" : "Save format"}
        </button>
      </div>
    </form>
  );
}

function PreviewView({
  preview,
  onPreview,
  onCommitted,
  onDiscarded,
}: {
  preview: ImportPreview;
  onPreview: (p: ImportPreview) => void;
  onCommitted: (batch: ImportBatch) => void;
  onDiscarded: () => void;
}) {
  const money = useMoney();
  const [mappingError, setMappingError] = useState<unknown>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"preview" | "commit" | "discard" | null>(null);
  const [dirty, setDirty] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const batch = preview.batch;
  const columns = columnsOf(preview);
  const monthTotals = Object.entries(preview.totals.by_month);
  // Amounts are in the file's currency, else (a CSV without one) in the bank account's.
  const currency = preview.currency || money.bankAccounts?.find((a) => a.id === batch.bank_account_id)?.currency || "USD";

  useEffect(() => heading.current?.focus(), [preview]);

  const repreview = async (mapping: Mapping) => {
    setBusy("preview");
    setMappingError(null);
    setError(null);
    try {
      onPreview(await moneyApi.imports.preview(batch.id, { mapping }));
    } catch (err) {
      setMappingError(err);
      requestAnimationFrame(() => document.querySelector<HTMLElement>(".mapping-form [aria-invalid=true], .mapping-form .form-message")?.focus());
    } finally {
      setBusy(null);
    }
  };
  const commit = async () => {
    setBusy("commit");
    setError(null);
    try {
      onCommitted(await moneyApi.imports.commit(batch.id));
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setError(messageOf(err));
      setBusy(null);
    }
  };
  const discard = async () => {
    setBusy("discard");
    setError(null);
    try {
      await moneyApi.imports.discard(batch.id);
      onDiscarded();
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setError(messageOf(err));
      setBusy(null);
    }
  };
  const onDirtyChange = useCallback((d: boolean) => setDirty(d), []);

  return (
    <>
      <section className="panel" aria-labelledby="preview-h">
        <div className="section-head">
          <h2 id="preview-h" ref={heading} tabIndex={-1}>
            Preview of {batch.filename || "the statement"}
          </h2>
          <span className="muted small">
            {preview.format.toUpperCase()} into {money.accountName(batch.bank_account_id)}
            {preview.account_hint ? ` · account ${preview.account_hint}` : ""}
          </span>
        </div>
        {preview.mapping && <p className="small">{describeMapping(preview.mapping)}</p>}
        {preview.warnings.map((w, i) => (
          <Notice key={i} kind="warning">
            {w}
          </Notice>
        ))}
        <dl className="facts import-counts">
          <div>
            <dt>Rows read</dt>
            <dd>{formatInteger(preview.counts.rows)}</dd>
          </div>
          <div>
            <dt>New</dt>
            <dd>
              <strong>{formatInteger(preview.counts.new)}</strong>
            </dd>
          </div>
          <div>
            <dt>Duplicates</dt>
            <dd>{formatInteger(preview.counts.duplicates)}</dd>
          </div>
          <div>
            <dt>Skipped</dt>
            <dd>{formatInteger(preview.counts.skipped)}</dd>
          </div>
          <div>
            <dt>Adds up to</dt>
            <dd>
              <Amount value={preview.totals.total} currency={currency} />
            </dd>
          </div>
          {preview.closing_balance && (
            <div>
              <dt>Closing balance</dt>
              <dd>
                <Amount value={preview.closing_balance} currency={currency} />
              </dd>
            </div>
          )}
        </dl>
        {monthTotals.length > 1 && (
          <p className="small muted">
            By month:{" "}
            {monthTotals.map(([month, total], i) => (
              <span key={month}>
                {i > 0 && " · "}
                {month} <Amount value={total} currency={currency} />
              </span>
            ))}
          </p>
        )}

        {error && <Notice kind="error">{error}</Notice>}
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={() => void commit()} disabled={busy !== null || dirty || preview.counts.new === 0}>
            {busy === "commit" ? "Adding…" : preview.counts.new === 0 ? "Nothing new to add" : `Add ${pluralize(preview.counts.new, "transaction")}`}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => void discard()} disabled={busy !== null}>
            {busy === "discard" ? "Discarding…" : "Discard"}
          </button>
          {dirty && <span className="small muted">Preview your corrected mapping first.</span>}
        </div>
      </section>

      {preview.mapping && (
        <section className="panel" aria-label="Correct the mapping">
          <MappingForm
            mapping={preview.mapping}
            columns={columns}
            error={mappingError}
            busy={busy === "preview"}
            onSubmit={(m) => void repreview(m)}
            onDirtyChange={onDirtyChange}
          />
          <SaveFormat importId={batch.id} />
        </section>
      )}

      <section className="panel" aria-labelledby="rows-h">
        <h2 id="rows-h">Rows</h2>
        {preview.rows.length === 0 ? (
          <EmptyState title="No transactions were read from this file." />
        ) : (
          <div className="table-wrap">
            <table className="table preview-table">
              <caption className="visually-hidden">The statement's transactions and whether each will be added</caption>
              <thead>
                <tr>
                  <th scope="col" className="num col-line">
                    Line
                  </th>
                  <th scope="col">Date</th>
                  <th scope="col">Description</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Will be</th>
                </tr>
              </thead>
              <tbody>
                {preview.rows.slice(0, SHOWN_ROWS).map((row) => (
                  <tr key={`${row.line}-${row.fingerprint}`} className={row.duplicate ? "row-duplicate" : undefined}>
                    <td className="num col-line">{row.line}</td>
                    <td className="col-date">{formatDay(row.date, true)}</td>
                    <td className="wrap col-desc">
                      {row.description}
                      {row.pending && <span className="badge badge-pending">Pending</span>}
                    </td>
                    <td className="num col-amount">
                      <Amount value={row.amount} currency={row.currency || currency} />
                    </td>
                    <td className="wrap col-status">
                      {row.duplicate ? (
                        <>
                          <span className="badge">Skipped: duplicate</span> <span className="small muted">{row.duplicate}</span>
                        </>
                      ) : (
                        <span className="badge badge-ok">New</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {preview.rows.length > SHOWN_ROWS && (
          <p className="muted small">Showing the first {SHOWN_ROWS} of {formatInteger(preview.rows.length)} rows.</p>
        )}
        {preview.skipped.length > 0 && (
          <>
            <h3>Not transactions</h3>
            <ul className="skipped-list">
              {preview.skipped.map((s) => (
                <li key={s.line}>
                  Line {s.line}: {s.reason}
                  <span className="muted small"> — {Object.values(s.raw).filter(Boolean).join(", ")}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  );
}

// --- history ----------------------------------------------------------------------------------------------

const STATUS: Record<ImportBatch["status"], string> = { preview: "In preview", committed: "Added", undone: "Undone" };

function ImportHistory({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { canWrite } = useAuth();
  const money = useMoney();
  const history = useAsync((signal) => moneyApi.imports.list(50, signal), [version]);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming != null) cancelRef.current?.focus();
  }, [confirming]);

  const act = async (batch: ImportBatch, what: "undo" | "discard") => {
    setBusy(batch.id);
    setMessage(null);
    try {
      if (what === "undo") {
        const undone = await moneyApi.imports.undo(batch.id);
        setMessage({ kind: "success", text: `Undone: ${pluralize(undone.rows_removed, "transaction")} removed from ${money.accountName(batch.bank_account_id)}.` });
      } else {
        await moneyApi.imports.discard(batch.id);
        setMessage({ kind: "success", text: `Discarded the preview of ${batch.filename}.` });
      }
      setConfirming(null);
      onChanged();
    } catch (err) {
      if (!(err instanceof ApiError && err.sessionEnded)) setMessage({ kind: "error", text: messageOf(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="panel" aria-labelledby="history-h">
      <h2 id="history-h">Import history</h2>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {history.error ? (
        <ErrorState error={history.error} what="the import history" onRetry={history.reload} />
      ) : !history.data ? (
        <Loading>Loading the history…</Loading>
      ) : history.data.items.length === 0 ? (
        <EmptyState title="No imports yet." />
      ) : (
        <ul className="import-history">
          {history.data.items.map((batch) => (
            <li key={batch.id}>
              <div className="import-history-main">
                <div>
                  <strong className="wrap">{batch.filename || `Import #${batch.id}`}</strong>{" "}
                  <span className={`badge badge-import-${batch.status}`}>{STATUS[batch.status]}</span>
                  <div className="muted small">
                    {money.accountName(batch.bank_account_id)} · {formatDateTime(batch.committed_at ?? batch.created_at)}
                    {batch.status !== "preview" &&
                      ` · ${formatInteger(batch.rows_added)} added, ${formatInteger(batch.rows_duplicate)} duplicates, ${formatInteger(batch.rows_skipped)} skipped`}
                  </div>
                </div>
                {canWrite && batch.status !== "undone" && confirming !== batch.id && (
                  <button
                    type="button"
                    className="btn btn-secondary btn-small"
                    aria-label={`${batch.status === "committed" ? "Undo" : "Discard"} ${batch.filename || `import #${batch.id}`}`}
                    onClick={() => setConfirming(batch.id)}
                    disabled={busy !== null}
                  >
                    {batch.status === "committed" ? "Undo" : "Discard"}
                  </button>
                )}
              </div>
              {confirming === batch.id && (
                <div className="confirm" role="group" aria-label={`Confirm ${batch.status === "committed" ? "undoing" : "discarding"} ${batch.filename}`}>
                  <p>
                    {batch.status === "committed" ? (
                      <>
                        Remove the {pluralize(batch.rows_added, "transaction")} this import added, including any you categorized since?
                      </>
                    ) : (
                      <>Throw this preview away?</>
                    )}
                  </p>
                  <div className="form-actions">
                    <button type="button" className="btn btn-danger btn-small" onClick={() => void act(batch, batch.status === "committed" ? "undo" : "discard")} disabled={busy !== null}>
                      {busy === batch.id ? "Working…" : batch.status === "committed" ? "Undo import" : "Discard"}
                    </button>
                    <button type="button" className="btn btn-ghost btn-small" ref={cancelRef} onClick={() => setConfirming(null)} disabled={busy !== null}>
                      Cancel
                    </button>
                  </div>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// --- the page ---------------------------------------------------------------------------------------------

export default function ImportStatement() {
  const { canWrite } = useAuth();
  const money = useMoney();
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [done, setDone] = useState<ImportBatch | null>(null);
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  const committed = (batch: ImportBatch) => {
    setDone(batch);
    setPreview(null);
    bump();
    money.reloadBankAccounts();
  };

  return (
    <>
      <PageHeader title="Import a statement" subtitle="CSV, OFX and QFX files: preview, correct, then add.">
        {(preview || done) && (
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => {
              setPreview(null);
              setDone(null);
              bump();
            }}
          >
            Start over
          </button>
        )}
      </PageHeader>
      <MoneyTabs />
      {!canWrite ? (
        <Notice kind="info">Viewers can see the import history; importing needs the member role.</Notice>
      ) : done ? (
        <section className="panel" aria-labelledby="done-h">
          <h2 id="done-h" tabIndex={-1}>
            Import finished
          </h2>
          <Notice kind="success">
            Added {pluralize(done.rows_added, "transaction")} to {money.accountName(done.bank_account_id)} ({formatInteger(done.rows_duplicate)}{" "}
            duplicates and {formatInteger(done.rows_skipped)} other rows left out).
          </Notice>
          {done.mapping && <SaveFormat importId={done.id} />}
          <div className="form-actions">
            <Link className="btn btn-primary" to={`/transactions?account=${done.bank_account_id}`}>
              See the transactions
            </Link>
            <button type="button" className="btn btn-secondary" onClick={() => setDone(null)}>
              Import another file
            </button>
          </div>
        </section>
      ) : preview ? (
        <PreviewView
          preview={preview}
          onPreview={setPreview}
          onCommitted={committed}
          onDiscarded={() => {
            setPreview(null);
            bump();
          }}
        />
      ) : (
        <UploadForm
          onPreview={(p) => {
            setPreview(p);
            bump();
          }}
        />
      )}
      <ImportHistory version={version} onChanged={() => {
        bump();
        money.reloadBankAccounts();
      }} />
    </>
  );
}
