// Which view a hash route shows.

import type { Route } from "../router";
import { Buckets } from "./Buckets";
import { Bucket } from "./Bucket";
import { Collection } from "./Collection";
import { RecordView } from "./RecordView";
import { Group } from "./Group";
import { Status } from "./Status";
import { Apps } from "./Apps";
import { Devices } from "./Devices";
import { Sync } from "./Sync";
import { Conflicts } from "./Conflicts";

export function Routes({ route }: { route: Route }) {
  const p = route.parts;
  if (p[0] === "status") return <Status />;
  if (p[0] === "apps") return <Apps />;
  if (p[0] === "devices") return <Devices />;
  if (p[0] === "sync" && p[1] && p[2] === "conflicts") return <Conflicts key={p[1]} id={p[1]} />;
  if (p[0] === "sync") return <Sync />;
  if (p[0] !== "buckets" || p.length < 2) return <Buckets />;
  const bid = p[1];
  if (p[2] === "collections" && p[3]) {
    const cid = p[3];
    if (p[4] === "records" && p[5]) return <RecordView key={`${bid}/${cid}/${p[5]}`} bid={bid} cid={cid} rid={p[5]} tab={p[6] ?? "edit"} query={route.query} />;
    return <Collection key={`${bid}/${cid}`} bid={bid} cid={cid} tab={p[4] ?? "records"} query={route.query} />;
  }
  if (p[2] === "groups" && p[3]) return <Group key={`${bid}/${p[3]}`} bid={bid} gid={p[3]} tab={p[4] ?? "members"} />;
  return <Bucket key={bid} bid={bid} tab={p[2] ?? "collections"} />;
}
