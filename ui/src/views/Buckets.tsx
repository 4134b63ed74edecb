// The home view: the buckets the user can see, and creating one.

import { useState } from "preact/hooks";
import { paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href, navigate } from "../router";
import { ErrorBox, Spinner, formatDate } from "../components/ui";

export function Buckets() {
  const { client, session } = useApp();
  const list = useAsync(() => client.all<any>(paths.buckets(), [["_sort", "id"]]), []);
  const [id, setId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const personal = session.user && (session.server?.user?.bucket as string | undefined);
  return (
    <section>
      <h1>Buckets</h1>
      <form
        class="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const res = await client.request("POST", paths.buckets(), { body: { data: id ? { id } : {} } });
            navigate(["buckets", res.data.data.id]);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <input name="bucket-id" placeholder="new bucket id (empty: generated)" value={id} onInput={(e) => setId(e.currentTarget.value)} />
        <button class="primary" type="submit">
          Create bucket
        </button>
      </form>
      <ErrorBox error={error} />
      {list.loading && <Spinner />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && (
        <ul class="cards">
          {list.data.length === 0 && <li class="muted">No buckets yet: create one above.</li>}
          {list.data.map((b) => (
            <li key={b.id}>
              <a href={href(["buckets", b.id])}>{b.id}</a>
              {b.title && <span class="muted"> — {b.title}</span>}
              {b.id === personal && <span class="badge">personal</span>}
              <span class="muted small"> · {formatDate(b.last_modified)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
