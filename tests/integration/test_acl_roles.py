"""test_acl_roles.py - every role against every endpoint (contract.md,
"Roles" and the endpoint table).

Each endpoint is a row: who may use it and what status they get.  Everyone
else gets 403 "forbidden" before any validation of the body, and every one
of those refusals is in the audit log with the principal's id and CN.
"""

import json
import unittest

from harness import (FORCE_A, PRINCIPALS, DaemonTestCase, audit_entries, check_body, curl,
                     export_audit, find_entry, fixture_records, scrape)

# Who acts in the matrix: every principal with a usable certificate, and a
# certificate of the client CA whose CN is in no ACL section.
ACTORS = [p for p in PRINCIPALS if p not in ("revoked.wm", "later.wm")] + ["unknown"]

CASEWORKERS = {"cw.wm", "cw2.wm", "cw.met", "cw.nat", "do.wm", "do.met", "do.nat"}
REGISTRARS = {"reg.wm", "reg.met"}
AUDITORS = {"aud.wm", "aud.nat"}
MONITORS = {"mon.wm", "mon.met"}
KNOWN = set(ACTORS) - {"unknown"}


def extra_record(rid, given, family):
    return {"id": rid, "names": [{"given": given, "family": family, "kind": "primary"}],
            "dob": "1990-01-01", "managing_force": FORCE_A, "status": "active"}


class RolesAgainstEndpoints(DaemonTestCase):
    records = fixture_records()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.daemon.client("cw.wm")
        r = c.post("/v1/checks", check_body(case_ref="WM-ACL-1"))
        if r.status != 200:
            raise AssertionError("setup: cw.wm cannot run a check: %r" % r)
        cls.check_id = r.json()["check_id"]
        ids = [cand["offender_id"] for cand in r.json()["candidates"]]
        if "WMP-T000001" not in ids:
            raise AssertionError("setup: the fixture record is not a candidate: %r" % ids)

    def run_row(self, method, path, body, allowed, ctype="application/json", ok=(200,),
                before=None):
        """Sends the request as every actor; allowed ones must get a status
        in ok, the others 403 forbidden.  Then checks the audit log."""
        denied = []
        for actor in ACTORS:
            with self.subTest(actor=actor):
                if before:
                    before(actor)
                c = self.client(actor)
                data = body(actor) if callable(body) else body
                r = c.request(method, path(actor) if callable(path) else path, body=data,
                              ctype=ctype)
                self.assertTrue(r.request_id, "no X-Request-Id")
                if actor in allowed:
                    self.assertIn(r.status, ok, "%s %s as %s" % (method, path, actor))
                else:
                    self.assertEqual(r.status, 403, "%s %s as %s: %r" % (method, path, actor, r))
                    self.assertEqual(r.error_code, "forbidden")
                    denied.append((actor, r.request_id))
        entries = audit_entries(export_audit(self.daemon))
        for actor, rid in denied:
            with self.subTest(audit_of=actor):
                e = find_entry(entries, rid)
                self.assertIsNotNone(e, "the 403 to %s (request %s) is not audited" % (actor, rid))
                self.assertEqual(e["status"], 403)
                if actor == "unknown":
                    self.assertIsNone(e.get("principal"))
                    self.assertEqual(e.get("cn"), "itest.nobody")
                else:
                    self.assertEqual(e.get("principal"), actor)
                    self.assertEqual(e.get("cn"), PRINCIPALS[actor][0])
                    self.assertEqual(e.get("force"), PRINCIPALS[actor][2])
                    self.assertEqual(sorted(e.get("roles") or []), sorted(PRINCIPALS[actor][1]))
                self.assertEqual(e.get("method"), method)

    def test_checks_are_run_by_caseworkers_and_disclosure_officers(self):
        self.run_row("POST", "/v1/checks", check_body(case_ref="WM-ACL-2"), CASEWORKERS)

    def test_role_is_checked_before_the_body_is_validated(self):
        # An invalid body still gets 403 for those who may not run checks.
        self.run_row("POST", "/v1/checks", {"case_ref": "bad ref with spaces"}, CASEWORKERS,
                     ok=(400,))

    def test_a_check_is_read_by_its_owner_officers_of_its_force_and_auditors(self):
        self.run_row("GET", lambda a: "/v1/checks/" + self.check_id, None,
                     {"cw.wm", "do.wm", "do.nat", "aud.wm", "aud.nat"})

    def test_decisions_are_recorded_by_officers_who_can_read_the_check(self):
        # The body is invalid on purpose: allowed officers get 400, so the
        # check stays undecided; everyone else gets 403.
        self.run_row("POST", lambda a: "/v1/checks/%s/decision" % self.check_id,
                     {"decision": "not-a-decision"}, {"do.wm", "do.nat"}, ok=(400,))

    def test_full_records_are_read_by_officers_through_a_readable_check(self):
        self.run_row("GET", lambda a: "/v1/offenders/WMP-T000001?check_id=" + self.check_id, None,
                     {"do.wm", "do.nat"})

    def test_records_are_created_and_replaced_by_registrars(self):
        rec = extra_record("WMP-T000090", "Ambrose", "Pettigrew-Lunt")
        self.run_row("PUT", "/v1/offenders/WMP-T000090", rec, REGISTRARS, ok=(200, 201))

    def test_records_are_removed_by_registrars(self):
        rec = extra_record("WMP-T000091", "Cressida", "Ollerenshaw")

        def put_back(actor):
            r = self.client("reg.wm").put("/v1/offenders/WMP-T000091", rec)
            self.assertIn(r.status, (200, 201), r)

        self.run_row("DELETE", "/v1/offenders/WMP-T000091", None, REGISTRARS, before=put_back)

    def test_bulk_import_is_for_registrars(self):
        line = json.dumps(extra_record("WMP-T000092", "Barnaby", "Quincewood")).encode() + b"\n"
        self.run_row("POST", "/v1/offenders/_bulk", line, REGISTRARS,
                     ctype="application/x-ndjson")

    def test_the_audit_log_is_read_by_auditors(self):
        self.run_row("GET", "/v1/audit?from=0&limit=3", None, AUDITORS)

    def test_the_checkpoint_is_read_by_any_known_principal(self):
        self.run_row("GET", "/v1/audit/checkpoint", None, KNOWN)

    def test_health_is_read_by_any_known_principal(self):
        self.run_row("GET", "/healthz", None, KNOWN)

    def test_metrics_are_read_by_monitors(self):
        self.run_row("GET", "/metrics", None, MONITORS)

    def test_curl_agrees_for_one_principal_of_each_role(self):
        for actor, status in [("cw.wm", 403), ("do.wm", 403), ("reg.wm", 403), ("aud.wm", 403),
                              ("mon.wm", 200), ("unknown", 403)]:
            with self.subTest(actor=actor):
                r = curl(self.daemon, actor, "GET", "/metrics")
                self.assertEqual(r.rc, 0, r.stderr)
                self.assertEqual(r.status, status)

    def test_metrics_are_prometheus_text(self):
        r = self.client("mon.met").get("/metrics")
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertIn("text/plain", r.header("Content-Type", ""))
        self.assertRegex(text, r"(?m)^# TYPE \w+ (counter|gauge|histogram|summary)$")
        self.assertRegex(text, r"(?m)^disclosured_\w+(\{[^}]*\})? [0-9.eE+-]+$")



class MetricsTellTheTruth(DaemonTestCase):
    """The metric names are the daemon's (not the contract's); what they
    count must agree with what the API says."""
    records = fixture_records()

    def test_counters_move_with_the_requests_they_count(self):
        before = scrape(self.daemon)
        checks = sum(v for (n, _), v in before.items() if n == "disclosured_checks_total")
        ok = before.get(("disclosured_requests_total",
                         frozenset({("endpoint", "/v1/checks"), ("status", "200")})), 0)
        c = self.client("cw.wm")
        for i in range(3):
            self.assertEqual(c.post("/v1/checks", check_body(case_ref="MET-%d" % i)).status, 200)
        self.assertEqual(self.client("reg.wm").post("/v1/checks", check_body()).status, 403)
        after = scrape(self.daemon)
        self.assertEqual(sum(v for (n, _), v in after.items() if n == "disclosured_checks_total"),
                         checks + 3)
        self.assertEqual(after[("disclosured_requests_total",
                                frozenset({("endpoint", "/v1/checks"), ("status", "200")}))],
                         ok + 3)
        self.assertGreaterEqual(after.get(("disclosured_requests_total", frozenset(
            {("endpoint", "/v1/checks"), ("status", "403")})), 0), 1)

    def test_the_matchers_work_counters_agree_with_the_answers(self):
        names = ("disclosured_check_candidates_total", "disclosured_check_views_read_total",
                 "disclosured_check_records_weighed_total", "disclosured_check_more_candidates_total")
        before = scrape(self.daemon)
        c = self.client("cw.wm")
        answered = more = 0
        for i in range(3):
            r = c.post("/v1/checks", check_body(case_ref="WORK-%d" % i))
            self.assertEqual(r.status, 200)
            answered += len(r.json()["candidates"])
            more += r.json()["more_candidates"]
        self.assertEqual(self.client("reg.wm").post("/v1/checks", check_body()).status, 403)
        after = scrape(self.daemon)
        delta = {n: after[(n, frozenset())] - before[(n, frozenset())] for n in names}
        self.assertGreater(answered, 0, "the fixture check should find someone")
        self.assertEqual(delta["disclosured_check_candidates_total"], answered)
        self.assertEqual(delta["disclosured_check_more_candidates_total"], more)
        # every candidate answered was scored from its view, and every view
        # read is a record weighed
        self.assertGreaterEqual(delta["disclosured_check_views_read_total"], answered)
        self.assertGreaterEqual(delta["disclosured_check_records_weighed_total"],
                                delta["disclosured_check_views_read_total"])

    def test_gauges_agree_with_healthz(self):
        h = self.client("mon.wm").get("/healthz").json()
        m = scrape(self.daemon)
        self.assertEqual(m[("disclosured_records", frozenset())], h["records"])
        self.assertEqual(m[("disclosured_audit_seq", frozenset())], h["audit_seq"])
        self.assertGreaterEqual(m[("disclosured_open_connections", frozenset())], 1)


if __name__ == "__main__":
    unittest.main()
