"""test_tls.py - mutual TLS as clients meet it: who completes a handshake,
who gets an HTTP answer, which protocol versions are spoken.

Contract: "A client without a valid certificate never completes the TLS
handshake"; "a client whose certificate chains to client_ca but whose CN is
in no section gets 403 on every endpoint (and the attempt is audited)".
"""

import shutil
import ssl
import time
import unittest

from harness import (Daemon, DaemonTestCase, audit_entries, ctl, ctl_available, curl,
                     export_audit, find_entry, pki, scrape, tls_context, tmo,
                     try_handshake_and_get)


class MutualTls(DaemonTestCase):

    def assertRefused(self, principal, what):
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=version.name):
                ctx = tls_context(principal, min_version=version, max_version=version)
                verdict, detail = try_handshake_and_get(self.daemon, ctx)
                self.assertEqual(verdict, "refused", "%s got an HTTP answer (%s) instead of a "
                                 "failed handshake" % (what, detail))

    def test_known_principal_gets_health_over_mutual_tls(self):
        r = self.client("cw.wm").get("/healthz")
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["status"], "ok")
        self.assertIsInstance(j["records"], int)
        self.assertIsInstance(j["audit_seq"], int)
        self.assertGreaterEqual(j["audit_seq"], 1, "daemon.start should be entry 0")
        self.assertTrue(r.request_id, "no X-Request-Id")

    def test_curl_with_a_certificate_gets_health(self):
        r = curl(self.daemon, "aud.wm", "GET", "/healthz")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["status"], "ok")
        self.assertTrue(r.header("X-Request-Id"))

    def test_client_without_certificate_never_gets_an_answer(self):
        self.assertRefused(None, "a client without a certificate")
        r = curl(self.daemon, None, "GET", "/healthz")
        self.assertNotEqual(r.rc, 0, "curl without a certificate succeeded: %d %r" % (r.status, r.body))
        self.assertEqual(r.status, 0)

    def test_certificate_from_another_ca_is_refused(self):
        # Same CN as a real principal, signed by a CA the daemon does not trust.
        self.assertRefused("rogue", "a certificate from another CA")
        r = curl(self.daemon, "rogue", "GET", "/healthz")
        self.assertNotEqual(r.rc, 0, "curl with a rogue certificate succeeded")

    def test_expired_certificate_is_refused(self):
        self.assertRefused("expired", "an expired certificate")

    def test_revoked_certificate_is_refused(self):
        # revoked.wm is in the ACL; only the CRL keeps it out.
        self.assertRefused("revoked.wm", "a revoked certificate")

    def test_not_yet_revoked_certificate_is_accepted(self):
        # later.wm is revoked only in the second CRL, not the one loaded.
        r = self.client("later.wm").get("/healthz")
        self.assertEqual(r.status, 200, r)

    def test_unknown_cn_gets_403_and_is_audited_with_its_cn(self):
        c = self.client("unknown")
        ids = []
        for method, path, body in [("GET", "/healthz", None), ("GET", "/v1/audit/checkpoint", None),
                                   ("POST", "/v1/checks", {"case_ref": "X"}),
                                   ("GET", "/v1/audit?from=0&limit=5", None),
                                   ("GET", "/metrics", None)]:
            r = c.request(method, path, body=body)
            self.assertEqual(r.status, 403, "%s %s as unknown CN: %r" % (method, path, r))
            self.assertEqual(r.error_code, "forbidden")
            self.assertTrue(r.request_id)
            ids.append(r.request_id)
        entries = audit_entries(export_audit(self.daemon))
        for rid in ids:
            e = find_entry(entries, rid)
            self.assertIsNotNone(e, "denied request %s of an unknown CN is not in the audit log" % rid)
            self.assertEqual(e["status"], 403)
            self.assertIsNone(e.get("principal"), e)
            self.assertEqual(e.get("cn"), "itest.nobody", e)

    def test_unknown_cn_with_curl_is_403(self):
        r = curl(self.daemon, "unknown", "GET", "/healthz")
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["error"]["code"], "forbidden")

    def test_tls_1_3_and_1_2_are_spoken(self):
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=version.name):
                ctx = tls_context("cw.wm", min_version=version, max_version=version)
                verdict, detail = try_handshake_and_get(self.daemon, ctx)
                self.assertEqual((verdict, detail), ("response", 200))

    def test_tls_1_2_offers_only_forward_secret_aead_suites(self):
        for suite, want in [("ECDHE-ECDSA-AES128-GCM-SHA256", "response"),
                            ("ECDHE-ECDSA-CHACHA20-POLY1305", "response"),
                            ("ECDHE-ECDSA-AES128-SHA", "refused"),
                            ("ECDHE-ECDSA-AES256-SHA384", "refused")]:
            with self.subTest(suite=suite):
                ctx = tls_context("cw.wm", min_version=ssl.TLSVersion.TLSv1_2,
                                  max_version=ssl.TLSVersion.TLSv1_2)
                ctx.set_ciphers(suite + ":@SECLEVEL=0")
                verdict, detail = try_handshake_and_get(self.daemon, ctx)
                self.assertEqual(verdict, want, detail)

    def test_tls_1_1_is_refused(self):
        ctx = tls_context("cw.wm", min_version=ssl.TLSVersion.TLSv1_1,
                          max_version=ssl.TLSVersion.TLSv1_1)
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            self.skipTest("this Python cannot offer TLS 1.1 at all")
        verdict, detail = try_handshake_and_get(self.daemon, ctx)
        if "NO_PROTOCOLS_AVAILABLE" in detail or "NO_CIPHERS" in detail.upper():
            self.skipTest("this Python's OpenSSL refuses TLS 1.1 itself: %s" % detail)
        self.assertEqual(verdict, "refused", detail)

    def test_server_certificate_verifies_for_localhost_and_127_0_0_1(self):
        import socket
        for host in ("localhost", "127.0.0.1"):
            with self.subTest(host=host):
                ctx = tls_context("cw.wm")
                with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname=host) as s:
                        cert = s.getpeercert()
                        self.assertTrue(cert)
                        self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))

    def test_a_reconnecting_client_resumes_its_tls_session(self):
        # Not in the contract, a decision for speed: a new connection per
        # request costs a full handshake unless the session resumes.
        import socket
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=version.name):
                ctx = tls_context("mon.wm", min_version=version, max_version=version)
                session = None
                reused = []
                for _ in range(2):
                    with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as raw:
                        with ctx.wrap_socket(raw, server_hostname="localhost",
                                             session=session) as s:
                            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                                      b"Connection: close\r\n\r\n")
                            while s.recv(4096):
                                pass
                            reused.append(s.session_reused)
                            session = s.session
                self.assertEqual(reused, [False, True])

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        c = self.client("mon.wm")
        r = c.get("/healthz")
        self.assertEqual(r.status, 200)
        sock = c.conn.sock
        for _ in range(20):
            r = c.get("/healthz")
            self.assertEqual(r.status, 200)
        self.assertIs(c.conn.sock, sock, "the connection was not kept alive")

    def test_the_refused_certificates_fail_only_for_their_own_reason(self):
        # Guards the tests above: each odd certificate must fail openssl's
        # own verification for the reason the test names, and a good one
        # must pass, else "refused" would prove nothing.
        import subprocess
        p = pki()

        def verify(name, *extra):
            r = subprocess.run(["openssl", "verify", "-CAfile", str(p.client_ca), *extra,
                                str(p.certs[name][0])], capture_output=True, text=True)
            return r.returncode, r.stdout + r.stderr

        crl = ["-crl_check", "-CRLfile", str(p.crl1)]
        self.assertEqual(verify("cw.wm", *crl)[0], 0)
        self.assertIn("unable to get local issuer", verify("rogue")[1])
        self.assertIn("expired", verify("expired")[1])
        self.assertEqual(verify("revoked.wm")[0], 0, "revoked.wm must be valid but for the CRL")
        self.assertIn("revoked", verify("revoked.wm", *crl)[1])
        self.assertEqual(verify("later.wm", *crl)[0], 0)


def wait_for_log(daemon, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in daemon.log_text():
            return True
        time.sleep(0.1)
    return False


class RefusedHandshakes(DaemonTestCase):
    """A refused handshake used to leave no trace on the server: now each
    is counted by reason in /metrics and logged with the client's address
    and certificate, each reason at most once in 10 s per worker (one
    worker here), the others of those 10 s counted in one line."""

    daemon_conf = {"server": {"workers": "1"}}

    # principal (None: no certificate), reason label, words of its line
    CASES = [
        (None, "no_certificate", "refused: the client sent no certificate"),
        ("rogue", "unknown_ca", "refused: its certificate is not issued by client_ca"),
        ("expired", "certificate_expired", "refused: its certificate has expired"),
        ("revoked.wm", "revoked", "refused: its certificate is revoked by the CRL"),
    ]

    def failures(self):
        return {dict(labels)["reason"]: v for (name, labels), v in scrape(self.daemon).items()
                if name == "disclosured_tls_handshake_failures_total"}

    def test_each_refusal_is_counted_and_logged_by_reason_at_most_once_in_10_s(self):
        before = self.failures()
        self.assertEqual(set(before), {"no_certificate", "unknown_ca", "revoked",
                                       "certificate_expired", "crl_expired", "bad_certificate",
                                       "protocol", "client_alert"})
        log_start = len(self.daemon.log_text())
        for principal, _reason, _words in self.CASES:
            for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
                ctx = tls_context(principal, min_version=version, max_version=version)
                self.assertEqual(try_handshake_and_get(self.daemon, ctx)[0], "refused")
        # no cipher suite in common
        ctx = tls_context("cw.wm", min_version=ssl.TLSVersion.TLSv1_2,
                          max_version=ssl.TLSVersion.TLSv1_2)
        ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
        self.assertEqual(try_handshake_and_get(self.daemon, ctx)[0], "refused")
        # a client that does not trust the server's certificate
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(pki().client_ca))
        crt, key = pki().certs["cw.wm"]
        ctx.load_cert_chain(str(crt), str(key))
        self.assertEqual(try_handshake_and_get(self.daemon, ctx)[0], "refused")

        after = self.failures()
        delta = {r: after[r] - before[r] for r in after}
        self.assertEqual(delta, {"no_certificate": 2, "unknown_ca": 2, "revoked": 2,
                                 "certificate_expired": 2, "crl_expired": 0,
                                 "bad_certificate": 0, "protocol": 1, "client_alert": 1})
        log = self.daemon.log_text()[log_start:]
        for principal, reason, words in self.CASES:
            lines = [l for l in log.splitlines() if words in l]
            self.assertEqual(len(lines), 1, "%s: not one line but %r" % (reason, lines))
            self.assertIn("TLS handshake from 127.0.0.1:", lines[0])
        revoked = [l for l in log.splitlines() if "revoked by the CRL" in l][0]
        self.assertIn("CN=itest.revoked.wm", revoked)
        rogue = [l for l in log.splitlines() if "not issued by client_ca" in l][0]
        self.assertIn("Itest Rogue CA", rogue)
        self.assertIn("no protocol version or cipher suite in common", log)
        self.assertIn("the client ended it", log)
        # The second of each pair is said in one line when the 10 s are over.
        for what in ("the client sent no certificate", "a revoked client certificate",
                     "an expired client certificate", "not issued by client_ca"):
            self.assertTrue(
                wait_for_log(self.daemon, "1 more TLS handshakes refused: " + what
                             if what != "not issued by client_ca" else
                             "1 more TLS handshakes refused: a client certificate " + what,
                             tmo(15)),
                "no line summing up the refusals not logged (%s):\n%s"
                % (what, self.daemon.log_tail()))
        self.assertIn("in the 10 s since the last such line", self.daemon.log_text())

    def test_the_server_certificate_and_crl_dates_are_in_the_metrics(self):
        # Both are issued for 30 days by the harness's PKI.
        m = scrape(self.daemon)
        cert = m[("disclosured_tls_certificate_expiry_seconds", frozenset())]
        crl = m[("disclosured_tls_crl_next_update_seconds", frozenset())]
        for name, value in (("certificate", cert), ("crl", crl)):
            self.assertGreater(value, 29 * 86400, name)
            self.assertLessEqual(value, 30 * 86400, name)


class StaleCrl(unittest.TestCase):
    """A CRL past its next update refuses every client.  The daemon starts
    all the same (a fresh CRL and SIGHUP must be enough), and now says why
    each client is refused; the client says the cause is likely the
    server's, not its own certificate."""

    def test_every_client_is_refused_and_the_log_and_the_client_say_why(self):
        d = Daemon("stalecrl")
        shutil.copy(pki().stale_crl(), d.dir / "clients.crl")
        d.start(wait=False)
        try:
            self.assertTrue(wait_for_log(d, "serving on", tmo(20)), d.log_tail())
            self.assertIn("past its next update", d.log_text())
            self.assertEqual(try_handshake_and_get(d, tls_context("cw.wm"))[0], "refused")
            self.assertTrue(wait_for_log(d, "refused: the CRL is past its next update", tmo(5)),
                            d.log_tail())
            if ctl_available():
                r = ctl(d, "cw.wm", "health")
                self.assertEqual(r.returncode, 4, r)
                err = r.stderr.decode()
                self.assertIn("server's CRL", err)
                self.assertIn("within its dates", err)
        finally:
            d.stop(expect_rc=None)


if __name__ == "__main__":
    unittest.main()
