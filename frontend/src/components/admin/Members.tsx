import { useState } from "react";
import { api } from "../../api/endpoints";
import { messageOf } from "../../api/errors";
import type { Member, Role } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { useAsync } from "../../lib/useAsync";
import { EmptyState, ErrorState, Loading, Notice } from "../Notice";
import { ConfirmBox, isSessionEnd } from "../channels/forms";

export const ROLES: [Role, string][] = [
  ["owner", "Owner"],
  ["admin", "Admin"],
  ["member", "Member"],
  ["viewer", "Viewer"],
];
export const ROLE_HELP = "Viewers read; members also change accounts, budgets and channels; admins also manage members and invitations; owners also manage owners.";

function MemberRow({
  member,
  workspaceId,
  canManage,
  isOwner,
  isSelf,
  onChanged,
  onRemoved,
}: {
  member: Member;
  workspaceId: number;
  canManage: boolean;
  isOwner: boolean;
  isSelf: boolean;
  onChanged: (m: Member) => void;
  onRemoved: (m: Member) => void;
}) {
  const [role, setRole] = useState<Role>(member.role);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  // Only owners give or take the owner role.
  const editable = canManage && (isOwner || member.role !== "owner");
  const selectId = `member-role-${member.id}`;

  const save = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const updated = await api.workspaces.changeRole(workspaceId, member.id, role);
      onChanged(updated);
      setMessage({ kind: "success", text: `Now ${updated.role}.` });
    } catch (err) {
      setRole(member.role);
      if (!isSessionEnd(err)) setMessage({ kind: "error", text: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await api.workspaces.removeMember(workspaceId, member.id);
      onRemoved(member);
    } catch (err) {
      setBusy(false);
      setConfirming(false);
      if (!isSessionEnd(err)) setMessage({ kind: "error", text: messageOf(err) });
    }
  };

  return (
    <tr>
      <td className="wrap">
        <span className="block">
          {member.name || member.email}
          {isSelf && <span className="muted small"> (you)</span>}
        </span>
        {member.name && <span className="muted small block">{member.email}</span>}
      </td>
      <td>
        {editable ? (
          <div className="inline-edit">
            <label htmlFor={selectId} className="visually-hidden">
              Role of {member.email}
            </label>
            <select id={selectId} value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={busy}>
              {ROLES.filter(([r]) => isOwner || r !== "owner").map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
            {role !== member.role && (
              <>
                <button type="button" className="btn btn-primary btn-small" onClick={save} disabled={busy}>
                  {busy ? "Saving…" : "Save role"}
                </button>
                <button type="button" className="btn btn-ghost btn-small" onClick={() => setRole(member.role)} disabled={busy}>
                  Undo
                </button>
              </>
            )}
          </div>
        ) : (
          <span className="badge">{member.role}</span>
        )}
        {message && (
          <span className={`small block ${message.kind === "error" ? "text-danger" : ""}`} role={message.kind === "error" ? "alert" : "status"}>
            {message.text}
          </span>
        )}
      </td>
      <td className="wrap">
        {editable &&
          (confirming ? (
            <ConfirmBox label={`Confirm removing ${member.email}`} confirmText="Remove" busyText="Removing…" busy={busy} onConfirm={remove} onCancel={() => setConfirming(false)}>
              <p>
                Remove {member.email} from this workspace{isSelf ? " (yourself)" : ""}?
              </p>
            </ConfirmBox>
          ) : (
            <button type="button" className="btn btn-danger-outline btn-small" onClick={() => setConfirming(true)}>
              Remove<span className="visually-hidden"> {member.email}</span>
            </button>
          ))}
      </td>
    </tr>
  );
}

/** Members of the current workspace and their roles. */
export function Members() {
  const { membership, workspaceId, user } = useAuth();
  const members = useAsync((signal) => (workspaceId ? api.workspaces.members(workspaceId, signal) : Promise.resolve({ items: [] })), [workspaceId]);
  const [flash, setFlash] = useState<string | null>(null);
  if (!workspaceId || !membership) return <Notice kind="info">You are not a member of any workspace, so there are no members to show.</Notice>;
  const canManage = membership.role === "admin" || membership.role === "owner";
  const isOwner = membership.role === "owner";
  if (members.error) return <ErrorState error={members.error} what="the members" onRetry={members.reload} />;
  if (!members.data) return <Loading>Loading members…</Loading>;
  if (!members.data.items.length) return <EmptyState title="No members." />;
  return (
    <>
      <p className="muted small">
        Workspace “{membership.workspace_name}”. {ROLE_HELP}
        {!canManage && " You need the admin or owner role in this workspace to change them."}
      </p>
      {flash && <Notice kind="success">{flash}</Notice>}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Members of {membership.workspace_name}</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.data.items.map((m) => (
              <MemberRow
                key={m.id}
                member={m}
                workspaceId={workspaceId}
                canManage={canManage}
                isOwner={isOwner}
                isSelf={m.user_id === user?.id}
                onChanged={(updated) => members.setData((d) => ({ items: (d?.items ?? []).map((x) => (x.id === updated.id ? updated : x)) }))}
                onRemoved={(gone) => {
                  members.setData((d) => ({ items: (d?.items ?? []).filter((x) => x.id !== gone.id) }));
                  setFlash(`Removed ${gone.email}.`);
                }}
              />
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
