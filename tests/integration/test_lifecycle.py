"""test_lifecycle.py - the daemon's life as systemd and operators see it:
READY=1 only once it accepts connections, SIGTERM and SIGINT drain the
requests in flight, commit the audit log and exit 0; the audit writer
runs ahead of the workers where it may.

Contract: "SIGTERM/SIGINT stop accepting, finish in-flight requests,
commit the audit log, and exit 0. When started by systemd with
Type=notify it reports READY=1 only once it accepts connections."
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import (CheckLoad, Daemon, assert_receipts_in, audit_entries, check_body,
                     fixture_records, load_records, tls_context, tmo, try_handshake_and_get,
                     verify_daemon_audit)


class SystemdNotify(unittest.TestCase):

    def test_ready_is_sent_only_once_connections_are_accepted(self):
        d = Daemon("notify")
        path = str(d.dir / "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(tmo(20))
        try:
            d.start(wait=False, env={"NOTIFY_SOCKET": path})
            messages = []
            while not any(m.startswith("READY=1") for m in messages):
                try:
                    data = sock.recv(4096).decode()
                except socket.timeout:
                    self.fail("no READY=1 on NOTIFY_SOCKET (got %r); log:\n%s"
                              % (messages, d.log_tail()))
                messages += data.splitlines()
            # at the moment READY=1 arrives, a client is served at once
            self.assertEqual(try_handshake_and_get(d, tls_context("mon.wm")), ("response", 200))
            d.signal(signal.SIGTERM)
            got_stopping = False
            deadline = time.monotonic() + tmo(10)
            while time.monotonic() < deadline and not got_stopping:
                try:
                    got_stopping = "STOPPING=1" in sock.recv(4096).decode()
                except socket.timeout:
                    break
            self.assertTrue(got_stopping, "no STOPPING=1 after SIGTERM")
            self.assertEqual(d.stop(), 0)
        finally:
            sock.close()
            if d.alive():
                d.stop(expect_rc=None)


def thread_nices(pid):
    """{thread name: [nice values]} of a running process, from /proc."""
    out = {}
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, task)) as f:
                stat = f.read()
        except OSError:
            continue  # a thread that ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out.setdefault(name, []).append(int(fields[16]))  # field 19 of stat(5)
    return out


class WriterPriority(unittest.TestCase):
    """The audit writer runs ten nice levels ahead of the workers, so that
    a commit is not kept waiting behind a worker on a shared core; where
    the daemon may not lower a nice value it serves all the same, level
    with its workers, and says so at start."""

    def writer_said(self, d):
        """Waits for the writer's line about its nice value (it sets the
        value, then says so, as its thread starts) and returns the log."""
        deadline = time.monotonic() + tmo(5)
        while "audit writer at nice" not in d.log_text():
            if time.monotonic() > deadline:
                self.fail("the writer never said its nice value; log:\n%s" % d.log_tail())
            time.sleep(0.05)
        return d.log_text()

    def test_the_writer_runs_ten_nice_levels_ahead_of_the_workers(self):
        if os.geteuid() != 0:
            self.skipTest("lowering a nice value takes CAP_SYS_NICE (run as root)")
        d = Daemon("nice", conf={"server": {"workers": "2"}}).start()
        try:
            log = self.writer_said(d)
            nices = thread_nices(d.proc.pid)
            self.assertEqual(len(nices.get("writer", [])), 1, nices)
            self.assertEqual(len(nices.get("worker0", [])) + len(nices.get("worker1", [])), 2,
                             nices)
            base = os.getpriority(os.PRIO_PROCESS, 0)
            self.assertEqual(nices["worker0"] + nices["worker1"], [base, base])
            self.assertEqual(nices["writer"], [max(-20, base - 10)])
            self.assertIn("audit writer at nice %d, the workers at %d" % (max(-20, base - 10), base),
                          log)
            r = d.client("cw.wm").post("/v1/checks", check_body(case_ref="WM-NICE-1"))
            self.assertEqual(r.status, 200, r.body)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_without_cap_sys_nice_the_writer_stays_level_and_says_so(self):
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            self.skipTest("needs root and setpriv(1) to start the daemon without CAP_SYS_NICE")
        d = Daemon("nice-none").start(prefix=("setpriv", "--bounding-set", "-sys_nice", "--"))
        try:
            log = self.writer_said(d)
            nices = thread_nices(d.proc.pid)
            base = os.getpriority(os.PRIO_PROCESS, 0)
            self.assertEqual(nices["writer"], [base], nices)
            self.assertIn("audit writer at nice %d, the workers at %d: answers wait longer"
                          % (base, base), log)
            r = d.client("cw.wm").post("/v1/checks", check_body(case_ref="WM-NICE-2"))
            self.assertEqual(r.status, 200, r.body)
        finally:
            self.assertEqual(d.stop(), 0)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


class ListenForms(unittest.TestCase):

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback on this machine")
    def test_an_ipv6_listen_address_in_brackets_is_served(self):
        d = Daemon("ipv6")
        port = ipv6_loopback()
        d.conf["server"]["listen"] = "[::1]:%d" % port
        # write_conf() would put 127.0.0.1 back: write the file as is
        text = d.conf_path.read_text().replace("listen = 127.0.0.1:%d" % d.port,
                                               "listen = [::1]:%d" % port)
        d.conf_path.write_text(text)
        d.start(wait=False)
        try:
            ctx = tls_context("mon.wm")
            deadline = time.monotonic() + tmo(20)
            status = None
            while time.monotonic() < deadline and d.alive():
                try:
                    with socket.create_connection(("::1", port), timeout=5) as raw:
                        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                                      b"Connection: close\r\n\r\n")
                            status = s.recv(64).split(b" ")[1]
                            break
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(status, b"200", d.log_tail())
            self.assertEqual(d.stop(), 0)
        finally:
            if d.alive():
                d.stop(expect_rc=None)


def unprivileged_prefix():
    """A command prefix under which a bind below 1024 fails as it does in
    the shipped unit: a private user namespace (PrivateUsers=yes), whose
    capabilities do not count for the host's network.  None if there is
    no way here."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") is None:
        return None
    try:
        r = subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ("unshare", "-U", "-r") if r.returncode == 0 else None


class PrivilegedPort(unittest.TestCase):

    def test_a_refused_privileged_port_says_why_and_where_to_read(self):
        # Following the old advice (CAP_NET_BIND_SERVICE in a unit with
        # PrivateUsers=yes) left only "bind: Permission denied".
        prefix = unprivileged_prefix()
        if prefix is None:
            self.skipTest("no unprivileged way to start the daemon (unshare -U)")
        d = Daemon("port443")
        d.port = 443
        d.write_conf()
        d.start(wait=False, prefix=prefix)
        try:
            rc = d.proc.wait(tmo(20))
        except subprocess.TimeoutExpired:
            d.stop(expect_rc=None)
            self.fail("the daemon served port 443 without the privilege to:\n" + d.log_tail())
        d._forget()
        log = d.log_text()
        self.assertEqual(rc, 1, log)
        self.assertIn("127.0.0.1:443: bind: Permission denied", log)
        self.assertIn("privileged port", log)
        self.assertIn("PrivateUsers=yes", log)
        self.assertIn("disclosured.conf(5)", log)
        d.check_log_clean()


class StopSignals(unittest.TestCase):

    def drain(self, sig):
        d = Daemon("drain").start()
        try:
            load_records(d, fixture_records())
            load = CheckLoad(d, tag="DRAIN").start()
            load.wait_for(40)
            d.signal(sig)
            try:
                rc = d.proc.wait(tmo(20))
            except Exception:
                self.fail("the daemon did not exit within 20 s of %s" % sig.name)
            acked = load.stop()
            self.assertEqual(rc, 0, "exit status after %s under load; log:\n%s"
                             % (sig.name, d.log_tail()))
            d.stop()  # reaps, checks the log for sanitizer reports
            self.assertGreaterEqual(len(acked), 10)
            bad = [s for s in load.statuses if s not in (200, 503)]
            self.assertEqual(bad, [], "answers other than 200/503 while stopping")
            d.start()
            entries = audit_entries(verify_daemon_audit(d))
            assert_receipts_in(self, entries, acked)
            actions = [e["action"] for e in entries]
            i = actions.index("daemon.stop")
            j = actions.index("daemon.start", 1)
            self.assertLess(i, j)
            self.assertIn("checkpoint", actions[i + 1:j],
                          "the log was not sealed at shutdown (no checkpoint after daemon.stop)")
            self.assertEqual(d.stop(), 0)
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_sigterm_under_load_finishes_in_flight_requests_and_exits_0(self):
        self.drain(signal.SIGTERM)

    def test_sigint_under_load_finishes_in_flight_requests_and_exits_0(self):
        self.drain(signal.SIGINT)

    def test_an_idle_keep_alive_connection_does_not_hold_up_the_stop(self):
        d = Daemon("idlestop").start()
        try:
            c = d.client("cw.wm")
            self.assertEqual(c.get("/healthz").status, 200)
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.proc.wait(tmo(20))
            self.assertEqual(rc, 0)
            # request_timeout is 10 s: a drain must not wait for idle clients
            self.assertLess(time.monotonic() - t0, tmo(5), "stop waited for an idle connection")
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)


if __name__ == "__main__":
    unittest.main()
