-- Ceiling: GET the fixed JSON body of the trivial axum handler (bench/ceiling), with
-- the same tool, machine and headers as the Kintoun scenarios.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.path = "/record.json"
