"""test_http_hygiene.py - HTTP as an attacker or a broken client speaks it:
unknown paths and methods, content types, body limits, malformed JSON and
invalid UTF-8, request smuggling, pipelining, oversized headers.

Requests no well-behaved client sends are written by hand on raw TLS
connections (harness.raw_tls).
"""

import gzip
import json
import socket
import ssl
import threading
import time
import unittest

from harness import (DaemonTestCase, tls_context, audit_entries, check_body, curl, export_audit, find_entry,
                     fixture_records, http_request_bytes, parse_responses, raw_tls, recv_until_close, tmo)

VALID = json.dumps(check_body(case_ref="WM-HYG-1")).encode()
MAX_BODY = 65536  # the harness's default max_body


class HttpHygiene(DaemonTestCase):
    records = fixture_records()[:2]

    def raw(self, data, principal="cw.wm", timeout=None):
        out, closed = raw_tls(self.daemon, principal, data, timeout=timeout or tmo(5))
        return parse_responses(out), closed, out

    # -- routing --

    def test_unknown_paths_are_404(self):
        c = self.client("cw.wm")
        for path in ["/", "/nope", "/v2/checks", "/v1/checks/a/b/c", "/v1/offenders",
                     "/v1/audit/nothing", "/healthz/x", "/v1/checks/" + "x" * 3000]:
            with self.subTest(path=path[:40]):
                self.assertContractError(c.get(path), 404, "not_found")

    def test_path_tricks_never_reach_an_endpoint_the_role_may_not_use(self):
        c = self.client("cw.wm")
        for path in ["/v1/checks/../audit?from=0&limit=1", "//v1/audit?from=0&limit=1",
                     "/v1/audit/?from=0&limit=1", "/v1/%61udit?from=0&limit=1", "/%6detrics",
                     "/V1/AUDIT?from=0&limit=1", "/v1/audit;x?from=0&limit=1",
                     "/./metrics", "/v1/audit%2f?from=0&limit=1", "/metrics%00"]:
            with self.subTest(path=path):
                r = c.get(path)
                self.assertIn(r.status, (400, 403, 404), r)
                self.assertNotIn(b'"seq"', r.body)

    def test_a_path_beginning_with_two_slashes_is_no_endpoint_and_audited_as_sent(self):
        # evhttp reads //x/v1/audit as the host x and the path /v1/audit:
        # the auditor was served the audit page, and the entry named
        # /v1/audit.
        c = self.client("aud.nat")
        for target in ["//x/v1/audit?from=0&limit=1", "//v1/audit?from=0&limit=1",
                       "//localhost:8443/healthz", "//a@b/v1/audit", "//" + "y" * 3000]:
            with self.subTest(target=target[:40]):
                r = c.get(target)
                self.assertContractError(r, 404, "not_found")
                self.assertNotIn(b'"seq"', r.body)
                e = find_entry(audit_entries(export_audit(self.daemon)), r.request_id)
                self.assertIsNotNone(e)
                self.assertTrue(e["path"].startswith("//"), e)
        self.assertEqual(c.get("/v1/audit?from=0&limit=1").status, 200)

    def test_wrong_methods_are_405_with_allow(self):
        c = self.client("do.nat")
        cases = [("GET", "/v1/checks", "POST"), ("PUT", "/v1/checks", "POST"),
                 ("DELETE", "/healthz", "GET"), ("POST", "/metrics", "GET"),
                 ("PATCH", "/v1/offenders/WMP-T000001", "PUT"),
                 ("POST", "/v1/offenders/WMP-T000001", "DELETE"),
                 ("GET", "/v1/checks/chk_00000000000000000000000000/decision", "POST"),
                 ("PUT", "/v1/audit", "GET"), ("DELETE", "/v1/audit/checkpoint", "GET"),
                 ("OPTIONS", "/healthz", "GET"), ("TRACE", "/v1/checks", "POST"),
                 ("BREW", "/healthz", "GET"), ("PROPFIND", "/v1/checks", "POST"),
                 ("CONNECT", "/healthz", "GET"), ("CONNECT", "/v1/checks", "POST")]
        for method, path, allowed in cases:
            with self.subTest(request="%s %s" % (method, path)):
                r = c.request(method, path, body=b"{}" if method in ("PUT", "POST", "PATCH")
                              else None)
                self.assertContractError(r, 405, "method_not_allowed")
                allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
                self.assertIn(allowed, allow, "Allow: %r" % r.header("Allow"))
                self.assertNotIn(method, allow)

    def test_a_connect_is_answered_in_frame_and_audited_with_the_path_asked_for(self):
        # evhttp reads a CONNECT's target as host:port and frames no answer
        # to it (it expects a tunnel): the client must still find the end
        # of the 405, the connection go on, and the audit name the path.
        c = self.client("cw.wm")
        r = c.request("CONNECT", "/healthz")
        self.assertContractError(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Content-Length"), str(len(r.body)))
        self.assertEqual(c.get("/healthz").status, 200)
        e = find_entry(audit_entries(export_audit(self.daemon)), r.request_id)
        self.assertIsNotNone(e, "a CONNECT is not audited")
        self.assertEqual((e["method"], e["path"], e["status"]), ("CONNECT", "/healthz", 405))
        # A proxy's CONNECT host:port is no request this API takes.
        r2 = self.client("cw.wm").request("CONNECT", "example.org:443")
        self.assertContractError(r2, 400, "invalid_field")
        self.assertIn("not a path", r2.json()["error"]["message"])

    def test_absolute_targets_evhttp_cannot_parse_get_the_json_400(self):
        # evhttp's URI parser refuses these with its own HTML page and no
        # audit entry; guard.c asks the same parser first.
        for target in [b"http://[::1", b"https://x:99999/healthz", b"http://%zz/"]:
            with self.subTest(target=target):
                rs, closed, out = self.raw(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
                self.assertEqual(len(rs), 1, out[:300])
                self.assertContractError(rs[0], 400, "invalid_field")
                self.assertIn("not a URI", rs[0].json()["error"]["message"])
                self.assertTrue(closed)
        # and what it can parse is routed by its path
        rs, closed, out = self.raw(b"GET http://localhost/healthz HTTP/1.1\r\nHost: localhost\r\n"
                                   b"Connection: close\r\n\r\n")
        self.assertEqual([r.status for r in rs], [200], out[:300])

    def test_every_answer_has_its_own_request_id(self):
        c = self.client("cw.wm")
        rs = [c.get("/healthz"), c.get("/nope"), c.request("DELETE", "/healthz"),
              c.post("/v1/checks", b"{", ctype="application/json"),
              c.post("/v1/checks", b"x", ctype="text/plain"), c.get("/metrics"),
              c.post("/v1/checks", VALID)]
        ids = [r.request_id for r in rs]
        self.assertTrue(all(ids), ids)
        self.assertEqual(len(set(ids)), len(ids), "request ids repeat: %r" % ids)

    # -- content types and sizes --

    def test_bodies_that_are_not_json_are_415(self):
        c = self.client("cw.wm")
        for ctype in ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                      "application/jsonx", "application/x-ndjson", None]:
            with self.subTest(ctype=ctype):
                if ctype is None:
                    r = self.raw(http_request_bytes("POST", "/v1/checks", VALID, ctype=None,
                                                       close=True))[0][0]
                else:
                    r = c.post("/v1/checks", VALID, ctype=ctype)
                self.assertContractError(r, 415, "unsupported_media_type")

    def test_json_with_a_charset_parameter_is_accepted(self):
        r = self.client("cw.wm").post("/v1/checks", VALID, ctype="application/json; charset=utf-8")
        self.assertEqual(r.status, 200, r)

    def test_a_charset_is_utf_8_or_the_body_is_415(self):
        # The parsers read UTF-8 only: a body declared in another charset
        # would be read as UTF-8 all the same, and a name in Latin-1 or
        # UTF-16 matched as bytes it never meant.
        c = self.client("cw.wm")
        for ctype in ["application/json;charset=UTF-8", 'application/json; charset="utf-8"',
                      "application/json; charset=utf8", "application/json; version=1",
                      "application/json;"]:
            with self.subTest(ctype=ctype):
                self.assertEqual(c.post("/v1/checks", VALID, ctype=ctype).status, 200)
        for ctype, named in [("application/json; charset=utf-16", "utf-16"),
                             ('application/json; charset="ISO-8859-1"', "ISO-8859-1"),
                             ("application/json; version=1; charset=latin1", "latin1")]:
            with self.subTest(ctype=ctype):
                r = c.post("/v1/checks", VALID, ctype=ctype)
                self.assertContractError(r, 415, "unsupported_media_type")
                msg = r.json()["error"]["message"]
                self.assertIn("UTF-8", msg)
                self.assertIn(named, msg)
        r = self.client("reg.wm").post("/v1/offenders/_bulk", b"{}\n",
                                        ctype="application/x-ndjson; charset=utf-16")
        self.assertContractError(r, 415, "unsupported_media_type")

    def test_a_compressed_body_is_415_not_read_as_json(self):
        c = self.client("cw.wm")
        r = c.post("/v1/checks", gzip.compress(VALID), headers={"Content-Encoding": "gzip"})
        self.assertContractError(r, 415, "unsupported_media_type")
        self.assertIn("Content-Encoding 'gzip'", r.json()["error"]["message"])
        r = c.post("/v1/checks", VALID, headers={"Content-Encoding": "identity"})
        self.assertEqual(r.status, 200, r)

    def test_two_content_types_are_415(self):
        rs, closed, out = self.raw(http_request_bytes(
            "POST", "/v1/checks", VALID, extra_headers=["Content-Type: text/plain"], close=True))
        self.assertEqual(len(rs), 1, out[:300])
        self.assertContractError(rs[0], 415, "unsupported_media_type")
        self.assertIn("two Content-Type headers", rs[0].json()["error"]["message"])

    def test_a_body_over_max_body_is_413_and_readable(self):
        body = b'{"case_ref": "' + b"A" * MAX_BODY + b'"}'
        r = self.client("cw.wm").post("/v1/checks", body)
        self.assertContractError(r, 413, "payload_too_large")
        r = curl(self.daemon, "cw.wm", "POST", "/v1/checks", data=body)
        self.assertEqual(r.status, 413, r.stderr)
        self.assertEqual(r.json()["error"]["code"], "payload_too_large")

    def test_a_client_still_sending_its_body_when_the_413_comes_can_read_it(self):
        # curl sends a body under 1 MiB without asking first, and gives up
        # at the first failed send ("Send failure: Broken pipe") without
        # reading what came back.  The daemon answers 413 as soon as it
        # has the head and closes; a socket closed with the client's body
        # still arriving answers with a reset.  So the rest of the body must
        # be taken (and dropped) for a moment after the answer: here it is
        # sent after the answer has come, and must go through.
        body = b'{"case_ref": "' + b"A" * MAX_BODY + b'"}'
        head = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        try:
            s.sendall(head)
            time.sleep(0.3)  # the 413 is on its way, the socket closed behind it
            for i in range(0, len(body), 4096):
                s.sendall(body[i:i + 4096])  # BrokenPipeError / reset here without the lingering close
            out = recv_until_close(s)
        finally:
            s.close()
        rs = parse_responses(out)
        self.assertTrue(rs, out[:200])
        self.assertContractError(rs[0], 413, "payload_too_large")

    def test_a_body_just_under_max_body_is_parsed(self):
        pad = MAX_BODY - len(VALID) - 10
        body = VALID[:-1] + b"," + b'"x":"' + b"p" * (pad - 6) + b'"}'
        self.assertLessEqual(len(body), MAX_BODY)
        r = self.client("cw.wm").post("/v1/checks", body)
        self.assertNotEqual(r.status, 413, r)

    def test_a_client_that_asks_first_is_told_413_before_sending_the_body(self):
        # curl and others send "Expect: 100-continue" before a big body;
        # the answer to a declared length over max_body must be the 413,
        # not "100 Continue" (RFC 9110 10.1.1) nor silence.
        req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY * 4))
        rs, closed, out = self.raw(req)
        self.assertTrue(rs, "no answer to a declared Content-Length over max_body: %r" % out[:200])
        self.assertContractError(rs[0], 413, "payload_too_large")

    def test_a_connect_after_a_chunked_request_is_answered_in_frame(self):
        # guard.c decodes the chunked body and goes on following the
        # connection: the CONNECT behind it waits until evhttp has read up
        # to it, becomes an unknown method and is answered 405 with a
        # length, and the next request on the connection too.
        chunked = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID))
        req = (chunked + b"CONNECT /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
               b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        rs, closed, out = self.raw(req)
        self.assertEqual([r.status for r in rs], [200, 405, 200], out[:1200])
        self.assertContractError(rs[1], 405, "method_not_allowed")
        self.assertEqual(rs[1].header("Content-Length"), str(len(rs[1].body)))
        self.assertIn("GET", rs[1].header("Allow", ""))

    def test_a_connect_declaring_a_body_over_max_body_is_answered_once_and_closed(self):
        # The body is never read; were the connection kept (evhttp keeps
        # it after a CONNECT whatever the answer says), its bytes would be
        # read as the next request.  The method is wrong before the size.
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
        req = (b"CONNECT /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
               % (MAX_BODY * 4)) + smuggled
        rs, closed, out = self.raw(req)
        self.assertEqual(len(rs), 1, out[:600])
        self.assertContractError(rs[0], 405, "method_not_allowed")
        self.assertTrue(closed, "the connection stayed open after the refusal")

    # -- malformed bodies --

    def test_malformed_json_is_400_invalid_json(self):
        cases = [("truncated", VALID[:-5]), ("trailing garbage", VALID + b" x"),
                 ("not json", b"hello"), ("empty body", b""), ("a NUL byte", b'{"case_ref":"A\x00"}'),
                 ("deep nesting", b"[" * 30000 + b"]" * 30000),
                 ("single quotes", b"{'case_ref': 'A'}"), ("comment", b"/* x */ {}")]
        for name, body in cases:
            with self.subTest(case=name):
                r = self.client("cw.wm").post("/v1/checks", body)
                self.assertContractError(r, 400, "invalid_json")

    def test_json_that_is_not_an_object_is_400(self):
        for body in [b"[]", b"5", b'"text"', b"null"]:
            with self.subTest(body=body):
                r = self.client("cw.wm").post("/v1/checks", body)
                self.assertEqual(r.status, 400, r)
                self.assertIn(r.error_code, ("invalid_json", "invalid_field"))

    def test_invalid_utf8_is_400_invalid_json(self):
        cases = [("byte FF", b"\xff"), ("lone continuation byte", b"\x80"),
                 ("overlong slash", b"\xc0\xaf"), ("UTF-16 surrogate", b"\xed\xa0\x80"),
                 ("truncated sequence", b"\xe2\x82"), ("above U+10FFFF", b"\xf4\x90\x80\x80"),
                 ("escaped lone surrogate", b"\\ud800")]
        for name, bad in cases:
            with self.subTest(case=name):
                body = VALID.replace(b"Fictitious", b"Ficti" + bad + b"tious", 1)
                self.assertNotEqual(body, VALID)
                r = self.client("cw.wm").post("/v1/checks", body)
                self.assertContractError(r, 400, "invalid_json")
        body = VALID.replace(b'"case_ref"', b'"case\xffref"', 1)
        self.assertContractError(self.client("cw.wm").post("/v1/checks", body), 400,
                                 "invalid_json")

    def test_invalid_utf8_is_refused_on_every_json_endpoint(self):
        rec = {"id": "WMP-T000500", "names": [{"given": "AnaX", "family": "Quill",
                                               "kind": "primary"}],
               "managing_force": "west-mercia", "status": "active"}
        bad_rec = json.dumps(rec).encode().replace(b"AnaX", b"Ana\xc3")  # a cut sequence
        cid = self.client("cw.wm").post("/v1/checks", VALID).json()["check_id"]
        bad_decision = b'{"decision": "refer", "offender_id": "WMP-T000001", "rationale": "\xe2\x28"}'
        for who, method, path, body in [
                ("reg.wm", "PUT", "/v1/offenders/WMP-T000500", bad_rec),
                ("do.wm", "POST", "/v1/checks/%s/decision" % cid, bad_decision)]:
            with self.subTest(path=path):
                self.assertNotEqual(body.decode("utf-8", "replace").encode(), body)
                r = self.client(who).request(method, path, body=body)
                self.assertContractError(r, 400, "invalid_json")

    def test_an_escaped_nul_in_a_field_is_refused(self):
        body = VALID.replace(b"WM-HYG-1", b"WM\\u0000HYG", 1)
        r = self.client("cw.wm").post("/v1/checks", body)
        # valid JSON, but a NUL has no place in any field: refused either
        # as JSON the daemon will not take or as a bad case_ref
        self.assertEqual(r.status, 400, r)
        self.assertIn(r.error_code, ("invalid_json", "invalid_field"))
        if r.error_code == "invalid_field":
            self.assertEqual(r.error_field, "case_ref")

    # -- smuggling --

    def assertRefusedAndClosed(self, req, what):
        rs, closed, out = self.raw(req)
        self.assertTrue(rs, "%s: no answer at all (%r)" % (what, out[:200]))
        self.assertEqual(rs[0].status, 400, "%s: %r" % (what, rs[0]))
        self.assertTrue(closed, "%s: the connection was kept open" % what)
        self.assertEqual(len(rs), 1, "%s: the smuggled request was answered: %r" % (what, rs))

    def test_two_content_lengths_are_refused_and_the_connection_closed(self):
        smuggled = http_request_bytes("GET", "/healthz")
        for name, lengths in [("equal", (len(VALID), len(VALID))), ("different", (len(VALID), 5))]:
            with self.subTest(case=name):
                req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % lengths) + VALID + smuggled
                self.assertRefusedAndClosed(req, "two Content-Length (%s)" % name)

    def test_transfer_encoding_with_content_length_is_refused_and_closed(self):
        smuggled = http_request_bytes("GET", "/healthz")
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID)
        for name, te in [("chunked", b"chunked"), ("chunked, odd case", b"ChUnKeD")]:
            with self.subTest(case=name):
                req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                       b"Transfer-Encoding: %s\r\n\r\n" % (len(chunked), te)) + chunked + smuggled
                self.assertRefusedAndClosed(req, "Transfer-Encoding + Content-Length")
        # the other order: Content-Length after Transfer-Encoding
        req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: application/json\r\nContent-Length: 3\r\n\r\n") + chunked + smuggled
        self.assertRefusedAndClosed(req, "Transfer-Encoding then Content-Length")

    def test_transfer_encodings_other_than_chunked_are_refused(self):
        for te in [b"gzip", b"chunked, identity", b"identity", b"x-custom"]:
            with self.subTest(te=te):
                req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\nTransfer-Encoding: %s\r\n\r\n" % te
                       + b"%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID))
                rs, closed, out = self.raw(req)
                self.assertTrue(rs, "no answer to Transfer-Encoding: %s" % te)
                self.assertIn(rs[0].status, (400, 501), rs[0])
                self.assertTrue(closed, "connection kept open after Transfer-Encoding: %s" % te)

    def test_bad_content_lengths_are_refused(self):
        # Content-Length = 1*DIGIT (RFC 9112 6.2); anything else is a 400,
        # never a length some other parser might read differently.
        n = len(VALID)
        for cl in [b"-1", b"abc", b"0x%x" % n, b"%d %d" % (n, n), b"+%d" % n, b"%d.0" % n,
                   b" "]:
            with self.subTest(cl=cl):
                req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\nContent-Length: %s\r\n\r\n" % cl
                       + VALID)
                rs, closed, out = self.raw(req)
                if rs:
                    self.assertEqual(rs[0].status, 400, rs[0])
                else:
                    self.assertTrue(closed, "neither answered nor closed")

    def test_whitespace_before_the_colon_is_refused(self):
        # RFC 9112 5.1: a server MUST reject it with 400; a proxy that
        # reads "Transfer-Encoding : chunked" as chunked and an origin
        # that ignores it disagree on where the request ends.
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID)
        smuggled = http_request_bytes("GET", "/healthz")
        cases = [("Transfer-Encoding", b"Transfer-Encoding : chunked\r\nContent-Length: %d\r\n"
                  % len(chunked), chunked),
                 ("Content-Length", b"Content-Length : 5\r\nContent-Length: %d\r\n"
                  % len(VALID), VALID)]
        for name, headers, body in cases:
            with self.subTest(header=name):
                req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: application/json\r\n" + headers + b"\r\n" + body + smuggled)
                self.assertRefusedAndClosed(req, "%s with a space before the colon" % name)

    # -- well-formed oddities --

    def test_pipelined_requests_are_answered_in_order(self):
        req = (http_request_bytes("GET", "/healthz") + http_request_bytes("GET", "/nope")
               + http_request_bytes("POST", "/v1/checks", VALID, close=True))
        rs, closed, out = self.raw(req, timeout=tmo(10))
        self.assertEqual([r.status for r in rs], [200, 404, 200], out[:500])
        self.assertEqual(len({r.header("X-Request-Id") for r in rs}), 3)

    def test_heads_to_change_behind_a_request_are_changed_when_they_reach_the_front(self):
        # guard.c changes a head only at the front of the buffer; one that
        # arrives behind an unread request waits there (evhttp would have
        # answered a broken head or an over-long body with its own HTML
        # page, and audited nothing).
        first = http_request_bytes("POST", "/v1/checks", VALID)
        cases = [("a broken head", b"NOT A REQUEST\r\n\r\n", 400, "invalid_field"),
                 ("an unknown method", b"BREW /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
                  405, "method_not_allowed"),
                 ("a body over max_body", b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                  % (MAX_BODY * 4), 413, "payload_too_large")]
        for name, second, status, code in cases:
            with self.subTest(second=name):
                rs, closed, out = self.raw(first + second)
                self.assertEqual([r.status for r in rs], [200, status], out[:1200])
                self.assertContractError(rs[1], status, code)

    def test_a_head_that_arrives_in_pieces_is_still_guarded(self):
        # The guard holds an incomplete head at the front of the buffer
        # (frozen) and reads it again as the rest arrives; libevent will
        # not copy out of a frozen front, so the guard must thaw it to
        # look (before, it gave up at the second piece and evhttp read the
        # head itself, waiting for a body it should have refused at once).
        head = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                b"\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY * 4))
        pieces = [head[i:i + 9] for i in range(0, len(head), 9)]
        rs, closed, out = self.raw(pieces, timeout=tmo(6))
        self.assertEqual(len(rs), 1, out[:300])
        self.assertContractError(rs[0], 413, "payload_too_large")
        self.assertTrue(closed)

    def test_an_expectation_other_than_100_continue_is_ignored(self):
        # evhttp answers one with its own HTML 417 page and no audit entry;
        # RFC 9110 10.1.1 lets a server ignore it.
        req = http_request_bytes("POST", "/v1/checks", VALID, extra_headers=["Expect: x-unheard-of"],
                                 close=True)
        rs, closed, out = self.raw(req)
        self.assertEqual([r.status for r in rs], [200], out[:600])
        self.assertIn("candidates", rs[0].json())
        self.assertTrue(find_entry(audit_entries(export_audit(self.daemon)), rs[0].request_id),
                        "no audit entry for the request")

    def test_oversized_headers_are_refused_and_the_daemon_lives_on(self):
        req = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + b"f" * 200000
               + b"\r\n\r\n")
        rs, closed, out = self.raw(req)
        if rs:  # the daemon may close while the client is still sending
            self.assertContractError(rs[0], 400, "invalid_field")
        else:
            self.assertTrue(closed)
        self.assertEqual(self.client("mon.wm").get("/healthz").status, 200)

    def test_a_head_just_over_the_limit_gets_the_json_400_and_an_audit_entry(self):
        # evhttp refuses a head over 16 KiB with its own HTML page and no
        # audit entry; guard.c refuses it first, in the contract's shape.
        for name, filler in [("whole", 17000), ("at the limit's edge", 16384)]:
            with self.subTest(head=name):
                req = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + b"f" * filler
                       + b"\r\n\r\n")
                rs, closed, out = self.raw(req)
                self.assertEqual(len(rs), 1, out[:300])
                self.assertContractError(rs[0], 400, "invalid_field")
                self.assertIn("16384", rs[0].json()["error"]["message"])
                self.assertTrue(closed)
                e = find_entry(audit_entries(export_audit(self.daemon)), rs[0].request_id)
                self.assertIsNotNone(e, "the refusal is not audited")
                self.assertEqual(e["status"], 400)

    def test_a_request_line_near_the_limit_gets_the_json_400_and_an_audit_entry(self):
        # A line of 16.3 to 20.4 KB: the rewritten head kept it, was itself
        # over the limit, and evhttp answered its HTML 400, unaudited.
        for n in (16300, 16364, 17000, 20400):
            with self.subTest(line=n):
                rs, closed, out = self.raw(b"GET /" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(len(rs), 1, out[:300])
                self.assertIn(rs[0].status, (400, 404), out[:300])
                self.assertContractError(rs[0], rs[0].status,
                                         "invalid_field" if rs[0].status == 400 else "not_found")
                self.assertIsNotNone(rs[0].request_id, "no X-Request-Id")
                e = find_entry(audit_entries(export_audit(self.daemon)), rs[0].request_id)
                self.assertIsNotNone(e, "the refusal is not audited")
                self.assertEqual(e["status"], rs[0].status)

    def test_many_headers_are_refused_or_served_but_never_crash(self):
        req = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
               + b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n")
        rs, closed, out = self.raw(req)
        self.assertTrue(rs or closed)
        self.assertEqual(self.client("mon.wm").get("/healthz").status, 200)

    def test_garbage_request_lines_are_refused(self):
        for junk in [b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET /healthz HTTP/9.9\r\n\r\n",
                     b"\x00\x01\x02\x03\r\n\r\n", b"GET /healthz\r\nHost: x\r\n\r\n"]:
            with self.subTest(junk=junk[:20]):
                rs, closed, out = self.raw(junk)
                for r in rs:
                    self.assertNotEqual(r.status, 200, "garbage %r was served" % junk)
                self.assertTrue(rs or closed, "garbage %r: neither answered nor closed" % junk)
        self.assertEqual(self.client("mon.wm").get("/healthz").status, 200)

    def test_malformed_requests_get_the_contracts_error_shape(self):
        # "Every response has X-Request-Id" and "errors are always
        # {"error": ...}": also for requests evhttp itself cannot parse.
        for junk in [b"HELLO\r\n\r\n", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n"]:
            with self.subTest(junk=junk[:24]):
                rs, closed, out = self.raw(junk)
                self.assertTrue(rs, "no answer to %r" % junk)
                r = rs[0]
                self.assertEqual(r.status, 400, r)
                self.assertTrue(r.header("X-Request-Id"), "no X-Request-Id: %r" % out[:200])
                self.assertIn("application/json", r.header("Content-Type", ""), out[:200])
                # the contract has no code of its own for broken HTTP
                self.assertIn(json.loads(r.body)["error"]["code"],
                              ("invalid_json", "invalid_field"))

    def test_a_chunked_body_alone_is_either_accepted_or_refused_cleanly(self):
        req = (b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + b"%x\r\n%s\r\n0\r\n\r\n" % (len(VALID), VALID))
        rs, closed, out = self.raw(req)
        self.assertEqual(len(rs), 1, out[:300])
        self.assertIn(rs[0].status, (200, 400, 411), rs[0])



class DrippedRequests(DaemonTestCase):
    """request_timeout bounds a request's whole arrival, not only the
    silence between its bytes: a client sending a byte now and then must
    not keep a request, and a connection, for ever (disclosured.conf(5))."""
    records = fixture_records()[:2]
    daemon_conf = {"server": {"request_timeout": "1"}}

    def drip(self, data, every=0.25, limit=8.0):
        """Sends data a byte at a time, every `every` seconds, until the
        server closes or `limit` seconds pass; returns (seconds, answer)."""
        raw = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        s = tls_context("cw.wm").wrap_socket(raw, server_hostname="localhost")
        got, closed = [b""], threading.Event()

        def reader():
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    got[0] += b
            except OSError:
                pass
            closed.set()

        t0 = time.monotonic()
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            for i in range(len(data)):
                if closed.is_set() or time.monotonic() - t0 > limit:
                    break
                try:
                    s.sendall(data[i:i + 1])
                except OSError:
                    break
                time.sleep(every)
            closed.wait(max(0.1, limit - (time.monotonic() - t0)))
        finally:
            took = time.monotonic() - t0
            try:
                s.close()
            except OSError:
                pass
        self.assertTrue(closed.is_set(), "still open after %.1f s" % took)
        return took, got[0]

    def test_a_dripped_head_or_body_is_cut_off_after_request_timeout(self):
        body = json.dumps(check_body(case_ref="WM-DRIP-1")).encode()
        cases = [("head", http_request_bytes("GET", "/healthz")),
                 ("body with a length", http_request_bytes("POST", "/v1/checks", body)),
                 ("chunked body", b"POST /v1/checks HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))]
        for name, data in cases:
            with self.subTest(dripped=name):
                took, out = self.drip(data)
                # each byte comes well within the timeout, the whole never
                self.assertLess(took, 1 + tmo(3), "a dripped %s lasted %.1f s" % (name, took))
                self.assertEqual([r for r in parse_responses(out) if r.status < 400], [], out[:300])
        self.assertEqual(self.client("mon.wm").get("/healthz").status, 200)

    def test_a_dripped_tls_handshake_is_cut_off_after_request_timeout(self):
        # No certificate needed to hold a connection this way: a
        # ClientHello sent a byte at a time, each well within the timeout.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        inc, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, outgoing, server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = outgoing.read()
        self.assertGreater(len(hello), 100)
        s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=tmo(5))
        t0, closed = time.monotonic(), False
        try:
            for i in range(len(hello)):
                try:
                    s.sendall(hello[i:i + 1])
                except OSError:
                    closed = True
                    break
                s.settimeout(0.25)
                try:
                    if s.recv(4096) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
                    break
                if time.monotonic() - t0 > 1 + tmo(4):
                    break
        finally:
            took = time.monotonic() - t0
            s.close()
        self.assertTrue(closed, "a dripped handshake was still open after %.1f s" % took)
        self.assertLess(took, 1 + tmo(3))
        self.assertIn("TLS handshake was not done", self.daemon.log_text())

    def test_a_slow_but_steady_upload_outlasts_request_timeout(self):
        # Bytes that keep coming at REQUEST_MIN_RATE (4 KiB/s) or faster buy
        # their time: a 60 KB body in 3 KB pieces every 0.1 s takes about
        # 2 s, twice request_timeout, and is answered.
        body = json.dumps(check_body(case_ref="WM-SLOW-1")).encode()
        body = b"{" + b" " * (60000 - len(body)) + body[1:]
        req = http_request_bytes("POST", "/v1/checks", body, close=True)
        pieces = [req[i:i + 3000] for i in range(0, len(req), 3000)]
        t0 = time.monotonic()
        out, closed = raw_tls(self.daemon, "cw.wm", pieces, timeout=tmo(10), wait=0.1)
        self.assertGreater(time.monotonic() - t0, 1.5)
        rs = parse_responses(out)
        self.assertEqual([r.status for r in rs], [200], out[:300])

    def test_the_clock_stops_when_a_request_is_whole(self):
        # Requests on one keep-alive connection, each whole at once, spaced
        # so that together they outlast request_timeout: each is a new
        # request with a new clock, and none is cut off.
        c = self.client("cw.wm")
        for _ in range(3):
            self.assertEqual(c.post("/v1/checks", VALID).status, 200)
            time.sleep(0.6)
        self.assertEqual(c.get("/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
