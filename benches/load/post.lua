-- The load of benches/load/run: a valid Sessions Service `available` POST with the headers a
-- Workspace app sends. TOKEN (the environment) is a JWT for the farm-backed store; any other
-- store passes the token through to its StoreFront server, which does not check it.
local token = os.getenv("TOKEN") or "bench-token-0123456789abcdef"
wrk.method = "POST"
wrk.headers["Authorization"] = "CitrixAuth " .. token
wrk.headers["Accept"] = "application/vnd.citrix.sessionstate+xml"
wrk.headers["Content-Type"] = "application/vnd.citrix.sessionparams+xml"
wrk.body = '<?xml version="1.0" encoding="utf-8"?>'
  .. '<sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams">'
  .. '<clientName>BENCH-PC01</clientName><deviceId>BENCH-PC01-0001</deviceId>'
  .. '<includeActiveSessions>false</includeActiveSessions></sessionparams>'
