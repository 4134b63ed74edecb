// kinto.js offline-first sync end-to-end against kintoun: two local devices
// (separate fake-indexeddb databases) of one remote collection.
import "fake-indexeddb/auto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { authHeaders } from "../lib/server.js";
import { Kinto, KintoClient, getServer, uid } from "../lib/common.js";

const { SERVER_WINS, CLIENT_WINS, MANUAL } = Kinto.syncStrategy;
const USER = uid("syncer");

let server;
let api; // KintoClient for checks and server-side edits

// Readable record ids (anything the server accepts) instead of UUIDs only.
const idSchema = {
  generate: () => randomUUID(),
  validate: (id) => typeof id === "string" && /^[a-zA-Z0-9_-]+$/.test(id),
};

/** A local device: its own IndexedDB database, syncing bucket/collection. */
function device(name, bucket, collection, { fetchFunc, hooks } = {}) {
  const kinto = new Kinto({
    remote: server.url,
    bucket,
    headers: authHeaders(USER),
    adapterOptions: { dbName: uid(`db-${name}`) },
  });
  if (fetchFunc) kinto.api.http.fetchFunc = fetchFunc;
  return kinto.collection(collection, { idSchema, hooks });
}

/** A fresh remote bucket + collection, and the KintoClient collection for it. */
async function remoteCollection() {
  const bucket = uid("sync");
  await api.createBucket(bucket);
  await api.bucket(bucket).createCollection("items");
  return { bucket, collection: "items", remote: api.bucket(bucket).collection("items") };
}

function byId(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function localAll(coll) {
  const { data } = await coll.list({}, { includeDeleted: true });
  return data.sort(byId);
}

async function serverAll(remote) {
  const { data } = await remote.listRecords({ pages: Infinity });
  return data.sort(byId);
}

/** Sync and insist it went through cleanly. */
async function syncOk(coll, options = {}) {
  const result = await coll.sync(options);
  assert.deepEqual(result.errors, [], `sync errors: ${JSON.stringify(result.errors).slice(0, 2000)}`);
  assert.deepEqual(result.conflicts, [], "no unresolved conflicts");
  assert.equal(result.ok, true);
  return result;
}

/**
 * Local leftovers that kinto.js keeps by design and that are not records:
 * - a record created then deleted before it was ever published stays as
 *   `_status: "deleted"` without last_modified (never sent to the server);
 * - a remote tombstone accepted through SERVER_WINS is stored as a synced
 *   `{id, last_modified, deleted: true}` record.
 */
function isLocalLeftover(r) {
  return (r._status === "deleted" && r.last_modified === undefined) || (r._status === "synced" && r.deleted === true);
}

/** Every local store equals the server's records, all synced. */
async function assertConverged(remote, ...devices) {
  const expected = await serverAll(remote);
  for (const coll of devices) {
    const local = (await localAll(coll)).filter((r) => !isLocalLeftover(r));
    const unsynced = local.filter((r) => r._status !== "synced");
    assert.deepEqual(unsynced, [], "every local record is synced");
    const stripped = local.map(({ _status, ...rest }) => rest);
    assert.deepEqual(stripped, expected, "local store equals the server");
  }
  return expected;
}

before(async () => {
  server = await getServer();
  api = new KintoClient(server.url, { headers: authHeaders(USER) });
});

after(async () => {
  await server?.stop();
});

describe("offline sync between two devices", () => {
  test("create, edit, delete offline on both sides, then converge", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);

    // A works offline, then publishes.
    for (const id of ["milk", "eggs", "bread", "tea"]) {
      await A.create({ id, title: id, done: false }, { useRecordId: true });
    }
    await A.update({ id: "tea", title: "green tea", done: false });
    await A.delete("bread"); // never published: never sent
    const r1 = await syncOk(A);
    assert.equal(r1.published.length, 3);
    assert.deepEqual((await serverAll(remote)).map((r) => r.id), ["eggs", "milk", "tea"]);
    assert.equal((await remote.getRecord("tea")).data.title, "green tea");

    // B pulls everything.
    const r2 = await syncOk(B);
    assert.equal(r2.created.length, 3);
    await assertConverged(remote, A, B);

    // Both edit different records offline.
    await B.update({ id: "milk", title: "oat milk", done: true });
    await B.create({ id: "jam", title: "jam", done: false }, { useRecordId: true });
    await A.delete("eggs");
    await A.update({ id: "tea", title: "green tea", done: true });

    await syncOk(A);
    const r3 = await syncOk(B);
    assert.deepEqual(r3.deleted.map((r) => r.id), ["eggs"]);
    assert.deepEqual(r3.updated.map((r) => r.new.id), ["tea"]);
    await syncOk(A);
    const final = await assertConverged(remote, A, B);
    assert.deepEqual(
      final.map((r) => `${r.id}:${r.title}:${r.done}`),
      ["jam:jam:false", "milk:oat milk:true", "tea:green tea:true"],
    );
    // Syncing again is a no-op.
    const again = await syncOk(A);
    assert.deepEqual([again.created, again.updated, again.deleted, again.published], [[], [], [], []]);
  });

  test("deletions propagate as tombstones", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);
    for (let i = 0; i < 5; i++) await A.create({ id: `t${i}`, n: i }, { useRecordId: true });
    await syncOk(A);
    await syncOk(B);
    const before = await remote.listRecords();

    await A.delete("t1");
    await A.delete("t3");
    // The local deletion is virtual until synced.
    assert.equal((await A.getAny("t1")).data._status, "deleted");
    const pushed = await syncOk(A);
    assert.deepEqual(pushed.published.map((r) => r.id).sort(), ["t1", "t3"]);
    assert.equal((await A.getAny("t1")).data, undefined, "synced deletion is purged locally");

    // The server keeps tombstones for clients syncing with _since.
    const changes = await remote.listRecords({ since: before.last_modified });
    assert.deepEqual(
      changes.data.map(({ id, deleted }) => ({ id, deleted })).sort(byId),
      [{ id: "t1", deleted: true }, { id: "t3", deleted: true }],
    );

    const pulled = await syncOk(B);
    assert.deepEqual(pulled.deleted.map((r) => r.id).sort(), ["t1", "t3"]);
    assert.equal((await B.getAny("t1")).data, undefined);
    const final = await assertConverged(remote, A, B);
    assert.deepEqual(final.map((r) => r.id), ["t0", "t2", "t4"]);

    // A device that never saw the records ignores the tombstones.
    const C = device("C", bucket, collection);
    const fresh = await syncOk(C);
    assert.equal(fresh.created.length, 3);
    await assertConverged(remote, A, B, C);
  });

  test("1,000 records synced both ways", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);
    const ids = Array.from({ length: 1000 }, (_, i) => `rec${String(i).padStart(4, "0")}`);
    await A.execute((txn) => {
      for (const [i, id] of ids.entries()) {
        txn.create({ id, n: i, label: `item ${i}`, _status: "created" });
      }
    });

    const up = await syncOk(A); // 1,000 creations in batches of 25
    assert.equal(up.published.length, 1000);
    assert.equal(await remote.getTotalRecords(), 1000);

    const down = await syncOk(B); // 1,000 records pulled
    assert.equal(down.created.length, 1000);
    await assertConverged(remote, A, B);

    // B changes 500 and deletes 250; A changes 100 others: both ways at once.
    await B.execute(
      (txn) => {
        for (let i = 0; i < 500; i++) txn.update({ id: ids[i], n: i, label: `B edited ${i}` });
        for (let i = 500; i < 750; i++) txn.delete(ids[i]);
      },
      { preloadIds: ids.slice(0, 750) },
    );
    await A.execute(
      (txn) => {
        for (let i = 900; i < 1000; i++) txn.update({ id: ids[i], n: i, label: `A edited ${i}` });
      },
      { preloadIds: ids.slice(900) },
    );
    const fromB = await syncOk(B);
    assert.equal(fromB.published.length, 750);
    const fromA = await syncOk(A);
    assert.equal(fromA.updated.length, 500);
    assert.equal(fromA.deleted.length, 250);
    assert.equal(fromA.published.length, 100);
    const toB = await syncOk(B);
    assert.equal(toB.updated.length, 100);

    const final = await assertConverged(remote, A, B);
    assert.equal(final.length, 750);
    assert.equal(final.filter((r) => r.label.startsWith("B edited")).length, 500);
    assert.equal(final.filter((r) => r.label.startsWith("A edited")).length, 100);
    assert.equal(await remote.getTotalRecords(), 750);
  });

  test("PULL_ONLY with expectedTimestamp overwrites local edits with the server's", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);
    await A.create({ id: "p1", v: 1 }, { useRecordId: true });
    await A.create({ id: "p2", v: 1 }, { useRecordId: true });
    await syncOk(A);
    await syncOk(B);
    await A.update({ id: "p1", v: 2 });
    await A.delete("p2");
    await syncOk(A);
    await B.update({ id: "p1", v: "local" });
    const ts = Number((await remote.getRecordsTimestamp()).replace(/"/g, ""));
    const res = await syncOk(B, { strategy: Kinto.syncStrategy.PULL_ONLY, expectedTimestamp: ts });
    assert.equal(res.lastModified, ts);
    assert.deepEqual(res.published, []);
    assert.equal((await B.get("p1")).data.v, 2);
    assert.equal((await B.getAny("p2")).data, undefined);
    await assertConverged(remote, A, B);
  });

  test("default bucket: the collection is created implicitly by the first sync", async () => {
    const collection = uid("notes");
    const A = device("A", "default", collection);
    const B = device("B", "default", collection);
    const { data } = await A.create({ title: "first" });
    await syncOk(A);
    const pulled = await syncOk(B);
    assert.deepEqual(pulled.created.map((r) => r.id), [data.id]);
    await assertConverged(api.bucket("default").collection(collection), A, B);
  });
});

describe("conflicts", () => {
  /** Both devices hold `doc` synced; both edit it offline; A publishes first. */
  async function conflicting() {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);
    await A.create({ id: "doc", title: "original", tags: ["x"] }, { useRecordId: true });
    await A.create({ id: "other", title: "untouched" }, { useRecordId: true });
    await syncOk(A);
    await syncOk(B);
    await A.update({ id: "doc", title: "from A", tags: ["x", "a"] });
    await B.update({ id: "doc", title: "from B", tags: ["x", "b"] });
    await B.create({ id: "new-on-b", title: "B's" }, { useRecordId: true });
    await syncOk(A);
    return { A, B, remote };
  }

  test("SERVER_WINS: the remote version replaces the local edit", async () => {
    const { A, B, remote } = await conflicting();
    const res = await syncOk(B, { strategy: SERVER_WINS });
    assert.equal(res.resolved.length, 1);
    assert.equal(res.resolved[0].accepted.title, "from A");
    assert.equal(res.resolved[0].rejected.title, "from B");
    assert.equal((await B.get("doc")).data.title, "from A");
    await syncOk(A);
    const final = await assertConverged(remote, A, B);
    assert.deepEqual(final.map((r) => `${r.id}:${r.title}`), ["doc:from A", "new-on-b:B's", "other:untouched"]);
  });

  test("CLIENT_WINS: the local edit is pushed over the remote version", async () => {
    const { A, B, remote } = await conflicting();
    const res = await syncOk(B, { strategy: CLIENT_WINS });
    assert.equal(res.resolved.length, 1);
    assert.equal(res.resolved[0].accepted.title, "from B");
    assert.equal((await remote.getRecord("doc")).data.title, "from B");
    const back = await syncOk(A);
    assert.deepEqual(back.updated.map((u) => u.new.id), ["doc"]);
    assert.deepEqual(back.created.map((r) => r.id), ["new-on-b"]);
    const final = await assertConverged(remote, A, B);
    assert.deepEqual(final.map((r) => `${r.id}:${r.title}`), ["doc:from B", "new-on-b:B's", "other:untouched"]);
    assert.deepEqual(final[0].tags, ["x", "b"]);
  });

  test("MANUAL: conflicts are reported, resolve() merges, next sync publishes", async () => {
    const { A, B, remote } = await conflicting();
    const res = await B.sync({ strategy: MANUAL });
    assert.equal(res.ok, false);
    assert.equal(res.conflicts.length, 1);
    const [conflict] = res.conflicts;
    assert.equal(conflict.type, "incoming");
    assert.equal(conflict.local.title, "from B");
    assert.equal(conflict.remote.title, "from A");
    // A conflicting pull stops the sync before the push: nothing is published.
    assert.deepEqual(res.published, []);
    assert.equal((await remote.getRecord("doc")).data.title, "from A");
    assert.equal((await B.get("new-on-b")).data._status, "created");

    const merged = { ...conflict.remote, title: "from A+B", tags: ["x", "a", "b"] };
    await B.resolve(conflict, merged);
    assert.equal((await B.get("doc")).data._status, "updated");
    await syncOk(B);
    assert.equal((await remote.getRecord("doc")).data.title, "from A+B");
    await syncOk(A);
    const final = await assertConverged(remote, A, B);
    assert.deepEqual(final[0].tags, ["x", "a", "b"]);
  });

  test("MANUAL resolving with the remote version marks the record synced", async () => {
    const { A, B, remote } = await conflicting();
    const res = await B.sync();
    assert.equal(res.conflicts.length, 1);
    await B.resolve(res.conflicts[0], res.conflicts[0].remote);
    assert.equal((await B.get("doc")).data._status, "synced");
    await syncOk(B);
    await syncOk(A);
    await assertConverged(remote, A, B);
  });

  test("outgoing conflict (412 on push) with CLIENT_WINS", async () => {
    // The record changes on the server between B's pull and B's push: the
    // safe batch write fails with 412 and the local version wins.
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    await A.create({ id: "doc", v: "A1" }, { useRecordId: true });
    await syncOk(A);
    let armed = true;
    const hooks = {
      "incoming-changes": [
        async (payload) => {
          if (armed) {
            armed = false;
            await remote.updateRecord({ id: "doc", v: "sneaky" });
          }
          return payload;
        },
      ],
    };
    const B = device("B", bucket, collection, { hooks });
    await syncOk(B);
    await B.update({ id: "doc", v: "B1" });
    armed = true;
    const res = await syncOk(B, { strategy: CLIENT_WINS });
    assert.equal(res.resolved.length, 1);
    assert.equal(res.resolved[0].rejected.v, "sneaky", "412 details.existing is the remote version");
    assert.equal((await remote.getRecord("doc")).data.v, "B1");
    await syncOk(A);
    await assertConverged(remote, A, B);
  });

  test("outgoing conflict (412 on push) with MANUAL then resolve()", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    await A.create({ id: "doc", v: 1 }, { useRecordId: true });
    await syncOk(A);
    let armed = false;
    const hooks = {
      "incoming-changes": [
        async (payload) => {
          if (armed) {
            armed = false;
            await remote.updateRecord({ id: "doc", v: 100 });
          }
          return payload;
        },
      ],
    };
    const B = device("B", bucket, collection, { hooks });
    await syncOk(B);
    await B.update({ id: "doc", v: 2 });
    armed = true;
    const res = await B.sync();
    assert.equal(res.ok, false);
    assert.equal(res.conflicts.length, 1);
    assert.equal(res.conflicts[0].type, "outgoing");
    assert.equal(res.conflicts[0].local.v, 2);
    assert.equal(res.conflicts[0].remote.v, 100);
    await B.resolve(res.conflicts[0], { id: "doc", v: 102 });
    await syncOk(B);
    await syncOk(A);
    const final = await assertConverged(remote, A, B);
    assert.equal(final[0].v, 102);
  });

  test("remote deletion vs local edit: SERVER_WINS deletes, CLIENT_WINS recreates", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    const A = device("A", bucket, collection);
    const B = device("B", bucket, collection);
    const C = device("C", bucket, collection);
    await A.create({ id: "d1", v: 0 }, { useRecordId: true });
    await A.create({ id: "d2", v: 0 }, { useRecordId: true });
    await syncOk(A);
    await syncOk(B);
    await syncOk(C);
    await A.delete("d1");
    await A.delete("d2");
    await syncOk(A);
    await B.update({ id: "d1", v: "B" });
    await C.update({ id: "d2", v: "C" });

    const b = await syncOk(B, { strategy: SERVER_WINS });
    assert.equal(b.resolved.length, 1);
    assert.equal(b.resolved[0].accepted.deleted, true);
    // kinto.js keeps the accepted tombstone as a synced local record.
    const d1 = (await B.getAny("d1")).data;
    assert.deepEqual({ deleted: d1.deleted, v: d1.v, _status: d1._status }, { deleted: true, v: undefined, _status: "synced" });

    const c = await syncOk(C, { strategy: CLIENT_WINS });
    assert.equal(c.resolved.length, 1);
    assert.equal((await remote.getRecord("d2")).data.v, "C", "recreated over the tombstone");
    await syncOk(A);
    await syncOk(B);
    const final = await assertConverged(remote, A, B, C);
    assert.deepEqual(final.map((r) => `${r.id}:${r.v}`), ["d2:C"]);
  });
});

describe("interrupted sync", () => {
  test("responses lost after N requests: the next sync resumes and converges", async () => {
    const { bucket, collection, remote } = await remoteCollection();
    // After `budget` requests, the server still processes each request but
    // the client never sees the answer (connection lost).
    let budget = Infinity;
    let lost = 0;
    const flaky = async (url, opts) => {
      if (budget <= 0) {
        await fetch(url, opts); // reaches the server ...
        lost++;
        throw new TypeError("fetch failed (simulated network loss)"); // ... the answer is lost
      }
      budget--;
      return fetch(url, opts);
    };
    const A = device("A", bucket, collection, { fetchFunc: flaky });
    const B = device("B", bucket, collection);
    await A.execute((txn) => {
      for (let i = 0; i < 200; i++) txn.create({ id: `r${i}`, n: i, _status: "created" });
    });
    // collection metadata + changes + hello (batch settings) + 2 batches of 25
    // go through; the third batch reaches the server but its answer is lost.
    budget = 5;
    await assert.rejects(A.sync(), /simulated network loss/);
    assert.equal(lost, 1);
    const onServer = await remote.getTotalRecords();
    assert.equal(onServer, 75, "three batches of 25 reached the server");
    const pending = (await localAll(A)).filter((r) => r._status === "created");
    assert.equal(pending.length, 200, "nothing marked synced locally");

    // B syncs meanwhile and sees the partial state.
    await syncOk(B);
    assert.equal((await localAll(B)).length, 75);

    // Network is back: resume.
    budget = Infinity;
    const res = await syncOk(A);
    assert.equal(res.published.length, 125, "only what the server had not got is pushed");
    assert.equal(res.updated.length, 75, "records already on the server are marked synced");
    await syncOk(B);
    const final = await assertConverged(remote, A, B);
    assert.equal(final.length, 200);
  });

  test("server killed mid-sync, restarted on the same port and data dir", async (t) => {
    if (!server.restart) {
      t.skip("needs a kintoun process under our control (KINTOUN_JS_REMOTE set)");
      return;
    }
    const { bucket, collection, remote } = await remoteCollection();
    const B = device("B", bucket, collection);
    // Seed shared state first.
    const A0 = device("A0", bucket, collection);
    await A0.execute((txn) => {
      for (let i = 0; i < 30; i++) txn.create({ id: `s${i}`, n: i, _status: "created" });
    });
    await syncOk(A0);
    await syncOk(B);

    // A edits/deletes/creates offline; the server dies while A is pushing.
    let batches = 0;
    const killer = async (url, opts) => {
      if (String(url).endsWith("/batch") && opts.method === "POST") {
        batches++;
        if (batches === 3) await server.kill();
      }
      return fetch(url, opts);
    };
    const A = device("A", bucket, collection, { fetchFunc: killer });
    await syncOk(A); // pulls the 30 seeded records
    await A.execute(
      (txn) => {
        for (let i = 0; i < 10; i++) txn.update({ id: `s${i}`, n: i, edited: true });
        for (let i = 10; i < 15; i++) txn.delete(`s${i}`);
        for (let i = 0; i < 60; i++) txn.create({ id: `new${i}`, n: 100 + i, _status: "created" });
      },
      { preloadIds: Array.from({ length: 15 }, (_, i) => `s${i}`) },
    );
    batches = 0;
    await assert.rejects(A.sync(), (e) => e instanceof TypeError || /fetch failed|ECONNREFUSED/.test(String(e)));
    assert.equal(server.running, false);

    // Offline: syncing fails, local edits go on.
    await assert.rejects(B.sync());
    await B.update({ id: "s20", n: 20, from: "B while server down" });

    await server.restart();
    const partial = await remote.listRecords({ pages: Infinity });
    assert.ok(partial.data.length >= 30, "data survived the restart");

    const resumed = await syncOk(A);
    assert.ok(resumed.published.length > 0);
    await syncOk(B);
    await syncOk(A);
    const final = await assertConverged(remote, A, B);
    assert.equal(final.length, 30 - 5 + 60);
    assert.equal(final.filter((r) => r.edited).length, 10);
    assert.equal(final.find((r) => r.id === "s20").from, "B while server down");
    const a0 = await syncOk(A0);
    assert.ok(a0.created.length + a0.updated.length + a0.deleted.length > 0);
    await assertConverged(remote, A0, A, B);
  });
});
