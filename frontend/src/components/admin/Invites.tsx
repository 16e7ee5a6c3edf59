import { useRef, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { ApiError, messageOf } from "../../api/errors";
import type { Role, WorkspaceInvite, WorkspaceInviteCreated } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { formatDateTime } from "../../lib/format";
import { useAsync } from "../../lib/useAsync";
import { focusFirstError, FormError, SelectField, TextField } from "../Field";
import { EmptyState, ErrorState, Loading, Notice } from "../Notice";
import { ConfirmBox, isSessionEnd, OnceSecret } from "../channels/forms";
import { ROLES } from "./Members";

function inviteState(i: WorkspaceInvite): "accepted" | "revoked" | "expired" | "pending" {
  if (i.accepted_at) return "accepted";
  if (i.revoked_at) return "revoked";
  if (new Date(i.expires_at).getTime() < Date.now()) return "expired";
  return "pending";
}

function InviteForm({ workspaceId, isOwner, onCreated }: { workspaceId: number; isOwner: boolean; onCreated: (i: WorkspaceInviteCreated) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const created = await api.workspaces.invite(workspaceId, { email: email.trim(), role });
      setEmail("");
      setRole("member");
      onCreated(created);
    } catch (err) {
      setError(err);
      focusFirstError(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={formRef} className="inline-form" onSubmit={submit} aria-label="Invite someone" aria-busy={busy}>
      <FormError error={error} fields={["email", "role"]} />
      <div className="field-grid">
        <TextField name="email" label="Email" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} error={error} />
        <SelectField name="role" label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} error={error}>
          {ROLES.filter(([r]) => isOwner || r !== "owner").map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Inviting…" : "Create invitation"}
        </button>
      </div>
    </form>
  );
}

function InviteRow({ invite, workspaceId, onRevoked }: { invite: WorkspaceInvite; workspaceId: number; onRevoked: (i: WorkspaceInvite) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const state = inviteState(invite);
  const revoke = async () => {
    setBusy(true);
    try {
      await api.workspaces.revokeInvite(workspaceId, invite.id);
      onRevoked(invite);
    } catch (err) {
      setBusy(false);
      setConfirming(false);
      if (!isSessionEnd(err)) setError(messageOf(err));
    }
  };
  return (
    <tr>
      <td className="wrap">{invite.email}</td>
      <td>{invite.role}</td>
      <td>
        <span className={`badge badge-invite-${state}`}>{state}</span>
      </td>
      <td>{state === "accepted" ? formatDateTime(invite.accepted_at) : state === "revoked" ? formatDateTime(invite.revoked_at) : formatDateTime(invite.expires_at)}</td>
      <td className="wrap">
        {state === "pending" &&
          (confirming ? (
            <ConfirmBox label={`Confirm revoking the invitation of ${invite.email}`} confirmText="Revoke" busyText="Revoking…" busy={busy} onConfirm={revoke} onCancel={() => setConfirming(false)}>
              <p>Revoke the invitation of {invite.email}? Its link stops working.</p>
            </ConfirmBox>
          ) : (
            <button type="button" className="btn btn-danger-outline btn-small" onClick={() => setConfirming(true)}>
              Revoke<span className="visually-hidden"> the invitation of {invite.email}</span>
            </button>
          ))}
        {error && (
          <span className="small text-danger block" role="alert">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}

/** Invitations of the current workspace: list, invite with a role (the link is shown once), revoke. */
export function Invites() {
  const { membership, workspaceId } = useAuth();
  const canManage = membership?.role === "admin" || membership?.role === "owner";
  const invites = useAsync(
    (signal) => (workspaceId && canManage ? api.workspaces.invites(workspaceId, signal) : Promise.resolve({ items: [] as WorkspaceInvite[] })),
    [workspaceId, canManage],
  );
  const [created, setCreated] = useState<WorkspaceInviteCreated | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  if (!workspaceId || !membership) return <Notice kind="info">You are not a member of any workspace.</Notice>;
  if (!canManage || (invites.error instanceof ApiError && invites.error.status === 403)) {
    return (
      <Notice kind="info">
        Invitations of “{membership.workspace_name}” need the admin or owner role in that workspace; yours is {membership.role}.
      </Notice>
    );
  }
  return (
    <>
      <p className="muted small">
        Workspace “{membership.workspace_name}”. An invitation link works once and expires after 7 days. The registration mode above decides whether
        new users need one.
      </p>
      {created && (
        <OnceSecret
          title={`Invitation for ${created.email}`}
          label="Invitation link"
          value={created.url}
          onDismiss={() => setCreated(null)}
          dismissLabel="Done — hide the link"
        >
          <p className="help">
            Send this link to {created.email} ({created.role}). It expires {formatDateTime(created.expires_at)}.
          </p>
        </OnceSecret>
      )}
      {flash && <Notice kind="success">{flash}</Notice>}
      <InviteForm
        workspaceId={workspaceId}
        isOwner={membership.role === "owner"}
        onCreated={(invite) => {
          const { token: _token, url: _url, ...listed } = invite;
          void _token;
          void _url;
          invites.setData((d) => ({ items: [listed, ...(d?.items ?? [])] }));
          setFlash(null);
          setCreated(invite);
        }}
      />
      {invites.error ? (
        <ErrorState error={invites.error} what="the invitations" onRetry={invites.reload} />
      ) : !invites.data ? (
        <Loading>Loading invitations…</Loading>
      ) : invites.data.items.length === 0 ? (
        <EmptyState title="No invitations yet." />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Invitations</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Expires / done</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {invites.data.items.map((invite) => (
                <InviteRow
                  key={invite.id}
                  invite={invite}
                  workspaceId={workspaceId}
                  onRevoked={(gone) => {
                    invites.setData((d) => ({
                      items: (d?.items ?? []).map((i) => (i.id === gone.id ? { ...i, revoked_at: new Date().toISOString() } : i)),
                    }));
                    setFlash(`Revoked the invitation of ${gone.email}.`);
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
