"""test_crash.py - a kill -9 during a load of checks, then a restart: no
acknowledged check is lost and the audit chain still verifies.

Contract: "The response is sent only after the check's audit entry is
durable on disk."  So every 200 a client received names (by its receipt
seq and hash) an entry that must survive SIGKILL, and the stored check
must be readable after the restart.
"""

import unittest

from harness import (CheckLoad, Daemon, assert_receipts_in, audit_entries, check_body,
                     fixture_records, load_records, verify_daemon_audit)


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


if __name__ == "__main__":
    unittest.main()
