# Configurations of benches/load/run (sourced): the upstream's documents, the upstream (nginx),
# the proxies (nginx, HAProxy) and the two sessiongate instances. Everything goes into $work.

# A sessionState of $1 sessions, as a StoreFront server writes it: every launch URL names the
# upstream's own address under store path $2.
session_state() {
  local i
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<sessionState xmlns="http://citrix.com/delivery-services/1-0/sessionstate" enumeration="full">'
  echo '  <sessions>'
  for i in $(seq "$1"); do
    local id
    id=$(printf 'k2m8%06d' "$i")
    cat <<XML
    <session id="$id">
      <serverType>win32</serverType>
      <launchIca>
        <url>http://$UP$2/sessions/v1/$id/launch/ica</url>
      </launchIca>
      <initialapp>Notepad $i</initialapp>
      <initialappresourceaggregated>false</initialappresourceaggregated>
      <initialappresourceid>XA1.Notepad $i</initialappresourceid>
      <publishername>Farm1</publishername>
    </session>
XML
  done
  echo '  </sessions>'
  echo '</sessionState>'
}

# Stores of the upstream: /Citrix/Store answers SESSIONS sessions from memory (`return`); the
# sweep's /Citrix/S{1,10,100,1000} answer files (larger than an nginx configuration token may be:
# the static module refuses a POST with 405, which is turned into the file's 200 as a GET).
upstream_conf() {
  local state n
  state=$(session_state "$SESSIONS" /Citrix/Store)
  cat <<NGX
daemon off;
worker_processes 1;
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/upstream-body;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen $UP;
    location = /Citrix/Store/sessions/v1/available {
      default_type application/vnd.citrix.sessionstate+xml;
      return 200 '$state';
    }
    location ~ ^/Citrix/[A-Za-z0-9]+/sessions/v1/(disconnect|logoff)$ {
      default_type application/vnd.citrix.sessionresults+xml;
      return 200 '<?xml version="1.0"?><sessionResults xmlns="http://citrix.com/delivery-services/1-0/sessionresult" status="success" />';
    }
NGX
  for n in 1 10 100 1000; do
    session_state "$n" "/Citrix/S$n" > "$work/s$n.xml"
    cat <<NGX
    location = /Citrix/S$n/sessions/v1/available {
      types { } default_type application/vnd.citrix.sessionstate+xml;
      alias $work/s$n.xml;
      error_page 405 =200 \$uri;
    }
NGX
  done
  echo '    location / { return 404; } } }'
}

proxy_nginx_conf() {
  cat <<NGX
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  keepalive_requests 1000000;
  upstream sf { server $UP; keepalive 64; }
  server {
    listen $NGX;
    location / { proxy_pass http://sf; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGX
}

haproxy_cfg() {
  cat <<HAP
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind $HAP
  default_backend be
backend be
  server up $UP
HAP
}

# sessiongate: $1 = listen, $2 = admin, $3 = access log format, $4 = with the sweep's and the
# farm-backed stores (yes/no).
sessiongate_yaml() {
  local key=$PWD/tests/fixtures/identity/hs256.secret n
  cat <<YAML
listen: ["$1"]
admin_listen: "$2"
threads: 1
grace_period_seconds: 1
upgrade_socket: $work/upgrade-${1##*:}.sock
access_log:
  format: $3
session_id_key_file: $key
stores:
  - path: /Citrix/Store
    name: store
    public_url: https://workspace.example.com/Citrix/Store
    storefront:
      upstreams: ["$UP"]
      upstream_path: /Citrix/Store
YAML
  [ "$4" = yes ] || return 0
  for n in 1 10 100 1000; do
    cat <<YAML
  - path: /Citrix/S$n
    name: s$n
    public_url: https://workspace.example.com/Citrix/S$n
    storefront:
      upstreams: ["$UP"]
      upstream_path: /Citrix/S$n
YAML
  done
  legacy_store /Citrix/Legacy legacy "$FARM1" "$FARM2"
  # The farm sweep: the same listing from 1 and from 4 farms.
  legacy_store /Citrix/F1 f1 "$FARM1"
  legacy_store /Citrix/F4 f4 "$FARM1" "$FARM2" "$FARM3" "$FARM4"
}

# A farm-backed store: $1 = path, $2 = name, rest = one XD7 farm per broker address.
legacy_store() {
  local key=$PWD/tests/fixtures/identity/hs256.secret path=$1 name=$2 i=0 broker
  shift 2
  cat <<YAML
  - path: $path
    name: $name
    public_url: https://workspace.example.com$path
    identity:
      jwt:
        algorithm: HS256
        key_file: $key
      domain: CORP
    farms:
YAML
  for broker in "$@"; do
    i=$((i + 1))
    cat <<YAML
      - name: Farm$i
        brokers: ["$broker"]
        pre_xd7: false
        health_check_interval_ms: 0
YAML
  done
}

write_configs() {
  # post.lua's body, for a request by hand.
  printf '%s' '<?xml version="1.0" encoding="utf-8"?><sessionparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams"><clientName>BENCH-PC01</clientName><deviceId>BENCH-PC01-0001</deviceId><includeActiveSessions>false</includeActiveSessions></sessionparams>' > "$work/params.xml"
  upstream_conf > "$work/upstream.conf"
  proxy_nginx_conf > "$work/nginx.conf"
  haproxy_cfg > "$work/haproxy.cfg"
  sessiongate_yaml "$SG" "$SG_ADMIN" "off" yes > "$work/sg.yaml"
  sessiongate_yaml "$SGLOG" "$SGLOG_ADMIN" "logfmt" no > "$work/sglog.yaml"
}
