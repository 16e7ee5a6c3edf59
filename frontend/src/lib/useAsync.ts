import { useCallback, useEffect, useRef, useState } from "react";

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: T | ((current: T | undefined) => T)) => void;
}

/**
 * Run FN (given an AbortSignal) when DEPS change, keeping only the latest answer. Errors that ended
 * the session are ignored here: the app already shows the sign-in page.
 */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    const controller = new AbortController();
    let live = true;
    setLoading(true);
    setError(null);
    fnRef
      .current(controller.signal)
      .then((value) => {
        if (!live) return;
        setDataState(() => value);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof Error && err.name === "AbortError") return;
        setError(err);
        setLoading(false);
      });
    return () => {
      live = false;
      controller.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: T | ((current: T | undefined) => T)) => {
    setDataState((current) =>
      typeof update === "function" ? (update as (c: T | undefined) => T)(current) : update,
    );
  }, []);

  return { data, error, loading, reload, setData };
}
