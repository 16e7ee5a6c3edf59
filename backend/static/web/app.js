// Spendwatch starter UI: sign-up / sign-in, workspaces, provider accounts and instance settings.
// A plain ES module with no build step. Every piece of user or server text reaches the page through
// textContent (the h() helper below); nothing is ever assigned to innerHTML. Tokens are never logged.

const KEYS = {
  access: "spendwatch.access_token",
  refresh: "spendwatch.refresh_token",
  workspace: "spendwatch.workspace_id",
};

const STATUS_LABELS = {
  new: "New — not tested yet",
  ok: "OK",
  failing: "Failing",
  needs_attention: "Needs attention",
};

const REGISTRATION_MODES = [
  ["open", "Open — anyone can create an account"],
  ["invite", "By invitation only"],
  ["closed", "Closed — nobody can sign up"],
];

const SMTP_SECURITY = [
  ["none", "None (plain SMTP)"],
  ["starttls", "STARTTLS"],
  ["tls", "TLS (implicit, usually port 465)"],
];

// The only mutable state of the page.
const state = {
  registration: null, // {mode, first_user} from /api/auth/registration
  inviteToken: null, // from a /invite/<token> URL
  user: null,
  workspaces: [], // [{workspace_id, workspace_name, role}]
  workspaceId: null,
  providers: null, // provider kinds, loaded once per sign-in
  accounts: null, // null while loading
  editingId: null, // id of the account whose edit form is open
  rowMessages: new Map(), // account id -> {ok, text}: the last test/save outcome shown in the row
  settings: null, // instance settings as last loaded (admins only)
};

let refreshInFlight = null; // the one shared token refresh; concurrent 401s wait on it
let idSeq = 0;

// ---------------------------------------------------------------------------------------------
// Tokens

const tokens = {
  get access() {
    return localStorage.getItem(KEYS.access);
  },
  get refresh() {
    return localStorage.getItem(KEYS.refresh);
  },
  save(access, refresh) {
    localStorage.setItem(KEYS.access, access);
    localStorage.setItem(KEYS.refresh, refresh);
  },
  clear() {
    localStorage.removeItem(KEYS.access);
    localStorage.removeItem(KEYS.refresh);
  },
};

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.sessionEnded = false; // true when this error signed the user out (the page already shows sign-in)
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function toApiError(response) {
  const body = await readJson(response);
  const error = body && typeof body.error === "object" ? body.error : null;
  if (error) return new ApiError(response.status, error.code, error.message || response.statusText, error.details);
  const message =
    response.status === 429
      ? "Too many requests. Wait a minute and try again."
      : `The server answered ${response.status} ${response.statusText}.`;
  return new ApiError(response.status, response.status === 429 ? "rate_limited" : "http_error", message);
}

function networkError() {
  return new ApiError(0, "network_error", "Could not reach the Spendwatch server. Check that it is running and try again.");
}

/**
 * Call the JSON API. Sends the access token and the selected workspace, refreshes an expired access
 * token once (shared between concurrent calls) and retries, and throws ApiError on any failure.
 */
async function api(path, { method = "GET", body, auth = true, retried = false } = {}) {
  const headers = { Accept: "application/json" };
  const access = auth ? tokens.access : null;
  if (access) headers.Authorization = `Bearer ${access}`;
  if (auth && state.workspaceId != null) headers["X-Workspace-Id"] = String(state.workspaceId);
  if (body !== undefined) headers["Content-Type"] = "application/json";

  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw networkError();
  }
  if (response.ok) return response.status === 204 ? null : readJson(response);

  const error = await toApiError(response);
  if (access && error.status === 401) {
    if (error.code === "token_expired" && !retried) {
      await refreshTokens(access);
      return api(path, { method, body, auth, retried: true });
    }
    endSession("Your session has ended. Please sign in again.");
    error.sessionEnded = true;
  }
  throw error;
}

/** Get a new token pair, once, however many requests found their access token expired. */
function refreshTokens(usedAccess) {
  // Someone else refreshed while our request was in flight: retrying with the new token is enough.
  if (tokens.access && tokens.access !== usedAccess) return Promise.resolve();
  if (!refreshInFlight) {
    const run = () => exchangeRefreshToken(usedAccess);
    // Across tabs too (each refresh token works once), where the Web Locks API is available.
    const task = navigator.locks ? navigator.locks.request("spendwatch-token-refresh", run) : run();
    refreshInFlight = task.finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

async function exchangeRefreshToken(usedAccess) {
  if (tokens.access && tokens.access !== usedAccess) return; // another tab refreshed while we waited
  const refresh = tokens.refresh;
  if (!refresh) {
    endSession("Your session has ended. Please sign in again.");
    throw Object.assign(new ApiError(401, "unauthorized", "Sign in first."), { sessionEnded: true });
  }
  let response;
  try {
    response = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { Accept: "application/json", Authorization: `Bearer ${refresh}` },
    });
  } catch {
    throw networkError();
  }
  if (!response.ok) {
    const error = await toApiError(response);
    // A rate limit or a server hiccup did not consume the refresh token: keep the session for a retry.
    if (error.status !== 429 && error.status < 500) {
      endSession("Your session has expired. Please sign in again.");
      error.sessionEnded = true;
    }
    throw error;
  }
  const data = await readJson(response);
  tokens.save(data.access_token, data.refresh_token);
}

// ---------------------------------------------------------------------------------------------
// DOM helpers

const DOM_PROPS = new Set(["value", "checked", "selected", "disabled"]);

/** Create an element. Children may be nodes, strings (inserted as text), arrays, or null/false (skipped). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "class") el.className = value;
    else if (key === "for") el.htmlFor = value;
    else if (DOM_PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return el;
}

const uid = (prefix) => `${prefix}-${++idSeq}`;
const $ = (selector, root = document) => root.querySelector(selector);
const mainEl = () => $("#main");

function setMain(...nodes) {
  mainEl().replaceChildren(...nodes.filter(Boolean));
}

function focusHeading() {
  const heading = $("h1", mainEl());
  if (heading) heading.focus({ preventScroll: false });
}

function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Text with `backticked` parts shown as code, as provider descriptions use them (still text only). */
function withCode(text) {
  return String(text)
    .split("`")
    .map((part, i) => (i % 2 ? h("code", {}, part) : part));
}

function loadingNote(text) {
  return h("p", { class: "loading", role: "status" }, text);
}

/** A status line: kind is "info", "success" or "error" (errors are announced right away). */
function notice(kind, text, extra = []) {
  return h(
    "div",
    { class: `banner banner-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("p", {}, text),
    extra.length ? h("ul", {}, extra.map((line) => h("li", {}, line))) : null,
  );
}

function setFlash(kind, text) {
  const slot = $("#flash");
  if (slot) slot.replaceChildren(text ? notice(kind, text) : "");
}

// ---------------------------------------------------------------------------------------------
// Form helpers

/**
 * A labelled form control with optional help text, a note, and a slot for its error message.
 * `name` is the field's path in the request body ("email", "credentials.api_key", "smtp.port"):
 * it is how API validation errors find their field.
 */
function field(opts) {
  const { name, label, type = "text", value = "", help, note, options, required, reveal, ...attrs } = opts;
  const id = uid(`f-${name.replace(/\W+/g, "-")}`);
  const helpId = help ? `${id}-help` : null;
  const noteId = note ? `${id}-note` : null;
  const errorId = `${id}-error`;
  const describedBy = [helpId, noteId, errorId].filter(Boolean).join(" ");
  const common = { id, name, "data-field": name, "aria-describedby": describedBy, required, ...attrs };

  let control;
  if (type === "select") {
    control = h("select", common, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  } else if (type === "checkbox") {
    control = h("input", { ...common, type, checked: Boolean(value) });
    control.value = value ?? "";
  } else {
    control = h("input", { ...common, type, value: value ?? "" });
  }

  const labelEl = h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null);
  const errorEl = h("p", { class: "field-error", id: errorId, hidden: true });
  const helpEl = help ? h("p", { class: "help", id: helpId }, help) : null;
  const noteEl = note ? h("p", { class: "help note", id: noteId }, note) : null;

  if (type === "checkbox") {
    return h("div", { class: "field field-checkbox" }, h("div", { class: "checkbox-row" }, control, labelEl), helpEl, noteEl, errorEl);
  }
  const input = type === "password" && reveal !== false ? h("div", { class: "input-row" }, control, revealButton(control)) : control;
  return h("div", { class: "field" }, labelEl, input, helpEl, noteEl, errorEl);
}

/** A "Show"/"Hide" toggle for a password input. */
function revealButton(input) {
  const button = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-controls": input.id, "aria-pressed": "false" }, "Show");
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    button.textContent = show ? "Hide" : "Show";
    button.setAttribute("aria-pressed", String(show));
  });
  return button;
}

function formMessageSlot() {
  return h("div", { class: "form-message", tabindex: "-1" });
}

function setFormMessage(form, kind, text, extra = []) {
  const slot = $(".form-message", form);
  if (!slot) return;
  slot.replaceChildren(text ? notice(kind, text, extra) : "");
}

function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) {
    el.textContent = "";
    el.hidden = true;
  }
  setFormMessage(form, null);
}

/** The control a validation error's loc points at: the full path first, else its last element. */
function controlFor(form, loc) {
  if (!Array.isArray(loc) || loc.length === 0) return null;
  const parts = loc.map(String).filter((p, i) => !(i === 0 && p === "body"));
  const controls = [...form.querySelectorAll("[data-field]")];
  const path = parts.join(".");
  const last = parts[parts.length - 1];
  return (
    controls.find((c) => c.dataset.field === path) ||
    controls.find((c) => c.dataset.field.split(".").pop() === last) ||
    null
  );
}

/** Show an API error on a form: its message on top, each validation detail next to its field. */
function showFormError(form, error) {
  if (error.sessionEnded || !form.isConnected) return;
  const unmatched = [];
  let first = null;
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    const control = controlFor(form, detail.loc);
    if (!control) {
      if (detail.msg) unmatched.push(detail.loc?.length ? `${detail.loc.filter((p) => p !== "body").join(".")}: ${detail.msg}` : detail.msg);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    const errorEl = document.getElementById(control.getAttribute("aria-describedby").split(" ").pop());
    errorEl.textContent = errorEl.textContent ? `${errorEl.textContent}; ${detail.msg}` : detail.msg;
    errorEl.hidden = false;
    first ??= control;
  }
  setFormMessage(form, "error", error.message, unmatched); // a 429's message already says it is rate limited
  if (first) first.focus();
  else $(".form-message", form)?.focus();
}

/** Disable the submit button and mark the form busy while TASK runs. */
async function withBusy(form, busyLabel, task) {
  const button = $("button[type=submit]", form);
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  form.setAttribute("aria-busy", "true");
  try {
    return await task();
  } finally {
    button.disabled = false;
    button.textContent = label;
    form.removeAttribute("aria-busy");
  }
}

/** Same for a lone button (row actions). */
async function withBusyButton(button, busyLabel, task) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    return await task();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

const valueOf = (form, name) => {
  const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!control) return undefined;
  return control.type === "checkbox" ? control.checked : control.value;
};

// ---------------------------------------------------------------------------------------------
// Session

function inviteTokenFromPath() {
  const match = window.location.pathname.match(/^\/invite\/([^/]+)\/?$/);
  return match ? decodeURIComponent(match[1]) : null;
}

function forgetInvite() {
  state.inviteToken = null;
  if (window.location.pathname !== "/") window.history.replaceState(null, "", "/");
}

function selectWorkspace(preferredId) {
  const ids = state.workspaces.map((w) => w.workspace_id);
  const stored = Number(localStorage.getItem(KEYS.workspace));
  const id = [preferredId, stored].find((candidate) => ids.includes(candidate)) ?? ids[0] ?? null;
  state.workspaceId = id;
  if (id == null) localStorage.removeItem(KEYS.workspace);
  else localStorage.setItem(KEYS.workspace, String(id));
}

function currentMembership() {
  return state.workspaces.find((w) => w.workspace_id === state.workspaceId) || null;
}

const canWrite = () => Boolean(currentMembership()) && currentMembership().role !== "viewer";

function applyMe({ user, workspaces }, preferredWorkspaceId) {
  state.user = user;
  state.workspaces = workspaces;
  selectWorkspace(preferredWorkspaceId);
}

function startSession(data) {
  tokens.save(data.access_token, data.refresh_token);
  applyMe(data);
  showApp();
}

function resetSessionState() {
  state.user = null;
  state.workspaces = [];
  state.workspaceId = null;
  state.providers = null;
  state.accounts = null;
  state.editingId = null;
  state.rowMessages.clear();
  state.settings = null;
}

/** Forget the session locally and show sign-in (used when the server says the session is over). */
function endSession(message) {
  // Several requests may fail at once; only the first one switches the page to sign-in.
  const hadSession = Boolean(state.user || tokens.access || tokens.refresh);
  tokens.clear();
  resetSessionState();
  if (hadSession) showAuth(message);
}

async function signOut(button) {
  let alreadyEnded = false;
  await withBusyButton(button, "Signing out…", async () => {
    try {
      await api("/api/auth/logout", { method: "POST" });
    } catch (error) {
      // Signed out locally either way; the server-side session then simply runs out.
      alreadyEnded = error.sessionEnded;
    }
  });
  if (alreadyEnded) return;
  tokens.clear();
  resetSessionState();
  showAuth("You are signed out.", "info");
}

function onStorage(event) {
  if (event.key !== KEYS.access) return;
  if (event.newValue === null && state.user) {
    // Signed out in another tab: follow suit here.
    resetSessionState();
    showAuth("You signed out in another tab.", "info");
  } else if (event.newValue && !state.user) {
    boot(); // signed in in another tab
  }
}

// ---------------------------------------------------------------------------------------------
// Header

function renderSessionBar() {
  const bar = $("#session-bar");
  if (!state.user) {
    bar.replaceChildren();
    return;
  }
  const items = [];
  if (state.workspaces.length) {
    const select = h(
      "select",
      { id: "workspace-select", onchange: (e) => switchWorkspace(Number(e.target.value)) },
      state.workspaces.map((w) =>
        h("option", { value: String(w.workspace_id), selected: w.workspace_id === state.workspaceId }, `${w.workspace_name} (${w.role})`),
      ),
    );
    items.push(h("div", { class: "workspace-picker" }, h("label", { for: "workspace-select" }, "Workspace"), select));
  }
  if (state.workspaces.length) $("#workspace-select", items[0]).value = String(state.workspaceId);
  items.push(h("span", { class: "user-email", title: "Signed in as" }, state.user.email));
  if (state.user.is_admin) items.push(h("span", { class: "badge badge-admin" }, "Instance admin"));
  const signOutButton = h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Sign out");
  signOutButton.addEventListener("click", () => signOut(signOutButton));
  items.push(signOutButton);
  bar.replaceChildren(...items);
}

function switchWorkspace(id) {
  selectWorkspace(id);
  state.accounts = null;
  state.editingId = null;
  state.rowMessages.clear();
  renderAppMain({ focus: false }); // the header stays as it is, so focus stays on the selector
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-up

async function showAuth(message, kind = "error") {
  renderSessionBar();
  setMain(loadingNote("Loading…"));
  let loadError = null;
  try {
    state.registration = await api("/api/auth/registration", { auth: false });
  } catch (error) {
    loadError = error.message;
    state.registration = state.registration || { mode: "closed", first_user: false };
  }
  renderAuth(loadError ? notice("error", loadError) : message ? notice(kind, message) : null);
}

function renderAuth(topNotice) {
  const { mode, first_user: firstUser } = state.registration;
  const invite = state.inviteToken;
  const cards = [];
  let title = "Sign in to Spendwatch";
  let intro = null;

  if (firstUser) {
    title = "Welcome to Spendwatch";
    intro = "No accounts exist yet. The first account owns a new workspace and administers this instance.";
    cards.push(registerCard({ heading: "Create the first account (you become the instance admin)", first: true }));
  } else if (invite) {
    title = "You have been invited";
    intro = "Create an account to join the workspace, or sign in if you already have one and accept the invitation.";
    cards.push(registerCard({ heading: "Create an account", invite }));
    cards.push(signInCard({ heading: "Already have an account? Sign in" }));
  } else {
    cards.push(signInCard({ heading: "Sign in" }));
    if (mode === "open") cards.push(registerCard({ heading: "Create an account" }));
    else cards.push(closedCard(mode));
  }

  setMain(
    h("h1", { tabindex: "-1" }, title),
    intro ? h("p", { class: "lead" }, intro) : null,
    topNotice,
    h("div", { class: "auth-grid" }, cards),
  );
}

function closedCard(mode) {
  const text =
    mode === "invite"
      ? "Sign-up on this instance is by invitation. Open the invitation link you were sent to create an account."
      : "Sign-up is closed on this instance. Ask an administrator for an account.";
  return h("section", { class: "card", "aria-labelledby": "signup-closed-h" }, h("h2", { id: "signup-closed-h" }, "New here?"), h("p", {}, text));
}

function signInCard({ heading }) {
  const headingId = uid("signin-h");
  const form = h(
    "form",
    { novalidate: false, "aria-labelledby": headingId },
    formMessageSlot(),
    field({ name: "email", label: "Email", type: "email", required: true, autocomplete: "username", inputmode: "email" }),
    field({ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password" }),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Sign in")),
  );
  form.addEventListener("submit", (event) => submitSignIn(event, form));
  return h("section", { class: "card" }, h("h2", { id: headingId }, heading), form);
}

async function submitSignIn(event, form) {
  event.preventDefault();
  clearErrors(form);
  const body = { email: valueOf(form, "email").trim(), password: valueOf(form, "password") };
  try {
    const data = await withBusy(form, "Signing in…", () => api("/api/auth/login", { method: "POST", body, auth: false }));
    startSession(data);
  } catch (error) {
    showFormError(form, error);
  }
}

function registerCard({ heading, first = false, invite = null }) {
  const headingId = uid("register-h");
  const form = h(
    "form",
    { "aria-labelledby": headingId },
    formMessageSlot(),
    field({ name: "email", label: "Email", type: "email", required: true, autocomplete: "email", inputmode: "email" }),
    field({ name: "name", label: "Your name", autocomplete: "name", help: "Optional." }),
    field({
      name: "password",
      label: "Password",
      type: "password",
      required: true,
      minlength: "10",
      autocomplete: "new-password",
      help: "At least 10 characters, and not your email address.",
    }),
    invite
      ? field({ name: "invite_token", label: "Invitation code", value: invite, required: true, autocomplete: "off", help: "From your invitation link." })
      : field({
          name: "workspace_name",
          label: "Workspace name",
          autocomplete: "organization",
          help: first ? "Optional. Defaults to “<your name>'s workspace”." : "Optional. A new workspace is created for you.",
        }),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, first ? "Create the admin account" : "Create account")),
  );
  form.addEventListener("submit", (event) => submitRegister(event, form));
  return h("section", { class: "card" }, h("h2", { id: headingId }, heading), form);
}

async function submitRegister(event, form) {
  event.preventDefault();
  clearErrors(form);
  const body = { email: valueOf(form, "email").trim(), password: valueOf(form, "password") };
  for (const optional of ["name", "workspace_name", "invite_token"]) {
    const value = (valueOf(form, optional) || "").trim();
    if (value) body[optional] = value;
  }
  try {
    const data = await withBusy(form, "Creating account…", () => api("/api/auth/register", { method: "POST", body, auth: false }));
    if (body.invite_token) forgetInvite();
    startSession(data);
  } catch (error) {
    showFormError(form, error);
  }
}

// ---------------------------------------------------------------------------------------------
// Signed-in page

function showApp() {
  renderSessionBar();
  renderAppMain({ focus: true });
}

function renderAppMain({ focus }) {
  const membership = currentMembership();
  const sections = [h("div", { id: "flash" })];
  if (state.inviteToken) sections.push(inviteBanner());

  if (membership) {
    sections.push(accountsSection(membership));
  } else {
    sections.push(notice("info", "You are not a member of any workspace yet. Ask a workspace owner for an invitation."));
  }
  if (state.user.is_admin) sections.push(settingsSection());

  setMain(h("h1", { tabindex: "-1" }, membership ? membership.workspace_name : "Spendwatch"), ...sections);
  if (focus) focusHeading();
  if (membership) loadAccounts();
  if (state.user.is_admin) loadSettings();
}

function inviteBanner() {
  const button = h("button", { type: "button", class: "btn btn-primary" }, "Accept invitation");
  const dismiss = h("button", { type: "button", class: "btn btn-ghost" }, "Not now");
  const message = h("div", { class: "invite-message" });
  const banner = h(
    "section",
    { class: "banner banner-info invite-banner", "aria-labelledby": "invite-h" },
    h("h2", { id: "invite-h" }, "You opened an invitation link"),
    h("p", {}, `Accept it to join the workspace as ${state.user.email}.`),
    message,
    h("div", { class: "form-actions" }, button, dismiss),
  );
  button.addEventListener("click", () => acceptInvite(button, message));
  dismiss.addEventListener("click", () => {
    forgetInvite();
    banner.remove();
    focusHeading();
  });
  return banner;
}

async function acceptInvite(button, messageSlot) {
  const before = new Set(state.workspaces.map((w) => w.workspace_id));
  try {
    const me = await withBusyButton(button, "Accepting…", () =>
      api("/api/auth/invites/accept", { method: "POST", body: { token: state.inviteToken } }),
    );
    const joined = me.workspaces.find((w) => !before.has(w.workspace_id));
    applyMe(me, joined?.workspace_id);
    forgetInvite();
    state.accounts = null;
    showApp();
    setFlash("success", joined ? `You joined “${joined.workspace_name}”.` : "Invitation accepted.");
  } catch (error) {
    if (!error.sessionEnded) messageSlot.replaceChildren(notice("error", error.message));
  }
}

// ---------------------------------------------------------------------------------------------
// Provider accounts

function accountsSection(membership) {
  const addButton = h("button", { type: "button", class: "btn btn-primary", id: "add-account-button" }, "Add account");
  addButton.addEventListener("click", () => openAddForm());
  return h(
    "section",
    { class: "panel", "aria-labelledby": "accounts-h" },
    h("div", { class: "section-head" }, h("h2", { id: "accounts-h" }, "Provider accounts"), canWrite() ? addButton : null),
    membership.role === "viewer"
      ? h("p", { class: "muted" }, "You have the viewer role in this workspace, so accounts are read-only for you.")
      : h("p", { class: "muted" }, "The accounts Spendwatch reads usage and spend from. Credentials are stored encrypted and only shown as hints."),
    h("div", { id: "add-account-slot" }),
    h("div", { id: "account-list" }, loadingNote("Loading accounts…")),
  );
}

async function loadAccounts() {
  const workspaceId = state.workspaceId;
  const list = $("#account-list");
  list.replaceChildren(loadingNote("Loading accounts…"));
  try {
    const [providers, accounts] = await Promise.all([
      state.providers ? Promise.resolve({ items: state.providers }) : api("/api/providers"),
      api("/api/accounts"),
    ]);
    if (workspaceId !== state.workspaceId) return; // the workspace changed meanwhile
    state.providers = providers.items;
    state.accounts = accounts.items;
    renderAccountList();
    if (state.accounts.length === 0 && canWrite()) openAddForm({ focus: false });
  } catch (error) {
    if (error.sessionEnded || !list.isConnected) return;
    const retry = h("button", { type: "button", class: "btn btn-secondary", onclick: () => loadAccounts() }, "Try again");
    list.replaceChildren(notice("error", `Could not load the accounts: ${error.message}`), retry);
  }
}

const providerFor = (kind) => (state.providers || []).find((p) => p.kind === kind) || null;

function renderAccountList() {
  const list = $("#account-list");
  if (!list) return;
  if (!state.accounts.length) {
    list.replaceChildren(
      h(
        "div",
        { class: "empty" },
        h("p", {}, canWrite() ? "No accounts yet — add one." : "No accounts yet."),
        canWrite() ? h("p", { class: "muted" }, "Try the Demo provider: any key that starts with demo- works, and no network is needed.") : null,
      ),
    );
    return;
  }
  list.replaceChildren(h("ul", { class: "accounts" }, state.accounts.map(accountRow)));
}

function replaceRow(account) {
  const old = document.getElementById(`account-${account.id}`);
  const row = accountRow(account);
  if (old) old.replaceWith(row);
  return row;
}

function accountRow(account) {
  if (state.editingId === account.id) return editRow(account);
  const provider = providerFor(account.kind);
  const message = state.rowMessages.get(account.id);
  const headingId = `account-${account.id}-h`;

  const meta = [provider ? provider.label : account.kind, `checks every ${account.sync_interval_minutes} min`];
  meta.push(account.last_tested_at ? `last tested ${formatDate(account.last_tested_at)}` : "never tested");

  return h(
    "li",
    { class: "account", id: `account-${account.id}` },
    h(
      "div",
      { class: "account-main" },
      h(
        "div",
        { class: "account-title" },
        h("h3", { id: headingId }, account.name),
        statusBadge(account.status),
        account.enabled ? null : h("span", { class: "badge badge-muted" }, "Disabled"),
      ),
      h("p", { class: "account-meta" }, meta.join(" · ")),
      credentialList(account, provider),
      account.last_error && account.last_error !== message?.text
        ? h("p", { class: "account-error" }, h("strong", {}, "Last error: "), account.last_error)
        : null,
      message ? notice(message.ok ? "success" : "error", message.text) : null,
    ),
    canWrite() ? accountActions(account) : null,
  );
}

function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, STATUS_LABELS[status] || status);
}

function credentialList(account, provider) {
  const entries = Object.entries(account.credentials || {});
  if (!entries.length) return null;
  const labelOf = (name) => provider?.credential_fields.find((f) => f.name === name)?.label || name;
  return h(
    "dl",
    { class: "credentials" },
    entries.map(([name, value]) => h("div", {}, h("dt", {}, labelOf(name)), h("dd", {}, h("code", {}, value)))),
  );
}

function accountActions(account) {
  const test = h("button", { type: "button", class: "btn btn-secondary", "data-action": "test" }, "Test connection");
  const edit = h("button", { type: "button", class: "btn btn-secondary", "data-action": "edit" }, "Edit");
  const remove = h("button", { type: "button", class: "btn btn-danger", "data-action": "delete" }, "Delete");
  const label = `Actions for ${account.name}`;
  test.addEventListener("click", () => testAccount(account, test));
  edit.addEventListener("click", () => startEdit(account));
  remove.addEventListener("click", () => deleteAccount(account, remove));
  return h("div", { class: "account-actions", role: "group", "aria-label": label }, test, edit, remove);
}

async function testAccount(account, button) {
  let outcome;
  try {
    const result = await withBusyButton(button, "Testing…", () => api(`/api/accounts/${account.id}/test`, { method: "POST" }));
    outcome = { ok: result.ok, text: result.message };
    const fresh = await api(`/api/accounts/${account.id}`).catch(() => ({ ...account, status: result.status }));
    updateAccount(fresh);
  } catch (error) {
    if (error.sessionEnded) return;
    outcome = { ok: false, text: error.message };
  }
  state.rowMessages.set(account.id, outcome);
  const row = replaceRow(state.accounts.find((a) => a.id === account.id) || account);
  $('[data-action="test"]', row)?.focus();
}

function updateAccount(fresh) {
  state.accounts = state.accounts.map((a) => (a.id === fresh.id ? fresh : a));
}

async function deleteAccount(account, button) {
  if (!window.confirm(`Delete the account “${account.name}” and everything synced from it? This cannot be undone.`)) return;
  try {
    await withBusyButton(button, "Deleting…", () => api(`/api/accounts/${account.id}`, { method: "DELETE" }));
  } catch (error) {
    if (error.sessionEnded) return;
    state.rowMessages.set(account.id, { ok: false, text: error.message });
    replaceRow(account);
    return;
  }
  state.accounts = state.accounts.filter((a) => a.id !== account.id);
  state.rowMessages.delete(account.id);
  renderAccountList();
  setFlash("success", `Deleted “${account.name}”.`);
  const addButton = $("#add-account-button:not([hidden])");
  if (addButton) addButton.focus();
  else focusHeading();
}

// --- Add account

function openAddForm({ focus = true } = {}) {
  const slot = $("#add-account-slot");
  if (!slot) return;
  if (!slot.firstChild) slot.replaceChildren(addAccountForm());
  const button = $("#add-account-button");
  if (button) button.hidden = true; // the form has its own "Add account" button

  if (focus) $("select, input", slot)?.focus();
}

function closeAddForm() {
  $("#add-account-slot")?.replaceChildren();
  const button = $("#add-account-button");
  if (button) {
    button.hidden = false;
    button.focus();
  }
}

function addAccountForm() {
  const providers = state.providers || [];
  const kindField = field({
    name: "kind",
    label: "Provider",
    type: "select",
    required: true,
    value: providers[0]?.kind,
    options: providers.map((p) => [p.kind, p.label]),
  });
  const details = h("div", { class: "provider-fields" });
  const form = h(
    "form",
    { class: "card add-account", "aria-labelledby": "add-account-h" },
    h("h3", { id: "add-account-h" }, "Add a provider account"),
    formMessageSlot(),
    kindField,
    details,
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Add account"),
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => closeAddForm() }, "Cancel"),
    ),
  );
  const select = $("select", kindField);
  const renderDetails = () => details.replaceChildren(...providerFormFields(providerFor(select.value)));
  select.addEventListener("change", () => {
    clearErrors(form);
    renderDetails();
  });
  renderDetails();
  form.addEventListener("submit", (event) => submitAddAccount(event, form));
  return form;
}

function providerFormFields(provider) {
  if (!provider) return [];
  return [
    provider.description ? h("p", { class: "help provider-description" }, withCode(provider.description)) : null,
    field({ name: "name", label: "Account name", placeholder: provider.label, autocomplete: "off", help: `Optional. Defaults to “${provider.label}”.` }),
    ...provider.credential_fields.map((f) => credentialField(f)),
  ].filter(Boolean);
}

/** An input for one of the provider's credential_fields; in edit mode secrets start as their hint. */
function credentialField(f, current) {
  const hint = current ?? "";
  const note =
    f.secret && hint
      ? `Stored value: ${hint} (a hint, not the secret). Leave this field unchanged to keep it, or type a new value to replace it.`
      : null;
  return field({
    name: `credentials.${f.name}`,
    label: f.label,
    type: f.secret ? "password" : "text",
    value: hint,
    required: f.required,
    help: f.help || null,
    note,
    placeholder: f.placeholder || null,
    // "new-password" stops browsers from filling the user's Spendwatch password into an API-key field.
    autocomplete: f.secret ? "new-password" : "off",
    spellcheck: "false",
    autocapitalize: "off",
  });
}

function credentialsFrom(form, provider) {
  const credentials = {};
  for (const f of provider.credential_fields) {
    const value = valueOf(form, `credentials.${f.name}`) ?? "";
    if (value !== "") credentials[f.name] = value;
  }
  return credentials;
}

async function submitAddAccount(event, form) {
  event.preventDefault();
  clearErrors(form);
  const provider = providerFor(valueOf(form, "kind"));
  if (!provider) return;
  const body = {
    kind: provider.kind,
    name: (valueOf(form, "name") || "").trim() || provider.label,
    credentials: credentialsFrom(form, provider),
  };
  try {
    const account = await withBusy(form, "Adding…", () => api("/api/accounts", { method: "POST", body }));
    state.accounts = [...(state.accounts || []), account];
    state.rowMessages.set(account.id, { ok: true, text: "Account added. Use “Test connection” to check the credentials." });
    closeAddForm();
    renderAccountList();
    $(`#account-${account.id} [data-action="test"]`)?.focus();
  } catch (error) {
    showFormError(form, error);
  }
}

// --- Edit account

function startEdit(account) {
  state.editingId = account.id;
  state.rowMessages.delete(account.id);
  const row = replaceRow(account);
  $("input", row)?.focus();
}

function cancelEdit(account) {
  state.editingId = null;
  const row = replaceRow(account);
  $('[data-action="edit"]', row)?.focus();
}

function editRow(account) {
  const provider = providerFor(account.kind);
  const fields = provider ? provider.credential_fields : [];
  const headingId = `account-${account.id}-h`;
  const form = h(
    "form",
    { class: "edit-account", "aria-labelledby": headingId },
    h("h3", { id: headingId }, `Edit “${account.name}”`),
    formMessageSlot(),
    field({ name: "name", label: "Account name", value: account.name, required: true, autocomplete: "off" }),
    fields.map((f) => credentialField(f, account.credentials?.[f.name])),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Save changes"),
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => cancelEdit(account) }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => submitEdit(event, form, account, fields));
  return h("li", { class: "account account-editing", id: `account-${account.id}` }, form);
}

async function submitEdit(event, form, account, fields) {
  event.preventDefault();
  clearErrors(form);
  const body = {};
  const name = valueOf(form, "name").trim();
  if (name !== account.name) body.name = name;
  // Send all credential fields when any changed: unchanged secrets go back as their hint, which keeps them.
  const credentials = Object.fromEntries(fields.map((f) => [f.name, valueOf(form, `credentials.${f.name}`) ?? ""]));
  const credentialsChanged = fields.some((f) => credentials[f.name] !== (account.credentials?.[f.name] ?? ""));
  if (credentialsChanged) body.credentials = credentials;

  if (!Object.keys(body).length) {
    cancelEdit(account);
    return;
  }
  try {
    const updated = await withBusy(form, "Saving…", () => api(`/api/accounts/${account.id}`, { method: "PATCH", body }));
    updateAccount(updated);
    state.editingId = null;
    state.rowMessages.set(account.id, {
      ok: true,
      text: credentialsChanged ? "Saved. Use “Test connection” to check the new credentials." : "Saved.",
    });
    const row = replaceRow(updated);
    $('[data-action="edit"]', row)?.focus();
  } catch (error) {
    showFormError(form, error);
  }
}

// ---------------------------------------------------------------------------------------------
// Instance settings (instance admins only)

function settingsSection() {
  return h(
    "section",
    { class: "panel", "aria-labelledby": "settings-h" },
    h("div", { class: "section-head" }, h("h2", { id: "settings-h" }, "Instance settings")),
    h("p", { class: "muted" }, "These apply to the whole instance. Only instance administrators see them."),
    h("div", { id: "settings-slot" }, loadingNote("Loading settings…")),
  );
}

async function loadSettings() {
  const slot = $("#settings-slot");
  try {
    state.settings = await api("/api/admin/settings");
    if (slot.isConnected) slot.replaceChildren(settingsForm(state.settings));
  } catch (error) {
    if (error.sessionEnded || !slot.isConnected) return;
    const retry = h("button", { type: "button", class: "btn btn-secondary", onclick: () => loadSettings() }, "Try again");
    slot.replaceChildren(notice("error", `Could not load the settings: ${error.message}`), retry);
  }
}

function settingsForm(s) {
  const form = h(
    "form",
    { class: "settings-form" },
    formMessageSlot(),
    h(
      "fieldset",
      {},
      h("legend", {}, "Sign-up"),
      field({ name: "registration_mode", label: "Who can create an account", type: "select", value: s.registration_mode, options: REGISTRATION_MODES }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Sync intervals"),
      h(
        "div",
        { class: "field-grid" },
        field({ name: "sync_intervals.ai_minutes", label: "AI providers (minutes)", type: "number", value: String(s.sync_intervals.ai_minutes), required: true, min: "1", max: "1440", help: "1 to 1440." }),
        field({ name: "sync_intervals.money_minutes", label: "Money accounts (minutes)", type: "number", value: String(s.sync_intervals.money_minutes), required: true, min: "15", max: "10080", help: "15 to 10080." }),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Outgoing email (SMTP)"),
      h(
        "div",
        { class: "field-grid" },
        field({ name: "smtp.host", label: "Host", value: s.smtp.host, autocomplete: "off", placeholder: "smtp.example.com" }),
        field({ name: "smtp.port", label: "Port", type: "number", value: String(s.smtp.port), required: true, min: "1", max: "65535" }),
        field({ name: "smtp.security", label: "Security", type: "select", value: s.smtp.security, options: SMTP_SECURITY }),
        field({ name: "smtp.from_address", label: "From address", value: s.smtp.from_address, autocomplete: "off", placeholder: "spendwatch@example.com" }),
        field({ name: "smtp.username", label: "Username", value: s.smtp.username, autocomplete: "off" }),
        field({
          name: "smtp.password",
          label: "Password",
          type: "password",
          value: s.smtp.password,
          autocomplete: "new-password",
          note: s.smtp.password
            ? `Stored password shown as a hint (${s.smtp.password}). Leave it unchanged to keep it, clear the field to remove it, or type a new one.`
            : "No password stored.",
        }),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Web"),
      field({
        name: "base_url",
        label: "Public address (base URL)",
        type: "url",
        value: s.base_url || "",
        placeholder: "https://spendwatch.example.com",
        help: "Used for links in emails and invitations. Leave empty to use the BASE_URL environment setting.",
      }),
      field({
        name: "allow_private_webhooks",
        label: "Allow webhooks to private network addresses",
        type: "checkbox",
        value: s.allow_private_webhooks,
        help: "Off by default: webhook URLs that resolve to private or loopback addresses are refused.",
      }),
    ),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Save settings"),
      h("span", { class: "muted" }, s.updated_at ? `Last changed ${formatDate(s.updated_at)}` : "Never changed (defaults)"),
    ),
  );
  form.addEventListener("submit", (event) => submitSettings(event, form));
  return form;
}

/** Only the settings that differ from what was loaded, in the API's nested shape. */
function settingsChanges(form, s) {
  const changes = {};
  const mode = valueOf(form, "registration_mode");
  if (mode !== s.registration_mode) changes.registration_mode = mode;
  const allowPrivate = valueOf(form, "allow_private_webhooks");
  if (allowPrivate !== s.allow_private_webhooks) changes.allow_private_webhooks = allowPrivate;
  const baseUrl = valueOf(form, "base_url").trim();
  if (baseUrl !== (s.base_url || "")) changes.base_url = baseUrl || null; // null: use BASE_URL

  const intervals = {};
  for (const key of ["ai_minutes", "money_minutes"]) {
    const value = Number(valueOf(form, `sync_intervals.${key}`));
    if (value !== s.sync_intervals[key]) intervals[key] = value;
  }
  if (Object.keys(intervals).length) changes.sync_intervals = intervals;

  const smtp = {};
  for (const key of ["host", "security", "username", "from_address", "password"]) {
    const value = valueOf(form, `smtp.${key}`);
    if (value !== s.smtp[key]) smtp[key] = key === "password" ? value : value.trim();
  }
  const port = Number(valueOf(form, "smtp.port"));
  if (port !== s.smtp.port) smtp.port = port;
  if (Object.keys(smtp).length) changes.smtp = smtp;
  return changes;
}

async function submitSettings(event, form) {
  event.preventDefault();
  clearErrors(form);
  const changes = settingsChanges(form, state.settings);
  if (!Object.keys(changes).length) {
    setFormMessage(form, "info", "Nothing changed.");
    return;
  }
  try {
    state.settings = await withBusy(form, "Saving…", () => api("/api/admin/settings", { method: "PATCH", body: changes }));
    const fresh = settingsForm(state.settings);
    form.replaceWith(fresh);
    setFormMessage(fresh, "success", "Settings saved.");
    $(".form-message", fresh).focus();
    if ("registration_mode" in changes) state.registration = { ...state.registration, mode: state.settings.registration_mode };
  } catch (error) {
    showFormError(form, error);
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function boot() {
  state.inviteToken = inviteTokenFromPath();
  if (!tokens.access) {
    showAuth();
    return;
  }
  try {
    applyMe(await api("/api/auth/me"));
    showApp();
  } catch (error) {
    if (error.sessionEnded) return; // already showing sign-in
    const retry = h("button", { type: "button", class: "btn btn-primary", onclick: () => boot() }, "Try again");
    setMain(h("h1", { tabindex: "-1" }, "Spendwatch"), notice("error", error.message), retry);
  }
}

window.addEventListener("storage", onStorage);
boot();
