-- Polling with _since: answers the newest 1% of the data collection (BENCH_SINCE is chosen so).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.path = COLL .. "data/records?_since=" .. os.getenv("BENCH_SINCE")
