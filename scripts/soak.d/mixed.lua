-- wrk script of scripts/soak: valid and invalid requests in a fixed rotation, paced to a rate,
-- every answer classified. Arguments (after `--`): per-thread rate in requests/s (0 = as fast as
-- possible), the upstream's host:port (must never appear in an answer), the output file that
-- done() writes `key value` lines to.
--
-- An answer is *expected* when it is a 200 without X-Sessiongate-Reason whose Content-Type is one
-- of the three documents asked for (a sessionState must carry the public launch URLs and never
-- the upstream's address), or a 4xx whose X-Sessiongate-Reason is the one its status goes with
-- below. Everything else (5xx, a 200 with a reason, a 4xx without one or with another reason, a
-- status not listed) is *unexpected*. Each expected answer falls into a bucket; the bucket counts
-- are compared with the requests sent of each kind, which only the requests still in flight when
-- wrk stops may exceed.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock_id, soak_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local SF = "/Citrix/Store"
local FARM = "/Citrix/Legacy"
local PUBLIC = "https://workspace.example.com/Citrix/Store/"
local PARAMS = "application/vnd.citrix.sessionparams+xml"
local STATE = "application/vnd.citrix.sessionstate+xml"
local RESULTS = "application/vnd.citrix.sessionresults+xml"
local ENDPOINTS = "application/vnd.citrix.endpoints+xml"
local NS = 'xmlns="http://citrix.com/delivery-services/1-0/sessionparams"'

local AVAILABLE = '<?xml version="1.0"?><sessionparams ' .. NS .. '><clientName>SOAK01</clientName>'
  .. '<deviceId>SOAK01</deviceId><includeActiveSessions>false</includeActiveSessions></sessionparams>'
local TICKETS = '<?xml version="1.0"?><sessionparams ' .. NS .. '><clientName>SOAK01</clientName>'
  .. '<deviceId>SOAK01</deviceId><tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket>'
  .. '<ticket>85EB92973D2C3804F93A99AAEC232A</ticket></tickets></sessionparams>'
local MALFORMED = '<sessionparams ' .. NS .. '><clientName>SOAK01</clientName><deviceId>SOAK01'
local XXE = '<?xml version="1.0"?><!DOCTYPE sessionparams [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
  .. '<sessionparams ' .. NS .. '><clientName>&xxe;</clientName></sessionparams>'

-- Which bucket a 4xx reason falls into, with the only status it may come with.
local REASON_STATUS = {
  unauthorized = 401, not_acceptable = 406, content_type = 400,
  body_malformed = 400, body_forbidden_markup = 400, no_route = 404,
}
-- Which bucket a 200 falls into, by its media type.
local TYPE_BUCKET = { [STATE] = "sessionstate", [RESULTS] = "sessionresults", [ENDPOINTS] = "endpoints" }

local function h(accept, ctype, token)
  local t = { Accept = accept, ["Content-Type"] = ctype }
  if token then t["Authorization"] = "CitrixAuth soak-token-0123456789" end
  return t
end

-- kind: name, method, path, headers, body, bucket its answer must fall into.
local KINDS = {
  { "available", "POST", SF .. "/sessions/v1/available", h(STATE, PARAMS, true), AVAILABLE, "sessionstate" },
  { "no_token", "POST", SF .. "/sessions/v1/available", h(STATE, PARAMS, false), AVAILABLE, "unauthorized" },
  { "disconnect", "POST", SF .. "/sessions/v1/disconnect", h(RESULTS, PARAMS, true), TICKETS, "sessionresults" },
  { "wrong_accept", "POST", SF .. "/sessions/v1/available", h("application/json", PARAMS, true), AVAILABLE, "not_acceptable" },
  { "available", "POST", SF .. "/sessions/v1/available", h(STATE, PARAMS, true), AVAILABLE, "sessionstate" },
  { "wrong_content_type", "POST", SF .. "/sessions/v1/available", h(STATE, "application/json", true), AVAILABLE, "content_type" },
  { "logoff", "POST", SF .. "/sessions/v1/logoff", h(RESULTS, PARAMS, true), TICKETS, "sessionresults" },
  { "malformed_xml", "POST", SF .. "/sessions/v1/available", h(STATE, PARAMS, true), MALFORMED, "body_malformed" },
  { "available", "POST", SF .. "/sessions/v1/available", h(STATE, PARAMS, true), AVAILABLE, "sessionstate" },
  { "xxe", "POST", SF .. "/sessions/v1/disconnect", h(RESULTS, PARAMS, true), XXE, "body_forbidden_markup" },
  { "unknown_path", "POST", SF .. "/sessions/v1/sessionz", h(STATE, PARAMS, true), AVAILABLE, "no_route" },
  { "farm_endpoints", "GET", FARM .. "/endpoints/v1", { Accept = ENDPOINTS }, nil, "endpoints" },
}

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Per thread (each has its own Lua state).
-- Globals are what done() reads back from each thread with thread:get().
local requests, interval, next_at, upstream = {}, 0, 0, nil
sent, got, statuses, unexpected, samples, out = {}, {}, {}, 0, {}, nil

function init(args)
  local rate = tonumber(args[1]) or 0
  interval = rate > 0 and 1000 / rate or 0
  upstream, out = args[2], args[3]
  for i, k in ipairs(KINDS) do
    requests[i] = { wrk.format(k[2], k[3], k[4], k[5]), k[6] }
    sent[k[6]], got[k[6]] = 0, 0
  end
end

-- Open-loop pacing: each request takes the thread's next slot; a thread that fell behind does
-- not catch up in a burst.
function delay()
  if interval == 0 then return 0 end
  local t = now_ms()
  if next_at < t then next_at = t end
  local wait = next_at - t
  next_at = next_at + interval
  return wait
end

local turn = 0
function request()
  turn = turn % #requests + 1
  local r = requests[turn]
  sent[r[2]] = sent[r[2]] + 1
  return r[1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local reason, ctype
  for k, v in pairs(headers) do
    local l = k:lower()
    if l == "x-sessiongate-reason" then reason = v elseif l == "content-type" then ctype = v end
  end
  local bucket
  if status == 200 and reason == nil and ctype then
    bucket = TYPE_BUCKET[ctype:match("^[^;]*")]
    if bucket == "sessionstate"
        and (body:find(upstream, 1, true) or not body:find(PUBLIC, 1, true)) then
      bucket = nil
    end
  elseif reason and REASON_STATUS[reason] == status then
    bucket = reason
  end
  if bucket then
    got[bucket] = got[bucket] + 1
  else
    unexpected = unexpected + 1
    if #samples < 5 then
      table.insert(samples, status .. " reason=" .. tostring(reason) .. " type=" .. tostring(ctype))
    end
  end
end

local function add(into, from)
  for k, v in pairs(from) do into[k] = (into[k] or 0) + v end
end

function done(summary, latency, _)
  local s, g, st, u, sm = {}, {}, {}, 0, {}
  for _, t in ipairs(threads) do
    add(s, t:get("sent")); add(g, t:get("got")); add(st, t:get("statuses"))
    u = u + t:get("unexpected")
    for _, x in ipairs(t:get("samples")) do table.insert(sm, x) end
  end
  -- done() runs in wrk's main Lua state, where init() never ran: the path comes from a thread.
  local f = assert(io.open(threads[1]:get("out"), "w"))
  local e = summary.errors
  f:write(string.format("duration_s %.1f\nrequests %d\n", summary.duration / 1e6, summary.requests))
  f:write(string.format("errors %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
  f:write(string.format("latency_ms %.2f %.2f %.2f %.2f\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
  for k, v in pairs(st) do f:write(string.format("status %d %d\n", k, v)) end
  for k, v in pairs(s) do f:write(string.format("bucket %s %d %d\n", k, v, g[k] or 0)) end
  f:write(string.format("unexpected %d\n", u))
  for _, x in ipairs(sm) do f:write("sample " .. x .. "\n") end
  f:close()
end
