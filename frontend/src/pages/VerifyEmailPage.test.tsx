import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../api/client";
import { AuthProvider } from "../auth/AuthContext";
import { jsonResponse, mockFetch } from "../test/fetchMock";
import { tokenFromHash, VerifyEmailPage } from "./VerifyEmailPage";

function renderAt(entry: string) {
  return render(
    <MemoryRouter initialEntries={[entry]}>
      <AuthProvider>
        <Routes>
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route path="/" element={<p>Dashboard</p>} />
        </Routes>
      </AuthProvider>
    </MemoryRouter>,
  );
}

const SESSION = {
  access_token: "a",
  expires_in: 900,
  user: { id: 2, email: "ada@example.com", name: "Ada", is_admin: false, created_at: "2026-01-01T00:00:00Z" },
  workspaces: [{ workspace_id: 2, workspace_name: "Ada's", role: "owner" }],
};

afterEach(() => {
  vi.unstubAllGlobals();
  client.clearSession();
});

describe("VerifyEmailPage", () => {
  it("reads the token from the fragment", () => {
    expect(tokenFromHash("#token=abc-_1")).toBe("abc-_1");
    expect(tokenFromHash("")).toBe("");
  });

  it("creates the account only on a click, then signs in", async () => {
    const { calls } = mockFetch({
      "POST /api/auth/register/verify": (_url, init) => {
        expect(JSON.parse(String(init.body))).toEqual({ token: "tok123", password: "my own passphrase" });
        return jsonResponse(201, SESSION);
      },
    });
    const user = userEvent.setup();
    renderAt("/verify-email#token=tok123");
    const button = await screen.findByRole("button", { name: "Create my account" });
    expect(calls).toEqual([]); // opening the link (a mail scanner does) changes nothing
    await user.type(screen.getByLabelText(/^Password/), "my own passphrase");
    await user.click(button);
    expect(await screen.findByText("Dashboard")).toBeInTheDocument();
    expect(client.accessToken).toBe("a");
  });

  it("says so when the link is used or expired", async () => {
    mockFetch({
      "POST /api/auth/register/verify": () =>
        jsonResponse(422, { error: { code: "invalid_link", message: "This sign-up link is not valid.", details: null } }),
    });
    const user = userEvent.setup();
    renderAt("/verify-email#token=used");
    await user.type(await screen.findByLabelText(/^Password/), "my own passphrase");
    await user.click(screen.getByRole("button", { name: "Create my account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/already used, it expired/);
  });
});
