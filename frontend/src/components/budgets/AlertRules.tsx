// Anomaly and sync-health rules (/api/alert-rules): list with state, create, edit, mute/snooze, delete.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { AlertRule, AlertRuleDetail, AlertRuleIn, AlertRuleKind } from "../../api/types";
import { formatDateTime, formatMoney, formatRelative } from "../../lib/format";
import { CheckboxField, focusFirstError, FormError, SelectField, TextField } from "../Field";
import { EmptyState, Notice } from "../Notice";
import { ConfirmBox, exactErrors, isSessionEnd, useFocusLater } from "../channels/forms";
import { ChannelPicker } from "./ChannelPicker";
import type { AlertingRefs, Namers } from "./refs";
import { SilenceBadges, SilenceControls } from "./SilenceControls";

export const RULE_KINDS: [AlertRuleKind, string, string][] = [
  ["anomaly", "Spend anomaly", "A day's spend far above its own baseline (a runaway job, a leaked key)."],
  ["sync_health", "Sync health", "An account that keeps failing to sync, or whose data goes stale."],
];
const kindLabel = (kind: AlertRuleKind) => RULE_KINDS.find(([k]) => k === kind)?.[1] ?? kind;

interface RuleValues {
  name: string;
  kind: AlertRuleKind;
  provider: string;
  account_id: string;
  model: string;
  project: string;
  z_threshold: string;
  min_amount: string;
  baseline_days: string;
  currency: string;
  failures: string;
  stale_hours: string;
  channels: number[];
  repeat_minutes: string;
  notify_on_resolve: boolean;
}

const DEFAULT_NOTIFY: Record<AlertRuleKind, boolean> = { anomaly: false, sync_health: true };

function valuesOf(rule?: AlertRule): RuleValues {
  const p = rule?.params ?? {};
  const str = (key: string, fallback: string) => (p[key] != null ? String(p[key]) : fallback);
  const kind = rule?.kind ?? "anomaly";
  return {
    name: rule?.name ?? "",
    kind,
    provider: rule?.scope.provider ?? "",
    account_id: rule?.scope.account_id != null ? String(rule.scope.account_id) : "",
    model: rule?.scope.model ?? "",
    project: rule?.scope.project ?? "",
    z_threshold: str("z_threshold", "3.5"),
    min_amount: str("min_amount", "5.00"),
    baseline_days: str("baseline_days", "28"),
    currency: str("currency", "USD"),
    failures: str("failures", "3"),
    stale_hours: str("stale_hours", "24"),
    channels: rule?.channels ?? [],
    repeat_minutes: rule?.repeat_minutes != null ? String(rule.repeat_minutes) : "",
    notify_on_resolve: rule?.notify_on_resolve ?? DEFAULT_NOTIFY[kind],
  };
}

export function ruleBody(v: RuleValues): AlertRuleIn {
  const scope: AlertRuleIn["scope"] = {};
  if (v.provider) scope.provider = v.provider;
  if (v.account_id) scope.account_id = Number(v.account_id);
  if (v.kind === "anomaly") {
    if (v.model.trim()) scope.model = v.model.trim();
    if (v.project.trim()) scope.project = v.project.trim();
  }
  const params: AlertRuleIn["params"] =
    v.kind === "anomaly"
      ? {
          z_threshold: v.z_threshold.trim(),
          min_amount: v.min_amount.trim(),
          baseline_days: Number(v.baseline_days),
          currency: v.currency.trim().toUpperCase(),
        }
      : { failures: Number(v.failures), stale_hours: Number(v.stale_hours) };
  return {
    name: v.name.trim(),
    kind: v.kind,
    scope,
    params,
    channels: v.channels,
    repeat_minutes: v.repeat_minutes.trim() ? Number(v.repeat_minutes) : null,
    notify_on_resolve: v.notify_on_resolve,
  };
}

function ruleProblems(v: RuleValues): Record<string, string> {
  const p: Record<string, string> = {};
  const intIn = (text: string, lo: number, hi: number) => /^\d+$/.test(text.trim()) && Number(text) >= lo && Number(text) <= hi;
  const decIn = (text: string, lo: number, hi: number) => /^\d+(\.\d+)?$/.test(text.trim()) && Number(text) >= lo && Number(text) <= hi;
  if (!v.name.trim()) p.name = "Give the rule a name.";
  if (v.kind === "anomaly") {
    if (!decIn(v.z_threshold, 1, 20)) p["params.z_threshold"] = "A number from 1 to 20.";
    if (!decIn(v.min_amount, 0, 1e12)) p["params.min_amount"] = "An amount of 0 or more.";
    if (!intIn(v.baseline_days, 7, 90)) p["params.baseline_days"] = "Whole days from 7 to 90.";
    if (!/^[A-Za-z]{3}$/.test(v.currency.trim())) p["params.currency"] = "A three-letter currency code, like USD.";
  } else {
    if (!intIn(v.failures, 1, 100)) p["params.failures"] = "A whole number from 1 to 100.";
    if (!intIn(v.stale_hours, 1, 720)) p["params.stale_hours"] = "Whole hours from 1 to 720.";
  }
  if (v.repeat_minutes.trim() && !intIn(v.repeat_minutes, 1, 43200)) p.repeat_minutes = "Whole minutes from 1 to 43200, or empty.";
  return p;
}

const RULE_FIELDS = [
  "name",
  "kind",
  "scope.provider",
  "scope.account_id",
  "scope.model",
  "scope.project",
  "params.z_threshold",
  "params.min_amount",
  "params.baseline_days",
  "params.currency",
  "params.failures",
  "params.stale_hours",
  "channels",
  "repeat_minutes",
  "notify_on_resolve",
];

export function RuleForm({
  rule,
  refs,
  onSaved,
  onCancel,
}: {
  rule?: AlertRule;
  refs: AlertingRefs;
  onSaved: (r: AlertRuleDetail) => void;
  onCancel: () => void;
}) {
  const [v, setV] = useState<RuleValues>(() => valuesOf(rule));
  const [notifyTouched, setNotifyTouched] = useState(Boolean(rule));
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const headingId = `rule-form-${useId().replace(/:/g, "")}`;
  const set = <K extends keyof RuleValues>(key: K, value: RuleValues[K]) => setV((cur) => ({ ...cur, [key]: value }));
  const problems = checked ? ruleProblems(v) : {};
  const msg = (name: string) => [...(problems[name] ? [problems[name]] : []), ...(name.startsWith("params.") ? exactErrors(error, name) : [])];

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>("input, select")?.focus();
  }, []);

  // Sync health watches accounts that sync (not manual entries); anomaly rules watch AI spend.
  const providers = refs.providers.items.filter((p) => (v.kind === "anomaly" ? p.category === "ai" : p.kind !== "manual"));
  const providerKinds = new Set(providers.map((p) => p.kind));
  const accounts = refs.accounts.items.filter((a) => (providerKinds.size === 0 || providerKinds.has(a.kind)) && (!v.provider || a.kind === v.provider));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    setError(null);
    if (Object.keys(ruleProblems(v)).length) {
      focusFirstError(formRef.current);
      return;
    }
    setBusy(true);
    try {
      const body = ruleBody(v);
      if (rule) {
        const { kind: _kind, ...patch } = body;
        void _kind;
        onSaved(await api.alertRules.update(rule.id, patch));
      } else {
        onSaved(await api.alertRules.create(body));
      }
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  return (
    <form ref={formRef} className="card rule-form" aria-labelledby={headingId} onSubmit={submit} aria-busy={busy} noValidate>
      <h3 id={headingId}>{rule ? `Edit “${rule.name}”` : "New alert rule"}</h3>
      <FormError error={error} fields={RULE_FIELDS} />
      {rule ? (
        <p className="muted">
          Kind: <strong>{kindLabel(rule.kind)}</strong> (a rule's kind cannot change).
        </p>
      ) : (
        <SelectField
          name="kind"
          label="Kind"
          value={v.kind}
          onChange={(e) => {
            const kind = e.target.value as AlertRuleKind;
            setV((cur) => ({
              ...cur,
              kind,
              provider: "",
              account_id: "",
              notify_on_resolve: notifyTouched ? cur.notify_on_resolve : DEFAULT_NOTIFY[kind],
            }));
          }}
          help={RULE_KINDS.find(([k]) => k === v.kind)?.[2]}
          error={error}
        >
          {RULE_KINDS.map(([kind, label]) => (
            <option key={kind} value={kind}>
              {label}
            </option>
          ))}
        </SelectField>
      )}
      <TextField name="name" label="Name" required autoComplete="off" value={v.name} onChange={(e) => set("name", e.target.value)} error={error} messages={problems.name ? [problems.name] : []} />
      <fieldset>
        <legend>What it watches</legend>
        <p className="help">“Any” everywhere watches the whole workspace.</p>
        <div className="field-grid">
          <SelectField name="scope.provider" label="Provider" value={v.provider} onChange={(e) => setV((cur) => ({ ...cur, provider: e.target.value, account_id: "" }))} error={error}>
            <option value="">Any provider</option>
            {providers.map((p) => (
              <option key={p.kind} value={p.kind}>
                {p.label}
              </option>
            ))}
          </SelectField>
          <SelectField name="scope.account_id" label="Account" value={v.account_id} onChange={(e) => set("account_id", e.target.value)} error={error}>
            <option value="">Any account</option>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
            {v.account_id && !accounts.some((a) => String(a.id) === v.account_id) && <option value={v.account_id}>Account #{v.account_id}</option>}
          </SelectField>
          {v.kind === "anomaly" && (
            <>
              <TextField name="scope.model" label="Model" placeholder="Any model" autoComplete="off" value={v.model} onChange={(e) => set("model", e.target.value)} error={error} />
              <TextField name="scope.project" label="Project" placeholder="Any project" autoComplete="off" value={v.project} onChange={(e) => set("project", e.target.value)} error={error} />
            </>
          )}
        </div>
      </fieldset>
      <fieldset>
        <legend>When it fires</legend>
        {v.kind === "anomaly" ? (
          <div className="field-grid">
            <TextField name="params.z_threshold" label="Score above" inputMode="decimal" value={v.z_threshold} onChange={(e) => set("z_threshold", e.target.value)} messages={msg("params.z_threshold")} help="How unusual a day must be (modified z-score), 1–20. Default 3.5." />
            <TextField name="params.min_amount" label="At least this much above normal" inputMode="decimal" value={v.min_amount} onChange={(e) => set("min_amount", e.target.value)} messages={msg("params.min_amount")} help="Never fire for less than this above the baseline median. Default 5.00." />
            <TextField name="params.baseline_days" label="Baseline (days)" type="number" min={7} max={90} value={v.baseline_days} onChange={(e) => set("baseline_days", e.target.value)} messages={msg("params.baseline_days")} help="7–90 complete days before the day scored. Default 28." />
            <TextField name="params.currency" label="Currency" maxLength={3} value={v.currency} onChange={(e) => set("currency", e.target.value.toUpperCase())} messages={msg("params.currency")} help="Only spend in this currency counts." />
          </div>
        ) : (
          <div className="field-grid">
            <TextField name="params.failures" label="Failed syncs in a row" type="number" min={1} max={100} value={v.failures} onChange={(e) => set("failures", e.target.value)} messages={msg("params.failures")} help="1–100. Default 3." />
            <TextField name="params.stale_hours" label="… or no fresh data for (hours)" type="number" min={1} max={720} value={v.stale_hours} onChange={(e) => set("stale_hours", e.target.value)} messages={msg("params.stale_hours")} help="1–720. Default 24." />
          </div>
        )}
      </fieldset>
      <ChannelPicker channels={refs.channels.items} loadError={refs.channels.error} value={v.channels} onChange={(ids) => set("channels", ids)} error={error} />
      <div className="field-grid">
        <TextField
          name="repeat_minutes"
          label="Repeat every (minutes)"
          type="number"
          min={1}
          max={43200}
          value={v.repeat_minutes}
          onChange={(e) => set("repeat_minutes", e.target.value)}
          error={error}
          messages={problems.repeat_minutes ? [problems.repeat_minutes] : []}
          help="While firing, notify again this often. Empty: tell once."
        />
      </div>
      <CheckboxField
        name="notify_on_resolve"
        label={v.kind === "anomaly" ? "Also notify when the spike is over" : "Also notify when the account recovers"}
        checked={v.notify_on_resolve}
        onChange={(e) => {
          setNotifyTouched(true);
          set("notify_on_resolve", e.target.checked);
        }}
        error={error}
      />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : rule ? "Save changes" : "Create rule"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function paramsText(rule: AlertRule): string {
  const p = rule.params;
  if (rule.kind === "anomaly") {
    const currency = String(p.currency ?? "USD");
    return `score above ${p.z_threshold}, at least ${formatMoney(String(p.min_amount ?? "0"), currency)} above a ${p.baseline_days}-day baseline (${currency})`;
  }
  return `${p.failures} failed syncs in a row, or no fresh data for ${p.stale_hours} h`;
}

function ruleScopeText(rule: AlertRule, names: Namers): string {
  const s = rule.scope;
  const parts = [];
  if (s.provider) parts.push(names.provider(s.provider));
  if (s.account_id != null) parts.push(names.account(s.account_id));
  if (s.model) parts.push(s.model);
  if (s.project) parts.push(`project ${s.project}`);
  return parts.length ? parts.join(" · ") : rule.kind === "anomaly" ? "All AI spend" : "Every syncing account";
}

function RuleCard({
  rule,
  names,
  canWrite,
  onChanged,
  onDeleted,
  onEdit,
  onShowAlerts,
}: {
  rule: AlertRule | AlertRuleDetail;
  names: Namers;
  canWrite: boolean;
  onChanged: (r: AlertRuleDetail) => void;
  onDeleted: (r: AlertRule) => void;
  onEdit: () => void;
  onShowAlerts: () => void;
}) {
  const [fetched, setFetched] = useState<AlertRuleDetail | null>(null);
  const focusLater = useFocusLater();
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const given = "states" in rule ? rule : null;
  const detail = given ?? (fetched?.updated_at === rule.updated_at ? fetched : null);

  useEffect(() => {
    if ("states" in rule) return;
    const controller = new AbortController();
    api.alertRules
      .get(rule.id, controller.signal)
      .then(setFetched)
      .catch(() => undefined);
    return () => controller.abort();
  }, [rule]);

  const remove = async () => {
    setDeleting(true);
    try {
      await api.alertRules.remove(rule.id);
      onDeleted(rule);
    } catch (err) {
      setDeleting(false);
      setConfirming(false);
      if (!isSessionEnd(err)) setMessage(messageOf(err));
    }
  };
  const firingStates = detail?.states.filter((s) => s.firing) ?? [];
  const headingId = `rule-${rule.id}-h`;

  return (
    <li className="card rule-card" id={`rule-${rule.id}`} aria-labelledby={headingId}>
      <div className="budget-card-head">
        <h3 id={headingId} tabIndex={-1}>{rule.name}</h3>
        <span className="badge">{kindLabel(rule.kind)}</span>
        {detail && (detail.firing ? <span className="badge badge-alert-firing">Firing</span> : <span className="badge badge-ok">OK</span>)}
        <SilenceBadges rule={rule} />
      </div>
      <p className="muted small">
        {ruleScopeText(rule, names)} · {paramsText(rule)}
      </p>
      {firingStates.length > 0 && (
        <ul className="small state-list">
          {firingStates.slice(0, 5).map((s) => (
            <li key={`${s.period_key}-${s.threshold_key}`}>
              Firing {s.threshold_key.startsWith("account:") ? `for ${names.account(Number(s.threshold_key.slice(8)))}` : `on ${s.period_key}`} since{" "}
              <time dateTime={s.since} title={formatDateTime(s.since)}>
                {formatRelative(s.since)}
              </time>
              {s.value != null && (rule.kind === "anomaly" ? ` · day's spend ${formatMoney(s.value, String(rule.params.currency ?? "USD"))}` : ` · ${s.value} failures in a row`)}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        Notifies: {rule.channels.length ? rule.channels.map(names.channel).join(", ") : "no channel (history only)"}
        {rule.repeat_minutes ? ` · repeats every ${rule.repeat_minutes} min` : ""}
        {rule.notify_on_resolve ? " · tells when resolved" : ""}
      </p>
      {message && <Notice kind="error">{message}</Notice>}
      {confirming ? (
        <ConfirmBox label={`Confirm deleting ${rule.name}`} confirmText="Delete rule" busyText="Deleting…" busy={deleting} onConfirm={remove} onCancel={() => {
            setConfirming(false);
            focusLater(`#rule-${rule.id} [data-delete]`);
          }}>
          <p>
            Delete the rule “{rule.name}”? Its alerts stay in the history. <strong>This cannot be undone.</strong>
          </p>
        </ConfirmBox>
      ) : (
        <div className="account-actions" role="group" aria-label={`Actions for ${rule.name}`}>
          {canWrite && (
            <button type="button" className="btn btn-secondary" onClick={onEdit}>
              Edit
            </button>
          )}
          {canWrite && <SilenceControls rule={rule} name={rule.name} onPatch={async (body) => onChanged(await api.alertRules.update(rule.id, body))} onRevokeLinks={() => api.alertRules.revokeMuteLinks(rule.id)} />}
          <button type="button" className="btn btn-ghost" onClick={onShowAlerts}>
            Alerts
          </button>
          {canWrite && (
            <button type="button" className="btn btn-danger-outline" data-delete="" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
}

/** The rules section: its own list and form. */
export function AlertRules({
  rules,
  refs,
  names,
  canWrite,
  onRulesChange,
  onShowAlerts,
}: {
  rules: (AlertRule | AlertRuleDetail)[];
  refs: AlertingRefs;
  names: Namers;
  canWrite: boolean;
  onRulesChange: (update: (rules: (AlertRule | AlertRuleDetail)[]) => (AlertRule | AlertRuleDetail)[]) => void;
  onShowAlerts: (ruleId: number) => void;
}) {
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const focusLater = useFocusLater();
  const close = (focusRule?: number) => {
    setEditing(null);
    focusLater(focusRule ? `#rule-${focusRule} h3` : "#new-rule");
  };
  const replace = (saved: AlertRuleDetail) => onRulesChange((list) => list.map((r) => (r.id === saved.id ? saved : r)));

  return (
    <>
      <div className="section-head">
        <h2 id="rules-h">Anomaly and sync-health rules</h2>
        {canWrite && editing !== "new" && (
          <button type="button" className="btn btn-secondary" id="new-rule" onClick={() => setEditing("new")}>
            New rule
          </button>
        )}
      </div>
      <p className="muted small">Spend spikes against a rolling baseline, and accounts that stop syncing. Budgets have their own section above.</p>
      {flash && <Notice kind="success">{flash}</Notice>}
      {editing === "new" && (
        <RuleForm
          refs={refs}
          onCancel={close}
          onSaved={(saved) => {
            onRulesChange((list) => [...list, saved]);
            setFlash(`Created “${saved.name}”.`);
            close(saved.id);
          }}
        />
      )}
      {rules.length === 0 ? (
        editing !== "new" && <EmptyState title="No anomaly or sync-health rules yet." />
      ) : (
        <ul className="card-list">
          {rules.map((rule) =>
            editing === rule.id ? (
              <li key={rule.id}>
                <RuleForm
                  rule={rule}
                  refs={refs}
                  onCancel={() => close(rule.id)}
                  onSaved={(saved) => {
                    replace(saved);
                    setFlash(`Saved “${saved.name}”.`);
                    close(saved.id);
                  }}
                />
              </li>
            ) : (
              <RuleCard
                key={rule.id}
                rule={rule}
                names={names}
                canWrite={canWrite}
                onChanged={replace}
                onEdit={() => {
                  setFlash(null);
                  setEditing(rule.id);
                }}
                onDeleted={(gone) => {
                  onRulesChange((list) => list.filter((r) => r.id !== gone.id));
                  setFlash(`Deleted “${gone.name}”.`);
                  focusLater(canWrite ? "#new-rule" : "#rules-h");
                }}
                onShowAlerts={() => onShowAlerts(rule.id)}
              />
            ),
          )}
        </ul>
      )}
    </>
  );
}
