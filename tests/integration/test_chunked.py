"""test_chunked.py - request bodies sent with "Transfer-Encoding: chunked",
over real mutual TLS, against the harness's daemon.

What it is for: the daemon decodes a chunked body itself (daemon/guard.c
with lib/chunked.c) and answers it exactly as the same body sent with a
Content-Length; a body past its path's limit gets the contract's 413 as
soon as a chunk-size line announces it, and broken framing the contract's
400, both audited (the law wants an entry for every request, refused ones
too) and both closing the connection, so that no byte of a refused body is
ever read as the next request.  evhttp 2.1 left to itself held any chunked
body up to max_bulk_body on every path and refused one with its own HTML
page and no audit entry.

Requests no well-behaved client sends are written by hand (raw TLS), also
cut across TLS writes; the 100-continue case is also curl's own.  Two
daemons: one with small limits (max_body 4 KiB, max_bulk_body 16 KiB) so
that a body past them costs little, one with request_timeout 1 for bodies
that stop coming.  What it must never do: depend on
anything but the contract and the guard's documented behaviour
(include/disclosure/chunked.h).  Every person in it is fictitious.
"""

import json
import socket
import ssl
import time
import unittest

from harness import (DaemonTestCase, audit_entries, check_body, curl, export_audit, find_entry,
                     fixture_records, http_request_bytes, parse_responses, raw_tls, recv_until_close,
                     tls_context, tmo, verify_daemon_audit)

# Small limits, so that a body past them costs the test little to send.
MAX_BODY = 4096
MAX_BULK_BODY = 16384

VALID = json.dumps(check_body(case_ref="WM-CHUNK-1")).encode()


def chunks_of(body, size):
    """body cut into pieces of size bytes (the last may be shorter)."""
    return [body[i:i + size] for i in range(0, len(body), size)]


def frame(pieces, ext=b"", last=b"0", trailers=b"", eol=b"\r\n", size_fmt=b"%x"):
    """The chunked framing of pieces: each as size[ext] EOL data EOL, then
    the last chunk, the trailer section and the blank line."""
    out = b""
    for p in pieces:
        out += (size_fmt % len(p)) + ext + eol + p + eol
    return out + last + eol + trailers + eol


def head(method, path, ctype="application/json", te=b"chunked", extra=(), close=False):
    """A request head announcing a chunked body (no Content-Length)."""
    lines = [b"%s %s HTTP/1.1" % (method.encode(), path.encode()), b"Host: localhost"]
    if ctype:
        lines.append(b"Content-Type: " + ctype.encode())
    lines.append(b"Transfer-Encoding: " + te)
    lines += [x if isinstance(x, bytes) else x.encode() for x in extra]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunked_request(method, path, body, piece=None, close=True, **kw):
    """A whole chunked request: body in pieces of piece bytes (one piece if
    None); frame()'s keywords pass through."""
    hkw = {k: kw.pop(k) for k in ("ctype", "te", "extra") if k in kw}
    pieces = chunks_of(body, piece or max(len(body), 1)) if body else []
    return head(method, path, close=close, **hkw) + frame(pieces, **kw)


def outcome_of(r):
    """What a check's answer says, without what differs between two checks
    (check_id, audit receipt)."""
    j = r.json()
    return (r.status, j.get("outcome"),
            [(c["offender_id"], c["band"], c["score"]) for c in j.get("candidates", [])])


def ndjson_records(first, n, family):
    recs = []
    for i in range(n):
        recs.append({"id": "WMP-C%06d" % (first + i),
                     "names": [{"given": "Ysmay", "family": "%s%d" % (family, i),
                                "kind": "primary"}],
                     "dob": "1968-05-%02d" % (1 + i % 28), "sex": "F",
                     "managing_force": "west-mercia", "status": "active"})
    return b"".join(json.dumps(r).encode() + b"\n" for r in recs)


class ChunkedBodies(DaemonTestCase):
    records = fixture_records()[:2]
    daemon_conf = {"server": {"max_body": str(MAX_BODY), "max_bulk_body": str(MAX_BULK_BODY)}}

    # -- plumbing --

    def raw(self, data, principal="cw.wm", timeout=None):
        out, closed = raw_tls(self.daemon, principal, data, timeout=timeout or tmo(4))
        return parse_responses(out), closed, out

    def assertAudited(self, r, status, error, principal, action, method, path, entries=None):
        """r's entry in the audit log says all of these.  action may be a
        tuple of the actions allowed: a request refused before it reached
        its endpoint (a 400 for its framing) is audited as "request"."""
        entries = entries if entries is not None else audit_entries(export_audit(self.daemon))
        e = find_entry(entries, r.header("X-Request-Id"))
        self.assertIsNotNone(e, "the %d answer (request %s) is not in the audit log"
                             % (r.status, r.header("X-Request-Id")))
        self.assertEqual((e.get("status"), e.get("error"), e.get("principal"), e.get("method"),
                          e.get("path")), (status, error, principal, method, path), e)
        self.assertIn(e.get("action"), action if isinstance(action, tuple) else (action,), e)
        return e

    def one_answer(self, req, principal="cw.wm", what="", timeout=None):
        """Sends req (a whole request with Connection: close) and returns its
        only answer."""
        rs, closed, out = self.raw(req, principal, timeout)
        self.assertEqual(len(rs), 1, "%s: expected one answer, got %r" % (what, out[:600]))
        self.assertIsNotNone(rs[0].body, "%s: the answer was cut: %r" % (what, out[:600]))
        return rs[0]

    def baseline(self, body=VALID, path="/v1/checks", principal="cw.wm", method="POST",
                 ctype="application/json"):
        """The answer to the same body sent with a Content-Length."""
        # (http_request_bytes names no Content-Type for an empty body)
        r = self.one_answer(http_request_bytes(method, path, body, ctype=None, close=True,
                                               extra_headers=["Content-Type: " + ctype]),
                            principal, "the same body with a Content-Length")
        return r

    # -- 1. answered as the same request with a Content-Length --

    def test_a_chunked_check_is_answered_as_the_same_check_with_a_length(self):
        want = self.baseline()
        self.assertEqual(want.status, 200, want)
        self.assertTrue(want.json()["candidates"], "the fixture's namesakes were not found")
        cases = [
            ("one chunk", chunked_request("POST", "/v1/checks", VALID)),
            ("chunks of 7 bytes", chunked_request("POST", "/v1/checks", VALID, piece=7)),
            ("chunks of 1 byte", chunked_request("POST", "/v1/checks", VALID, piece=1)),
            ("chunk extensions", chunked_request("POST", "/v1/checks", VALID, piece=50,
                                                 ext=b";name=value;flag;q=\"a b\"",
                                                 last=b"0;end=1")),
            ("a chunk extension of 1000 bytes", chunked_request(
                "POST", "/v1/checks", VALID, piece=150, ext=b";e=" + b"x" * 997)),
            ("upper-case hexadecimal sizes", chunked_request("POST", "/v1/checks", VALID,
                                                             piece=200, size_fmt=b"%X")),
            ("sizes with leading zeros", chunked_request("POST", "/v1/checks", VALID,
                                                         size_fmt=b"00000%x")),
            ("sizes of 15 digits, the most taken", chunked_request(
                "POST", "/v1/checks", VALID, piece=100, size_fmt=b"%015x")),
            ("white space after the size", chunked_request("POST", "/v1/checks", VALID,
                                                           piece=100, ext=b"  ")),
            ("lines ended by a bare LF", chunked_request("POST", "/v1/checks", VALID,
                                                         piece=100, eol=b"\n")),
            ("a trailer with the daemon's own marker of a declared length", chunked_request(
                "POST", "/v1/checks", VALID, trailers=b"X-Disclosured-Declared-Length: 5\r\n")),
            ("a trailer with another Content-Type", chunked_request(
                "POST", "/v1/checks", VALID, trailers=b"Content-Type: text/plain\r\n")),
            ("a trailer section of several lines", chunked_request(
                "POST", "/v1/checks", VALID, piece=64,
                trailers=b"X-Checksum: abc\r\nContent-Length: 3\r\nExpires:\r\n")),
            ("a marker header of the client's own in the head", chunked_request(
                "POST", "/v1/checks", VALID, extra=[b"X-Disclosured-Declared-Length: 5"])),
            ("the daemon's own marker of a body it could not hold, in the head",
             chunked_request("POST", "/v1/checks", VALID, piece=100,
                             extra=[b"X-Disclosured-Bad-Body: no memory for the body"])),
            ("white space around 'chunked'", chunked_request("POST", "/v1/checks", VALID,
                                                             te=b"  chunked\t")),
            ("CHUNKED in upper case", chunked_request("POST", "/v1/checks", VALID, te=b"CHUNKED")),
            ("Chunked in mixed case", chunked_request("POST", "/v1/checks", VALID, te=b"Chunked")),
        ]
        for name, req in cases:
            with self.subTest(case=name):
                r = self.one_answer(req, what=name)
                self.assertTrue(r.header("X-Request-Id"))
                self.assertEqual(outcome_of(r), outcome_of(want), r)

    def test_a_chunked_check_is_audited_as_a_check(self):
        r = self.one_answer(chunked_request("POST", "/v1/checks", VALID, piece=33))
        self.assertEqual(r.status, 200, r)
        e = self.assertAudited(r, 200, None, "cw.wm", "check.create", "POST", "/v1/checks")
        self.assertEqual(e["seq"], r.json()["audit"]["seq"])
        self.assertEqual(e.get("case_ref"), "WM-CHUNK-1", e)

    def test_bytes_sent_one_tls_write_at_a_time_are_read_as_one_request(self):
        # Every byte of the head and the framing its own TLS record, with
        # a pause now and then so that they also arrive apart: the decoder
        # sees chunk-size lines, CRLFs and trailers cut anywhere.  (The
        # extensions, which evhttp refuses, show that the guard decoded
        # it rather than gave up on a head in pieces.)
        want = self.baseline()
        req = chunked_request("POST", "/v1/checks", VALID, piece=40, ext=b";n=1",
                              trailers=b"X-Note: fictitious\r\n")
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(10))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        sent, out = 0, b""
        try:
            try:
                for sent in range(len(req)):
                    s.sendall(req[sent:sent + 1])
                    if sent % 8 == 0:
                        time.sleep(0.001)
                sent = len(req)
            except (ssl.SSLError, BrokenPipeError, ConnectionResetError):
                pass  # closed on us: what it answered says why
            while True:
                try:
                    b = s.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not b:
                    break
                out += b
        finally:
            s.close()
        rs = parse_responses(out)
        self.assertEqual(len(rs), 1, "after %d of %d bytes: %r" % (sent, len(req), out[:600]))
        self.assertEqual(rs[0].status, 200, rs[0])
        self.assertEqual(outcome_of(rs[0]), outcome_of(want))

    def test_malformed_json_in_chunks_is_400_invalid_json(self):
        for name, body in [("truncated", VALID[:-5]), ("not json", b"hello"),
                           ("trailing garbage", VALID + b" x"), ("empty body", b"")]:
            with self.subTest(case=name):
                want = self.baseline(body)
                self.assertContractError(want, 400, "invalid_json")
                r = self.one_answer(chunked_request("POST", "/v1/checks", body, piece=9))
                self.assertContractError(r, 400, "invalid_json")

    def test_bytes_that_look_like_framing_inside_a_chunk_are_body(self):
        # A chunk's data is counted, never parsed: CRLFs, a last chunk and
        # a request inside it are the body's bytes.
        want = self.baseline()
        body_ws = b"{\r\n\r\n" + VALID[1:]  # JSON white space
        req = head("POST", "/v1/checks", close=True) + frame([b"{", b"\r\n", b"\r\n", VALID[1:]])
        self.assertEqual(b"".join([b"{", b"\r\n", b"\r\n", VALID[1:]]), body_ws)
        self.assertEqual(outcome_of(self.one_answer(req)), outcome_of(want))
        inner = b"\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
        lines = ndjson_records(700, 2, "Framewright")
        r = self.one_answer(chunked_request("POST", "/v1/offenders/_bulk", lines + inner,
                                            ctype="application/x-ndjson"), "reg.wm",
                            "a bulk body with a request inside a chunk")
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["created"] + j["replaced"], 2, j)
        self.assertTrue(j["rejected"], "the lines of the request inside were not read as "
                        "the body's: %r" % j)

    def test_a_chunked_body_on_a_method_that_takes_one_is_never_read_as_a_request(self):
        # Its bytes are a request's; the request after the body is
        # answered, and only it.
        inner = frame([b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"])
        after = http_request_bytes("GET", "/healthz", close=True)
        for method, path in [("GET", "/healthz"), ("DELETE", "/v1/offenders/WMP-C000999"),
                             ("OPTIONS", "/healthz")]:
            with self.subTest(method=method):
                rs, closed, out = self.raw(head(method, path) + inner + after, "mon.wm")
                self.assertEqual(len(rs), 2, out[:1500])
                self.assertNotIn(b"# TYPE", out, "the body was answered as GET /metrics")
                self.assertIn("audit_seq", rs[1].json())
                self.assertTrue(closed)

    def test_a_chunked_bulk_import_is_answered_as_with_a_length(self):
        # Four records and a line that is not JSON (the third): the same
        # lines applied and the same line refused either way.
        lines = ndjson_records(1, 4, "Pellwright").split(b"\n")
        body = b"\n".join(lines[:2] + [b"{not json"] + lines[2:])
        # pieces cut across the record lines
        r = self.one_answer(chunked_request("POST", "/v1/offenders/_bulk", body, piece=37,
                                            ctype="application/x-ndjson",
                                            trailers=b"Content-Type: text/plain\r\n"),
                            "reg.wm")
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["created"] + j["replaced"], 4, j)
        self.assertAudited(r, 200, None, "reg.wm", "offender.bulk", "POST",
                           "/v1/offenders/_bulk")
        want = self.baseline(body, "/v1/offenders/_bulk", "reg.wm", ctype="application/x-ndjson")
        self.assertEqual(want.status, 200, want)
        self.assertEqual(want.json()["replaced"], 4, want)
        self.assertEqual(j["rejected"], want.json()["rejected"])
        self.assertEqual([x["line"] for x in j["rejected"]], [3], j)

    def test_a_chunked_bulk_body_past_max_body_but_within_max_bulk_body_is_applied(self):
        body = ndjson_records(100, 60, "Quillfeather")
        self.assertGreater(len(body), MAX_BODY)
        self.assertLess(len(body), MAX_BULK_BODY)
        r = self.one_answer(chunked_request("POST", "/v1/offenders/_bulk", body, piece=1000,
                                            ctype="application/x-ndjson"), "reg.wm")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["created"] + r.json()["replaced"], 60, r)

    def test_a_chunked_put_is_answered_as_with_a_length(self):
        rec = {"id": "WMP-C000900", "names": [{"given": "Aldous", "family": "Wrenfold",
                                               "kind": "primary"}],
               "managing_force": "west-mercia", "status": "active"}
        body = json.dumps(rec).encode()
        r = self.one_answer(chunked_request("PUT", "/v1/offenders/WMP-C000900", body, piece=5),
                            "reg.wm")
        self.assertIn(r.status, (200, 201), r)
        self.assertAudited(r, r.status, None, "reg.wm", "offender.put", "PUT",
                           "/v1/offenders/WMP-C000900")

    # -- the limits: 413 before the rest of the body --

    def refused_before_the_body(self, principal, path, limit, action):
        # The head and one chunk-size line announcing more than the limit,
        # then nothing: the answer must come without the body.
        req = head("POST", path, ctype="application/json" if "bulk" not in path
                   else "application/x-ndjson") + b"%x\r\n" % (limit + 1)
        rs, closed, out = self.raw(req, principal, timeout=tmo(3))
        self.assertTrue(rs, "no answer to a chunk announcing %d bytes past %s's limit of %d "
                        "(the daemon waits for the body)" % (limit + 1, path, limit))
        self.assertEqual(len(rs), 1, out[:600])
        self.assertContractError(rs[0], 413, "payload_too_large")
        self.assertTrue(closed, "the connection stayed open after the 413")
        self.assertAudited(rs[0], 413, "payload_too_large", principal, action, "POST", path)

    def test_a_check_announcing_a_chunk_past_max_body_is_413_before_the_body(self):
        self.refused_before_the_body("cw.wm", "/v1/checks", MAX_BODY, "check.create")

    def test_a_bulk_import_announcing_a_chunk_past_max_bulk_body_is_413_before_the_body(self):
        self.refused_before_the_body("reg.wm", "/v1/offenders/_bulk", MAX_BULK_BODY,
                                     "offender.bulk")

    def test_the_bulk_limit_is_a_registrars_only(self):
        # Anyone else's body to the bulk import was read up to
        # max_bulk_body (256 MiB by default) before the 403: an outsider's
        # 64 connections could make the daemon hold 16 GiB.
        declared = MAX_BODY + 1
        self.assertLess(declared, MAX_BULK_BODY)
        for principal in ("cw.wm", "unknown"):
            with self.subTest(principal=principal, framing="chunked"):
                rs, closed, out = self.raw(head("POST", "/v1/offenders/_bulk",
                                                ctype="application/x-ndjson")
                                           + b"%x\r\n" % declared, principal, timeout=tmo(3))
                self.assertTrue(rs, "no answer before the body (%s)" % principal)
                self.assertEqual(len(rs), 1, out[:600])
                self.assertIn(rs[0].status, (403, 413), rs[0])
                self.assertTrue(closed)
            with self.subTest(principal=principal, framing="length, Expect: 100-continue"):
                req = (b"POST /v1/offenders/_bulk HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/x-ndjson\r\nExpect: 100-continue\r\n"
                       b"Content-Length: %d\r\n\r\n" % declared)
                rs, closed, out = self.raw(req, principal, timeout=tmo(3))
                self.assertNotIn(b"100 Continue", out[:200], "the upload was invited")
                self.assertTrue(rs, "no answer before the body (%s)" % principal)
                self.assertIn(rs[0].status, (403, 413), rs[0])
                if principal == "cw.wm":
                    self.assertAudited(rs[0], rs[0].status, rs[0].json()["error"]["code"],
                                       "cw.wm", "offender.bulk", "POST", "/v1/offenders/_bulk")
        # A registrar's body of that size is still taken.
        self.test_a_chunked_bulk_body_past_max_body_but_within_max_bulk_body_is_applied()

    def test_an_unknown_principal_past_the_limit_is_refused_audited_and_closed(self):
        # Whether it is told 403 (not in the ACL) or 413, it is told in
        # the contract's shape, at once, and the attempt is audited.
        rs, closed, out = self.raw(head("POST", "/v1/checks") + b"%x\r\n" % (MAX_BODY + 1),
                                   "unknown", timeout=tmo(3))
        self.assertTrue(rs, "no answer to an unknown principal's chunked body past the limit")
        self.assertEqual(len(rs), 1, out[:600])
        code = {403: "forbidden", 413: "payload_too_large"}.get(rs[0].status)
        self.assertIsNotNone(code, rs[0])
        self.assertContractError(rs[0], rs[0].status, code)
        self.assertTrue(closed, "the connection stayed open")
        e = find_entry(audit_entries(export_audit(self.daemon)), rs[0].request_id)
        self.assertIsNotNone(e, "the refusal of an unknown principal is not audited")
        self.assertEqual((e["status"], e["error"], e["method"], e["path"]),
                         (rs[0].status, code, "POST", "/v1/checks"))

    def test_a_chunk_past_max_body_after_others_within_it_is_413(self):
        # The chunks so far are within the limit; the one that takes the
        # total past it is refused as it is announced.
        first = b"{" + b" " * 3000
        req = head("POST", "/v1/checks") + b"%x\r\n%s\r\n" % (len(first), first) + \
            b"%x\r\n" % (MAX_BODY - len(first) + 1)
        rs, closed, out = self.raw(req, timeout=tmo(3))
        self.assertTrue(rs, "no answer to a body announced past max_body in its second chunk")
        self.assertContractError(rs[0], 413, "payload_too_large")
        self.assertTrue(closed, "the connection stayed open after the 413")
        self.assertAudited(rs[0], 413, "payload_too_large", "cw.wm", "check.create", "POST",
                           "/v1/checks")

    def test_a_body_in_many_chunks_past_its_limit_is_413_and_its_rest_never_read(self):
        # Sent whole, small chunks each within the limit, with a request
        # behind: the request must not be answered (it is part of the
        # refused body's connection), and nothing of the body applied.
        check = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
        bulk = ndjson_records(500, 200, "Overbury")
        self.assertGreater(len(bulk), MAX_BULK_BODY)
        cases = [("a check", "cw.wm", "/v1/checks", "application/json", check, "check.create"),
                 ("a bulk import", "reg.wm", "/v1/offenders/_bulk", "application/x-ndjson",
                  bulk, "offender.bulk")]
        records = self.client("mon.wm").get("/healthz").json()["records"]
        for name, who, path, ctype, body, action in cases:
            with self.subTest(case=name):
                req = (chunked_request("POST", path, body, piece=500, close=False, ctype=ctype)
                       + http_request_bytes("GET", "/healthz", close=True))
                rs, closed, out = self.raw(req, who, timeout=tmo(4))
                self.assertTrue(rs, "no answer to a chunked body past its limit")
                self.assertContractError(rs[0], 413, "payload_too_large")
                self.assertEqual(len(rs), 1, "a request after the refused body was answered: "
                                 "%r" % out[:800])
                self.assertTrue(closed)
                self.assertAudited(rs[0], 413, "payload_too_large", who, action, "POST", path)
        self.assertEqual(self.client("mon.wm").get("/healthz").json()["records"], records,
                         "records of a refused bulk body were stored")

    def test_chunked_framing_in_an_http_1_0_request_is_not_trusted(self):
        # RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing;
        # the connection must not outlive the request, or the bytes after
        # a body some other reader framed otherwise would be a request.
        smuggled = http_request_bytes("GET", "/healthz")
        req = (b"POST /v1/checks HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json"
               b"\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
               + frame([VALID]) + smuggled)
        rs, closed, out = self.raw(req, timeout=tmo(4))
        self.assertTrue(rs, "no answer: %r" % out[:300])
        self.assertEqual(len(rs), 1, "the request after it was answered: %r" % out[:800])
        self.assertTrue(closed, "the connection stayed open")
        if rs[0].status >= 400:
            self.assertContractError(rs[0], 400, "invalid_field")

    def test_a_body_of_exactly_max_body_in_chunks_is_parsed(self):
        body = b"{" + b" " * (MAX_BODY - len(VALID)) + VALID[1:]
        self.assertEqual(len(body), MAX_BODY)
        r = self.one_answer(chunked_request("POST", "/v1/checks", body, piece=1000))
        self.assertNotEqual(r.status, 413, r)
        self.assertEqual(r.status, 200, r)

    def test_a_chunk_size_too_large_for_any_limit_is_refused(self):
        for name, size, statuses in [("15 hexadecimal digits", b"f" * 15, (413,)),
                                     ("past 64 bits", b"1" + b"0" * 16, (400, 413))]:
            with self.subTest(case=name):
                rs, closed, out = self.raw(head("POST", "/v1/checks") + size + b"\r\n",
                                           timeout=tmo(3))
                self.assertTrue(rs, "no answer to a chunk size of %s" % name)
                self.assertIn(rs[0].status, statuses, rs[0])
                self.assertContractError(rs[0], rs[0].status,
                                         "payload_too_large" if rs[0].status == 413
                                         else "invalid_field")
                self.assertTrue(closed)

    # -- broken framing: 400, closed, audited --

    BROKEN = [
        ("a chunk size that is not hexadecimal", b"zz\r\n" + VALID + b"\r\n0\r\n\r\n"),
        ("a chunk size of 16 digits", b"%016x\r\n" % len(VALID) + VALID + b"\r\n0\r\n\r\n"),
        ("a negative chunk size", b"-%x\r\n" % len(VALID) + VALID + b"\r\n0\r\n\r\n"),
        ("an empty chunk-size line", b"\r\n" + VALID + b"\r\n0\r\n\r\n"),
        ("data not followed by CRLF", b"%x\r\n" % len(VALID) + VALID + b"XY0\r\n\r\n"),
        ("a chunk longer than its size", b"5\r\n" + VALID + b"\r\n0\r\n\r\n"),
        ("a chunk-size line over 1024 bytes",
         b"%x;ext=" % len(VALID) + b"e" * 1100 + b"\r\n" + VALID + b"\r\n0\r\n\r\n"),
        ("a trailer line without ':'",
         b"%x\r\n" % len(VALID) + VALID + b"\r\n0\r\nno colon here\r\n\r\n"),
        ("a trailer section over 8 KiB", b"%x\r\n" % len(VALID) + VALID + b"\r\n0\r\n"
         + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"t" * 100) for i in range(100)) + b"\r\n"),
    ]

    def assertCheckRefusedAndAudited(self, cases):
        """Each (name, request) of cases, a POST /v1/checks followed by a
        smuggled request, is answered once with the contract's 400, its
        connection closed, and audited."""
        smuggled = http_request_bytes("GET", "/healthz", close=True)
        answers = []
        for name, req in cases:
            with self.subTest(case=name):
                rs, closed, out = self.raw(req + smuggled, timeout=tmo(3))
                self.assertTrue(rs, "%s: no answer (%r)" % (name, out[:300]))
                self.assertContractError(rs[0], 400, "invalid_field")
                self.assertTrue(closed, "%s: the connection stayed open" % name)
                self.assertEqual(len(rs), 1, "%s: the request after it was answered: %r"
                                 % (name, out[:800]))
                answers.append((name, rs[0]))
        entries = audit_entries(export_audit(self.daemon))
        for name, r in answers:
            with self.subTest(audit=name):
                self.assertAudited(r, 400, "invalid_field", "cw.wm", ("request", "check.create"),
                                   "POST", "/v1/checks", entries)

    def test_broken_framing_is_400_closed_and_audited(self):
        self.assertCheckRefusedAndAudited(
            [(name, head("POST", "/v1/checks") + framing) for name, framing in self.BROKEN])

    def test_broken_framing_is_audited_with_the_real_method_and_path(self):
        rs, closed, out = self.raw(head("PUT", "/v1/offenders/WMP-C000901")
                                   + b"1x\r\n{}\r\n0\r\n\r\n", "reg.wm", timeout=tmo(3))
        self.assertTrue(rs, "no answer to a PUT with broken framing: %r" % out[:300])
        self.assertContractError(rs[0], 400, "invalid_field")
        self.assertTrue(closed)
        self.assertAudited(rs[0], 400, "invalid_field", "reg.wm", ("request", "offender.put"),
                           "PUT", "/v1/offenders/WMP-C000901")
        rs, closed, out = self.raw(head("POST", "/v1/offenders/_bulk",
                                        ctype="application/x-ndjson") + b"g\r\n", "reg.wm",
                                   timeout=tmo(3))
        self.assertTrue(rs, "no answer to a bulk import with broken framing: %r" % out[:300])
        self.assertContractError(rs[0], 400, "invalid_field")
        self.assertAudited(rs[0], 400, "invalid_field", "reg.wm", ("request", "offender.bulk"),
                           "POST", "/v1/offenders/_bulk")

    def test_transfer_encodings_the_guard_does_not_decode_are_refused_and_closed(self):
        # Only a single "chunked" is decoded; the rest the router refuses
        # as possible smuggling, and nothing after them is answered.
        body = frame([VALID])
        cases = [("chunked twice", [b"Transfer-Encoding: chunked"]),
                 ("chunked with a Content-Length", [b"Content-Length: %d" % len(body)])]
        self.assertCheckRefusedAndAudited(
            [(name, head("POST", "/v1/checks", extra=extra) + body) for name, extra in cases])

    # -- pipelining --

    def test_a_request_after_a_chunked_one_is_answered_in_order_and_in_frame(self):
        cases = [
            ("GET /healthz", http_request_bytes("GET", "/healthz", close=True), [200, 200]),
            ("another chunked check, then GET /healthz",
             chunked_request("POST", "/v1/checks", VALID, piece=3, close=False)
             + http_request_bytes("GET", "/healthz", close=True), [200, 200, 200]),
            ("an unknown path", http_request_bytes("GET", "/nope", close=True), [200, 404]),
        ]
        for name, after, statuses in cases:
            for trailers in (b"", b"X-Trailer: fictitious\r\n"):
                with self.subTest(case=name, trailers=bool(trailers)):
                    req = chunked_request("POST", "/v1/checks", VALID, piece=64, close=False,
                                          trailers=trailers) + after
                    rs, closed, out = self.raw(req, timeout=tmo(5))
                    self.assertEqual([r.status for r in rs], statuses, out[:1500])
                    for r in rs:
                        self.assertIsNotNone(r.body, "an answer was cut: %r" % out[-300:])
                        self.assertEqual(r.header("Content-Length"), str(len(r.body)))
                        json.loads(r.body)  # each body is whole, and only its own
                    self.assertEqual(len({r.header("X-Request-Id") for r in rs}), len(rs))
                    self.assertTrue(closed, "Connection: close was not honoured")

    def test_chunked_requests_one_after_another_on_one_connection(self):
        # Each sent after the answer to the one before: the guard must be
        # back at a head each time, with a request with a length between.
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        reqs = [chunked_request("POST", "/v1/checks", VALID, piece=25, close=False),
                chunked_request("POST", "/v1/checks", b"{", close=False),
                http_request_bytes("POST", "/v1/checks", VALID),
                chunked_request("POST", "/v1/checks", VALID, piece=300, close=False,
                                trailers=b"X-T: 1\r\n"),
                http_request_bytes("GET", "/healthz")]
        got = []
        try:
            buf = b""
            for req in reqs:
                s.sendall(req)
                while True:
                    rs = parse_responses(buf)
                    if len(rs) > len(got) and rs[len(got)].body is not None:
                        break
                    b = s.recv(65536)
                    self.assertTrue(b, "closed after %d answers: %r" % (len(got), buf[-300:]))
                    buf += b
                got = parse_responses(buf)
        finally:
            s.close()
        self.assertEqual([r.status for r in got], [200, 400, 200, 200, 200], buf[:2000])
        self.assertEqual(got[1].error_code, "invalid_json")

    def test_a_chunked_request_behind_one_with_a_length_is_answered_in_order(self):
        # The chunked head arrives behind a body not read yet.
        for name, first in [("a check", http_request_bytes("POST", "/v1/checks", VALID)),
                            ("a health poll", http_request_bytes("GET", "/healthz"))]:
            with self.subTest(first=name):
                req = (first + chunked_request("POST", "/v1/checks", VALID, piece=10,
                                               close=False)
                       + http_request_bytes("GET", "/healthz", close=True))
                rs, closed, out = self.raw(req, timeout=tmo(5))
                self.assertEqual([r.status for r in rs], [200, 200, 200], out[:1500])
                self.assertIn("candidates", rs[1].json())
                self.assertIn("audit_seq", rs[2].json())

    def test_a_chunked_request_cut_across_writes_behind_another_is_answered(self):
        # The head and the body arrive in pieces, behind a request whose
        # answer is not sent yet: cut in the head, in a chunk-size line,
        # in a chunk's data and in the trailer section.
        req = chunked_request("POST", "/v1/checks", VALID, piece=90, close=False,
                              trailers=b"X-Trail: 1\r\n")
        h = req.index(b"\r\n\r\n") + 4
        cuts = [h // 2, h + 1, h + 40, len(req) - 8]
        parts, last = [http_request_bytes("POST", "/v1/checks", VALID)], 0
        for c in cuts:
            parts[-1] += req[last:c]
            parts.append(b"")
            last = c
        parts[-1] += req[last:] + http_request_bytes("GET", "/healthz", close=True)
        out, closed = raw_tls(self.daemon, "cw.wm", parts, timeout=tmo(5), wait=0.1)
        rs = parse_responses(out)
        self.assertEqual([r.status for r in rs], [200, 200, 200], out[:1500])
        self.assertIn("candidates", rs[1].json())
        self.assertTrue(closed)

    def test_a_refusal_cut_across_writes_is_the_same_refusal(self):
        # The head in two pieces, then the chunk-size line or the broken
        # framing in pieces: the guard must follow the head to its end.
        h = head("POST", "/v1/checks")
        self.assertEqual(int(b"1001", 16), MAX_BODY + 1)
        cases = [("a chunk size past the limit", [h[:20], h[20:] + b"1", b"00", b"1\r\n"],
                  413, "payload_too_large"),
                 ("a chunk size that is not hexadecimal", [h[:20], h[20:], b"z", b"z\r\n"],
                  400, "invalid_field"),
                 ("data not followed by CRLF", [h[:30], h[30:] + b"2\r\n{", b"}", b"XY"],
                  400, "invalid_field")]
        for name, parts, status, code in cases:
            with self.subTest(case=name):
                out, closed = raw_tls(self.daemon, "cw.wm", parts, timeout=tmo(3), wait=0.1)
                rs = parse_responses(out)
                self.assertEqual(len(rs), 1, out[:600])
                self.assertContractError(rs[0], status, code)
                self.assertTrue(closed)

    def test_a_chunked_body_on_a_request_that_takes_none_is_refused_and_closed(self):
        # evhttp reads no body on TRACE: the body's bytes, were the
        # connection kept, would be read as the next request.
        smuggled = http_request_bytes("GET", "/healthz", close=True)
        req = head("TRACE", "/v1/checks") + frame([b"GET /healthz HTTP/1.1\r\n\r\n"]) + smuggled
        rs, closed, out = self.raw(req, timeout=tmo(4))
        self.assertTrue(rs, "no answer: %r" % out[:300])
        self.assertEqual(len(rs), 1, "a request after it was answered: %r" % out[:800])
        self.assertIn(rs[0].status, (400, 405), rs[0])
        self.assertTrue(closed, "the connection stayed open")

    def test_a_declared_length_past_max_body_after_a_chunked_request_gets_the_guards_413(self):
        req = (chunked_request("POST", "/v1/checks", VALID, piece=50, close=False)
               + b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
               b"\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY * 4))
        rs, closed, out = self.raw(req, timeout=tmo(4))
        self.assertEqual([r.status for r in rs], [200, 413], out[:1500])
        self.assertEqual(outcome_of(rs[0])[0], 200)
        self.assertContractError(rs[1], 413, "payload_too_large")
        self.assertTrue(closed, "the connection stayed open after the 413")
        self.assertAudited(rs[1], 413, "payload_too_large", "cw.wm", "check.create", "POST",
                           "/v1/checks")

    # -- Expect: 100-continue --

    def test_curl_with_expect_100_continue_and_a_chunked_body_succeeds(self):
        want = self.baseline()
        r = curl(self.daemon, "cw.wm", "POST", "/v1/checks", data=VALID,
                 extra=["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue"])
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual([(c["offender_id"], c["band"]) for c in r.json()["candidates"]],
                         [(c[0], c[1]) for c in outcome_of(want)[2]])
        body = ndjson_records(300, 5, "Harrowgate")
        r = curl(self.daemon, "reg.wm", "POST", "/v1/offenders/_bulk", data=body,
                 ctype="application/x-ndjson",
                 extra=["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue"])
        self.assertEqual((r.rc, r.status), (0, 200), r.stderr + r.body[:300].decode())
        self.assertEqual(r.json()["created"] + r.json()["replaced"], 5)

    def test_a_chunked_request_expecting_100_continue_is_told_to_continue_at_once(self):
        # RFC 9110 10.1.1: on a complete head with "Expect: 100-continue"
        # an origin server MUST answer at once, 100 or a final status.
        # Without it curl waits a second before every chunked upload, and
        # a client that waits for it longer waits for its timeout.
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        try:
            s.sendall(head("POST", "/v1/checks", extra=[b"Expect: 100-continue"], close=True))
            s.settimeout(tmo(0.8))
            first = b""
            try:
                first = s.recv(65536)
            except (socket.timeout, TimeoutError):
                pass
            # Then the body whatever came (as curl does after its wait).
            s.settimeout(tmo(5))
            s.sendall(frame(chunks_of(VALID, 60)))
            out = recv_until_close(s, first)
        finally:
            s.close()
        rs = [r for r in parse_responses(out) if r.status >= 200]
        self.assertEqual(len(rs), 1, out[:800])
        self.assertEqual(rs[0].status, 200, rs[0])
        self.assertTrue(first.startswith(b"HTTP/1.1 100 "),
                        "no 100 Continue within %.1fs of the head: %r" % (tmo(0.8), first[:200]))

    def test_100_continue_after_earlier_answers_on_a_keep_alive_connection(self):
        # The guard writes the 100 line with a write callback of its own in
        # evhttp's place; after an earlier answer on the connection,
        # evhttp's own callback would take that line's flush for the end
        # of the earlier answer.  Two chunked uploads behind a check with a
        # length, on one connection: each gets its 100 at once, then 200.
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        got = b""

        def finals():
            return [r for r in parse_responses(got) if r.status >= 200 and r.body is not None]

        def read_until(n_finals):
            nonlocal got
            s.settimeout(tmo(5))
            while len(finals()) < n_finals:
                b = s.recv(65536)
                if not b:
                    break
                got += b

        try:
            s.sendall(http_request_bytes("POST", "/v1/checks", VALID))
            read_until(1)
            for i in (2, 3):
                s.sendall(head("POST", "/v1/checks", extra=[b"Expect: 100-continue"],
                               close=(i == 3)))
                s.settimeout(tmo(0.8))
                try:
                    first = s.recv(65536)
                except (socket.timeout, TimeoutError):
                    first = b""
                self.assertTrue(first.startswith(b"HTTP/1.1 100 "),
                                "upload %d: no 100 Continue at once: %r" % (i, first[:200]))
                got += first
                s.sendall(frame(chunks_of(VALID, 60)))
                read_until(i)
        finally:
            s.close()
        self.assertEqual([r.status for r in finals()], [200, 200, 200], got[:1500])

    # -- after all of it --

    def test_zz_after_all_of_it_the_daemon_serves_and_its_audit_log_verifies(self):
        # Named to run last in this class (unittest sorts by name).
        self.assertTrue(self.daemon.alive(), self.daemon.log_tail())
        self.assertEqual(self.client("mon.wm").get("/healthz").status, 200)
        verify_daemon_audit(self.daemon)


class StalledChunkedBodies(DaemonTestCase):
    """A chunked body that stops coming is cut off after request_timeout,
    as one with a Content-Length is: the guard holds its head out of
    evhttp's sight meanwhile, and must not hold the connection forever."""
    records = fixture_records()[:2]
    daemon_conf = {"server": {"request_timeout": "1"}}

    def test_a_chunked_body_that_stops_coming_is_cut_off(self):
        cases = [("after the head", b""), ("in a chunk-size line", b"1"),
                 ("in a chunk's data", b"40\r\n{\"case_ref\""),
                 ("in the trailer section", b"2\r\n{}\r\n0\r\nX-Trail")]
        conns = []
        try:
            # all at once, so that the test waits one timeout, not four
            for name, part in cases:
                raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
                s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
                conns.append((name, s))
                s.sendall(head("POST", "/v1/checks") + part)
            deadline = time.monotonic() + 1 + tmo(3)
            for name, s in conns:
                with self.subTest(stalled=name):
                    out, cut = b"", False
                    while True:
                        s.settimeout(max(0.05, deadline - time.monotonic()))
                        try:
                            b = s.recv(65536)
                        except (socket.timeout, TimeoutError):
                            break
                        except OSError:  # reset
                            cut = True
                            break
                        if not b:
                            cut = True
                            break
                        out += b
                    self.assertTrue(cut, "a chunked body stalled %s outlived request_timeout"
                                    % name)
                    # cut off without an answer, or with one in the contract's shape
                    for r in parse_responses(out):
                        self.assertGreaterEqual(r.status, 400, r)
                        self.assertIn("application/json", r.header("Content-Type", ""), r)
        finally:
            for _, s in conns:
                s.close()
        r = self.client("cw.wm").post("/v1/checks", VALID)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
