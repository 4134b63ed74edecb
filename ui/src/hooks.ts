// Loading data in views: `useAsync` runs a promise-returning function and tracks its state.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Async<T> {
  loading: boolean;
  error: unknown;
  data: T | undefined;
  reload: () => void;
  set: (data: T) => void;
}

export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ loading: boolean; error: unknown; data: T | undefined }>({ loading: true, error: null, data: undefined });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const id = ++current.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then(
      (data) => id === current.current && setState({ loading: false, error: null, data }),
      (error) => id === current.current && setState({ loading: false, error, data: undefined }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((data: T) => setState({ loading: false, error: null, data }), []);
  return { ...state, reload, set };
}
