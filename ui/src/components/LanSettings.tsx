// The LAN settings of this device (`GET/PATCH /__devices__/settings`): LAN sharing on or off,
// the name other devices see, the address and port of the LAN side, and the interfaces
// discovery uses. Saving applies them at once (the server restarts its LAN side) and keeps them;
// a setting fixed by an environment variable is shown locked with the variable's name.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useApp } from "../context";
import {
  addressChoices,
  changes,
  formOf,
  formProblems,
  interfaceChoices,
  saveEffect,
  type LanForm,
  type LanSettingsView,
} from "../lib/lanSettings";
import { ErrorBox, Spinner } from "./ui";

export function LanSettings({ onSaved }: { onSaved: (text: string) => void }) {
  const { client } = useApp();
  const [view, setView] = useState<LanSettingsView | null>(null);
  const [form, setForm] = useState<LanForm | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  const load = async () => {
    try {
      const fresh = (await client.get<LanSettingsView>("/__devices__/settings")).data;
      setView(fresh);
      setForm(formOf(fresh));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, [client]);

  if (!view || !form) return error ? <ErrorBox error={error} onRetry={load} /> : <Spinner />;

  const body = changes(view, form);
  const problems = formProblems(form);
  const refused = error instanceof ApiError ? (error.details as { name?: string }[] | undefined)?.[0]?.name : undefined;
  const dirty = Object.keys(body).length > 0;
  const set = (patch: Partial<LanForm>) => setForm({ ...form, ...patch });
  const locked = (key: string) => view.pinned[key];
  const lockNote = (key: string) =>
    locked(key) ? <span class="muted small locked"> (set by {locked(key)}; unset it to change this here)</span> : null;
  const invalid = (key: string) => (problems[key] || refused === key ? true : undefined);

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const fresh = (await client.request<LanSettingsView>("PATCH", "/__devices__/settings", { body })).data;
      setView(fresh);
      setForm(formOf(fresh));
      onSaved(
        fresh.listening
          ? `LAN settings saved: “${fresh.effective_device_name}” listens on ${fresh.listening}.`
          : "LAN settings saved: LAN sharing is off.",
      );
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      class="editor lan-settings"
      onSubmit={(e) => {
        e.preventDefault();
        if (dirty && Object.keys(problems).length === 0) save();
      }}
    >
      <label class="check">
        <input
          type="checkbox"
          name="lan_sharing"
          checked={form.sharing}
          disabled={!!locked("lan_sharing")}
          onChange={(e) => set({ sharing: e.currentTarget.checked })}
        />{" "}
        Share on the local network (LAN sharing) {lockNote("lan_sharing")}
      </label>
      <label>
        Device name <span class="muted small">(what other devices show; empty for the host name, “{view.effective_device_name}”)</span>
        <input
          name="device_name"
          value={form.name}
          maxLength={63}
          placeholder={view.effective_device_name}
          disabled={!!locked("device_name")}
          aria-invalid={invalid("device_name")}
          onInput={(e) => set({ name: e.currentTarget.value })}
        />
        {lockNote("device_name")}
      </label>
      <div class="inline">
        <label>
          Listen on address
          <input
            name="lan_address"
            list="lan-addresses"
            value={form.address}
            disabled={!!locked("lan_address")}
            aria-invalid={invalid("lan_address")}
            onInput={(e) => set({ address: e.currentTarget.value })}
          />
          {lockNote("lan_address")}
        </label>
        <datalist id="lan-addresses">
          {addressChoices(view).map((choice) => (
            <option key={choice.value} value={choice.value} label={choice.label} />
          ))}
        </datalist>
        <label>
          Port <span class="muted small">(0: any free port)</span>
          <input
            name="lan_port"
            inputMode="numeric"
            value={form.port}
            disabled={!!locked("lan_port")}
            aria-invalid={invalid("lan_port")}
            onInput={(e) => set({ port: e.currentTarget.value })}
          />
          {lockNote("lan_port")}
        </label>
      </div>
      <fieldset class="interfaces" disabled={!!locked("lan_interfaces")}>
        <legend>
          Discovery on <span class="muted small">(none ticked: every network interface)</span> {lockNote("lan_interfaces")}
        </legend>
        {interfaceChoices(view, form.interfaces).map((choice) => (
          <label class="check" key={choice.name}>
            <input
              type="checkbox"
              name="lan_interfaces"
              value={choice.name}
              checked={form.interfaces.includes(choice.name)}
              onChange={(e) =>
                set({
                  interfaces: e.currentTarget.checked
                    ? [...form.interfaces, choice.name]
                    : form.interfaces.filter((name) => name !== choice.name),
                })
              }
            />{" "}
            <code>{choice.name}</code>{" "}
            <span class="muted small">{choice.present ? choice.addresses.join(", ") || "no address" : "not present now"}</span>
          </label>
        ))}
      </fieldset>
      {Object.entries(problems).map(([key, text]) => (
        <p class="error small" key={key} role="alert">
          <code>{key}</code> {text}
        </p>
      ))}
      <ErrorBox error={error} />
      <p class="muted small">
        {view.listening ? (
          <>
            Listening on <code>{view.listening}</code>.{" "}
          </>
        ) : null}
        {dirty ? saveEffect(view, body) : "No changes."}
      </p>
      <div class="actions">
        {dirty && (
          <button type="button" onClick={() => setForm(formOf(view))} disabled={saving}>
            Undo changes
          </button>
        )}
        <button class="primary" type="submit" disabled={!dirty || saving || Object.keys(problems).length > 0}>
          {saving ? "Applying…" : "Save LAN settings"}
        </button>
      </div>
    </form>
  );
}
