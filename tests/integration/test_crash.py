"""test_crash.py - a kill -9 during a load of checks, then a restart: no
acknowledged check is lost and the audit chain still verifies.

Contract: "The response is sent only after the check's audit entry is
durable on disk."  So every 200 a client received names (by its receipt
seq and hash) an entry that must survive SIGKILL, and the stored check
must be readable after the restart.
"""

import threading
import time
import unittest

from harness import (CheckLoad, Client, Daemon, assert_receipts_in, audit_entries, check_body,
                     fixture_records, load_records, register_lines, tmo, verify_daemon_audit)


class KillDuringLoad(unittest.TestCase):

    def test_kill_9_during_checks_loses_no_acknowledged_check(self):
        d = Daemon("crash", conf={"audit": {"checkpoint_every": "64"}}).start()
        try:
            load_records(d, fixture_records())
            # a decision before the load: it must survive too
            cid = d.client("cw.wm").post("/v1/checks", check_body(case_ref="CRASH-DEC")).json()[
                "check_id"]
            r = d.client("do.wm").post("/v1/checks/%s/decision" % cid,
                                       {"decision": "refer", "offender_id": "WMP-T000001"})
            self.assertEqual(r.status, 200, r)
            load = CheckLoad(d, tag="CRASH").start()
            load.wait_for(120)
            d.kill9()  # mid-load: the workers still have requests in flight
            acked = load.stop()
            self.assertGreaterEqual(len(acked), 20, "too few checks before the kill to test anything")
            d.start()  # same folder, same store
            entries = audit_entries(verify_daemon_audit(d))
            assert_receipts_in(self, entries, acked)
            aud = d.client("aud.nat")
            for check_id, *_ in acked:
                r = aud.get("/v1/checks/" + check_id)
                self.assertEqual(r.status, 200, "acknowledged check %s unreadable after restart: %r"
                                 % (check_id, r))
            self.assertEqual(aud.get("/v1/checks/" + cid).json()["decision"]["decision"], "refer")
            starts = [e for e in entries if e["action"] == "daemon.start"]
            self.assertEqual(len(starts), 2)
            # a second kill right after the restart, while idle, loses nothing either
            r = d.client("cw.wm").post("/v1/checks", check_body(case_ref="CRASH-AFTER"))
            self.assertEqual(r.status, 200)
            seq, h = r.json()["audit"]["seq"], r.json()["audit"]["hash"]
            d.kill9()
            d.start()
            entries = audit_entries(verify_daemon_audit(d))
            self.assertEqual(entries[seq]["hash"], h)
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_kill_9_during_a_bulk_import_keeps_records_and_log_in_step(self):
        # The import commits in chunks (of 20,000 records while the register
        # holds fewer than 100,000 but is not empty), each with its
        # offender.bulk entry: after a kill, the store holds exactly the
        # records the log says were created, no more, no fewer.  Ten
        # records first, so that the next 44,990 make three chunks (into an
        # empty register they would go in one).
        lines = register_lines(seed=31, count=45000)
        d = Daemon("crashbulk").start()
        try:
            r = d.client("reg.wm").post("/v1/offenders/_bulk", b"\n".join(lines[:10]) + b"\n",
                                        ctype="application/x-ndjson")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["created"], 10)

            def post():
                c = Client(d, "reg.wm", timeout=tmo(60))
                try:
                    c.post("/v1/offenders/_bulk", b"\n".join(lines[10:]) + b"\n",
                           ctype="application/x-ndjson")
                except Exception:
                    pass  # killed under it
                finally:
                    c.close()

            t = threading.Thread(target=post, daemon=True)
            t.start()
            mon = Client(d, "mon.wm", timeout=tmo(10))
            deadline = time.monotonic() + tmo(30)
            while time.monotonic() < deadline:
                if mon.get("/healthz").json()["records"] > 10:
                    break
                time.sleep(0.01)
            mon.close()
            d.kill9()
            t.join(tmo(30))
            d.start()
            entries = audit_entries(verify_daemon_audit(d))
            created = sum(e["bulk"]["created"] for e in entries if e["action"] == "offender.bulk")
            self.assertGreater(created, 0, "no chunk was committed before the kill")
            records = d.client("mon.wm").get("/healthz").json()["records"]
            self.assertEqual(records, created, "the store and the audit log disagree after a kill")
            print("  kill -9 during a bulk import: %d of %d records had been committed"
                  % (created, len(lines)), flush=True)
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)


if __name__ == "__main__":
    unittest.main()
