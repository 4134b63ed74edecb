// Sharing a collection with paired devices (`/__devices__/{id}/shares`): what each device has
// on this collection (its own grant, or one through the bucket or a group, which this dialog
// cannot change), and which changes to send.

export type Access = "read" | "write";

export interface Share {
  bucket: string;
  collection: string;
  access: Access;
  /** Where the strongest grant comes from: the collection's URI, its bucket's, or a group's. */
  via: string;
  title?: string;
}

/** One device's standing on one collection. */
export interface Standing {
  /** What it may do on this collection (from any grant). */
  access: Access | null;
  /** Its own grant on the collection, the only one this dialog changes. */
  own: Access | null;
  /** Other grants (bucket, group), described. */
  inherited: string | null;
}

export const collectionUri = (bid: string, cid: string) => `/buckets/${bid}/collections/${cid}`;

/** A device's standing on `bid/cid`, from the shares the server lists for it. */
export function standing(shares: Share[], bid: string, cid: string): Standing {
  const share = shares.find((s) => s.bucket === bid && s.collection === cid);
  if (!share) return { access: null, own: null, inherited: null };
  const own = share.via === collectionUri(bid, cid) ? share.access : null;
  const inherited = own ? null : describeVia(share.via, share.access);
  return { access: share.access, own, inherited };
}

function describeVia(via: string, access: Access): string {
  const what = access === "write" ? "read and write" : "read-only";
  const group = /^\/buckets\/[^/]+\/groups\/([^/]+)$/.exec(via);
  if (group) return `${what} through the group “${group[1]}”`;
  if (/^\/buckets\/[^/]+$/.test(via)) return `${what} through its bucket`;
  return `${what} through ${via}`;
}

export const accessLabel = (access: Access | null) =>
  access === "write" ? "Read and write" : access === "read" ? "Read-only" : "Not shared";

/** The devices whose own grant changes, with the new access (null: stop sharing). */
export function shareChanges(
  before: Record<string, Access | null>,
  after: Record<string, Access | null>,
): { device: string; access: Access | null }[] {
  return Object.keys(after)
    .filter((device) => (before[device] ?? null) !== (after[device] ?? null))
    .map((device) => ({ device, access: after[device] ?? null }));
}
