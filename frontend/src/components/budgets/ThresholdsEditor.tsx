import { useEffect, useId, useRef } from "react";
import type { Threshold } from "../../api/types";
import { exactErrors } from "../channels/forms";

export const MAX_THRESHOLDS = 10;
export const DEFAULT_THRESHOLDS: Threshold[] = [
  { type: "percent", value: "50" },
  { type: "percent", value: "80" },
  { type: "percent", value: "100" },
];

const DECIMAL = /^\d+(\.\d+)?$/;

/** Client-side problems per row (index → message) and for the list as a whole. */
export function thresholdProblems(rows: Threshold[]): { rows: Record<number, string>; list: string | null } {
  const problems: Record<number, string> = {};
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const value = row.value.trim();
    if (!value) problems[i] = "Enter a value.";
    else if (!DECIMAL.test(value) || Number(value) <= 0) problems[i] = "Enter a number above 0.";
    else if (row.type === "percent" && Number(value) > 1000) problems[i] = "A percentage is at most 1000.";
    else {
      const key = `${row.type}:${Number(value)}`;
      if (seen.has(key)) problems[i] = `The same as threshold ${seen.get(key)! + 1}.`;
      else seen.set(key, i);
    }
  });
  return { rows: problems, list: rows.length === 0 ? "Add at least one threshold." : null };
}

interface Props {
  value: Threshold[];
  onChange: (rows: Threshold[]) => void;
  currency: string;
  /** The failed submit's error (server messages by field) and whether to show client-side problems. */
  error?: unknown;
  showProblems?: boolean;
}

/** Thresholds as rows of (percent of the budget | absolute amount, value), with add and remove. */
export function ThresholdsEditor({ value, onChange, currency, error, showProblems = false }: Props) {
  const id = `thr-${useId().replace(/:/g, "")}`;
  const listRef = useRef<HTMLOListElement>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const focusRow = useRef<number | null>(null);
  const problems = thresholdProblems(value);

  useEffect(() => {
    if (focusRow.current === null) return;
    const inputs = listRef.current?.querySelectorAll<HTMLInputElement>("input[data-threshold-value]");
    const target = inputs?.[focusRow.current];
    focusRow.current = null;
    (target ?? addRef.current)?.focus();
  }, [value.length]);

  const update = (i: number, patch: Partial<Threshold>) => onChange(value.map((row, j) => (j === i ? { ...row, ...patch } : row)));
  const remove = (i: number) => {
    focusRow.current = value.length > 1 ? Math.min(i, value.length - 2) : -1;
    onChange(value.filter((_, j) => j !== i));
  };
  const add = () => {
    const last = value[value.length - 1];
    const next: Threshold =
      last?.type === "percent"
        ? { type: "percent", value: String(Math.min(1000, (Number(last.value) || 0) + 10)) }
        : { type: last?.type ?? "percent", value: "" };
    focusRow.current = value.length;
    onChange([...value, next]);
  };

  const listMessages = [...exactErrors(error, "thresholds"), ...(showProblems && problems.list ? [problems.list] : [])];

  return (
    <fieldset className="thresholds" aria-describedby={`${id}-help ${id}-error`}>
      <legend>Thresholds</legend>
      <p className="help" id={`${id}-help`}>
        An alert fires when spend (or the forecast, by the basis below) reaches a threshold: a percentage of the budget
        or a fixed amount in {currency || "the budget's currency"}. At most {MAX_THRESHOLDS}.
      </p>
      <ol className="threshold-rows" ref={listRef}>
        {value.map((row, i) => {
          const messages = [
            ...exactErrors(error, `thresholds.${i}`),
            ...exactErrors(error, `thresholds.${i}.type`),
            ...exactErrors(error, `thresholds.${i}.value`),
            ...(showProblems && problems.rows[i] ? [problems.rows[i]] : []),
          ];
          const rowId = `${id}-${i}`;
          return (
            <li key={i} className="threshold-row">
              <div className="field">
                <label htmlFor={`${rowId}-type`}>Threshold {i + 1} type</label>
                <select
                  id={`${rowId}-type`}
                  value={row.type}
                  data-field={`thresholds.${i}.type`}
                  onChange={(e) => update(i, { type: e.target.value as Threshold["type"] })}
                >
                  <option value="percent">% of the budget</option>
                  <option value="absolute">Amount ({currency || "currency"})</option>
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${rowId}-value`}>Threshold {i + 1} value</label>
                <div className="input-affix">
                  <input
                    id={`${rowId}-value`}
                    data-threshold-value=""
                    data-field={`thresholds.${i}.value`}
                    inputMode="decimal"
                    autoComplete="off"
                    value={row.value}
                    aria-invalid={messages.length ? true : undefined}
                    aria-describedby={`${rowId}-error`}
                    onChange={(e) => update(i, { value: e.target.value.replace(",", ".") })}
                  />
                  <span className="affix" aria-hidden="true">
                    {row.type === "percent" ? "%" : currency}
                  </span>
                </div>
              </div>
              <button
                type="button"
                className="btn btn-ghost btn-small threshold-remove"
                onClick={() => remove(i)}
                aria-label={`Remove threshold ${i + 1}`}
              >
                Remove
              </button>
              <p className="field-error threshold-error" id={`${rowId}-error`} hidden={messages.length === 0}>
                {messages.join("; ")}
              </p>
            </li>
          );
        })}
      </ol>
      <button type="button" className="btn btn-secondary btn-small" ref={addRef} onClick={add} disabled={value.length >= MAX_THRESHOLDS}>
        Add threshold
      </button>
      <p className="field-error" id={`${id}-error`} hidden={listMessages.length === 0}>
        {listMessages.join("; ")}
      </p>
    </fieldset>
  );
}
