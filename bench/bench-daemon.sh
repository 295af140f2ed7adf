#!/bin/sh
# bench-daemon.sh - how many checks the daemon answers, how fast, on this
# machine, against nginx doing the least possible work over the same
# mutual TLS.  Run by `make bench` (bench/run.sh, BUILD set).
#
# The server under test (the daemon with workers = 1 plus its audit writer,
# or nginx with one worker) is pinned to CPU 0, the load generator to
# CPU 1.  Both servers run at once and each row alternates between them,
# repeat by repeat, so that the noise of a shared machine falls on both
# alike; a figure is the median of BENCH_REPEATS short runs.
#
# It makes a throwaway PKI, generates registers of 100,000 and 1,000,000
# fictitious people with genregister (cached under $BUILD/bench-data/, as
# bench-store.sh does), imports them through the API as a registrar
# (the bulk import figure), makes check bodies from each register (some
# exact, some through an alias, some with typos, some of people not in the
# register), and prints one table.  The audit is durable, as always.
#
# Knobs (environment): BENCH_SECONDS per run (5), BENCH_REPEATS (3),
# BENCH_SIZES ("100000 1000000"), BENCH_IMPORT_REPEATS (3: imports of each
# register, each into an empty store, for the import's median),
# BENCH_NGINX=0 to skip nginx,
# BENCH_PROFILE=1 to record a perf profile of the daemon during a check
# run at 32 connections and print its top symbols, BENCH_KEEP=1 to keep the
# work folder.  It never touches anything outside its temp folder and
# $BUILD/bench-data/.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
: "${BENCH_SECONDS:=5}"
: "${BENCH_REPEATS:=3}"
: "${BENCH_SIZES:=100000 1000000}"
: "${BENCH_NGINX:=1}"
: "${BENCH_PROFILE:=0}"
: "${BENCH_KEEP:=0}"
: "${BENCH_IMPORT_REPEATS:=3}"
case $BENCH_IMPORT_REPEATS in
'' | *[!0-9]* | 0) echo "bench-daemon: BENCH_IMPORT_REPEATS must be a whole number of 1 or more" >&2; exit 2 ;;
esac
WARMUP=1              # seconds before measuring (2 with 100 connections or more:
                      # their handshakes must be over first)
NEWCONN_C=16          # connections of the new-connection rows
CHECK_CONNS="1 32 128"
CHECK_BODIES=4000     # distinct check bodies per register, cycled
IMPORT_CHUNK=100000   # records per bulk request (the API takes up to 256 MiB)

say() { printf '%s\n' "$*"; }
die() { printf 'bench-daemon: %s\n' "$*" >&2; exit 1; }

daemon_bin="$BUILD/disclosured"
loadgen="$BUILD/loadgen"
gen="$BUILD/genregister"
for p in "$daemon_bin" "$loadgen" "$gen"; do
	[ -x "$p" ] || die "$p is missing: run make BUILD=$BUILD all $BUILD/loadgen first"
done
for c in openssl curl python3 taskset awk; do
	command -v "$c" >/dev/null 2>&1 || die "$c is needed (apt-get install openssl curl python3 util-linux)"
done
NGINX=""
if [ "$BENCH_NGINX" = 1 ]; then
	for n in nginx /usr/sbin/nginx; do
		if command -v "$n" >/dev/null 2>&1; then
			NGINX=$(command -v "$n")
			break
		fi
	done
fi

if [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER="taskset -c 0"
	PIN_CLIENT="taskset -c 1"
else
	say "bench-daemon: only one CPU: the servers and the load generator share it (figures are not comparable)"
	PIN_SERVER=""
	PIN_CLIENT=""
fi

data="$BUILD/bench-data"
mkdir -p "$data"
work=$(mktemp -d "${TMPDIR:-/tmp}/disclosured-bench.XXXXXX")
results="$work/results"
mkdir -p "$results" "$work/pki"
daemon_pid=""
nginx_pid=""

stop_pid() { # stop_pid PID: SIGTERM, wait up to 30 s, then SIGKILL
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	sp_i=0
	while kill -0 "$1" 2>/dev/null && [ $sp_i -lt 300 ]; do
		sleep 0.1
		sp_i=$((sp_i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		say "bench-daemon: process $1 did not stop on SIGTERM within 30 s; killing it" >&2
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}
cleanup() {
	stop_pid "$daemon_pid"
	stop_pid "$nginx_pid"
	if [ "$BENCH_KEEP" = 1 ]; then
		say "bench-daemon: work folder kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- throwaway PKI: one CA for everything, ECDSA P-256 like a modern site ----
make_pki() {
	cd "$work/pki"
	umask 077
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=disclosured bench CA" -keyout ca.key -out ca.crt 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	for who in server bench.caseworker bench.registrar bench.monitor; do
		ext=client.ext
		[ "$who" = server ] && ext=server.ext
		cn=$who
		[ "$who" = server ] && cn=localhost
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
			-keyout "$who.key" -out "$who.csr" 2>/dev/null
		openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$ext" -out "$who.crt" 2>/dev/null
	done
	openssl genpkey -algorithm ed25519 -out audit.key 2>/dev/null
	chmod 600 ./*.key
	umask 022
	cd - >/dev/null
}

# ---- the servers ----
start_nginx() {
	nginx_port=$(free_port)
	mkdir -p "$work/nginx-tmp"
	sed -e "s|@DIR@|$work|g" -e "s|@PORT@|$nginx_port|g" bench/nginx.conf.in >"$work/nginx.conf"
	# shellcheck disable=SC2086
	$PIN_SERVER "$NGINX" -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" \
		>"$work/nginx.out" 2>&1 &
	nginx_pid=$!
	wait_https "$nginx_port" /healthz bench.monitor nginx || {
		cat "$work/nginx.out" "$work/nginx-error.log" >&2 || true
		die "nginx did not start"
	}
}

start_daemon() { # start_daemon NAME [keep]: a fresh store under $work/NAME, or the one there
	sd_dir="$work/$1"
	if [ "${2:-}" != keep ]; then
		rm -rf "$sd_dir"
		mkdir -p "$sd_dir"
	fi
	daemon_port=$(free_port)
	cat >"$sd_dir/acl.conf" <<-EOF
	[bench.caseworker]
	cn = bench.caseworker
	roles = caseworker
	force = west-mercia

	[bench.registrar]
	cn = bench.registrar
	roles = registrar
	force = *

	[bench.monitor]
	cn = bench.monitor
	roles = monitor
	force = *
	EOF
	cat >"$sd_dir/disclosured.conf" <<-EOF
	[server]
	listen = 127.0.0.1:$daemon_port
	workers = 1
	max_connections = 4096
	request_timeout = 60
	rate_limit = 0

	[tls]
	certificate = $work/pki/server.crt
	private_key = $work/pki/server.key
	client_ca = $work/pki/ca.crt

	[store]
	path = $sd_dir/store
	map_size = 17179869184

	[audit]
	signing_key = $work/pki/audit.key
	checkpoint_every = 1000
	checkpoint_seconds = 60

	[access]
	acl = $sd_dir/acl.conf
	EOF
	# shellcheck disable=SC2086
	$PIN_SERVER "$daemon_bin" -c "$sd_dir/disclosured.conf" >>"$sd_dir/daemon.log" 2>&1 &
	daemon_pid=$!
	wait_https "$daemon_port" /healthz bench.monitor disclosured || {
		tail -n 20 "$sd_dir/daemon.log" >&2 || true
		die "the daemon did not start (its log: above)"
	}
}

stop_daemon() {
	stop_pid "$daemon_pid"
	daemon_pid=""
}

wait_https() { # wait_https PORT PATH PRINCIPAL NAME: up to 30 s
	wh_i=0
	while [ $wh_i -lt 300 ]; do
		if curl -sf -o /dev/null --cacert "$work/pki/ca.crt" --cert "$work/pki/$3.crt" \
			--key "$work/pki/$3.key" "https://127.0.0.1:$1$2" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		wh_i=$((wh_i + 1))
	done
	return 1
}

api() { # api PRINCIPAL METHOD PATH [curl args...]: body to stdout
	api_who=$1 api_method=$2 api_path=$3
	shift 3
	# On the load generator's CPU, as every client here: curl's TLS over
	# a bulk import's tens of megabytes is not the daemon's work.
	# shellcheck disable=SC2086 # "taskset -c 1", or nothing
	$PIN_CLIENT curl -sS --cacert "$work/pki/ca.crt" --cert "$work/pki/$api_who.crt" --key "$work/pki/$api_who.key" \
		-X "$api_method" "$@" "https://127.0.0.1:$daemon_port$api_path"
}

# ---- the load generator ----
CLK_TCK=$(getconf CLK_TCK)

cpu_ticks() { # cpu_ticks PID: user + system CPU of the whole process, in ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# thread_ticks PID PREFIX: user + system CPU, in ticks, of the process's
# threads whose name begins with PREFIX (the daemon's are worker0...,
# writer, bulk-import, prefault and the main thread).
thread_ticks() {
	for tt_task in /proc/"$1"/task/*; do
		case $(cat "$tt_task/comm" 2>/dev/null) in
		"$2"*) awk '{ print $14 + $15 }' "$tt_task/stat" 2>/dev/null ;;
		esac
	done | awk '{ s += $1 } END { print s + 0 }'
}

# lg NAME PORT PRINCIPAL PATH [loadgen args...]: one run, its RESULT line
# appended to $results/NAME, with the server's CPU time per request
# (cpu_us=, warm-up included) added: on a machine others are using, the
# CPU a request costs is a steadier figure than requests per second.
lg() {
	lg_name=$1 lg_port=$2 lg_who=$3 lg_path=$4
	shift 4
	lg_pid=$nginx_pid
	[ "$lg_port" != "$daemon_port" ] || lg_pid=$daemon_pid
	lg_t0=$(cpu_ticks "$lg_pid")
	lg_w0=0 lg_r0=0
	if [ "$lg_pid" = "$daemon_pid" ]; then
		lg_w0=$(thread_ticks "$lg_pid" worker)
		lg_r0=$(thread_ticks "$lg_pid" writer)
	fi
	# shellcheck disable=SC2086
	lg_out=$(timeout $((BENCH_SECONDS + WARMUP + 61)) $PIN_CLIENT "$loadgen" \
		--url "https://127.0.0.1:$lg_port$lg_path" --cert "$work/pki/$lg_who.crt" \
		--key "$work/pki/$lg_who.key" --ca "$work/pki/ca.crt" \
		-d "$BENCH_SECONDS" --warmup "$WARMUP" --timeout 30 "$@" 2>&1) || true
	lg_line=$(printf '%s\n' "$lg_out" | grep '^RESULT ' | tail -n 1)
	if [ -z "$lg_line" ]; then
		printf '%s\n' "$lg_out" | tail -n 5 >&2
		lg_line="RESULT requests=0 errors=1 rps=0 p50_ms=0 p90_ms=0 p99_ms=0 max_ms=0 non2xx=0 warmup_requests=0"
	fi
	lg_t1=$(cpu_ticks "$lg_pid")
	lg_n=$(($(field requests "$lg_line") + $(field warmup_requests "$lg_line")))
	lg_cpu=$(per_request $((lg_t1 - lg_t0)) "$lg_n")
	# The daemon's CPU split: its workers' threads and its audit writer's.
	lg_split=""
	if [ "$lg_pid" = "$daemon_pid" ]; then
		lg_split=" worker_us=$(per_request $(($(thread_ticks "$lg_pid" worker) - lg_w0)) "$lg_n")"
		lg_split="$lg_split writer_us=$(per_request $(($(thread_ticks "$lg_pid" writer) - lg_r0)) "$lg_n")"
	fi
	printf '%s cpu_us=%s%s\n' "$lg_line" "$lg_cpu" "$lg_split" >>"$results/$lg_name"
	lg_err=$(field errors "$lg_line")
	lg_bad=$(field non2xx "$lg_line")
	if [ "$lg_err" != 0 ] || [ "$lg_bad" != 0 ]; then
		printf '%s\n' "$lg_out" | grep -E 'first error|errors ' | sed "s/^/  [$lg_name] /" >&2 || true
		printf '  [%s] %s errors, %s non-2xx answers\n' "$lg_name" "$lg_err" "$lg_bad" >&2
	fi
}

per_request() { # per_request TICKS N: microseconds a request ("-" if N is 0)
	awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" \
		'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }'
}

field() { # field NAME RESULT-LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

median_of() { # median_of: the median of the numbers on stdin, one a line ("-" if none)
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

median() { # median NAME FIELD: median of that field over the runs of NAME
	[ -s "$results/$1" ] || { echo "-"; return; }
	tr ' ' '\n' <"$results/$1" | sed -n "s/^$2=//p" | median_of
}

total() { # total NAME FIELD: sum over the runs
	[ -s "$results/$1" ] || { echo 0; return; }
	tr ' ' '\n' <"$results/$1" | sed -n "s/^$2=//p" | awk '{ s += $1 } END { print s + 0 }'
}

# ---- registers and check bodies ----
register() { # register N: path of the cached register of N people
	rg_reg="$data/register-$1.jsonl"
	if [ ! -s "$rg_reg" ]; then
		say "  generating a register of $1 fictitious people (cached in $data)" >&2
		"$gen" --seed 1 --count "$1" -o "$rg_reg.tmp.$$"
		mv "$rg_reg.tmp.$$" "$rg_reg"
	fi
	printf '%s\n' "$rg_reg"
}

# Check bodies from a register: a fifth exact (primary name, dob,
# postcode), a fifth through an alias or with the given name as an
# initial, a fifth with a typo in a name and the day and month of birth
# swapped, a fifth with a typo and only an age, a fifth of made-up people
# who are not in the register.  Deterministic, cached beside the register.
check_bodies() { # check_bodies N
	cb_reg=$(register "$1")
	cb_out="$data/checks-$1.ndjson"
	if [ ! -s "$cb_out" ]; then
		python3 - "$cb_reg" "$cb_out.tmp.$$" "$CHECK_BODIES" <<-'EOF'
		import json, random, sys
		reg, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
		rng = random.Random(20261128)
		k = n - n // 5
		sample = []
		with open(reg, encoding="utf-8") as f:
		    for i, line in enumerate(f):
		        if len(sample) < k:
		            sample.append(line)
		        else:
		            j = rng.randrange(i + 1)
		            if j < k:
		                sample[j] = line
		purposes = ["csods_right_to_ask", "csods_right_to_be_told", "dvds_right_to_ask",
		            "dvds_right_to_know", "mappa_review"]
		why = ["Applicant's new partner has unsupervised contact with her children",
		       "Grandparent asks about a lodger who babysits",
		       "Proactive check requested by the school safeguarding lead",
		       "New partner met online; applicant asks about previous convictions",
		       "Referral from children's services during an assessment"]
		syl = ["var", "nol", "bre", "tam", "quin", "dor", "ell", "zan", "fir", "oth",
		       "mel", "kov", "ras", "tue", "wyn", "gal"]
		def made_up(parts):
		    return "".join(rng.choice(syl) for _ in range(parts)).capitalize()
		def typo(s):
		    if not s or len(s) < 4:
		        return s
		    i = rng.randrange(1, len(s) - 2)
		    op = rng.randrange(3)
		    if op == 0:
		        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
		    if op == 1:
		        return s[:i] + s[i + 1:]
		    return s[:i] + rng.choice("aeiourstnl") + s[i + 1:]
		def swap_dm(d):
		    y, m, dd = d.split("-")
		    return "%s-%s-%s" % (y, dd, m) if int(dd) <= 12 else d
		def age(d):
		    y, m, dd = (int(x) for x in d.split("-"))
		    return 2026 - y - (1 if (m, dd) > (11, 28) else 0)
		def name_of(nm, initial=False):
		    o = {"family": nm["family"]}
		    if nm.get("given"):
		        o["given"] = nm["given"][0] if initial else nm["given"]
		    return o
		bodies = []
		for i, line in enumerate(sample):
		    r = json.loads(line)
		    prim = next(x for x in r["names"] if x.get("kind") == "primary")
		    aliases = [x for x in r["names"] if x is not prim]
		    subj = {}
		    kind = i % 4
		    if kind == 0:
		        subj["names"] = [name_of(prim)]
		        if r.get("dob"):
		            subj["dob"] = r["dob"]
		        if r.get("addresses"):
		            subj["postcode"] = r["addresses"][-1]["postcode"]
		        if r.get("sex"):
		            subj["sex"] = r["sex"]
		    elif kind == 1:
		        if aliases:
		            subj["names"] = [name_of(rng.choice(aliases))]
		        else:
		            subj["names"] = [name_of(prim, initial=True)]
		        if r.get("dob"):
		            subj["dob"] = r["dob"]
		    elif kind == 2:
		        nm = name_of(prim)
		        nm["family"] = typo(nm["family"])
		        subj["names"] = [nm]
		        if r.get("dob"):
		            subj["dob"] = swap_dm(r["dob"])
		    else:
		        nm = name_of(prim)
		        if "given" in nm:
		            nm["given"] = typo(nm["given"])
		        subj["names"] = [nm]
		        if r.get("dob"):
		            subj["age"] = age(r["dob"])
		    bodies.append(subj)
		while len(bodies) < n:
		    subj = {"names": [{"given": made_up(2), "family": made_up(3)}],
		            "dob": "%04d-%02d-%02d" % (rng.randrange(1950, 2005), rng.randrange(1, 13),
		                                       rng.randrange(1, 29)),
		            "sex": rng.choice("MF")}
		    bodies.append(subj)
		rng.shuffle(bodies)
		with open(out, "w", encoding="utf-8") as f:
		    for i, subj in enumerate(bodies):
		        f.write(json.dumps({"case_ref": "BENCH-2026-%05d" % i,
		                            "purpose": purposes[i % len(purposes)],
		                            "justification": why[i % len(why)],
		                            "subject": subj}, ensure_ascii=False,
		                           separators=(",", ":")) + "\n")
		EOF
		mv "$cb_out.tmp.$$" "$cb_out"
	fi
	printf '%s\n' "$cb_out"
}

# Imports a register through POST /v1/offenders/_bulk in chunks; prints
# "RECORDS SECONDS CREATED REJECTED CPU_US_PER_RECORD".
bulk_import() { # bulk_import N
	bi_reg=$(register "$1")
	bi_chunks="$data/chunks-$1"
	if [ ! -s "$bi_chunks/done" ]; then
		rm -rf "$bi_chunks"
		mkdir -p "$bi_chunks"
		split -l "$IMPORT_CHUNK" -d -a 4 "$bi_reg" "$bi_chunks/part-"
		date >"$bi_chunks/done"
	fi
	bi_cpu0=$(cpu_ticks "$daemon_pid")
	bi_t0=$(date +%s.%N)
	bi_created=0
	bi_rejected=0
	for bi_part in "$bi_chunks"/part-*; do
		bi_resp=$(api bench.registrar POST /v1/offenders/_bulk -H 'Content-Type: application/x-ndjson' \
			--data-binary "@$bi_part" -w '\n%{http_code}' --max-time 600) ||
			die "bulk import of $bi_part failed: $bi_resp"
		bi_code=$(printf '%s\n' "$bi_resp" | tail -n 1)
		bi_body=$(printf '%s\n' "$bi_resp" | sed '$d')
		[ "$bi_code" = 200 ] || die "bulk import of $bi_part: HTTP $bi_code: $(printf '%s' "$bi_body" | head -c 300)"
		bi_c=$(printf '%s' "$bi_body" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("created",0)+d.get("replaced",0), d.get("rejected_count", len(d.get("rejected",[]))))')
		bi_created=$((bi_created + ${bi_c% *}))
		bi_rejected=$((bi_rejected + ${bi_c#* }))
	done
	bi_t1=$(date +%s.%N)
	bi_cpu1=$(cpu_ticks "$daemon_pid")
	printf '%s %s %s %s %s\n' "$1" "$(awk -v a="$bi_t0" -v b="$bi_t1" 'BEGIN { printf "%.2f", b - a }')" \
		"$bi_created" "$bi_rejected" \
		"$(awk -v t="$((bi_cpu1 - bi_cpu0))" -v hz="$CLK_TCK" -v n="$bi_created" \
			'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')"
}

# ---- the daemon's own figures ----
batch_buckets() { # "LE COUNT" lines of the commit batch histogram, in order
	api bench.monitor GET /metrics 2>/dev/null |
		sed -n 's/^disclosured_commit_batch_size_bucket{le="\([^"]*\)"} \([0-9.]*\)$/\1 \2/p'
}

metric() { # metric NAME: the value of a metric line without labels (or "")
	api bench.monitor GET /metrics 2>/dev/null | awk -v n="$1" '$1 == n { print $2; exit }'
}

metric_sum() { # metric_sum NAME: the sum of NAME's lines, with labels or without (0 if none)
	api bench.monitor GET /metrics 2>/dev/null |
		awk -v n="$1" '{ k = $1; sub(/[{].*/, "", k) } k == n { s += $2 } END { print s + 0 }'
}

# "CHECKS WEIGHED VIEWS CANDIDATES": the matcher's work so far, summed over
# every check the daemon ran.
check_work() {
	printf '%s %s %s %s\n' "$(metric_sum disclosured_checks_total)" \
		"$(metric_sum disclosured_check_records_weighed_total)" \
		"$(metric_sum disclosured_check_views_read_total)" \
		"$(metric_sum disclosured_check_candidates_total)"
}

memory() { # memory PID: "RSS_ANON_KIB PRIVATE_KIB RSS_KIB"
	mem_anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$1/status")
	mem_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
	mem_priv=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0)
	printf '%s %s %s\n' "$mem_anon" "$mem_priv" "$mem_rss"
}

# Runs a check row, checks-SIZE-C, alternating with the same requests to
# nginx (nginx-post-C) when WITH_NGINX is 1, and notes the mean commit
# batch of the daemon's runs.
check_row() { # check_row SIZE CONNS BODIES WITH_NGINX
	cr_w0=$(check_work)
	cr_s0=$(metric disclosured_commit_batch_size_sum)
	cr_n0=$(metric disclosured_commit_batch_size_count)
	batch_buckets >"$results/buckets0"
	cr_w=$WARMUP
	[ "$2" -lt 100 ] || cr_w=$((WARMUP + 1))
	cr_r=1
	while [ $cr_r -le "$BENCH_REPEATS" ]; do
		lg "checks-$1-$2" "$daemon_port" bench.caseworker /v1/checks -c "$2" --body-file "$3" \
			--warmup "$cr_w"
		if [ -n "$NGINX" ] && [ "$4" = 1 ]; then
			lg "nginx-post-$2" "$nginx_port" bench.caseworker /v1/checks -c "$2" \
				--body-file "$3" --warmup "$cr_w"
		fi
		cr_r=$((cr_r + 1))
	done
	cr_w1=$(check_work)
	# Per check, the records the matcher weighed, the views it read and
	# the candidates answered: what makes a check dearer on a larger register.
	printf '%s %s\n' "$cr_w0" "$cr_w1" | awk '{ n = $5 - $1
		if (n > 0) printf "%.0f / %.1f / %.2f\n", ($6 - $2) / n, ($7 - $3) / n, ($8 - $4) / n
		else print "-" }' >"$results/work-$1-$2"
	cr_s1=$(metric disclosured_commit_batch_size_sum)
	cr_n1=$(metric disclosured_commit_batch_size_count)
	batch_buckets >"$results/buckets1"
	# The largest batch: the smallest bucket bound that holds every
	# commit made during the runs.
	awk 'NR == FNR { before[$1] = $2; next }
		{ d = $2 - before[$1]; le[++n] = $1; dv[n] = d; if ($1 == "+Inf") total = d }
		END { if (total <= 0) { print "-"; exit }
			for (i = 1; i <= n; i++) if (dv[i] >= total) { print le[i]; exit } }' \
		"$results/buckets0" "$results/buckets1" >"$results/batchmax-$1-$2"
	if [ -n "$cr_s0" ] && [ -n "$cr_s1" ] && [ -n "$cr_n0" ] && [ -n "$cr_n1" ]; then
		awk -v a="$cr_s0" -v b="$cr_s1" -v c="$cr_n0" -v d="$cr_n1" \
			'BEGIN { if (d > c) printf "%.1f\n", (b - a) / (d - c); else print "-" }' \
			>"$results/batch-$1-$2"
	fi
}

both_rows() { # both_rows NAME PATH [loadgen args...]: daemon-NAME and nginx-NAME
	br_name=$1 br_path=$2
	shift 2
	br_r=1
	while [ $br_r -le "$BENCH_REPEATS" ]; do
		lg "daemon-$br_name" "$daemon_port" bench.monitor "$br_path" "$@"
		[ -z "$NGINX" ] || lg "nginx-$br_name" "$nginx_port" bench.monitor "$br_path" "$@"
		br_r=$((br_r + 1))
	done
}

profile_daemon() { # profile_daemon SIZE BODIES: perf profile of a 32-connection check run
	if ! command -v perf >/dev/null 2>&1; then
		say "  (BENCH_PROFILE=1: perf is not installed)"
		return
	fi
	# cpu-clock: virtual machines often expose no hardware counters.  The
	# libraries have no frame pointers, so call graphs are unwound from
	# DWARF (copies of the stack: a lower rate keeps the file small).
	perf record -e cpu-clock -F 499 --call-graph dwarf,8192 -p "$daemon_pid" \
		-o "$work/perf.data" -- sleep "$BENCH_SECONDS" >/dev/null 2>&1 &
	perf_pid=$!
	lg "profile-$1" "$daemon_port" bench.caseworker /v1/checks -c 32 --body-file "$2"
	wait "$perf_pid" || true
	say ""
	say "perf profile of the daemon, checks at 32 connections, $1 records (self time), by object:"
	perf report -i "$work/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -n 8
	say "  ... and the top 25 symbols:"
	perf report -i "$work/perf.data" --no-children -g none --sort dso,sym --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -n 25
	say "  ... and by stage of a check (inclusive: the function and all it calls):"
	perf report -i "$work/perf.data" --children -g none --sort sym --stdio 2>/dev/null |
		awk '$3 == "[.]" && !seen[$4]++ && $4 ~ /^(worker_main|writer_main|router_dispatch|checks_create|match_run|check_request_parse|check_build|job_respond|worker_done_cb|writer_batch|append_entry|store_write_commit|SSL_read|SSL_write)$/ {
			printf "    %8s  %s\n", $1, $4 }'
}

# ---- the run ----
say "disclosured benchmark: $(nproc) CPUs, server on CPU 0, load generator on CPU 1;"
say "  $BENCH_REPEATS runs of ${BENCH_SECONDS} s (after ${WARMUP} s warm-up, 128 connections $((WARMUP + 1)) s) per figure, medians;"
say "  load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
make_pki
if [ -n "$NGINX" ]; then
	start_nginx
	say "  nginx: $($NGINX -v 2>&1 | sed 's/.*version: //'), one worker, TLS 1.3, same certificates"
else
	say "  nginx: not installed or BENCH_NGINX=0: no ratios"
fi

first_size=""
for size in $BENCH_SIZES; do
	[ -n "$first_size" ] || first_size=$size
	bodies=$(check_bodies "$size")
	# The import's rate follows the machine more than any other figure
	# here (on a shared machine the same build has run 18,000 and 30,000
	# records/s minutes apart), so it is imported BENCH_IMPORT_REPEATS
	# times, each into a store of its own, and the figure is the median;
	# the last import's store is the one the checks then run on.
	ir=1
	while [ "$ir" -lt "$BENCH_IMPORT_REPEATS" ]; do
		say "  importing $size records through POST /v1/offenders/_bulk (run $ir of $BENCH_IMPORT_REPEATS) ..."
		start_daemon "import-$size"
		bulk_import "$size" >>"$results/import-runs-$size"
		stop_daemon
		rm -rf "$work/import-$size"
		ir=$((ir + 1))
	done
	start_daemon "store-$size"
	say "  importing $size records through POST /v1/offenders/_bulk (run $ir of $BENCH_IMPORT_REPEATS) ..."
	imp=$(bulk_import "$size")
	printf '%s\n' "$imp" >>"$results/import-runs-$size"
	printf '%s\n' "$imp" >"$results/import-$size"
	# shellcheck disable=SC2086 # split into its fields on purpose
	set -- $imp
	say "    $3 imported, $4 rejected in $2 s"
	records=$(metric disclosured_records)
	[ -z "$records" ] || say "    the daemon reports $records records"
	# The import's buffers stay in the daemon's heap (glibc keeps freed
	# memory); what it needs to serve is measured after a restart, which
	# also shows how long opening a store of this size takes.
	memory "$daemon_pid" >"$results/memory-import-$size"
	stop_daemon
	t_restart0=$(date +%s.%N)
	start_daemon "store-$size" keep
	t_restart1=$(date +%s.%N)
	awk -v a="$t_restart0" -v b="$t_restart1" 'BEGIN { printf "%.2f\n", b - a }' >"$results/restart-$size"
	say "    restarted on the same store in $(cat "$results/restart-$size") s (to /healthz answering)"

	with_nginx=0
	[ "$size" != "$first_size" ] || with_nginx=1
	for c in $CHECK_CONNS; do
		check_row "$size" "$c" "$bodies" "$with_nginx"
	done
	if [ "$size" = "$first_size" ]; then
		both_rows healthz /healthz -c 32
		both_rows newconn /healthz -c "$NEWCONN_C" --new-conn
		both_rows newconn-resumed /healthz -c "$NEWCONN_C" --new-conn --resume
	fi
	memory "$daemon_pid" >"$results/memory-$size"
	du -sk "$work/store-$size/store" | cut -f1 >"$results/disk-$size"
	audit_seq=$(metric disclosured_audit_seq)
	printf '%s\n' "${audit_seq:--}" >"$results/audit-$size"
	if [ "$BENCH_PROFILE" = 1 ]; then
		profile_daemon "$size" "$bodies"
	fi
	stop_daemon
	# BENCH_KEEP=1 keeps the imported store too, to run the daemon on it again.
	[ "$BENCH_KEEP" = 1 ] || rm -rf "$work/store-$size"
done

# ---- the table ----
ratio() { # ratio A B
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
verdict() { # verdict VALUE OP LIMIT: ok / MISSED / -
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "-" || v == "") { print "-"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
		print ok ? "ok" : "MISSED" }'
}
row() { # row LABEL VALUE NGINX RATIO TARGET VERDICT
	printf '%-56s %16s %16s %6s  %-15s %s\n' "$@"
}
# cpu_row DAEMON-NAME NGINX-NAME TARGET: the server CPU per request of both,
# and nginx's over the daemon's: the throughput ratio were both CPU-bound.
cpu_row() {
	cw_d=$(median "$1" cpu_us)
	cw_n=$(median "$2" cpu_us)
	cw_r=$(ratio "$cw_n" "$cw_d")
	if [ -n "$3" ]; then
		row "  server CPU per request, us (ratio: nginx/daemon)" "$cw_d" "$cw_n" "$cw_r" "(>= ${3}x)" "$(verdict "$cw_r" ">=" "$3")"
	else
		row "  server CPU per request, us (ratio: nginx/daemon)" "$cw_d" "$cw_n" "$cw_r" "" ""
	fi
}
errs() { # errs NAME: " (N errors)" if any run had errors or non-2xx
	er_e=$(total "$1" errors)
	er_b=$(total "$1" non2xx)
	if [ "$er_e" != 0 ] || [ "$er_b" != 0 ]; then printf ' [%s err, %s non2xx]' "$er_e" "$er_b"; fi
}

say ""
row "figure" "disclosured" "nginx" "ratio" "target" ""
row "------" "-----------" "-----" "-----" "------" ""
h=$(median daemon-healthz rps)
hn=$(median nginx-healthz rps)
hr=$(ratio "$h" "$hn")
row "GET /healthz, 32 conns, req/s$(errs daemon-healthz)" "$h" "$hn" "$hr" ">= 0.45x nginx" "$(verdict "$hr" ">=" 0.45)"
cpu_row daemon-healthz nginx-healthz 0.45
v=$(median daemon-newconn rps)
vn=$(median nginx-newconn rps)
vr=$(ratio "$v" "$vn")
row "new TLS connection per request, req/s$(errs daemon-newconn)" "$v" "$vn" "$vr" ">= 0.7x nginx" "$(verdict "$vr" ">=" 0.7)"
cpu_row daemon-newconn nginx-newconn 0.7
v=$(median daemon-newconn-resumed rps)
vn=$(median nginx-newconn-resumed rps)
row "  ... with TLS session resumption, req/s" "$v" "$vn" "$(ratio "$v" "$vn")" "" ""
cpu_row daemon-newconn-resumed nginx-newconn-resumed ""
for size in $BENCH_SIZES; do
	for c in $CHECK_CONNS; do
		n="checks-$size-$c"
		v=$(median "$n" rps)
		vn=$(median "nginx-post-$c" rps)
		vr=$(ratio "$v" "$vn")
		tgt="" ok=""
		if [ "$c" = 32 ]; then
			tgt=">= 0.15x nginx"
			ok=$(verdict "$vr" ">=" 0.15)
		fi
		row "checks/s, $size records, $c conns$(errs "$n")" "$v" "$vn" "$vr" "$tgt" "$ok"
		if [ "$c" = 32 ]; then cpu_row "$n" "nginx-post-$c" 0.15; else cpu_row "$n" "nginx-post-$c" ""; fi
		row "  of which the worker / the audit writer, us" "$(median "$n" worker_us) / $(median "$n" writer_us)" "" "" "" ""
		p50=$(median "$n" p50_ms)
		p99=$(median "$n" p99_ms)
		n50=$(median "nginx-post-$c" p50_ms)
		n99=$(median "nginx-post-$c" p99_ms)
		tgt="" ok=""
		if [ "$c" = 32 ]; then
			tgt="p99 <= 10 ms"
			ok=$(verdict "$p99" "<=" 10)
		fi
		row "  p50 / p99 latency, ms" "$p50 / $p99" "$n50 / $n99" "" "$tgt" "$ok"
		b="-"
		[ ! -s "$results/batch-$size-$c" ] || b=$(cat "$results/batch-$size-$c")
		bm="-"
		[ ! -s "$results/batchmax-$size-$c" ] || bm=$(cat "$results/batchmax-$size-$c")
		row "  audit commit batch, checks: mean / largest (<=)" "$b / $bm" "" "" "" ""
		wk="-"
		[ ! -s "$results/work-$size-$c" ] || wk=$(cat "$results/work-$size-$c")
		row "  per check: records weighed / views read / candidates" "$wk" "" "" "" ""
	done
done
# shellcheck disable=SC2086 # a list of sizes
set -- $BENCH_SIZES
if [ $# -ge 2 ]; then
	small=$1
	for large in $BENCH_SIZES; do :; done
	for c in $CHECK_CONNS; do
		a=$(median "checks-$large-$c" p50_ms)
		b=$(median "checks-$small-$c" p50_ms)
		r=$(ratio "$a" "$b")
		row "p50 latency $large vs $small records, $c conns" "${r}x" "" "" "<= 1.5x" "$(verdict "$r" "<=" 1.5)"
	done
fi
for size in $BENCH_SIZES; do
	# Each line of import-runs-N: RECORDS SECONDS CREATED REJECTED CPU_US.
	rate=$(awk '$2 > 0 { printf "%.0f\n", $3 / $2 }' "$results/import-runs-$size" | median_of |
		awk '{ if ($1 == "-") print; else printf "%.0f\n", $1 }')
	spread=$(awk '$2 > 0 { r = $3 / $2; if (n++ == 0 || r < lo) lo = r; if (r > hi) hi = r }
		END { if (n > 1) printf "%.0f-%.0f over %d runs", lo, hi, n }' "$results/import-runs-$size")
	cpu=$(awk '$5 != "-" { print $5 }' "$results/import-runs-$size" | median_of)
	row "bulk import through the API, $size records/s" "$rate" "" "" ">= 30000" "$(verdict "$rate" ">=" 30000)"
	[ -z "$spread" ] || row "  the runs' range, records/s" "$spread" "" "" "" ""
	row "  server CPU per record, us (records/s if alone)" "$cpu ($(awk -v c="$cpu" 'BEGIN { if (c + 0 > 0) printf "%.0f", 1e6 / c; else print "-" }'))" "" "" "" ""
done
for size in $BENCH_SIZES; do
	# shellcheck disable=SC2046 # split into its fields on purpose
	set -- $(cat "$results/memory-$size")
	anon=$(awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }')
	priv=$(awk -v k="$2" 'BEGIN { printf "%.1f", k / 1024 }')
	disk=$(awk -v k="$(cat "$results/disk-$size")" 'BEGIN { printf "%.0f", k / 1024 }')
	tgt="" ok=""
	if [ "$size" = 1000000 ]; then
		tgt="<= 64 MiB"
		ok=$(verdict "$anon" "<=" 64)
	fi
	row "daemon private (anonymous) memory, $size, MiB" "$anon" "" "" "$tgt" "$ok"
	row "  private incl. mapped store pages / store on disk, MiB" "$priv / $disk" "" "" "" ""
	# shellcheck disable=SC2046 # split into its fields on purpose
	set -- $(cat "$results/memory-import-$size")
	row "  anonymous memory right after the bulk import, MiB" "$(awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }')" "" "" "" ""
done
say ""
say "checks: POST /v1/checks with $CHECK_BODIES distinct bodies per register (exact, alias or initial, typo +"
say "  day/month swap, typo + age only, not in the register); nginx rows: the same requests answered by"
say "  'return 200' (it reads and discards the body).  New connections: $NEWCONN_C at a time, full"
say "  ECDHE + ECDSA P-256 handshake with a client certificate unless resumed.  Latency: first byte"
say "  sent to last byte received, closed loop; memory: RssAnon (heap, stacks) of the daemon restarted"
say "  after the import, after the runs; the store is an LMDB map whose pages are the kernel's page"
say "  cache.  Server CPU per request:"
say "  user+system time of the server process over a run (warm-up included) per request answered;"
say "  its ratio is what the throughput ratio would be if both servers had CPU 0 to themselves."
say "  For checks, the same split between the daemon's worker thread and its audit writer."
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
