// @ts-check
// Kintoun's status page: asks the app (Tauri IPC) for the server's state and the owner's
// session, polls GET /v1/__stats__ with the owner's per-launch bearer token every 2 s, and
// shows the recent log lines. No framework, no build step.

const POLL_MS = 2000;

/** @param {string} cmd @param {Record<string, unknown>} [args] @returns {Promise<any>} */
function invoke(cmd, args) {
  const internals = /** @type {any} */ (window).__TAURI_INTERNALS__;
  if (!internals) return Promise.reject(new Error("not inside the Kintoun app"));
  return internals.invoke(cmd, args || {});
}

/** @param {string} id @returns {HTMLElement} */
function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no #${id}`);
  return element;
}

/** @param {number} bytes */
function size(bytes) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** @param {number} seconds */
function duration(seconds) {
  const s = Math.floor(seconds);
  const parts = [[Math.floor(s / 86400), "d"], [Math.floor((s % 86400) / 3600), "h"], [Math.floor((s % 3600) / 60), "min"], [s % 60, "s"]];
  return parts.filter(([n], i) => n || i === 3).map(([n, u]) => `${n} ${u}`).join(" ");
}

/** @type {{url: string, token: string} | null} */
let session = null;

async function refreshStatus() {
  const status = await invoke("status");
  const phase = $("phase");
  phase.textContent = status.phase;
  phase.className = `phase ${status.phase}`;
  $("url").textContent = `${status.url}/`;
  $("data-dir").textContent = status.data_dir;
  $("config-path").textContent = status.config_path;
  $("log-dir").textContent = status.log_dir;
  $("owner").textContent = status.owner_account ? `${status.owner_account} (${status.owner_user_id})` : "none (owner_account is empty)";
  $("secrets").textContent = status.secrets || "…";
  $("error").hidden = status.phase !== "error";
  $("error-message").textContent = status.message || "";
  $("another-port").hidden = !status.port_taken;
  if (status.phase === "running" && (!session || session.url !== status.url)) {
    session = await invoke("session").catch(() => null);
  }
  if (status.phase !== "running") session = null;
}

async function refreshStats() {
  if (!session) return;
  const response = await fetch(`${session.url}/__stats__`, { headers: { Authorization: `Bearer ${session.token}` } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status}: ${body.message || response.statusText}`);
  $("stat-uptime").textContent = duration(body.uptime_seconds);
  $("stat-requests").textContent = String(body.requests);
  $("stat-errors").textContent = String(body.errors);
  $("stat-rps").textContent = Number(body.requests_per_second).toFixed(2);
  const o = body.objects || {};
  $("stat-objects").textContent = [o.buckets, o.collections, o.groups, o.records].join(" · ");
  $("stat-db").textContent = size(body.database_bytes);
  $("stat-rss").textContent = body.rss_bytes ? size(body.rss_bytes) : "n/a";
  $("stats-error").hidden = true;
}

async function refreshLog() {
  const lines = await invoke("recent_logs", { limit: 100 });
  const log = $("log");
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = lines.join("\n");
  if (atBottom) log.scrollTop = log.scrollHeight;
}

/** @param {unknown} error */
function showStatsError(error) {
  const element = $("stats-error");
  element.textContent = `Statistics unavailable: ${error instanceof Error ? error.message : String(error)}`;
  element.hidden = false;
}

async function tick() {
  await refreshStatus().catch((error) => console.error(error));
  await refreshStats().catch(showStatsError);
  await refreshLog().catch((error) => console.error(error));
}

$("show-password").addEventListener("click", async () => {
  const button = /** @type {HTMLButtonElement} */ ($("show-password"));
  const password = $("password");
  if (button.dataset.shown) {
    password.textContent = "••••••••";
    button.textContent = "Show password";
    delete button.dataset.shown;
    return;
  }
  try {
    password.textContent = await invoke("owner_password");
    button.textContent = "Hide password";
    button.dataset.shown = "1";
  } catch (error) {
    password.textContent = String(error);
  }
});

$("another-port").addEventListener("click", async () => {
  await invoke("use_another_port").catch((error) => {
    $("error-message").textContent = String(error);
  });
  await tick();
});

tick();
setInterval(tick, POLL_MS);
