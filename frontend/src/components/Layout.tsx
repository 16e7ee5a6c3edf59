import { useEffect, useId, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { Notice } from "./Notice";

interface NavItem {
  to: string;
  label: string;
  end?: boolean;
  admin?: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/accounts", label: "Accounts" },
  { to: "/usage", label: "Usage" },
  { to: "/budgets", label: "Budgets & alerts" },
  { to: "/transactions", label: "Transactions" },
  { to: "/channels", label: "Channels" },
  { to: "/admin", label: "Admin", admin: true },
];

export interface FlashState {
  flash?: { kind: "success" | "info" | "error"; text: string };
}

function WorkspaceSwitcher() {
  const { workspaces, workspaceId, selectWorkspace, membership } = useAuth();
  const id = useId();
  if (workspaces.length <= 1) {
    return membership ? (
      <span className="workspace-name" title="Workspace">
        {membership.workspace_name}
      </span>
    ) : null;
  }
  return (
    <div className="workspace-picker">
      <label htmlFor={id}>Workspace</label>
      <select id={id} value={workspaceId ?? ""} onChange={(e) => selectWorkspace(Number(e.target.value))}>
        {workspaces.map((w) => (
          <option key={w.workspace_id} value={w.workspace_id}>
            {w.workspace_name} ({w.role})
          </option>
        ))}
      </select>
    </div>
  );
}

export function Layout() {
  const { user, workspaceId, signOut } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const flash = (location.state as FlashState | null)?.flash;

  useEffect(() => setMenuOpen(false), [location.pathname]);

  const items = NAV_ITEMS.filter((item) => !item.admin || user?.is_admin);

  const onSignOut = async () => {
    setSigningOut(true);
    await signOut();
    navigate("/signin", { replace: true });
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <NavLink to="/" className="brand" aria-label="Spendwatch home">
            <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
              <rect width="32" height="32" rx="7" fill="currentColor" />
              <path d="M8 22l5-6 4 3 7-9" fill="none" stroke="#fff" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
            <span>Spendwatch</span>
          </NavLink>
          <button
            type="button"
            className="btn btn-ghost nav-toggle"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <span aria-hidden="true">☰</span> Menu
          </button>
          <div className={`topbar-collapse${menuOpen ? " open" : ""}`}>
            <nav id="main-nav" aria-label="Main">
              <ul>
                {items.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} end={item.end}>
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </nav>
            <div className="session-bar">
              <WorkspaceSwitcher />
              <span className="user-email" title="Signed in as">
                {user?.email}
              </span>
              {user?.is_admin && <span className="badge badge-admin">Instance admin</span>}
              <button type="button" className="btn btn-secondary btn-small" onClick={onSignOut} disabled={signingOut}>
                {signingOut ? "Signing out…" : "Sign out"}
              </button>
            </div>
          </div>
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        {/* A new workspace remounts the page, which then loads that workspace's data. */}
        <div key={workspaceId ?? "none"}>
          <Outlet />
        </div>
      </main>
    </div>
  );
}
