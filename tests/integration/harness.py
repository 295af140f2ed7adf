"""harness.py - the integration suite's own harness.

What it is for: testing disclosured as its users meet it.  It makes a
throwaway PKI with the openssl command-line tool, writes disclosured.conf
and acl.conf into a temporary folder, starts the real build/disclosured as
a subprocess (stderr into a log file), and talks to it with real clients:
Python's ssl + http.client with keep-alive, curl, and raw TLS or TCP
sockets for requests no well-behaved client would send.

What test modules use (other parts' tests too, so keep these stable):
  pki(), PRINCIPALS, FORCE_A/FORCE_B   the throwaway PKI and who is in the ACL
  Daemon(name, conf=, acl=)            .start(env=) .stop() .kill9() .signal()
                                       .client(principal) .log_text() .dir .port
  DaemonTestCase                       one daemon per class; audit verified at the end
  Client / curl() / raw_tls()          keep-alive https, curl, hand-written bytes
  try_handshake_and_get(), tls_context()
  fixture_records(), register_lines(), check_body(), load_records()
  namesakes()                          people of one name, for the list's limit
  export_audit(), verify_daemon_audit(), audit_entries(), find_entry()
  scrape()                             the daemon's /metrics as a dict
  CheckLoad, assert_receipts_in()      a load of checks and its receipts
  ctl(), ctl_raw(), ctl_available()    the project's client
  tmo(seconds)                         timeouts scaled for sanitizer builds

What it must never do: reach behind the daemon's back (no reading or
writing its LMDB files while it runs, no patching), or rely on anything but
the external contract (shared/spec/contract.md) and the decisions the lead
wrote down for the daemon.  Every person it generates is fictitious.
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
_build = Path(os.environ.get("BUILD", "build"))
BUILD = _build if _build.is_absolute() else REPO / _build
DAEMON_BIN = BUILD / "disclosured"
CTL_BIN = BUILD / "disclosurectl"
GENREGISTER_BIN = BUILD / "genregister"


def _built_with(path, mark):
    try:
        with open(path, "rb") as f:
            return mark in f.read()
    except OSError:
        return False


def _built_with_asan(path):
    return _built_with(path, b"__asan_init")


def _built_with_tsan(path):
    return _built_with(path, b"__tsan_init")


# Timeouts are multiplied by SLOW: a sanitizer build runs about 3x slower.
SLOW = float(os.environ.get("ITEST_SLOW", "0")) or (
    3.0 if _built_with_asan(DAEMON_BIN) or _built_with_tsan(DAEMON_BIN) else 1.0)

# Under ThreadSanitizer only our own code is checked: libevent, OpenSSL,
# LMDB and jansson are not instrumented, so TSan cannot see the ordering
# their atomic reference counts give (an SSL_CTX freed by a reload after a
# worker's last SSL_free of a connection on it), nor that a descriptor
# number closed by one worker and reused by another is a new descriptor.
# (Their pthread locks it still sees.)  The daemons and clients the tests
# start inherit this.
if _built_with_tsan(DAEMON_BIN):
    os.environ.setdefault("TSAN_OPTIONS", "ignore_noninstrumented_modules=1")

# Where the throwaway folders go; run.py removes it when every test passed.
SESSION_DIR = Path(tempfile.mkdtemp(prefix="disclosured-itest-"))

FORCE_A = "west-mercia"
FORCE_B = "metropolitan"


def tmo(seconds):
    """A timeout scaled for slow (sanitizer) builds."""
    return seconds * SLOW


# --------------------------------------------------------------------------
# Throwaway PKI
# --------------------------------------------------------------------------

# Principals of the test ACL: id -> (cn, roles, force).  The ids differ from
# the CNs on purpose, so a test can tell which one the audit log records.
PRINCIPALS = {
    "cw.wm": ("itest.caseworker.wm", ["caseworker"], FORCE_A),
    "cw2.wm": ("itest.caseworker2.wm", ["caseworker"], FORCE_A),
    "cw.met": ("itest.caseworker.met", ["caseworker"], FORCE_B),
    "cw.nat": ("itest.caseworker.nat", ["caseworker"], "*"),
    "do.wm": ("itest.officer.wm", ["caseworker", "disclosure_officer"], FORCE_A),
    "do.met": ("itest.officer.met", ["disclosure_officer"], FORCE_B),
    "do.nat": ("itest.officer.nat", ["disclosure_officer"], "*"),
    "reg.wm": ("itest.registrar.wm", ["registrar"], FORCE_A),
    "reg.met": ("itest.registrar.met", ["registrar"], FORCE_B),
    "aud.wm": ("itest.auditor.wm", ["auditor"], FORCE_A),
    "aud.nat": ("itest.auditor.nat", ["auditor"], "*"),
    "mon.wm": ("itest.monitor.wm", ["monitor"], FORCE_A),
    "mon.met": ("itest.monitor.met", ["monitor"], FORCE_B),
    # in the ACL, but its certificate is revoked by the CRL from the start
    "revoked.wm": ("itest.revoked.wm", ["caseworker"], FORCE_A),
    # in the ACL; revoked only in the second CRL (SIGHUP test)
    "later.wm": ("itest.laterrevoked.wm", ["caseworker"], FORCE_A),
}

# Certificates that are not (or not validly) principals.
#   unknown : chains to the client CA, CN in no ACL section
#   rogue   : CN of cw.wm, but signed by another CA
#   expired : CN of cw.wm, validity ended yesterday
#   newbie  : chains to the client CA, CN added to the ACL only by a reload
EXTRA_CERTS = {
    "unknown": "itest.nobody",
    "rogue": PRINCIPALS["cw.wm"][0],
    "expired": PRINCIPALS["cw.wm"][0],
    "newbie": "itest.newbie.wm",
}

ROLES = ["caseworker", "disclosure_officer", "registrar", "auditor", "monitor"]

_OPENSSL_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = client_ca
[ client_ca ]
dir = {cadir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_days = 30
default_crl_days = 30
[ policy_any ]
commonName = supplied
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
"""


def openssl(*args, cwd=None, input=None):
    r = subprocess.run(["openssl", *map(str, args)], cwd=cwd, input=input,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(map(str, args)),
                                                      r.stderr.decode(errors="replace")))
    return r.stdout


def _utc_stamp(offset_seconds):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + offset_seconds))


class Pki:
    """A client CA (with CRLs), a rogue CA, a server CA with two server
    certificates, a certificate per principal, the odd certificates of
    EXTRA_CERTS, and an Ed25519 audit key.  Made once per run."""

    def __init__(self, root):
        self.dir = Path(root)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cnf = self.dir / "openssl.cnf"
        self.cadir = self.dir / "client-ca"
        self.cadir.mkdir(exist_ok=True)
        (self.cadir / "newcerts").mkdir(exist_ok=True)
        (self.cadir / "index.txt").write_text("")
        (self.cadir / "serial").write_text("1000\n")
        (self.cadir / "crlnumber").write_text("1000\n")
        self.cnf.write_text(_OPENSSL_CNF.format(cadir=self.cadir))
        self.certs = {}  # name -> (crt, key)

        self.client_ca = self.cadir / "ca.crt"
        self._self_signed(self.cadir / "ca.key", self.client_ca, "Itest Client CA")
        self.rogue_ca = self.dir / "rogue-ca.crt"
        self._self_signed(self.dir / "rogue-ca.key", self.rogue_ca, "Itest Rogue CA")
        self.server_ca = self.dir / "server-ca.crt"
        self._self_signed(self.dir / "server-ca.key", self.server_ca, "Itest Server CA")

        self.server_crt, self.server_key = self._server_cert("server")
        self.server2_crt, self.server2_key = self._server_cert("server2")

        for pid, (cn, _roles, _force) in PRINCIPALS.items():
            self.certs[pid] = self._client_cert(pid, cn)
        self.certs["unknown"] = self._client_cert("unknown", EXTRA_CERTS["unknown"])
        self.certs["newbie"] = self._client_cert("newbie", EXTRA_CERTS["newbie"])
        self.certs["expired"] = self._client_cert(
            "expired", EXTRA_CERTS["expired"],
            dates=(_utc_stamp(-10 * 86400), _utc_stamp(-86400)))
        self.certs["rogue"] = self._rogue_cert("rogue", EXTRA_CERTS["rogue"])

        # CRL 1 revokes revoked.wm; CRL 2 also revokes later.wm.
        self._ca("-revoke", self.certs["revoked.wm"][0])
        self.crl1 = self.dir / "clients-1.crl"
        self._ca("-gencrl", "-out", self.crl1)
        self._ca("-revoke", self.certs["later.wm"][0])
        self.crl2 = self.dir / "clients-2.crl"
        self._ca("-gencrl", "-out", self.crl2)

        self.audit_key = self.dir / "audit-ed25519.pem"
        openssl("genpkey", "-algorithm", "ed25519", "-out", self.audit_key)
        os.chmod(self.audit_key, 0o600)
        self.audit_pub = self.dir / "audit-public.pem"
        openssl("pkey", "-in", self.audit_key, "-pubout", "-out", self.audit_pub)
        # A second, unrelated key: a verifier must refuse exports with it.
        self.other_pub = self.dir / "other-public.pem"
        other = self.dir / "other-ed25519.pem"
        openssl("genpkey", "-algorithm", "ed25519", "-out", other)
        openssl("pkey", "-in", other, "-pubout", "-out", self.other_pub)
        self.other_key = other  # the key a rotation moves to

    def _self_signed(self, key, crt, cn):
        openssl("req", "-config", self.cnf, "-x509", "-new", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", crt, "-subj", "/CN=" + cn, "-days", "30", "-extensions", "v3_ca")
        os.chmod(key, 0o600)

    def _csr(self, name, cn):
        key = self.dir / (name + ".key")
        csr = self.dir / (name + ".csr")
        openssl("req", "-config", self.cnf, "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=" + cn)
        os.chmod(key, 0o600)
        return key, csr

    def _ca(self, *args):
        return openssl("ca", "-batch", "-config", self.cnf, "-name", "client_ca", *args)

    def _client_cert(self, name, cn, dates=None):
        key, csr = self._csr(name, cn)
        crt = self.dir / (name + ".crt")
        extra = []
        if dates:
            extra = ["-startdate", dates[0], "-enddate", dates[1]]
        self._ca("-in", csr, "-out", crt, "-extensions", "client_ext", "-notext", *extra)
        return crt, key

    def _rogue_cert(self, name, cn):
        key, csr = self._csr(name, cn)
        crt = self.dir / (name + ".crt")
        openssl("x509", "-req", "-in", csr, "-CA", self.rogue_ca, "-CAkey",
                self.dir / "rogue-ca.key", "-set_serial", "7", "-days", "30",
                "-extfile", self.cnf, "-extensions", "client_ext", "-out", crt)
        return crt, key

    def _server_cert(self, name):
        key, csr = self._csr(name, "localhost")
        crt = self.dir / (name + ".crt")
        serial = str(random.randrange(1 << 30, 1 << 40))
        openssl("x509", "-req", "-in", csr, "-CA", self.server_ca, "-CAkey",
                self.dir / "server-ca.key", "-set_serial", serial, "-days", "30",
                "-extfile", self.cnf, "-extensions", "server_ext", "-out", crt)
        return crt, key

    def stale_crl(self):
        """A CRL (revoking as CRL 2 does) whose next update was yesterday:
        OpenSSL then refuses every client certificate.  Made on first use."""
        path = self.dir / "clients-stale.crl"
        with _pki_lock:
            if not path.exists():
                self.stale_crl_next = time.gmtime(time.time() - 86400)
                self._ca("-gencrl", "-crl_lastupdate", _utc_stamp(-10 * 86400),
                         "-crl_nextupdate", time.strftime("%Y%m%d%H%M%SZ", self.stale_crl_next),
                         "-out", path)
        return path

    def fingerprint(self, crt):
        out = openssl("x509", "-in", crt, "-noout", "-fingerprint", "-sha256").decode()
        return out.strip().split("=", 1)[1].replace(":", "").lower()


_pki = None
_pki_lock = threading.Lock()


def pki():
    """The run's PKI, made on first use."""
    global _pki
    with _pki_lock:
        if _pki is None:
            _pki = Pki(SESSION_DIR / "pki")
        return _pki


def acl_text(principals=None, extra=""):
    out = ["; written by tests/integration/harness.py: fictitious principals"]
    for pid, (cn, roles, force) in (principals or PRINCIPALS).items():
        out += ["", "[%s]" % pid, "cn = %s" % cn, "roles = %s" % ", ".join(roles),
                "force = %s" % force]
    return "\n".join(out) + "\n" + extra


# --------------------------------------------------------------------------
# The daemon under test
# --------------------------------------------------------------------------

_running = set()
_running_lock = threading.Lock()


def kill_leftovers():
    """Called when the runner exits: no daemon outlives the suite."""
    with _running_lock:
        procs = list(_running)
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


class DaemonError(AssertionError):
    pass


class Daemon:
    """One disclosured in its own folder: configuration, ACL, certificates
    and key copied in (so a test may change them), store, log.  The
    configuration names them by relative paths and the daemon runs from
    another folder, so every start also tests that relative paths are
    relative to the configuration file's folder."""

    DEFAULTS = {
        "server": {"listen": None, "workers": "2", "max_connections": "256",
                   "request_timeout": "10", "max_body": "65536", "rate_limit": "0"},
        "tls": {"certificate": "server.crt", "private_key": "server.key",
                "client_ca": "clients-ca.crt", "crl": "clients.crl"},
        # 2 MiB of zeros ahead of the data: the writer's idle path runs in
        # every test, without writing the default 128 MiB for each daemon.
        "store": {"path": "store", "map_size": str(256 << 20), "preallocate": str(2 << 20)},
        "audit": {"signing_key": "audit-ed25519.pem", "checkpoint_every": "1000",
                  "checkpoint_seconds": "60"},
        "access": {"acl": "acl.conf"},
    }

    def __init__(self, name, conf=None, acl=None):
        self.pki = pki()
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=name + "-", dir=SESSION_DIR))
        p = self.pki
        shutil.copy(p.server_crt, self.dir / "server.crt")
        shutil.copy(p.server_key, self.dir / "server.key")
        os.chmod(self.dir / "server.key", 0o600)
        shutil.copy(p.client_ca, self.dir / "clients-ca.crt")
        shutil.copy(p.crl1, self.dir / "clients.crl")
        shutil.copy(p.audit_key, self.dir / "audit-ed25519.pem")
        os.chmod(self.dir / "audit-ed25519.pem", 0o600)
        (self.dir / "acl.conf").write_text(acl if acl is not None else acl_text())
        self.conf = {s: dict(kv) for s, kv in self.DEFAULTS.items()}
        for s, kv in (conf or {}).items():
            self.conf.setdefault(s, {}).update(kv)
        self.port = None
        self.proc = None
        self.conf_path = self.dir / "disclosured.conf"
        self.log_path = self.dir / "disclosured.log"
        self._clients = []
        self.write_conf()

    # -- files --
    def write_conf(self):
        if self.port is None:
            self.port = free_port()
        self.conf["server"]["listen"] = "127.0.0.1:%d" % self.port
        lines = ["; written by tests/integration/harness.py"]
        for section, kv in self.conf.items():
            lines += ["", "[%s]" % section]
            lines += ["%s = %s" % (k, v) for k, v in kv.items() if v is not None]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    # -- process --
    def start(self, wait=True, timeout=None, env=None, prefix=()):
        """Starts the daemon and, with wait, returns once /healthz answers.
        Other test runs share the machine: if the free port we picked was
        taken meanwhile, pick another and try again."""
        for attempt in range(3):
            size = len(self.log_text())
            try:
                return self._start_once(wait, timeout, env, prefix)
            except DaemonError:
                new = self.log_text()[size:].lower()
                if attempt == 2 or "in use" not in new:
                    raise
                self.port = None
                self.write_conf()

    def _start_once(self, wait, timeout, env, prefix):
        self.log = open(self.log_path, "ab")
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        self.proc = subprocess.Popen([*prefix, str(DAEMON_BIN), "-c", str(self.conf_path)],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, cwd=SESSION_DIR, env=full_env)
        with _running_lock:
            _running.add(self.proc)
        if wait:
            self.wait_ready(timeout or tmo(20))
        return self

    def run_once(self, *args, timeout=None):
        """Runs disclosured with other flags (--check-config...) to its exit."""
        return subprocess.run([str(DAEMON_BIN), *args], capture_output=True,
                              timeout=timeout or tmo(30), cwd=SESSION_DIR)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise DaemonError("disclosured exited with %s before serving; log:\n%s"
                                  % (self.proc.returncode, self.log_tail()))
            try:
                c = Client(self, "mon.wm", timeout=2)
                r = c.get("/healthz")
                c.close()
                if r.status == 200:
                    return
                last = "healthz answered %d" % r.status
            except (OSError, http.client.HTTPException, ssl.SSLError) as e:
                last = repr(e)
            time.sleep(0.05)
        self.proc.kill()  # hung: do not leave it to the end of the run
        self.proc.wait()
        self._forget()
        raise DaemonError("disclosured did not serve /healthz within %.0fs (%s); log:\n%s"
                          % (timeout, last, self.log_tail()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, expect_rc=0, timeout=None):
        """SIGTERM, then the exit status must be expect_rc (None: any)."""
        self.close_clients()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout or tmo(20))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._forget()
                raise DaemonError("disclosured did not exit within %ss of SIGTERM; log:\n%s"
                                  % (timeout or tmo(20), self.log_tail()))
        rc = self.proc.returncode
        self._forget()
        self.check_log_clean()
        if expect_rc is not None and rc != expect_rc:
            raise DaemonError("disclosured exited %s after SIGTERM, expected %s; log:\n%s"
                              % (rc, expect_rc, self.log_tail()))
        return rc

    def kill9(self):
        self.close_clients()
        self.proc.kill()
        self.proc.wait()
        self._forget()

    def _forget(self):
        with _running_lock:
            _running.discard(self.proc)
        try:
            self.log.close()
        except Exception:
            pass

    def check_log_clean(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise DaemonError("sanitizer report in the daemon's log:\n%s" % self.log_tail(80))

    # -- clients --
    def client(self, principal, **kw):
        c = Client(self, principal, **kw)
        self._clients.append(c)
        return c

    def close_clients(self):
        for c in self._clients:
            c.close()
        self._clients = []

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------

def tls_context(principal=None, verify_server=True, min_version=None, max_version=None):
    """A client context presenting principal's certificate (None: none)."""
    p = pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify_server:
        ctx.load_verify_locations(cafile=str(p.server_ca))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if principal is not None:
        crt, key = p.certs[principal]
        ctx.load_cert_chain(str(crt), str(key))
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def request_id(self):
        return self.header("X-Request-Id")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def ndjson(self):
        return [json.loads(l) for l in self.body.split(b"\n") if l.strip()]

    @property
    def error_code(self):
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None

    @property
    def error_field(self):
        try:
            return self.json()["error"].get("field")
        except Exception:
            return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Client:
    """An HTTPS client with one keep-alive connection (http.client)."""

    def __init__(self, daemon, principal, timeout=None, context=None):
        self.daemon = daemon
        self.principal = principal
        self.timeout = timeout or tmo(15)
        self.ctx = context or tls_context(principal)
        self.conn = None
        self.used = False

    def _connect(self):
        self.conn = http.client.HTTPSConnection("localhost", self.daemon.port,
                                                timeout=self.timeout, context=self.ctx)
        self.used = False

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        hdrs = {}
        if data is not None and ctype is not None:
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            reused = self.used
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                payload = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                # A keep-alive connection the server closed while idle: one
                # retry on a new connection, as any HTTP client does.
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            self.used = True
            resp = Response(r.status, r.reason, r.getheaders(), payload)
            if r.will_close:
                self.close()
            return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def recv_until_close(s, out=b""):
    """Reads from s until the peer closes; returns out and what came."""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def try_handshake_and_get(daemon, ctx, path="/healthz", timeout=None):
    """Connects with ctx and sends one GET.  Returns ("response", status)
    if an HTTP answer came back, ("refused", why) if the TLS handshake or
    the first read failed (in TLS 1.3 the server's verdict on the client
    certificate arrives after the client thinks the handshake is done)."""
    timeout = timeout or tmo(10)
    try:
        raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout)
    except OSError as e:
        return ("refused", "connect: %r" % e)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode())
        data = recv_until_close(s)
        if data.startswith(b"HTTP/1."):
            return ("response", int(data.split(b" ", 2)[1]))
        return ("refused", "closed without an HTTP answer (%r)" % data[:80])
    except (ssl.SSLError, OSError) as e:
        return ("refused", repr(e))
    finally:
        raw.close()


def raw_tls(daemon, principal, data, timeout=None, read_until_close=True, wait=None):
    """Sends data as-is on a new TLS connection and reads what comes back.
    Returns (bytes, closed): closed is True if the server closed the
    connection (EOF or reset) before the timeout."""
    timeout = timeout or tmo(5)
    raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout)
    s = tls_context(principal).wrap_socket(raw, server_hostname="localhost")
    try:
        try:
            if isinstance(data, (list, tuple)):
                for part in data:
                    s.sendall(part)
                    time.sleep(wait or 0.05)
            else:
                s.sendall(data)
        except (ssl.SSLError, BrokenPipeError, ConnectionResetError):
            # closed on us mid-request (an oversized header, say): what
            # it answered before closing may still be readable
            pass
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except (ssl.SSLError, ConnectionResetError):
                return out, True
            if not chunk:
                return out, True
            out += chunk
            if not read_until_close and b"\r\n\r\n" in out:
                resps = parse_responses(out)
                if resps and resps[-1].body is not None:
                    return out, False
        return out, False
    finally:
        s.close()


def parse_responses(data):
    """Splits a byte stream into HTTP/1.1 responses (Content-Length or
    close-delimited bodies).  The last one may have body None if cut."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
        if not m:
            break
        headers = []
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            headers.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
        r = Response(int(m.group(1)), m.group(2).decode("latin-1"), headers, None)
        cl = r.header("Content-Length")
        if 100 <= r.status < 200:  # interim answers have no body
            r.body, data = b"", rest
        elif cl is not None:
            n = int(cl)
            if len(rest) < n:
                r.body = None
                out.append(r)
                break
            r.body, data = rest[:n], rest[n:]
        else:
            r.body, data = rest, b""
        out.append(r)
    return out


def http_request_bytes(method, path, body=b"", ctype="application/json", extra_headers=(),
                       content_length=True, close=False):
    """A request written by hand, for what http.client refuses to send."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: localhost"]
    if body and ctype:
        lines.append("Content-Type: " + ctype)
    if content_length:
        lines.append("Content-Length: %d" % len(body))
    lines += list(extra_headers)
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class CurlResult:
    def __init__(self, rc, status, headers, body, stderr):
        self.rc, self.status, self.headers, self.body, self.stderr = rc, status, headers, body, stderr

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def curl(daemon, principal, method, path, data=None, ctype="application/json", extra=(),
         timeout=None):
    """Runs curl against the daemon presenting principal's certificate
    (None: no certificate)."""
    p = pki()
    work = Path(tempfile.mkdtemp(dir=daemon.dir, prefix="curl-"))
    cmd = ["curl", "-sS", "--max-time", str(int(timeout or tmo(15))), "--cacert", str(p.server_ca),
           "-X", method, "-D", str(work / "h"), "-o", str(work / "b"), "-w", "%{http_code}"]
    if principal is not None:
        crt, key = p.certs[principal]
        cmd += ["--cert", str(crt), "--key", str(key)]
    if data is not None:
        (work / "in").write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
        cmd += ["--data-binary", "@" + str(work / "in")]
        if ctype:
            cmd += ["-H", "Content-Type: " + ctype]
    cmd += list(extra) + [daemon.url(path)]
    r = subprocess.run(cmd, capture_output=True, timeout=(timeout or tmo(15)) + 5)
    headers = []
    try:
        for line in (work / "h").read_text(errors="replace").splitlines()[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers.append((k.strip(), v.strip()))
    except OSError:
        pass
    try:
        body = (work / "b").read_bytes()
    except OSError:
        body = b""
    shutil.rmtree(work, ignore_errors=True)
    status = int(r.stdout.decode() or 0) if r.stdout.decode().isdigit() else 0
    return CurlResult(r.returncode, status, headers, body, r.stderr.decode(errors="replace"))


# --------------------------------------------------------------------------
# disclosurectl, the project's own client
# --------------------------------------------------------------------------

def ctl_available():
    return CTL_BIN.exists()


def ctl(daemon, principal, *args, timeout=None, log=None, env_extra=None):
    p = pki()
    crt, key = p.certs[principal]
    cmd = [str(CTL_BIN), "--server", "https://localhost:%d" % daemon.port, "--cert", str(crt),
           "--key", str(key), "--ca", str(p.server_ca)]
    if log is not None:
        cmd += ["--log", str(log)]
    env = dict(os.environ)
    env["XDG_STATE_HOME"] = str(daemon.dir / "xdg-state")
    env["XDG_CONFIG_HOME"] = str(daemon.dir / "xdg-config")
    env.update(env_extra or {})
    return subprocess.run(cmd + list(args), capture_output=True, timeout=timeout or tmo(60),
                          env=env)


def ctl_raw(*args, timeout=None, cwd=None, env=None):
    return subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True,
                          timeout=timeout or tmo(60), cwd=cwd, env=env)


# --------------------------------------------------------------------------
# Fictitious people
# --------------------------------------------------------------------------

def fixture_records():
    """Hand-made fictitious records with names that no generated register
    uses, for checks whose answer a test knows in advance."""
    return [
        {"id": "WMP-T000001",
         "names": [{"given": "Tobias", "middle": "Quill", "family": "Farthingale", "kind": "primary"},
                   {"given": "Toby", "family": "Farthing", "kind": "alias"}],
         "dob": "1971-04-09", "sex": "M",
         "addresses": [{"text": "1 Nowhere Lane, Worcester", "postcode": "WR2 5QQ",
                        "from": "2019-02-01", "to": None}],
         "managing_force": FORCE_A, "status": "active", "mappa": {"category": 1, "level": 2},
         "risk_level": "high", "registration": {"start": "2012-01-01", "end": None},
         "convictions": [{"date": "2011-06-01", "offence": "fictitious offence A",
                          "victim_age_band": "under_13"}],
         "orders": [{"type": "SHPO", "start": "2012-03-01", "end": None,
                     "prohibitions": ["fictitious prohibition"]}],
         "updated": "2026-10-01T09:00:00Z"},
        # A namesake with the same date of birth, managed by the other force.
        {"id": "MET-T000001",
         "names": [{"given": "Tobias", "family": "Farthingale", "kind": "primary"}],
         "dob": "1971-04-09", "sex": "M",
         "addresses": [{"text": "9 Imaginary Road, London", "postcode": "SE1 7ZZ",
                        "from": "2020-01-01", "to": None}],
         "managing_force": FORCE_B, "status": "active", "mappa": {"category": 2, "level": 1},
         "risk_level": "medium", "updated": "2026-10-01T09:00:00Z"},
        # Names in other scripts, kept byte for byte.
        {"id": "WMP-T000002",
         "names": [{"given": "Zoltimir", "family": "Quennelbrook", "kind": "primary"},
                   {"given": "Зольтимир", "family": "Квеннелбрук", "kind": "alias"},
                   {"given": "Ζόλτιμιρ", "family": "Κουέννελμπρουκ", "kind": "alias"}],
         "dob": "1985-11-23", "sex": "M", "managing_force": FORCE_A, "status": "active"},
        {"id": "MET-T000002",
         "names": [{"given": "Ottoline", "family": "Brackenwhistle", "kind": "primary"},
                   {"given": "Lina", "family": "Brackenwhistle-Sable", "kind": "alias"}],
         "dob": "1979-02-14", "sex": "F", "managing_force": FORCE_B, "status": "in_custody"},
    ]


_GIVEN = ["Arlo", "Bexley", "Corvin", "Dellany", "Emrith", "Fennick", "Galwyn", "Hestor",
          "Ivrene", "Jaspin", "Kestrel", "Lorcan", "Marwen", "Nyssa", "Orrin", "Perrin",
          "Quenby", "Rowan", "Sefton", "Tamsin", "Ulric", "Verity", "Wystan", "Yarrow"]
_FAMILY = ["Ashdown", "Blackmere", "Coldharbour", "Dunthorpe", "Elderwick", "Foxcombe",
           "Greythorn", "Hollowell", "Ironside", "Juniper", "Kettleby", "Larkspur",
           "Mossbury", "Nettlefield", "Oakhanger", "Pennywhistle", "Quarrington",
           "Ravensworth", "Saltmarsh", "Thistlewood", "Underhill", "Vanebridge",
           "Whitlock", "Yewdale"]
_FORCES = [(FORCE_A, "WMP", ["WR", "HR", "SY", "TF"]), (FORCE_B, "MET", ["SE", "NW", "E", "N"])]


def small_register(seed, count):
    """A fictitious register from the harness's own pools (used when
    build/genregister does not exist)."""
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        force, prefix, areas = _FORCES[i % 2]
        given, family = rnd.choice(_GIVEN), rnd.choice(_FAMILY)
        names = [{"given": given, "family": family, "kind": "primary"}]
        if rnd.random() < 0.3:
            names.append({"given": rnd.choice(_GIVEN), "family": family, "kind": "alias"})
        pc = "%s%d %d%s" % (rnd.choice(areas), rnd.randint(1, 20), rnd.randint(1, 9),
                            "".join(rnd.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2)))
        out.append({"id": "%s-G%06d" % (prefix, i), "names": names,
                    "dob": "%04d-%02d-%02d" % (rnd.randint(1940, 2004), rnd.randint(1, 12),
                                               rnd.randint(1, 28)),
                    "sex": rnd.choice("MF"),
                    "addresses": [{"text": "%d Made-up Street" % rnd.randint(1, 200),
                                   "postcode": pc, "from": "2018-01-01", "to": None}],
                    "managing_force": force, "status": "active",
                    "mappa": {"category": rnd.randint(1, 3), "level": rnd.randint(1, 3)}})
    return out


def register_lines(seed=7, count=2000):
    """NDJSON lines (bytes) of a fictitious register: build/genregister's
    if it exists and works, else small_register()."""
    if GENREGISTER_BIN.exists():
        out = SESSION_DIR / ("register-%d-%d.jsonl" % (seed, count))
        if not out.exists():
            r = subprocess.run([str(GENREGISTER_BIN), "--seed", str(seed), "--count", str(count),
                                "-o", str(out)], capture_output=True, timeout=tmo(60))
            if r.returncode != 0:
                out.unlink(missing_ok=True)
        if out.exists():
            lines = [l for l in out.read_bytes().split(b"\n") if l.strip()]
            if len(lines) == count:
                return lines
    return [json.dumps(r).encode() for r in small_register(seed, count)]


def namesakes(prefix, given, family, n, force="west-mercia"):
    """n fictitious people of one name, born on n different days, with no
    address: nothing but the name tells them apart."""
    return [{"id": "%s%04d" % (prefix, i),
             "names": [{"given": given, "family": family, "kind": "primary"}],
             "dob": "19%02d-%02d-%02d" % (50 + i, 1 + i % 12, 1 + i),
             "managing_force": force, "status": "active"} for i in range(n)]


def scrape(daemon):
    """The daemon's /metrics (read as mon.met), Prometheus text ->
    {(name, frozenset(labels)): value}."""
    out = {}
    text = daemon.client("mon.met").get("/metrics").body.decode()
    for line in text.splitlines():
        m = re.match(r'^(\w+)(?:\{([^}]*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def check_body(given="Tobias", family="Farthingale", dob="1971-04-09", case_ref="WM-CSODS-2026-0001",
               purpose="csods_right_to_ask",
               justification="Fictitious applicant's new partner has contact with her child",
               **subject):
    name = {"family": family}
    if given is not None:
        name["given"] = given
    sub = {"names": [name]}
    if dob is not None:
        sub["dob"] = dob
    sub.update(subject)
    return {"case_ref": case_ref, "purpose": purpose, "justification": justification,
            "subject": sub}


def load_records(daemon, records, principal="reg.wm"):
    """Loads records (dicts or NDJSON bytes lines) through the API: bulk
    import, or one PUT each if bulk is not there.  Raises SkipTest if the
    daemon has neither (the tests that need records then say why)."""
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    c = Client(daemon, principal, timeout=tmo(120))
    try:
        r = c.post("/v1/offenders/_bulk", b"\n".join(lines) + b"\n", ctype="application/x-ndjson")
        if r.status == 200:
            j = r.json()
            if j.get("rejected"):
                raise AssertionError("bulk import rejected fixture lines: %r" % j["rejected"][:5])
            return j
        bulk_status = r.status
        first = json.loads(lines[0])
        r = c.put("/v1/offenders/" + first["id"], lines[0])
        if r.status not in (200, 201):
            raise unittest.SkipTest("daemon: neither bulk import (%d) nor PUT /v1/offenders (%d) "
                                    "works, cannot load records" % (bulk_status, r.status))
        for line in lines[1:]:
            rid = json.loads(line)["id"]
            r = c.put("/v1/offenders/" + rid, line)
            if r.status not in (200, 201):
                raise AssertionError("PUT %s: %r" % (rid, r))
        return {"created": len(lines)}
    finally:
        c.close()


# --------------------------------------------------------------------------
# Audit export
# --------------------------------------------------------------------------

def export_audit(daemon, principal="aud.nat", limit=1000, start=0):
    """Pages through GET /v1/audit until a page shorter than limit; returns
    the raw lines (bytes, without newline)."""
    c = Client(daemon, principal, timeout=tmo(60))
    lines = []
    frm = start
    try:
        for _ in range(100000):
            r = c.get("/v1/audit?from=%d&limit=%d" % (frm, limit))
            if r.status != 200:
                raise AssertionError("GET /v1/audit?from=%d&limit=%d: %r" % (frm, limit, r))
            page = [l for l in r.body.split(b"\n") if l]
            lines += page
            if len(page) < limit:
                return lines
            frm = json.loads(page[-1])["seq"] + 1
    finally:
        c.close()
    raise AssertionError("audit export did not end")


def audit_entries(lines):
    return [json.loads(l) for l in lines]


class DaemonTestCase(unittest.TestCase):
    """A test class sharing one daemon.  Subclasses set daemon_conf,
    records (list or None) and verify_audit.  tearDownClass verifies the
    audit chain with audit_verify (and disclosurectl if built), then stops
    the daemon with SIGTERM and requires exit status 0."""

    daemon_conf = None
    daemon_acl = None
    records = None
    verify_audit = True
    daemon = None

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(cls.__name__.lower(), conf=cls.daemon_conf, acl=cls.daemon_acl)
        cls.daemon.start()
        cls.loaded = None
        try:
            if cls.records is not None:
                cls.loaded = load_records(cls.daemon, cls.records)
        except BaseException:
            cls.daemon.stop(expect_rc=None)
            raise

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        if d is None:
            return
        try:
            if cls.verify_audit and d.alive():
                verify_daemon_audit(d)
        finally:
            d.stop()

    def setUp(self):
        if not self.daemon.alive():
            self.fail("disclosured is not running (exit %s); log:\n%s"
                      % (self.daemon.proc.returncode, self.daemon.log_tail()))

    def tearDown(self):
        if not self.daemon.alive():
            self.fail("disclosured died during the test (exit %s); log:\n%s"
                      % (self.daemon.proc.returncode, self.daemon.log_tail()))
        # Each test's keep-alive clients end with it: left open, a class
        # of many tests reached max_connections_per_principal (64) and
        # its later tests were answered 429.
        self.daemon.close_clients()

    def client(self, principal):
        return self.daemon.client(principal)

    def assertContractError(self, r, status, code):
        """r is an error in the contract's shape: status, JSON
        {"error": {"code", "message"}} and an X-Request-Id."""
        self.assertEqual(r.status, status, r)
        self.assertIn("application/json", r.header("Content-Type", ""), r)
        j = json.loads(r.body)
        self.assertEqual(set(j), {"error"}, j)
        self.assertEqual(j["error"]["code"], code, j)
        self.assertIsInstance(j["error"]["message"], str)
        self.assertTrue(j["error"]["message"])
        self.assertTrue(r.header("X-Request-Id"), "no X-Request-Id on a %d" % status)


class CheckLoad:
    """Threads posting checks as fast as the daemon answers, one keep-alive
    connection each, recording every acknowledged check (its receipt) and
    every status.  A connection error ends a thread: that is how they learn
    the daemon was killed or stopped."""

    def __init__(self, daemon, principals=("cw.wm", "cw.met", "do.wm", "do.nat"), tag="LOAD"):
        self.daemon = daemon
        self.principals = principals
        self.tag = tag
        self.acked = []     # (check_id, seq, hash, request_id, principal)
        self.statuses = []
        self.errors = []    # exceptions that ended a thread (expected after a kill)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def _worker(self, principal, n):
        c = Client(self.daemon, principal, timeout=tmo(10))
        i = 0
        try:
            while not self.stopping.is_set():
                try:
                    r = c.post("/v1/checks", check_body(case_ref="%s-%d-%d" % (self.tag, n, i)))
                except Exception as e:
                    with self.lock:
                        self.errors.append(repr(e))
                    return
                with self.lock:
                    self.statuses.append(r.status)
                    if r.status == 200:
                        j = r.json()
                        self.acked.append((j["check_id"], j["audit"]["seq"], j["audit"]["hash"],
                                           r.request_id, principal))
                i += 1
        finally:
            c.close()

    def start(self):
        self.threads = [threading.Thread(target=self._worker, args=(p, n), daemon=True)
                        for n, p in enumerate(self.principals)]
        for t in self.threads:
            t.start()
        return self

    def wait_for(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or tmo(20))
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acked) >= n:
                    return True
            time.sleep(0.02)
        return False

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(tmo(15))
        with self.lock:
            return list(self.acked)


def assert_receipts_in(testcase, entries, acked):
    """Every acknowledged check is in the log, at its seq, with its hash."""
    by_seq = {e["seq"]: e for e in entries}
    for cid, seq, h, rid, principal in acked:
        e = by_seq.get(seq)
        testcase.assertIsNotNone(e, "acknowledged check %s (seq %d) is gone" % (cid, seq))
        testcase.assertEqual(e["hash"], h, "the entry at seq %d is not the receipt's" % seq)
        testcase.assertEqual(e["action"], "check.create")
        testcase.assertEqual(e["request_id"], rid)
        testcase.assertEqual(e["result"]["check_id"], cid)
        testcase.assertEqual(e["principal"], principal)


def verify_daemon_audit(daemon):
    """Exports the daemon's audit log and verifies it completely (own
    verifier; and disclosurectl audit verify when it is built)."""
    import audit_verify
    lines = export_audit(daemon)
    res = audit_verify.verify_lines(lines, pki().audit_pub)
    if not res.ok:
        path = daemon.dir / "audit-export.ndjson"
        path.write_bytes(b"\n".join(lines) + b"\n")
        raise AssertionError("audit export does not verify: %s (export in %s)" % (res.msg, path))
    if ctl_available():
        path = daemon.dir / "audit-export.ndjson"
        path.write_bytes(b"\n".join(lines) + b"\n")
        r = ctl_raw("audit", "verify", path, "--key", pki().audit_pub)
        if r.returncode != 0:
            raise AssertionError("disclosurectl audit verify refused an export the Python verifier "
                                 "accepts (exit %d): %s %s" % (r.returncode, r.stdout.decode(),
                                                               r.stderr.decode()))
    return lines


def find_entry(entries, request_id):
    for e in entries:
        if e.get("request_id") == request_id:
            return e
    return None


HEX64 = re.compile(r"^[0-9a-f]{64}$")


if __name__ == "__main__":
    print("harness.py is a library; run tests/integration/run.py", file=sys.stderr)
    sys.exit(2)
