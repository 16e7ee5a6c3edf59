import { useId } from "react";
import { errorsUnder } from "./forms";

export interface HeaderRow {
  name: string;
  value: string;
}

const NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const RESERVED = new Set(["content-type", "host", "user-agent"]);
export const MAX_HEADERS = 10;

export function headerProblems(rows: HeaderRow[]): Record<number, string> {
  const problems: Record<number, string> = {};
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const name = row.name.trim();
    const lower = name.toLowerCase();
    if (!name) problems[i] = "Enter the header's name.";
    else if (!NAME.test(name) || name.length > 64) problems[i] = "Letters, digits and - only (no spaces), up to 64 characters.";
    else if (RESERVED.has(lower) || lower.startsWith("webhook-")) problems[i] = `Spendwatch sets ${name} itself.`;
    else if (seen.has(lower)) problems[i] = "This header is already in the list.";
    else if (/[\x00-\x1f\x7f]/.test(row.value)) problems[i] = "The value must not contain line breaks or control characters.";
    seen.add(lower);
  });
  return problems;
}

export function headersObject(rows: HeaderRow[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.name.trim(), r.value]));
}

/** Extra request headers as name/value rows (values are stored encrypted; existing ones show as hints). */
export function HeadersEditor({
  rows,
  onChange,
  error,
  showProblems,
  hints = false,
}: {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
  error?: unknown;
  showProblems: boolean;
  hints?: boolean;
}) {
  const id = `hdr-${useId().replace(/:/g, "")}`;
  const problems = showProblems ? headerProblems(rows) : {};
  const server = errorsUnder(error, "headers");
  const update = (i: number, patch: Partial<HeaderRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="headers-editor" data-field="headers">
      <legend>Extra headers</legend>
      <p className="help">
        Optional, e.g. <code>Authorization</code> for an endpoint that wants a token. Values are stored encrypted
        {hints ? " and shown as hints: leave a hint unchanged to keep its value" : ""}.
      </p>
      {rows.length > 0 && (
        <ul className="header-rows">
          {rows.map((row, i) => (
            <li key={i} className="header-row">
              <div className="field">
                <label htmlFor={`${id}-${i}-name`}>Header {i + 1} name</label>
                <input
                  id={`${id}-${i}-name`}
                  value={row.name}
                  autoComplete="off"
                  spellCheck={false}
                  aria-invalid={problems[i] ? true : undefined}
                  aria-describedby={`${id}-${i}-error`}
                  onChange={(e) => update(i, { name: e.target.value })}
                />
              </div>
              <div className="field">
                <label htmlFor={`${id}-${i}-value`}>Header {i + 1} value</label>
                <input
                  id={`${id}-${i}-value`}
                  value={row.value}
                  autoComplete="off"
                  spellCheck={false}
                  aria-describedby={`${id}-${i}-error`}
                  onChange={(e) => update(i, { value: e.target.value })}
                />
              </div>
              <button type="button" className="btn btn-ghost btn-small" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                Remove
              </button>
              <p className="field-error header-error" id={`${id}-${i}-error`} hidden={!problems[i]}>
                {problems[i]}
              </p>
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="btn btn-secondary btn-small" disabled={rows.length >= MAX_HEADERS} onClick={() => onChange([...rows, { name: "", value: "" }])}>
        Add header
      </button>
      <p className="field-error" hidden={server.length === 0} aria-invalid={server.length ? true : undefined} tabIndex={-1}>
        {server.join("; ")}
      </p>
    </fieldset>
  );
}
