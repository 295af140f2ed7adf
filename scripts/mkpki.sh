#!/bin/sh
# mkpki.sh - a small certificate authority for disclosured, with the openssl
# command-line tool only.  The demo uses it for a throwaway PKI; the
# operator's guide (docs/operators-guide.md) uses it to show every step a
# real deployment takes: issue a case worker's certificate, revoke it and
# publish the CRL, make and rotate the audit signing key.
#
# It must never overwrite a private key that exists (a lost CA or audit key
# cannot be recovered; a replaced server or audit key is kept aside under a
# dated name) and never leave a private key readable by group or others:
# disclosured refuses such keys.
#
#   mkpki.sh init DIR [HOST...]   CA, server certificate (SAN localhost,
#                                 127.0.0.1, ::1 and HOST...), empty CRL,
#                                 audit key
#   mkpki.sh client DIR CN        a client certificate for principal CN
#   mkpki.sh revoke DIR CN|FILE   revoke a certificate (DIR/clients/CN.crt, or
#                                 the file FILE of one this CA signed),
#                                 rewrite the CRL
#   mkpki.sh crl DIR              rewrite the CRL (it expires: renew it)
#   mkpki.sh server DIR [HOST...] reissue the server certificate
#   mkpki.sh audit-key DIR        a new Ed25519 audit key; an existing one is
#                                 kept as audit-ed25519-<date>.pem
#
# Layout of DIR:
#   ca.crt              the CA: disclosured's [tls] client_ca, and what
#                       clients trust (DISCLOSURE_CA)
#   ca/                 the CA's private key, serials, index and config
#   server.crt/.key     disclosured's [tls] certificate / private_key
#   clients.crl         disclosured's [tls] crl
#   clients/CN.crt/.key a principal's certificate and key
#   audit-ed25519.pem   [audit] signing_key (private)
#   audit-public.pem    the public half, for auditors (audit verify --key)
set -eu

umask 077
prog=mkpki.sh
days_ca=1825
days_cert=397
days_crl=30

die() { echo "$prog: $*" >&2; exit 1; }
usage() { sed -n '/^#   mkpki.sh init/,/^#$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

# openssl reads the whole CA config on every command, including the
# server extension's SAN from the environment: give it a value always.
MKPKI_SAN=DNS:localhost
export MKPKI_SAN

command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"

# Principal names go into file names and subjects: keep them to the
# characters the ACL allows in an id, so neither can be abused.
check_cn() {
	case "$1" in
	"" | *[!A-Za-z0-9._-]*) die "'$1': a CN may hold only A-Z a-z 0-9 . _ -" ;;
	.*) die "'$1': a CN must not start with a dot" ;;
	esac
}

ca_config() { # ca_config DIR
	cat >"$1/ca/openssl.cnf" <<EOF
[ca]
default_ca = disclosure_ca

[disclosure_ca]
dir              = $1/ca
database         = \$dir/index.txt
new_certs_dir    = \$dir/issued
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = $1/ca.crt
private_key      = \$dir/ca.key
default_md       = sha256
default_days     = $days_cert
default_crl_days = $days_crl
policy           = policy_cn
unique_subject   = no
copy_extensions  = none
email_in_dn      = no

[policy_cn]
commonName       = supplied
organizationName = optional

[ext_client]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ext_server]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \$ENV::MKPKI_SAN

[ext_crl]
authorityKeyIdentifier = keyid
EOF
}

new_key() { # new_key FILE - EC P-256, mode 0600
	[ -e "$1" ] && die "$1 exists; refusing to overwrite a private key"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ||
		die "could not generate a key in $1"
	chmod 600 "$1"
}

sign() { # sign DIR CSR CRT EXT
	openssl ca -batch -notext -config "$1/ca/openssl.cnf" \
		-extensions "$4" -in "$2" -out "$3" 2>"$1/ca/last-error.txt" ||
		die "openssl ca failed: $(cat "$1/ca/last-error.txt")"
	chmod 644 "$3"
}

cmd_crl() { # cmd_crl DIR
	openssl ca -batch -gencrl -config "$1/ca/openssl.cnf" -crlexts ext_crl \
		-out "$1/clients.crl" 2>"$1/ca/last-error.txt" ||
		die "could not write the CRL: $(cat "$1/ca/last-error.txt")"
	chmod 644 "$1/clients.crl"
}

cmd_server() { # cmd_server DIR HOST...
	d=$1
	shift
	[ -f "$d/ca/ca.key" ] || die "$d: no CA here (run: $prog init $d)"
	san="DNS:localhost,IP:127.0.0.1,IP:::1"
	for h in "$@"; do
		case "$h" in
		*[!0-9.]*) case "$h" in *:*) san="$san,IP:$h" ;; *) san="$san,DNS:$h" ;; esac ;;
		*) san="$san,IP:$h" ;;
		esac
	done
	rm -f "$d/server.key.new"
	new_key "$d/server.key.new"
	openssl req -new -key "$d/server.key.new" -subj "/O=disclosured/CN=disclosured" \
		-out "$d/ca/server.csr" 2>/dev/null || die "could not make the server request"
	MKPKI_SAN=$san
	sign "$d" "$d/ca/server.csr" "$d/server.crt.new" ext_server
	MKPKI_SAN=DNS:localhost
	if [ -e "$d/server.key" ]; then
		stamp=$(date -u +%Y%m%dT%H%M%SZ)
		mv "$d/server.key" "$d/server-$stamp.key"
		[ -e "$d/server.crt" ] && mv "$d/server.crt" "$d/server-$stamp.crt"
		echo "$prog: previous server key kept as $d/server-$stamp.key"
	fi
	mv "$d/server.key.new" "$d/server.key"
	mv "$d/server.crt.new" "$d/server.crt"
	echo "$prog: server certificate $d/server.crt ($san)"
}

cmd_client() { # cmd_client DIR CN
	d=$1
	cn=$2
	check_cn "$cn"
	[ -f "$d/ca/ca.key" ] || die "$d: no CA here (run: $prog init $d)"
	mkdir -p "$d/clients"
	new_key "$d/clients/$cn.key"
	openssl req -new -key "$d/clients/$cn.key" -subj "/O=disclosured/CN=$cn" \
		-out "$d/ca/$cn.csr" 2>/dev/null || die "could not make the request for $cn"
	sign "$d" "$d/ca/$cn.csr" "$d/clients/$cn.crt" ext_client
	echo "$prog: client certificate $d/clients/$cn.crt (CN=$cn)"
}

cmd_revoke() { # cmd_revoke DIR CN|FILE
	d=$1
	case "$2" in
	*/* | *.crt | *.pem)
		# A certificate signed from a CSR may live anywhere (guide §2).
		crt=$2
		[ -f "$crt" ] || die "$crt: no such certificate"
		what=$(openssl x509 -in "$crt" -noout -subject -nameopt RFC2253 2>/dev/null) ||
			die "$crt: not a PEM certificate"
		what=${what#subject=}
		# Signed by this CA's key (an expired one may be revoked too);
		# openssl ca would otherwise record any certificate given.
		openssl verify -no_check_time -CAfile "$d/ca.crt" "$crt" >/dev/null 2>&1 ||
			die "$crt ($what) is not signed by this CA ($d/ca.crt)"
		;;
	*)
		check_cn "$2"
		crt=$d/clients/$2.crt
		[ -f "$crt" ] || die "$crt: no such certificate (give the certificate's file instead)"
		what=CN=$2
		;;
	esac
	openssl ca -batch -config "$d/ca/openssl.cnf" -revoke "$crt" \
		-crl_reason keyCompromise 2>"$d/ca/last-error.txt" ||
		die "could not revoke $what: $(cat "$d/ca/last-error.txt")"
	cmd_crl "$d"
	echo "$prog: revoked $what; now reload the daemon (SIGHUP) so it reads $d/clients.crl"
}

cmd_audit_key() { # cmd_audit_key DIR
	d=$1
	if [ -e "$d/audit-ed25519.pem" ]; then
		old="$d/audit-ed25519-$(date -u +%Y%m%dT%H%M%SZ).pem"
		mv "$d/audit-ed25519.pem" "$old"
		echo "$prog: previous audit key kept as $old"
		if [ -e "$d/audit-public.pem" ]; then
			mv "$d/audit-public.pem" "${old%.pem}.pub.pem"
			echo "$prog:   (public half ${old%.pem}.pub.pem)"
		fi
	fi
	openssl genpkey -algorithm ed25519 -out "$d/audit-ed25519.pem" 2>/dev/null ||
		die "could not generate the audit key"
	chmod 600 "$d/audit-ed25519.pem"
	openssl pkey -in "$d/audit-ed25519.pem" -pubout -out "$d/audit-public.pem" 2>/dev/null ||
		die "could not write the audit public key"
	chmod 644 "$d/audit-public.pem"
	echo "$prog: audit key $d/audit-ed25519.pem, public half $d/audit-public.pem"
}

cmd_init() { # cmd_init DIR HOST...
	d=$1
	shift
	[ -e "$d/ca/ca.key" ] && die "$d already holds a CA; refusing to overwrite it"
	mkdir -p "$d/ca/issued" "$d/clients"
	chmod 700 "$d/ca"
	: >"$d/ca/index.txt"
	echo 1000 >"$d/ca/crlnumber"
	openssl rand -hex 16 >"$d/ca/serial"
	ca_config "$d"
	new_key "$d/ca/ca.key"
	openssl req -new -x509 -key "$d/ca/ca.key" -days "$days_ca" -sha256 \
		-subj "/O=disclosured/CN=disclosured demo CA $(date -u +%Y-%m-%d)" \
		-addext "basicConstraints=critical,CA:true,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$d/ca.crt" 2>/dev/null || die "could not make the CA certificate"
	chmod 644 "$d/ca.crt"
	echo "$prog: CA $d/ca.crt"
	cmd_server "$d" "$@"
	cmd_crl "$d"
	cmd_audit_key "$d"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
case "$cmd" in
init) mkdir -p "$dir" ;;
*) [ -d "$dir" ] || die "$dir: no such folder" ;;
esac
dir=$(cd "$dir" && pwd) # openssl ca needs absolute paths in its config

case "$cmd" in
init) cmd_init "$dir" "$@" ;;
client) [ $# -eq 1 ] || usage; cmd_client "$dir" "$1" ;;
revoke) [ $# -eq 1 ] || usage; cmd_revoke "$dir" "$1" ;;
crl) [ $# -eq 0 ] || usage; cmd_crl "$dir" ;;
server) cmd_server "$dir" "$@" ;;
audit-key) [ $# -eq 0 ] || usage; cmd_audit_key "$dir" ;;
*) usage ;;
esac
