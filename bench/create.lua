-- Record create: POST a new record (server-assigned id) into the `writes` collection.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "POST"
wrk.path = COLL .. "writes/records"
wrk.body = '{"data":{"n":42,"title":"a new record","tags":["a","b"],"done":false}}'
