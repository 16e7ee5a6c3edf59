import { type FormEvent, useEffect, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api/endpoints";
import { ApiError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { FormError, TextField } from "../components/Field";
import { Notice } from "../components/Notice";

/** The token of a sign-up link: it travels in the fragment (#token=…), which never reaches a server log. */
export function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
}

/**
 * /verify-email#token=… — the link of an open-mode sign-up mail. Finishing takes a click (a POST), not the page
 * load: mail scanners that open links must not create the account and sign themselves in.
 */
export function VerifyEmailPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const { startSession } = useAuth();
  const token = tokenFromHash(location.hash);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState("");

  useEffect(() => {
    document.title = "Finish signing up · Spendwatch";
  }, []);

  const finish = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.auth.verifySignup(token, password);
      startSession(session);
      navigate("/", { replace: true, state: { flash: { kind: "success", text: "Welcome to Spendwatch: your account is ready." } } });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const invalid = error instanceof ApiError && error.code === "invalid_link";
  let body;
  if (!token || invalid) {
    body = (
      <>
        <Notice kind="error">This sign-up link is not valid: it was already used, it expired (links work for 24 hours), or it is incomplete.</Notice>
        <p>
          <Link to="/signin">Sign in</Link>, or sign up again to get a new link.
        </p>
      </>
    );
  } else {
    body = (
      <section className="card" aria-labelledby="verify-h">
        <h2 id="verify-h">Confirm your email</h2>
        <p>Your address is confirmed by this link. Enter the password you chose when signing up to create the account and sign in:</p>
        <form onSubmit={finish} aria-busy={busy}>
          <FormError error={error} fields={["password"]} />
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
              {busy ? "Creating account…" : "Create my account"}
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <main className="auth-page" id="main">
      <div className="auth-brand" aria-hidden="true">
        Spendwatch
      </div>
      <h1 tabIndex={-1}>Finish signing up</h1>
      {body}
    </main>
  );
}
