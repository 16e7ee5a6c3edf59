import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, messageOf } from "../../api/errors";
import { useAuth } from "../../auth/AuthContext";
import { focusFirstError, FormError, SelectField, TextField } from "../../components/Field";
import { EmptyState, ErrorState, Loading, Notice } from "../../components/Notice";
import { PageHeader } from "../../components/PageHeader";
import { Amount } from "../../components/transactions/Amount";
import { CategorySelect } from "../../components/transactions/CategorySelect";
import { MoneyTabs } from "../../components/transactions/MoneyTabs";
import { isDecimal } from "../../lib/decimal";
import { formatDay, formatInteger, pluralize } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { moneyApi } from "./api";
import { useMoney, type MoneyData } from "./context";
import type { Rule, RuleAction, RuleChange, RuleCondition, RuleIn, RuleTest, TextOp } from "./types";

const OPS: { value: TextOp; label: string }[] = [
  { value: "contains", label: "contains" },
  { value: "equals", label: "is" },
  { value: "starts_with", label: "starts with" },
  { value: "regex", label: "matches the regex" },
];

// --- describing rules -------------------------------------------------------------------------------------

export function describeCondition(c: RuleCondition, money: Pick<MoneyData, "accountName">): string {
  switch (c.field) {
    case "description":
    case "merchant":
      return `${c.field} ${OPS.find((o) => o.value === c.op)?.label ?? c.op} “${c.value}”`;
    case "amount":
      if (c.min != null && c.max != null) return `amount from ${c.min} to ${c.max}`;
      if (c.min != null) return `amount at least ${c.min}`;
      return `amount at most ${c.max}`;
    case "direction":
      return c.value === "in" ? "money in" : "money out";
    case "account":
      return `account is ${c.value.map((id) => money.accountName(id)).join(" or ")}`;
    default:
      return JSON.stringify(c);
  }
}

export function describeAction(a: RuleAction, money: Pick<MoneyData, "categoryLabel">): string {
  switch (a.type) {
    case "set_category":
      return `category → ${money.categoryLabel(a.category_id)}`;
    case "rename_merchant":
      return `merchant → “${a.name}”`;
    case "mark_transfer":
      return "mark as a transfer";
    case "add_note":
      return `add the note “${a.text}”`;
    default:
      return JSON.stringify(a);
  }
}

function describeChange(change: RuleChange, money: MoneyData): string {
  const show = (v: RuleChange["before"]) =>
    change.field === "category_id" ? money.categoryLabel(typeof v === "number" ? v : null) : v === null || v === "" ? "—" : String(v);
  const label = { category_id: "Category", merchant: "Merchant", is_transfer: "Transfer", note: "Note" }[change.field];
  return `${label}: ${show(change.before)} → ${show(change.after)}`;
}

// --- the editor -------------------------------------------------------------------------------------------

type CondDraft = { field: RuleCondition["field"]; op: TextOp; text: string; min: string; max: string; direction: "in" | "out"; accounts: number[] };
type ActDraft = { type: RuleAction["type"]; categoryId: number | null; text: string };

function condDraft(c?: RuleCondition): CondDraft {
  const base: CondDraft = { field: "merchant", op: "contains", text: "", min: "", max: "", direction: "out", accounts: [] };
  if (!c) return base;
  switch (c.field) {
    case "description":
    case "merchant":
      return { ...base, field: c.field, op: c.op, text: c.value };
    case "amount":
      return { ...base, field: "amount", min: c.min ?? "", max: c.max ?? "" };
    case "direction":
      return { ...base, field: "direction", direction: c.value };
    case "account":
      return { ...base, field: "account", accounts: c.value };
    default:
      return base;
  }
}

function actDraft(a?: RuleAction): ActDraft {
  const base: ActDraft = { type: "set_category", categoryId: null, text: "" };
  if (!a) return base;
  switch (a.type) {
    case "set_category":
      return { ...base, categoryId: a.category_id };
    case "rename_merchant":
      return { ...base, type: a.type, text: a.name };
    case "add_note":
      return { ...base, type: a.type, text: a.text };
    default:
      return { ...base, type: a.type };
  }
}

function toCondition(d: CondDraft): RuleCondition {
  switch (d.field) {
    case "amount":
      return { field: "amount", ...(d.min.trim() ? { min: d.min.trim() } : {}), ...(d.max.trim() ? { max: d.max.trim() } : {}) };
    case "direction":
      return { field: "direction", value: d.direction };
    case "account":
      return { field: "account", value: d.accounts };
    default:
      return { field: d.field, op: d.op, value: d.text };
  }
}

function toAction(d: ActDraft): RuleAction {
  switch (d.type) {
    case "set_category":
      return { type: "set_category", category_id: d.categoryId ?? 0 };
    case "rename_merchant":
      return { type: "rename_merchant", name: d.text };
    case "add_note":
      return { type: "add_note", text: d.text };
    default:
      return { type: "mark_transfer" };
  }
}

function TestResult({ result, money }: { result: RuleTest; money: MoneyData }) {
  return (
    <div className="rule-test" role="status">
      <p>
        <strong>
          Matches {pluralize(result.matched, "transaction")} of the latest {formatInteger(result.scanned)}
        </strong>
        {result.changes.length ? `; it would change ${pluralize(result.changes.length, "value")}:` : "; it would change nothing."}
      </p>
      {result.changes.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">What the rule would change</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Transaction</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {result.changes.slice(0, 50).map((change, i) => (
                <tr key={`${change.transaction_id}-${change.field}-${i}`}>
                  <td>{formatDay(change.posted_on, true)}</td>
                  <td className="wrap">{change.merchant || change.description}</td>
                  <td className="num">
                    <Amount value={change.amount} currency={change.currency} />
                  </td>
                  <td className="wrap">
                    {describeChange(change, money)}
                    {change.manual && <span className="muted small"> (categorized by hand: applying rules leaves it alone)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.changes.length > 50 && <p className="muted small">And {formatInteger(result.changes.length - 50)} more.</p>}
    </div>
  );
}

function RuleEditor({ rule, onSaved, onCancel }: { rule: Rule | null; onSaved: (r: Rule) => void; onCancel: () => void }) {
  const money = useMoney();
  const [name, setName] = useState(rule?.name ?? "");
  const [match, setMatch] = useState<"all" | "any">(rule?.match ?? "all");
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [conditions, setConditions] = useState<CondDraft[]>(rule ? rule.conditions.map(condDraft) : [condDraft()]);
  const [actions, setActions] = useState<ActDraft[]>(rule ? rule.actions.map(actDraft) : [actDraft()]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<"save" | "test" | null>(null);
  const [test, setTest] = useState<RuleTest | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const accounts = money.bankAccounts ?? [];

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input")?.focus();
  }, []);

  const body = (): RuleIn => ({ name: name.trim(), match, enabled, conditions: conditions.map(toCondition), actions: actions.map(toAction) });
  const setCond = (i: number, changes: Partial<CondDraft>) => setConditions((list) => list.map((c, j) => (j === i ? { ...c, ...changes } : c)));
  const setAct = (i: number, changes: Partial<ActDraft>) => setActions((list) => list.map((a, j) => (j === i ? { ...a, ...changes } : a)));
  const amountProblem = (text: string) => (text.trim() && !isDecimal(text.trim()) ? ["Enter an amount such as -20."] : []);

  const runTest = async () => {
    setBusy("test");
    setError(null);
    setTest(null);
    try {
      // The name is optional when trying a rule out.
      setTest(await moneyApi.rules.test(name.trim() ? body() : { ...body(), name: undefined }));
    } catch (err) {
      setError(err);
      focusFirstError(formRef.current);
    } finally {
      setBusy(null);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy("save");
    setError(null);
    try {
      onSaved(rule ? await moneyApi.rules.update(rule.id, body()) : await moneyApi.rules.create(body()));
    } catch (err) {
      setError(err);
      setBusy(null);
      focusFirstError(formRef.current);
    }
  };

  const fields = [
    "name",
    "match",
    "enabled",
    "conditions",
    "actions",
    ...conditions.flatMap((_c, i) => [`conditions.${i}.value`, `conditions.${i}.min`, `conditions.${i}.max`, `conditions.${i}.op`, `conditions.${i}.field`]),
    ...actions.flatMap((_a, i) => [`actions.${i}.category_id`, `actions.${i}.name`, `actions.${i}.text`, `actions.${i}.type`]),
  ];
  return (
    <form ref={formRef} className="card money-form rule-editor" onSubmit={submit} aria-labelledby="rule-editor-h" aria-busy={busy !== null}>
      <h2 id="rule-editor-h">{rule ? `Edit “${rule.name}”` : "New rule"}</h2>
      <FormError error={error} fields={fields} />
      <div className="field-grid">
        <TextField name="name" label="Name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} error={error} />
        <SelectField name="match" label="Applies when" value={match} onChange={(e) => setMatch(e.target.value as "all" | "any")} error={error}>
          <option value="all">all conditions match</option>
          <option value="any">any condition matches</option>
        </SelectField>
      </div>

      <fieldset>
        <legend>Conditions</legend>
        {conditions.map((c, i) => (
          <div className="rule-line" key={i} role="group" aria-label={`Condition ${i + 1}`}>
            <SelectField
              name={`conditions.${i}.field`}
              label="Field"
              value={c.field}
              onChange={(e) => setCond(i, { field: e.target.value as CondDraft["field"] })}
              error={error}
            >
              <option value="merchant">Merchant</option>
              <option value="description">Description</option>
              <option value="amount">Amount</option>
              <option value="direction">Direction</option>
              <option value="account">Account</option>
            </SelectField>
            {(c.field === "merchant" || c.field === "description") && (
              <>
                <SelectField name={`conditions.${i}.op`} label="Test" value={c.op} onChange={(e) => setCond(i, { op: e.target.value as TextOp })} error={error}>
                  {OPS.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </SelectField>
                <TextField name={`conditions.${i}.value`} label="Text" maxLength={200} value={c.text} onChange={(e) => setCond(i, { text: e.target.value })} error={error} />
              </>
            )}
            {c.field === "amount" && (
              <>
                <TextField
                  name={`conditions.${i}.min`}
                  label="From"
                  inputMode="decimal"
                  placeholder="-20"
                  value={c.min}
                  onChange={(e) => setCond(i, { min: e.target.value })}
                  messages={amountProblem(c.min)}
                  error={error}
                />
                <TextField
                  name={`conditions.${i}.max`}
                  label="To"
                  inputMode="decimal"
                  placeholder="-5"
                  value={c.max}
                  onChange={(e) => setCond(i, { max: e.target.value })}
                  messages={amountProblem(c.max)}
                  error={error}
                />
              </>
            )}
            {c.field === "direction" && (
              <SelectField
                name={`conditions.${i}.value`}
                label="Is"
                value={c.direction}
                onChange={(e) => setCond(i, { direction: e.target.value as "in" | "out" })}
                error={error}
              >
                <option value="out">money out</option>
                <option value="in">money in</option>
              </SelectField>
            )}
            {c.field === "account" && (
              <SelectField
                name={`conditions.${i}.value`}
                label="Account"
                value={c.accounts[0] != null ? String(c.accounts[0]) : ""}
                onChange={(e) => setCond(i, { accounts: e.target.value ? [Number(e.target.value)] : [] })}
                error={error}
              >
                <option value="">Choose…</option>
                {accounts.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </SelectField>
            )}
            {conditions.length > 1 && (
              <button
                type="button"
                className="btn btn-ghost btn-small rule-remove"
                aria-label={`Remove condition ${i + 1}`}
                onClick={() => setConditions((list) => list.filter((_x, j) => j !== i))}
              >
                Remove
              </button>
            )}
          </div>
        ))}
        {conditions.length < 20 && (
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setConditions((list) => [...list, condDraft()])}>
            Add a condition
          </button>
        )}
        <p className="help">Amounts are signed: money out is negative (purchases of 5 to 20 are −20 to −5).</p>
      </fieldset>

      <fieldset>
        <legend>Actions</legend>
        {actions.map((a, i) => (
          <div className="rule-line" key={i} role="group" aria-label={`Action ${i + 1}`}>
            <SelectField name={`actions.${i}.type`} label="Do" value={a.type} onChange={(e) => setAct(i, { type: e.target.value as ActDraft["type"] })} error={error}>
              <option value="set_category">Set the category</option>
              <option value="rename_merchant">Rename the merchant</option>
              <option value="mark_transfer">Mark as a transfer</option>
              <option value="add_note">Add a note</option>
            </SelectField>
            {a.type === "set_category" && money.categories && (
              <div className="field">
                <label htmlFor={`rule-act-${i}`}>Category</label>
                <CategorySelect
                  id={`rule-act-${i}`}
                  data-field={`actions.${i}.category_id`}
                  categories={money.categories}
                  value={a.categoryId}
                  onChange={(id) => setAct(i, { categoryId: id })}
                  emptyLabel="Choose…"
                />
                <p className="field-error" hidden={!(error instanceof ApiError && error.errorsFor(`actions.${i}.category_id`).length)}>
                  {error instanceof ApiError ? error.errorsFor(`actions.${i}.category_id`).join("; ") : ""}
                </p>
              </div>
            )}
            {(a.type === "rename_merchant" || a.type === "add_note") && (
              <TextField
                name={a.type === "rename_merchant" ? `actions.${i}.name` : `actions.${i}.text`}
                label={a.type === "rename_merchant" ? "New name" : "Note"}
                maxLength={200}
                value={a.text}
                onChange={(e) => setAct(i, { text: e.target.value })}
                error={error}
              />
            )}
            {actions.length > 1 && (
              <button
                type="button"
                className="btn btn-ghost btn-small rule-remove"
                aria-label={`Remove action ${i + 1}`}
                onClick={() => setActions((list) => list.filter((_x, j) => j !== i))}
              >
                Remove
              </button>
            )}
          </div>
        ))}
        {actions.length < 10 && (
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setActions((list) => [...list, actDraft({ type: "add_note", text: "" })])}>
            Add an action
          </button>
        )}
      </fieldset>

      <div className="field field-checkbox">
        <div className="checkbox-row">
          <input id="rule-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <label htmlFor="rule-enabled">Enabled</label>
        </div>
      </div>

      {test && <TestResult result={test} money={money} />}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy !== null}>
          {busy === "save" ? "Saving…" : rule ? "Save rule" : "Create rule"}
        </button>
        <button type="button" className="btn btn-secondary" onClick={() => void runTest()} disabled={busy !== null}>
          {busy === "test" ? "Testing…" : "Test rule"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy === "save"}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// --- the page ---------------------------------------------------------------------------------------------

export default function Rules() {
  const { canWrite } = useAuth();
  const money = useMoney();
  const rules = useAsync((signal) => moneyApi.rules.list(signal), []);
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [message, setMessage] = useState<{ kind: "success" | "error" | "info"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [tests, setTests] = useState<Record<number, RuleTest>>({});
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const list = rules.data?.items ?? [];

  const fail = (err: unknown) => {
    if (!(err instanceof ApiError && err.sessionEnded)) setMessage({ kind: "error", text: messageOf(err) });
  };

  const move = async (index: number, delta: -1 | 1) => {
    const target = index + delta;
    if (target < 0 || target >= list.length) return;
    const ids = list.map((r) => r.id);
    [ids[index], ids[target]] = [ids[target], ids[index]];
    setBusy(true);
    setMessage(null);
    try {
      const reordered = await moneyApi.rules.reorder(ids);
      rules.setData(reordered);
      setMessage({ kind: "info", text: `Moved “${list[index].name}” ${delta < 0 ? "up" : "down"}.` });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const testSaved = async (rule: Rule) => {
    setBusy(true);
    setMessage(null);
    try {
      const result = await moneyApi.rules.testSaved(rule.id);
      setTests((t) => ({ ...t, [rule.id]: result }));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (rule: Rule) => {
    setBusy(true);
    setMessage(null);
    try {
      await moneyApi.rules.remove(rule.id);
      setConfirmDelete(null);
      setMessage({ kind: "success", text: `Deleted “${rule.name}”. Transactions it categorized keep their category.` });
      rules.reload();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  const applyAll = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const result = await moneyApi.rules.apply({});
      setMessage({
        kind: "success",
        text: `Applied the rules to ${pluralize(result.scanned, "past transaction")}: ${pluralize(result.changed, "transaction")} changed. Transactions you categorized by hand were left alone.`,
      });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Rules" subtitle="Rules run in order on every new transaction: the first rule that sets a category wins.">
        {canWrite && (
          <>
            <button type="button" className="btn btn-secondary" onClick={() => void applyAll()} disabled={busy || list.length === 0}>
              Apply rules to past transactions
            </button>
            {editing === null && (
              <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
                New rule
              </button>
            )}
          </>
        )}
      </PageHeader>
      <MoneyTabs />
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {editing !== null && (
        <RuleEditor
          rule={editing === "new" ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            setMessage({ kind: "success", text: `Saved “${saved.name}”. Use “Apply rules to past transactions” to re-categorize what is already there.` });
            rules.reload();
          }}
        />
      )}

      <section className="panel" aria-labelledby="rules-h">
        <h2 id="rules-h">In the order they run</h2>
        {rules.error ? (
          <ErrorState error={rules.error} what="the rules" onRetry={rules.reload} />
        ) : !rules.data ? (
          <Loading>Loading rules…</Loading>
        ) : list.length === 0 ? (
          <EmptyState title="No rules yet.">
            <p className="muted">
              Create one here, or choose a category for a transaction and answer “Yes, create a rule”.
            </p>
          </EmptyState>
        ) : (
          <ol className="rule-list">
            {list.map((rule, index) => (
              <li key={rule.id} className={rule.enabled ? undefined : "rule-disabled"}>
                <div className="rule-row">
                  <div className="rule-text">
                    <strong>{rule.name}</strong> {!rule.enabled && <span className="badge">Disabled</span>}
                    <div className="small">
                      <span className="muted">If {rule.match === "any" ? "any of" : ""} </span>
                      {rule.conditions.map((c) => describeCondition(c, money)).join(rule.match === "any" ? " or " : " and ")}
                      <span className="muted"> then </span>
                      {rule.actions.map((a) => describeAction(a, money)).join(", ")}
                    </div>
                  </div>
                  {canWrite && (
                    <div className="rule-actions" role="group" aria-label={`Actions for ${rule.name}`}>
                      <button
                        type="button"
                        className="btn btn-ghost btn-small"
                        aria-label={`Move ${rule.name} up`}
                        onClick={() => void move(index, -1)}
                        disabled={busy || index === 0}
                      >
                        <span aria-hidden="true">↑</span> Up
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-small"
                        aria-label={`Move ${rule.name} down`}
                        onClick={() => void move(index, 1)}
                        disabled={busy || index === list.length - 1}
                      >
                        <span aria-hidden="true">↓</span> Down
                      </button>
                      <button type="button" className="btn btn-ghost btn-small" aria-label={`Test ${rule.name}`} onClick={() => void testSaved(rule)} disabled={busy}>
                        Test
                      </button>
                      <button type="button" className="btn btn-ghost btn-small" aria-label={`Edit ${rule.name}`} onClick={() => setEditing(rule)} disabled={busy}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="btn btn-danger-outline btn-small"
                        aria-label={`Delete ${rule.name}`}
                        onClick={() => setConfirmDelete(rule.id)}
                        disabled={busy}
                      >
                        Delete
                      </button>
                    </div>
                  )}
                </div>
                {confirmDelete === rule.id && (
                  <div className="confirm" role="group" aria-label={`Confirm deleting ${rule.name}`}>
                    <p>Delete “{rule.name}”? Transactions it categorized keep their category.</p>
                    <div className="form-actions">
                      <button type="button" className="btn btn-danger btn-small" onClick={() => void remove(rule)} disabled={busy}>
                        Delete rule
                      </button>
                      <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirmDelete(null)}>
                        Cancel
                      </button>
                    </div>
                  </div>
                )}
                {tests[rule.id] && <TestResult result={tests[rule.id]} money={money} />}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
