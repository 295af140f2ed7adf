#!/bin/sh
# ensure-deps.sh PROFILE... - make sure the Debian packages a make target
# needs are installed.  Installs them with apt-get when running as root;
# otherwise prints the apt-get command to run and fails.
#
# Profiles: build, check, fuzz, bench, demo, docs.
set -eu

need=""
want_pkg() { # want_pkg PKGCONFIG-NAME DEBIAN-PACKAGE
	pkg-config --exists "$1" 2>/dev/null || need="$need $2"
}
want_cmd() { # want_cmd COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null 2>&1 || need="$need $2"
}

command -v pkg-config >/dev/null 2>&1 || need="pkg-config"
for profile in "$@"; do
	case "$profile" in
	build)
		want_cmd cc gcc
		want_cmd make make
		want_pkg libevent libevent-dev
		want_pkg libevent_openssl libevent-dev
		want_pkg openssl libssl-dev
		want_pkg lmdb liblmdb-dev
		want_pkg jansson libjansson-dev
		want_pkg inih libinih-dev
		want_pkg icu-uc libicu-dev
		want_pkg libsystemd libsystemd-dev
		;;
	check)
		want_pkg cmocka libcmocka-dev
		want_cmd python3 python3
		want_cmd openssl openssl
		want_cmd curl curl
		want_cmd mdb_stat lmdb-utils
		want_cmd jq jq
		;;
	fuzz)
		want_cmd clang clang
		[ -n "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer*' 2>/dev/null | head -n 1)" ] ||
			need="$need libclang-rt-14-dev"
		;;
	bench)
		want_cmd openssl openssl
		want_cmd python3 python3
		want_cmd curl curl
		want_cmd taskset util-linux
		# the yardstick the figures are given as ratios of
		[ -x /usr/sbin/nginx ] || need="$need nginx-light"
		;;
	demo)
		want_cmd openssl openssl
		;;
	tls-scan)
		want_cmd testssl testssl.sh
		;;
	docs)
		want_cmd man man-db
		want_cmd systemd-analyze systemd
		want_cmd npm npm
		;;
	*)
		echo "ensure-deps: unknown profile '$profile'" >&2
		exit 2
		;;
	esac
done

[ -z "$need" ] && exit 0
# shellcheck disable=SC2086
set -- $(printf '%s\n' $need | sort -u)
if [ "$(id -u)" != 0 ]; then
	echo "ensure-deps: missing Debian packages: $*" >&2
	echo "ensure-deps: run as root:  apt-get install -y $*" >&2
	exit 1
fi
echo "ensure-deps: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "$@" >/dev/null 2>&1 || {
	apt-get update -q >/dev/null 2>&1 || true
	apt-get install -y -q "$@"
}
