// Loading data in views: `useAsync` runs a promise-returning function and tracks its state.
// It reports `loading` from the very render in which its inputs change (not one effect later),
// so a view never shows old data as current.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Async<T> {
  loading: boolean;
  error: unknown;
  data: T | undefined;
  reload: () => void;
  set: (data: T) => void;
}

interface State<T> {
  key: string;
  loading: boolean;
  error: unknown;
  data: T | undefined;
}

export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [tick, setTick] = useState(0);
  const key = JSON.stringify([...deps, tick]);
  const [state, setState] = useState<State<T>>({ key: "", loading: true, error: null, data: undefined });
  const current = useRef("");
  useEffect(() => {
    current.current = key;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => current.current === key && setState({ key, loading: false, error: null, data }),
      (error) => current.current === key && setState({ key, loading: false, error, data: undefined }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((data: T) => setState({ key: current.current, loading: false, error: null, data }), []);
  return { loading: state.loading || state.key !== key, error: state.error, data: state.data, reload, set };
}

/**
 * Like `useAsync`, but fetches again every `intervalMs` (after the previous answer) without
 * going back to `loading`: a failed refresh keeps the last data and reports its error. An answer
 * older than a later fetch (e.g. a poll overtaken by `reload()` after a change) is dropped.
 */
export function usePoll<T>(fn: () => Promise<T>, intervalMs: number, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ loading: boolean; error: unknown; data: T | undefined }>({
    loading: true,
    error: null,
    data: undefined,
  });
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const alive = useRef(true);
  const fetchNow = useCallback(() => {
    clearTimeout(timer.current);
    const mine = ++seq.current;
    fn().then(
      (data) => mine === seq.current && setState({ loading: false, error: null, data }),
      (error) => mine === seq.current && setState((s) => ({ loading: false, error, data: s.data })),
    ).finally(() => {
      if (mine === seq.current && alive.current) timer.current = setTimeout(fetchNow, intervalMs);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [intervalMs, ...deps]);
  useEffect(() => {
    alive.current = true;
    fetchNow();
    return () => {
      alive.current = false;
      seq.current += 1;
      clearTimeout(timer.current);
    };
  }, [fetchNow]);
  const set = useCallback((data: T) => {
    seq.current += 1;
    setState({ loading: false, error: null, data });
    clearTimeout(timer.current);
    if (alive.current) timer.current = setTimeout(fetchNow, intervalMs);
  }, [fetchNow, intervalMs]);
  return { ...state, reload: fetchNow, set };
}
