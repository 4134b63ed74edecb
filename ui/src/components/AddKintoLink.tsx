// The form that links a local collection with a collection on another Kinto server (URL, remote
// bucket/collection, local bucket/collection, user + password, two-way or pull-only). The
// server checks it (and the remote) and its 400 details are shown beside the fields they name.

import { useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useApp } from "../context";
import { KINTO_LINK_EMPTY as EMPTY, fieldErrors, newKintoLink, type KintoLinkValues as Values, type SyncLink } from "../lib/sync";
import { ErrorBox } from "./ui";

function Field({ label, name, error, hint, ...input }: { label: string; name: string; error?: string; hint?: string } & Record<string, unknown>) {
  const id = `kinto-link-${name}`;
  return (
    <label class="field">
      {label}
      <input id={id} name={name} aria-invalid={error ? "true" : undefined} aria-describedby={error ? `${id}-error` : undefined} {...input} />
      {hint && !error && <span class="muted small">{hint}</span>}
      {error && (
        <span class="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </label>
  );
}

export function AddKintoLink({ onAdded }: { onAdded: (link: SyncLink) => void }) {
  const { client } = useApp();
  const [v, setV] = useState<Values>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const bind = (key: keyof Values) => ({
    value: v[key],
    onInput: (e: Event) => setV({ ...v, [key]: (e.currentTarget as HTMLInputElement).value }),
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const res = await client.request<{ data: SyncLink }>("POST", "/__sync__/links", { body: newKintoLink(v) });
      setV(EMPTY);
      onAdded(res.data.data);
    } catch (err) {
      const byField = err instanceof ApiError && err.status === 400 ? fieldErrors(err.details) : {};
      setErrors(byField);
      // Details without a field (or other failures) go to the error box.
      if (!Object.keys(byField).some((k) => k !== "")) setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="kinto-link-form card" onSubmit={submit}>
      <Field label="Kinto server URL" name="url" type="url" required placeholder="https://kinto.example.com/v1" error={errors["remote.url"]} {...bind("url")} />
      <div class="field-row">
        <Field label="Remote bucket" name="remote_bucket" required error={errors["remote.bucket"]} {...bind("remoteBucket")} />
        <Field label="Remote collection" name="remote_collection" required error={errors["remote.collection"]} {...bind("remoteCollection")} />
      </div>
      <div class="field-row">
        <Field label="Local bucket" name="local_bucket" placeholder={v.remoteBucket || "same as remote"} error={errors["local.bucket"]} {...bind("localBucket")} />
        <Field label="Local collection" name="local_collection" placeholder={v.remoteCollection || "same as remote"} error={errors["local.collection"]} {...bind("localCollection")} />
      </div>
      <div class="field-row">
        <Field label="User" name="user" autocomplete="off" error={errors["remote.user"]} hint="An account on that server (leave empty for anonymous access)" {...bind("user")} />
        <Field label="Password" name="password" type="password" autocomplete="new-password" error={errors["remote.password"]} {...bind("password")} />
      </div>
      <fieldset class="direction-choice">
        <legend>Direction</legend>
        <label class="check">
          <input type="radio" name="direction" value="both" checked={v.direction === "both"} onChange={() => setV({ ...v, direction: "both" })} /> Two-way (pull and push)
        </label>
        <label class="check">
          <input type="radio" name="direction" value="pull" checked={v.direction === "pull"} onChange={() => setV({ ...v, direction: "pull" })} /> Pull only (a read-only mirror)
        </label>
      </fieldset>
      {errors[""] && <div class="error" role="alert">{errors[""]}</div>}
      <ErrorBox error={error} />
      <div class="actions">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Checking the server…" : "Add sync link"}
        </button>
      </div>
    </form>
  );
}
