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

from harness import (Client, Daemon, audit_entries, check_body, fixture_records, load_records,
                     tmo, verify_daemon_audit)

LOADERS = ["cw.wm", "cw.met", "do.wm", "do.nat"]


class KillDuringLoad(unittest.TestCase):

    def run_load_and_kill(self, d, min_acks):
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def worker(principal, n):
            c = Client(d, principal, timeout=tmo(10))
            i = 0
            try:
                while not stop.is_set():
                    try:
                        r = c.post("/v1/checks", check_body(case_ref="CRASH-%d-%d" % (n, i)))
                    except Exception:
                        return  # the daemon died under us: expected
                    if r.status == 200:
                        j = r.json()
                        with lock:
                            acked.append((j["check_id"], j["audit"]["seq"], j["audit"]["hash"],
                                          r.request_id, principal))
                    i += 1
            finally:
                c.close()

        threads = [threading.Thread(target=worker, args=(p, n), daemon=True)
                   for n, p in enumerate(LOADERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + tmo(20)
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= min_acks:
                    break
            time.sleep(0.02)
        d.kill9()  # mid-load: the workers still have requests in flight
        stop.set()
        for t in threads:
            t.join(tmo(15))
        with lock:
            return list(acked)

    def test_kill_9_during_checks_loses_no_acknowledged_check(self):
        d = Daemon("crash", conf={"audit": {"checkpoint_every": "64"}}).start()
        try:
            load_records(d, fixture_records())
            acked = self.run_load_and_kill(d, min_acks=120)
            self.assertGreaterEqual(len(acked), 20, "too few checks before the kill to test anything")
            d.start()  # same folder, same store
            lines = verify_daemon_audit(d)
            entries = audit_entries(lines)
            by_seq = {e["seq"]: e for e in entries}
            for cid, seq, h, rid, principal in acked:
                e = by_seq.get(seq)
                self.assertIsNotNone(e, "acknowledged check %s (seq %d) is gone" % (cid, seq))
                self.assertEqual(e["hash"], h, "the entry at seq %d is not the receipt's" % seq)
                self.assertEqual(e["action"], "check.create")
                self.assertEqual(e["request_id"], rid)
                self.assertEqual(e["result"]["check_id"], cid)
                self.assertEqual(e["principal"], principal)
            aud = d.client("aud.nat")
            for cid, *_ in acked:
                r = aud.get("/v1/checks/" + cid)
                self.assertEqual(r.status, 200, "acknowledged check %s unreadable after restart: %r"
                                 % (cid, r))
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
