import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { lastBody, renderAt, signedIn } from "../components/budgets/testPage";
import Channels from "./Channels";

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const stamp = "2026-11-01T00:00:00Z";
const hook = {
  id: 5,
  workspace_id: 1,
  name: "Hook",
  kind: "webhook",
  enabled: true,
  disabled_reason: null,
  recipients: null,
  url: "https://hooks.example.com/x/…cdef",
  format: "standard",
  headers: { Authorization: "…1234" },
  previous_secret_valid_until: null,
  last_error: null,
  last_delivery_at: null,
  created_at: stamp,
  updated_at: stamp,
};

describe("Channels", () => {
  it("shows a new webhook's secret once, with a copy button, and then never again", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedIn({
      "GET /api/channels": () => ({ items: [] }),
      "POST /api/channels": () => new Response(JSON.stringify({ ...hook, secret: "whsec_SECRET123" }), { status: 201 }),
    });
    renderAt("/channels", <Channels />);

    await screen.findByText("No channels yet.");
    await user.click(screen.getByRole("button", { name: "Add channel" }));
    const form = within(screen.getByRole("form", { name: "Add a channel" }));
    await user.click(form.getByLabelText("Webhook"));
    await user.type(form.getByLabelText(/^Name/), "Hook");
    await user.type(form.getByLabelText(/^URL/), "https://hooks.example.com/x/abcdef");
    await user.click(form.getByRole("button", { name: "Add header" }));
    await user.type(form.getByLabelText("Header 1 name"), "Authorization");
    await user.type(form.getByLabelText("Header 1 value"), "Bearer t0k3n1234");
    await user.click(form.getByRole("button", { name: "Add channel" }));

    const box = within(await screen.findByRole("region", { name: "Signing secret of the new webhook" }));
    expect(box.getByLabelText("Signing secret")).toHaveValue("whsec_SECRET123");
    expect(box.getByText(/you will not see it again/i)).toBeInTheDocument();
    expect(lastBody(fetchMock, "POST", "/api/channels")).toEqual({
      name: "Hook",
      kind: "webhook",
      url: "https://hooks.example.com/x/abcdef",
      format: "standard",
      headers: { Authorization: "Bearer t0k3n1234" },
    });

    await user.click(box.getByRole("button", { name: "Copy" }));
    expect(await navigator.clipboard.readText()).toBe("whsec_SECRET123");
    expect(box.getByRole("button", { name: "Copied" })).toBeInTheDocument();

    await user.click(box.getByRole("button", { name: /I have saved it/ }));
    expect(screen.queryByRole("region", { name: /Signing secret/ })).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain("whsec_SECRET123");
    // The channel itself stays, with its URL hint.
    await waitFor(() => expect(screen.getByRole("heading", { name: "Hook" })).toHaveFocus());
    expect(screen.getByText("https://hooks.example.com/x/…cdef")).toBeInTheDocument();
  });

  it("retries a dead notification from the delivery log", async () => {
    const user = userEvent.setup();
    const attempt = { event_id: 77, event_type: "budget.threshold_crossed", message_id: "msg_1", ok: false, response_code: 500, duration_ms: 35, error: "HTTP 500" };
    const { calls } = signedIn({
      "GET /api/channels": () => ({ items: [hook] }),
      "GET /api/channels/5/deliveries": () => ({
        items: [
          { ...attempt, id: 9, notification_id: 41, notification_status: "dead", attempted_at: "2026-11-02T10:00:00Z" },
          { ...attempt, id: 8, notification_id: 41, notification_status: "dead", attempted_at: "2026-11-02T09:00:00Z" },
          { ...attempt, id: 7, notification_id: 40, notification_status: "delivered", ok: true, response_code: 200, error: null, attempted_at: "2026-11-01T09:00:00Z" },
        ],
        next_before: null,
      }),
      "POST /api/notifications/41/retry": () => ({
        id: 41, event_id: 77, channel_id: 5, message_id: "msg_1", status: "pending", attempts: 0, next_attempt_at: "2026-11-02T10:01:00Z", last_error: null, created_at: stamp, delivered_at: null,
      }),
    });
    renderAt("/channels", <Channels />);

    await user.click(await screen.findByRole("button", { name: "Deliveries" }));
    const log = within(await screen.findByRole("table", { name: /Delivery attempts/ }));
    // One retry per dead notification (on its newest attempt), none for the delivered one.
    const retries = log.getAllByRole("button", { name: /Retry/ });
    expect(retries).toHaveLength(1);
    await user.click(retries[0]);

    expect(await log.findByText(/Retry scheduled/)).toBeInTheDocument();
    expect(calls).toContain("POST /api/notifications/41/retry");
    expect(log.queryByRole("button", { name: /Retry/ })).not.toBeInTheDocument();
    expect(log.getAllByText("pending")).toHaveLength(2);
  });

  it("sends a test and shows how it went", async () => {
    const user = userEvent.setup();
    signedIn({
      "GET /api/channels": () => ({ items: [hook] }),
      "POST /api/channels/5/test": () => ({ ok: false, status_code: 503, error: "Service Unavailable", duration_ms: 120, note: null, notification_id: 50, message_id: "msg_t" }),
      "GET /api/channels/5": () => ({ ...hook, last_error: "HTTP 503" }),
    });
    renderAt("/channels", <Channels />);
    await user.click(await screen.findByRole("button", { name: "Send test" }));
    expect(await screen.findByText("Test failed.")).toBeInTheDocument();
    expect(screen.getByText(/response 503 · 120 ms/)).toBeInTheDocument();
    expect(screen.getByText(/Error: Service Unavailable/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText("HTTP 503")).toBeInTheDocument());
  });

  it("shows a rotated secret once", async () => {
    const user = userEvent.setup();
    signedIn({
      "GET /api/channels": () => ({ items: [hook] }),
      "POST /api/channels/5/rotate-secret": () => ({ secret: "whsec_NEW", previous_secret_valid_until: "2026-11-03T10:00:00Z" }),
      "GET /api/channels/5": () => ({ ...hook, previous_secret_valid_until: "2099-11-03T10:00:00Z" }),
    });
    renderAt("/channels", <Channels />);
    await user.click(await screen.findByRole("button", { name: "Rotate secret" }));
    await user.click(screen.getByRole("button", { name: "Rotate secret" }));
    const box = within(await screen.findByRole("region", { name: "New signing secret" }));
    expect(box.getByLabelText("Signing secret")).toHaveValue("whsec_NEW");
    await user.click(box.getByRole("button", { name: /I have saved it/ }));
    expect(document.body.innerHTML).not.toContain("whsec_NEW");
  });
});
