-- List of buckets as bob, who can read 20 of alice's 200 (BENCH_AUTH is bob's).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.path = "/v1/buckets"
