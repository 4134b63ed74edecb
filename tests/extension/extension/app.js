// Connects to a local Kintoun with the connect flow (OAuth-style authorization code + PKCE),
// keeps the bearer token in extension storage, and syncs one collection with kinto.js.
// Settings come from the page URL: ?server=http://127.0.0.1:8888/v1&bucket=home&collection=recipes
const params = new URLSearchParams(location.search);
const SERVER = params.get("server") || "http://127.0.0.1:8888/v1";
const BUCKET = params.get("bucket") || "home";
const COLLECTION = params.get("collection") || "recipes";
const $ = (id) => document.getElementById(id);
const show = (status) => ($("status").textContent = status);
const report = (value) => ($("result").textContent = JSON.stringify(value));

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function pkce() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge };
}

async function json(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(body?.message || response.statusText), { status: response.status });
  return body;
}

/** The connect flow: ask, wait for the owner's approval, trade the code for a token. */
async function connect() {
  const { verifier, challenge } = await pkce();
  const scopes = [{ bucket: BUCKET, collection: COLLECTION, access: "write" }];
  const asked = await json(
    await fetch(`${SERVER}/connect`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Recipes example extension", scopes, code_challenge: challenge }),
    }),
  );
  $("request").textContent = asked.id;
  show("waiting for approval");
  for (;;) {
    const polled = await json(await fetch(`${SERVER}/connect/${asked.id}`));
    if (polled.status === "denied") throw new Error("the owner refused the connection");
    if (polled.status === "approved") {
      const issued = await json(
        await fetch(`${SERVER}/connect/${asked.id}/token`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ code: polled.code, code_verifier: verifier }),
        }),
      );
      await chrome.storage.local.set({ token: issued.access_token, appId: issued.app_id });
      return issued.access_token;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function token() {
  const stored = await chrome.storage.local.get("token");
  return stored.token || connect();
}

async function sync() {
  const headers = { Authorization: `Bearer ${await token()}` };
  const db = new Kinto.default({ remote: SERVER, bucket: BUCKET, headers });
  const recipes = db.collection(COLLECTION);
  await recipes.create({ title: `Recipe ${new Date().toISOString()}` });
  const result = await recipes.sync();
  const { data } = await recipes.list();
  return { ok: result.ok, local: data.length, published: result.published.length };
}

async function probe() {
  const client = new Kinto.KintoClient(SERVER, { headers: { Authorization: `Bearer ${await token()}` } });
  try {
    await client.bucket(BUCKET).collection("passwords").listRecords();
    return { status: 200 };
  } catch (error) {
    return { status: error.data?.code ?? error.response?.status ?? 0, message: error.message };
  }
}

async function run(action) {
  show("working");
  try {
    report(await action());
    show("done");
  } catch (error) {
    report({ error: error.message, status: error.data?.code ?? error.response?.status ?? error.status ?? 0 });
    show("failed");
  }
}

$("sync").addEventListener("click", () => run(sync));
$("probe").addEventListener("click", () => run(probe));
run(sync);
