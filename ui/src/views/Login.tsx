// The sign-in form (browser): an account name and password, checked against the server.

import { useState } from "preact/hooks";
import { defaultServerUrl, signIn, type Session } from "../api/session";
import { ErrorBox } from "../components/ui";

export function Login({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [url, setUrl] = useState(defaultServerUrl());
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="card login"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          onSignedIn(await signIn(url, user, password));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>Sign in to Kintoun</h1>
      <label>
        Account
        <input name="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
      </label>
      <label>
        Password
        <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
      </label>
      <details>
        <summary>Server</summary>
        <label>
          API URL
          <input name="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
      </details>
      <ErrorBox error={error} />
      <p class="muted small">
        The owner account is <code>admin</code>: <code>kintoun owner</code> prints its password; <code>kintoun account add NAME</code> creates others.
      </p>
      <button class="primary" type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
