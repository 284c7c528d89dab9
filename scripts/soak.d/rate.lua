-- wrk script of scripts/soak's rate measurement: the same valid `available` POST, as fast as the
-- connections allow (static request, no per-response Lua work).
wrk.method = "POST"
wrk.headers["Authorization"] = "CitrixAuth soak-token-0123456789"
wrk.headers["Accept"] = "application/vnd.citrix.sessionstate+xml"
wrk.headers["Content-Type"] = "application/vnd.citrix.sessionparams+xml"
wrk.body = '<?xml version="1.0"?><sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams">'
  .. '<clientName>SOAK01</clientName><deviceId>SOAK01</deviceId>'
  .. '<includeActiveSessions>false</includeActiveSessions></sessionparams>'
