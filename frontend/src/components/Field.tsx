import { useId, useState, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";
import { ApiError } from "../api/errors";

/** Messages for field NAME from ERROR (a server validation error), if any. */
export function fieldErrors(error: unknown, name: string): string[] {
  return error instanceof ApiError ? error.errorsFor(name) : [];
}

interface BaseProps {
  /** The field's path in the request body ("email", "credentials.api_key"): how server errors find it. */
  name: string;
  label: ReactNode;
  help?: ReactNode;
  note?: ReactNode;
  error?: unknown;
  /** Client-side messages shown like server ones. */
  messages?: string[];
}

function useDescribed(name: string, help: boolean, note: boolean) {
  const id = `f-${useId().replace(/:/g, "")}-${name.replace(/\W+/g, "-")}`;
  return {
    id,
    helpId: help ? `${id}-help` : undefined,
    noteId: note ? `${id}-note` : undefined,
    errorId: `${id}-error`,
  };
}

function FieldMessages({ id, messages }: { id: string; messages: string[] }) {
  return (
    <p className="field-error" id={id} hidden={messages.length === 0}>
      {messages.join("; ")}
    </p>
  );
}

type InputProps = BaseProps & Omit<InputHTMLAttributes<HTMLInputElement>, "name" | "id"> & { reveal?: boolean };

export function TextField({ name, label, help, note, error, messages = [], reveal, type = "text", ...rest }: InputProps) {
  const ids = useDescribed(name, Boolean(help), Boolean(note));
  const all = [...messages, ...fieldErrors(error, name)];
  const [shown, setShown] = useState(false);
  const describedBy = [ids.helpId, ids.noteId, ids.errorId].filter(Boolean).join(" ");
  const input = (
    <input
      id={ids.id}
      name={name}
      data-field={name}
      type={type === "password" && shown ? "text" : type}
      aria-invalid={all.length ? true : undefined}
      aria-describedby={describedBy}
      {...rest}
    />
  );
  return (
    <div className="field">
      <label htmlFor={ids.id}>
        {label}
        {rest.required && (
          <span className="required" aria-hidden="true">
            {" "}
            *
          </span>
        )}
      </label>
      {type === "password" && reveal !== false ? (
        <div className="input-row">
          {input}
          <button
            type="button"
            className="btn btn-small btn-ghost"
            aria-controls={ids.id}
            aria-pressed={shown}
            onClick={() => setShown((s) => !s)}
          >
            {shown ? "Hide" : "Show"}
          </button>
        </div>
      ) : (
        input
      )}
      {help && (
        <p className="help" id={ids.helpId}>
          {help}
        </p>
      )}
      {note && (
        <p className="help note" id={ids.noteId}>
          {note}
        </p>
      )}
      <FieldMessages id={ids.errorId} messages={all} />
    </div>
  );
}

type SelectProps = BaseProps &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, "name" | "id"> & { children: ReactNode };

export function SelectField({ name, label, help, note, error, messages = [], children, ...rest }: SelectProps) {
  const ids = useDescribed(name, Boolean(help), Boolean(note));
  const all = [...messages, ...fieldErrors(error, name)];
  const describedBy = [ids.helpId, ids.noteId, ids.errorId].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={ids.id}>{label}</label>
      <select
        id={ids.id}
        name={name}
        data-field={name}
        aria-invalid={all.length ? true : undefined}
        aria-describedby={describedBy}
        {...rest}
      >
        {children}
      </select>
      {help && (
        <p className="help" id={ids.helpId}>
          {help}
        </p>
      )}
      {note && (
        <p className="help note" id={ids.noteId}>
          {note}
        </p>
      )}
      <FieldMessages id={ids.errorId} messages={all} />
    </div>
  );
}

export function CheckboxField({ name, label, help, error, messages = [], ...rest }: InputProps) {
  const ids = useDescribed(name, Boolean(help), false);
  const all = [...messages, ...fieldErrors(error, name)];
  const describedBy = [ids.helpId, ids.errorId].filter(Boolean).join(" ");
  return (
    <div className="field field-checkbox">
      <div className="checkbox-row">
        <input
          id={ids.id}
          name={name}
          data-field={name}
          type="checkbox"
          aria-invalid={all.length ? true : undefined}
          aria-describedby={describedBy}
          {...rest}
        />
        <label htmlFor={ids.id}>{label}</label>
      </div>
      {help && (
        <p className="help" id={ids.helpId}>
          {help}
        </p>
      )}
      <FieldMessages id={ids.errorId} messages={all} />
    </div>
  );
}

/**
 * The form-level part of a failed submit: the error's message on top, plus the validation details
 * that no field on the form (FIELDS) shows.
 */
export function FormError({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    if (error.sessionEnded) return null;
    const shown = new Set(fields);
    const lastParts = new Set(fields.map((f) => f.split(".").pop()));
    const unmatched = Object.entries(error.fieldErrors)
      .filter(([key]) => !shown.has(key) && !lastParts.has(key.split(".").pop()))
      .flatMap(([key, msgs]) => msgs.map((msg) => `${key}: ${msg}`));
    return (
      <div className="form-message" tabIndex={-1}>
        <div className="banner banner-error" role="alert">
          <div>{error.message}</div>
          {(error.formErrors.length > 0 || unmatched.length > 0) && (
            <ul>
              {[...error.formErrors, ...unmatched].map((line, i) => (
                <li key={i}>{line}</li>
              ))}
            </ul>
          )}
        </div>
      </div>
    );
  }
  return (
    <div className="form-message" tabIndex={-1}>
      <div className="banner banner-error" role="alert">
        {error instanceof Error ? error.message : String(error)}
      </div>
    </div>
  );
}

/** After a failed submit, move focus to the first invalid field, else to the form's message. */
export function focusFirstError(form: HTMLFormElement | null): void {
  if (!form) return;
  requestAnimationFrame(() => {
    const invalid = form.querySelector<HTMLElement>("[aria-invalid=true]");
    (invalid ?? form.querySelector<HTMLElement>(".form-message"))?.focus();
  });
}
