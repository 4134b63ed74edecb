-- Ceiling: GET a small static JSON file from nginx (same tool, same machine, same headers).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.path = "/record.json"
