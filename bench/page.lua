-- Filtered + sorted page of 100 out of the data collection.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.path = COLL .. "data/records?gt_n=" .. math.floor(BENCH_N / 2) .. "&_sort=-n&_limit=100"
