"""test_audit_paging.py - an export paged the simple way ("ask from the
last seq + 1 until a page is shorter than limit", as auditors' scripts and
the shared acceptance harness do) must verify whatever the page size and
wherever the log's end falls within a page.  The hard case is a last page
that entries and closing seal fill exactly: the seal takes the seq of the
next entry unless it is stored in the chain.
"""

import audit_verify
from harness import DaemonTestCase, audit_entries, export_audit, pki


class AuditPaging(DaemonTestCase):
    # no timer checkpoint: the test controls where the end of the log falls
    daemon_conf = {"audit": {"checkpoint_seconds": "3600"}}

    def test_every_page_size_and_end_position_gives_a_verifying_export(self):
        noise = self.daemon.client("cw.wm")
        tried = 0
        for limit in range(3, 7):
            # Each export adds entries of its own, and each 404 below one
            # more, so over these rounds the end of the log falls at every
            # position within a page of this size.
            for shift in range(limit):
                lines = export_audit(self.daemon, limit=limit)
                res = audit_verify.verify_lines(lines, pki().audit_pub)
                self.assertTrue(res.ok, "limit %d, round %d: %s" % (limit, shift, res.msg))
                entries = audit_entries(lines)
                self.assertEqual([e["seq"] for e in entries], list(range(len(entries))),
                                 "limit %d: the export has gaps or repeats" % limit)
                self.assertEqual(entries[-1]["action"], "checkpoint")
                self.assertEqual(res.sealed_size, len(entries) - 1)
                noise.get("/v1/no-such-path")
                tried += 1
        self.assertEqual(tried, sum(range(3, 7)))
