#!/usr/bin/env bash
# demo.sh - the tour `make demo` gives: a throwaway PKI, a daemon on
# loopback, 10,000 fictitious people imported through the client, three
# checks (a match, a possible match found through an alias or nickname, no
# match), a decision, and the audit log exported and verified; then the
# daemon is stopped and a ready-made configuration is left in ./demo/ with a
# README saying how to start it again.
#
# Every person in the register is generated (build/genregister): no real
# person's name is ever used.  The demo folder is throwaway: it is wiped at
# the start of every run.  The script only ever signals the daemon it
# started itself, by its pid.
#
# Environment: BUILD (default build), DEMO_PORT (default 8443, or the next
# free port), DEMO_COUNT (default 10000), DEMO_SEED (default 20261128).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BUILD_REL=${BUILD#"$ROOT"/} # how the README names the programs
DEMO="$ROOT/demo"
DAEMON="$BUILD/disclosured"
CTL="$BUILD/disclosurectl"
GEN="$BUILD/genregister"
COUNT=${DEMO_COUNT:-10000}
SEED=${DEMO_SEED:-20261128}
FORCE=west-mercia

# The principals of the demo, one for each role: id:roles:force.
PRINCIPALS=(
	"alice.jones:caseworker:$FORCE"
	"dana.officer:caseworker,disclosure_officer:$FORCE"
	"rita.registrar:registrar:*"
	"aldo.auditor:auditor:*"
	"mo.monitor:monitor:*"
)

if [ -t 1 ]; then
	B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' D='' G='' R='' N=''
fi
nstep=0
step() { nstep=$((nstep + 1)); printf '\n%s==> %d. %s%s\n' "$B" "$nstep" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }
show_cmd() { printf '    %s$ %s%s\n' "$D" "$*" "$N"; }
die() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

daemon_pid=""
stop_daemon() { # stop_daemon: SIGTERM to our daemon, wait, return its exit status
	local pid=$daemon_pid rc=0
	[ -n "$pid" ] || return 0
	daemon_pid=""
	kill -TERM "$pid" 2>/dev/null || return 0
	wait "$pid" || rc=$?
	return $rc
}
on_exit() {
	local rc=$?
	if [ -n "$daemon_pid" ]; then
		stop_daemon || true
		if [ $rc -ne 0 ] && [ -f "$DEMO/disclosured.log" ]; then
			echo "demo: the daemon's last log lines ($DEMO/disclosured.log):" >&2
			tail -n 20 "$DEMO/disclosured.log" >&2
		fi
	fi
	[ $rc -eq 0 ] || echo "demo: FAILED at step $nstep (exit $rc)" >&2
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# quote ARGS...: the arguments as a person would type them.
quote() {
	local a out=""
	for a in "$@"; do
		case "$a" in
		"" | *[!A-Za-z0-9_./:=@,+-]*) a="\"${a//\"/\\\"}\"" ;;
		esac
		out="$out $a"
	done
	printf '%s' "${out# }"
}

# ctl PRINCIPAL ARGS...: the client with the principal's settings, the
# command shown first (the callers indent the whole).  Paths given to it
# are relative to the project folder, the current folder of this script.
ctl() {
	local who=$1
	shift
	printf '%s$ disclosurectl %s   # as %s%s\n' "$D" "$(quote "$@")" "$who" "$N"
	(
		# shellcheck disable=SC1090
		. "$DEMO/ctl/$who.env"
		"$CTL" "$@"
	)
}
# run RC PRINCIPAL ARGS...: ctl, its output indented; dies unless it exits RC.
run() {
	local want=$1 rc=0 out
	shift
	out=$(ctl "$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	[ "$rc" -eq "$want" ] || die "disclosurectl $2 exited $rc, expected $want"
}

# ctl_quiet PRINCIPAL ARGS...: the same, not shown (for reading JSON).
ctl_quiet() {
	local who=$1
	shift
	(
		# shellcheck disable=SC1090
		. "$DEMO/ctl/$who.env"
		"$CTL" "$@"
	)
}

for p in "$DAEMON" "$CTL" "$GEN"; do
	[ -x "$p" ] || die "$p is missing: run 'make demo' (it builds first)"
done
command -v python3 >/dev/null || die "python3 is missing (apt-get install python3)"
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${DEMO_PORT:-}
if [ -z "$PORT" ]; then
	PORT=8443
	while port_in_use "$PORT"; do
		PORT=$((PORT + 1))
		[ "$PORT" -lt 8543 ] || die "no free port in 8443-8542 on 127.0.0.1 (set DEMO_PORT)"
	done
elif port_in_use "$PORT"; then
	die "port $PORT on 127.0.0.1 is in use (set DEMO_PORT to a free one)"
fi

printf '%sdisclosured demo%s: a throwaway deployment in %s\n' "$B" "$N" "$DEMO"
say "Every person in it is fictitious and generated."

# ---------------------------------------------------------------------------
step "Certificates: a throwaway CA, the server's certificate, one client per role, the audit key"
if [ -e "$DEMO" ]; then
	# A daemon started from demo/README may still hold the old store (LMDB
	# maps its data file): wiping it under that daemon would confuse the
	# person who started it, so say so instead.
	for maps in /proc/[0-9]*/maps; do
		if grep -qsF "$DEMO/data/data.mdb" "$maps"; then
			pid=${maps#/proc/}
			pid=${pid%/maps}
			die "a daemon (pid $pid) still serves $DEMO/data: stop it first (kill $pid)"
		fi
	done
	rm -rf "$DEMO"
fi
mkdir -p "$DEMO" "$DEMO/ctl" "$DEMO/state"
chmod 700 "$DEMO"
show_cmd "scripts/mkpki.sh init demo/pki"
scripts/mkpki.sh init "$DEMO/pki" | sed 's/^/    /'
for entry in "${PRINCIPALS[@]}"; do
	id=${entry%%:*}
	scripts/mkpki.sh client "$DEMO/pki" "$id" | sed 's/^/    /'
done

# ---------------------------------------------------------------------------
step "Configuration: demo/disclosured.conf, demo/acl.conf and a client profile per principal"
cat >"$DEMO/disclosured.conf" <<EOF
; disclosured.conf of the demo (see disclosured.conf(5)).  Paths are
; relative to this file's folder.
[server]
listen = 127.0.0.1:$PORT
workers = 2
max_connections = 256
request_timeout = 10
max_body = 1048576
max_bulk_body = 268435456
rate_limit = 0

[tls]
certificate = pki/server.crt
private_key = pki/server.key
client_ca   = pki/ca.crt
crl         = pki/clients.crl

[store]
path = data
map_size = 1073741824
; zeros kept written past the data (faster commits): a demo needs few
preallocate = 16777216

[audit]
signing_key = pki/audit-ed25519.pem
checkpoint_every = 1000
checkpoint_seconds = 60

[access]
acl = acl.conf
EOF
{
	echo "; acl.conf of the demo: one section per principal (see disclosured.conf(5))."
	for entry in "${PRINCIPALS[@]}"; do
		IFS=: read -r id roles force <<<"$entry"
		printf '\n[%s]\ncn = %s\nroles = %s\nforce = %s\n' "$id" "$id" "${roles//,/, }" "$force"
	done
} >"$DEMO/acl.conf"
for entry in "${PRINCIPALS[@]}"; do
	IFS=: read -r id roles force <<<"$entry"
	mkdir -p "$DEMO/state/$id"
	cat >"$DEMO/ctl/$id.env" <<EOF
# disclosurectl settings for $id ($roles, force $force).
# Use:  . demo/ctl/$id.env && $BUILD_REL/disclosurectl health
export DISCLOSURE_SERVER=https://127.0.0.1:$PORT
export DISCLOSURE_CERT=$DEMO/pki/clients/$id.crt
export DISCLOSURE_KEY=$DEMO/pki/clients/$id.key
export DISCLOSURE_CA=$DEMO/pki/ca.crt
# this principal's request log: $DEMO/state/$id/disclosurectl/requests.log
export XDG_STATE_HOME=$DEMO/state/$id
EOF
done
say "principals (demo/acl.conf):"
for entry in "${PRINCIPALS[@]}"; do
	IFS=: read -r id roles force <<<"$entry"
	printf '      %-16s %-32s force %s\n' "$id" "$roles" "$force"
done
show_cmd "disclosured -c demo/disclosured.conf --check-config"
"$DAEMON" -c "$DEMO/disclosured.conf" --check-config 2>&1 | sed 's/^/    /' ||
	die "the demo's configuration does not pass --check-config"

# ---------------------------------------------------------------------------
step "Register: $COUNT fictitious people (build/genregister, seed $SEED)"
show_cmd "genregister --seed $SEED --count $COUNT -o demo/register.jsonl"
"$GEN" --seed "$SEED" --count "$COUNT" -o "$DEMO/register.jsonl" 2>&1 | sed 's/^/    /'
[ -s "$DEMO/register.jsonl" ] || die "genregister wrote no records"
say "$(wc -l <"$DEMO/register.jsonl") records; the first one:"
python3 - "$DEMO/register.jsonl" <<'PY'
import json, sys, textwrap
with open(sys.argv[1], encoding="utf-8") as f:
    line = json.dumps(json.loads(f.readline()), ensure_ascii=False)
for part in textwrap.wrap(line, 72)[:12]:
    print("      " + part)
PY

# ---------------------------------------------------------------------------
step "Daemon: start disclosured on 127.0.0.1:$PORT"
show_cmd "disclosured -c demo/disclosured.conf 2> demo/disclosured.log &"
"$DAEMON" -c "$DEMO/disclosured.conf" 2>"$DEMO/disclosured.log" &
daemon_pid=$!
echo "$daemon_pid" >"$DEMO/disclosured.pid"
up=""
for _ in $(seq 1 100); do
	kill -0 "$daemon_pid" 2>/dev/null || { daemon_pid=""; tail -n 20 "$DEMO/disclosured.log" >&2; die "the daemon exited at start"; }
	if ctl_quiet mo.monitor health >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || die "the daemon did not answer /healthz within 10 seconds"
say "${G}serving${N} (pid $daemon_pid, log demo/disclosured.log)"
run 0 mo.monitor health

# ---------------------------------------------------------------------------
step "Import: the registrar loads the register through the client"
t0=$(date +%s.%N)
run 0 rita.registrar import demo/register.jsonl
t1=$(date +%s.%N)
say "$(python3 -c "print(f'{$COUNT / max($t1 - $t0, 1e-6):,.0f} records/s through the API, TLS and audit included')")"
run 0 mo.monitor health

# ---------------------------------------------------------------------------
# The queries are read from the generated register, so that they show what
# they claim: the same person exactly; the same person under a nickname of
# an alias; and a person the register does not hold.
step "Choosing the demo's subjects from the register"
python3 - "$DEMO/register.jsonl" "$FORCE" data/nicknames.tsv >"$DEMO/queries.env" <<'PY'
import json, shlex, sys, unicodedata

path, force, nickfile = sys.argv[1], sys.argv[2], sys.argv[3]


def folded(name):
    """Lower case, without diacritics: names the matcher treats as one."""
    d = unicodedata.normalize("NFKD", name or "")
    return "".join(c for c in d if not unicodedata.combining(c)).lower()


# The matcher's own nickname table: "name<TAB>related related ...".
NICK = {}
for line in open(nickfile, encoding="utf-8"):
    if line.startswith("#") or "\t" not in line:
        continue
    name, related = line.rstrip("\n").split("\t", 1)
    if related.split():
        NICK.setdefault(name.strip(), related.split()[0].capitalize())
families, exact, alias, alias_diminutive = set(), None, None, False
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    for n in r["names"]:
        families.add(n["family"].lower())
    if r.get("managing_force") != force or r.get("status") != "active":
        continue
    prim = next(n for n in r["names"] if n.get("kind") == "primary")
    ascii_name = all(c.isascii() for c in prim.get("given", "") + prim["family"])
    if exact is None and r.get("dob") and prim.get("given") and ascii_name:
        exact = (r, prim)
    if r.get("dob"):
        # an alias under another family name, whose given name has a
        # nickname that is not the primary given name either; a short
        # diminutive (Jim for James) rather than a spelling variant
        for n in r["names"]:
            g = folded(n.get("given"))
            if n.get("kind") != "primary" and g in NICK and n["family"].isascii() \
                    and folded(prim["family"]) != folded(n["family"]) \
                    and folded(NICK[g]) != folded(prim.get("given")):
                diminutive = len(NICK[g]) <= len(g) - 2
                if alias is None or (diminutive and not alias_diminutive):
                    alias, alias_diminutive = (r, n), diminutive
                break
if not exact or not alias:
    sys.exit("demo: the register has no suitable record for the demo's queries")
nobody = "Quillfeather-Zanzibarre"
if nobody.lower() in families:
    sys.exit("demo: the register holds the no-match query's family name " + nobody)

def emit(k, v):
    print(f"{k}={shlex.quote(str(v))}")

r, n = exact
emit("M_ID", r["id"]); emit("M_GIVEN", n["given"]); emit("M_FAMILY", n["family"])
emit("M_DOB", r["dob"])
emit("M_PC", next((a.get("postcode") for a in r.get("addresses") or [] if a.get("postcode")), ""))
r, n = alias
prim = next(x for x in r["names"] if x.get("kind") == "primary")
emit("A_ID", r["id"]); emit("A_PRIMARY", f'{prim.get("given", "")} {prim["family"]}'.strip())
emit("A_ALIAS", f'{n.get("given")} {n["family"]}')
emit("A_GIVEN", NICK[folded(n["given"])]); emit("A_FAMILY", n["family"])
emit("A_BIRTH_YEAR", r["dob"][:4])
emit("N_GIVEN", "Ottoline"); emit("N_FAMILY", nobody)
PY
# shellcheck disable=SC1091
. "$DEMO/queries.env"
say "match:          $M_GIVEN $M_FAMILY, born $M_DOB (record $M_ID)"
say "possible match: record $A_ID, $A_PRIMARY, also known as \"$A_ALIAS\";"
say "                asked for as \"$A_GIVEN $A_FAMILY\" (a nickname of the alias's given name), born $A_BIRTH_YEAR"
say "no match:       $N_GIVEN $N_FAMILY, whom the register does not hold"

# check_once NAME WANTED ARGS...: runs one check as the case worker (once:
# every check is a consultation the audit log records), shows the client's
# table, then reads the stored check back as JSON into demo/check-NAME.json
# and dies unless its outcome is WANTED.  Sets CHECK_ID.
check_once() {
	local name=$1 want=$2 rc=0 out got
	shift 2
	out=$(ctl alice.jones check "$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	[ "$rc" -eq 0 ] || die "disclosurectl check exited $rc"
	CHECK_ID=$(printf '%s\n' "$out" | grep -o 'chk_[0-9A-Za-z]*' | head -n 1)
	[ -n "$CHECK_ID" ] || die "no check id in the client's output"
	ctl_quiet alice.jones show "$CHECK_ID" --json >"$DEMO/check-$name.json" ||
		die "could not read check $CHECK_ID back"
	got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["response"]["outcome"])' \
		"$DEMO/check-$name.json") || die "demo/check-$name.json holds no outcome"
	[ "$got" = "$want" ] || die "expected outcome $want, the daemon answered $got (demo/check-$name.json)"
	say "${G}outcome: $got${N}, as expected"
}

# ---------------------------------------------------------------------------
step "Check 1: the case worker asks about $M_GIVEN $M_FAMILY (exact name, date of birth, postcode)"
args=(--case WM-CSODS-2026-0001 --purpose csods_right_to_ask
	--justification "Applicant's new partner has unsupervised contact with her children"
	--given "$M_GIVEN" --family "$M_FAMILY" --dob "$M_DOB")
[ -n "$M_PC" ] && args+=(--postcode "$M_PC")
check_once match match "${args[@]}"
CHECK_MATCH=$CHECK_ID

# ---------------------------------------------------------------------------
step "Check 2: \"$A_GIVEN $A_FAMILY\", born $A_BIRTH_YEAR: a nickname of one of the person's aliases"
check_once alias possible_match --case WM-DVDS-2026-0002 --purpose dvds_right_to_ask \
	--justification "Applicant asks about her new partner's history of abuse" \
	--given "$A_GIVEN" --family "$A_FAMILY" --age "$(($(date -u +%Y) - A_BIRTH_YEAR))"
python3 - "$DEMO/check-alias.json" "$A_ID" <<'PY' || die "record $A_ID was not found through its alias or a nickname (demo/check-alias.json)"
import json, sys
c = json.load(open(sys.argv[1]))["response"]
hit = [x for x in c["candidates"] if x["offender_id"] == sys.argv[2]]
if not hit:
    sys.exit("demo: record %s is not among the candidates" % sys.argv[2])
mn = hit[0].get("matched_name") or {}
reasons = hit[0].get("reasons", [])
if mn.get("kind") == "primary" and not any("nickname" in r for r in reasons):
    sys.exit("demo: record %s matched through its primary name, not an alias or nickname"
             % sys.argv[2])
print(f'    record {sys.argv[2]} matched through its {mn.get("kind", "?")} name '
      f'"{mn.get("given", "")} {mn.get("family", "")}": {", ".join(reasons)}')
PY

# ---------------------------------------------------------------------------
step "Check 3: $N_GIVEN $N_FAMILY, whom the register does not hold"
check_once none no_match --case WM-CSODS-2026-0003 --purpose csods_right_to_ask \
	--justification "Applicant asks about a neighbour who babysits" \
	--given "$N_GIVEN" --family "$N_FAMILY" --dob 1984-07-19

# ---------------------------------------------------------------------------
step "Decision: the disclosure officer reads check 1 and records a disclosure"
run 0 dana.officer show "$CHECK_MATCH"
run 0 dana.officer offender "$M_ID" --check "$CHECK_MATCH"
run 0 dana.officer decide "$CHECK_MATCH" --decision disclose --offender "$M_ID" \
	--recipient "The applicant, in person, under a signed confidentiality undertaking" \
	--rationale "Risk assessment meeting found a risk to the children"
say "a second decision on the same check is refused (409, exit 3):"
run 3 dana.officer decide "$CHECK_MATCH" --decision no_disclosure --rationale "second thoughts"

# ---------------------------------------------------------------------------
step "Audit: the auditor exports the log and verifies it offline with the public key"
run 0 aldo.auditor audit export -o demo/audit.ndjson
say "$(wc -l <"$DEMO/audit.ndjson") entries; the last one is a signed checkpoint:"
tail -n 1 "$DEMO/audit.ndjson" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2))' | sed 's/^/      /'
run 0 aldo.auditor audit verify demo/audit.ndjson --key demo/pki/audit-public.pem \
	--receipts demo/state/alice.jones/disclosurectl/requests.log
say "and a copy with one changed byte is rejected:"
python3 - "$DEMO/audit.ndjson" "$DEMO/audit-tampered.ndjson" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines(True)
i = len(lines) // 2
lines[i] = lines[i].replace('"status":200', '"status":201', 1) if '"status":200' in lines[i] \
    else lines[i].replace('"seq":', '"seq": ', 1)
open(sys.argv[2], "w", encoding="utf-8").writelines(lines)
PY
run 1 aldo.auditor audit verify demo/audit-tampered.ndjson --key demo/pki/audit-public.pem
rm -f "$DEMO/audit-tampered.ndjson"
say "${G}rejected${N} (exit 1)"
say "who was shown, read or decided on the record disclosed, when and why:"
run 0 aldo.auditor audit find demo/audit.ndjson --record "$M_ID"

# ---------------------------------------------------------------------------
step "Stop: SIGTERM drains, seals the log with a final checkpoint, exits 0"
show_cmd "kill -TERM $daemon_pid"
rc=0
stop_daemon || rc=$?
rm -f "$DEMO/disclosured.pid"
[ "$rc" -eq 0 ] || die "the daemon exited with status $rc on SIGTERM"
say "${G}stopped cleanly${N}"

# ---------------------------------------------------------------------------
cat >"$DEMO/README" <<EOF
disclosured demo - what \`make demo\` left behind
===============================================

Everything here is throwaway: the next \`make demo\` wipes it.  Every person
in register.jsonl is fictitious and generated.

  disclosured.conf       the daemon's configuration (listens on 127.0.0.1:$PORT)
  acl.conf               the principals, one of each role
  pki/                   throwaway CA, server and client certificates, audit key
  data/                  the LMDB store: register, checks, audit log
  register.jsonl         the $COUNT fictitious people imported
  ctl/<principal>.env    client settings for each principal
  state/<principal>/     each principal's request log (audit receipts)
  audit.ndjson           the audit export the demo verified

Start the daemon again (in the foreground; Ctrl-C stops it cleanly):

  $BUILD_REL/disclosured -c demo/disclosured.conf

Then, in another terminal, from the project folder, run a check as the case
worker alice.jones:

  . demo/ctl/alice.jones.env
  $BUILD_REL/disclosurectl check --case MY-CASE-1 --purpose csods_right_to_ask \\
      --justification "Trying the demo" --given "$M_GIVEN" --family "$M_FAMILY" --dob $M_DOB
  $BUILD_REL/disclosurectl check --case MY-CASE-2 --purpose dvds_right_to_ask \\
      --justification "Trying the demo" --given "$A_GIVEN" --family "$A_FAMILY"

Pick other people from demo/register.jsonl, or anyone at all.  The other
principals:

  . demo/ctl/dana.officer.env     # disclosure officer: show, offender, decide
  $BUILD_REL/disclosurectl show CHECK_ID
  . demo/ctl/aldo.auditor.env     # auditor: the audit log
  $BUILD_REL/disclosurectl audit export -o demo/audit.ndjson
  $BUILD_REL/disclosurectl audit verify demo/audit.ndjson --key demo/pki/audit-public.pem
  $BUILD_REL/disclosurectl audit find demo/audit.ndjson --principal alice.jones
  . demo/ctl/rita.registrar.env   # registrar: import
  $BUILD_REL/disclosurectl import demo/register.jsonl
  . demo/ctl/mo.monitor.env       # monitor: health and metrics
  curl -s --cacert demo/pki/ca.crt --cert demo/pki/clients/mo.monitor.crt \\
      --key demo/pki/clients/mo.monitor.key https://127.0.0.1:$PORT/metrics

Reload certificates, CRL and ACL without a restart: kill -HUP <pid>.
Manuals: man -l man/disclosured.8, man -l man/disclosurectl.1,
man -l man/disclosured.conf.5; the operator's guide: docs/operators-guide.md.
EOF

step "Done. The demo's configuration stays in demo/ (demo/README):"
sed 's/^/    /' "$DEMO/README"
