"""test_faults.py - faults an operator meets: bad keys and files at start
(the daemon refuses and says why), broken files on SIGHUP (the old ones
stay, the error is logged, service goes on), and a full store (checks get
503 without candidates, the daemon stays up).
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import tempfile
import unittest
from pathlib import Path

from harness import (BUILD, SESSION_DIR, FORCE_A, FORCE_B, PRINCIPALS, CheckLoad, Daemon, DaemonTestCase, acl_text,
                     audit_entries, check_body, export_audit, fixture_records, load_records, openssl, pki,
                     tls_context, tmo, try_handshake_and_get)

PERMISSION_WORDS = ("readable", "permission", "mode", "group", "other", "0644", "0640", "644", "640")


class CommandLine(unittest.TestCase):

    def test_version_and_help_exit_0(self):
        d = Daemon("flags")
        for flag in ("--version", "--help"):
            with self.subTest(flag=flag):
                r = d.run_once(flag)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.strip() or r.stderr.strip())

    def test_bad_flags_exit_2(self):
        d = Daemon("flags")
        for args in (["--no-such-flag"], ["-c"], ["-c", "a.conf", "extra-argument"]):
            with self.subTest(args=args):
                r = d.run_once(*args)
                self.assertEqual(r.returncode, 2, (r.stdout, r.stderr))

    def test_check_config_accepts_a_good_configuration(self):
        d = Daemon("checkconf")
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_config_names_the_line_of_an_unknown_section(self):
        d = Daemon("checkconf", conf={"extras": {"colour": "blue"}})
        text = d.conf_path.read_text().splitlines()
        line = [i + 1 for i, l in enumerate(text) if l.startswith("[extras]")][0]
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        self.assertEqual(r.returncode, 1)
        out = (r.stdout + r.stderr).decode()
        self.assertIn("extras", out)
        self.assertIn(str(line), out, "the message does not give line %d: %s" % (line, out))

    def test_check_config_refuses_a_crl_past_its_next_update(self):
        # It said "is OK" (exit 0), and the unit's ExecStartPre let through
        # a CRL that refuses every client.
        d = Daemon("checkconf")
        shutil.copy(pki().stale_crl(), d.dir / "clients.crl")
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        out = (r.stdout + r.stderr).decode()
        self.assertEqual(r.returncode, 1, out)
        self.assertIn(str(d.dir / "clients.crl"), out)
        self.assertIn("past its next update (%s" % time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                                 pki().stale_crl_next), out)
        self.assertNotIn("is OK", out)

    def test_check_config_names_the_line_of_an_unknown_key(self):
        d = Daemon("checkconf", conf={"server": {"lisen": "127.0.0.1:1"}})
        text = d.conf_path.read_text().splitlines()
        line = [i + 1 for i, l in enumerate(text) if l.startswith("lisen")][0]
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        self.assertEqual(r.returncode, 1)
        out = (r.stdout + r.stderr).decode()
        self.assertIn("lisen", out)
        self.assertIn(str(line), out, "the message does not give line %d: %s" % (line, out))

    def check(self, d):
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    def line_of(self, d, prefix):
        text = d.conf_path.read_text().splitlines()
        return [i + 1 for i, l in enumerate(text) if l.startswith(prefix)][0]

    def test_check_config_refuses_a_listen_host_that_does_not_resolve(self):
        # It said "is OK", and the daemon then stopped at start with
        # "Name or service not known".
        d = Daemon("checkconf")
        d.conf_path.write_text(d.conf_path.read_text().replace(
            "listen = 127.0.0.1:%d" % d.port, "listen = nosuchhost.invalid:%d" % d.port))
        rc, out = self.check(d)
        self.assertEqual(rc, 1, out)
        self.assertIn("%s:%d: [server] listen nosuchhost.invalid:%d: the host does not resolve"
                      % (d.conf_path, self.line_of(d, "listen"), d.port), out)
        self.assertIn("0.0.0.0:%d" % d.port, out, "the message does not say what to write")
        self.assertNotIn("is OK", out)

    def test_check_config_says_every_problem_not_only_the_first(self):
        # disclosured(8) promises every problem; it stopped at the first
        # syntax error ("workers must be ...") and said nothing of the rest.
        d = Daemon("checkconf", conf={"server": {"workers": "0"}, "srever": {"workers": "2"},
                                      "audit": {"signing_key": "no-such-key.pem"}})
        text = d.conf_path.read_text().replace("listen = 127.0.0.1:%d" % d.port,
                                               "listen = 127.0.0.1:70000")
        d.conf_path.write_text(text + "this line is no key\n")
        rc, out = self.check(d)
        self.assertEqual(rc, 1, out)
        conf = str(d.conf_path)
        for want in ("%s:%d: workers must be a whole number from 1 to 256, not '0'"
                     % (conf, self.line_of(d, "workers = 0")),
                     "%s:%d: unknown section [srever]" % (conf, self.line_of(d, "[srever]")),
                     "%s:%d: listen: port '70000' is not a number from 1 to 65535"
                     % (conf, self.line_of(d, "listen")),
                     "%s:%d: expected 'key = value'" % (conf, len(text.splitlines()) + 1),
                     "no-such-key.pem",
                     "5 problems"):
            self.assertIn(want, out)
        # The keys of the unknown section are not blamed one by one.
        self.assertNotIn("unknown key 'workers'", out)
        self.assertNotIn("is OK", out)

    def test_check_config_says_every_problem_of_the_acl(self):
        d = Daemon("checkconf", acl=acl_text() + "\n[typo]\ncn = x\nroles = casewroker\nforce = x\n"
                   "\n[bad id!]\ncn = y\n\n[nocn]\nroles = monitor\nforce = x\n")
        rc, out = self.check(d)
        self.assertEqual(rc, 1, out)
        self.assertIn("unknown role 'casewroker'", out)
        self.assertIn("principal id [bad id!]", out)
        self.assertIn("[nocn] lacks 'cn'", out)
        self.assertNotIn("[typo] lacks", out, "a refused key is said twice")
        self.assertIn("3 problems", out)

    def store_parent_refused(self, d, parent):
        d.conf["store"]["path"] = str(parent / "store")
        d.write_conf()

    def test_check_config_refuses_a_store_whose_folder_does_not_exist(self):
        d = Daemon("checkconf")
        self.store_parent_refused(d, d.dir / "no-such-folder")
        rc, out = self.check(d)
        self.assertEqual(rc, 1, out)
        self.assertIn("[store] path %s" % (d.dir / "no-such-folder" / "store"), out)
        self.assertIn("does not exist", out)
        self.assertIn("install -d", out)

    def test_check_config_refuses_a_store_this_user_cannot_create(self):
        # "store ...: cannot create it: Permission denied" at start, after
        # --check-config had said "is OK".  As root, run the check as nobody
        # in a folder nobody may read (and not write).
        top = Path(tempfile.mkdtemp(prefix="storeperm-", dir=SESSION_DIR.parent))
        try:
            d = Daemon("checkconf")
            work = top / "conf"
            shutil.copytree(d.dir, work)
            locked = top / "locked"
            locked.mkdir()
            for p in [top, work, *work.iterdir()]:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            os.chmod(locked, 0o555)
            conf = work / "disclosured.conf"
            conf.write_text(conf.read_text().replace("path = store", "path = %s/store" % locked))
            cmd = [str(BUILD / "disclosured"), "-c", str(conf), "--check-config"]
            if os.geteuid() == 0:
                cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
            r = subprocess.run(cmd, capture_output=True, timeout=tmo(30), cwd=str(top))
            out = (r.stdout + r.stderr).decode(errors="replace")
            self.assertEqual(r.returncode, 1, out)
            self.assertIn("[store] path %s/store: cannot be created as this user, uid %d"
                          % (locked, 65534 if os.geteuid() == 0 else os.geteuid()), out)
            self.assertIn("Permission denied", out)
        finally:
            shutil.rmtree(top)

    def test_check_config_refuses_a_store_file_this_user_cannot_write(self):
        # A daemon run by hand as root leaves files the service user cannot
        # open; the unit then fails at start with "Permission denied".
        if os.geteuid() == 0:
            self.skipTest("root writes a file of mode 0400 all the same")
        d = Daemon("checkconf")
        (d.dir / "store").mkdir()
        (d.dir / "store" / "lock.mdb").write_text("")
        os.chmod(d.dir / "store" / "lock.mdb", 0o400)
        rc, out = self.check(d)
        self.assertEqual(rc, 1, out)
        self.assertIn("lock.mdb cannot be written as this user", out)


class StartupRefusals(unittest.TestCase):
    """Each case breaks one thing; the daemon must exit 1 without serving
    and say what is wrong (naming the file), and --check-config too."""

    def refuse(self, d, must_name, any_of=None):
        r = d.run_once("-c", str(d.conf_path), "--check-config")
        out = (r.stdout + r.stderr).decode(errors="replace")
        self.assertEqual(r.returncode, 1, "--check-config accepted it: %s" % out)
        self.assertIn(must_name, out)
        d.start(wait=False)
        try:
            rc = d.proc.wait(tmo(20))
        except Exception:
            d.stop(expect_rc=None)
            self.fail("the daemon started anyway")
        d._forget()
        log = d.log_text()
        self.assertEqual(rc, 1, log)
        self.assertIn(must_name, log, "the refusal does not name %s: %s" % (must_name, log))
        if any_of:
            self.assertTrue(any(w in log.lower() for w in any_of),
                            "the refusal does not say why (%s): %s" % ("/".join(any_of), log))
        d.check_log_clean()

    def test_a_world_readable_audit_key_is_refused(self):
        d = Daemon("badkey")
        os.chmod(d.dir / "audit-ed25519.pem", 0o644)
        self.refuse(d, "audit-ed25519.pem", PERMISSION_WORDS)

    def test_a_group_readable_audit_key_is_refused(self):
        d = Daemon("badkey")
        os.chmod(d.dir / "audit-ed25519.pem", 0o640)
        self.refuse(d, "audit-ed25519.pem", PERMISSION_WORDS)

    def test_a_missing_audit_key_is_refused(self):
        d = Daemon("badkey", conf={"audit": {"signing_key": "no-such-key.pem"}})
        self.refuse(d, "no-such-key.pem")

    def test_an_audit_key_that_is_not_ed25519_is_refused(self):
        d = Daemon("badkey")
        k = d.dir / "audit-ed25519.pem"
        k.unlink()
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k)
        os.chmod(k, 0o600)
        self.refuse(d, "audit-ed25519.pem")

    def test_an_unreadable_audit_key_is_refused(self):
        d = Daemon("badkey")
        (d.dir / "audit-ed25519.pem").write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n")
        self.refuse(d, "audit-ed25519.pem")

    @unittest.skipIf(os.geteuid() == 0, "root reads a file of mode 000 all the same")
    def test_an_audit_key_the_daemon_cannot_read_is_refused(self):
        d = Daemon("badkey")
        os.chmod(d.dir / "audit-ed25519.pem", 0o000)
        self.refuse(d, "audit-ed25519.pem")

    def test_a_world_readable_tls_private_key_is_refused(self):
        d = Daemon("badtlskey")
        os.chmod(d.dir / "server.key", 0o644)
        self.refuse(d, "server.key", PERMISSION_WORDS)

    def test_a_tls_key_that_does_not_match_the_certificate_is_refused(self):
        d = Daemon("badtlskey")
        shutil.copy(pki().server2_key, d.dir / "server.key")
        os.chmod(d.dir / "server.key", 0o600)
        self.refuse(d, "server")

    def test_an_acl_with_an_unknown_role_is_refused(self):
        d = Daemon("badacl", acl=acl_text() + "\n[typo]\ncn = x\nroles = casewroker\nforce = x\n")
        self.refuse(d, "casewroker")

    def test_a_certificate_file_that_is_not_pem_says_so(self):
        # OpenSSL's own words were all the message held: "PEM lib".
        d = Daemon("badcert")
        (d.dir / "server.crt").write_text("not a certificate\n")
        self.refuse(d, "server.crt", ("no pem certificate",))
        d = Daemon("dircert")
        (d.dir / "server.crt").unlink()
        (d.dir / "server.crt").mkdir()
        self.refuse(d, "server.crt", ("not a regular file",))

    def test_an_acl_without_principals_is_refused(self):
        # --check-config said so and the daemon started all the same,
        # refusing every request it was sent.
        d = Daemon("emptyacl", acl="; every principal commented out\n")
        self.refuse(d, "no principals")

    def test_a_missing_client_ca_is_refused(self):
        d = Daemon("badca", conf={"tls": {"client_ca": "nowhere-ca.crt"}})
        self.refuse(d, "nowhere-ca.crt")

    def test_a_client_ca_that_is_a_leaf_certificate_is_refused(self):
        # A leaf given by mistake loaded, and then every client handshake
        # failed.
        d = Daemon("badca")
        shutil.copy(pki().server_crt, d.dir / "clients-ca.crt")
        self.refuse(d, "[tls] client_ca %s: certificate 1 of 1 in it (CN=localhost) is not a CA"
                    % (d.dir / "clients-ca.crt"))

    def test_a_client_ca_file_of_many_cas_is_refused_as_a_public_bundle(self):
        # Public CAs issue certificates with any CN one can show to own;
        # the ACL gives roles by CN.
        d = Daemon("bundleca")
        with open(d.dir / "clients-ca.crt", "ab") as out:
            for i in range(20):
                key, crt = d.dir / ("ca%d.key" % i), d.dir / ("ca%d.crt" % i)
                openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-subj", "/CN=Itest Public CA %d" % i, "-days", "2",
                        "-addext", "basicConstraints=critical,CA:TRUE")
                out.write(crt.read_bytes())
        self.refuse(d, "(21 certificates) looks like the system's public CAs", ("acl.conf",))

    @unittest.skipUnless(os.path.exists("/etc/ssl/certs/ca-certificates.crt"),
                         "no distribution bundle here")
    def test_the_distribution_bundle_as_client_ca_is_refused(self):
        d = Daemon("bundleca", conf={"tls": {"client_ca": "/etc/ssl/certs/ca-certificates.crt"}})
        self.refuse(d, "/etc/ssl/certs/ca-certificates.crt", ("public cas",))

    def test_a_server_certificate_without_server_auth_is_refused(self):
        # A clientAuth-only certificate loaded and matched its key; every
        # client then refused the server.
        d = Daemon("clientcert")
        crt, key = pki().certs["cw.wm"]
        shutil.copy(crt, d.dir / "server.crt")
        shutil.copy(key, d.dir / "server.key")
        os.chmod(d.dir / "server.key", 0o600)
        self.refuse(d, "[tls] certificate %s is not a TLS server certificate: its "
                    "extendedKeyUsage does not include serverAuth" % (d.dir / "server.crt"),
                    ("mkpki.sh server",))

    def test_an_acl_others_may_write_is_refused(self):
        d = Daemon("openacl")
        os.chmod(d.dir / "acl.conf", 0o666)
        self.refuse(d, "acl %s is writable by others (mode 666): any user of this machine could "
                    "give themselves a role; take that away: chmod o-w %s"
                    % (d.dir / "acl.conf", d.dir / "acl.conf"))

    def test_a_configuration_others_may_write_is_refused(self):
        d = Daemon("openconf")
        os.chmod(d.conf_path, 0o602)
        self.refuse(d, "configuration %s is writable by others (mode 602)" % d.conf_path,
                    ("chmod o-w",))


class SecondInstance(unittest.TestCase):
    """The store has one writer (design notes, section 5).  A second daemon
    started on the same store, by an operator's slip or an overlapping
    restart, must refuse to start rather than take the log over: the first
    one would otherwise answer 503 to everything from then on."""

    def second_refuses(self, share, what):
        """Starts a daemon, and a second one sharing with it what share()
        sets in the second's configuration; the second must exit 1 and say
        why.  Returns the first (serving) and the second's log."""
        first = Daemon("first").start()
        second = Daemon("second")
        share(first, second)
        second.write_conf()
        try:
            second.start(wait=False)
            try:
                rc = second.proc.wait(tmo(10))
            except Exception:
                rc = None
            self.assertEqual(rc, 1, "a second daemon is serving the same %s" % what)
            second._forget()
            return first, second.log_text()
        except BaseException:
            for d in (second, first):
                if d.alive():
                    d.stop(expect_rc=None)
            raise

    def test_a_second_daemon_on_the_same_store_refuses_to_start(self):
        def share(first, second):
            second.conf["store"]["path"] = str(first.dir / "store")
        first, log = self.second_refuses(share, "store")
        try:
            self.assertIn(str(first.dir / "store"), log)
            r = first.client("cw.wm").post("/v1/checks", check_body(case_ref="FIRST-1"))
            self.assertEqual(r.status, 200, "the first daemon lost its store: %r" % r)
            first.stop()
        finally:
            if first.alive():
                first.stop(expect_rc=None)

    def test_a_second_daemon_on_the_same_port_refuses_to_start(self):
        # Each daemon with its own store, one port: with SO_REUSEPORT the
        # second started and the kernel gave it part of the first one's
        # connections, so a check could meet an empty register.
        def share(first, second):
            second.port = first.port
        first, log = self.second_refuses(share, "port")
        try:
            self.assertIn("127.0.0.1:%d" % first.port, log)
            self.assertIn("in use", log)
            load_records(first, fixture_records())
            for _ in range(8):
                h = first.client("cw.wm").get("/healthz")
                self.assertEqual(h.status, 200)
                self.assertEqual(json.loads(h.body)["records"], len(fixture_records()))
            first.stop()
        finally:
            if first.alive():
                first.stop(expect_rc=None)

    def test_the_offline_loader_refuses_a_store_a_daemon_serves(self):
        # store-import writes no audit entry, and the daemon's readers
        # would not see its commits (lib/store.c, struct vslot): it takes
        # the daemon's lock on the store, and waits for no one.
        d = Daemon("served").start()
        reg = d.dir / "register.jsonl"
        reg.write_text("".join(json.dumps(r) + "\n" for r in fixture_records()))
        tool = [str(BUILD / "store-import"), "--quiet", "--map-size", str(256 << 20),
                str(d.dir / "store"), str(reg)]
        try:
            r = subprocess.run(tool, capture_output=True, text=True, timeout=tmo(60))
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("in use by another process (pid %d)" % d.proc.pid, r.stderr)
            self.assertIn("disclosurectl import", r.stderr)
            h = d.client("cw.wm").get("/healthz")
            self.assertEqual(h.status, 200)
            self.assertEqual(json.loads(h.body)["records"], 0, "the refused import wrote records")
            d.stop()
            # With the daemon gone the store is the loader's.
            r = subprocess.run(tool, capture_output=True, text=True, timeout=tmo(60))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            if d.alive():
                d.stop(expect_rc=None)


def presented_fingerprint(daemon):
    ctx = tls_context("cw.wm")
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=tmo(10)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def pem_fingerprint(path):
    der = openssl("x509", "-in", path, "-outform", "DER")
    return hashlib.sha256(der).hexdigest()


class ReloadOnSighup(DaemonTestCase):
    """Every test puts the files back and reloads, so order does not matter."""

    def hup_and_settle(self):
        size = len(self.daemon.log_text())
        self.daemon.signal(1)  # SIGHUP
        deadline = time.monotonic() + tmo(5)
        while time.monotonic() < deadline and len(self.daemon.log_text()) == size:
            time.sleep(0.05)
        time.sleep(0.2)
        self.assertTrue(self.daemon.alive(), "SIGHUP killed the daemon:\n" + self.daemon.log_tail())

    def poll(self, fn, what):
        deadline = time.monotonic() + tmo(5)
        while time.monotonic() < deadline:
            if fn():
                return
            time.sleep(0.1)
        self.fail("after SIGHUP: " + what)

    def restore(self, name, src, mode=None):
        shutil.copy(src, self.daemon.dir / name)
        if mode:
            os.chmod(self.daemon.dir / name, mode)

    def test_a_broken_certificate_keeps_the_old_one_and_logs_why(self):
        old = presented_fingerprint(self.daemon)
        (self.daemon.dir / "server.crt").write_text("-----BEGIN CERTIFICATE-----\nbroken\n")
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(presented_fingerprint(self.daemon), old)
            self.assertEqual(self.client("cw.wm").get("/healthz").status, 200)
            new_log = self.daemon.log_text()[len(before):]
            self.assertIn("server.crt", new_log, "the failed reload is not logged with the file")
        finally:
            self.restore("server.crt", pki().server_crt)
            self.hup_and_settle()

    def test_a_new_certificate_is_served_and_open_connections_stay(self):
        c = self.client("cw.wm")
        self.assertEqual(c.get("/healthz").status, 200)
        sock = c.conn.sock
        self.restore("server.crt", pki().server2_crt)
        self.restore("server.key", pki().server2_key, 0o600)
        try:
            self.hup_and_settle()
            want = pem_fingerprint(pki().server2_crt)
            self.poll(lambda: presented_fingerprint(self.daemon) == want,
                      "the new certificate is not presented")
            self.assertEqual(c.get("/healthz").status, 200)
            self.assertIs(c.conn.sock, sock, "the reload dropped an open connection")
        finally:
            self.restore("server.crt", pki().server_crt)
            self.restore("server.key", pki().server_key, 0o600)
            self.hup_and_settle()

    def test_a_broken_acl_keeps_the_old_one(self):
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        acl.write_text(good + "\n[typo]\ncn = x\nroles = casewroker\nforce = x\n")
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(self.client("cw.wm").get("/healthz").status, 200)
            self.assertIn("casewroker", self.daemon.log_text()[len(before):])
        finally:
            acl.write_text(good)
            self.hup_and_settle()

    def test_an_acl_others_may_write_keeps_the_old_one(self):
        # Anyone could have written the new principal in: the reload must
        # not take it, as it takes no broken ACL.
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        acl.write_text(good + "\n[newbie.wm]\ncn = itest.newbie.wm\nroles = auditor\nforce = *\n")
        os.chmod(acl, 0o646)
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(self.client("newbie").get("/healthz").status, 403,
                             "a principal written into an ACL others may write was admitted")
            self.assertEqual(self.client("cw.wm").get("/healthz").status, 200)
            self.assertIn("reload: keeping the old ACL: acl %s is writable by others (mode 646)"
                          % acl, self.daemon.log_text()[len(before):])
        finally:
            os.chmod(acl, 0o644)
            acl.write_text(good)
            self.hup_and_settle()

    def test_a_client_ca_that_is_a_leaf_keeps_the_old_one(self):
        ca = self.daemon.dir / "clients-ca.crt"
        shutil.copy(pki().server_crt, ca)
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(self.client("cw.wm").get("/healthz").status, 200)
            self.assertIn("reload: keeping the old TLS certificate, key and CRL", self.daemon.log_text()[len(before):])
            self.assertIn("is not a CA (a client's or the server's own?)", self.daemon.log_text()[len(before):])
        finally:
            self.restore("clients-ca.crt", pki().client_ca)
            self.hup_and_settle()

    def test_a_new_acl_admits_a_new_principal(self):
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        self.assertEqual(self.client("newbie").get("/healthz").status, 403)
        acl.write_text(good + "\n[newbie.wm]\ncn = itest.newbie.wm\nroles = monitor\n"
                       "force = west-mercia\n")
        try:
            self.hup_and_settle()

            def admitted():
                from harness import Client
                c = Client(self.daemon, "newbie")
                try:
                    return c.get("/healthz").status == 200
                finally:
                    c.close()
            self.poll(admitted, "the principal added to the ACL is still refused")
        finally:
            acl.write_text(good)
            self.hup_and_settle()

    def test_a_tls_key_made_world_readable_is_not_taken_on_reload(self):
        key = self.daemon.dir / "server.key"
        os.chmod(key, 0o644)
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(self.client("cw.wm").get("/healthz").status, 200)
            self.assertIn("server.key", self.daemon.log_text()[len(before):],
                          "the refused key is not named in the log")
        finally:
            os.chmod(key, 0o600)
            self.hup_and_settle()

    def test_an_open_connections_audit_entries_follow_an_acl_change(self):
        # The daemon makes a connection's principal, roles and force for its
        # audit entries once and shares them between its requests: an ACL
        # reload must make them again, or the log would record what the
        # principal no longer is.
        c = self.client("cw2.wm")
        first = c.post("/v1/checks", check_body(case_ref="ACL-1"))
        self.assertEqual(first.status, 200, first)
        sock = c.conn.sock
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        changed = dict(PRINCIPALS)
        cn, _, _ = changed["cw2.wm"]
        changed["cw2.wm"] = (cn, ["caseworker", "monitor"], FORCE_B)
        acl.write_text(acl_text(changed))
        try:
            self.hup_and_settle()
            second = c.post("/v1/checks", check_body(case_ref="ACL-2"))
            self.assertEqual(second.status, 200, second)
            self.assertIs(c.conn.sock, sock, "the reload dropped the open connection")
            entries = {e.get("request_id"): e for e in audit_entries(export_audit(self.daemon))}
            before, after = entries[first.request_id], entries[second.request_id]
            self.assertEqual((before["roles"], before["force"]), (["caseworker"], FORCE_A))
            self.assertEqual((after["roles"], after["force"]), (["caseworker", "monitor"], FORCE_B))
            self.assertEqual(after["principal"], "cw2.wm")
        finally:
            acl.write_text(good)
            self.hup_and_settle()

    def test_a_principal_removed_from_the_acl_loses_its_open_connections_too(self):
        c = self.client("cw2.wm")
        self.assertEqual(c.get("/healthz").status, 200)
        sock = c.conn.sock
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        acl.write_text(acl_text({k: v for k, v in PRINCIPALS.items() if k != "cw2.wm"}))
        try:
            self.hup_and_settle()
            self.poll(lambda: c.get("/healthz").status == 403,
                      "a removed principal is still served on its open connection")
            self.assertIs(c.conn.sock, sock)
        finally:
            acl.write_text(good)
            self.hup_and_settle()

    def test_a_new_crl_refuses_a_newly_revoked_certificate(self):
        self.assertEqual(try_handshake_and_get(self.daemon, tls_context("later.wm")),
                         ("response", 200))
        self.restore("clients.crl", pki().crl2)
        try:
            self.hup_and_settle()
            self.poll(lambda: try_handshake_and_get(
                self.daemon, tls_context("later.wm"))[0] == "refused",
                "a certificate revoked by the new CRL is still accepted")
            self.assertEqual(try_handshake_and_get(self.daemon, tls_context("cw.wm")),
                             ("response", 200))
        finally:
            self.restore("clients.crl", pki().crl1)
            self.hup_and_settle()

    def test_a_crl_past_its_next_update_is_not_taken_and_the_reload_says_why(self):
        # It was taken: the valid CRL in use was dropped, and every client
        # was refused from then on.
        self.restore("clients.crl", pki().stale_crl())
        try:
            before = self.daemon.log_text()
            self.hup_and_settle()
            self.assertEqual(try_handshake_and_get(self.daemon, tls_context("cw.wm")),
                             ("response", 200))
            new_log = self.daemon.log_text()[len(before):]
            self.assertIn("reload: keeping the old TLS certificate, key and CRL", new_log)
            self.assertIn("clients.crl is past its next update", new_log)
            reloads = [e for e in audit_entries(export_audit(self.daemon))
                       if e["action"] == "config.reload"]
            self.assertEqual(reloads[-1]["result"], "partial", reloads[-1])
            self.assertIn("past its next update", reloads[-1]["tls"])
        finally:
            self.restore("clients.crl", pki().crl1)
            self.hup_and_settle()

    def test_reloads_under_load_drop_no_request(self):
        load = CheckLoad(self.daemon, tag="HUP").start()
        try:
            load.wait_for(10)
            for _ in range(5):
                self.daemon.signal(1)
                time.sleep(0.1)
            n = len(load.acked)
            load.wait_for(n + 20)
        finally:
            acked = load.stop()
        self.assertTrue(self.daemon.alive())
        self.assertEqual(load.errors, [], "requests failed while reloading")
        self.assertEqual(set(load.statuses), {200})
        self.assertGreaterEqual(len(acked), 30)

    def test_reloads_are_audited(self):
        self.hup_and_settle()
        entries = audit_entries(export_audit(self.daemon))
        self.assertTrue([e for e in entries if e["action"] == "config.reload"],
                        "no config.reload entry after SIGHUP")


class AclReloadAudit(unittest.TestCase):

    def test_a_reload_says_which_principals_it_added_removed_and_changed(self):
        # Reviewer D: a role given and taken away read as two
        # "acl": "reloaded" entries.
        d = Daemon("aclchanges").start()
        try:
            principals = dict(PRINCIPALS)
            del principals["cw2.wm"]
            cn, roles, force = principals["cw.met"]
            principals["cw.met"] = (cn, roles + ["disclosure_officer"], force)
            (d.dir / "acl.conf").write_text(acl_text(principals) +
                                            "\n[newbie.wm]\ncn = itest.newbie.wm\nroles = monitor\n"
                                            "force = " + FORCE_A + "\n")
            d.signal(signal.SIGHUP)
            deadline = time.monotonic() + tmo(10)
            while True:
                reloads = [e for e in audit_entries(export_audit(d)) if e["action"] == "config.reload"]
                if reloads or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual(len(reloads), 1, d.log_tail())
            self.assertEqual(reloads[0]["acl_changes"], {
                "added": ["newbie.wm"], "removed": ["cw2.wm"], "changed": ["cw.met"],
                "principals": len(principals) + 1})
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)


class StoreFull(unittest.TestCase):
    """A store whose map is nearly full: checks fail closed with 503 and no
    candidate leaves the server; the daemon keeps running."""

    def test_checks_answer_503_without_candidates_when_the_store_is_full(self):
        d = Daemon("storefull", conf={"store": {"map_size": str(1 << 20)}}).start()
        try:
            load_records(d, fixture_records())
            c = d.client("cw.wm")
            statuses = []
            body = check_body(case_ref="FULL-1", justification="x" * 900)
            for i in range(4000):
                r = c.post("/v1/checks", body)
                statuses.append(r.status)
                self.assertIn(r.status, (200, 503), r)
                if r.status == 503:
                    self.assertEqual(r.error_code, "unavailable", r)
                    self.assertNotIn(b"candidates", r.body)
                    self.assertNotIn(b"T000001", r.body)
                else:
                    self.assertTrue(r.json()["candidates"])
                if statuses[-3:] == [503, 503, 503]:
                    break
            self.assertEqual(statuses[-3:], [503, 503, 503],
                             "the store never filled up (%d checks)" % len(statuses))
            self.assertTrue(d.alive(), d.log_tail())
            r = d.client("mon.wm").get("/healthz")
            self.assertEqual(r.status, 200, "the daemon stopped serving /healthz: %r" % r)
            self.assertIn("503", "".join(map(str, statuses)))

            # Space is made: a larger map_size and SIGHUP grow the map
            # while the daemon runs, and checks are answered again.
            d.conf["store"]["map_size"] = str(8 << 20)
            d.write_conf()
            d.signal(signal.SIGHUP)
            deadline = time.monotonic() + tmo(10)
            while True:
                r = c.post("/v1/checks", body)
                if r.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual(r.status, 200, "no check answered after the map grew: %r\n%s"
                             % (r, d.log_tail()))
            self.assertTrue(r.json()["candidates"])
            self.assertIn("store map grown", d.log_text())
            # The outage is in the log it kept out (reviewer D: only the
            # daemon's log said it, a line per failed commit).
            refused = statuses.count(503)
            entries = audit_entries(export_audit(d))
            outages = [e for e in entries if e["action"] == "audit.outage"]
            self.assertEqual(len(outages), 1, [e["action"] for e in entries[-8:]])
            o = outages[0]
            self.assertGreaterEqual(o["refused"], refused)  # the reload's own entry too
            self.assertGreaterEqual(o["failed_commits"], 3)
            self.assertLessEqual(o["from"], o["to"])
            self.assertIn("full", o["error"].lower())
            self.assertLess(o["seq"], entries[r.json()["audit"]["seq"]]["seq"])
            self.assertLessEqual(d.log_text().count("audit commit failed"), 2,
                                 "a log line per failed commit")
            rc = d.stop(expect_rc=None)
            self.assertIn(rc, (0, 1), "exit status %s after SIGTERM with a full store" % rc)
        finally:
            if d.alive():
                d.stop(expect_rc=None)


if __name__ == "__main__":
    unittest.main()
