-- PATCH (merge) of one record, without preconditions; the value changes on every request.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local i = 0
request = function()
  i = i + 1
  return wrk.format("PATCH", COLL .. "patch/records/p1", nil, '{"data":{"n":' .. i .. '}}')
end
