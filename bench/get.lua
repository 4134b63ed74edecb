-- Record GET by id: a random one of the BENCH_N seeded records r000000..
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", COLL .. "data/records/" .. string.format("r%06d", math.random(0, BENCH_N - 1)))
end
