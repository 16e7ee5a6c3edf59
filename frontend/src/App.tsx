import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { useAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { Loading, Notice } from "./components/Notice";
import Dashboard from "./pages/Dashboard";
import { InvitePage } from "./pages/InvitePage";
import { NotFound } from "./pages/NotFound";
import { SignInPage } from "./pages/SignInPage";
import { VerifyEmailPage } from "./pages/VerifyEmailPage";

// The other pages behind sign-in are loaded on demand. The dashboard, where most visits land, is in the entry
// bundle: loaded lazily, its Suspense boundary held the page back up to 300 ms after its code had arrived.
const Accounts = lazy(() => import("./pages/Accounts"));
const Usage = lazy(() => import("./pages/Usage"));
const Budgets = lazy(() => import("./pages/Budgets"));
const Admin = lazy(() => import("./pages/Admin"));
const Channels = lazy(() => import("./pages/Channels"));
const Transactions = lazy(() => import("./pages/Transactions"));

function FullPageLoading() {
  return (
    <main className="centered" id="main">
      <Loading>Loading Spendwatch…</Loading>
    </main>
  );
}

function BootError() {
  const { loadError, retry } = useAuth();
  return (
    <main className="centered" id="main">
      <h1>Spendwatch</h1>
      <Notice kind="error">{loadError}</Notice>
      <button type="button" className="btn btn-primary" onClick={retry}>
        Try again
      </button>
    </main>
  );
}

/** Signed-in routes: others go to sign-in, which comes back here afterwards. */
function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "loading") return <FullPageLoading />;
  if (status === "error") return <BootError />;
  if (status === "signedOut") {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={next === "/" ? "/signin" : `/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

function RequireWorkspace({ children }: { children: ReactNode }) {
  const { membership } = useAuth();
  if (!membership) {
    return (
      <section className="panel">
        <h1 tabIndex={-1}>No workspace yet</h1>
        <Notice kind="info">
          You are not a member of any workspace yet. Ask a workspace owner for an invitation, then open its link.
        </Notice>
      </section>
    );
  }
  return <>{children}</>;
}

function RequireAdmin({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  if (!user?.is_admin) {
    return (
      <section className="panel">
        <h1 tabIndex={-1}>Admins only</h1>
        <Notice kind="error">
          This page is for instance administrators only, and your account is not one. Ask an administrator if an instance setting needs
          changing.
        </Notice>
      </section>
    );
  }
  return <>{children}</>;
}

const page = (node: ReactNode) => <Suspense fallback={<Loading>Loading the page…</Loading>}>{node}</Suspense>;

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignInPage />} />
      <Route path="/invite/:token" element={<InvitePage />} />
      <Route path="/verify-email" element={<VerifyEmailPage />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<RequireWorkspace>{page(<Dashboard />)}</RequireWorkspace>} />
        <Route path="accounts" element={<RequireWorkspace>{page(<Accounts />)}</RequireWorkspace>} />
        <Route path="usage" element={<RequireWorkspace>{page(<Usage />)}</RequireWorkspace>} />
        <Route path="budgets" element={<RequireWorkspace>{page(<Budgets />)}</RequireWorkspace>} />
        <Route path="transactions/*" element={<RequireWorkspace>{page(<Transactions />)}</RequireWorkspace>} />
        <Route path="channels" element={<RequireWorkspace>{page(<Channels />)}</RequireWorkspace>} />
        <Route path="admin" element={<RequireAdmin>{page(<Admin />)}</RequireAdmin>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
