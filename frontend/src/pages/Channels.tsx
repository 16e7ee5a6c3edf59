import { useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { Channel } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ChannelCard, type ShownSecret } from "../components/channels/ChannelCard";
import { ChannelForm } from "../components/channels/ChannelForm";
import "../components/budgets/alerting.css";
import { useFocusLater } from "../components/channels/forms";
import { EmptyState, ErrorState, Loading, Notice } from "../components/Notice";
import { PageHeader } from "../components/PageHeader";
import { useAsync } from "../lib/useAsync";

/** Email and webhook channels: add, edit, enable/disable, rotate a webhook's secret, test, delivery log. */
export default function Channels() {
  const { canWrite, membership } = useAuth();
  const channels = useAsync(async (signal) => (await api.channels.list(signal)).items, []);
  const [adding, setAdding] = useState(false);
  const [flash, setFlash] = useState<string | null>(null);
  // Secrets the server showed this once, by channel id: kept in memory only until dismissed.
  const [secrets, setSecrets] = useState<Record<number, ShownSecret>>({});
  const addButton = useRef<HTMLButtonElement>(null);

  const update = (c: Channel) => channels.setData((list) => (list ?? []).map((x) => (x.id === c.id ? c : x)));
  const forget = (id: number) =>
    setSecrets((s) => {
      const next = { ...s };
      delete next[id];
      return next;
    });
  const focusLater = useFocusLater();
  const closeAdd = () => {
    setAdding(false);
    focusLater("#add-channel");
  };

  return (
    <>
      <PageHeader title="Channels" subtitle="Where alerts are sent: email addresses or webhook endpoints (Slack too).">
        {canWrite && !adding && channels.data && (
          <button
            type="button"
            className="btn btn-primary"
            ref={addButton}
            id="add-channel"
            onClick={() => {
              setFlash(null);
              setAdding(true);
            }}
          >
            Add channel
          </button>
        )}
      </PageHeader>
      {membership?.role === "viewer" && <p className="muted">You have the viewer role in this workspace: channels are read-only for you.</p>}
      {flash && <Notice kind="success">{flash}</Notice>}
      {adding && (
        <ChannelForm
          onCancel={closeAdd}
          onCreated={(created) => {
            const { secret, ...channel } = created;
            channels.setData((list) => [...(list ?? []), channel]);
            if (secret) setSecrets((s) => ({ ...s, [channel.id]: { secret, reason: "created" } }));
            setFlash(`Added “${channel.name}”. Use “Send test” to check it.`);
            setAdding(false);
            if (!secret) focusLater(`#channel-${channel.id} h3`);
          }}
        />
      )}
      {channels.error ? (
        <ErrorState error={channels.error} what="the channels" onRetry={channels.reload} />
      ) : !channels.data ? (
        <Loading>Loading channels…</Loading>
      ) : channels.data.length === 0 ? (
        !adding && (
          <EmptyState title="No channels yet.">
            <p className="muted">Add an email list or a webhook, then pick it in a budget or alert rule to be told when it fires.</p>
            {canWrite && (
              <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
                Add a channel
              </button>
            )}
          </EmptyState>
        )
      ) : (
        <>
          {/* The cards' names are h3s: this heading keeps the outline in order for screen readers. */}
          <h2 id="channels-list-h" className="visually-hidden">
            Your channels
          </h2>
          <ul className="card-list" aria-labelledby="channels-list-h">
            {channels.data.map((channel) => (
              <ChannelCard
                key={channel.id}
                channel={channel}
                canWrite={canWrite}
                secret={secrets[channel.id]}
                onSecretDismissed={() => {
                  forget(channel.id);
                  focusLater(`#channel-${channel.id} h3`);
                }}
                onSecretRotated={(s) => setSecrets((all) => ({ ...all, [channel.id]: s }))}
                onChanged={update}
                onDeleted={(gone) => {
                  channels.setData((list) => (list ?? []).filter((c) => c.id !== gone.id));
                  forget(gone.id);
                  setFlash(`Deleted “${gone.name}”.`);
                  focusLater(addButton.current ? "#add-channel" : "h1");
                }}
              />
            ))}
          </ul>
        </>
      )}
    </>
  );
}
