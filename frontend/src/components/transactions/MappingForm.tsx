import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { FormError, SelectField, TextField, fieldErrors } from "../Field";
import type { Mapping } from "../../pages/transactions/types";

/** strptime formats people meet in bank exports, with an example each. */
export const DATE_FORMATS: { value: string; label: string }[] = [
  { value: "%Y-%m-%d", label: "2024-03-28 (year-month-day)" },
  { value: "%m/%d/%Y", label: "03/28/2024 (month/day/year)" },
  { value: "%m/%d/%y", label: "03/28/24 (month/day/short year)" },
  { value: "%d/%m/%Y", label: "28/03/2024 (day/month/year)" },
  { value: "%d/%m/%y", label: "28/03/24 (day/month/short year)" },
  { value: "%d.%m.%Y", label: "28.03.2024 (day.month.year)" },
  { value: "%Y%m%d", label: "20240328 (compact)" },
];
// The API's names for formats, shown as their strptime equivalent.
const NAMED: Record<string, string> = {
  iso: "%Y-%m-%d",
  us: "%m/%d/%Y",
  us_short: "%m/%d/%y",
  uk: "%d/%m/%Y",
  uk_short: "%d/%m/%y",
  dot: "%d.%m.%Y",
  compact: "%Y%m%d",
};
const OTHER = "__other__";
const OPTIONAL_COLUMNS: { key: keyof Mapping; label: string; help: string }[] = [
  { key: "merchant_column", label: "Merchant column", help: "Optional: the payee's name." },
  { key: "id_column", label: "Transaction id column", help: "Optional: the bank's id, the best duplicate key." },
  { key: "balance_column", label: "Running balance column", help: "Optional." },
];
const FIELDS = [
  "mapping.date_column",
  "mapping.date_format",
  "mapping.description_columns",
  "mapping.amount_column",
  "mapping.debit_column",
  "mapping.credit_column",
  "mapping.sign",
  "mapping.decimal",
  ...OPTIONAL_COLUMNS.map((c) => `mapping.${String(c.key)}`),
];

interface Props {
  mapping: Mapping;
  /** The file's columns, in file order. */
  columns: string[];
  /** The last failed preview (its field errors show next to the fields: loc ["mapping", field]). */
  error: unknown;
  busy: boolean;
  onSubmit: (mapping: Mapping) => void;
  /** Called with true as soon as the form differs from MAPPING. */
  onDirtyChange?: (dirty: boolean) => void;
}

function formatChoiceOf(mapping: Mapping): string {
  const fmt = NAMED[mapping.date_format] ?? mapping.date_format;
  return DATE_FORMATS.some((f) => f.value === fmt) ? fmt : OTHER;
}

function columnOptions(columns: string[], current: string | null | undefined) {
  const list = current && !columns.includes(current) ? [current, ...columns] : columns;
  return list.map((c) => (
    <option key={c} value={c}>
      {c}
    </option>
  ));
}

/** Correct a statement's CSV mapping: columns from the preview, date format, sign convention, decimal separator. */
export function MappingForm({ mapping, columns, error, busy, onSubmit, onDirtyChange }: Props) {
  const [draft, setDraft] = useState<Mapping>(mapping);
  const [formatChoice, setFormatChoice] = useState(() => formatChoiceOf(mapping));
  const [customFormat, setCustomFormat] = useState(mapping.date_format);
  const id = useId();

  const reset = () => {
    setDraft(mapping);
    setFormatChoice(formatChoiceOf(mapping));
    setCustomFormat(mapping.date_format);
  };
  useEffect(reset, [mapping]); // eslint-disable-line react-hooks/exhaustive-deps

  const result = useMemo<Mapping>(() => {
    const chosenFormat = formatChoice === OTHER ? customFormat.trim() : formatChoice;
    const sameAsDetected = (NAMED[mapping.date_format] ?? mapping.date_format) === chosenFormat;
    return { ...draft, date_format: sameAsDetected ? mapping.date_format : chosenFormat };
  }, [draft, formatChoice, customFormat, mapping.date_format]);
  const dirty = JSON.stringify(result) !== JSON.stringify(mapping);
  useEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);

  const split = draft.amount_column == null && (draft.debit_column != null || draft.credit_column != null);
  const set = (changes: Partial<Mapping>) => setDraft((d) => ({ ...d, ...changes }));
  const toggleDescription = (column: string, on: boolean) => {
    const chosen = new Set(draft.description_columns);
    if (on) chosen.add(column);
    else chosen.delete(column);
    set({ description_columns: columns.filter((c) => chosen.has(c)) });
  };
  const descriptionErrors = fieldErrors(error, "mapping.description_columns");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(result);
  };

  return (
    <form className="mapping-form" onSubmit={submit} aria-labelledby={`${id}-h`} aria-busy={busy}>
      <h3 id={`${id}-h`}>Column mapping</h3>
      <p className="help">Wrong dates, signs or descriptions? Correct the mapping, then preview again.</p>
      <FormError error={error} fields={FIELDS} />
      <div className="field-grid">
        <SelectField name="mapping.date_column" label="Date column" value={draft.date_column} onChange={(e) => set({ date_column: e.target.value })} error={error}>
          {columnOptions(columns, draft.date_column)}
        </SelectField>
        <SelectField
          name="mapping.date_format"
          label="Date format"
          value={formatChoice}
          onChange={(e) => setFormatChoice(e.target.value)}
          error={formatChoice === OTHER ? undefined : error}
        >
          {DATE_FORMATS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
          <option value={OTHER}>Other (a strptime format)…</option>
        </SelectField>
        {formatChoice === OTHER && (
          <TextField
            name="mapping.date_format"
            label="Other date format"
            value={customFormat}
            onChange={(e) => setCustomFormat(e.target.value)}
            help="For example %d %b %Y for 28 Mar 2024."
            spellCheck={false}
            error={error}
          />
        )}
      </div>

      <fieldset>
        <legend>Description</legend>
        <p className="help">The columns joined into the description, in file order.</p>
        <div className="checkbox-grid" role="group" aria-describedby={descriptionErrors.length ? `${id}-desc-error` : undefined}>
          {columns.map((column) => (
            <label key={column} className="checkbox-row">
              <input
                type="checkbox"
                name="mapping.description_columns"
                data-field="mapping.description_columns"
                checked={draft.description_columns.includes(column)}
                onChange={(e) => toggleDescription(column, e.target.checked)}
              />
              {column}
            </label>
          ))}
        </div>
        <p className="field-error" id={`${id}-desc-error`} hidden={!descriptionErrors.length}>
          {descriptionErrors.join("; ")}
        </p>
      </fieldset>

      <fieldset>
        <legend>Amount</legend>
        <div className="radio-row">
          <label>
            <input
              type="radio"
              name={`${id}-amount-mode`}
              checked={!split}
              onChange={() => set({ amount_column: mapping.amount_column ?? columns[0] ?? "", debit_column: null, credit_column: null })}
            />{" "}
            One amount column
          </label>
          <label>
            <input
              type="radio"
              name={`${id}-amount-mode`}
              checked={split}
              onChange={() =>
                set({
                  amount_column: null,
                  debit_column: mapping.debit_column ?? columns[0] ?? "",
                  credit_column: mapping.credit_column ?? columns[0] ?? "",
                })
              }
            />{" "}
            Separate money-out and money-in columns
          </label>
        </div>
        <div className="field-grid">
          {split ? (
            <>
              <SelectField
                name="mapping.debit_column"
                label="Money out (debit) column"
                value={draft.debit_column ?? ""}
                onChange={(e) => set({ debit_column: e.target.value })}
                error={error}
              >
                {columnOptions(columns, draft.debit_column)}
              </SelectField>
              <SelectField
                name="mapping.credit_column"
                label="Money in (credit) column"
                value={draft.credit_column ?? ""}
                onChange={(e) => set({ credit_column: e.target.value })}
                error={error}
              >
                {columnOptions(columns, draft.credit_column)}
              </SelectField>
            </>
          ) : (
            <SelectField
              name="mapping.amount_column"
              label="Amount column"
              value={draft.amount_column ?? ""}
              onChange={(e) => set({ amount_column: e.target.value })}
              error={error}
            >
              {columnOptions(columns, draft.amount_column)}
            </SelectField>
          )}
          <SelectField
            name="mapping.sign"
            label="Sign"
            value={draft.sign}
            onChange={(e) => set({ sign: e.target.value as Mapping["sign"] })}
            help={split ? "Debit and credit columns hold positive numbers; the sign applies to the result." : undefined}
            error={error}
          >
            <option value="signed">Money out is negative</option>
            <option value="inverted">Money out is positive (cards)</option>
          </SelectField>
          <SelectField
            name="mapping.decimal"
            label="Decimal separator"
            value={draft.decimal}
            onChange={(e) => set({ decimal: e.target.value as Mapping["decimal"] })}
            error={error}
          >
            <option value=".">Point: 1,234.56</option>
            <option value=",">Comma: 1.234,56</option>
          </SelectField>
        </div>
      </fieldset>

      <details className="mapping-optional">
        <summary>Optional columns</summary>
        <div className="field-grid">
          {OPTIONAL_COLUMNS.map((c) => (
            <SelectField
              key={String(c.key)}
              name={`mapping.${String(c.key)}`}
              label={c.label}
              value={(draft[c.key] as string | null | undefined) ?? ""}
              onChange={(e) => set({ [c.key]: e.target.value || null })}
              help={c.help}
              error={error}
            >
              <option value="">(none)</option>
              {columnOptions(columns, draft[c.key] as string | null | undefined)}
            </SelectField>
          ))}
        </div>
      </details>

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !dirty}>
          {busy ? "Reading the file again…" : "Preview again"}
        </button>
        {dirty && (
          <button type="button" className="btn btn-ghost" onClick={reset} disabled={busy}>
            Undo my changes
          </button>
        )}
      </div>
    </form>
  );
}
