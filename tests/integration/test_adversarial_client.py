"""test_adversarial_client.py - disclosurectl and the file formats probed as an
attacker or an unlucky user would: servers that misbehave (a stand-in TLS
server on the harness's own PKI that resets, stalls, answers garbage, cuts
its answer short), a request log on a full disk or shared by two clients,
check flags with bytes that are not UTF-8 or given twice, import files with
CRLF, BOMs, blank lines and bad bytes, a bulk body past the server's limit,
and audit exports tampered with by a forger who recomputes hashes.

Only what test_client.py, test_offenders.py and test_audit.py do not cover
already.  A test marked expectedFailure proves a defect (its "# DEFECT:"
comment says which); it passes, and the run says "unexpected success",
once the lead has fixed it.

Uses tests/integration/harness.py; every person here is fictitious.
"""

import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from harness import (CTL_BIN, SESSION_DIR, Daemon, DaemonTestCase, ctl, ctl_available, ctl_raw, export_audit,
                     fixture_records, pki, tmo)

OK, FAILURE, USAGE, REFUSED, UNREACHABLE = 0, 1, 2, 3, 4

TOBIAS = ["--case", "WM-ADV-0001", "--purpose", "csods_right_to_ask",
          "--justification", "Fictitious applicant's partner has contact with her child",
          "--family", "Farthingale", "--given", "Tobias", "--dob", "1971-04-09"]


def out(p):
    return (p.stdout + p.stderr).decode(errors="replace")


def log_lines(path):
    """The request log's lines, each parsed, or the raw bytes when it does not parse."""
    res = []
    if not Path(path).exists():
        return res
    for raw in Path(path).read_bytes().split(b"\n"):
        if not raw:
            continue
        try:
            res.append(json.loads(raw))
        except ValueError:
            res.append(raw)
    return res


def record(rid, family, **kw):
    r = {"id": rid, "names": [{"given": "Odalric", "family": family, "kind": "primary"}],
         "managing_force": "west-mercia", "status": "active"}
    r.update(kw)
    return r


def line(rec):
    return json.dumps(rec, ensure_ascii=False).encode()


# --------------------------------------------------------------------------
# A stand-in server: real TLS with the harness's server certificate, and
# whatever answer a test wants, however wrong.
# --------------------------------------------------------------------------

class FakeServer:
    """Accepts TLS connections on 127.0.0.1 with the server certificate the
    client trusts, reads each request, and lets handler(conn, n) answer it
    (n counts requests from 1).  self.requests holds (head, body) of every
    request that arrived."""

    def __init__(self, handler):
        p = pki()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(p.server_crt), str(p.server_key))
        self.ctx.load_verify_locations(str(p.client_ca))
        self.ctx.verify_mode = ssl.CERT_OPTIONAL
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.requests = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self):
        return "https://localhost:%d" % self.port

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for h in head.split(b"\r\n")[1:]:
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                with self.lock:
                    self.requests.append((head, body))
                    n = len(self.requests)
                if self.handler(conn, n) == "closed":
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def answer(status, body, ctype="application/json", extra=""):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    return ("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Request-Id: FAKE-1\r\n"
            "%s\r\n" % (status, ctype, len(body), extra)).encode() + body


def bare_close(conn):
    """Ends the TCP stream without a TLS close_notify: what a cut cable, a
    middlebox or an attacker produces."""
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()
    return "closed"


def reset(conn):
    """Ends the connection with a TCP reset (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    return "closed"


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class MisbehavingServer(unittest.TestCase):
    """disclosurectl against a stand-in server: every answer turns into the
    documented exit code, words a case worker can act on, and a request
    log that records each request sent with its outcome."""

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="adv-ctl-", dir=SESSION_DIR))
        self.log = self.work / "requests.log"
        self.fakes = []

    def tearDown(self):
        for f in self.fakes:
            f.close()

    def fake(self, handler):
        f = FakeServer(handler)
        self.fakes.append(f)
        return f

    def run_ctl(self, fake, *args, timeout_flag=None, log=None, fsize=None):
        """disclosurectl against fake; with fsize, no file it writes may
        grow past fsize bytes (a full disk, without needing one)."""
        crt, key = pki().certs["cw.wm"]
        cmd = [str(CTL_BIN), "--server", fake.url(), "--cert", str(crt), "--key", str(key),
               "--ca", str(pki().server_ca), "--log", str(log or self.log)]
        if timeout_flag:
            cmd += ["--timeout", str(timeout_flag)]
        cmd += [str(a) for a in args]
        if fsize is not None:
            # SIGXFSZ ignored, so a write past the limit fails with EFBIG as on a full disk
            cmd = ["sh", "-c", 'trap "" XFSZ; exec prlimit --fsize=%d:%d -- "$@"' % (fsize, fsize),
                   "sh"] + cmd
        env = dict(os.environ, XDG_CONFIG_HOME=str(self.work / "cfg"))
        return subprocess.run(cmd, capture_output=True, timeout=tmo(30), env=env)

    def test_broken_answers_give_the_documented_exit_code_words_and_a_logged_outcome(self):
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"

        def cut_then_reset(conn, n):
            conn.sendall(head + b'{"check_id":"chk_')
            time.sleep(0.05)
            return reset(conn)

        cases = [
            # name, handler, exit code, words, final log state, status
            ("an HTTP 500 with an HTML page",
             lambda c, n: c.sendall(answer(500, b"<html>Internal Server Error</html>", "text/html")),
             UNREACHABLE, "HTTP 500", "answered", 500),
            ("an HTTP 503 in the contract's shape",
             lambda c, n: c.sendall(answer(503, {"error": {"code": "unavailable",
                                                            "message": "the audit log cannot be written"}})),
             UNREACHABLE, "the audit log cannot be written", "answered", 503),
            ("an HTTP 429",
             lambda c, n: c.sendall(answer(429, {"error": {"code": "too_many_requests",
                                                            "message": "slow down"}},
                                           extra="Retry-After: 1\r\n")),
             REFUSED, "too_many_requests", "answered", 429),
            ("a 200 whose body is not JSON",
             lambda c, n: c.sendall(answer(200, b"<html>maintenance</html>", "text/html")),
             UNREACHABLE, "not JSON", "answered", 200),
            ("a 200 with truncated JSON",
             lambda c, n: c.sendall(answer(200, b'{"check_id":"chk_1","outcome":')),
             UNREACHABLE, "not JSON", "answered", 200),
            ("a reset in the middle of the answer", cut_then_reset,
             UNREACHABLE, "reset by peer|before the end of the answer", "failed", None),
            ("a reset before any answer", lambda c, n: reset(c),
             UNREACHABLE, "reset by peer|without answering", "failed", None),
            ("an answer that is not HTTP", lambda c, n: c.sendall(b"220 smtp.invalid ESMTP\r\n\r\n"),
             UNREACHABLE, "not HTTP", "failed", None),
        ]
        for name, handler, code, words, state, status in cases:
            with self.subTest(case=name):
                fake = self.fake(handler)
                log = self.work / ("%s.log" % hashlib.sha256(name.encode()).hexdigest()[:8])
                p = self.run_ctl(fake, "check", *TOBIAS, log=log)
                self.assertEqual(p.returncode, code, "%s: %s" % (name, out(p)))
                self.assertRegex(out(p), words)
                self.assertEqual(len(fake.requests), 1, "the check was sent more than once")
                recs = log_lines(log)
                self.assertEqual([r["state"] for r in recs], ["sent", state], recs)
                self.assertEqual(recs[0]["id"], recs[1]["id"])
                if status is not None:
                    self.assertEqual(recs[1]["status"], status)
                else:
                    self.assertTrue(recs[1]["error"])

    def test_text_that_would_act_on_the_terminal_is_shown_escaped(self):
        # A check stored before the server refused them may hold an escape
        # sequence (CSI) or a right-to-left override: show writes them as
        # <U+XXXX>, never raw, so they cannot repaint an officer's screen.
        stored = {"check_id": "chk_T", "subject": {"names": [{"family": "Jones\u009b31m",
                                                             "given": "Al\u202eice\u001b[2J"}]},
                  "request": {"case_ref": "WM-1", "justification": "x\u2066y"},
                  "response": {"outcome": "possible_match", "candidates": [{
                      "offender_id": "WMP-T1", "band": "possible_match", "score": 0.8,
                      "managing_force": "west-mercia",
                      "matched_name": {"family": "Jo\u202enes", "kind": "primary"},
                      "reasons": ["family:exact"]}], "more_candidates": False}}
        f = self.fake(lambda c, n: c.sendall(answer(200, stored)))
        p = self.run_ctl(f, "show", "chk_T")
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()
        for raw in ("\u009b", "\u202e", "\u2066", "\u001b"):
            self.assertNotIn(raw, text)
        for shown in ("Jones<U+009B>31m", "Al<U+202E>ice<U+001B>[2J", "x<U+2066>y", "Jo<U+202E>nes"):
            self.assertIn(shown, text)

    def test_a_server_slower_than_the_timeout_exits_4_on_time_and_is_logged_as_failed(self):
        fake = self.fake(lambda c, n: time.sleep(tmo(6)))
        t0 = time.monotonic()
        p = self.run_ctl(fake, "check", *TOBIAS, timeout_flag=1)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, UNREACHABLE, out(p))
        self.assertIn("no answer within 1 s", out(p))
        self.assertLess(took, tmo(4), "the client waited past its --timeout")
        self.assertEqual(len(fake.requests), 1, "a check that timed out was sent again")
        self.assertEqual([r["state"] for r in log_lines(self.log)], ["sent", "failed"])

    def test_check_json_does_not_exit_0_on_an_answer_that_is_not_json(self):
        # Was a defect (fixed): check --json prints a 200 answer that is not JSON (or is cut short) and exits 0; without --json the same answer exits 4.
        for body in (b"<html>maintenance</html>", b'{"check_id":"chk_1","outcome":'):
            fake = self.fake(lambda c, n, b=body: c.sendall(answer(200, b)))
            p = self.run_ctl(fake, "check", *TOBIAS, "--json")
            self.assertEqual(p.returncode, UNREACHABLE,
                             "a script was handed %r with exit %d" % (p.stdout[:60], p.returncode))

    def test_an_answer_cut_by_a_bare_tcp_close_is_not_taken_as_whole(self):
        # Was a defect (fixed): tls_client.c sets SSL_OP_IGNORE_UNEXPECTED_EOF, so a close-delimited answer cut short without a TLS close_notify is taken as complete (audit export exits 0 with the lines it got).
        def cut_page(conn, n):
            lines = [b'{"seq":%d,"time":"2026-11-29T10:00:00.000Z","prev":"%s","action":"x",'
                     b'"hash":"%s"}' % (i, b"0" * 64, b"1" * 64) for i in range(2)]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                         b"Connection: close\r\n\r\n" + b"\n".join(lines) + b"\n")
            return bare_close(conn)

        fake = self.fake(cut_page)
        f = self.work / "export.ndjson"
        p = self.run_ctl(fake, "audit", "export", "-o", f)
        self.assertNotEqual(p.returncode, OK, "a cut page was exported as complete: " + out(p))
        self.assertFalse(f.exists())

    def test_a_check_the_server_took_but_never_answered_is_not_sent_again_unlogged(self):
        # Was a defect (fixed): https_request() resends a request on a new connection when a kept-alive connection ends before the first byte of the answer, assuming the server never saw it; batch then runs a check twice (two audited consultations) under one "sent" record.
        done = {"check_id": "chk_1", "outcome": "no_match", "candidates": [],
                "audit": {"seq": 1, "hash": "a" * 64}}

        def dies_on_the_second(conn, n):
            if n == 2:
                return bare_close(conn)  # read the check, then went away
            conn.sendall(answer(200, done))

        fake = self.fake(dies_on_the_second)
        rows = self.work / "rows.csv"
        rows.write_text("case_ref,purpose,justification,family\n"
                        "WM-ADV-R1,other,fictitious,Ashcombe\n"
                        "WM-ADV-R2,other,fictitious,Bellweather\n")
        self.run_ctl(fake, "batch", rows, "-o", self.work / "results.csv")
        posted = [b for h, b in fake.requests if h.startswith(b"POST /v1/checks ")]
        sent = [r for r in log_lines(self.log) if isinstance(r, dict) and r["state"] == "sent"]
        self.assertEqual(len(posted), len(sent),
                         "the server received %d checks, the request log records %d"
                         % (len(posted), len(sent)))

    # ------------------------------------------------------------ the request log

    def test_a_log_that_cannot_be_written_stops_the_request_before_it_is_sent(self):
        fake = self.fake(lambda c, n: c.sendall(answer(200, {"status": "ok", "records": 0,
                                                              "audit_seq": 0})))
        # a full disk, as a file size limit: the "sent" record cannot be written
        self.log.write_bytes(b"")
        os.chmod(self.log, 0o600)
        p = self.run_ctl(fake, "health", fsize=20)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("the request was not sent", out(p))
        # a log path that is a folder
        p = self.run_ctl(fake, "health", log=self.work)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn("nothing was sent", out(p))
        self.assertEqual(fake.requests, [], "a request left without its log record")

    def test_clients_appending_to_one_log_at_once_never_interleave(self):
        fake = self.fake(lambda c, n: c.sendall(answer(200, {"status": "ok", "records": 0,
                                                              "audit_seq": 0})))
        crt, key = pki().certs["mon.wm"]
        cmd = [str(CTL_BIN), "--server", fake.url(), "--cert", str(crt), "--key", str(key),
               "--ca", str(pki().server_ca), "--log", str(self.log), "health"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(10)]
        codes = [pr.wait(tmo(30)) for pr in procs]
        for pr in procs:
            pr.stderr.close()
        self.assertEqual(codes, [OK] * 10)
        recs = log_lines(self.log)
        self.assertTrue(all(isinstance(r, dict) for r in recs), recs)
        self.assertEqual(len(recs), 20)
        by_id = {}
        for r in recs:
            by_id.setdefault(r["id"], []).append(r["state"])
        self.assertEqual(sorted(by_id.values()), [["sent", "answered"]] * 10)

    def test_a_record_cut_by_a_full_disk_does_not_swallow_the_next_one(self):
        # Was a defect (fixed): reqlog.c leaves the part of a record a full disk cut short in the log, and the next request's "sent" record is glued onto it (that request is then missing from `log` and `audit verify --receipts` refuses the whole log).
        fake = self.fake(lambda c, n: c.sendall(answer(200, {"status": "ok", "records": 0,
                                                              "audit_seq": 0})))
        p = self.run_ctl(fake, "health")
        self.assertEqual(p.returncode, OK, out(p))
        room = self.log.stat().st_size + 40  # the next record fits only in part
        p = self.run_ctl(fake, "health", fsize=room)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertEqual(len(fake.requests), 1)
        p = self.run_ctl(fake, "health")  # the disk has room again
        self.assertEqual(p.returncode, OK, out(p))
        recs = log_lines(self.log)
        self.assertTrue(all(isinstance(r, dict) for r in recs),
                        "the request log holds a broken line: %r" % [r for r in recs
                                                                    if not isinstance(r, dict)])
        self.assertEqual([r["state"] for r in recs], ["sent", "answered"] * 2)

    def test_a_record_cut_short_by_a_crash_stays_apart_from_the_next_one(self):
        # A client killed in the middle of a write leaves part of a record
        # with no newline; the next client's records start on a line of
        # their own.
        fake = self.fake(lambda c, n: c.sendall(answer(200, {"status": "ok", "records": 0,
                                                              "audit_seq": 0})))
        p = self.run_ctl(fake, "health")
        self.assertEqual(p.returncode, OK, out(p))
        with open(self.log, "ab") as f:
            f.write(b'{"time":"2026-11-29T15:00:00.000Z","id":"01J')
        p = self.run_ctl(fake, "health")
        self.assertEqual(p.returncode, OK, out(p))
        lines = self.log.read_bytes().split(b"\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(lines[2], b'{"time":"2026-11-29T15:00:00.000Z","id":"01J')
        self.assertEqual([json.loads(x)["state"] for x in lines[3:-1]], ["sent", "answered"])


# --------------------------------------------------------------------------
# Against the real daemon
# --------------------------------------------------------------------------

@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class HostileInput(DaemonTestCase):
    """Flags and import files a careless script or a Windows tool produces."""

    records = fixture_records()
    daemon_conf = {"audit": {"checkpoint_every": "4"}}

    def setUp(self):
        super().setUp()
        self.work = Path(tempfile.mkdtemp(dir=self.daemon.dir))
        self.log = self.work / "requests.log"

    def ctl(self, principal, *args, **kw):
        args = [a if isinstance(a, bytes) else str(a) for a in args]  # bytes: not UTF-8 on purpose
        return ctl(self.daemon, principal, *args, log=self.log, **kw)

    def checks_sent(self):
        return sum(1 for r in log_lines(self.log) if isinstance(r, dict) and r["state"] == "sent")

    # ------------------------------------------------------------ check flags

    def test_odd_flag_values_are_usage_errors_or_the_servers_words(self):
        base = TOBIAS[:-2]
        cases = [
            ("an age of -1", base + ["--age", "-1"], USAGE, "age"),
            ("an age of 200", base + ["--age", "200"], USAGE, "age"),
            ("an age in hex", base + ["--age", "0x10"], USAGE, "age"),
            ("an age with a space before it", base + ["--age", " 7"], USAGE, "age"),
            ("an age with a plus sign", base + ["--age", "+7"], USAGE, "age"),
            ("a timeout of 0", ["--timeout", "0"] + base, USAGE, "--timeout"),
            ("a timeout past a day", ["--timeout", "86401"] + base, USAGE, "--timeout"),
            ("an empty alias", base + ["--alias", ""], USAGE, "alias"),
            ("a flag after --", base + ["--", "--given", "X"], USAGE, "unexpected argument"),
            ("an unknown check flag", base + ["--birthday", "1971-04-09"], USAGE, "--birthday"),
            ("a case reference that is not UTF-8", ["--case", b"WM-\xff"] + base[2:], USAGE,
             "UTF-8"),
            ("the 30th of February", base + ["--dob", "2026-02-30"], REFUSED, "subject.dob"),
            ("the year 0", base + ["--dob", "0000-01-01"], REFUSED, "subject.dob"),
            ("a date of birth in the future", base + ["--dob", "2099-01-01"], REFUSED, "future"),
            ("an empty case reference", ["--case", ""] + base[2:], REFUSED, "case_ref"),
            ("an empty family name", base[:6] + ["--family", ""], REFUSED, "family"),
            ("a justification of 1001 characters",
             base[:4] + ["--justification", "j" * 1001] + base[6:], REFUSED, "justification"),
            ("a case reference of 1000 characters", ["--case", "W" * 1000] + base[2:], REFUSED,
             "case_ref"),
        ]
        for name, args, code, words in cases:
            with self.subTest(case=name):
                p = self.ctl("cw.wm", "check", *args)
                self.assertEqual(p.returncode, code, "%s: %s" % (name, out(p)))
                self.assertIn(words, out(p))

    def test_a_check_flag_that_is_not_utf8_is_a_usage_error_not_dropped(self):
        # Was a defect (fixed): check_body_new() tests only case_ref/purpose/justification and the name count for json_string() failures, so a --given, --middle, --dob, --postcode or --sex that is not UTF-8 is silently left out and the check runs (and is audited) without it, exit 0.
        wrong = []
        for flag in ("--given", "--middle", "--dob", "--postcode", "--sex"):
            args = list(TOBIAS)
            if flag in args:
                i = args.index(flag)
                args[i + 1] = b"\xff\xfe"
            else:
                args += [flag, b"\xc3"]
            before = self.checks_sent()
            p = self.ctl("cw.wm", "check", *args)
            if p.returncode != USAGE or self.checks_sent() != before:
                wrong.append("%s: exit %d, %d check(s) sent" % (flag, p.returncode,
                                                               self.checks_sent() - before))
        self.assertEqual(wrong, [], "flags that are not UTF-8 were dropped, not refused")

    def test_a_check_flag_given_twice_is_a_usage_error(self):
        # Was a defect (fixed): a second --dob (or --given, --family...) silently replaces the first: `--dob 1971-04-09 --dob 1972-01-01` answers NO MATCH for a subject the first date matches; like --dob with --age ("not both") it should be refused.
        wrong = []
        for flag, second in (("--dob", "1972-01-01"), ("--given", "Toby"), ("--family", "Farthing"),
                             ("--case", "WM-ADV-0002")):
            before = self.checks_sent()
            p = self.ctl("cw.wm", "check", *TOBIAS, flag, second)
            if p.returncode != USAGE or self.checks_sent() != before:
                wrong.append("%s twice: exit %d" % (flag, p.returncode))
        self.assertEqual(wrong, [])

    # ------------------------------------------------------------ import files

    def import_file(self, name, data, *extra):
        f = self.work / name
        f.write_bytes(data)
        return self.ctl("reg.wm", "import", f, "--json", *extra)

    def test_crlf_blank_lines_and_a_last_line_without_newline_import_with_true_line_numbers(self):
        lines = [line(record("WMP-ADV0001", "Crlfworth")), b"",
                 b'{"id":"WMP-ADV0002","managing_force":"west-mercia","status":"active"}',
                 b"   ", line(record("WMP-ADV0003", "Crlfworth")),
                 line(record("WMP-ADV0004", "Crlfworth"))]
        p = self.import_file("crlf.jsonl", b"\r\n".join(lines))  # no final line end
        self.assertEqual(p.returncode, FAILURE, out(p))
        j = json.loads(p.stdout)
        self.assertEqual((j["created"], j["replaced"]), (3, 0), j)
        self.assertEqual([r["line"] for r in j["rejected"]], [3], j)
        self.assertIn("names", j["rejected"][0]["error"])
        # stored without the carriage return: the record reads back as sent
        c = self.client("reg.wm")
        r = c.put("/v1/offenders/WMP-ADV0004", record("WMP-ADV0004", "Crlfworth"))
        self.assertEqual(r.status, 200, r)  # a replace, so the CRLF line created it

    def test_a_line_with_bytes_that_are_not_utf8_is_rejected_alone_with_its_number(self):
        good = [line(record("WMP-ADV01%02d" % i, "Bytewell%d" % i)) for i in range(4)]
        bad = line(record("WMP-ADV0199", "Byte\ufffdwell")).replace("\ufffd".encode(), b"\xff")
        p = self.ctl("reg.wm", "import", self._write("bytes.jsonl",
                                                      b"\n".join(good[:2] + [bad] + good[2:]) + b"\n"))
        self.assertEqual(p.returncode, FAILURE, out(p))
        text = p.stdout.decode(errors="replace")
        self.assertIn("created 4, replaced 0, rejected 1", text)
        self.assertIn("line 3:", text)
        self.assertNotIn("line 1:", text)

    def test_names_in_other_scripts_import_and_are_found_by_a_check(self):
        rec = {"id": "WMP-ADV0301",
               "names": [{"given": "Олексій", "family": "Приходькович", "kind": "primary"},
                         {"given": "明", "family": "欧阳", "kind": "alias"},
                         {"given": "يوسف", "family": "البرقاوي", "kind": "alias"}],
               "dob": "1980-05-06", "managing_force": "west-mercia", "status": "active"}
        p = self.import_file("scripts.jsonl", line(rec) + b"\n")
        self.assertEqual(p.returncode, OK, out(p))
        p = self.ctl("cw.wm", "check", "--case", "WM-ADV-SCRIPT", "--purpose", "other",
                     "--justification", "fictitious", "--family", "Приходькович",
                     "--given", "Олексій", "--dob", "1980-05-06", "--json")
        self.assertEqual(p.returncode, OK, out(p))
        ids = [c["offender_id"] for c in json.loads(p.stdout)["candidates"]]
        self.assertIn("WMP-ADV0301", ids)

    def test_a_utf8_bom_before_the_first_record_is_ignored(self):
        # Was a defect (fixed): a file saved with a UTF-8 byte order mark (Notepad, Excel) loses its first record with the reason "'[' or '{' expected near '\ufeff'", which shows the registrar nothing; it should be skipped or named ("byte order mark").
        data = b"\xef\xbb\xbf" + line(record("WMP-ADV0401", "Bomsworth")) + b"\n" + \
            line(record("WMP-ADV0402", "Bomsworth")) + b"\n"
        p = self.import_file("bom.jsonl", data)
        j = json.loads(p.stdout)
        self.assertEqual(j["rejected"], [])
        self.assertEqual(j["created"], 2)

    def _write(self, name, data):
        f = self.work / name
        f.write_bytes(data)
        return f


# --------------------------------------------------------------------------
# Tampered exports
# --------------------------------------------------------------------------

def rehash_from(lines, i):
    """What a forger does after changing line i: recompute every prev and
    hash from there on (the hash is public: SHA-256 of the line's bytes
    before ,"hash":")."""
    res = list(lines[:i])
    prev = json.loads(res[-1])["hash"] if res else "0" * 64
    for raw in lines[i:]:
        body = raw[:raw.rindex(b',"hash":"')]
        old = json.loads(raw)["prev"].encode()
        body = body.replace(b'"prev":"' + old + b'"', b'"prev":"' + prev.encode() + b'"', 1)
        h = hashlib.sha256(body).hexdigest()
        res.append(body + b',"hash":"' + h.encode() + b'"}')
        prev = h
    return res


@unittest.skipUnless(ctl_available(), "build/disclosurectl not built")
class ForgedExports(DaemonTestCase):
    """Two daemons signing with the same audit key (a forger's best source
    of genuine-looking lines); the export of one tampered with in ways
    test_client.py does not try."""

    records = fixture_records()
    daemon_conf = {"audit": {"checkpoint_every": "4"}, "server": {"max_bulk_body": "200000"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = Daemon("adv-other", conf={"audit": {"checkpoint_every": "4"}})
        cls.other.start()
        cls.work = Path(tempfile.mkdtemp(dir=cls.daemon.dir))
        for d in (cls.daemon, cls.other):
            for i in range(6):
                ctl(d, "cw.wm", "check", *TOBIAS[:1], "WM-ADV-F%d" % i, *TOBIAS[2:],
                    log=cls.work / "setup.log")
        cls.lines = export_audit(cls.daemon)
        cls.other_lines = export_audit(cls.other)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.other.stop()
        finally:
            super().tearDownClass()

    def verify(self, lines, *extra, raw=None):
        data = raw if raw is not None else b"".join(l + b"\n" for l in lines)
        f = self.work / ("t-%s.ndjson" % hashlib.sha256(data).hexdigest()[:12])
        f.write_bytes(data)
        return ctl_raw("audit", "verify", f, "--key", pki().audit_pub, *extra)

    def test_every_forgery_fails_naming_the_first_bad_seq(self):
        L = list(self.lines)
        seq = [json.loads(x)["seq"] for x in L]
        cps = [i for i, x in enumerate(L) if json.loads(x)["action"] == "checkpoint"]
        self.assertGreaterEqual(len(cps), 3)
        cp = cps[1]
        mid = cps[0] + 2  # an ordinary entry, two checkpoints ahead of the end
        self.assertNotEqual(json.loads(L[mid])["action"], "checkpoint")
        nxt = min(i for i in cps if i > mid)

        def flip_signature(x):
            j = x.index(b'"signature":"') + len(b'"signature":"')
            return x[:j] + (b"A" if x[j:j + 1] != b"A" else b"B") + x[j + 1:]

        changed = L[mid].replace(b'"principal":"', b'"principal":"x', 1)
        self.assertNotEqual(changed, L[mid])
        sig_a = json.loads(L[cps[0]])["checkpoint"]["signature"].encode()
        sig_b = json.loads(L[cp])["checkpoint"]["signature"].encode()
        O = list(self.other_lines)
        cases = [
            ("an entry changed and every hash after it recomputed",
             rehash_from(L[:mid] + [changed] + L[mid + 1:], mid), None, seq[nxt]),
            ("a checkpoint signature changed and the hashes recomputed",
             rehash_from(L[:cp] + [flip_signature(L[cp])] + L[cp + 1:], cp), None, seq[cp]),
            ("an earlier checkpoint's signature replayed, hashes recomputed",
             rehash_from(L[:cp] + [L[cp].replace(sig_b, sig_a)] + L[cp + 1:], cp), None, seq[cp]),
            ("the file cut in the middle of its last line", None,
             b"".join(x + b"\n" for x in L[:-1]) + L[-1][:len(L[-1]) // 2], seq[-1]),
            ("a line repeated", L[:mid + 1] + [L[mid]] + L[mid + 1:], None, seq[mid] + 1),
            ("a blank line inserted", L[:mid] + [b""] + L[mid:], None, seq[mid]),
            ("a NUL byte and junk after an entry", L[:mid] + [L[mid] + b"\x00junk"] + L[mid + 1:],
             None, seq[mid]),
            ("the seal replaced by an older genuine checkpoint", L[:-1] + [L[cps[0]]], None, seq[-1]),
            ("the other daemon's log spliced in from seq 3", L[:3] + O[3:], None, 3),
            ("the other daemon's whole export appended", L + O, None, seq[-1] + 1),
            ("a line that is only whitespace", [b" "], None, 0),
        ]
        for name, lines, raw, bad in cases:
            with self.subTest(case=name):
                p = self.verify(lines, raw=raw)
                self.assertEqual(p.returncode, FAILURE, "%s accepted: %s" % (name, out(p)))
                self.assertIn("audit verify: FAILED at seq %d" % bad, out(p))

    def test_the_other_daemons_export_verifies_on_its_own(self):
        # the splices above fail for the splice, not for the other log
        p = self.verify(self.other_lines)
        self.assertEqual(p.returncode, OK, out(p))
        p = self.verify(self.lines)
        self.assertEqual(p.returncode, OK, out(p))

    def test_a_key_file_that_is_not_an_ed25519_public_key_is_named(self):
        p = pki()
        for key in (p.audit_key, p.server_ca, p.server_key):
            with self.subTest(key=key.name):
                r = ctl_raw("audit", "verify", self._export(), "--key", key)
                self.assertEqual(r.returncode, FAILURE, out(r))
                self.assertIn(str(key), out(r))
                self.assertIn("public key", out(r))

    def _export(self):
        f = self.work / "genuine.ndjson"
        if not f.exists():
            f.write_bytes(b"".join(x + b"\n" for x in self.lines))
        return f

    def test_verify_receipts_ignores_receipts_of_another_server(self):
        # Was a defect (fixed): audit verify --receipts checks every receipt in the request log, whichever server gave it; the default log is one per user, so after using two servers an untampered export fails with "the entry was rewritten" (even when --server names the export's server).
        state = self.work / "state"
        env = {"XDG_STATE_HOME": str(state)}
        for d in (self.daemon, self.other):
            p = ctl(d, "cw.wm", "check", *TOBIAS[:1], "WM-ADV-RCPT", *TOBIAS[2:],
                    env_extra=env)
            self.assertEqual(p.returncode, OK, out(p))
        f = self.work / "mine.ndjson"
        p = ctl(self.daemon, "aud.nat", "audit", "export", "-o", str(f))
        self.assertEqual(p.returncode, OK, out(p))
        default_log = state / "disclosurectl" / "requests.log"
        p = ctl_raw("audit", "verify", f, "--key", pki().audit_pub, "--receipts", default_log,
                    "--server", "https://localhost:%d" % self.daemon.port)
        self.assertEqual(p.returncode, OK, "a genuine export called rewritten: " + out(p))
        self.assertIn(b"1 receipts found in the export", p.stdout)
        # Without --server the log's two servers are named, not guessed.
        p = ctl_raw("audit", "verify", f, "--key", pki().audit_pub, "--receipts", default_log)
        self.assertEqual(p.returncode, FAILURE, out(p))
        self.assertIn(b"several servers", p.stdout)
        for d in (self.daemon, self.other):
            self.assertIn(b"https://localhost:%d" % d.port, p.stdout)
        # The other server's export, with its receipts only.
        g = self.work / "theirs.ndjson"
        p = ctl(self.other, "aud.nat", "audit", "export", "-o", str(g))
        self.assertEqual(p.returncode, OK, out(p))
        p = ctl_raw("audit", "verify", g, "--key", pki().audit_pub, "--receipts", default_log,
                    "--server", "https://localhost:%d/" % self.other.port)
        self.assertEqual(p.returncode, OK, out(p))

    def test_an_import_past_max_bulk_body_reports_the_413(self):
        # Was a defect (fixed): the daemon answers 413 and closes while the client still uploads a large file; the client loses the answer and says "the server closed the connection right after the handshake; it probably refused our client certificate" with exit 4 (man: a body too large is exit 3 with the server's words).
        body = b"".join(line(record("WMP-ADVB%05d" % i, "Bulkmore%d" % i,
                                    addresses=[{"text": "x" * 300, "postcode": "WR1 1AA"}])) + b"\n"
                        for i in range(20000))
        self.assertGreater(len(body), 30 * 200000)  # more than socket buffers hold
        f = self.work / "big.jsonl"
        f.write_bytes(body)
        log = self.work / "big.log"
        p = ctl(self.daemon, "reg.wm", "import", str(f), log=log)
        self.assertNotIn("client certificate", out(p))
        self.assertEqual(p.returncode, REFUSED, out(p))
        self.assertIn("413", out(p))
        self.assertEqual(log_lines(log)[-1].get("status"), 413)


if __name__ == "__main__":
    unittest.main()
