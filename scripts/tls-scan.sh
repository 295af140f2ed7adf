#!/bin/sh
# tls-scan.sh - scan the running daemon's TLS configuration with testssl.sh
# (Debian package testssl.sh) and fail on anything weaker than it promises:
# TLS 1.2 and 1.3 only, forward-secret AEAD ciphers only (no NULL, anon,
# export, RC4, DES/3DES, CBC or static-RSA suites), no insecure
# renegotiation, no TLS compression, none of the quick classic
# vulnerabilities.  `make tls-scan` runs it; CI runs it after the fuzz smoke.
#
#   BUILD=build scripts/tls-scan.sh
#
# It makes a throwaway PKI with scripts/mkpki.sh, starts $BUILD/disclosured
# on a free loopback port in a scratch folder, scans it, prints one verdict
# line per rule, stops the daemon and exits 0 only if every rule holds.
#
# testssl.sh 3.0 cannot present a client certificate (--mtls came in 3.2),
# and the daemon ends every handshake without one right after its
# CertificateRequest.  Protocol, cipher, curve and most vulnerability
# probes need only the ServerHello, so they work; what needs a finished
# handshake (client-initiated renegotiation) is checked here with
# openssl s_client and a real client certificate instead.
#
# It must never scan anything but the daemon it started, nor leave that
# daemon running.
set -eu

BUILD=${BUILD:-build}
prog=tls-scan.sh
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
case "$BUILD" in /*) bin=$BUILD ;; *) bin=$repo/$BUILD ;; esac
daemon=$bin/disclosured
testssl=${TESTSSL:-testssl}

die() { echo "$prog: $*" >&2; exit 1; }

[ -x "$daemon" ] || die "$daemon not built (make BUILD=$BUILD)"
command -v "$testssl" >/dev/null 2>&1 ||
	die "testssl not found (apt-get install testssl.sh)"
command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
command -v python3 >/dev/null 2>&1 || die "python3 not found (apt-get install python3)"

work=$(mktemp -d "${TMPDIR:-/tmp}/disclosured-tls-scan.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ "${keep:-0}" = 1 ]; then
		echo "$prog: scratch folder kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- a throwaway deployment -------------------------------------------------
"$here/mkpki.sh" init "$work/pki" >/dev/null
"$here/mkpki.sh" client "$work/pki" tlsscan.monitor >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/acl.conf" <<EOF
; written by scripts/tls-scan.sh: a fictitious monitor
[tlsscan]
cn = tlsscan.monitor
roles = monitor
force = *
EOF
cat >"$work/disclosured.conf" <<EOF
; written by scripts/tls-scan.sh
[server]
listen = 127.0.0.1:$port
workers = 2
max_connections = 256
request_timeout = 10

[tls]
certificate = pki/server.crt
private_key = pki/server.key
client_ca = pki/ca.crt
crl = pki/clients.crl

[store]
path = store
map_size = 67108864

[audit]
signing_key = pki/audit-ed25519.pem

[access]
acl = acl.conf
EOF

"$daemon" -c "$work/disclosured.conf" >"$work/disclosured.log" 2>&1 &
pid=$!

# Ready when a client with a certificate gets an answer from /healthz.
crt=$work/pki/clients/tlsscan.monitor.crt
key=$work/pki/clients/tlsscan.monitor.key
ready=0
i=0
while [ $i -lt 100 ]; do
	kill -0 "$pid" 2>/dev/null || { cat "$work/disclosured.log" >&2; die "disclosured exited before serving"; }
	if printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost \
			-cert "$crt" -key "$key" -CAfile "$work/pki/ca.crt" -verify_return_error \
			2>/dev/null | grep -q '^HTTP/1.1 200'; then
		ready=1
		break
	fi
	sleep 0.2
	i=$((i + 1))
done
[ $ready = 1 ] || { cat "$work/disclosured.log" >&2; die "disclosured did not serve /healthz on port $port"; }
echo "$prog: disclosured $(sed -n 's/^.*\(serving on [^ ]*\).*$/\1/p' "$work/disclosured.log" | head -n 1) (pid $pid)"

# --- testssl ------------------------------------------------------------------
# -p protocols, -E ciphers per protocol, -f forward secrecy, -R
# renegotiation, -C compression, and the quick vulnerability probes:
# Heartbleed, CCS, Ticketbleed, ROBOT, POODLE, fallback SCSV, SWEET32,
# BEAST, LUCKY13, FREAK, LOGJAM, DROWN, RC4.
t0=$(date +%s)
set +e
"$testssl" --quiet --color 0 --warnings batch --nodns none --connect-timeout 5 \
	--openssl-timeout 5 --add-ca "$work/pki/ca.crt" -oj "$work/testssl.json" \
	-p -E -f -R -C -H -I -T -BB -O -Z -W -A -L -F -J -D -4 \
	"127.0.0.1:$port" >"$work/testssl.txt" 2>&1
testssl_rc=$?
set -e
echo "$prog: testssl finished in $(($(date +%s) - t0)) s (exit $testssl_rc)"
if [ ! -s "$work/testssl.json" ]; then
	cat "$work/testssl.txt"
	keep=1
	die "testssl wrote no findings"
fi

# --- renegotiation with a real client certificate -------------------------------
# TLS 1.2 client-initiated renegotiation: s_client's "R" command.  The
# daemon (SSL_OP_NO_RENEGOTIATION) must refuse it: the connection ends
# with an alert, or the renegotiation never completes.
reneg=$(printf 'R\n' | timeout 10 openssl s_client -tls1_2 -connect "127.0.0.1:$port" \
	-servername localhost -cert "$crt" -key "$key" -CAfile "$work/pki/ca.crt" \
	-verify_return_error 2>&1 || true)
printf '%s\n' "$reneg" >"$work/renegotiation.txt"
case "$reneg" in
*"Secure Renegotiation IS supported"*) secure_reneg=yes ;;
*) secure_reneg=no ;;
esac
if printf '%s' "$reneg" | grep -q "RENEGOTIATING" &&
	printf '%s' "$reneg" | grep -Eq "no renegotiation|alert|errno|error"; then
	client_reneg=refused
elif printf '%s' "$reneg" | grep -q "RENEGOTIATING"; then
	client_reneg=accepted
else
	client_reneg=untested
fi

# --- verdicts ---------------------------------------------------------------------
python3 - "$work/testssl.json" "$secure_reneg" "$client_reneg" <<'EOF'
import json
import re
import sys

path, secure_reneg, client_reneg = sys.argv[1:4]
with open(path) as f:
    findings = json.load(f)
by_id = {}
for f in findings:
    by_id.setdefault(f.get("id", ""), []).append(f)

failed = []


def verdict(ok, rule, detail):
    print("%-4s %-46s %s" % ("ok" if ok else "FAIL", rule, detail))
    if not ok:
        failed.append(rule)


def finding(fid):
    return " / ".join(f.get("finding", "") for f in by_id.get(fid, [])) or "(not reported)"


def offered(fid):
    t = finding(fid).lower()
    return "offered" in t and "not offered" not in t


# Protocols.
for fid, name in (("SSLv2", "SSLv2"), ("SSLv3", "SSLv3"), ("TLS1", "TLS 1.0"),
                  ("TLS1_1", "TLS 1.1")):
    verdict(fid in by_id and not offered(fid), name + " not offered", finding(fid))
for fid, name in (("TLS1_2", "TLS 1.2"), ("TLS1_3", "TLS 1.3")):
    verdict(offered(fid), name + " offered", finding(fid))

# Every cipher offered, per protocol (-E): AEAD with ephemeral ECDH/DH in
# TLS 1.2, TLS 1.3's own suites, nothing in older protocols.
ciphers = [f for f in findings if re.match(r"cipher-(tls|ssl)", f.get("id", ""))]
good12 = re.compile(r"^TLS_(ECDHE|DHE)_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)"
                    r"|CHACHA20_POLY1305_SHA256)$")
good13 = re.compile(r"^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$")
weak = re.compile(r"NULL|anon|ADH|AECDH|EXP|RC4|RC2|DES|IDEA|SEED|MD5|CBC|PSK|SRP", re.I)
bad = []
names = []
for f in ciphers:
    fid, text = f["id"], f.get("finding", "")
    rfc = text.split()[-1] if text.split() else ""
    names.append(rfc)
    if fid.startswith("cipher-tls1_3"):
        ok = bool(good13.match(rfc))
    elif fid.startswith("cipher-tls1_2"):
        ok = bool(good12.match(rfc)) and not weak.search(rfc)
    else:
        ok = False  # any cipher in SSLv3, TLS 1.0 or 1.1 is one too many
    if not ok:
        bad.append("%s (%s)" % (rfc or text, fid))
verdict(bool(ciphers), "ciphers listed per protocol", "%d offered" % len(ciphers))
verdict(not bad, "only forward-secret AEAD ciphers",
        ", ".join(bad) if bad else ", ".join(sorted(set(names))))

# Forward secrecy summary (-f).
fs = finding("FS") if "FS" in by_id else finding("PFS")
verdict(("FS" in by_id or "PFS" in by_id) and "offered" in fs.lower() and
        "not offered" not in fs.lower(), "forward secrecy", fs)
for cid in ("FS_ECDHE_curves", "PFS_ECDHE_curves"):
    if cid in by_id:
        print("     %-46s %s" % ("  curves", finding(cid)))

# Renegotiation (-R) and compression (-C).
sr = finding("secure_renego")
verdict("secure_renego" in by_id and "not supported" not in sr.lower() and
        "vulnerable" not in sr.lower() or secure_reneg == "yes",
        "secure renegotiation (RFC 5746)",
        "%s; s_client with a certificate: %s" % (sr, "supported" if secure_reneg == "yes"
                                                 else "not seen"))
scr = finding("secure_client_renego")
verdict("vulnerable" not in scr.lower().replace("not vulnerable", "") and client_reneg != "accepted",
        "no client-initiated renegotiation",
        "testssl: %s; s_client with a certificate: %s" % (scr, client_reneg))
crime = finding("CRIME_TLS")
verdict("CRIME_TLS" in by_id and "not vulnerable" in crime.lower(), "no TLS compression (CRIME)",
        crime)

# The quick vulnerability probes: none may say VULNERABLE.
vulns = ["heartbleed", "CCS", "ticketbleed", "ROBOT", "POODLE_SSL", "fallback_SCSV", "SWEET32",
         "BEAST", "LUCKY13", "FREAK", "LOGJAM", "DROWN", "RC4"]
for v in vulns:
    t = finding(v)
    low = t.lower().replace("not vulnerable", "")
    verdict(v in by_id and "vulnerable" not in low, v, t)

# Anything testssl itself rates HIGH or CRITICAL fails too.
worst = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL")]
verdict(not worst, "no HIGH or CRITICAL finding",
        "; ".join("%s: %s" % (f["id"], f.get("finding", "")) for f in worst) or "none")

scan_errors = [f for f in findings if f.get("severity") in ("WARN",) and
               f.get("id") in ("scanProblem", "scanTime") and "problem" in f.get("finding", "").lower()]
for f in scan_errors:
    print("note %-46s %s" % (f["id"], f.get("finding", "")))

print()
if failed:
    print("tls-scan: FAILED: " + "; ".join(failed))
    sys.exit(1)
print("tls-scan: every rule holds")
EOF
