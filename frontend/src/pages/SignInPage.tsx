import { useEffect, useRef, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/endpoints";
import type { RegistrationInfo, Session, SignupPending } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { focusFirstError, FormError, TextField } from "../components/Field";
import { Loading, Notice } from "../components/Notice";
import { useAsync } from "../lib/useAsync";

/** Where to go after signing in: a same-app path from ?next=, else the dashboard. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/signin")) return "/";
  return next;
}

export function SignInForm({ heading, onSignedIn }: { heading: string; onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const session = await api.auth.login({ email: email.trim(), password });
      onSignedIn(session);
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  return (
    <section className="card" aria-labelledby="signin-h">
      <h2 id="signin-h">{heading}</h2>
      <form ref={formRef} onSubmit={submit} aria-busy={busy} noValidate={false}>
        <FormError error={error} fields={["email", "password"]} />
        <TextField
          name="email"
          label="Email"
          type="email"
          required
          autoComplete="username"
          inputMode="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={error}
        />
        <TextField
          name="password"
          label="Password"
          type="password"
          required
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={error}
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </div>
      </form>
    </section>
  );
}

export function RegisterForm({
  heading,
  first = false,
  invite,
  inviteEmail,
  onSignedIn,
}: {
  heading: string;
  first?: boolean;
  invite?: string;
  inviteEmail?: string;
  onSignedIn: (session: Session) => void;
}) {
  const [values, setValues] = useState({ email: inviteEmail ?? "", name: "", password: "", workspace_name: "" });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<SignupPending | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const set = (key: keyof typeof values) => (e: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [key]: e.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const result = await api.auth.register({
        email: values.email.trim(),
        password: values.password,
        ...(values.name.trim() ? { name: values.name.trim() } : {}),
        ...(!invite && values.workspace_name.trim() ? { workspace_name: values.workspace_name.trim() } : {}),
        ...(invite ? { invite_token: invite } : {}),
      });
      if ("status" in result) {
        // Open sign-up: the account exists only once the emailed link is opened (/verify-email).
        setPending(result);
        setBusy(false);
        return;
      }
      onSignedIn(result);
    } catch (err) {
      setError(err);
      setBusy(false);
      focusFirstError(formRef.current);
    }
  };

  if (pending) {
    return (
      <section className="card" aria-labelledby="register-h">
        <h2 id="register-h">Check your inbox</h2>
        <Notice kind="success">{pending.message}</Notice>
        <p>
          We sent a message to <strong>{values.email.trim()}</strong>. Nothing arrived? Look in the spam folder, or sign
          up again in a few minutes.
        </p>
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="register-h">
      <h2 id="register-h">{heading}</h2>
      <form ref={formRef} onSubmit={submit} aria-busy={busy}>
        <FormError error={error} fields={["email", "name", "password", "workspace_name", "invite_token"]} />
        <TextField
          name="email"
          label="Email"
          type="email"
          required
          autoComplete="email"
          inputMode="email"
          value={values.email}
          onChange={set("email")}
          error={error}
          help={inviteEmail ? "The invitation was sent to this address." : undefined}
        />
        <TextField name="name" label="Your name" autoComplete="name" value={values.name} onChange={set("name")} error={error} help="Optional." />
        <TextField
          name="password"
          label="Password"
          type="password"
          required
          minLength={10}
          autoComplete="new-password"
          value={values.password}
          onChange={set("password")}
          error={error}
          help="At least 10 characters, and not your email address."
        />
        {!invite && (
          <TextField
            name="workspace_name"
            label="Workspace name"
            autoComplete="organization"
            value={values.workspace_name}
            onChange={set("workspace_name")}
            error={error}
            help={first ? "Optional. Defaults to “<your name>'s workspace”." : "Optional. A new workspace is created for you."}
          />
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating account…" : first ? "Create the admin account" : "Create account"}
          </button>
        </div>
      </form>
    </section>
  );
}

function ClosedCard({ mode }: { mode: RegistrationInfo["mode"] }) {
  return (
    <section className="card" aria-labelledby="signup-closed-h">
      <h2 id="signup-closed-h">New here?</h2>
      <p>
        {mode === "invite"
          ? "Sign-up on this instance is by invitation. Open the invitation link you were sent to create an account."
          : "Sign-up is closed on this instance. Ask an administrator for an account."}
      </p>
    </section>
  );
}

export function SignInPage() {
  const { status, startSession, notice, clearNotice } = useAuth();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(search.get("next"));
  const registration = useAsync(() => api.auth.registration(), []);

  useEffect(() => {
    document.title = "Sign in · Spendwatch";
  }, []);

  if (status === "signedIn") return <Navigate to={next} replace />;

  const onSignedIn = (session: Session) => {
    clearNotice();
    startSession(session);
    navigate(next, { replace: true });
  };

  const info = registration.data;
  let title = "Sign in to Spendwatch";
  let intro: string | null = null;
  let cards = null;
  if (info?.first_user) {
    title = "Welcome to Spendwatch";
    intro = "No accounts exist yet. The first account owns a new workspace and administers this instance.";
    cards = <RegisterForm heading="Create the first account (you become the instance admin)" first onSignedIn={onSignedIn} />;
  } else if (info || registration.error) {
    const mode = info?.mode ?? "closed";
    cards = (
      <>
        <SignInForm heading="Sign in" onSignedIn={onSignedIn} />
        {mode === "open" ? <RegisterForm heading="Create an account" onSignedIn={onSignedIn} /> : <ClosedCard mode={mode} />}
      </>
    );
  }

  return (
    <main className="auth-page" id="main">
      <div className="auth-brand" aria-hidden="true">
        Spendwatch
      </div>
      <h1 tabIndex={-1}>{title}</h1>
      {intro && <p className="lead">{intro}</p>}
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {registration.error != null && (
        <Notice kind="error">Could not load the sign-up settings: {String((registration.error as Error).message)}</Notice>
      )}
      {registration.loading && !info ? <Loading /> : <div className="auth-grid">{cards}</div>}
    </main>
  );
}
