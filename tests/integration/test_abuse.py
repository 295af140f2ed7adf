"""test_abuse.py - connection abuse: slowloris, a flood past
max_connections, half-open TLS handshakes, plaintext HTTP and noise on the
TLS port, idle and slow connections, a principal flooding requests.

In each case nothing crashes and a normal check still succeeds within 2 s
(scaled for sanitizer builds).
"""

import math
import os
import re
import socket
import ssl
import time
import unittest

from harness import (Client, DaemonTestCase, audit_entries, check_body, export_audit, find_entry,
                     fixture_records, tls_context, tmo)

REQUEST_TIMEOUT = 3


def is_closed(sock, wait):
    """True if the peer closed (EOF or reset) within wait seconds."""
    sock.settimeout(wait)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True


def tls_connect(port, principal="cw.wm", timeout=10):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return tls_context(principal).wrap_socket(raw, server_hostname="localhost")
    except Exception:
        raw.close()
        raise


def client_hello_prefix():
    """The first bytes of a real ClientHello: a TLS record header and the
    start of the handshake message, never completed."""
    return bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + os.urandom(20)


class ConnectionAbuse(DaemonTestCase):
    daemon_conf = {"server": {"max_connections": "512",
                              "request_timeout": str(REQUEST_TIMEOUT)}}
    records = fixture_records()[:2]

    def assertNormalCheckWithin(self, seconds):
        # Another force's case worker: the abusive connections here are
        # cw.wm's, which may hold no more than max_connections_per_principal.
        c = Client(self.daemon, "cw.met", timeout=tmo(10))
        t0 = time.monotonic()
        try:
            r = c.post("/v1/checks", check_body(case_ref="MET-ABUSE-OK"))
        finally:
            c.close()
        dt = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertLessEqual(dt, tmo(seconds), "a normal check took %.2fs" % dt)
        return dt

    def assertLogLimited(self, one, many, events, total, spread):
        """The cut connections are logged, but a line a second per worker at
        most (one), the rest counted and said in one line when the second is
        over (many): anyone who can reach the port must not be able to fill
        the log one connection at a time.  (Not every cut connection is
        logged: evhttp's own timeout may end it first.)  spread: the seconds
        the connections took to open, over which their cut-offs fall too
        (a loaded machine, or a sanitizer build, spreads them over more
        seconds, and each second may have its two lines a worker)."""
        deadline = time.monotonic() + tmo(3)
        while True:
            lines = self.daemon.log_text().splitlines()
            single = [l for l in lines if one in l]
            summed = [int(m.group(1)) for m in (re.search(r"(\d+) more " + re.escape(many), l)
                                                for l in lines) if m]
            if summed or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertGreaterEqual(len(single), 1, "no log line says '%s'" % one)
        self.assertTrue(summed, "no line sums up the ones not logged one by one:\n%s"
                        % "\n".join(single[:8]))
        bound = max(8, 2 * 2 * (math.ceil(spread) + 1))
        self.assertLessEqual(len(single) + len(summed), min(bound, events // 5),
                             "%d log lines for %d connections cut over %.1f s"
                             % (len(single) + len(summed), events, spread))
        self.assertLessEqual(len(single) + sum(summed), total)

    def test_200_slowloris_connections_do_not_stop_a_normal_check(self):
        socks = []
        try:
            t0 = time.monotonic()
            for i in range(200):
                s = tls_connect(self.daemon.port, timeout=tmo(10))
                s.sendall(b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n")
                socks.append(s)
            spread = time.monotonic() - t0
            dt = self.assertNormalCheckWithin(2)
            # one more header line on half of them, as a slowloris does
            for s in socks[::2]:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            self.assertNormalCheckWithin(2)
            # request_timeout covers headers and body: they are cut off
            time.sleep(REQUEST_TIMEOUT)
            closed = sum(is_closed(s, tmo(3) if i == 0 else 0.2) for i, s in enumerate(socks))
            self.assertGreaterEqual(closed, 190, "only %d of 200 slow connections were closed "
                                    "after request_timeout" % closed)
            self.assertLogLimited("was not whole after request_timeout",
                                  "connections closed: a request was not whole", closed, 200, spread)
            print("  normal check beside 200 slowloris connections: %.3fs" % dt, flush=True)
        finally:
            for s in socks:
                s.close()

    def test_half_open_tls_handshakes_do_not_stop_a_normal_check(self):
        socks = []
        try:
            t0 = time.monotonic()
            for i in range(100):
                s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
                s.sendall(client_hello_prefix())
                socks.append(s)
            spread = time.monotonic() - t0
            self.assertNormalCheckWithin(2)
            time.sleep(REQUEST_TIMEOUT)
            closed = sum(is_closed(s, tmo(3) if i == 0 else 0.2) for i, s in enumerate(socks))
            self.assertGreaterEqual(closed, 95, "only %d of 100 stalled handshakes were closed "
                                    "after request_timeout" % closed)
            self.assertLogLimited("a TLS handshake was not done after request_timeout",
                                  "connections closed: their TLS handshake was not done", closed,
                                  100, spread)
        finally:
            for s in socks:
                s.close()

    def test_plaintext_http_on_the_tls_port_is_not_served(self):
        for req in [b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
                    b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}"]:
            with self.subTest(req=req[:20]):
                with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5) as s:
                    s.sendall(req)
                    data = b""
                    s.settimeout(tmo(5))
                    try:
                        while True:
                            chunk = s.recv(4096)
                            if not chunk:
                                break
                            data += chunk
                    except (socket.timeout, ConnectionResetError):
                        pass
                    if data.startswith(b"HTTP/"):
                        self.assertNotIn(data.split(b" ")[1], (b"200", b"403"),
                                         "plaintext HTTP was served: %r" % data[:200])
        self.assertNormalCheckWithin(2)

    def test_noise_on_the_tls_port_is_dropped(self):
        for i in range(30):
            with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5) as s:
                try:
                    # not starting 0x16, else it could pass for a TLS record
                    s.sendall(b"NOISE" + os.urandom(3000))
                    self.assertTrue(is_closed(s, tmo(5)), "noise kept a connection open")
                except (ConnectionResetError, BrokenPipeError):
                    pass
        self.assertNormalCheckWithin(2)

    def test_an_idle_connection_is_closed_after_request_timeout(self):
        s = tls_connect(self.daemon.port)
        try:
            t0 = time.monotonic()
            self.assertTrue(is_closed(s, REQUEST_TIMEOUT + tmo(4)),
                            "an idle connection outlived request_timeout")
            self.assertGreaterEqual(time.monotonic() - t0, REQUEST_TIMEOUT - 1)
        finally:
            s.close()

    def test_a_body_that_never_ends_is_cut_off(self):
        s = tls_connect(self.daemon.port)
        try:
            s.sendall(b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"case_")
            self.assertTrue(is_closed(s, REQUEST_TIMEOUT + tmo(4)),
                            "a stalled body outlived request_timeout")
        finally:
            s.close()
        self.assertNormalCheckWithin(2)


class HandshakesNeverFinished(DaemonTestCase):
    """Connections that never finish their TLS handshake (no certificate,
    or a client filling max_connections on purpose) used to hold their
    places for request_timeout each: renewed, they kept every principal
    out.  A new connection past max_connections now pushes out the oldest
    connection of its worker still in its handshake after a second; one
    younger than that is not pushed out (a real handshake takes
    milliseconds), and the new connection is refused as before."""
    daemon_conf = {"server": {"workers": "1", "max_connections": "6", "request_timeout": "30"}}
    records = fixture_records()[:2]

    def open_half(self, n, hello=False):
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
            if hello:
                s.sendall(client_hello_prefix())
            socks.append(s)
        return socks

    def let_go(self, socks):
        """Closes socks and waits until the daemon has let go of them: it
        learns of each close in a pass of its loop, and one new connection
        that arrives in the same pass is still counted against the six."""
        for s in socks:
            s.close()
        deadline = time.monotonic() + tmo(5)
        while True:
            try:
                c = tls_connect(self.daemon.port, timeout=tmo(3))
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                answered = c.recv(4096).startswith(b"HTTP/1.1 ")
                c.close()
                if answered:
                    return
            except (OSError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                self.fail("the daemon still refuses new connections after the unfinished "
                          "handshakes were closed")
            time.sleep(0.05)

    def test_a_real_client_pushes_out_handshakes_left_unfinished(self):
        half = self.open_half(3) + self.open_half(3, hello=True)
        try:
            time.sleep(tmo(1.3))
            c = Client(self.daemon, "cw.wm", timeout=tmo(5))
            try:
                r = c.post("/v1/checks", check_body(case_ref="HALF-OPEN-1"))
            finally:
                c.close()
            self.assertEqual(r.status, 200, "a real client was kept out by %d unfinished "
                             "handshakes at max_connections=6" % len(half))
            closed = sum(is_closed(s, tmo(0.3)) for s in half)
            self.assertGreaterEqual(closed, 1, "no unfinished handshake was closed")
            lines = [l for l in self.daemon.log_text().splitlines()
                     if "closed the oldest connection still in its TLS handshake" in l]
            self.assertTrue(lines, "the eviction was not logged")
        finally:
            self.let_go(half)

    def test_handshakes_under_a_second_old_are_not_pushed_out(self):
        time.sleep(tmo(0.3))  # let_go's own connections are gone
        half = self.open_half(6)
        t0 = time.monotonic()
        try:
            refused = False
            try:
                s = tls_connect(self.daemon.port, timeout=tmo(3))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                refused = not s.recv(4096)
                s.close()
            except (OSError, ssl.SSLError):
                refused = True
            if time.monotonic() - t0 > 0.8:
                self.skipTest("the machine was too slow to tell (%.2f s)" % (time.monotonic() - t0))
            self.assertTrue(refused, "a connection past max_connections was taken by pushing out "
                            "a handshake only just begun")
            self.assertEqual(sum(is_closed(s, 0.05) for s in half), 0)
        finally:
            self.let_go(half)


class FloodPastMaxConnections(DaemonTestCase):
    # One principal floods here: its own cap (a quarter of max_connections
    # by default) would cut its connections too, a second after their
    # handshakes, and blur what is measured.
    daemon_conf = {"server": {"max_connections": "32", "request_timeout": "10",
                              "max_connections_per_principal": "1000"}}
    records = fixture_records()[:2]

    def test_connections_past_the_limit_are_shed_and_service_resumes(self):
        kept, shed = [], 0
        try:
            for i in range(96):
                try:
                    kept.append(tls_connect(self.daemon.port, timeout=tmo(3)))
                except (ssl.SSLError, OSError):
                    shed += 1
            # the ones over the limit are closed at once, not left hanging
            time.sleep(tmo(0.3))
            for s in list(kept):
                if is_closed(s, 0.01):
                    shed += 1
                    kept.remove(s)
            self.assertGreaterEqual(shed, 96 - 32 - 2,
                                    "max_connections=32 but %d connections stayed open"
                                    % len(kept))
            self.assertTrue(self.daemon.alive())
            # the refusals are logged with their count, a line a second per
            # worker at most: a flood does not flood the log
            lines = [l for l in self.daemon.log_text().splitlines()
                     if "over max_connections" in l]
            self.assertGreaterEqual(len(lines), 1, "the refusals were not logged")
            # each line says one refusal, or sums up those of a second
            time.sleep(tmo(1.2))
            lines = [l for l in self.daemon.log_text().splitlines()
                     if "over max_connections" in l]
            refused = sum(int(m.group(1)) if m else 1 for m in
                          (re.search(r"(\d+) more new connections refused", l) for l in lines))
            self.assertGreaterEqual(refused, shed - 2, lines[:6])
            self.assertLessEqual(refused, shed)
            self.assertLess(len(lines), shed // 4,
                            "%d log lines for %d refusals" % (len(lines), shed))
        finally:
            for s in kept:
                s.close()
        # released: service resumes at once
        deadline = time.monotonic() + tmo(2)
        while True:
            c = Client(self.daemon, "cw.wm", timeout=tmo(5))
            try:
                r = c.post("/v1/checks", check_body(case_ref="WM-FLOOD-OK"))
                if r.status == 200:
                    break
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()
            if time.monotonic() > deadline:
                self.fail("no normal check within 2 s of the flood's end")
            time.sleep(0.05)


class ConnectionsPerPrincipal(DaemonTestCase):
    """One principal (a leaked key, a runaway tool, a client reading its
    answers a trickle at a time) cannot hold every connection: past
    max_connections_per_principal its next connection is refused at its
    first request, audited, and closed, while other principals are served."""
    daemon_conf = {"server": {"max_connections_per_principal": "3"}}
    records = fixture_records()[:2]

    def test_a_principal_past_its_connections_gets_429_and_others_are_served(self):
        held = [Client(self.daemon, "cw.wm", timeout=tmo(5)) for _ in range(3)]
        extra = Client(self.daemon, "cw.wm", timeout=tmo(5))
        try:
            for c in held:
                self.assertEqual(c.post("/v1/checks", check_body(case_ref="WM-CPP-1")).status, 200)
            r = extra.post("/v1/checks", check_body(case_ref="WM-CPP-2"))
            self.assertContractError(r, 429, "too_many_requests")
            self.assertIn("3 connections open", r.json()["error"]["message"])
            self.assertIn("max_connections_per_principal", r.json()["error"]["message"])
            self.assertEqual(r.header("Connection"), "close")
            e = find_entry(audit_entries(export_audit(self.daemon)), r.request_id)
            self.assertIsNotNone(e, "the refusal is not in the audit log")
            self.assertEqual(e.get("status"), 429, e)
            # the held connections still serve, and so do other principals
            self.assertEqual(held[0].get("/healthz").status, 200)
            other = Client(self.daemon, "cw.met", timeout=tmo(5))
            try:
                self.assertEqual(other.post("/v1/checks", check_body(case_ref="MET-CPP-1")).status,
                                 200)
            finally:
                other.close()
            # one closed: a new connection of the principal is served
            held.pop().close()
            deadline = time.monotonic() + tmo(3)
            while True:
                c = Client(self.daemon, "cw.wm", timeout=tmo(5))
                try:
                    status = c.get("/healthz").status
                finally:
                    c.close()
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(status, 200, "a connection closed was not given back")
        finally:
            for c in held + [extra]:
                c.close()


class ConnectionsOverTheirPrincipalsCount(DaemonTestCase):
    """Connections over their principal's count hold their places for a
    moment (until cut, or told 429): a flood of them filled max_connections
    and another principal's new connection was refused at its handshake.
    They are now the first pushed out to make room."""
    daemon_conf = {"server": {"max_connections": "10", "max_connections_per_principal": "3",
                              "workers": "1"}}
    records = fixture_records()[:2]

    def open_tls(self, principal):
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        return tls_context(principal).wrap_socket(raw, server_hostname="localhost")

    def healthz_on(self, s):
        """GET /healthz on the open connection s (no reconnecting): its status."""
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None

    def test_they_make_room_for_another_principal(self):
        held, over = [], []
        try:
            held = [self.open_tls("cw.wm") for _ in range(3)]
            for s in held:
                self.assertEqual(self.healthz_on(s), 200)
            # 7 more of cw.wm, over its 3: max_connections (10) is full.
            over = [self.open_tls("cw.wm") for _ in range(7)]
            time.sleep(0.1)  # the daemon has their handshakes' ends
            other = Client(self.daemon, "cw.met", timeout=tmo(5))
            try:
                self.assertEqual(other.get("/healthz").status, 200,
                                 "another principal was kept out by connections over their count")
            finally:
                other.close()
            # The connections within the count were not the ones pushed out.
            for s in held:
                self.assertEqual(self.healthz_on(s), 200, "a connection within the count was pushed out")
        finally:
            for s in held + over:
                s.close()


class RateLimit(DaemonTestCase):
    daemon_conf = {"server": {"rate_limit": "5"}}
    records = fixture_records()[:2]

    def test_a_flooding_principal_gets_429_and_others_do_not(self):
        c = self.client("cw.wm")
        rs = [c.post("/v1/checks", check_body(case_ref="WM-RATE-%d" % i)) for i in range(30)]
        limited = [r for r in rs if r.status == 429]
        self.assertTrue(limited, "30 checks at once with rate_limit=5 were all served: %r"
                        % sorted({r.status for r in rs}))
        self.assertTrue(all(r.status in (200, 429) for r in rs), [r.status for r in rs])
        for r in limited:
            self.assertEqual(r.error_code, "too_many_requests")
            self.assertNotIn(b"candidates", r.body)
        r = self.client("cw2.wm").post("/v1/checks", check_body(case_ref="WM-RATE-OTHER"))
        self.assertEqual(r.status, 200, "another principal is limited too: %r" % r)
        entries = audit_entries(export_audit(self.daemon))
        e = find_entry(entries, limited[0].request_id)
        self.assertIsNotNone(e, "a 429 is not audited")
        self.assertEqual(e["status"], 429)
        time.sleep(1.5)
        r = c.post("/v1/checks", check_body(case_ref="WM-RATE-LATER"))
        self.assertEqual(r.status, 200, "still limited after a pause: %r" % r)


if __name__ == "__main__":
    unittest.main()
