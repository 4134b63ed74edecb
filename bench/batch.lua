-- One /batch of 25 record creates into the `bulk` collection.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local reqs = {}
for i = 1, 25 do
  reqs[i] = '{"body":{"data":{"n":' .. i .. ',"title":"batched record","done":true}}}'
end
wrk.method = "POST"
wrk.path = "/v1/batch"
wrk.body = '{"defaults":{"method":"POST","path":"/buckets/bench/collections/bulk/records"},'
  .. '"requests":[' .. table.concat(reqs, ",") .. ']}'
