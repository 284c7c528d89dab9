# Measuring one leg of benches/load/run (sourced): wrk, the proxy's CPU and peak RSS from /proc,
# and the tables. A leg's line in a rounds file: `name rps p50_ms p99_ms cpu_us_per_req hwm_kib`.

CLK_TCK=$(getconf CLK_TCK)
export LOAD_DIR=$PWD/$HERE CONNS=$CONNECTIONS

# The process and its descendants (nginx's and HAProxy's workers, sessiongate's threads are in
# the process's own figures).
tree() {
  echo "$1"
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
# utime + stime of the tree, with the children it has reaped (cutime + cstime), in ticks.
cpu_ticks() {
  local p sum=0
  for p in $(tree "$1"); do
    # Fields after "pid (comm) ": utime is the 12th, stime, cutime, cstime follow.
    sum=$((sum + $(sed 's/^.*) //' /proc/"$p"/stat | awk '{ print $12 + $13 + $14 + $15 }')))
  done
  echo "$sum"
}
# Peak resident memory of the tree, KiB.
hwm_kib() {
  local p sum=0
  for p in $(tree "$1"); do
    sum=$((sum + $(awk '/^VmHWM:/ { print $2 }' /proc/"$p"/status)))
  done
  echo "$sum"
}

# wrk's output for SECONDS of SCRIPT against URL/sessions/v1/available.
load() { # $1 = base URL, $2 = seconds, $3 = script
  timeout --signal=INT $(($2 + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" --latency \
    --timeout 5s -s "$HERE/$3" "$1/sessions/v1/available"
}

# wrk's latency figure in ms ("306.00us", "1.20ms", "1.01s").
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

measure() { # $1 = leg, $2 = base URL, $3 = pid, $4 = seconds, $5 = script
  local before after out=$work/wrk.$1
  before=$(cpu_ticks "$3")
  load "$2" "$4" "$5" > "$out"
  after=$(cpu_ticks "$3")
  if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
    cat "$out" >&2
    curl -sS -o /dev/null -w "one request by hand: %{http_code}\n" -X POST -H "Authorization: CitrixAuth $TOKEN" \
      -H 'Content-Type: application/vnd.citrix.sessionparams+xml' --data-binary @"$work/params.xml" \
      "$2/sessions/v1/available" >&2 || true
    echo "leg $1 got failures: setup broken" >&2; exit 1
  fi
  local requests rps p50 p99
  requests=$(awk '/requests in/ { print $1 }' "$out")
  rps=$(awk '/Requests\/sec/ { printf "%d", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  awk -v n="$1" -v r="$rps" -v a="$p50" -v b="$p99" -v t=$((after - before)) -v hz="$CLK_TCK" \
    -v q="$requests" -v h="$(hwm_kib "$3")" \
    'BEGIN { printf "%s %d %s %s %.1f %d\n", n, r, a, b, t / hz * 1e6 / q, h }'
}

# The median of FIELD (rps p50 p99 cpu hwm) of LEG's lines in FILE.
median_of() { # $1 = file, $2 = leg, $3 = field
  local col
  case $3 in rps) col=2 ;; p50) col=3 ;; p99) col=4 ;; cpu) col=5 ;; hwm) col=6 ;; esac
  awk -v l="$2" -v c="$col" '$1 == l { print $c }' "$1" | sort -g \
    | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# A markdown table of the medians of LEGS in FILE, with CPU ratios to nginx and bare Pingora
# (when those legs are in FILE).
report() { # $1 = file, rest = legs
  local file=$1; shift
  local ngx bare leg
  ngx=$(median_of "$file" nginx cpu); bare=$(median_of "$file" bare cpu)
  printf '| %-9s | %9s | %8s | %8s | %12s | %9s | %8s | %8s |\n' leg "req/s" "p50 ms" "p99 ms" \
    "CPU µs/req" "peak MiB" "÷ nginx" "÷ bare"
  echo '|---|---:|---:|---:|---:|---:|---:|---:|'
  for leg in "$@"; do
    awk -v l="$leg" -v r="$(median_of "$file" "$leg" rps)" -v a="$(median_of "$file" "$leg" p50)" \
      -v b="$(median_of "$file" "$leg" p99)" -v c="$(median_of "$file" "$leg" cpu)" \
      -v h="$(median_of "$file" "$leg" hwm)" -v n="${ngx:-0}" -v m="${bare:-0}" 'BEGIN {
        rn = (n > 0 && l != "direct") ? sprintf("%.2f", c / n) : "—"
        rb = (m > 0 && l != "direct") ? sprintf("%.2f", c / m) : "—"
        cc = (l == "direct") ? "(" c ")" : c
        printf "| %-9s | %9d | %8.2f | %8.2f | %12s | %9.1f | %8s | %8s |\n", l, r, a, b, cc, h / 1024, rn, rb }'
  done
}

# The sweep: per size, req/s and CPU µs per request of bare Pingora and sessiongate.
sweep_report() { # $1 = file with legs bare-N and sg-N
  echo '| sessions | answer bytes | bare req/s | bare CPU µs/req | sessiongate req/s | sessiongate CPU µs/req | ratio |'
  echo '|---:|---:|---:|---:|---:|---:|---:|'
  local n
  for n in 1 10 100 1000; do
    awk -v n="$n" -v bytes="$(wc -c < "$work/s$n.xml")" '
      $1 == "bare-" n { br = $2; bc = $5 } $1 == "sg-" n { sr = $2; sc = $5 }
      END { printf "| %d | %d | %d | %.1f | %d | %.1f | %.2f |\n", n, bytes, br, bc, sr, sc, sc / bc }' "$1"
  done
}

# The farm sweep: per number of farms, req/s and sessiongate's CPU µs per listing, then the
# slope from 1 to 4 farms: the gateway's work for each farm more.
farm_report() { # $1 = file with legs farms-N
  echo '| farms | req/s | CPU µs/req |'
  echo '|---:|---:|---:|'
  awk '$1 ~ /^farms-/ { sub("farms-", "", $1); printf "| %d | %d | %.1f |\n", $1, $2, $5 }' "$1"
  awk '$1 == "farms-1" { a = $5 } $1 == "farms-4" { b = $5 }
    END { printf "each farm more: %.1f µs of gateway CPU per listing\n", (b - a) / 3 }' "$1"
}
