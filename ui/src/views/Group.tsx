// A group: its members (principals, with readable names) and its permissions.

import { useState } from "preact/hooks";
import { ApiError, paths } from "../api/client";
import { useApp } from "../context";
import { useAsync } from "../hooks";
import { href, navigate } from "../router";
import { ConfirmButton, ConflictDialog, Crumbs, ErrorBox, Spinner, Tabs } from "../components/ui";
import { History } from "../components/History";
import { PermissionsEditor } from "../components/PermissionsEditor";
import { normalizePrincipal, principalLabel } from "../lib/permissions";

export function Group({ bid, gid, tab }: { bid: string; gid: string; tab: string }) {
  const { client } = useApp();
  const base = ["buckets", bid, "groups", gid];
  return (
    <section>
      <Crumbs items={[{ label: "Buckets", href: "#/" }, { label: bid, href: href(["buckets", bid, "groups"]) }, { label: `group ${gid}` }]} />
      <div class="title-row">
        <h1>Group {gid}</h1>
        <ConfirmButton
          label="Delete group"
          question={`Delete group “${gid}”? Its members lose what the group was granted.`}
          onConfirm={async () => {
            await client.request("DELETE", paths.group(bid, gid));
            navigate(["buckets", bid, "groups"]);
          }}
        />
      </div>
      <Tabs
        current={tab}
        tabs={[
          { id: "members", label: "Members", href: href(base) },
          { id: "history", label: "History", href: href([...base, "history"]) },
          { id: "permissions", label: "Permissions", href: href([...base, "permissions"]) },
        ]}
      />
      {tab === "members" && <Members bid={bid} gid={gid} />}
      {tab === "history" && <History bid={bid} filters={[["uri", `/buckets/${bid}/groups/${gid}`]]} />}
      {tab === "permissions" && <PermissionsEditor kind="group" bid={bid} gid={gid} />}
    </section>
  );
}

function Members({ bid, gid }: { bid: string; gid: string }) {
  const { client, session } = useApp();
  const group = useAsync(() => client.get(paths.group(bid, gid)).then((r) => r.data.data), [bid, gid]);
  const [draft, setDraft] = useState<string[] | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  if (group.loading && !group.data) return <Spinner />;
  if (!group.data) return <ErrorBox error={group.error} onRetry={group.reload} />;
  const members: string[] = draft ?? group.data.members ?? [];
  const save = async (overwrite = false) => {
    setError(null);
    try {
      const res = await client.request("PATCH", paths.group(bid, gid), { body: { data: { members } }, ifMatch: overwrite ? undefined : group.data.last_modified });
      group.set(res.data.data);
      setDraft(null);
    } catch (e) {
      if (e instanceof ApiError && e.conflict) setConflict(true);
      else setError(e);
    }
  };
  return (
    <div>
      <ul class="chips">
        {members.length === 0 && <li class="muted">No members.</li>}
        {members.map((m) => (
          <li class="chip" key={m} title={m}>
            {principalLabel(m, session.user.id)}
            <button class="link" aria-label={`Remove ${m}`} onClick={() => setDraft(members.filter((x) => x !== m))}>
              ✕
            </button>
          </li>
        ))}
      </ul>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const p = normalizePrincipal(text, bid);
          if (p && !members.includes(p)) setDraft([...members, p]);
          setText("");
        }}
      >
        <input name="member" placeholder="account name or principal" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit">Add member</button>
      </form>
      <ErrorBox error={error} />
      <div class="actions">
        <button class="primary" disabled={draft === null} onClick={() => save()}>
          Save members
        </button>
      </div>
      {conflict && (
        <ConflictDialog
          onClose={() => setConflict(false)}
          onReload={() => {
            setConflict(false);
            setDraft(null);
            group.reload();
          }}
          onOverwrite={() => {
            setConflict(false);
            save(true);
          }}
        />
      )}
    </div>
  );
}
