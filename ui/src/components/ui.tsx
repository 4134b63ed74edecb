// Small building blocks shared by the views: loading and error states, modals, confirmation,
// the 412 conflict dialog, tabs and breadcrumbs.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api/client";

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

/** An error with the server's message, its status and details. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  const details = api?.details as { name?: string; description?: string }[] | undefined;
  return (
    <div class="error" role="alert">
      <strong>{api ? errorTitle(api.status) : "Error"}</strong> {message}
      {Array.isArray(details) && details.length > 0 && (
        <ul>
          {details.map((d, i) => (
            <li key={i}>
              {d.name ? <code>{d.name}</code> : null} {d.description}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button class="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

function errorTitle(status: number): string {
  switch (status) {
    case 0:
      return "Offline:";
    case 401:
      return "Not signed in (401):";
    case 403:
      return "Not allowed (403):";
    case 404:
      return "Not found (404):";
    case 412:
      return "Changed meanwhile (412):";
    default:
      return `Error ${status}:`;
  }
}

export function Modal({ title, children, onClose }: { title: string; children: ComponentChildren; onClose: () => void }) {
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

/** A button that asks before doing something destructive. */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  class: cls = "danger",
}: {
  label: string;
  question: string;
  onConfirm: () => Promise<void> | void;
  class?: string;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <button class={cls} onClick={() => setOpen(true)}>
        {label}
      </button>
      {open && (
        <Modal title="Please confirm" onClose={() => setOpen(false)}>
          <p>{question}</p>
          <ErrorBox error={error} />
          <div class="actions">
            <button onClick={() => setOpen(false)}>Cancel</button>
            <button
              class="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await onConfirm();
                  setOpen(false);
                } catch (e) {
                  setError(e);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {busy ? "Working…" : `Yes, ${label.toLowerCase()}`}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

/** Explains a 412 and offers to reload the server's version or overwrite it. */
export function ConflictDialog({ onReload, onOverwrite, onClose }: { onReload: () => void; onOverwrite: () => void; onClose: () => void }) {
  return (
    <Modal title="Someone else changed this" onClose={onClose}>
      <p>
        The server refused to save (412 Precondition Failed): this object was modified since you opened it, by another
        user, another tab or a synced device. Saving now would silently replace their changes.
      </p>
      <div class="actions">
        <button onClick={onClose}>Cancel</button>
        <button onClick={onReload}>Reload their version (discard mine)</button>
        <button class="danger" onClick={onOverwrite}>
          Overwrite with mine
        </button>
      </div>
    </Modal>
  );
}

export function Tabs({ tabs, current }: { tabs: { id: string; label: string; href: string }[]; current: string }) {
  return (
    <nav class="tabs" aria-label="Sections">
      {tabs.map((t) => (
        <a key={t.id} href={t.href} class={t.id === current ? "active" : ""} aria-current={t.id === current ? "page" : undefined}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}

export function Crumbs({ items }: { items: { label: string; href?: string }[] }) {
  return (
    <nav class="crumbs" aria-label="Breadcrumbs">
      {items.map((item, i) => (
        <span key={i}>
          {i > 0 && <span class="sep">/</span>}
          {item.href ? <a href={item.href}>{item.label}</a> : <strong>{item.label}</strong>}
        </span>
      ))}
    </nav>
  );
}

export function formatDate(ms: number | undefined): string {
  if (!ms) return "";
  return new Date(ms).toLocaleString();
}

/** Saves text as a file download. */
export function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
