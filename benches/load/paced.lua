-- post.lua paced to RATE requests/s in all (the environment; with CONNS connections): each
-- connection waits CONNS / RATE seconds before its next request (wrk has no rate option; the
-- rate reached is a little lower, by the latency).
dofile(os.getenv("LOAD_DIR") .. "/post.lua")
local rate = tonumber(os.getenv("RATE")) or 1000
local conns = tonumber(os.getenv("CONNS")) or 32
function delay()
  return conns * 1000 / rate
end
