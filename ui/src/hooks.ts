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
