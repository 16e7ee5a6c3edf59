import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { jsonResponse, lastBody, renderAt, signedIn } from "../components/budgets/testPage";
import Admin from "./Admin";

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

const settings = {
  registration_mode: "invite",
  sync_intervals: { ai_minutes: 60, money_minutes: 240 },
  smtp: { host: "", port: 587, security: "starttls", username: "", from_address: "", password: "" },
  allow_private_webhooks: false,
  base_url: null,
  provider_urls: { plaid: "https://plaid-proxy.example" },
  updated_at: null,
};

const adminHandlers = {
  "GET /api/admin/settings": () => settings,
  "GET /api/admin/keys": () => ({ keys: 1, secrets_current: 3, secrets_stale: 0, secrets_unreadable: 2 }),
  "GET /api/admin/prices": () => ({ items: [] }),
  "GET /api/providers": () => ({ items: [{ kind: "openai", label: "OpenAI", category: "ai", description: "", capabilities: [], credential_fields: [] }] }),
  "GET /api/workspaces/1/members": () => ({
    items: [
      { id: 1, user_id: 1, email: "ada@example.com", name: "Ada", role: "owner" },
      { id: 2, user_id: 2, email: "bob@example.com", name: "Bob", role: "member" },
    ],
  }),
  "GET /api/workspaces/1/invites": () => ({ items: [] }),
};

describe("Admin", () => {
  it("is hidden from the navigation and refused for someone who is not an instance admin", async () => {
    const { calls } = signedIn({}, { isAdmin: false });
    render(
      <MemoryRouter initialEntries={["/admin"]}>
        <AuthProvider>
          <App />
        </AuthProvider>
      </MemoryRouter>,
    );
    expect(await screen.findByRole("heading", { name: "Admins only" })).toBeInTheDocument();
    const nav = within(screen.getByRole("navigation", { name: "Main" }));
    expect(nav.getByRole("link", { name: "Channels" })).toBeInTheDocument();
    expect(nav.queryByRole("link", { name: "Admin" })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.includes("/api/admin"))).toEqual([]);
  });

  it("says admins only when the API refuses (rights changed meanwhile)", async () => {
    const refused = () => jsonResponse(403, { error: { code: "admin_only", message: "Instance administrators only.", details: null } });
    signedIn({ ...adminHandlers, "GET /api/admin/settings": refused, "GET /api/admin/keys": refused });
    renderAt("/admin", <Admin />);
    expect(await screen.findByRole("heading", { name: "Admins only" })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Instance settings" })).not.toBeInTheDocument();
  });

  it("shows the settings, unreadable secrets, members and invitations to an admin", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedIn({
      ...adminHandlers,
      "PATCH /api/workspaces/1/members/2": () => ({ id: 2, user_id: 2, email: "bob@example.com", name: "Bob", role: "viewer" }),
      "POST /api/workspaces/1/invites": () =>
        new Response(
          JSON.stringify({ id: 8, email: "cy@example.com", role: "admin", expires_at: "2099-01-01T00:00:00Z", accepted_at: null, revoked_at: null, token: "tok", url: "http://x/invite/tok" }),
          { status: 201 },
        ),
    });
    renderAt("/admin", <Admin />);

    expect(await screen.findByLabelText("Who can create an account")).toHaveValue("invite");
    expect(await screen.findByText(/2 stored secrets cannot be decrypted/)).toBeInTheDocument();

    await user.selectOptions(await screen.findByLabelText("Role of bob@example.com"), "viewer");
    await user.click(screen.getByRole("button", { name: "Save role" }));
    expect(await screen.findByText("Now viewer.")).toBeInTheDocument();
    expect(lastBody(fetchMock, "PATCH", "/api/workspaces/1/members/2")).toEqual({ role: "viewer" });

    const invite = within(screen.getByRole("form", { name: "Invite someone" }));
    await user.type(invite.getByLabelText(/^Email/), "cy@example.com");
    await user.selectOptions(invite.getByLabelText("Role"), "admin");
    await user.click(invite.getByRole("button", { name: "Create invitation" }));
    const link = within(await screen.findByRole("region", { name: "Invitation for cy@example.com" }));
    expect(link.getByLabelText("Invitation link")).toHaveValue("http://x/invite/tok");
    expect(lastBody(fetchMock, "POST", "/api/workspaces/1/invites")).toEqual({ email: "cy@example.com", role: "admin" });
    await user.click(link.getByRole("button", { name: /hide the link/ }));
    expect(document.body.innerHTML).not.toContain("invite/tok");
  });

  it("sets a provider's API address and removes another", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedIn({ ...adminHandlers, "PATCH /api/admin/settings": () => settings });
    renderAt("/admin", <Admin />);
    const openai = await screen.findByLabelText("OpenAI API address");
    await user.type(openai, "https://llm-proxy.example/v1");
    await user.clear(screen.getByLabelText("Plaid API address"));
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Settings saved.")).toBeInTheDocument();
    expect(lastBody(fetchMock, "PATCH", "/api/admin/settings")).toEqual({
      provider_urls: { openai: "https://llm-proxy.example/v1", plaid: null },
    });
  });

  it("adds a price override with the exact decimal strings", async () => {
    const user = userEvent.setup();
    const { fetchMock } = signedIn({
      ...adminHandlers,
      "POST /api/admin/prices": (_url, init) =>
        new Response(JSON.stringify({ id: 1, ...JSON.parse(String(init.body)), created_at: "2026-11-01T00:00:00Z" }), { status: 201 }),
    });
    renderAt("/admin", <Admin />);
    await user.click(await screen.findByRole("button", { name: "Add a price" }));
    const form = within(screen.getByRole("form", { name: "Add a price" }));
    await user.type(form.getByLabelText(/^Model/), "gpt-x");
    await user.clear(form.getByLabelText(/^Valid from/));
    await user.type(form.getByLabelText(/^Valid from/), "2026-11-01");
    await user.type(form.getByLabelText(/^Input per million/), "2.50");
    await user.type(form.getByLabelText(/^Output per million/), "10");
    await user.click(form.getByRole("button", { name: "Add price" }));
    expect(await screen.findByText("Added the price of gpt-x from 2026-11-01.")).toBeInTheDocument();
    expect(lastBody(fetchMock, "POST", "/api/admin/prices")).toEqual({
      provider: "openai",
      model: "gpt-x",
      valid_from: "2026-11-01",
      input_per_million: "2.50",
      output_per_million: "10",
      cache_read_per_million: null,
      cache_write_per_million: null,
      note: "",
    });
  });

  it("sends a test email with the saved SMTP settings and shows how it went", async () => {
    const user = userEvent.setup();
    const saved = { ...settings, smtp: { ...settings.smtp, host: "mail.example.com", port: 587, security: "starttls" } };
    let answer: unknown = { ok: true, via: "smtp", server: "mail.example.com:587 (starttls)", status_code: 250, error: null, note: null, duration_ms: 120 };
    const { fetchMock } = signedIn({ ...adminHandlers, "GET /api/admin/settings": () => saved, "POST /api/admin/smtp/test": () => answer });
    renderAt("/admin", <Admin />);

    const form = within(await screen.findByRole("form", { name: "Send a test email" }));
    expect(form.getByText("Sent now through the saved settings: mail.example.com:587 (starttls).")).toBeInTheDocument();
    const to = form.getByLabelText(/^Recipient/);
    expect(to).toHaveValue("ada@example.com"); // the admin's own address to start with
    await user.clear(to);
    await user.type(to, "ops@example.com");
    await user.click(form.getByRole("button", { name: "Send test email" }));
    expect(await form.findByText("Sent to ops@example.com: the mail server accepted it. Check that inbox.")).toBeInTheDocument();
    expect(lastBody(fetchMock, "POST", "/api/admin/smtp/test")).toEqual({ to: "ops@example.com" });

    answer = { ok: false, via: "smtp", server: "mail.example.com:587 (starttls)", status_code: null, error: "could not reach the mail server mail.example.com:587 (connection refused)", note: null, duration_ms: 3 };
    await user.click(form.getByRole("button", { name: "Send test email" }));
    expect(await form.findByRole("alert")).toHaveTextContent("The test email was not sent: could not reach the mail server mail.example.com:587 (connection refused).");

    answer = jsonResponse(422, { error: { code: "validation_error", message: "The request is not valid.", details: [{ loc: ["to"], msg: "String should match pattern", type: "string_pattern_mismatch" }] } });
    await user.click(form.getByRole("button", { name: "Send test email" }));
    expect(await form.findByText("String should match pattern")).toBeInTheDocument();
    expect(to).toHaveAttribute("aria-invalid", "true");
  });

  it("says where the message goes without SMTP, and that unsaved changes are not tested", async () => {
    const user = userEvent.setup();
    const note = "SMTP is not set up (no host), so the message was not sent: it was written to the mail outbox as msg_1.eml (/data/mail-outbox).";
    signedIn({ ...adminHandlers, "POST /api/admin/smtp/test": () => ({ ok: true, via: "outbox", server: null, status_code: null, error: null, note, duration_ms: 2 }) });
    renderAt("/admin", <Admin />);
    const form = within(await screen.findByRole("form", { name: "Send a test email" }));
    expect(form.getByText(/No SMTP host is saved/)).toBeInTheDocument();
    await user.click(form.getByRole("button", { name: "Send test email" }));
    expect(await form.findByText(note)).toBeInTheDocument();

    await user.type(screen.getByLabelText("Host"), "smtp.example.com");
    expect(form.getByText(/unsaved changes: the test uses the saved settings/)).toBeInTheDocument();
  });
});

