import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/endpoints";
import { ApiError, messageOf } from "../api/errors";
import type { Session } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ErrorState, Loading, Notice } from "../components/Notice";
import { formatDateTime } from "../lib/format";
import { useAsync } from "../lib/useAsync";
import { RegisterForm, SignInForm } from "./SignInPage";

/** /invite/:token — join a workspace: sign up with the invitation, or sign in and accept it. */
export function InvitePage() {
  const { token = "" } = useParams();
  const { status, user, workspaces, startSession, applyMe, signOut } = useAuth();
  const navigate = useNavigate();
  const invite = useAsync(() => api.auth.invite(token), [token]);
  const registration = useAsync(() => api.auth.registration(), []);
  const [accepting, setAccepting] = useState(false);
  const [acceptError, setAcceptError] = useState<unknown>(null);

  useEffect(() => {
    document.title = "Invitation · Spendwatch";
  }, []);

  const joined = (session: Session) => {
    startSession(session);
    const workspace = session.workspaces.find((w) => w.workspace_name === invite.data?.workspace_name);
    if (workspace) applyMe(session, workspace.workspace_id);
    navigate("/", { replace: true, state: { flash: { kind: "success", text: `Welcome! You joined “${invite.data?.workspace_name ?? "the workspace"}”.` } } });
  };

  const accept = async () => {
    setAccepting(true);
    setAcceptError(null);
    const before = new Set(workspaces.map((w) => w.workspace_id));
    try {
      const me = await api.auth.acceptInvite(token);
      const added = me.workspaces.find((w) => !before.has(w.workspace_id));
      applyMe(me, added?.workspace_id);
      navigate("/", {
        replace: true,
        state: { flash: { kind: "success", text: added ? `You joined “${added.workspace_name}”.` : "Invitation accepted." } },
      });
    } catch (error) {
      setAcceptError(error);
      setAccepting(false);
    }
  };

  let body;
  if (invite.loading || status === "loading") {
    body = <Loading>Checking the invitation…</Loading>;
  } else if (invite.error) {
    const invalid = invite.error instanceof ApiError && invite.error.code === "invalid_invite";
    body = invalid ? (
      <>
        <Notice kind="error">This invitation link is not valid: it was already used, revoked, or it expired.</Notice>
        <p>
          Ask the person who invited you for a new link, or <Link to="/">go to Spendwatch</Link>.
        </p>
      </>
    ) : (
      <ErrorState error={invite.error} what="the invitation" onRetry={invite.reload} />
    );
  } else if (invite.data) {
    const info = invite.data;
    const summary = (
      <p className="lead">
        You are invited to join <strong>{info.workspace_name}</strong> as <strong>{info.role}</strong> ({info.email}). The
        invitation expires {formatDateTime(info.expires_at)}.
      </p>
    );
    if (status === "signedIn" && user) {
      const mismatch = user.email.toLowerCase() !== info.email.toLowerCase();
      body = (
        <>
          {summary}
          <section className="card">
            <h2>Accept the invitation</h2>
            <p>You are signed in as {user.email}.</p>
            {mismatch && (
              <Notice kind="warning">
                The invitation was sent to {info.email}. Sign out and sign in (or sign up) with that address to accept it.
              </Notice>
            )}
            {acceptError != null && <Notice kind="error">{messageOf(acceptError)}</Notice>}
            <div className="form-actions">
              <button type="button" className="btn btn-primary" onClick={accept} disabled={accepting}>
                {accepting ? "Accepting…" : "Accept invitation"}
              </button>
              {mismatch && (
                <button type="button" className="btn btn-secondary" onClick={() => void signOut()}>
                  Sign out
                </button>
              )}
              <Link className="btn btn-ghost" to="/">
                Not now
              </Link>
            </div>
          </section>
        </>
      );
    } else {
      const closed = registration.data?.mode === "closed";
      body = (
        <>
          {summary}
          <div className="auth-grid">
            {closed ? (
              <section className="card">
                <h2>New here?</h2>
                <p>Sign-up is closed on this instance. Ask an administrator to create your account, then sign in here.</p>
              </section>
            ) : (
              <RegisterForm heading="Create an account" invite={token} inviteEmail={info.email} onSignedIn={joined} />
            )}
            <SignInForm heading="Already have an account? Sign in" onSignedIn={(session) => startSession(session)} />
          </div>
        </>
      );
    }
  }

  return (
    <main className="auth-page" id="main">
      <div className="auth-brand" aria-hidden="true">
        Spendwatch
      </div>
      <h1 tabIndex={-1}>You have been invited</h1>
      {body}
    </main>
  );
}
