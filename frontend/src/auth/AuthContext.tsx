import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { client, SESSION_KEY, WORKSPACE_KEY, type ApiClient } from "../api/client";
import { makeEndpoints } from "../api/endpoints";
import { ApiError } from "../api/errors";
import type { Me, Membership, Session, User } from "../api/types";

export type AuthStatus = "loading" | "signedOut" | "signedIn" | "error";

export interface Notice {
  kind: "info" | "success" | "error";
  text: string;
}

export interface AuthValue {
  status: AuthStatus;
  user: User | null;
  workspaces: Membership[];
  workspaceId: number | null;
  membership: Membership | null;
  canWrite: boolean;
  /** Why the user was signed out (shown on the sign-in page). */
  notice: Notice | null;
  loadError: string | null;
  startSession: (session: Session) => void;
  applyMe: (me: Me, preferredWorkspaceId?: number | null) => void;
  selectWorkspace: (id: number) => void;
  signOut: () => Promise<void>;
  retry: () => void;
  clearNotice: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

function storedWorkspace(): number | null {
  try {
    const raw = Number(localStorage.getItem(WORKSPACE_KEY));
    return Number.isInteger(raw) && raw > 0 ? raw : null;
  } catch {
    return null;
  }
}

function pickWorkspace(workspaces: Membership[], ...preferred: (number | null | undefined)[]): number | null {
  const ids = workspaces.map((w) => w.workspace_id);
  return preferred.find((id): id is number => id != null && ids.includes(id)) ?? ids[0] ?? null;
}

export function AuthProvider({ children, apiClient = client }: { children: ReactNode; apiClient?: ApiClient }) {
  const endpoints = useMemo(() => makeEndpoints(apiClient), [apiClient]);
  const [status, setStatus] = useState<AuthStatus>(apiClient.hasSession ? "loading" : "signedOut");
  const [user, setUser] = useState<User | null>(null);
  const [workspaces, setWorkspaces] = useState<Membership[]>([]);
  const [workspaceId, setWorkspaceId] = useState<number | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [bootTick, setBootTick] = useState(0);
  const statusRef = useRef(status);
  statusRef.current = status;

  const setWorkspace = useCallback(
    (id: number | null) => {
      apiClient.workspaceId = id;
      setWorkspaceId(id);
      try {
        if (id == null) localStorage.removeItem(WORKSPACE_KEY);
        else localStorage.setItem(WORKSPACE_KEY, String(id));
      } catch {
        /* storage unavailable */
      }
    },
    [apiClient],
  );

  const applyMe = useCallback(
    (me: Me, preferredWorkspaceId?: number | null) => {
      setUser(me.user);
      setWorkspaces(me.workspaces);
      setWorkspace(pickWorkspace(me.workspaces, preferredWorkspaceId, apiClient.workspaceId, storedWorkspace()));
      setLoadError(null);
      setStatus("signedIn");
    },
    [apiClient, setWorkspace],
  );

  const reset = useCallback((next: Notice | null) => {
    setUser(null);
    setWorkspaces([]);
    setNotice(next);
    setStatus("signedOut");
  }, []);

  // Boot: a session cookie means a session to resume (the client refreshes before /me).
  useEffect(() => {
    if (!apiClient.hasSession) {
      setStatus("signedOut");
      return;
    }
    let live = true;
    setStatus("loading");
    endpoints.auth
      .me()
      .then((me) => live && applyMe(me))
      .catch((error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.sessionEnded) return; // the listener below signed out
        setLoadError(error instanceof Error ? error.message : String(error));
        setStatus("error");
      });
    return () => {
      live = false;
    };
  }, [apiClient, endpoints, applyMe, bootTick]);

  // The server ended the session (expired, revoked): show sign-in, saying why.
  useEffect(
    () => apiClient.onSessionEnd((message) => reset({ kind: "error", text: message })),
    [apiClient, reset],
  );

  // Other tabs: signing out there signs out here; signing in there (while signed out here) signs in here.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key !== SESSION_KEY) return;
      if (event.newValue === null && statusRef.current === "signedIn") {
        apiClient.clearSession();
        reset({ kind: "info", text: "You signed out in another tab." });
      } else if (event.newValue && statusRef.current === "signedOut") {
        setBootTick((t) => t + 1);
      }
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [apiClient, reset]);

  const startSession = useCallback(
    (session: Session) => {
      apiClient.startSession(session);
      setNotice(null);
      applyMe(session);
    },
    [apiClient, applyMe],
  );

  const signOut = useCallback(async () => {
    // Forget the session here at once (a reload or another tab must not resume it), and leave the signed-in pages
    // (unmounting them aborts their requests, so none comes back 401 once the server has revoked the session);
    // then revoke it on the server with the access token it had (else the session cookie and its CSRF value): the
    // answer also deletes the session cookies.
    const access = apiClient.accessToken;
    const csrf = apiClient.csrfToken;
    apiClient.clearSession();
    reset({ kind: "info", text: "You are signed out." });
    if (!access && !csrf) return;
    try {
      await endpoints.auth.logout(access ?? undefined, csrf ?? undefined);
    } catch {
      // Signed out locally either way; the server-side session then simply runs out.
    }
  }, [apiClient, endpoints, reset]);

  const membership = workspaces.find((w) => w.workspace_id === workspaceId) ?? null;

  const value: AuthValue = {
    status,
    user,
    workspaces,
    workspaceId,
    membership,
    canWrite: Boolean(membership && membership.role !== "viewer"),
    notice,
    loadError,
    startSession,
    applyMe,
    selectWorkspace: setWorkspace,
    signOut,
    retry: () => setBootTick((t) => t + 1),
    clearNotice: () => setNotice(null),
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth needs an <AuthProvider>");
  return value;
}
