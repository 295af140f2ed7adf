"""test_authz_probe.py - what each principal may SEE and DO, probed from
the outside (contract.md "Roles", "Force scope", the endpoint table).

What it is for: the authorisation and data-leak questions the other
modules leave open.  test_acl_roles.py has the status matrix of every role
against every endpoint; test_checks.py and test_offenders.py the main
force-scope paths.  Here: the bytes behind those statuses (what a refused
body, a header, the audit export, /metrics and the daemon's log carry of
another force's records), the ways of naming a check that must all be
refused alike, the order of refusals that would otherwise tell a stranger
what a check holds, and decisions the contract's force scope forbids.

A test marked expectedFailure proves a defect of the daemon the lead has
yet to fix; the "# DEFECT:" line above it says which.

What it must never do: use a real person's name, or reach behind the
daemon (everything here goes through the API and the log file).
"""

import json
import signal
import threading
import time
import unittest

from harness import (FORCE_A, FORCE_B, PRINCIPALS, Client, DaemonTestCase, acl_text,
                     audit_entries, check_body, export_audit, find_entry, fixture_records, tmo)

SUMMARY_ONLY = {"offender_id", "band", "score", "managing_force", "summary"}
SUMMARY_KEYS = {"birth_year", "sex", "mappa_category", "status"}

# A fictitious pair of namesakes, one managed by each force, so that one
# check finds both.  The force-B record holds values that appear nowhere
# in the query: none of them may reach a reader of force A.
QUERY = dict(given="Isembard", family="Quillfeather", dob="1968-05-17")
WM_ID = "WMP-H230001"
MET_ID = "MET-H230001"
MET_SECRETS = ["Quillfeather-Marsh", "Izzy", "Fictional Mews", "NW3 4QQ", "1968-07-15",
               "fictitious offence H23", "fictitious prohibition H23", "2013-02-03",
               "2012-11-30", "very_high"]


def h23_records():
    return [
        {"id": WM_ID,
         "names": [{"given": "Isembard", "family": "Quillfeather", "kind": "primary"}],
         "dob": "1968-05-17", "sex": "M",
         "addresses": [{"text": "4 Pretend Row, Hereford", "postcode": "HR1 9XX",
                        "from": "2021-03-01", "to": None}],
         "managing_force": FORCE_A, "status": "active", "mappa": {"category": 1, "level": 1},
         "risk_level": "low"},
        {"id": MET_ID,
         "names": [{"given": "Isembard", "family": "Quillfeather", "kind": "primary"},
                   {"given": "Izzy", "family": "Quillfeather-Marsh", "kind": "alias"}],
         "dob": "1968-05-17", "other_dobs": ["1968-07-15"], "sex": "M",
         "addresses": [{"text": "17 Fictional Mews, London", "postcode": "NW3 4QQ",
                        "from": "2019-06-01", "to": None}],
         "managing_force": FORCE_B, "status": "active", "mappa": {"category": 3, "level": 3},
         "risk_level": "very_high", "registration": {"start": "2013-02-03", "end": None},
         "convictions": [{"date": "2012-11-30", "offence": "fictitious offence H23",
                          "victim_age_band": "under_13"}],
         "orders": [{"type": "SHPO", "start": "2013-02-03", "end": None,
                     "prohibitions": ["fictitious prohibition H23"]}]},
    ]


def undecided(j):
    return j.get("decision") is None


class AuthzProbe(DaemonTestCase):
    records = fixture_records() + h23_records()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.daemon.client("cw.wm").post(
            "/v1/checks", check_body(case_ref="WM-H23-BASE", **QUERY,
                                     justification="Fictitious applicant asks about H23 base"))
        if r.status != 200:
            raise AssertionError("setup: cw.wm cannot run a check: %r" % r)
        cls.base = r.json()
        cls.base_id = cls.base["check_id"]
        ids = {c["offender_id"] for c in cls.base["candidates"]}
        if not {WM_ID, MET_ID} <= ids:
            raise AssertionError("setup: the H23 namesakes are not both candidates: %r" % ids)

    def new_check(self, principal, case_ref, **kw):
        body = check_body(case_ref=case_ref, **dict(QUERY, **kw))
        r = self.client(principal).post("/v1/checks", body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertNoSecrets(self, blob, where):
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        for s in MET_SECRETS:
            self.assertNotIn(s, text, "%s carries '%s' of the other force's record" % (where, s))

    def assertBareError(self, r, status, code, where):
        self.assertEqual(r.status, status, "%s: %r" % (where, r))
        j = json.loads(r.body)
        self.assertEqual(set(j), {"error"}, "%s: the refusal carries more than an error" % where)
        self.assertEqual(j["error"]["code"], code, where)
        self.assertLessEqual(set(j["error"]), {"code", "message", "field"}, where)

    # -- force scope in what a reader of another force is shown --

    def test_other_forces_candidates_carry_exactly_the_contracts_summary_everywhere(self):
        own = self.new_check("do.wm", "WM-H23-SCOPE")
        answers = [("cw.wm's answer", self.base, None), ("do.wm's answer", own, None)]
        for reader in ("cw.wm", "do.wm", "aud.wm"):
            r = self.client(reader).get("/v1/checks/" + self.base_id)
            self.assertEqual(r.status, 200, r)
            answers.append(("the stored check read by " + reader, r.json(), r))
        for where, j, resp in answers:
            with self.subTest(where=where):
                cands = (j.get("response") or j)["candidates"]
                by_id = {c["offender_id"]: c for c in cands}
                met = by_id[MET_ID]
                self.assertEqual(set(met), SUMMARY_ONLY, "%s: keys of another force's candidate"
                                 % where)
                self.assertEqual(set(met["summary"]), SUMMARY_KEYS, where)
                self.assertEqual(met["managing_force"], FORCE_B)
                self.assertEqual(met["summary"], {"birth_year": 1968, "sex": "M",
                                                  "mappa_category": 3, "status": "active"})
                self.assertIn("matched_name", by_id[WM_ID], "%s: own force's details" % where)
                self.assertNoSecrets(json.dumps(j, ensure_ascii=False), where)
                if resp is not None:
                    self.assertNoSecrets(" ".join(v for _, v in resp.headers), where + " headers")

    def test_the_audit_export_names_candidates_by_id_band_score_and_force_only(self):
        lines = export_audit(self.daemon, principal="aud.wm")
        self.assertNoSecrets(b"\n".join(lines), "the audit export read by aud.wm")
        entries = [e for e in audit_entries(lines) if e.get("action") == "check.create"
                   and (e.get("result") or {}).get("check_id") == self.base_id]
        self.assertEqual(len(entries), 1, "the base check's entry")
        cands = entries[0]["result"]["candidates"]
        self.assertEqual({c["offender_id"] for c in cands} >= {WM_ID, MET_ID}, True)
        # Besides id, band and score: the managing force (which every
        # caller is shown of any candidate: contract.md "Force scope") and
        # what the caller was shown of it (full or summary).
        for c in cands:
            self.assertLessEqual(set(c), {"offender_id", "band", "score", "managing_force", "shown"},
                                 "an audit entry holds more of a candidate than its id and band")
            self.assertIn(c["shown"], ("full", "summary"))

    # -- refusals carry nothing --

    def test_refused_reads_and_decisions_carry_no_check_content(self):
        path = "/v1/checks/" + self.base_id
        leaks = [WM_ID, MET_ID, "WM-H23-BASE", "Isembard", "Quillfeather", "H23 base",
                 "1968-05-17"]
        cases = [(a, "GET", path, None)
                 for a in ("cw2.wm", "cw.met", "cw.nat", "do.met", "reg.wm", "mon.wm", "unknown")]
        cases += [(a, "POST", path + "/decision",
                   {"decision": "refer", "offender_id": WM_ID, "rationale": "probe"})
                  for a in ("cw.wm", "do.met", "aud.nat", "reg.wm", "mon.wm", "unknown")]
        cases += [(a, "GET", "/v1/offenders/%s?check_id=%s" % (rid, self.base_id), None)
                  for a, rid in (("do.met", WM_ID), ("do.met", MET_ID), ("do.wm", MET_ID),
                                 ("aud.nat", WM_ID), ("cw.wm", WM_ID), ("unknown", WM_ID))]
        for actor, method, p, body in cases:
            with self.subTest(actor=actor, method=method, path=p[:40]):
                r = self.client(actor).request(method, p, body=body)
                self.assertBareError(r, 403, "forbidden", "%s %s as %s" % (method, p, actor))
                # The message may name the ids the caller sent, nothing the store holds.
                msg = json.loads(r.body)["error"]["message"]
                for s in leaks:
                    if s in p:
                        continue
                    self.assertNotIn(s, msg, "a refusal to %s names '%s'" % (actor, s))
                self.assertNoSecrets(r.body, "a refusal to " + actor)
        r = self.client("cw.wm").get(path)
        self.assertTrue(undecided(r.json()), "a refused decision was recorded")

    def test_full_records_through_checks_that_do_not_allow_them_are_all_refused_alike(self):
        met_check = self.new_check("do.met", "MET-H23-1")["check_id"]
        nat_check = self.new_check("do.nat", "NAT-H23-1")["check_id"]
        other = self.new_check("cw.wm", "WM-H23-OTHER", given="Ottoline",
                               family="Brackenwhistle", dob="1979-02-14")["check_id"]
        cases = [
            ("a well-formed check id nobody issued", WM_ID, "chk_" + "0" * 26),
            ("a check id of the wrong shape", WM_ID, "../" + self.base_id),
            ("a check id in lower case", WM_ID, self.base_id.lower()),
            ("a check of another force naming an own-force record", WM_ID, met_check),
            ("a national officer's check", WM_ID, nat_check),
            ("a readable check where the record was not a candidate", WM_ID, other),
            ("a readable check, the other force's candidate", MET_ID, self.base_id),
        ]
        refused = []
        for name, rid, cid in cases:
            with self.subTest(case=name):
                r = self.client("do.wm").get("/v1/offenders/%s?check_id=%s" % (rid, cid))
                self.assertBareError(r, 403, "forbidden", name)
                self.assertNotIn(b"Quillfeather", r.body, name)
                self.assertNoSecrets(r.body, name)
                refused.append(r.request_id)
        entries = audit_entries(export_audit(self.daemon))
        for rid in refused:
            e = find_entry(entries, rid)
            self.assertIsNotNone(e, "a refused read of a full record is not audited")
            self.assertEqual((e["action"], e["status"]), ("offender.read", 403))
        # ...while the same officer, through a colleague's check of its force, reads it.
        r = self.client("do.wm").get("/v1/offenders/%s?check_id=%s" % (WM_ID, self.base_id))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], WM_ID)

    def test_a_repeated_check_id_is_authorised_and_audited_as_the_first_one(self):
        met_check = self.new_check("do.met", "MET-H23-2")["check_id"]
        c = self.client("do.wm")
        ok = c.get("/v1/offenders/%s?check_id=%s&check_id=%s" % (WM_ID, self.base_id, met_check))
        self.assertEqual(ok.status, 200, ok)
        no = c.get("/v1/offenders/%s?check_id=%s&check_id=%s" % (WM_ID, met_check, self.base_id))
        self.assertBareError(no, 403, "forbidden", "the unreadable check named first")
        entries = audit_entries(export_audit(self.daemon))
        self.assertEqual(find_entry(entries, ok.request_id)["check_id"], self.base_id,
                         "the audit names another check than the one that allowed the read")
        self.assertEqual(find_entry(entries, no.request_id)["check_id"], met_check)

    def test_fields_naming_who_acts_are_refused_never_adopted(self):
        # Who acts, for which force, and under which check id is the
        # daemon's to say; a body that claims it is refused whole.
        cid = self.new_check("cw.wm", "WM-H23-SPOOF")["check_id"]
        dec = {"decision": "refer", "offender_id": WM_ID}
        cases = [
            ("cw.wm", "/v1/checks", dict(check_body(case_ref="WM-H23-S1"), principal="cw.nat"),
             "principal"),
            ("cw.wm", "/v1/checks", dict(check_body(case_ref="WM-H23-S2"), force="*"), "force"),
            ("cw.wm", "/v1/checks", dict(check_body(case_ref="WM-H23-S3"), check_id=cid),
             "check_id"),
            ("cw.wm", "/v1/checks",
             dict(check_body(case_ref="WM-H23-S4"),
                  subject=dict(check_body()["subject"], managing_force="*")),
             "subject.managing_force"),
            ("do.wm", "/v1/checks/%s/decision" % cid, dict(dec, decided_by="do.nat"),
             "decided_by"),
            ("do.wm", "/v1/checks/%s/decision" % cid,
             dict(dec, decided_at="2000-01-01T00:00:00Z"), "decided_at"),
        ]
        for actor, path, body, field in cases:
            with self.subTest(field=field):
                r = self.client(actor).post(path, body)
                self.assertBareError(r, 400, "invalid_field", field)
                self.assertEqual(r.error_field, field, r)
        stored = self.client("cw.wm").get("/v1/checks/" + cid).json()
        self.assertTrue(undecided(stored), "a decision with a claimed officer was recorded")

    def test_an_officer_moved_to_another_force_loses_the_old_forces_checks_at_once(self):
        c = self.client("do.wm")
        full = "/v1/offenders/%s?check_id=%s" % (WM_ID, self.base_id)
        self.assertEqual(c.get(full).status, 200, "premise: do.wm reads the record")
        acl = self.daemon.dir / "acl.conf"
        good = acl.read_text()
        moved = dict(PRINCIPALS)
        cn, roles, _ = moved["do.wm"]
        moved["do.wm"] = (cn, roles, FORCE_B)
        acl.write_text(acl_text(moved))
        try:
            self.reload()
            # Same keep-alive connection: the old force's check and record are shut.
            self.assertBareError(c.get(full), 403, "forbidden", "the old force's record")
            self.assertBareError(c.get("/v1/checks/" + self.base_id), 403, "forbidden",
                                 "the old force's check")
            self.assertBareError(c.post("/v1/checks/%s/decision" % self.base_id,
                                        {"decision": "no_disclosure", "offender_id": None}),
                                 403, "forbidden", "a decision on the old force's check")
            j = c.post("/v1/checks", check_body(case_ref="MET-H23-MOVED", **QUERY)).json()
            by_id = {x["offender_id"]: x for x in j["candidates"]}
            self.assertEqual(set(by_id[WM_ID]), SUMMARY_ONLY, "details of the old force")
            self.assertIn("matched_name", by_id[MET_ID], "no details of the new force")
        finally:
            acl.write_text(good)
            self.reload()
        self.assertEqual(c.get(full).status, 200, "the restored ACL did not take")

    def reload(self):
        size = len(self.daemon.log_text())
        self.daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + tmo(5)
        while time.monotonic() < deadline and "ACL reloaded" not in self.daemon.log_text()[size:]:
            time.sleep(0.05)
        self.assertIn("ACL reloaded", self.daemon.log_text()[size:], "SIGHUP: no ACL reload")

    # -- decisions --

    def test_a_stranger_is_refused_before_learning_that_a_check_is_decided(self):
        cid = self.new_check("cw.wm", "WM-H23-DEC1")["check_id"]
        r = self.client("do.wm").post("/v1/checks/%s/decision" % cid,
                                      {"decision": "no_disclosure", "offender_id": None})
        self.assertEqual(r.status, 200, r)
        for actor in ("do.met", "cw.wm", "aud.nat", "unknown"):
            with self.subTest(actor=actor):
                r = self.client(actor).post("/v1/checks/%s/decision" % cid,
                                            {"decision": "refer", "offender_id": WM_ID})
                self.assertBareError(r, 403, "forbidden", actor)
                self.assertNotIn(b"decided", r.body)
                self.assertNotIn(b"no_disclosure", r.body)

    def test_racing_decisions_store_and_audit_only_the_winners(self):
        cid = self.new_check("cw.wm", "WM-H23-RACE")["check_id"]
        results = []
        lock = threading.Lock()
        go = threading.Event()

        def decide(principal, n):
            c = Client(self.daemon, principal)
            try:
                c.get("/healthz")
                go.wait()
                r = c.post("/v1/checks/%s/decision" % cid,
                           {"decision": "refer", "offender_id": WM_ID,
                            "rationale": "fictitious racer %d" % n})
                with lock:
                    results.append((n, r.status, r.request_id))
            finally:
                c.close()

        threads = [threading.Thread(target=decide, args=(p, n))
                   for n, p in enumerate(["do.wm", "do.nat"] * 3)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(s for _, s, _ in results), [200] + [409] * 5, results)
        winner = [n for n, s, _ in results if s == 200][0]
        stored = self.client("cw.wm").get("/v1/checks/" + cid).json()["decision"]
        self.assertEqual(stored["rationale"], "fictitious racer %d" % winner,
                         "the stored decision is not the one answered 200")
        entries = audit_entries(export_audit(self.daemon))
        decides = [e for e in entries
                   if e.get("action") == "check.decide" and e.get("check_id") == cid]
        self.assertEqual(sorted(e["status"] for e in decides), [200] + [409] * 5)
        ok = [e for e in decides if e["status"] == 200][0]
        self.assertEqual(ok["decision"]["rationale"], "fictitious racer %d" % winner)

    # Was a defect (fixed): a force-A officer records "disclose" of a force-B record it may not even read
    def test_an_officer_cannot_disclose_a_record_outside_its_force_scope(self):
        # The contract keeps another force's record to a summary and
        # names its managing force as "the force to contact"; the officer
        # is refused the full record (403), so it cannot lawfully be the
        # one who discloses it.  Referral is the route for such a record.
        cid = self.new_check("cw.wm", "WM-H23-DEC2")["check_id"]
        r = self.client("do.wm").get("/v1/offenders/%s?check_id=%s" % (MET_ID, cid))
        self.assertEqual(r.status, 403, "premise: do.wm may not read the force-B record")
        r = self.client("do.wm").post("/v1/checks/%s/decision" % cid,
                                      {"decision": "disclose", "offender_id": MET_ID,
                                       "recipient": "Fictitious Guardian",
                                       "rationale": "probe: disclosure outside force scope"})
        self.assertIn(r.status, (400, 403), "do.wm disclosed another force's record: %r" % r)
        stored = self.client("cw.wm").get("/v1/checks/" + cid).json()
        self.assertTrue(undecided(stored), "the out-of-scope disclosure was recorded")

    # -- strangers, monitors, the log --

    # Was a defect (fixed): a CN in no ACL section is told its audit entry's seq (X-Audit-Seq), the log's live size
    def test_a_certificate_outside_the_acl_learns_nothing_of_the_audit_log(self):
        # /healthz's audit_seq is for known principals only; the same
        # number in a header of the 403 lets any holder of a client-CA
        # certificate count the consultations made, request by request.
        seqs = []
        for path in ("/healthz", "/v1/audit/checkpoint", "/v1/checks/" + self.base_id):
            with self.subTest(path=path):
                r = self.client("unknown").get(path)
                self.assertBareError(r, 403, "forbidden", path)
                self.assertTrue(r.request_id)
                seqs.append(r.header("X-Audit-Seq"))
                seqs.append(r.header("X-Audit-Hash"))
        self.assertEqual(seqs, [None] * 6, "the unknown CN was told audit seqs %r" % seqs)

    def test_metrics_name_no_principal_case_check_or_record(self):
        self.client("unknown").get("/v1/audit?from=0&limit=1")
        r = self.client("mon.met").get("/metrics")
        self.assertEqual(r.status, 200, r)
        text = r.body.decode()
        names = [self.base_id, "WM-H23-BASE", WM_ID, MET_ID, "Isembard", "Quillfeather",
                 "itest.nobody", FORCE_A, FORCE_B]
        for pid, (cn, _roles, _force) in PRINCIPALS.items():
            names += [pid, cn]
        for s in names:
            self.assertNotIn(s, text, "/metrics names '%s'" % s)
        self.assertNoSecrets(text, "/metrics")

    def test_registrar_and_decision_paths_leave_no_personal_data_in_the_log(self):
        sec = {"id": "MET-H230009", "names": [{"given": "Philomena", "family": "Gravelthwaite",
                                              "kind": "primary"}],
               "dob": "1977-08-19", "addresses": [{"text": "3 Invented Close", "postcode": "E9 6QQ"}],
               "managing_force": FORCE_B, "status": "active"}
        bad = dict(sec, id="MET-H230010", dob="1977-19-08")
        reg = self.client("reg.wm")
        r = reg.post("/v1/offenders/_bulk", (json.dumps(sec) + "\n" + json.dumps(bad) + "\n"
                                            + '{"id": "MET-H230011", "names": "Gravelthwaite"\n'),
                     ctype="application/x-ndjson")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["rejected"]), 2, r)
        self.assertEqual(reg.put("/v1/offenders/MET-H230010", bad).status, 400)
        self.assertEqual(reg.put("/v1/offenders/MET-H230009", dict(sec, id="X")).status, 400)
        self.assertEqual(reg.put("/v1/offenders/MET-H230009", sec).status, 200)
        self.assertEqual(self.client("do.wm").get("/v1/offenders/MET-H230009").status, 400)
        cid = self.new_check("cw.wm", "WM-H23-LOG", given="Philomena", family="Gravelthwaite",
                             dob="1977-08-19")["check_id"]
        do = self.client("do.wm")
        do.get("/v1/offenders/MET-H230009?check_id=" + cid)
        do.post("/v1/checks/%s/decision" % cid,
                {"decision": "disclose", "offender_id": "WMP-NOPE",
                 "recipient": "Aurelia Winterbourne-Fisk", "rationale": "Gravelthwaite probe"})
        do.post("/v1/checks/%s/decision" % cid,
                {"decision": "refer", "offender_id": "MET-H230009",
                 "recipient": "Aurelia Winterbourne-Fisk", "rationale": "Gravelthwaite refer"})
        log = self.daemon.log_text()
        for s in ("Philomena", "Gravelthwaite", "1977-08-19", "1977-19-08", "Invented Close",
                  "E9 6QQ", "Winterbourne", "Isembard", "Quillfeather", "Fictional Mews"):
            self.assertNotIn(s, log, "the daemon's log holds '%s'" % s)

    def test_registrar_answers_echo_no_record_content(self):
        rec = dict(h23_records()[1], id="MET-H230020")
        reg = self.client("reg.met")
        for step, r in (("create", reg.put("/v1/offenders/MET-H230020", rec)),
                        ("replace", reg.put("/v1/offenders/MET-H230020", rec)),
                        ("delete", reg.delete("/v1/offenders/MET-H230020"))):
            with self.subTest(step=step):
                self.assertIn(r.status, (200, 201), r)
                self.assertLessEqual(set(r.json()), {"id", "created", "deleted", "audit"}, r)
                self.assertNoSecrets(r.body, "the registrar's %s answer" % step)


if __name__ == "__main__":
    unittest.main()
