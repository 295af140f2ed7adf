"""test_audit.py - the audit log as an auditor meets it: GET /v1/audit
pages, checkpoints, what is audited and what is not, and offline
verification of exports (our own verifier and disclosurectl's) including
tampered ones.
"""

import json
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import audit_verify
from harness import (HEX64, REPO, Daemon, DaemonTestCase, audit_entries, check_body, ctl, ctl_available,
                     ctl_raw, export_audit, find_entry, fixture_records, pki, verify_daemon_audit)


class AuditLog(DaemonTestCase):
    records = fixture_records()
    # no timer checkpoint in the middle of a test's reasoning about seqs
    daemon_conf = {"audit": {"checkpoint_seconds": "3600"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # some traffic of every kind
        c = cls.daemon.client("cw.wm")
        for i in range(5):
            c.post("/v1/checks", check_body(case_ref="WM-AUDIT-%d" % i))
        cls.daemon.client("reg.wm").get("/v1/audit?from=0&limit=1")  # a 403

    def test_a_complete_export_verifies_and_ends_sealed(self):
        lines = export_audit(self.daemon)
        res = audit_verify.verify_lines(lines, pki().audit_pub)
        self.assertTrue(res.ok, res.msg)
        entries = audit_entries(lines)
        self.assertEqual(entries[0]["seq"], 0)
        self.assertEqual(entries[0]["prev"], "0" * 64)
        self.assertEqual(entries[0]["action"], "daemon.start")
        last = entries[-1]
        self.assertEqual(last["action"], "checkpoint")
        self.assertEqual(last["checkpoint"]["size"], last["seq"])
        self.assertEqual(res.sealed_size, len(entries) - 1)

    def test_every_entry_says_who_when_what_and_the_status(self):
        for e in audit_entries(export_audit(self.daemon)):
            if e["action"] in ("checkpoint", "daemon.start", "daemon.stop", "config.reload"):
                continue
            with self.subTest(seq=e["seq"]):
                for k in ("time", "request_id", "cn", "roles", "force", "action", "method",
                          "path", "status"):
                    self.assertIn(k, e)
                self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
                if e["status"] >= 400:
                    self.assertIn("error", e)

    def test_every_request_names_the_certificate_that_made_it(self):
        # The CN alone cannot tell a stolen certificate from the one
        # issued in its place (reviewer D): the entry holds the SHA-256 of
        # the certificate presented, as `openssl x509 -fingerprint
        # -sha256` gives it, for known and unknown principals alike.
        r = self.client("cw.wm").post("/v1/checks", check_body(case_ref="WM-AUDIT-CERT"))
        u = self.client("unknown").get("/v1/checks/chk_00000000000000000000000000")
        entries = audit_entries(export_audit(self.daemon))
        for resp, name in ((r, "cw.wm"), (u, "unknown")):
            with self.subTest(principal=name):
                e = find_entry(entries, resp.request_id)
                self.assertEqual(e["cert_sha256"], pki().fingerprint(pki().certs[name][0]))
        self.assertIsNone(entries[0].get("cert_sha256"), "daemon.start has no certificate")

    @unittest.skipUnless(shutil.which("jq"), "jq not installed")
    def test_the_documented_jq_questions_find_what_was_done(self):
        # docs/audit-format.md gives an auditor two jq commands: who read
        # or was shown a record, and everything a principal did.  Run as
        # written, over a real export.
        cw, do = self.client("cw.wm"), self.client("do.wm")
        j = cw.post("/v1/checks", check_body(case_ref="WM-AUDIT-JQ")).json()
        cid = j["check_id"]
        self.assertIn("WMP-T000001", [c["offender_id"] for c in j["candidates"]])
        self.assertEqual(do.get("/v1/offenders/WMP-T000001?check_id=" + cid).status, 200)
        self.assertEqual(do.post("/v1/checks/%s/decision" % cid, {
            "decision": "refer", "offender_id": "WMP-T000001"}).status, 200)
        self.client("reg.wm").put("/v1/offenders/WMP-T000001", fixture_records()[0])
        text = (REPO / "docs" / "audit-format.md").read_text()
        block = re.search(r"```sh\n# who read or was shown record WMP-0001234.*?```", text, re.S).group(0)
        cmds = [c for c in re.findall(r"^(jq .*?audit\.ndjson)$", block, re.S | re.M)]
        self.assertEqual(len(cmds), 2, block)
        work = Path(tempfile.mkdtemp(dir=self.daemon.dir))
        (work / "audit.ndjson").write_bytes(b"\n".join(export_audit(self.daemon)) + b"\n")
        run = lambda cmd: [json.loads(l) for l in subprocess.run(
            ["sh", "-c", cmd], cwd=work, capture_output=True, check=True,
            timeout=60).stdout.decode().splitlines()]
        found = run(cmds[0].replace("WMP-0001234", "WMP-T000001"))
        actions = {e["action"] for e in found}
        self.assertLessEqual({"check.create", "offender.read", "check.decide", "offender.put"}, actions)
        mine = [e for e in found if e.get("check_id") == cid]
        self.assertEqual({e["action"] for e in mine}, {"check.create", "offender.read", "check.decide"})
        self.assertEqual([e["case_ref"] for e in mine if e["action"] == "check.create"], ["WM-AUDIT-JQ"])
        did = run(cmds[1].replace("dana.officer", "do.wm"))
        self.assertTrue(did)
        self.assertEqual({e["principal"] for e in did}, {"do.wm"})
        self.assertLessEqual({"offender.read", "check.decide"}, {e["action"] for e in did})

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_audit_find_answers_who_saw_a_record_and_why(self):
        # The same questions as the jq commands, with disclosurectl audit
        # find: the read and the decision through a check carry that
        # check's case and justification.
        cw, do = self.client("cw.wm"), self.client("do.wm")
        j = cw.post("/v1/checks", check_body(case_ref="WM-AUDIT-FIND",
                                             justification="Fictitious find test")).json()
        cid = j["check_id"]
        self.assertEqual(do.get("/v1/offenders/WMP-T000001?check_id=" + cid).status, 200)
        cw.post("/v1/checks", {"case_ref": "WM-AUDIT-FIND-2", "purpose": "curiosity",
                               "justification": "Fictitious refused", "subject": {
                                   "names": [{"family": "Gallowglass"}]}})
        self.assertEqual(cw.post("/v1/checks", check_body(
            case_ref="WM-AUDIT-FIND-3", justification="Fictitious\nsecond line")).status, 200)
        work = Path(tempfile.mkdtemp(dir=self.daemon.dir))
        f = work / "audit.ndjson"
        f.write_bytes(b"\n".join(export_audit(self.daemon)) + b"\n")
        p = ctl_raw("audit", "find", f, "--record", "WMP-T000001", "--check", cid)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        rows = [l.split() for l in p.stdout.decode().splitlines()]
        self.assertEqual(rows[0][:4], ["seq", "time", "principal", "action"])
        by_action = {r[3]: r for r in rows[1:]}
        self.assertEqual(set(by_action), {"check.create", "offender.read"})
        for action, who in (("check.create", "cw.wm"), ("offender.read", "do.wm")):
            r = by_action[action]
            self.assertEqual((r[2], r[5], r[6], r[7]), (who, cid, "WM-AUDIT-FIND", "csods_right_to_ask"), r)
            self.assertEqual(r[8:], ["Fictitious", "find", "test"])
        # A refused check is found by its case, with what it sent.
        p = ctl_raw("audit", "find", f, "--case", "WM-AUDIT-FIND-2")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertIn("curiosity", p.stdout.decode())
        self.assertIn("Fictitious refused", p.stdout.decode())
        # A justification's line break does not break the table's line.
        p = ctl_raw("audit", "find", f, "--case", "WM-AUDIT-FIND-3")
        self.assertEqual(len(p.stdout.decode().splitlines()), 2, p.stdout.decode())
        self.assertIn("Fictitious second line", p.stdout.decode())
        # --json: the lines as they are; criteria are and-ed; nothing: exit 1.
        p = ctl_raw("audit", "find", f, "--principal", "do.wm", "--action", "offender.read",
                    "--json")
        lines = p.stdout.decode().splitlines()
        self.assertTrue(lines)
        self.assertTrue(all(json.loads(l)["principal"] == "do.wm" and
                            json.loads(l)["action"] == "offender.read" for l in lines))
        self.assertLessEqual(set(lines), set(f.read_text().splitlines()))
        p = ctl_raw("audit", "find", f, "--principal", "nobody.at.all")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no entry", p.stderr.decode())
        p = ctl_raw("audit", "find", f)
        self.assertEqual(p.returncode, 2)

    def test_paging_with_a_small_limit_gives_the_same_chain(self):
        big = export_audit(self.daemon, limit=1000)
        small = export_audit(self.daemon, limit=7)
        self.assertTrue(audit_verify.verify_lines(small, pki().audit_pub).ok)
        n = min(len(big), len(small)) - 1  # the tails differ: reads append entries
        self.assertEqual(big[:n - 1], small[:n - 1], "stored entries changed between exports")

    def test_a_page_short_of_the_end_has_exactly_limit_entries_in_order(self):
        r = self.client("aud.nat").get("/v1/audit?from=1&limit=4")
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/x-ndjson", r.header("Content-Type", ""))
        page = r.ndjson()
        self.assertEqual([e["seq"] for e in page], [1, 2, 3, 4])

    def test_bad_paging_parameters_name_the_field(self):
        for query, field in [("from=abc&limit=5", "from"), ("from=-1&limit=5", "from"),
                             ("from=0&limit=10001", "limit"), ("from=0&limit=abc", "limit"),
                             ("from=0&limit=-3", "limit")]:
            with self.subTest(query=query):
                r = self.client("aud.nat").get("/v1/audit?" + query)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.error_code, "invalid_field")
                self.assertEqual(r.error_field, field)

    def test_the_largest_page_is_allowed(self):
        r = self.client("aud.nat").get("/v1/audit?from=0&limit=10000")
        self.assertEqual(r.status, 200, r)

    def test_denied_and_failed_requests_are_audited(self):
        c = self.client("cw.wm")
        reqs = [
            (403, c.get("/v1/audit?from=0&limit=1")),
            (404, c.get("/v1/nowhere")),
            (405, c.request("DELETE", "/v1/checks")),
            (400, c.post("/v1/checks", {"case_ref": "WM-AUD-BAD"})),
            (415, c.post("/v1/checks", b"case_ref=x", ctype="application/x-www-form-urlencoded")),
            (413, c.post("/v1/checks", b"{" + b" " * 70000 + b"}")),
            (404, self.client("aud.nat").get("/v1/checks/chk_00000000000000000000000000")),
            (403, self.client("cw.wm").get("/metrics")),
        ]
        entries = audit_entries(export_audit(self.daemon))
        for status, r in reqs:
            with self.subTest(status=status):
                self.assertEqual(r.status, status, r)
                e = find_entry(entries, r.request_id)
                self.assertIsNotNone(e, "a %d answer is not in the audit log" % status)
                self.assertEqual(e["status"], status)
                self.assertEqual(e["error"], r.error_code)
                # why, in the words the client was given
                self.assertEqual(e["error_message"], r.json()["error"]["message"])
                self.assertEqual(e.get("error_field"), r.error_field)

    def test_each_endpoint_is_audited_under_its_action(self):
        cw, do, reg, aud = (self.client(p) for p in ("cw.wm", "do.wm", "reg.wm", "aud.nat"))
        r = cw.post("/v1/checks", check_body(case_ref="WM-ACTIONS"))
        cid = r.json()["check_id"]
        rec = {"id": "WMP-T000300", "names": [{"given": "Leofric", "family": "Ashdown-Pell",
                                               "kind": "primary"}],
               "managing_force": "west-mercia", "status": "active"}
        table = [
            ("check.create", 200, r),
            ("check.read", 200, cw.get("/v1/checks/" + cid)),
            ("check.decide", 400, do.post("/v1/checks/%s/decision" % cid, {"decision": "?"})),
            ("offender.read", 200, do.get("/v1/offenders/WMP-T000001?check_id=" + cid)),
            ("offender.put", 201, reg.put("/v1/offenders/WMP-T000300", rec)),
            ("offender.delete", 200, reg.delete("/v1/offenders/WMP-T000300")),
            ("offender.bulk", 200, reg.post("/v1/offenders/_bulk", json.dumps(rec).encode() + b"\n",
                                            ctype="application/x-ndjson")),
            ("audit.read", 200, aud.get("/v1/audit?from=0&limit=2")),
            ("checkpoint.read", 200, cw.get("/v1/audit/checkpoint")),
            ("metrics.read", 403, cw.get("/metrics")),
            ("request", 404, cw.get("/v1/nothing-here")),
        ]
        entries = audit_entries(export_audit(self.daemon))
        for action, status, resp in table:
            with self.subTest(action=action):
                self.assertEqual(resp.status, status, resp)
                e = find_entry(entries, resp.request_id)
                self.assertIsNotNone(e, "no entry for the %s request" % action)
                self.assertEqual(e["action"], action)
                self.assertEqual(e["status"], status)

    def test_health_counts_the_entries_of_the_log(self):
        seq = self.client("mon.wm").get("/healthz").json()["audit_seq"]
        r = self.client("aud.nat").get("/v1/audit?from=%d&limit=10" % seq)
        first = r.ndjson()[0]
        # /healthz is not audited, so the next entry is this very read
        self.assertEqual(first["seq"], seq)
        self.assertEqual(first["request_id"], r.request_id)

    def test_successful_health_and_metrics_are_not_audited(self):
        r1 = self.client("mon.wm").get("/healthz")
        r2 = self.client("mon.wm").get("/metrics")
        self.assertEqual((r1.status, r2.status), (200, 200))
        entries = audit_entries(export_audit(self.daemon))
        self.assertIsNone(find_entry(entries, r1.request_id))
        self.assertIsNone(find_entry(entries, r2.request_id))

    def test_reads_of_the_log_are_audited(self):
        r = self.client("aud.wm").get("/v1/audit?from=2&limit=3")
        entries = audit_entries(export_audit(self.daemon))
        e = find_entry(entries, r.request_id)
        self.assertIsNotNone(e)
        self.assertEqual(e["action"], "audit.read")
        self.assertEqual(e["principal"], "aud.wm")

    def test_the_checkpoint_endpoint_gives_a_signed_checkpoint_in_the_chain(self):
        r = self.client("cw.met").get("/v1/audit/checkpoint")
        self.assertEqual(r.status, 200, r)
        cp = r.json()
        self.assertEqual(cp["action"], "checkpoint")
        c = cp["checkpoint"]
        self.assertEqual(c["key_id"], audit_verify.key_id(pki().audit_pub))
        self.assertRegex(c["head"], HEX64)
        sig = audit_verify.decode_signature(c["signature"])
        self.assertTrue(audit_verify.ed25519_verify(pki().audit_pub,
                                                    audit_verify.checkpoint_message(c), sig))
        self.assertFalse(audit_verify.ed25519_verify(pki().other_pub,
                                                     audit_verify.checkpoint_message(c), sig))
        # it seals the chain as it was: its size is its seq, its head the
        # hash of the entry before it (it need not be stored itself)
        self.assertEqual(c["size"], cp["seq"])
        self.assertEqual(cp["prev"], c["head"])
        lines = export_audit(self.daemon)
        self.assertEqual(json.loads(lines[c["size"] - 1])["hash"], c["head"])
        res = audit_verify.verify_lines(lines[:c["size"]] + [r.body.strip()], pki().audit_pub)
        self.assertTrue(res.ok, res.msg)

    def test_lines_are_ascii_and_names_in_any_script_are_kept_exactly(self):
        body = check_body(given="Зольтимир", family="Ζόλτιμιρ-Quennelbrook", case_ref="WM-ASCII-1")
        r = self.client("cw.wm").post("/v1/checks", body)
        self.assertEqual(r.status, 200, r)
        lines = export_audit(self.daemon)
        for line in lines:
            self.assertTrue(line.isascii(), "a non-ASCII byte in %r" % line[:120])
        e = find_entry(audit_entries(lines), r.request_id)
        self.assertIn("Зольтимир", json.dumps(e["query"], ensure_ascii=False))
        self.assertIn("Ζόλτιμιρ-Quennelbrook", json.dumps(e["query"], ensure_ascii=False))


class PeriodicCheckpoints(DaemonTestCase):
    daemon_conf = {"audit": {"checkpoint_every": "5"}}

    def test_a_checkpoint_is_signed_at_least_every_n_entries(self):
        c = self.client("cw.wm")
        for i in range(23):
            self.assertEqual(c.post("/v1/checks", check_body(case_ref="P-%d" % i)).status, 200)
        lines = export_audit(self.daemon)
        res = audit_verify.verify_lines(lines, pki().audit_pub)
        self.assertTrue(res.ok, res.msg)
        entries = audit_entries(lines)
        gap = 0
        for e in entries:
            if e["action"] == "checkpoint":
                gap = 0
            else:
                gap += 1
                self.assertLessEqual(gap, 5, "more than 5 entries without a checkpoint at seq %d"
                                     % e["seq"])
        self.assertGreaterEqual(sum(e["action"] == "checkpoint" for e in entries), 4)


class CheckpointTimer(DaemonTestCase):
    daemon_conf = {"audit": {"checkpoint_seconds": "1"}}

    def test_a_checkpoint_is_stored_within_checkpoint_seconds_of_an_entry(self):
        r = self.client("cw.wm").post("/v1/checks", check_body(case_ref="TIMER-1"))
        self.assertEqual(r.status, 200, r)
        seq = r.json()["audit"]["seq"]
        time.sleep(2.5)
        entries = audit_entries(export_audit(self.daemon))
        after = [e for e in entries if e["seq"] > seq]
        # the first entry after the check is the timer's checkpoint, not
        # the page seal of this export (which comes after the audit.read)
        self.assertEqual(after[0]["action"], "checkpoint", [e["action"] for e in after])
        self.assertEqual(after[0]["checkpoint"]["size"], seq + 1)


class RestartContinuesTheChain(unittest.TestCase):

    def test_stop_and_start_continue_one_chain(self):
        d = Daemon("restart").start()
        try:
            c = d.client("cw.wm")
            self.assertEqual(c.post("/v1/checks", check_body(case_ref="R-1")).status, 200)
            d.stop()
            d.start()
            c = d.client("cw.wm")
            r = c.post("/v1/checks", check_body(case_ref="R-2"))
            self.assertEqual(r.status, 200)
            lines = verify_daemon_audit(d)
            actions = [e["action"] for e in audit_entries(lines)]
            self.assertEqual(actions.count("daemon.start"), 2)
            self.assertIn("daemon.stop", actions)
            i = actions.index("daemon.stop")
            self.assertIn("checkpoint", actions[i + 1:actions.index("daemon.start", 1)],
                          "no checkpoint between daemon.stop and the next start")
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)


class TamperedExports(DaemonTestCase):
    """Our verifier, and disclosurectl's when built, must refuse every kind
    of change to a real export, naming the first bad seq."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.daemon.client("cw.wm")
        for i in range(6):
            c.post("/v1/checks", check_body(case_ref="T-%d" % i))
        cls.lines = export_audit(cls.daemon)
        cls.work = Path(tempfile.mkdtemp(dir=cls.daemon.dir))

    def tampered(self):
        L = list(self.lines)
        n = len(L)
        mid = n // 2

        def flip(line):
            i = line.index(b'"action"')
            return line[:i + 3] + bytes([line[i + 3] ^ 1]) + line[i + 4:]

        def fix_hash_only(line):
            # a changed entry whose own hash is recomputed: the link breaks
            e = line.replace(b'"time":"2', b'"time":"1', 1)
            head = e.rsplit(b',"hash":"', 1)[0]
            import hashlib
            return head + b',"hash":"' + hashlib.sha256(head).hexdigest().encode() + b'"}'

        return [
            ("a changed byte", L[:mid] + [flip(L[mid])] + L[mid + 1:], mid),
            ("a changed entry with its hash recomputed",
             L[:mid] + [fix_hash_only(L[mid])] + L[mid + 1:], mid + 1),
            ("a removed line", L[:mid] + L[mid + 1:], mid),
            ("two lines swapped", L[:mid] + [L[mid + 1], L[mid]] + L[mid + 2:], mid),
            ("a duplicated line", L[:mid + 1] + [L[mid]] + L[mid + 1:], mid + 1),
            ("the final checkpoint cut off", L[:-1], None),
        ]

    def test_our_verifier_accepts_the_real_export(self):
        self.assertTrue(audit_verify.verify_lines(self.lines, pki().audit_pub).ok)

    def test_our_verifier_refuses_tampering(self):
        mid = len(self.lines) // 2
        cases = self.tampered() + [("an empty line inserted",
                                    self.lines[:mid] + [b""] + self.lines[mid:], mid)]
        for name, lines, bad_seq in cases:
            with self.subTest(case=name):
                res = audit_verify.verify_lines(lines, pki().audit_pub)
                self.assertFalse(res.ok, name)
                if bad_seq is not None:
                    self.assertEqual(res.first_bad_seq, bad_seq, res.msg)

    def test_our_verifier_refuses_another_key(self):
        res = audit_verify.verify_lines(self.lines, pki().other_pub)
        self.assertFalse(res.ok)

    def test_our_verifier_accepts_a_cut_export_only_when_told(self):
        res = audit_verify.verify_lines(self.lines[:-1], pki().audit_pub, allow_unsealed=True)
        self.assertTrue(res.ok, res.msg)

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_verifies_the_real_export(self):
        f = self.work / "real.ndjson"
        f.write_bytes(b"\n".join(self.lines) + b"\n")
        r = ctl_raw("audit", "verify", f, "--key", pki().audit_pub)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = ctl_raw("audit", "verify", f, "--key", pki().other_pub)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_refuses_tampering_and_names_the_seq(self):
        for i, (name, lines, bad_seq) in enumerate(self.tampered()):
            with self.subTest(case=name):
                f = self.work / ("t%d.ndjson" % i)
                f.write_bytes(b"\n".join(lines) + b"\n")
                r = ctl_raw("audit", "verify", f, "--key", pki().audit_pub)
                self.assertEqual(r.returncode, 1, name)
                if bad_seq is not None:
                    self.assertIn(str(bad_seq).encode(), r.stdout + r.stderr,
                                  "the message does not name seq %d" % bad_seq)
        f = self.work / "cut.ndjson"
        f.write_bytes(b"\n".join(self.lines[:-1]) + b"\n")
        r = ctl_raw("audit", "verify", f, "--key", pki().audit_pub, "--allow-unsealed")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_exports_what_verifies(self):
        out = self.work / "ctl-export.ndjson"
        r = ctl(self.daemon, "aud.nat", "audit", "export", "-o", str(out))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = out.read_bytes().rstrip(b"\n").split(b"\n")
        res = audit_verify.verify_lines(lines, pki().audit_pub)
        self.assertTrue(res.ok, res.msg)
        self.assertEqual(lines[:len(self.lines) - 1], self.lines[:-1])


if __name__ == "__main__":
    unittest.main()
