import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { jsonResponse, mockFetch } from "../test/fetchMock";
import { SignInPage } from "./SignInPage";

function renderSignIn() {
  return render(
    <MemoryRouter initialEntries={["/signin?next=/usage"]}>
      <AuthProvider>
        <Routes>
          <Route path="/signin" element={<SignInPage />} />
          <Route path="/usage" element={<p>Usage page</p>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

describe("SignInPage", () => {
  it("shows a server validation error next to its field", async () => {
    mockFetch({
      "GET /api/auth/registration": () => ({ mode: "invite", first_user: false }),
      "POST /api/auth/login": () =>
        jsonResponse(422, {
          error: {
            code: "validation_error",
            message: "The request is not valid.",
            details: [{ loc: ["email"], msg: "String should match pattern '^[^@\\s]+@[^@\\s]+$'", type: "string_pattern_mismatch" }],
          },
        }),
    });
    const user = userEvent.setup();
    renderSignIn();

    const email = await screen.findByLabelText(/^Email/);
    await user.type(email, "a@b");
    await user.type(screen.getByLabelText(/^Password/), "whatever-password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("The request is not valid.");
    await waitFor(() => expect(email).toHaveAttribute("aria-invalid", "true"));
    expect(email).toHaveAccessibleDescription(/String should match pattern/);
    expect(screen.getByLabelText(/^Password/)).not.toHaveAttribute("aria-invalid");
    // Sign-up is by invitation here: no sign-up form, a note instead.
    expect(screen.getByText(/Sign-up on this instance is by invitation/)).toBeInTheDocument();
  });

  it("shows a wrong password as a form error, then signs in and goes to ?next", async () => {
    let attempts = 0;
    mockFetch({
      "GET /api/auth/registration": () => ({ mode: "open", first_user: false }),
      "POST /api/auth/login": () =>
        ++attempts === 1
          ? jsonResponse(401, { error: { code: "invalid_credentials", message: "Wrong email or password.", details: null } })
          : {
              access_token: "a",
              expires_in: 900,
              user: { id: 1, email: "ada@example.com", name: "Ada", is_admin: false, created_at: "2026-01-01T00:00:00Z" },
              workspaces: [{ workspace_id: 1, workspace_name: "Ada's", role: "owner" }],
            },
    });
    const user = userEvent.setup();
    renderSignIn();
    const signIn = await screen.findByRole("region", { name: "Sign in" });
    expect(screen.getByRole("heading", { name: "Create an account" })).toBeInTheDocument();

    await user.type(signIn.querySelector("input[name=email]")!, "ada@example.com");
    await user.type(signIn.querySelector("input[name=password]")!, "wrong-password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong email or password.");

    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Usage page")).toBeInTheDocument();
    expect(client.accessToken).toBe("a");
  });

  it("shows “check your inbox” after an open sign-up, without signing in", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/registration": () => ({ mode: "open", first_user: false }),
      "POST /api/auth/register": () =>
        jsonResponse(202, { status: "check_inbox", message: "Check your inbox: we sent a message to this address." }),
    });
    const user = userEvent.setup();
    renderSignIn();
    const signUp = await screen.findByRole("region", { name: "Create an account" });
    await user.type(signUp.querySelector("input[name=email]")!, "ada@example.com");
    await user.type(signUp.querySelector("input[name=password]")!, "a long enough password");
    await user.click(screen.getByRole("button", { name: "Create account" }));

    expect(await screen.findByRole("heading", { name: "Check your inbox" })).toBeInTheDocument();
    expect(screen.getByText(/we sent a message to this address/)).toBeInTheDocument();
    expect(screen.getByText("ada@example.com")).toBeInTheDocument();
    expect(client.accessToken).toBeNull();
    expect(calls).toEqual(["GET /api/auth/registration", "POST /api/auth/register"]);
  });
});
