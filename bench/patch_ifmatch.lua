-- PATCH with If-Match, the way a client does optimistic concurrency: every request carries the
-- ETag of the previous answer (the first one `*`). Run it with one connection (-c1): with more,
-- requests would race and get 412.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local i = 0
local etag = "*"
request = function()
  i = i + 1
  -- wrk.format replaces wrk.headers when given headers: copy them.
  local h = { ["If-Match"] = etag }
  for k, v in pairs(wrk.headers) do h[k] = v end
  return wrk.format("PATCH", COLL .. "patch/records/p2", h, '{"data":{"n":' .. i .. '}}')
end
response = function(status, headers, body)
  local e = headers["ETag"] or headers["Etag"] or headers["etag"]
  if status == 200 and e then etag = e end
end
