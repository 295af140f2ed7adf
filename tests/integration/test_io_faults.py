"""test_io_faults.py - disk errors under the audit commit.

The daemon runs with tests/integration/faultfs.c preloaded ($BUILD/faultfs.so,
built by mk/faults.mk before check-integration).  While a trigger file
exists, the shim makes the store's fdatasync, its page writes or its meta
page write fail with EIO or ENOSPC.  The contract says: "If the audit entry
cannot be written, the answer is 503 unavailable and no candidate leaves the
server"; the issue adds that the daemon stays up and serves again once the
disk works.  So each case:

  - checks and offender writes made while the disk fails get 503
    `unavailable`, with no candidate, no offender id, no check id;
  - the daemon stays up and /healthz answers;
  - once the trigger is gone, checks succeed again (within a few seconds);
  - nothing acknowledged is lost and nothing refused was kept: every 200's
    receipt is in the audit export, the chain verifies, the record written
    during the fault does not exist, and all of it still holds after a
    restart without the shim.

What it must never do: touch the store's files itself, or call a test
passed when the shim injected no fault (each case counts the injected
failures in the shim's log).
"""

import http.client
import json
import os
import threading
import time
import unittest

import harness
from harness import (Client, Daemon, audit_entries, check_body, fixture_records, load_records,
                     tmo, verify_daemon_audit)

FAULTFS = harness.BUILD / "faultfs.so"

# A fictitious record offered while the disk fails: it must not be stored.
GHOST = {"id": "WMP-T000099",
         "names": [{"given": "Peregrine", "family": "Ambleforth", "kind": "primary"}],
         "dob": "1966-06-06", "sex": "M", "managing_force": harness.FORCE_A, "status": "active"}


class FaultyDaemon(Daemon):
    """A Daemon started with faultfs.so preloaded (while faults_on)."""

    def __init__(self, name, ops, err="EIO", **kw):
        super().__init__(name, **kw)
        self.trigger = self.dir / "disk-fails-while-this-exists"
        self.fault_log = self.dir / "faultfs.log"
        self.faults_on = True
        self.env = {"LD_PRELOAD": str(FAULTFS), "FAULTFS_TRIGGER": str(self.trigger),
                    "FAULTFS_OPS": ops, "FAULTFS_ERRNO": err,
                    "FAULTFS_PATH": str(self.dir / "store"), "FAULTFS_LOG": str(self.fault_log)}
        if harness._built_with_asan(harness.DAEMON_BIN):
            # A preloaded library comes before ASan's runtime in the link
            # order; the shim only forwards calls, so let ASan accept that.
            prev = os.environ.get("ASAN_OPTIONS", "")
            self.env["ASAN_OPTIONS"] = (prev + ":" if prev else "") + "verify_asan_link_order=0"

    def start(self, wait=True, timeout=None):
        # The harness starts the daemon with this process's environment:
        # lend it the shim's variables for the Popen only.
        saved = {k: os.environ.get(k) for k in self.env}
        if self.faults_on:
            os.environ.update(self.env)
        try:
            super().start(wait=False)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        if wait:
            self.wait_ready(timeout or tmo(20))
        return self

    def fail_disk(self):
        self.trigger.write_text("")

    def heal_disk(self):
        self.trigger.unlink(missing_ok=True)

    def faults_injected(self):
        try:
            return [l.split(" ", 1)[0] for l in self.fault_log.read_text().splitlines() if l]
        except OSError:
            return []


@unittest.skipUnless(FAULTFS.exists(), "%s is not built (make BUILD=%s %s)"
                     % (FAULTFS, harness.BUILD.name, FAULTFS))
class DiskErrorsUnderTheAuditCommit(unittest.TestCase):

    def assert_refused_cleanly(self, r, what):
        self.assertEqual(r.status, 503, "%s while the disk fails: %r" % (what, r))
        self.assertEqual(r.error_code, "unavailable", "%s: %r" % (what, r))
        for leak in (b"candidates", b"T000001", b"Farthingale", b"check_id", b"chk_"):
            self.assertNotIn(leak, r.body, "%s: a 503 carries %r: %r" % (what, leak, r))

    def assert_check_succeeds(self, c, case_ref):
        r = c.post("/v1/checks", check_body(case_ref=case_ref))
        self.assertEqual(r.status, 200, "check %s: %r" % (case_ref, r))
        j = r.json()
        self.assertEqual(j["candidates"][0]["offender_id"], "WMP-T000001", j)
        return j

    def wait_until_checks_succeed(self, d, c, case_ref):
        """Checks until one gets 200; returns (answer, refusals before it)."""
        deadline = time.monotonic() + tmo(5)
        refused = 0
        while True:
            r = c.post("/v1/checks", check_body(case_ref=case_ref))
            if r.status == 200:
                return r.json(), refused
            self.assert_refused_cleanly(r, "a check after the disk was mended")
            refused += 1
            if time.monotonic() > deadline or not d.alive():
                self.fail("checks still answer 503 %.0f s after the disk works again (%d tries); "
                          "daemon %s; log:\n%s" % (tmo(5), refused,
                                                   "alive" if d.alive() else "dead",
                                                   d.log_tail(12)))
            time.sleep(0.1)

    def assert_receipts_kept(self, d, acked):
        entries = {e["seq"]: e for e in audit_entries(verify_daemon_audit(d))}
        for j in acked:
            e = entries.get(j["audit"]["seq"])
            self.assertIsNotNone(e, "acknowledged check %s (seq %d) is not in the audit log"
                                 % (j["check_id"], j["audit"]["seq"]))
            self.assertEqual(e["hash"], j["audit"]["hash"],
                             "the entry at seq %d is not the receipt's" % j["audit"]["seq"])
        aud = Client(d, "aud.nat")
        try:
            for j in acked:
                r = aud.get("/v1/checks/" + j["check_id"])
                self.assertEqual(r.status, 200, "check %s: %r" % (j["check_id"], r))
        finally:
            aud.close()

    def assert_ghost_absent(self, d):
        c = Client(d, "cw.nat")
        try:
            r = c.post("/v1/checks", check_body(given="Peregrine", family="Ambleforth",
                                                dob="1966-06-06", case_ref="GHOST-1"))
            self.assertEqual(r.status, 200, r)
            ids = [x["offender_id"] for x in r.json()["candidates"]]
            self.assertNotIn(GHOST["id"], ids,
                             "a record PUT while the disk failed (answered 503) was stored")
        finally:
            c.close()

    def fault_cycle(self, name, ops, err):
        """One fault the daemon recovers from in place: checks before,
        during and after it, then a restart without the shim.  Returns the
        shim's injected calls."""
        d = FaultyDaemon(name, ops, err)
        d.start()
        try:
            load_records(d, fixture_records())
            cw, reg, mon = Client(d, "cw.wm"), Client(d, "reg.wm"), Client(d, "mon.wm")
            acked = [self.assert_check_succeeds(cw, "IOF-BEFORE-%d" % i) for i in range(3)]

            d.fail_disk()
            for i in range(5):
                self.assert_refused_cleanly(cw.post("/v1/checks",
                                                    check_body(case_ref="IOF-DURING-%d" % i)),
                                            "check %d" % i)
            self.assert_refused_cleanly(reg.put("/v1/offenders/" + GHOST["id"], GHOST),
                                        "an offender PUT")
            self.assertTrue(d.alive(), "the daemon died on a disk error; log:\n" + d.log_tail())
            r = mon.get("/healthz")
            self.assertEqual(r.status, 200, "/healthz while the disk fails: %r" % r)
            injected = d.faults_injected()
            self.assertTrue(injected, "the shim injected no fault: the test tested nothing")

            d.heal_disk()
            j, refused_after = self.wait_until_checks_succeed(d, cw, "IOF-AFTER-0")
            acked.append(j)
            acked += [self.assert_check_succeeds(cw, "IOF-AFTER-%d" % i) for i in range(1, 3)]
            self.assert_receipts_kept(d, acked)
            self.assert_ghost_absent(d)
            for c in (cw, reg, mon):
                c.close()
            d.stop()

            d.faults_on = False
            d.start()
            self.assert_receipts_kept(d, acked)
            self.assert_ghost_absent(d)
            c = Client(d, "cw.wm")
            acked.append(self.assert_check_succeeds(c, "IOF-RESTARTED"))
            c.close()
            self.assert_receipts_kept(d, acked)
            d.stop()
            print("      faultfs %s/%s: %d call(s) failed (%s); %d check(s) refused after the "
                  "disk was mended" % (ops, err, len(injected), ",".join(sorted(set(injected))),
                                       refused_after), flush=True)
            return injected
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_a_failing_fdatasync_answers_503_then_service_resumes(self):
        injected = self.fault_cycle("iofault-sync", "sync", "EIO")
        self.assertTrue({"fsync", "fdatasync", "msync"} & set(injected), injected)

    def test_a_full_disk_on_page_writes_answers_503_then_service_resumes(self):
        self.fault_cycle("iofault-enospc", "write", "ENOSPC")

    def test_an_io_error_on_page_writes_answers_503_then_service_resumes(self):
        self.fault_cycle("iofault-eio", "write", "EIO")

    # After a failed meta-page write LMDB refuses every later transaction
    # (MDB_PANIC): the daemon must exit 1 so that systemd restarts it
    # (Restart=on-failure), and the restart must serve again.
    def test_a_failed_meta_page_write_ends_in_service_again(self):
        # LMDB marks its environment fatally broken (MDB_PANIC) when the
        # meta page cannot be written: every later transaction, read or
        # write, fails until the environment is closed and opened again.
        # Two answers are sound: reopen it and serve once the disk works,
        # or exit 1 saying why, so that systemd (Restart=on-failure)
        # starts a daemon that serves.  Staying up and answering 503 to
        # everything for good, while /healthz says ok, is not.
        d = FaultyDaemon("iofault-meta", "meta", "EIO")
        d.start()
        try:
            load_records(d, fixture_records())
            cw = Client(d, "cw.wm", timeout=tmo(10))
            acked = [self.assert_check_succeeds(cw, "IOF-META-BEFORE-%d" % i) for i in range(3)]
            d.fail_disk()
            try:
                self.assert_refused_cleanly(cw.post("/v1/checks",
                                                    check_body(case_ref="IOF-META-DURING")),
                                            "the check whose commit fails")
            except (OSError, http.client.HTTPException):
                pass  # a daemon that exits over it may close instead: nothing leaks
            self.assertTrue(d.faults_injected(), "the shim injected no fault")
            d.heal_disk()

            outcome, refused, deadline = None, 0, time.monotonic() + tmo(10)
            while outcome is None and time.monotonic() < deadline:
                if not d.alive():
                    outcome = "exited"
                    break
                try:
                    r = cw.post("/v1/checks", check_body(case_ref="IOF-META-AFTER-%d" % refused))
                except (OSError, http.client.HTTPException):
                    cw.close()
                    time.sleep(0.1)
                    continue
                if r.status == 200:
                    outcome = "recovered"
                    acked.append(r.json())
                else:
                    self.assert_refused_cleanly(r, "a check after the disk was mended")
                    refused += 1
                    time.sleep(0.1)
            cw.close()
            if outcome is None:
                health = Client(d, "mon.wm").get("/healthz")
                self.fail("after one failed meta-page write the daemon stays up but answers 503 "
                          "to every check (%d in %.0f s after the disk works again) while "
                          "/healthz answers %d %s: it must reopen the LMDB environment or exit 1 "
                          "so that it is restarted; log:\n%s"
                          % (refused, tmo(10), health.status, health.body[:80], d.log_tail(6)))
            if outcome == "exited":
                rc = d.stop(expect_rc=None)
                self.assertEqual(rc, 1, "a daemon leaving over a broken store exits 1, not %s; "
                                        "log:\n%s" % (rc, d.log_tail()))
            else:
                self.assert_receipts_kept(d, acked)
                d.stop()
            d.faults_on = False
            d.start()
            c = Client(d, "cw.wm")
            acked.append(self.assert_check_succeeds(c, "IOF-META-RESTARTED"))
            c.close()
            self.assert_receipts_kept(d, acked)
            d.stop()
            print("      faultfs meta/EIO: %s" % outcome, flush=True)
        finally:
            d.heal_disk()
            if d.alive():
                d.stop(expect_rc=None)

    def test_a_decision_refused_for_a_disk_error_is_not_kept(self):
        # A 503 decision must leave the check undecided: made again once
        # the disk works, it is accepted (not 409), and only it is stored.
        d = FaultyDaemon("iofault-decide", "sync", "EIO")
        d.start()
        try:
            load_records(d, fixture_records())
            do = Client(d, "do.wm")
            cid = self.assert_check_succeeds(do, "IOF-DECIDE")["check_id"]
            first = {"decision": "refer", "offender_id": "WMP-T000001",
                     "rationale": "Fictitious rationale made while the disk fails"}
            second = {"decision": "disclose", "offender_id": "WMP-T000001",
                      "recipient": "Fictitious Applicant", "rationale": "Fictitious rationale"}
            d.fail_disk()
            r = do.post("/v1/checks/%s/decision" % cid, first)
            self.assertEqual(r.status, 503, "a decision while the disk fails: %r" % r)
            self.assertEqual(r.error_code, "unavailable", r)
            self.assertNotIn(b'"audit"', r.body, "a 503 carries a receipt: %r" % r)
            self.assertTrue(d.faults_injected(), "the shim injected no fault")
            d.heal_disk()
            r = do.post("/v1/checks/%s/decision" % cid, second)
            self.assertEqual(r.status, 200, "the decision refused for the disk error stuck: %r" % r)
            receipt = r.json()["audit"]
            stored = do.get("/v1/checks/" + cid).json()
            self.assertEqual(stored["decision"]["decision"], "disclose", stored["decision"])
            do.close()
            entries = audit_entries(verify_daemon_audit(d))
            decided = [e for e in entries if e.get("action") == "check.decide"]
            self.assertEqual([e["seq"] for e in decided], [receipt["seq"]],
                             "the audit log holds a decision that was answered 503")
            d.stop()
        finally:
            d.heal_disk()
            if d.alive():
                d.stop(expect_rc=None)

    def test_a_bulk_import_refused_for_a_disk_error_stores_nothing(self):
        # One chunk, one transaction: a failed commit stores no line of it
        # and says so; the same body imported again creates every record.
        d = FaultyDaemon("iofault-bulk", "write", "ENOSPC")
        d.start()
        try:
            lines = harness.register_lines(seed=31, count=300)
            body = b"\n".join(lines) + b"\n"
            reg, mon = Client(d, "reg.wm", timeout=tmo(60)), Client(d, "mon.wm")
            before = mon.get("/healthz").json()["records"]
            d.fail_disk()
            r = reg.post("/v1/offenders/_bulk", body, ctype="application/x-ndjson")
            self.assertEqual(r.status, 503, "a bulk import while the disk fails: %r" % r)
            self.assertEqual(r.error_code, "unavailable", r)
            self.assertTrue(d.faults_injected(), "the shim injected no fault")
            self.assertEqual(mon.get("/healthz").json()["records"], before,
                             "records were counted from an import answered 503")
            d.heal_disk()
            r = reg.post("/v1/offenders/_bulk", body, ctype="application/x-ndjson")
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json()["created"], r.json()["replaced"]), (len(lines), 0),
                             "an import answered 503 left records behind: %r" % r.json())
            self.assertEqual(mon.get("/healthz").json()["records"], before + len(lines))
            reg.close()
            mon.close()
            verify_daemon_audit(d)
            d.stop()
        finally:
            d.heal_disk()
            if d.alive():
                d.stop(expect_rc=None)

    def stop_while_the_disk_fails(self, name, ops="sync", check_during=False):
        """SIGTERM while the disk fails (after a check refused for it, with
        check_during), so the final commit (daemon.stop and a sealing
        checkpoint) cannot be made; then a restart without the shim must
        find every acknowledged check.  Returns the exit status of the
        stop."""
        d = FaultyDaemon(name, ops, "EIO")
        d.start()
        try:
            load_records(d, fixture_records())
            cw = Client(d, "cw.wm")
            acked = [self.assert_check_succeeds(cw, "IOF-STOP-%d" % i) for i in range(3)]
            d.fail_disk()
            if check_during:
                self.assert_refused_cleanly(cw.post("/v1/checks",
                                                    check_body(case_ref="IOF-STOP-DURING")),
                                            "the check whose commit fails")
            cw.close()
            rc = d.stop(expect_rc=None)
            self.assertTrue(d.faults_injected(), "the shim injected no fault at shutdown")
            self.assertIn(rc, (0, 1), "exit status %s after SIGTERM; log:\n%s"
                          % (rc, d.log_tail()))
            d.heal_disk()
            d.faults_on = False
            d.start()
            self.assert_receipts_kept(d, acked)
            d.stop()
            return rc
        finally:
            d.heal_disk()
            if d.alive():
                d.stop(expect_rc=None)

    def test_sigterm_while_the_disk_fails_loses_nothing(self):
        self.stop_while_the_disk_fails("iofault-stop")

    def test_a_failed_meta_page_write_loses_nothing_across_a_restart(self):
        self.stop_while_the_disk_fails("iofault-meta-stop", ops="meta", check_during=True)

    # The contract's exit 0 follows "commit the audit log": a final commit
    # that fails must show in the exit status.
    def test_sigterm_while_the_disk_fails_exits_1(self):
        rc = self.stop_while_the_disk_fails("iofault-stop-rc")
        self.assertEqual(rc, 1, "exit status %s after SIGTERM although the final audit commit "
                                "failed" % rc)

    def test_disk_errors_toggled_under_load_lose_no_acknowledged_check(self):
        d = FaultyDaemon("iofault-load", "sync,write", "EIO",
                         conf={"audit": {"checkpoint_every": "50"}})
        d.start()
        try:
            load_records(d, fixture_records())
            acked, refused, bad = [], [0], []
            lock = threading.Lock()
            stop = threading.Event()

            def load(principal, n):
                c = Client(d, principal, timeout=tmo(10))
                i = 0
                try:
                    while not stop.is_set():
                        r = c.post("/v1/checks", check_body(case_ref="IOF-LOAD-%d-%d" % (n, i)))
                        i += 1
                        with lock:
                            if r.status == 200:
                                acked.append(r.json())
                            elif r.status == 503 and r.error_code == "unavailable" and \
                                    b"candidates" not in r.body:
                                refused[0] += 1
                            else:
                                bad.append(r)
                except Exception as e:  # noqa: BLE001 - reported below
                    with lock:
                        bad.append(e)
                finally:
                    c.close()

            threads = [threading.Thread(target=load, args=(p, n), daemon=True)
                       for n, p in enumerate(["cw.wm", "cw.met", "do.wm", "cw.nat"])]
            for t in threads:
                t.start()
            cycles = 6
            for _ in range(cycles):
                time.sleep(0.4)
                d.fail_disk()
                time.sleep(0.4)
                d.heal_disk()
            time.sleep(0.5)
            stop.set()
            for t in threads:
                t.join(tmo(20))
            self.assertFalse(bad, "answers other than 200 or a clean 503: %r" % bad[:5])
            self.assertTrue(d.alive(), d.log_tail())
            injected = d.faults_injected()
            self.assertTrue(injected and refused[0], "no fault reached a check (%d injected, %d "
                                                     "refused)" % (len(injected), refused[0]))
            self.assertGreater(len(acked), 20, "too few checks succeeded to test anything")
            cw = Client(d, "cw.wm")
            acked.append(self.wait_until_checks_succeed(d, cw, "IOF-LOAD-LAST")[0])
            cw.close()
            self.assert_receipts_kept(d, acked)
            d.stop()
            d.faults_on = False
            d.start()
            self.assert_receipts_kept(d, acked)
            d.stop()
            print("      faultfs under load: %d on/off cycles, %d call(s) failed, %d checks "
                  "acknowledged, %d refused with 503" % (cycles, len(injected), len(acked),
                                                         refused[0]), flush=True)
        finally:
            d.heal_disk()
            if d.alive():
                d.stop(expect_rc=None)



def store_space(d):
    """(used, map, file) bytes of the daemon's store, from /metrics."""
    c = Client(d, "mon.wm")
    try:
        r = c.get("/metrics")
    finally:
        c.close()
    assert r.status == 200, r
    got = {}
    for line in r.body.decode().splitlines():
        for k in ("used", "map", "file"):
            if line.startswith("disclosured_store_%s_bytes " % k):
                got[k] = int(line.split()[1])
    return got["used"], got["map"], got["file"]


class ZerosAheadOfTheStore(unittest.TestCase):
    """[store] preallocate: the writer keeps zeros written past the data
    while it is idle, so that a commit overwrites blocks the file has
    rather than growing it.  The zeros must be real blocks, only past the
    data, within the map, and harmless to the store: after checks over
    them and a restart without them, every acknowledged answer's entry is
    there and the chain verifies."""

    def wait_ahead(self, d, ahead, what):
        deadline = time.monotonic() + tmo(10)
        while True:
            used, mapsize, size = store_space(d)
            if size >= used + ahead:
                return used, mapsize, size
            if time.monotonic() > deadline:
                self.fail("%s: the data file is %d bytes, %d in use: not %d ahead after %.0f s"
                          % (what, size, used, ahead, tmo(10)))
            time.sleep(0.1)

    def test_zeros_are_written_ahead_while_idle_and_the_store_writes_over_them(self):
        ahead = 6 << 20
        d = Daemon("zeros-ahead", conf={"store": {"preallocate": str(ahead)}})
        d.start()
        try:
            used, mapsize, size = self.wait_ahead(d, ahead, "after the start")
            # A quarter of a megabyte a step: never more than a step past
            # what was asked.
            self.assertLess(size, used + ahead + (256 << 10) + 4096)
            st = os.stat(d.dir / "store" / "data.mdb")
            self.assertEqual(st.st_size, size)
            self.assertGreaterEqual(st.st_blocks * 512, size - 65536,
                                    "the zeros are a hole, not written blocks")
            with open(d.dir / "store" / "data.mdb", "rb") as f:
                f.seek(used)
                tail = f.read()
            self.assertEqual(tail.count(0), len(tail), "something past the data is not zero")

            load_records(d, fixture_records())
            cw = Client(d, "cw.wm", timeout=tmo(10))
            acked = [self.assert_check_ok(cw, "ZAH-%d" % i) for i in range(40)]
            cw.close()
            # The commits wrote over the zeros: the file did not grow, and
            # with more than half of them left none are written again.
            time.sleep(0.3)
            used2, _, size2 = store_space(d)
            self.assertGreater(used2, used, "the checks wrote nothing?")
            self.assertEqual(size2, size, "the file grew under zeros written ahead")
            # An import uses more than half: once the writer is quiet they
            # are written again, as far ahead of the new end.
            load_records(d, harness.register_lines(seed=29, count=2000))
            used3, _, size3 = self.wait_ahead(d, ahead, "after an import")
            self.assertGreater(used3, used2 + ahead // 2, "the import was too small to test this")
            verify_daemon_audit(d)
            d.stop()

            # Without zeros ahead the same store serves, keeps every
            # entry, and is not cut short.
            d.conf["store"]["preallocate"] = "0"
            d.write_conf()
            d.start()
            _, _, size4 = store_space(d)
            self.assertGreaterEqual(size4, size3)
            lines = verify_daemon_audit(d)
            seqs = {json.loads(l)["seq"] for l in lines}
            for j in acked:
                self.assertIn(j["audit"]["seq"], seqs)
            cw = Client(d, "cw.wm", timeout=tmo(10))
            self.assert_check_ok(cw, "ZAH-AFTER")
            cw.close()
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def assert_check_ok(self, c, case_ref):
        r = c.post("/v1/checks", check_body(case_ref=case_ref))
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["candidates"][0]["offender_id"], "WMP-T000001", j)
        return j

    def test_zeros_stop_at_the_map_size(self):
        d = Daemon("zeros-map", conf={"store": {"map_size": str(8 << 20),
                                                "preallocate": str(64 << 20)}})
        d.start()
        try:
            deadline = time.monotonic() + tmo(10)
            while True:
                used, mapsize, size = store_space(d)
                if size >= mapsize or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual(mapsize, 8 << 20)
            self.assertEqual(size, mapsize, "the zeros should reach the map size and stop there")
            load_records(d, fixture_records())
            cw = Client(d, "cw.wm", timeout=tmo(10))
            self.assert_check_ok(cw, "ZAH-MAP")
            cw.close()
            self.assertEqual(store_space(d)[2], mapsize)
            verify_daemon_audit(d)
        finally:
            if d.alive():
                d.stop(expect_rc=None)

if __name__ == "__main__":
    unittest.main()
