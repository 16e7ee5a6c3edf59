import { useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/endpoints";
import type { AlertFilters, AlertRule, AlertRuleDetail } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { AlertHistory, type RuleOption } from "../components/budgets/AlertHistory";
import { AlertRules } from "../components/budgets/AlertRules";
import { BudgetCard, type BudgetItem } from "../components/budgets/BudgetCard";
import { BudgetForm } from "../components/budgets/BudgetForm";
import { EMPTY_REFS, loadRefs, namers } from "../components/budgets/refs";
import "../components/budgets/alerting.css";
import { useFocusLater } from "../components/channels/forms";
import { EmptyState, ErrorState, Loading, Notice } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { useAsync } from "../lib/useAsync";

/** Budgets with their gauges and threshold states; anomaly and sync-health rules; the alert history. */
export default function Budgets() {
  const { canWrite, membership } = useAuth();
  const budgets = useAsync<BudgetItem[]>(async (signal) => (await api.budgets.list(signal)).items, []);
  const rules = useAsync<(AlertRule | AlertRuleDetail)[]>(async (signal) => (await api.alertRules.list(undefined, signal)).items, []);
  const refs = useAsync((signal) => loadRefs(signal), []);
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const [flash, setFlash] = useState<{ kind: "success" | "info"; text: string } | null>(null);
  const [filters, setFilters] = useState<AlertFilters>({});
  const newButton = useRef<HTMLButtonElement>(null);
  const historyRef = useRef<HTMLElement>(null);

  const loadedRefs = refs.data ?? EMPTY_REFS;
  const names = useMemo(() => namers(loadedRefs), [loadedRefs]);
  const ruleOptions: RuleOption[] = [
    ...(budgets.data ?? []).map((b) => ({ id: b.id, name: b.name, group: "Budgets" as const })),
    ...(rules.data ?? []).map((r) => ({ id: r.id, name: r.name, group: "Rules" as const })),
  ];
  const ruleName = (id: number) => ruleOptions.find((r) => r.id === id)?.name;

  const showAlerts = (ruleId: number) => {
    setFilters({ rule_id: ruleId });
    requestAnimationFrame(() => {
      historyRef.current?.scrollIntoView({ block: "start" });
      historyRef.current?.querySelector<HTMLElement>("h2")?.focus();
    });
  };

  const focusLater = useFocusLater();
  const closeForm = (focusId?: number) => {
    setEditing(null);
    focusLater(focusId ? `#budget-${focusId} h3` : "#new-budget");
  };

  const formReady = refs.data !== undefined;

  return (
    <>
      <PageHeader title="Budgets & alerts" subtitle="Where each budget stands this period, the rules that watch for spikes and failing syncs, and what fired.">
        {canWrite && editing !== "new" && (
          <button
            type="button"
            className="btn btn-primary"
            ref={newButton}
            id="new-budget"
            onClick={() => {
              setFlash(null);
              setEditing("new");
            }}
          >
            New budget
          </button>
        )}
      </PageHeader>
      {membership?.role === "viewer" && <p className="muted">You have the viewer role in this workspace: budgets and rules are read-only for you.</p>}
      {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}

      {editing === "new" &&
        (formReady ? (
          <BudgetForm
            refs={loadedRefs}
            onCancel={() => closeForm()}
            onSaved={(saved) => {
              budgets.setData((list) => [...(list ?? []), saved]);
              setFlash({ kind: "success", text: `Created the budget “${saved.name}”.` });
              closeForm(saved.id);
            }}
          />
        ) : refs.error ? (
          <ErrorState error={refs.error} what="the form's choices" onRetry={refs.reload} />
        ) : (
          <Loading>Loading the form…</Loading>
        ))}

      <section className="panel" aria-labelledby="budgets-h">
        <h2 id="budgets-h">Budgets</h2>
        {budgets.error ? (
          <ErrorState error={budgets.error} what="the budgets" onRetry={budgets.reload} />
        ) : !budgets.data ? (
          <Loading>Loading budgets…</Loading>
        ) : budgets.data.length === 0 ? (
          <EmptyState title="No budgets yet.">
            <p className="muted">
              {canWrite
                ? "A budget watches AI spend (a provider, account, model or project) or bank spending (a category or bank account) per day, week, month, quarter or year, and alerts at its thresholds."
                : "Nobody has set a budget in this workspace yet."}
            </p>
            {canWrite && editing !== "new" && (
              <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
                Create a budget
              </button>
            )}
          </EmptyState>
        ) : (
          <ul className="card-list">
            {budgets.data.map((budget) =>
              editing === budget.id && formReady ? (
                <li key={budget.id}>
                  <BudgetForm
                    budget={budget}
                    refs={loadedRefs}
                    onCancel={() => closeForm(budget.id)}
                    onSaved={(saved) => {
                      budgets.setData((list) => (list ?? []).map((b) => (b.id === saved.id ? saved : b)));
                      setFlash({ kind: "success", text: `Saved “${saved.name}”.` });
                      closeForm(saved.id);
                    }}
                  />
                </li>
              ) : (
                <BudgetCard
                  key={budget.id}
                  budget={budget}
                  names={names}
                  canWrite={canWrite}
                  onEdit={() => {
                    setFlash(null);
                    setEditing(budget.id);
                  }}
                  onChanged={(saved) => budgets.setData((list) => (list ?? []).map((b) => (b.id === saved.id ? saved : b)))}
                  onDeleted={(gone) => {
                    budgets.setData((list) => (list ?? []).filter((b) => b.id !== gone.id));
                    setFlash({ kind: "success", text: `Deleted the budget “${gone.name}”.` });
                    focusLater(newButton.current ? "#new-budget" : "h1");
                  }}
                  onShowAlerts={() => showAlerts(budget.id)}
                />
              ),
            )}
          </ul>
        )}
        {loadedRefs.channels.items.length === 0 && !loadedRefs.channels.error && refs.data && (budgets.data?.length ?? 0) > 0 && (
          <p className="muted small">
            No channels yet, so alerts are only recorded here. <Link to="/channels">Add an email or webhook channel</Link> to be told.
          </p>
        )}
      </section>

      <section className="panel" aria-labelledby="rules-h">
        {rules.error ? (
          <>
            <h2 id="rules-h">Anomaly and sync-health rules</h2>
            <ErrorState error={rules.error} what="the alert rules" onRetry={rules.reload} />
          </>
        ) : !rules.data || !formReady ? (
          <>
            <h2 id="rules-h">Anomaly and sync-health rules</h2>
            <Loading>Loading rules…</Loading>
          </>
        ) : (
          <AlertRules
            rules={rules.data}
            refs={loadedRefs}
            names={names}
            canWrite={canWrite}
            onRulesChange={(update) => rules.setData((list) => update(list ?? []))}
            onShowAlerts={showAlerts}
          />
        )}
      </section>

      <section className="panel" aria-labelledby="history-h" ref={historyRef}>
        <h2 id="history-h" tabIndex={-1}>
          Alert history
        </h2>
        <AlertHistory filters={filters} onFiltersChange={setFilters} rules={ruleOptions} ruleName={ruleName} channelName={names.channel} canWrite={canWrite} />
      </section>
    </>
  );
}
