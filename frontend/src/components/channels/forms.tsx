// Form pieces shared by the budgets, channels and admin pages: exact server-error lookups (list items
// must not borrow a sibling's message), a labelled textarea, a copy button and a "shown once" secret box.
import { useCallback, useEffect, useId, useRef, useState, type ReactNode, type TextareaHTMLAttributes } from "react";
import { ApiError } from "../../api/errors";

/** Server messages for exactly NAME ("thresholds.1.value"), without the last-part fallback of errorsFor. */
export function exactErrors(error: unknown, name: string): string[] {
  return error instanceof ApiError ? (error.fieldErrors[name] ?? []) : [];
}

/** Server messages for NAME and everything below it ("recipients" gets "recipients.2" too). */
export function errorsUnder(error: unknown, prefix: string): string[] {
  if (!(error instanceof ApiError)) return [];
  return Object.entries(error.fieldErrors)
    .filter(([key]) => key === prefix || key.startsWith(`${prefix}.`))
    .flatMap(([key, messages]) => {
      const rest = key.slice(prefix.length + 1);
      return rest ? messages.map((m) => `${describeIndex(rest)}: ${m}`) : messages;
    });
}

function describeIndex(rest: string): string {
  const [first] = rest.split(".");
  return /^\d+$/.test(first) ? `item ${Number(first) + 1}` : rest;
}

type TextAreaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "name" | "id"> & {
  name: string;
  label: ReactNode;
  help?: ReactNode;
  messages?: string[];
};

export function TextAreaField({ name, label, help, messages = [], ...rest }: TextAreaProps) {
  const id = `ta-${useId().replace(/:/g, "")}`;
  const describedBy = [help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {rest.required && (
          <span className="required" aria-hidden="true">
            {" "}
            *
          </span>
        )}
      </label>
      <textarea
        id={id}
        name={name}
        data-field={name}
        aria-invalid={messages.length ? true : undefined}
        aria-describedby={describedBy}
        {...rest}
      />
      {help && (
        <p className="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      <p className="field-error" id={`${id}-error`} hidden={messages.length === 0}>
        {messages.join("; ")}
      </p>
    </div>
  );
}

/** Copy TEXT to the clipboard; falls back to selecting TARGET's text when the Clipboard API is missing. */
export function CopyButton({ text, label = "Copy", target }: { text: string; label?: string; target?: () => HTMLInputElement | null }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), 4000);
    return () => window.clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      const input = target?.();
      if (input) {
        input.focus();
        input.select();
        try {
          setState(document.execCommand("copy") ? "copied" : "failed");
          return;
        } catch {
          /* fall through */
        }
      }
      setState("failed");
    }
  };
  return (
    <>
      <button type="button" className="btn btn-secondary btn-small" onClick={copy}>
        {state === "copied" ? "Copied" : label}
      </button>
      <span className="visually-hidden" role="status">
        {state === "copied" ? "Copied to the clipboard." : state === "failed" ? "Could not copy: select the text and copy it by hand." : ""}
      </span>
      {state === "failed" && <span className="small text-danger">Select the text and copy it by hand.</span>}
    </>
  );
}

/**
 * A secret the server shows this once (a webhook signing secret, an invitation link): a read-only field with
 * a copy button, a clear warning, and a button that forgets it.
 */
export function OnceSecret({
  title,
  label,
  value,
  children,
  onDismiss,
  dismissLabel = "I have saved it — hide it",
}: {
  title: string;
  label: string;
  value: string;
  children?: ReactNode;
  onDismiss: () => void;
  dismissLabel?: string;
}) {
  const id = `secret-${useId().replace(/:/g, "")}`;
  const inputRef = useRef<HTMLInputElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    boxRef.current?.focus();
  }, []);
  return (
    <div className="once-secret" role="region" aria-labelledby={`${id}-h`} tabIndex={-1} ref={boxRef}>
      <h3 id={`${id}-h`}>{title}</h3>
      <p className="once-warning">
        <strong>Copy it now: you will not see it again.</strong> Spendwatch keeps only an encrypted copy and never shows
        it a second time.
      </p>
      <label htmlFor={id}>{label}</label>
      <div className="input-row">
        <input
          id={id}
          ref={inputRef}
          className="mono"
          readOnly
          value={value}
          spellCheck={false}
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={value} target={() => inputRef.current} />
      </div>
      {children}
      <div className="form-actions">
        <button type="button" className="btn btn-primary btn-small" onClick={onDismiss}>
          {dismissLabel}
        </button>
      </div>
    </div>
  );
}

/** An inline "are you sure?" box with a danger button and a cancel button that takes the focus. */
export function ConfirmBox({
  label,
  children,
  confirmText,
  busyText,
  busy,
  onConfirm,
  onCancel,
}: {
  label: string;
  children: ReactNode;
  confirmText: string;
  busyText: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancelRef.current?.focus();
  }, []);
  return (
    <div
      className="confirm"
      role="group"
      aria-label={label}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !busy) onCancel();
      }}
    >
      {children}
      <div className="form-actions">
        <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
          {busy ? busyText : confirmText}
        </button>
        <button type="button" className="btn btn-ghost" ref={cancelRef} onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** "2026-11-22T10:30" (a datetime-local value, local time) → ISO 8601 with a time zone, or null. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A Date → the value a datetime-local input wants, in local time. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export const isSessionEnd = (error: unknown) => error instanceof ApiError && error.sessionEnded;

/** "500.0000000000" → "500", "12.50" → "12.5" (what a person typed, not the stored precision). */
export function trimZeros(value: string): string {
  return value.includes(".") ? value.replace(/0+$/, "").replace(/\.$/, "") : value;
}

/**
 * Focus the element SELECTOR names once it is rendered (after a save the new card appears on a later render,
 * which a requestAnimationFrame does not always wait for).
 */
export function useFocusLater(): (selector: string) => void {
  const pending = useRef<string | null>(null);
  const [, bump] = useState(0);
  useEffect(() => {
    if (!pending.current) return;
    const element = document.querySelector<HTMLElement>(pending.current);
    if (element) {
      pending.current = null;
      element.focus();
    }
  });
  return useCallback((selector: string) => {
    pending.current = selector;
    bump((n) => n + 1);
  }, []);
}
