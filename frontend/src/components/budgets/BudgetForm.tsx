import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import type { Budget, BudgetDetail, BudgetIn, BudgetPeriod, Threshold, Weekday } from "../../api/types";
import { CheckboxField, focusFirstError, FormError, SelectField, TextField } from "../Field";
import { exactErrors, trimZeros } from "../channels/forms";
import { ChannelPicker } from "./ChannelPicker";
import { aiAccounts, aiProviders, type AlertingRefs } from "./refs";
import { DEFAULT_THRESHOLDS, thresholdProblems, ThresholdsEditor } from "./ThresholdsEditor";

export type ScopeKind = "ai" | "money";

export interface BudgetFormValues {
  name: string;
  scopeKind: ScopeKind;
  provider: string;
  account_id: string;
  model: string;
  project: string;
  category_id: string;
  bank_account_id: string;
  period: BudgetPeriod;
  week_start: Weekday;
  amount: string;
  currency: string;
  thresholds: Threshold[];
  basis: Budget["basis"];
  channels: number[];
  repeat_minutes: string;
  notify_on_resolve: boolean;
}

export const PERIODS: [BudgetPeriod, string][] = [
  ["day", "Day"],
  ["week", "Week"],
  ["month", "Month"],
  ["quarter", "Quarter"],
  ["year", "Year"],
];

export const WEEKDAYS: Weekday[] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const BASES: [Budget["basis"], string][] = [
  ["actual", "Actual spend — fire when spend reaches a threshold"],
  ["forecast", "Forecast — fire when the period's forecast reaches a threshold"],
  ["both", "Both — actual and forecast, told apart"],
];

export function valuesFromBudget(budget?: Budget): BudgetFormValues {
  const s = budget?.scope;
  const money = s?.category_id != null || s?.bank_account_id != null;
  return {
    name: budget?.name ?? "",
    scopeKind: money ? "money" : "ai",
    provider: s?.provider ?? "",
    account_id: s?.account_id != null ? String(s.account_id) : "",
    model: s?.model ?? "",
    project: s?.project ?? "",
    category_id: s?.category_id != null ? String(s.category_id) : "",
    bank_account_id: s?.bank_account_id != null ? String(s.bank_account_id) : "",
    period: budget?.period ?? "month",
    week_start: (budget?.week_start as Weekday) ?? "monday",
    amount: budget ? trimZeros(budget.amount) : "",
    currency: budget?.currency ?? "USD",
    thresholds: budget ? budget.thresholds.map((t) => ({ type: t.type, value: trimZeros(t.value) })) : DEFAULT_THRESHOLDS,
    basis: budget?.basis ?? "actual",
    channels: budget?.channels ?? [],
    repeat_minutes: budget?.repeat_minutes != null ? String(budget.repeat_minutes) : "",
    notify_on_resolve: budget?.notify_on_resolve ?? false,
  };
}

/** The request body for VALUES: AI scope fields or money scope fields, never both; empty fields left out. */
export function budgetBody(v: BudgetFormValues): BudgetIn {
  const scope: BudgetIn["scope"] = {};
  if (v.scopeKind === "ai") {
    if (v.provider) scope.provider = v.provider;
    if (v.account_id) scope.account_id = Number(v.account_id);
    if (v.model.trim()) scope.model = v.model.trim();
    if (v.project.trim()) scope.project = v.project.trim();
  } else {
    if (v.category_id) scope.category_id = Number(v.category_id);
    if (v.bank_account_id) scope.bank_account_id = Number(v.bank_account_id);
  }
  return {
    name: v.name.trim(),
    scope,
    period: v.period,
    week_start: v.week_start,
    amount: v.amount.trim(),
    currency: v.currency.trim().toUpperCase(),
    thresholds: v.thresholds.map((t) => ({ type: t.type, value: t.value.trim() })),
    basis: v.basis,
    channels: v.channels,
    repeat_minutes: v.repeat_minutes.trim() ? Number(v.repeat_minutes) : null,
    notify_on_resolve: v.notify_on_resolve,
  };
}

/** Problems the browser can tell before asking the server, by field path. */
export function budgetProblems(v: BudgetFormValues): Record<string, string> {
  const p: Record<string, string> = {};
  if (!v.name.trim()) p.name = "Give the budget a name.";
  const amount = v.amount.trim();
  if (!amount) p.amount = "Enter the budget amount.";
  else if (!/^\d+(\.\d+)?$/.test(amount) || Number(amount) <= 0) p.amount = "Enter an amount above 0, like 500 or 99.50.";
  if (!/^[A-Za-z]{3}$/.test(v.currency.trim())) p.currency = "A three-letter currency code, like USD.";
  if (v.scopeKind === "money" && !v.category_id && !v.bank_account_id) p.scope = "Choose a category, a bank account or both.";
  if (v.repeat_minutes.trim()) {
    const n = Number(v.repeat_minutes);
    if (!Number.isInteger(n) || n < 1 || n > 44640) p.repeat_minutes = "Whole minutes from 1 to 44640, or empty.";
  }
  const t = thresholdProblems(v.thresholds);
  if (t.list || Object.keys(t.rows).length) p.thresholds = t.list ?? "Fix the thresholds marked below.";
  return p;
}

const FIELDS = [
  "name",
  "scope",
  "scope.provider",
  "scope.account_id",
  "scope.model",
  "scope.project",
  "scope.category_id",
  "scope.bank_account_id",
  "period",
  "week_start",
  "amount",
  "currency",
  "thresholds",
  ...Array.from({ length: 10 }, (_, i) => [`thresholds.${i}`, `thresholds.${i}.type`, `thresholds.${i}.value`]).flat(),
  "basis",
  "channels",
  "repeat_minutes",
  "notify_on_resolve",
];

export function BudgetForm({
  budget,
  refs,
  onSaved,
  onCancel,
}: {
  budget?: Budget;
  refs: AlertingRefs;
  onSaved: (saved: BudgetDetail) => void;
  onCancel: () => void;
}) {
  const [v, setV] = useState<BudgetFormValues>(() => valuesFromBudget(budget));
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const headingId = `budget-form-${useId().replace(/:/g, "")}`;
  const set = <K extends keyof BudgetFormValues>(key: K, value: BudgetFormValues[K]) => setV((cur) => ({ ...cur, [key]: value }));
  const problems = checked ? budgetProblems(v) : {};
  const msg = (name: string) => (problems[name] ? [problems[name]] : []);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input")?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    setError(null);
    if (Object.keys(budgetProblems(v)).length) {
      focusFirstError(formRef.current);
      return;
    }
    setBusy(true);
    try {
      const body = budgetBody(v);
      onSaved(budget ? await api.budgets.update(budget.id, body) : await api.budgets.create(body));
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  const providers = aiProviders(refs);
  const accounts = aiAccounts(refs, v.provider || undefined);
  const scopeMessages = [...exactErrors(error, "scope"), ...msg("scope")];

  return (
    <form ref={formRef} className="card budget-form" aria-labelledby={headingId} onSubmit={submit} aria-busy={busy} noValidate>
      <h2 id={headingId}>{budget ? `Edit “${budget.name}”` : "New budget"}</h2>
      <FormError error={error} fields={FIELDS} />
      <TextField name="name" label="Name" required maxLength={120} autoComplete="off" value={v.name} onChange={(e) => set("name", e.target.value)} error={error} messages={msg("name")} />

      <fieldset className="scope-fieldset" aria-describedby={`${headingId}-scope-error`}>
        <legend>What it counts</legend>
        <div className="segmented" role="radiogroup" aria-label="Kind of spend">
          {(
            [
              ["ai", "AI spend"],
              ["money", "Bank spending"],
            ] as [ScopeKind, string][]
          ).map(([kind, label]) => (
            <label key={kind} className={v.scopeKind === kind ? "active" : undefined}>
              <input type="radio" name={`${headingId}-kind`} value={kind} checked={v.scopeKind === kind} onChange={() => set("scopeKind", kind)} />
              {label}
            </label>
          ))}
        </div>
        {v.scopeKind === "ai" ? (
          <>
            <p className="help">Leave a field on “Any” to count all of it: with every field on “Any” the budget counts the whole workspace's AI spend.</p>
            <div className="field-grid">
              <SelectField
                name="scope.provider"
                label="Provider"
                value={v.provider}
                onChange={(e) => setV((cur) => ({ ...cur, provider: e.target.value, account_id: "" }))}
                error={error}
              >
                <option value="">Any provider</option>
                {providers.map((p) => (
                  <option key={p.kind} value={p.kind}>
                    {p.label}
                  </option>
                ))}
                {v.provider && !providers.some((p) => p.kind === v.provider) && <option value={v.provider}>{v.provider}</option>}
              </SelectField>
              <SelectField name="scope.account_id" label="Account" value={v.account_id} onChange={(e) => set("account_id", e.target.value)} error={error}>
                <option value="">Any account</option>
                {accounts.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
                {v.account_id && !accounts.some((a) => String(a.id) === v.account_id) && (
                  <option value={v.account_id}>Account #{v.account_id}</option>
                )}
              </SelectField>
              <TextField name="scope.model" label="Model" placeholder="Any model" autoComplete="off" spellCheck={false} value={v.model} onChange={(e) => set("model", e.target.value)} error={error} />
              <TextField name="scope.project" label="Project" placeholder="Any project" autoComplete="off" spellCheck={false} value={v.project} onChange={(e) => set("project", e.target.value)} error={error} />
            </div>
          </>
        ) : (
          <>
            <p className="help">Counts money out of bank transactions (refunds lower it; transfers between your own accounts never count). Choose a category, a bank account, or both.</p>
            <div className="field-grid">
              <SelectField
                name="scope.category_id"
                label="Category"
                value={v.category_id}
                onChange={(e) => set("category_id", e.target.value)}
                error={error}
                messages={refs.categories.error ? ["Could not load the categories."] : []}
                help="Includes its subcategories."
              >
                <option value="">Any category</option>
                {refs.categories.items.map((parent) =>
                  parent.children.length ? (
                    <optgroup key={parent.id} label={parent.name}>
                      <option value={parent.id}>{parent.name} (all)</option>
                      {parent.children.map((child) => (
                        <option key={child.id} value={child.id}>
                          {child.name}
                        </option>
                      ))}
                    </optgroup>
                  ) : (
                    <option key={parent.id} value={parent.id}>
                      {parent.name}
                    </option>
                  ),
                )}
              </SelectField>
              <SelectField
                name="scope.bank_account_id"
                label="Bank account"
                value={v.bank_account_id}
                onChange={(e) => {
                  const account = refs.bankAccounts.items.find((b) => String(b.id) === e.target.value);
                  setV((cur) => ({ ...cur, bank_account_id: e.target.value, currency: account?.currency ?? cur.currency }));
                }}
                error={error}
                messages={refs.bankAccounts.error ? ["Could not load the bank accounts."] : []}
                help={refs.bankAccounts.items.length || refs.bankAccounts.error ? undefined : "No bank accounts yet."}
              >
                <option value="">Any bank account</option>
                {refs.bankAccounts.items.map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.name}
                    {b.institution ? ` (${b.institution})` : ""} · {b.currency}
                  </option>
                ))}
              </SelectField>
            </div>
          </>
        )}
        <p className="field-error" id={`${headingId}-scope-error`} data-field="scope" aria-invalid={scopeMessages.length ? true : undefined} tabIndex={scopeMessages.length ? -1 : undefined} hidden={scopeMessages.length === 0}>
          {scopeMessages.join("; ")}
        </p>
      </fieldset>

      <fieldset>
        <legend>Amount and period</legend>
        <div className="field-grid">
          <TextField name="amount" label="Amount" required inputMode="decimal" autoComplete="off" placeholder="500" value={v.amount} onChange={(e) => set("amount", e.target.value.replace(",", "."))} error={error} messages={msg("amount")} />
          <TextField
            name="currency"
            label="Currency"
            required
            maxLength={3}
            autoComplete="off"
            spellCheck={false}
            value={v.currency}
            onChange={(e) => set("currency", e.target.value.toUpperCase())}
            error={error}
            messages={msg("currency")}
            help="Only spend in this currency counts."
          />
          <SelectField name="period" label="Period" value={v.period} onChange={(e) => set("period", e.target.value as BudgetPeriod)} error={error} help="In the workspace's time zone; each period starts clean.">
            {PERIODS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          {v.period === "week" && (
            <SelectField name="week_start" label="Week starts on" value={v.week_start} onChange={(e) => set("week_start", e.target.value as Weekday)} error={error}>
              {WEEKDAYS.map((day) => (
                <option key={day} value={day}>
                  {capital(day)}
                </option>
              ))}
            </SelectField>
          )}
        </div>
      </fieldset>

      <ThresholdsEditor value={v.thresholds} onChange={(rows) => set("thresholds", rows)} currency={v.currency} error={error} showProblems={checked} />

      <SelectField name="basis" label="Basis" value={v.basis} onChange={(e) => set("basis", e.target.value as Budget["basis"])} error={error}>
        {BASES.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </SelectField>

      <ChannelPicker channels={refs.channels.items} loadError={refs.channels.error} value={v.channels} onChange={(ids) => set("channels", ids)} error={error} />

      <fieldset>
        <legend>Reminders</legend>
        <div className="field-grid">
          <TextField
            name="repeat_minutes"
            label="Repeat every (minutes)"
            type="number"
            min={1}
            max={44640}
            inputMode="numeric"
            value={v.repeat_minutes}
            onChange={(e) => set("repeat_minutes", e.target.value)}
            error={error}
            messages={msg("repeat_minutes")}
            help="While a threshold stays firing, notify again this often. Empty: tell once."
          />
        </div>
        <CheckboxField name="notify_on_resolve" label="Also notify when it resolves (spend drops back below a threshold)" checked={v.notify_on_resolve} onChange={(e) => set("notify_on_resolve", e.target.checked)} error={error} />
      </fieldset>

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : budget ? "Save changes" : "Create budget"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
