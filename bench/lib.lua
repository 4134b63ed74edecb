-- Shared by the wrk scenario scripts (loaded with dofile): the fixed Basic Auth header, JSON
-- bodies, and a `done` hook that prints one machine-readable line for bench.py to parse.
-- Environment: BENCH_AUTH (base64 of user:password, default bench:bench), BENCH_N (records in
-- the data collection), BENCH_SINCE (timestamp for the _since scenario).
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH") or "YmVuY2g6YmVuY2g=")
wrk.headers["Content-Type"] = "application/json"

BENCH_N = tonumber(os.getenv("BENCH_N") or "10000")
COLL = "/v1/buckets/bench/collections/"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
