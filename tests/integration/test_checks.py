"""test_checks.py - disclosure checks and decisions over the API
(contract.md "POST /v1/checks", "GET /v1/checks/{id}", "decision").

The register holds the hand-made fixture records (whose answers the tests
know) and a generated register of 2,000 fictitious people.
"""

import json
import re
import tempfile
import unittest
from pathlib import Path

from harness import (FORCE_A, FORCE_B, HEX64, DaemonTestCase, audit_entries, check_body, ctl,
                     ctl_available, export_audit, fixture_records, namesakes, register_lines,
                     scrape)

BANDS = ("match", "possible_match")
OUTCOMES = ("match", "possible_match", "no_match")
PURPOSES = ["csods_right_to_ask", "csods_right_to_be_told", "dvds_right_to_ask",
            "dvds_right_to_know", "mappa_review", "other"]
SUMMARY_ONLY = {"offender_id", "band", "score", "managing_force", "summary"}
REGISTER = register_lines(seed=11, count=2000)


# Ten people of one name (every one of them fits in the list) and eleven
# of another (one does not).
TEN = namesakes("WMP-NV", "Xanthe", "Vellacott", 10)
ELEVEN = namesakes("WMP-NF", "Quilla", "Fennimore", 11)


def twin_register():
    """A registered Rajesh and a registered Michael, each with a twin
    (Rakesh, Michelle) who is not on the register; and enough other
    Rajeshes and Rakeshes that the register knows both names well."""
    def person(pid, given, family, sex, dob="1984-06-02", pc="WR9 7QT"):
        return {"id": pid, "names": [{"given": given, "family": family, "kind": "primary"}],
                "dob": dob, "sex": sex, "addresses": [{"postcode": pc}],
                "managing_force": "west-mercia", "status": "active"}
    out = [person("WMP-TW0001", "Rajesh", "Ollerbridge", "M"),
           person("WMP-TW0002", "Michael", "Quorndale", "M", dob="1979-01-30", pc="WR10 2BN")]
    for i, fam in enumerate(("Ashbyholt", "Cranmere", "Dunsford", "Elmstock")):
        out.append(person("WMP-TW01%02d" % i, "Rajesh", fam, "M", dob="19%d-03-0%d" % (60 + i, 1 + i)))
        out.append(person("WMP-TW02%02d" % i, "Rakesh", fam + "e", "M", dob="19%d-04-0%d" % (60 + i, 1 + i)))
    return out


TWINS = twin_register()
# Sikh names: Singh or Kaur before a clan name, or as the family name.
SIKH = [{"id": "WMP-SK0001", "names": [{"given": "Gurpreet", "middle": "Singh", "family": "Dhallowal",
                                        "kind": "primary"}],
         "dob": "1984-07-19", "sex": "M", "managing_force": "west-mercia", "status": "active"},
        {"id": "WMP-SK0002", "names": [{"given": "Harjit", "family": "Kaur", "kind": "primary"}],
         "dob": "1990-02-11", "sex": "F", "managing_force": "west-mercia", "status": "active"},
        {"id": "WMP-SK0003", "names": [{"given": "Amarjit", "family": "Bhamrowal", "kind": "primary"}],
         "dob": "1977-09-14", "sex": "M", "managing_force": "west-mercia", "status": "active",
         "addresses": [{"postcode": "WR5 3JQ"}]}]

# A name chain: a father's name (Faraj) as the middle name.
CHAIN = [{"id": "WMP-AR0001", "names": [{"given": "Nabil", "middle": "Faraj", "family": "Qassabeyn",
                                         "kind": "primary"}],
          "dob": "1981-06-19", "sex": "M", "managing_force": "west-mercia", "status": "active",
          "addresses": [{"postcode": "WR3 8HP"}]}]

# Evaluation H (2 December): twins given two names however alike; a
# person living at the address a wrong date was given for; a date written
# as 1 January or 1900-01-01 where nobody knew it.
HOUSEHOLD = [{"id": "WMP-HH0001", "names": [{"given": "Hassan", "family": "Ollerbrae", "kind": "primary"}],
              "dob": "1971-05-12", "sex": "M", "managing_force": "west-mercia", "status": "active",
              "addresses": [{"postcode": "WR6 5LJ"}]},
             {"id": "WMP-HH0002", "names": [{"given": "Abdi", "middle": "Ali", "family": "Warsandeh",
                                             "kind": "primary"}],
              "dob": "2001-01-01", "sex": "M", "managing_force": "west-mercia", "status": "active",
              "addresses": [{"postcode": "WR2 4NE"}]}]


def candidates_in(obj):
    """Every candidate-like object (a dict with offender_id and band)
    anywhere in a JSON document."""
    out = []
    if isinstance(obj, dict):
        if "offender_id" in obj and "band" in obj:
            out.append(obj)
        for v in obj.values():
            out += candidates_in(v)
    elif isinstance(obj, list):
        for v in obj:
            out += candidates_in(v)
    return out


class Checks(DaemonTestCase):
    records = fixture_records() + REGISTER + TEN + ELEVEN + TWINS + SIKH + CHAIN + HOUSEHOLD

    def check(self, principal, body, status=200):
        r = self.client(principal).post("/v1/checks", body)
        self.assertEqual(r.status, status, r)
        return r

    def assertWellFormedAnswer(self, j):
        self.assertRegex(j["check_id"], r"^chk_[0-9A-Za-z]+$")
        self.assertIn(j["outcome"], OUTCOMES)
        cands = j["candidates"]
        self.assertLessEqual(len(cands), 10, "more than 10 candidates")
        scores = [c["score"] for c in cands]
        self.assertEqual(scores, sorted(scores, reverse=True), "candidates not sorted by score")
        for c in cands:
            self.assertIn(c["band"], BANDS, "a candidate below possible_match was returned")
            self.assertIsInstance(c["score"], (int, float))
            for k in ("offender_id", "managing_force", "summary"):
                self.assertIn(k, c)
        if cands:
            self.assertEqual(j["outcome"], cands[0]["band"], "outcome is not the best band")
        else:
            self.assertEqual(j["outcome"], "no_match")
        self.assertIsInstance(j["audit"]["seq"], int)
        self.assertRegex(j["audit"]["hash"], HEX64)
        self.assertIsInstance(j["more_candidates"], bool)
        if j["more_candidates"]:
            self.assertEqual(len(cands), 10, "more_candidates with room left in the list")

    # -- answers --

    def test_exact_name_and_date_of_birth_is_a_match_with_a_receipt(self):
        body = check_body(given="Zoltimir", family="Quennelbrook", dob="1985-11-23",
                          case_ref="WM-CHK-0001")
        r = self.check("cw.wm", body)
        self.assertTrue(r.request_id)
        j = r.json()
        self.assertWellFormedAnswer(j)
        self.assertEqual(j["outcome"], "match")
        self.assertEqual(j["candidates"][0]["offender_id"], "WMP-T000002")
        self.assertEqual(j["candidates"][0]["summary"].get("birth_year"), 1985)

    def test_singh_and_kaur_are_family_names_and_middle_names_alike(self):
        # Evaluation F: Gurpreet Singh asked about, Gurpreet Singh
        # Dhallowal on the register (or the other way round), with a year
        # of birth only: family:mismatch, and not found.
        for given, family, middle, dob, want in (
                ("Gurpreet", "Singh", None, "1984", "WMP-SK0001"),
                ("Harjit", "Sandhowal", "Kaur", "1990", "WMP-SK0002")):
            with self.subTest(given=given):
                body = check_body(given=given, family=family, dob=dob)
                if middle:
                    body["subject"]["names"][0]["middle"] = middle
                j = self.check("cw.wm", body).json()
                self.assertWellFormedAnswer(j)
                self.assertIn(want, [c["offender_id"] for c in j["candidates"]], j)

    def test_singh_or_kaur_for_another_family_name_is_neither_for_nor_against(self):
        # Evaluation F: Harpreet Singh asked about, Harpreet Bhamra on the
        # register (Singh nowhere in the record), or Manpreet Sangha asked
        # about and Manpreet Kaur registered: family:mismatch, not found.
        # Now shown, with its own reason, and never the match, even with
        # the date and the postcode.
        for given, family, dob, pc, want in (
                ("Amarjit", "Singh", "1977-09-14", "WR5 3JQ", "WMP-SK0003"),
                ("Amarjit", "Singh", "1977", None, "WMP-SK0003"),
                ("Harjit", "Sandhowal", "1990", None, "WMP-SK0002")):
            with self.subTest(given=given, dob=dob):
                extra = {"postcode": pc} if pc else {}
                j = self.check("cw.wm", check_body(given=given, family=family, dob=dob, **extra)).json()
                self.assertWellFormedAnswer(j)
                found = [c for c in j["candidates"] if c["offender_id"] == want]
                self.assertEqual(len(found), 1, j)
                self.assertEqual(found[0]["band"], "possible_match")
                self.assertIn("family:singh_kaur", found[0]["reasons"])
        # Two clan names that differ still disagree, and so does Singh
        # where the given names do not agree: Tobias Singh is not Amarjit
        # Bhamrowal for being born on his date.
        for given, family in (("Amarjit", "Dhallowal"), ("Tobias", "Singh")):
            with self.subTest(given=given, family=family):
                j = self.check("cw.wm", check_body(given=given, family=family, dob="1977-09-14")).json()
                self.assertWellFormedAnswer(j)
                for c in j["candidates"]:
                    if c["offender_id"] == "WMP-SK0003":
                        self.assertNotIn("family:singh_kaur", c["reasons"])
                        self.assertIn("family:mismatch", c["reasons"])

    def test_the_family_name_given_may_be_a_middle_name_of_the_record(self):
        # Evaluation F: Mahmoud Ahmed asked about, Mahmoud Ahmed Al-Sayed
        # registered (a father's name used as the surname), with a year:
        # family:mismatch, not found.  Now family:middle_name, the match
        # only with the postcode behind it (as given:middle_name).
        for dob, extra, band in (("1981", {}, "possible_match"),
                                 ("1981-06-19", {}, "possible_match"),
                                 ("1981-06-19", {"postcode": "WR3 8HP"}, "match")):
            with self.subTest(dob=dob, **extra):
                j = self.check("cw.wm", check_body(given="Nabil", family="Faraj", dob=dob, **extra)).json()
                self.assertWellFormedAnswer(j)
                c = j["candidates"][0]
                self.assertEqual((c["offender_id"], c["band"]), ("WMP-AR0001", band), j)
                self.assertIn("family:middle_name", c["reasons"])
        # Only where the given names agree.
        j = self.check("cw.wm", check_body(given="Tobias", family="Faraj", dob="1981-06-19",
                                           postcode="WR3 8HP")).json()
        for c in j["candidates"]:
            self.assertNotIn("family:middle_name", c["reasons"], j)

    def test_a_twin_with_a_similar_name_is_never_the_match(self):
        # Evaluation F: a twin (same family name, date of birth and
        # address) whose given name is another name a letter or a sound
        # away was put in the match band, 59 of 120 times.  Now a possible
        # match, with its own reason; the registered twin is still a match.
        def first(given, family, dob, pc, sex):
            j = self.check("cw.wm", check_body(given=given, family=family, dob=dob, postcode=pc,
                                               sex=sex)).json()
            self.assertWellFormedAnswer(j)
            return j["candidates"][0]
        c = first("Rakesh", "Ollerbridge", "1984-06-02", "WR9 7QT", "M")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-TW0001", "possible_match"))
        self.assertIn("given:another_name", c["reasons"])
        c = first("Rajesh", "Ollerbridge", "1984-06-02", "WR9 7QT", "M")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-TW0001", "match"))
        # The other sex and a near name: Michelle for Michael.
        c = first("Michelle", "Quorndale", "1979-01-30", "WR10 2BN", "F")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-TW0002", "possible_match"))
        self.assertIn("sex:mismatch", c["reasons"])
        # A sex mistyped with the name right is still the match.
        c = first("Michael", "Quorndale", "1979-01-30", "WR10 2BN", "F")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-TW0002", "match"))
        self.assertIn("sex:mismatch", c["reasons"])

    def test_dates_nobody_knew_and_names_apart_say_so(self):
        # Evaluation H.  Each answer as the API gives it, with its reasons.
        def first(**kw):
            j = self.check("cw.wm", check_body(**kw)).json()
            self.assertWellFormedAnswer(j)
            self.assertTrue(j["candidates"], kw)
            return j["candidates"][0]
        # Hussein asked about, his twin Hassan registered: two names.
        c = first(given="Hussein", family="Ollerbrae", dob="1971-05-12", postcode="WR6 5LJ", sex="M")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-HH0001", "possible_match"))
        self.assertIn("given:another_name", c["reasons"])
        # Hasan is a spelling of Hassan: the match.
        c = first(given="Hasan", family="Ollerbrae", dob="1971-05-12", postcode="WR6 5LJ", sex="M")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-HH0001", "match"))
        # A date wholly wrong, the name and the address right: listed.
        c = first(given="Hassan", family="Ollerbrae", dob="1980-11-03", postcode="WR6 5LJ")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-HH0001", "possible_match"))
        self.assertIn("dob:mismatch", c["reasons"])
        self.assertIn("postcode:full", c["reasons"])
        # 1900-01-01, where nobody knew the date: not held against him.
        c = first(given="Hassan", family="Ollerbrae", dob="1900-01-01")
        self.assertEqual(c["offender_id"], "WMP-HH0001")
        self.assertIn("dob:implausible", c["reasons"])
        # 1 January agreeing alone is not the match; with the postcode it is.
        c = first(given="Abdi", family="Warsandeh", dob="2001-01-01", postcode="WR14 1AA")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-HH0002", "possible_match"))
        c = first(given="Abdi", family="Warsandeh", dob="2001-01-01", postcode="WR2 4NE")
        self.assertEqual((c["offender_id"], c["band"]), ("WMP-HH0002", "match"))

    def test_a_date_of_birth_known_in_part_is_taken_audited_and_stored_short(self):
        # Addition: "1985-11" or "1985" (or with zeros for the parts not
        # known) when the caller knows no more: the person is a possible
        # match, never a match, and says why; the audit entry and the
        # stored check hold the short form.
        for sent, kept in (("1985", "1985"), ("1985-11", "1985-11"), ("1985-11-00", "1985-11"),
                           ("1985-00-00", "1985")):
            with self.subTest(dob=sent):
                body = check_body(given="Zoltimir", family="Quennelbrook", dob=sent,
                                  case_ref="WM-CHK-PART")
                j = self.check("cw.wm", body).json()
                self.assertWellFormedAnswer(j)
                first = j["candidates"][0]
                self.assertEqual(first["offender_id"], "WMP-T000002")
                self.assertEqual(first["band"], "possible_match")
                self.assertIn("dob:partial_exact", first["reasons"])
                e = audit_entries(export_audit(self.daemon))[j["audit"]["seq"]]
                self.assertEqual(e["query"]["dob"], kept)
                stored = self.client("cw.wm").get("/v1/checks/" + j["check_id"]).json()
                self.assertIn('"dob": "%s"' % kept, json.dumps(stored))
        # Ten years out: a name this rare keeps him in view, weighed as a
        # date that differs.
        scores = {}
        for dob in ("1985", "1975"):
            j = self.check("cw.wm", check_body(given="Zoltimir", family="Quennelbrook",
                                               dob=dob)).json()
            first = j["candidates"][0]
            self.assertEqual((first["offender_id"], first["band"]), ("WMP-T000002", "possible_match"))
            scores[dob] = first["score"]
        self.assertIn("dob:partial_mismatch", first["reasons"])
        self.assertLess(scores["1975"], scores["1985"])
        for bad in ("1985-13", "1985-00-23", "85", "1985-1"):
            with self.subTest(bad=bad):
                r = self.check("cw.wm", check_body(dob=bad), status=400)
                self.assertEqual(r.error_field, "subject.dob")
                self.assertIn("YYYY-MM or YYYY", r.json()["error"]["message"])

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_sends_a_year_of_birth_and_says_what_agreed(self):
        r = ctl(self.daemon, "cw.wm", "check", "--case", "WM-CTL-PART", "--purpose",
                "csods_right_to_ask", "--justification", "Fictitious test of the client",
                "--family", "Quennelbrook", "--given", "Zoltimir", "--dob", "1985")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        self.assertIn("WMP-T000002", out)
        self.assertIn("the year of birth given (with its month, if given) agrees", out)

    def test_two_namesakes_are_both_candidates_and_the_postcode_ranks_them(self):
        # Same name, same date of birth, two forces: never assert identity
        # from a name alone, rank both (design notes, section 1).
        j = self.check("do.nat", check_body(case_ref="WM-CHK-0002")).json()
        self.assertWellFormedAnswer(j)
        by_id = {c["offender_id"]: c for c in j["candidates"]}
        self.assertIn("WMP-T000001", by_id)
        self.assertIn("MET-T000001", by_id, "the namesake of the other force is missing")
        self.assertEqual(by_id["WMP-T000001"]["band"], by_id["MET-T000001"]["band"])
        self.assertEqual(by_id["WMP-T000001"]["summary"].get("birth_year"), 1971)
        j = self.check("do.nat", check_body(case_ref="WM-CHK-0003", postcode="WR2 5QQ")).json()
        self.assertWellFormedAnswer(j)
        self.assertEqual(j["candidates"][0]["offender_id"], "WMP-T000001")
        self.assertEqual(j["outcome"], "match")
        self.assertIn("MET-T000001", [c["offender_id"] for c in j["candidates"]])

    def test_a_missing_name_needs_the_postcode_to_be_a_match(self):
        # Zoltimir Quennelbrook: a rare name, alone on the register. With
        # the date of birth, an initial, no given name or no family name
        # (punctuation only) is a possible match; the postcode can make it
        # one (WMP-T000001 lives at WR2 5QQ).
        cases = [(dict(given="Z", family="Quennelbrook", dob="1985-11-23"), "WMP-T000002",
                  "possible_match", "given:initial"),
                 (dict(given=None, family="Quennelbrook", dob="1985-11-23"), "WMP-T000002",
                  "possible_match", "given:missing"),
                 (dict(given="Zoltimir", family="-", dob="1985-11-23"), "WMP-T000002",
                  "possible_match", "family:missing"),
                 (dict(given=None, family="Farthingale", dob="1971-04-09", postcode="WR2 5QQ"),
                  "WMP-T000001", "match", "given:missing")]
        for subject, who, band, reason in cases:
            with self.subTest(subject=subject):
                j = self.check("do.nat", check_body(case_ref="WM-CHK-0004", **subject)).json()
                self.assertWellFormedAnswer(j)
                top = j["candidates"][0]
                self.assertEqual(top["offender_id"], who, j)
                self.assertEqual(top["band"], band, j)
                self.assertIn(reason, top["reasons"])
                self.assertIn("dob:exact", top["reasons"])

    def test_postcodes_as_forms_write_them_are_read_and_audited_as_sent(self):
        # Tobias Farthingale of West Mercia lives at WR2 5QQ; his namesake of
        # the Met does not.  A form or an address line pasted whole is read
        # for the postcode in it; the audit log keeps the query as sent.
        for pc in ("WR2-5QQ", "wr2 5qq.", "WR2 5QQ, UK", "12 Fictitious Row, Worcester WR2 5QQ",
                   "WR2\u00a05QQ", "12 Fictitious Row\r\nWorcester\nWR2 5QQ",
                   "Flat 9, The Imaginary Mill, 147 Upper Nowhere Walk, Little Snodbury, Worcester WR2 5QQ",
                   # full-width, and a letter for a digit and back
                   "\uff37\uff32\uff12\u3000\uff15\uff31\uff31", "WRZ 5QQ", "WR2 SQQ"):
            with self.subTest(postcode=pc):
                r = self.check("do.nat", check_body(case_ref="WM-CHK-PC", postcode=pc))
                j = r.json()
                self.assertWellFormedAnswer(j)
                top = j["candidates"][0]
                self.assertEqual((top["offender_id"], top["band"]), ("WMP-T000001", "match"), j)
                self.assertIn("postcode:full", top["reasons"])
                e = audit_entries(export_audit(self.daemon))[j["audit"]["seq"]]
                self.assertEqual(e["query"]["postcode"], pc, e["query"])
        # A postcode field that says there is none weighs nothing either way.
        for pc in ("NFA", "N/K"):
            with self.subTest(postcode=pc):
                j = self.check("do.nat", check_body(case_ref="WM-CHK-PC", postcode=pc)).json()
                for c in j["candidates"]:
                    self.assertNotIn("postcode:different", c["reasons"], c)
        # Other control characters are still refused, naming the field.
        r = self.client("do.nat").post("/v1/checks",
                                       check_body(case_ref="WM-CHK-PC", postcode="WR2\x0b5QQ"))
        self.assertEqual((r.status, r.error_code), (400, "invalid_field"), r)
        self.assertIn("subject.postcode", r.body.decode())

    def test_nobody_on_the_register_is_no_match(self):
        j = self.check("cw.wm", check_body(given="Xanthippe", family="Qwyzzlethorpe-Vmbrk",
                                           dob="1903-02-01")).json()
        self.assertWellFormedAnswer(j)
        self.assertEqual(j["outcome"], "no_match")
        self.assertEqual(j["candidates"], [])

    def test_an_alias_is_matched_and_named(self):
        j = self.check("cw.wm", check_body(given="Toby", family="Farthing")).json()
        self.assertWellFormedAnswer(j)
        c = {c["offender_id"]: c for c in j["candidates"]}.get("WMP-T000001")
        self.assertIsNotNone(c, "the alias Toby Farthing did not find WMP-T000001: %r" % j)
        self.assertEqual(c["matched_name"].get("family"), "Farthing")
        self.assertEqual(c["matched_name"].get("kind"), "alias")
        self.assertTrue(c["reasons"])

    def test_names_in_other_scripts_are_matched(self):
        for given, family in [("Зольтимир", "Квеннелбрук"), ("Zoltimir", "Quennelbrook")]:
            with self.subTest(family=family):
                j = self.check("cw.wm", check_body(given=given, family=family,
                                                   dob="1985-11-23")).json()
                self.assertWellFormedAnswer(j)
                self.assertIn("WMP-T000002", [c["offender_id"] for c in j["candidates"]])

    def test_a_person_registered_only_in_arabic_script_is_found_by_a_latin_spelling(self):
        # مراد الطحان: romanised "mrad althan", without the short vowels a
        # clerk writes (Murad Al-Tahhan); agreed in its consonants.
        rid = "WMP-T000500"
        rec = {"id": rid, "names": [{"given": "مراد", "family": "الطحان", "kind": "primary"}],
               "dob": "1974-06-02", "sex": "M",
               "addresses": [{"text": "3 Nonesuch Yard", "postcode": "WR9 8ZZ", "from": "2020-01-01"}],
               "managing_force": FORCE_A, "status": "active"}
        reg = self.client("reg.wm")
        self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 201)
        try:
            j = self.check("cw.wm", check_body(given="Murad", family="Al-Tahhan", dob="1974-06-02",
                                               case_ref="WM-CHK-ARAB")).json()
            self.assertWellFormedAnswer(j)
            top = j["candidates"][0]
            self.assertEqual((top["offender_id"], top["band"]), (rid, "match"), j)
            for reason in ("family:phonetic", "name:transliterated"):
                self.assertIn(reason, top["reasons"])
            self.assertTrue({"given:fuzzy", "given:phonetic"} & set(top["reasons"]), top)
            # Another spelling, the article left out, no date: the postcode
            # makes it a possible match.
            j = self.check("cw.wm", check_body(given="Mourad", family="Tahan", dob=None,
                                               postcode="WR9 8ZZ", case_ref="WM-CHK-ARAB")).json()
            self.assertWellFormedAnswer(j)
            by_id = {c["offender_id"]: c for c in j["candidates"]}
            self.assertIn(rid, by_id, j)
            self.assertEqual(by_id[rid]["band"], "possible_match")
            # Other consonants on the same date are nobody.
            j = self.check("cw.wm", check_body(given="Marwan", family="Al-Tahir", dob="1974-06-02",
                                               case_ref="WM-CHK-ARAB")).json()
            self.assertNotIn(rid, [c["offender_id"] for c in j["candidates"]], j)
        finally:
            self.assertEqual(reg.delete("/v1/offenders/" + rid).status, 200)

    def test_invisible_characters_pasted_into_a_name_change_nothing(self):
        # A soft hyphen, a zero-width space, a word joiner, a byte-order
        # mark: text pasted from a web page or a PDF carries them.  The
        # name is the same name, exact, in a check and in a record.
        pasted = [("Zolti\u00admir", "Quennel\u200bbrook"), ("\ufeffZoltimir", "Quennel\u2060brook")]
        for given, family in pasted:
            with self.subTest(given=given.encode("unicode_escape")):
                j = self.check("cw.wm", check_body(given=given, family=family, dob="1985-11-23",
                                                   case_ref="WM-CHK-ZWSP")).json()
                self.assertWellFormedAnswer(j)
                top = j["candidates"][0]
                self.assertEqual((top["offender_id"], top["band"]), ("WMP-T000002", "match"), j)
                self.assertIn("given:exact", top["reasons"])
                self.assertIn("family:exact", top["reasons"])
        rid = "WMP-T000503"
        rec = {"id": rid, "names": [{"given": "Ysolde\u200c", "family": "Pen\u00adwarden", "kind": "primary"}],
               "dob": "1979-03-14", "sex": "F",
               "addresses": [{"text": "8 Nonesuch Yard", "postcode": "WR9 8ZY", "from": "2020-01-01"}],
               "managing_force": FORCE_A, "status": "active"}
        reg = self.client("reg.wm")
        self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 201)
        try:
            j = self.check("cw.wm", check_body(given="Ysolde", family="Penwarden", dob="1979-03-14",
                                               case_ref="WM-CHK-ZWSP")).json()
            top = j["candidates"][0]
            self.assertEqual((top["offender_id"], top["band"]), (rid, "match"), j)
            self.assertIn("family:exact", top["reasons"])
            # Shown as registered, invisible characters and all.
            self.assertEqual(top["matched_name"]["family"], "Pen\u00adwarden")
        finally:
            self.assertEqual(reg.delete("/v1/offenders/" + rid).status, 200)

    def test_digits_written_for_letters_are_read_as_them(self):
        # A scanned form read by machine, or a hurried hand: 0 for o, 1
        # for i (or l), 3 for e.  Without a date the name is all there is.
        # A 1 is read as i, so a 1 for an l leaves a near spelling.
        for given, family, reasons in [("Zolt1mir", "Qu3nnelbr0ok", ("given:exact", "family:exact")),
                                       ("Z0ltimir", "Quenne1brook", ("given:exact", "family:fuzzy"))]:
            with self.subTest(given=given, family=family):
                j = self.check("cw.wm", check_body(given=given, family=family, dob=None,
                                                   case_ref="WM-CHK-OCR")).json()
                self.assertWellFormedAnswer(j)
                by_id = {c["offender_id"]: c for c in j["candidates"]}
                self.assertIn("WMP-T000002", by_id, j)
                for reason in reasons:
                    self.assertIn(reason, by_id["WMP-T000002"]["reasons"])

    def test_a_generation_written_after_the_name_is_no_part_of_it(self):
        for family in ("Quennelbrook Jr", "Quennelbrook III", "Quennelbrook-Snr"):
            with self.subTest(family=family):
                j = self.check("cw.wm", check_body(given="Zoltimir", family=family, dob="1985-11-23",
                                                   case_ref="WM-CHK-JNR")).json()
                self.assertWellFormedAnswer(j)
                top = j["candidates"][0]
                self.assertEqual((top["offender_id"], top["band"]), ("WMP-T000002", "match"), j)
                self.assertIn("family:exact", top["reasons"])

    def test_a_family_name_written_otherwise_is_read_as_the_same_name(self):
        """Particles dropped (Vellanova for dos Vellanova), a compound the
        other way round (Pellam-Ashgrove for Ashgrove-Pellam), and the whole
        name typed into the family field with no given name: each a match
        with the date, saying so, and disclosurectl puts it in words."""
        recs = {"WMP-T000504": ("Ottoline", "dos Vellanova", "1977-03-21"),
                "WMP-T000505": ("Cressida", "Ashgrove-Pellam", "1981-09-30")}
        reg = self.client("reg.wm")
        for rid, (given, family, dob) in recs.items():
            rec = {"id": rid, "names": [{"given": given, "family": family}], "dob": dob,
                   "managing_force": FORCE_A, "status": "active"}
            self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 201)
        try:
            for given, family, dob, rid, reason in (
                    ("Ottoline", "Vellanova", "1977-03-21", "WMP-T000504", "family:particles"),
                    ("Ottoline", "Dos-Vellanova", "1977-03-21", "WMP-T000504", "family:exact"),
                    ("Cressida", "Pellam-Ashgrove", "1981-09-30", "WMP-T000505", "family:reordered"),
                    (None, "Cressida Ashgrove-Pellam", "1981-09-30", "WMP-T000505", "names:split"),
                    (None, "Ashgrove-Pellam Cressida", "1981-09-30", "WMP-T000505", "names:split")):
                with self.subTest(given=given, family=family):
                    j = self.check("cw.wm", check_body(given=given, family=family, dob=dob,
                                                       case_ref="WM-CHK-WRITTEN")).json()
                    self.assertWellFormedAnswer(j)
                    top = j["candidates"][0]
                    self.assertEqual((top["offender_id"], top["band"]), (rid, "match"), j)
                    self.assertIn(reason, top["reasons"], j)
            if ctl_available():
                r = ctl(self.daemon, "cw.wm", "check", "--case", "WM-CTL-WRITTEN", "--purpose",
                        "csods_right_to_ask", "--justification", "Fictitious test of the client",
                        "--family", "Pellam Ashgrove", "--given", "Cressida", "--dob", "1981-09-30")
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertIn("family name's words the same, in another order", r.stdout.decode())
        finally:
            for rid in recs:
                self.assertEqual(reg.delete("/v1/offenders/" + rid).status, 200)

    def test_a_postcode_written_only_in_a_records_address_text_is_read(self):
        rid = "WMP-T000501"
        rec = {"id": rid, "names": [{"given": "Ebenezer", "family": "Thistlecombe"}],
               "dob": "1959-10-10",
               "addresses": [{"text": "7 Quarry Bank, Malvern WR14 3XY", "from": "2021-05-01"},
                             {"text": "Room 4, 19 Nowhere Row, Hereford", "to": "2021-04-30"}],
               "managing_force": FORCE_A, "status": "active"}
        reg = self.client("reg.wm")
        self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 201)
        try:
            j = self.check("cw.wm", check_body(given="Ebenezer", family="Thistlecombe", dob="1959-10-10",
                                               postcode="WR14 3XY", case_ref="WM-CHK-PCTEXT")).json()
            top = j["candidates"][0]
            self.assertEqual((top["offender_id"], top["band"]), (rid, "match"), j)
            self.assertIn("postcode:full", top["reasons"])
            # The record reads back as it was given: no postcode field made up.
            got = self.client("do.wm").get("/v1/offenders/%s?check_id=%s" % (rid, j["check_id"])).json()
            self.assertEqual(got["addresses"][0], rec["addresses"][0])
            j = self.check("cw.wm", check_body(given="Ebenezer", family="Thistlecombe", dob="1959-10-10",
                                               postcode="HR4 9QT", case_ref="WM-CHK-PCTEXT")).json()
            top = j["candidates"][0]
            self.assertIn("postcode:different", top["reasons"])
        finally:
            self.assertEqual(reg.delete("/v1/offenders/" + rid).status, 200)

    def test_a_name_changed_and_not_recorded_is_found_by_date_and_postcode(self):
        """A check under a name that shares nothing with the record's, with
        its date of birth and postcode: a possible match that says why,
        following the record's address through a replace and gone after a
        delete (the index's E keys, kept by the store)."""
        rid = "WMP-T000502"
        rec = {"id": rid, "names": [{"given": "Cuthbert", "family": "Ravenscroft"}],
               "dob": "1968-02-17", "sex": "M", "addresses": [{"postcode": "WR2 6JH"}],
               "managing_force": FORCE_A, "status": "active"}
        reg = self.client("reg.wm")
        self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 201)
        # One connection, of a principal this class uses little: its daemon
        # allows each principal 64 (max_connections_per_principal).
        cw = self.client("cw.nat")

        def ids(postcode, case_ref):
            r = cw.post("/v1/checks", check_body(given="Lionel", family="Ashdown-Petrie",
                                                 dob="1968-02-17", postcode=postcode,
                                                 case_ref=case_ref))
            self.assertEqual(r.status, 200, r)
            j = r.json()
            self.assertWellFormedAnswer(j)
            return j, [c["offender_id"] for c in j["candidates"]]

        try:
            j, found = ids("WR2 6JH", "WM-CHK-RENAMED-1")
            self.assertIn(rid, found, j)
            top = j["candidates"][found.index(rid)]
            self.assertEqual(top["band"], "possible_match", top)
            for r in ("name:different", "family:mismatch", "given:mismatch", "dob:exact",
                      "postcode:full"):
                self.assertIn(r, top["reasons"])
            # Moved: found at the new address, not at the old one.
            rec["addresses"] = [{"postcode": "HR1 2PJ"}]
            self.assertEqual(reg.put("/v1/offenders/" + rid, rec).status, 200)
            self.assertNotIn(rid, ids("WR2 6JH", "WM-CHK-RENAMED-2")[1])
            self.assertIn(rid, ids("HR1 2PJ", "WM-CHK-RENAMED-3")[1])
            if ctl_available():
                r = ctl(self.daemon, "cw.nat", "check", "--case", "WM-CHK-RENAMED-4", "--purpose",
                        "csods_right_to_ask", "--justification", "Fictitious test of the client",
                        "--given", "Lionel", "--family", "Ashdown-Petrie", "--dob", "1968-02-17",
                        "--postcode", "HR1 2PJ")
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertIn("name differs in every part", r.stdout.decode())
        finally:
            self.assertEqual(reg.delete("/v1/offenders/" + rid).status, 200)
        self.assertNotIn(rid, ids("HR1 2PJ", "WM-CHK-RENAMED-5")[1])

    def test_people_of_the_generated_register_are_found(self):
        people = [json.loads(l) for l in REGISTER[::97]][:20]
        missed = []
        for rec in people:
            prim = [n for n in rec["names"] if n.get("kind") == "primary"][0]
            body = check_body(given=prim.get("given"), family=prim["family"], dob=rec.get("dob"))
            j = self.check("cw.nat", body).json()
            self.assertWellFormedAnswer(j)
            if rec["id"] not in [c["offender_id"] for c in j["candidates"]]:
                missed.append(rec["id"])
        self.assertEqual(missed, [], "exact name and date of birth did not find these people")

    def test_a_common_name_without_date_of_birth_gives_at_most_ten_sorted_candidates(self):
        rec = json.loads(REGISTER[0])
        prim = [n for n in rec["names"] if n.get("kind") == "primary"][0]
        j = self.check("cw.nat", check_body(given=None, family=prim["family"], dob=None)).json()
        self.assertWellFormedAnswer(j)

    def test_a_full_list_says_whether_more_people_fit(self):
        # The list stops at ten: the answer says whether the register holds
        # more who would have been shown, in the answer, the stored check
        # and the audit entry alike, and the metric counts the answers.
        metric = ("disclosured_check_more_candidates_total", frozenset())
        before = scrape(self.daemon)[metric]
        for given, family, people, more in (("Xanthe", "Vellacott", TEN, False),
                                            ("Quilla", "Fennimore", ELEVEN, True)):
            with self.subTest(family=family):
                r = self.check("cw.nat", check_body(given=given, family=family, dob=None,
                                                    case_ref="NAT-MORE-%d" % len(people)))
                j = r.json()
                self.assertWellFormedAnswer(j)
                self.assertEqual(len(j["candidates"]), 10)
                self.assertLessEqual({c["offender_id"] for c in j["candidates"]},
                                     {p["id"] for p in people})
                self.assertIs(j["more_candidates"], more)
                stored = self.client("cw.nat").get("/v1/checks/" + j["check_id"]).json()
                self.assertIs(stored["response"]["more_candidates"], more)
                e = audit_entries(export_audit(self.daemon))[j["audit"]["seq"]]
                self.assertIs(e["result"]["more_candidates"], more)
        # With the date of birth of one of them, that one, and room to spare.
        j = self.check("cw.nat", check_body(given="Quilla", family="Fennimore",
                                            dob=ELEVEN[3]["dob"])).json()
        self.assertEqual(j["candidates"][0]["offender_id"], ELEVEN[3]["id"])
        self.assertIs(j["more_candidates"], False)
        self.assertEqual(scrape(self.daemon)[metric] - before, 1)

    # -- force scope --

    def test_force_scope_hides_details_of_other_forces_records(self):
        for principal, own, other in [("cw.wm", "WMP-T000001", "MET-T000001"),
                                      ("cw.met", "MET-T000001", "WMP-T000001")]:
            with self.subTest(principal=principal):
                j = self.check(principal, check_body()).json()
                by_id = {c["offender_id"]: c for c in j["candidates"]}
                self.assertIn(own, by_id)
                self.assertIn(other, by_id)
                self.assertIn("matched_name", by_id[own])
                self.assertIn("reasons", by_id[own])
                self.assertLessEqual(set(by_id[other]), SUMMARY_ONLY,
                                     "%s sees details of another force's record" % principal)
                self.assertNotEqual(by_id[other]["managing_force"], by_id[own]["managing_force"])
                # The audit entry says what the caller was shown of each
                # (reviewer D: the auditor's own view of the stored check
                # is national, and showed details the case worker never saw).
                e = audit_entries(export_audit(self.daemon))[j["audit"]["seq"]]
                shown = {c["offender_id"]: (c["managing_force"], c["shown"])
                         for c in e["result"]["candidates"]}
                self.assertEqual(shown[own], (by_id[own]["managing_force"], "full"))
                self.assertEqual(shown[other], (by_id[other]["managing_force"], "summary"))

    def test_national_scope_sees_every_detail(self):
        j = self.check("cw.nat", check_body()).json()
        e = audit_entries(export_audit(self.daemon))[j["audit"]["seq"]]
        self.assertEqual({c["shown"] for c in e["result"]["candidates"]}, {"full"})
        by_id = {c["offender_id"]: c for c in j["candidates"]}
        for rid in ("WMP-T000001", "MET-T000001"):
            self.assertIn("matched_name", by_id[rid])
            self.assertIn("reasons", by_id[rid])
        self.assertEqual(by_id["MET-T000001"]["managing_force"], FORCE_B)
        self.assertEqual(by_id["WMP-T000001"]["managing_force"], FORCE_A)

    # -- validation --

    def test_invalid_requests_name_the_field(self):
        def without(key):
            b = check_body()
            del b[key]
            return b

        def subject(**kw):
            b = check_body()
            b["subject"].update(kw)
            return b

        cases = [
            ("case_ref missing", without("case_ref"), "case_ref"),
            ("case_ref with a space", check_body(case_ref="WM 1"), "case_ref"),
            ("case_ref of 65 characters", check_body(case_ref="A" * 65), "case_ref"),
            ("case_ref empty", check_body(case_ref=""), "case_ref"),
            ("case_ref not a string", check_body(case_ref=42), "case_ref"),
            ("purpose missing", without("purpose"), "purpose"),
            ("purpose unknown", check_body(purpose="curiosity"), "purpose"),
            ("justification missing", without("justification"), "justification"),
            ("justification empty", check_body(justification=""), "justification"),
            ("justification of 1001 characters", check_body(justification="j" * 1001),
             "justification"),
            ("subject missing", without("subject"), "subject"),
            ("no names", subject(names=[]), "subject.names"),
            ("eleven names", subject(names=[{"family": "Farthingale"}] * 11), "subject.names"),
            ("a name without family", subject(names=[{"given": "Tobias"}]), "subject.names"),
            ("family not a string", subject(names=[{"family": 7}]), "subject.names"),
            ("dob not a date", subject(dob="12/03/1970"), "subject.dob"),
            ("dob the 30th of February", subject(dob="1970-02-30"), "subject.dob"),
            ("age a fraction", subject(age=3.5, dob=None), "subject.age"),
            ("age a string", subject(age="forty", dob=None), "subject.age"),
            ("sex unknown", subject(sex="Q"), "subject.sex"),
            ("age negative", subject(age=-1, dob=None), "subject.age"),
            ("family empty", subject(names=[{"family": ""}]), "subject.names"),
            ("names not a list", subject(names={"family": "Farthingale"}), "subject.names"),
            ("subject null", dict(check_body(), subject=None), "subject"),
            ("justification of 1001 characters outside the BMP",
             check_body(justification="\U0001F600" * 1001), "justification"),
            # Answered no_match, these read like a clean result of a check
            # that matched against nothing.
            ("names of punctuation only", dict(check_body(), subject={
                "names": [{"family": "'-."}]}), "subject.names"),
            ("names of emoji and an unknown family only", dict(check_body(), subject={
                "names": [{"family": "-", "given": "\U0001F600\U0001F600"}]}), "subject.names"),
        ]
        for name, body, field in cases:
            with self.subTest(case=name):
                r = self.client("cw.wm").post("/v1/checks", body)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.error_code, "invalid_field", r)
                self.assertTrue((r.error_field or "").startswith(field),
                                "field %r does not name %r" % (r.error_field, field))
                self.assertTrue(r.json()["error"]["message"])
                self.assertNotIn("candidates", r.json())

    def test_a_refused_check_is_audited_with_what_it_asked(self):
        # Reviewer D: a check refused for its purpose kept only the error,
        # not the justification "looking up my ex" nor whom it was for.
        body = check_body(purpose="curiosity", justification="Fictitious: looking up my ex",
                          given="Hepzibah", family="Gallowglass")
        r = self.check("cw.wm", body, status=400)
        entries = audit_entries(export_audit(self.daemon))
        e = [e for e in entries if e.get("request_id") == r.request_id][0]
        self.assertEqual(e["error_field"], "purpose")
        self.assertEqual(e["sent"]["purpose"], "curiosity")
        self.assertEqual(e["sent"]["justification"], "Fictitious: looking up my ex")
        self.assertEqual(e["sent"]["subject"], body["subject"])
        self.assertEqual(e["sent"]["case_ref"], body["case_ref"])
        # Not JSON: nothing to record but the error.
        r = self.client("cw.wm").post("/v1/checks", b"{not json")
        self.assertEqual(r.status, 400, r)
        e = [e for e in audit_entries(export_audit(self.daemon)) if e.get("request_id") == r.request_id][0]
        self.assertNotIn("sent", e)
        self.assertEqual(e["error"], "invalid_json")

    def test_valid_edge_cases_are_accepted(self):
        cases = [
            ("case_ref of 64 allowed characters", check_body(case_ref="Az09/_.-" * 8)),
            ("justification of 1000 two-byte characters", check_body(justification="é" * 1000)),
            ("justification of 1000 characters outside the BMP",
             check_body(justification="\U0001F600" * 1000)),
            ("ten names", dict(check_body(), subject={"names": [{"family": "Farthingale"}] * 10})),
            ("an initial as given name", check_body(given="T")),
            ("age instead of dob", dict(check_body(dob=None), subject={
                "names": [{"given": "Tobias", "family": "Farthingale"}], "age": 55})),
            ("dob null and age null", dict(check_body(), subject={
                "names": [{"family": "Farthingale"}], "dob": None, "age": None})),
            ("postcode and sex", check_body(postcode="WR2 5QQ", sex="M")),
            ("dob and age left empty, as forms send them", dict(check_body(), subject={
                "names": [{"given": "Tobias", "family": "Farthingale"}], "dob": "", "age": " "})),
            ("sex not known, as police systems write it", check_body(sex="U")),
            ("middle name", dict(check_body(), subject={
                "names": [{"given": "Tobias", "middle": "Quill", "family": "Farthingale"}]})),
        ] + [("purpose " + p, check_body(purpose=p)) for p in PURPOSES]
        for name, body in cases:
            with self.subTest(case=name):
                r = self.client("cw.wm").post("/v1/checks", body)
                self.assertEqual(r.status, 200, r)
                self.assertWellFormedAnswer(r.json())

    # -- reading checks --

    def test_a_stored_check_holds_request_response_and_decision(self):
        j = self.check("cw.wm", check_body(case_ref="WM-CHK-READ")).json()
        r = self.client("cw.wm").get("/v1/checks/" + j["check_id"])
        self.assertEqual(r.status, 200, r)
        stored = r.json()
        self.assertEqual(stored["check_id"], j["check_id"])
        text = json.dumps(stored)
        self.assertIn("WM-CHK-READ", text, "the stored check does not hold the request")
        ids = {c["offender_id"] for c in candidates_in(stored)}
        self.assertLessEqual({c["offender_id"] for c in j["candidates"]}, ids,
                             "the stored check does not hold the response")
        self.assertIn("decision", stored)
        self.assertIsNone(stored["decision"])

    def test_an_unknown_check_is_404(self):
        r = self.client("aud.nat").get("/v1/checks/chk_00000000000000000000000000")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.error_code, "not_found")

    def test_a_stored_check_is_filtered_for_its_reader(self):
        j = self.check("do.nat", check_body(case_ref="NAT-CHK-1")).json()
        cid = j["check_id"]
        r = self.client("aud.wm").get("/v1/checks/" + cid)
        self.assertEqual(r.status, 200, r)
        for c in candidates_in(r.json()):
            if c["offender_id"] == "MET-T000001":
                self.assertNotIn("matched_name", c, "aud.wm reads another force's details")
                self.assertNotIn("reasons", c)
        r = self.client("aud.nat").get("/v1/checks/" + cid)
        self.assertEqual(r.status, 200, r)
        met = [c for c in candidates_in(r.json()) if c["offender_id"] == "MET-T000001"]
        self.assertTrue(met)
        self.assertIn("matched_name", met[0])

    # -- decisions --

    def decide(self, principal, cid, body, status):
        r = self.client(principal).post("/v1/checks/%s/decision" % cid, body)
        self.assertEqual(r.status, status, r)
        return r

    def test_a_disclosure_is_recorded_once_then_conflicts(self):
        cid = self.check("cw.wm", check_body(case_ref="WM-DEC-1")).json()["check_id"]
        body = {"decision": "disclose", "offender_id": "WMP-T000001",
                "recipient": "Fictitious Parent (applicant's sister)",
                "rationale": "Fictitious rationale for the test"}
        r = self.decide("do.wm", cid, body, 200)
        j = r.json()
        self.assertEqual(j["check_id"], cid)
        self.assertEqual(j["decision"]["decision"], "disclose")
        self.assertIsInstance(j["audit"]["seq"], int)
        self.assertRegex(j["audit"]["hash"], HEX64)
        r2 = self.decide("do.nat", cid, dict(body, decision="refer"), 409)
        self.assertEqual(r2.error_code, "conflict")
        stored = self.client("cw.wm").get("/v1/checks/" + cid).json()
        self.assertEqual(stored["decision"]["decision"], "disclose")
        self.assertEqual(stored["decision"]["recipient"], body["recipient"])
        entries = audit_entries(export_audit(self.daemon))
        e = entries[j["audit"]["seq"]]
        self.assertEqual(e["hash"], j["audit"]["hash"])
        self.assertEqual(e["action"], "check.decide")
        self.assertEqual(e["decision"]["recipient"], body["recipient"])
        self.assertEqual(e["decision"]["offender_id"], "WMP-T000001")
        refused = [x for x in entries if x.get("request_id") == r2.request_id]
        self.assertEqual(len(refused), 1, "the 409 is not audited")
        self.assertEqual(refused[0]["status"], 409)

    def test_invalid_decisions_name_the_field(self):
        cid = self.check("cw.wm", check_body(case_ref="WM-DEC-2")).json()["check_id"]
        cases = [
            ("offender not a candidate", {"decision": "refer", "offender_id": "WMP-T000002"},
             "offender_id"),
            ("disclose without recipient", {"decision": "disclose", "offender_id": "WMP-T000001"},
             "recipient"),
            ("unknown decision", {"decision": "shrug", "offender_id": "WMP-T000001"}, "decision"),
            ("decision missing", {"offender_id": "WMP-T000001"}, "decision"),
            ("disclose to nobody's record", {"decision": "disclose", "offender_id": None,
                                            "recipient": "Fictitious Parent"}, "offender_id"),
        ]
        for name, body, field in cases:
            with self.subTest(case=name):
                r = self.decide("do.wm", cid, body, 400)
                self.assertEqual(r.error_code, "invalid_field", r)
                self.assertEqual(r.error_field, field, r)
        # still undecided, so a valid decision is taken
        r = self.decide("do.wm", cid, {"decision": "no_disclosure", "offender_id": None}, 200)
        self.assertEqual(r.json()["decision"]["decision"], "no_disclosure")

    def test_an_officer_of_another_force_cannot_decide(self):
        cid = self.check("cw.wm", check_body(case_ref="WM-DEC-3")).json()["check_id"]
        r = self.decide("do.met", cid, {"decision": "refer", "offender_id": "WMP-T000001"}, 403)
        self.assertEqual(r.error_code, "forbidden")
        self.decide("do.nat", cid, {"decision": "refer", "offender_id": "WMP-T000001"}, 200)

    def test_concurrent_decisions_on_one_check_are_taken_exactly_once(self):
        import threading
        cid = self.check("cw.wm", check_body(case_ref="WM-DEC-RACE")).json()["check_id"]
        statuses = []
        lock = threading.Lock()
        go = threading.Event()

        def decide(principal, n):
            from harness import Client
            c = Client(self.daemon, principal)
            try:
                c.get("/healthz")  # connect first, so the posts race
                go.wait()
                r = c.post("/v1/checks/%s/decision" % cid,
                           {"decision": "refer", "offender_id": "WMP-T000001",
                            "rationale": "racer %d" % n})
                with lock:
                    statuses.append(r.status)
            finally:
                c.close()

        threads = [threading.Thread(target=decide, args=(p, n))
                   for n, p in enumerate(["do.wm", "do.nat"] * 4)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(statuses), [200] + [409] * 7, statuses)

    def test_a_decision_on_an_unknown_check_is_404(self):
        self.decide("do.nat", "chk_00000000000000000000000000",
                    {"decision": "no_disclosure", "offender_id": None}, 404)

    # -- audit of checks --

    def test_the_receipt_names_the_check_entry_in_the_audit_log(self):
        body = check_body(case_ref="WM-AUD-7", purpose="dvds_right_to_ask",
                          justification="Fictitious partner disclosure request, test AUD-7")
        r = self.check("cw.wm", body)
        j = r.json()
        entries = audit_entries(export_audit(self.daemon))
        e = entries[j["audit"]["seq"]]
        self.assertEqual(e["seq"], j["audit"]["seq"])
        self.assertEqual(e["hash"], j["audit"]["hash"])
        self.assertEqual(e["action"], "check.create")
        self.assertEqual(e["request_id"], r.request_id)
        self.assertEqual(e["principal"], "cw.wm")
        self.assertEqual(e["status"], 200)
        self.assertEqual(e["case_ref"], "WM-AUD-7")
        self.assertEqual(e["purpose"], "dvds_right_to_ask")
        self.assertEqual(e["justification"], body["justification"])
        self.assertEqual(e["result"]["check_id"], j["check_id"])
        self.assertEqual(e["result"]["outcome"], j["outcome"])
        self.assertEqual([(c["offender_id"], c["band"]) for c in e["result"]["candidates"]],
                         [(c["offender_id"], c["band"]) for c in j["candidates"]])
        self.assertIn("query", e)

    def test_many_concurrent_checks_each_get_their_own_entry(self):
        import threading
        from harness import Client
        receipts, lock = [], threading.Lock()

        def run(principal, n):
            c = Client(self.daemon, principal)
            try:
                for i in range(8):
                    r = c.post("/v1/checks", check_body(case_ref="CONC-%d-%d" % (n, i)))
                    with lock:
                        receipts.append((r.status, r.json().get("audit", {}).get("seq"),
                                         r.request_id))
            finally:
                c.close()

        threads = [threading.Thread(target=run, args=(p, n))
                   for n, p in enumerate(["cw.wm", "cw.met", "do.wm", "do.nat"] * 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(receipts), 128)
        self.assertEqual({s for s, _, _ in receipts}, {200})
        seqs = [q for _, q, _ in receipts]
        self.assertEqual(len(set(seqs)), len(seqs), "two answers carry the same receipt seq")
        entries = {e["seq"]: e for e in audit_entries(export_audit(self.daemon))}
        for _, seq, rid in receipts:
            self.assertEqual(entries[seq]["request_id"], rid)

    # -- privacy --

    def test_the_daemon_log_holds_no_personal_data(self):
        body = check_body(given="Wilhelmina", family="Oddfellow-Strang", dob="1966-06-16",
                          case_ref="WM-PRIV-1", postcode="WR9 9ZZ",
                          justification="Fictitious applicant Rosalind Quimby-Harte asked")
        self.check("cw.wm", body)
        bad = dict(body, subject=dict(body["subject"], dob="1966-13-45"))
        self.client("cw.wm").post("/v1/checks", bad)
        self.client("do.wm").get("/v1/offenders/WMP-T000001?check_id=chk_nothing")
        log = self.daemon.log_text()
        for secret in ("Wilhelmina", "Oddfellow", "1966-06-16", "WR9 9ZZ", "Quimby",
                       "Farthingale", "Quennelbrook"):
            self.assertNotIn(secret, log, "the daemon's log holds personal data")

    # -- the project's client --

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_runs_a_check_and_logs_the_receipt(self):
        log = Path(tempfile.mkdtemp(dir=self.daemon.dir)) / "requests.log"
        r = ctl(self.daemon, "cw.wm", "check", "--case", "WM-CTL-1", "--purpose",
                "csods_right_to_ask", "--justification", "Fictitious test of the client",
                "--family", "Farthingale", "--given", "Tobias", "--dob", "1971-04-09", "--json",
                log=log)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        j = json.loads(r.stdout)
        self.assertIn("WMP-T000001", [c["offender_id"] for c in j["candidates"]])
        self.assertEqual(log.stat().st_mode & 0o777, 0o600, "the request log is not mode 0600")
        self.assertIn(j["audit"]["hash"], log.read_text())

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_says_when_more_people_fit_than_it_shows(self):
        log = Path(tempfile.mkdtemp(dir=self.daemon.dir)) / "requests.log"
        words = "More people on the register may fit as well: the list stops at 10."
        for family, given, more in (("Fennimore", "Quilla", True), ("Vellacott", "Xanthe", False)):
            with self.subTest(family=family):
                r = ctl(self.daemon, "cw.nat", "check", "--case", "NAT-CTL-MORE", "--purpose",
                        "csods_right_to_ask", "--justification", "Fictitious test of the client",
                        "--family", family, "--given", given, log=log)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                out = r.stdout.decode()
                self.assertEqual(out.count("possible match"), 10, out)
                self.assertEqual(words in out, more, out)

    @unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
    def test_disclosurectl_exits_3_when_refused(self):
        r = ctl(self.daemon, "reg.wm", "check", "--case", "WM-CTL-2", "--purpose", "other",
                "--justification", "Fictitious", "--family", "Farthingale")
        self.assertEqual(r.returncode, 3, r.stderr.decode())
        self.assertTrue(re.search(rb"403|forbidden", r.stderr + r.stdout, re.I))


if __name__ == "__main__":
    unittest.main()
