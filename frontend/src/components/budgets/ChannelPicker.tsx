import { Link } from "react-router-dom";
import type { Channel } from "../../api/types";
import { messageOf } from "../../api/errors";
import { exactErrors } from "../channels/forms";

/** Checkboxes for the channels a rule notifies. */
export function ChannelPicker({
  channels,
  loadError,
  value,
  onChange,
  error,
}: {
  channels: Channel[];
  loadError?: unknown;
  value: number[];
  onChange: (ids: number[]) => void;
  error?: unknown;
}) {
  const messages = exactErrors(error, "channels");
  const toggle = (id: number, on: boolean) =>
    onChange(on ? [...value, id].sort((a, b) => a - b) : value.filter((v) => v !== id));
  // Ids stored on the rule whose channel is gone from the list (deleted meanwhile): kept visible so they can be removed.
  const unknown = value.filter((id) => !channels.some((c) => c.id === id));
  return (
    <fieldset className="channel-picker" data-field="channels" aria-invalid={messages.length ? true : undefined}>
      <legend>Notify these channels</legend>
      {loadError ? (
        <p className="field-error">Could not load the channels: {messageOf(loadError)}</p>
      ) : channels.length === 0 ? (
        <p className="help">
          No channels yet. Alerts are still recorded in the history; <Link to="/channels">add an email or webhook channel</Link>{" "}
          to be notified.
        </p>
      ) : (
        <ul className="check-list">
          {channels.map((channel) => (
            <li key={channel.id}>
              <label>
                <input type="checkbox" checked={value.includes(channel.id)} onChange={(e) => toggle(channel.id, e.target.checked)} />{" "}
                {channel.name} <span className="muted small">({channel.kind === "email" ? "email" : "webhook"}
                {channel.enabled ? "" : ", disabled"})</span>
              </label>
            </li>
          ))}
          {unknown.map((id) => (
            <li key={id}>
              <label>
                <input type="checkbox" checked onChange={() => toggle(id, false)} /> Channel #{id}{" "}
                <span className="muted small">(not found)</span>
              </label>
            </li>
          ))}
        </ul>
      )}
      <p className="field-error" hidden={messages.length === 0}>
        {messages.join("; ")}
      </p>
    </fieldset>
  );
}
