"""test_openapi.py - the daemon's real answers against docs/openapi.yaml.

Every request here goes to the real daemon over mutual TLS; every answer
must (1) carry a status the document lists for that operation, (2) carry
X-Request-Id, and (3) have a body that validates against the schema the
document gives for that operation, status and media type.  NDJSON bodies
(the audit export) are validated line by line.

There is no jsonschema package (PyPI is out of reach), so this file holds a
small validator for the subset of JSON Schema the document uses: $ref,
type (one or a list), const, enum, required, properties,
additionalProperties, items, minItems/maxItems, minLength/maxLength,
pattern, minimum/maximum, oneOf, anyOf.  It is tested here too, on a table
of cases, so a validator that accepts everything cannot pass.

YAML: PyYAML (Debian python3-yaml) when installed; otherwise a loader for
the plain block style the document is written in (checked against PyYAML
when both are there).
"""

import json
import re
import unittest
from pathlib import Path

from harness import (FORCE_A, DaemonTestCase, check_body, fixture_records)

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


# --------------------------------------------------------------------------
# A loader for the YAML the document uses (block mappings and sequences,
# flow sequences of scalars, quoted and plain scalars, literal blocks).
# --------------------------------------------------------------------------

class YamlSubsetError(ValueError):
    pass


def _scalar(text, lineno):
    t = text.strip()
    if t.startswith("'"):
        if not t.endswith("'") or len(t) < 2:
            raise YamlSubsetError("line %d: unterminated quoted scalar" % lineno)
        return t[1:-1].replace("''", "'")
    if t.startswith('"'):
        if not t.endswith('"') or len(t) < 2:
            raise YamlSubsetError("line %d: unterminated quoted scalar" % lineno)
        return json.loads(t)
    if t.startswith("["):
        if not t.endswith("]"):
            raise YamlSubsetError("line %d: flow sequence not closed on its line" % lineno)
        inner = t[1:-1].strip()
        return [] if not inner else [_scalar(x, lineno) for x in _split_flow(inner)]
    if t in ("null", "~", ""):
        return None
    if t == "true":
        return True
    if t == "false":
        return False
    if re.fullmatch(r"-?[0-9]+", t):
        return int(t)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", t):
        return float(t)
    return t


def _split_flow(s):
    out, cur, quote = [], "", None
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur += ch
        elif ch == ",":
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _key_value(text, lineno):
    """'key: rest' -> (key, rest) or None if text is not a mapping entry."""
    if text.startswith(("'", '"')):
        q = text[0]
        end = text.find(q, 1)
        while q == "'" and end != -1 and text[end + 1:end + 2] == "'":
            end = text.find(q, end + 2)
        if end == -1 or text[end + 1:end + 2] != ":":
            return None
        return _scalar(text[:end + 1], lineno), text[end + 2:].strip()
    m = re.match(r"([^\s:'\"\[\]{},#][^:]*?):(\s|$)", text)
    if not m:
        return None
    return m.group(1), text[m.end():].strip()


def yaml_subset_load(text):
    raw = text.split("\n")
    lines = []  # (lineno, indent, content) of meaningful lines; literal blocks kept raw
    i = 0
    while i < len(raw):
        line = _strip_comment(raw[i]) if not raw[i].lstrip().startswith("#") else ""
        if line.strip():
            lines.append((i + 1, len(line) - len(line.lstrip(" ")), line.strip(), i))
        i += 1
    pos = 0

    def literal(start_index, parent_indent):
        # the block is every following raw line more indented than the parent
        # (or blank), with the first line's indentation removed
        body, j, ind = [], start_index + 1, None
        while j < len(raw):
            r = raw[j]
            if r.strip() == "":
                body.append("")
                j += 1
                continue
            n = len(r) - len(r.lstrip(" "))
            if n <= parent_indent:
                break
            if ind is None:
                ind = n
            body.append(r[ind:])
            j += 1
        while body and body[-1] == "":
            body.pop()
        return "\n".join(body) + "\n", j

    def skip_to(raw_index):
        nonlocal pos
        while pos < len(lines) and lines[pos][3] < raw_index:
            pos += 1

    def value_after(rest, lineno, indent, raw_index):
        """The value of 'key: rest' at indent."""
        if rest in ("|", "|-", "|+"):
            s, nxt = literal(raw_index, indent)
            skip_to(nxt)
            return s if rest != "|-" else s.rstrip("\n")
        if rest == "":
            if pos < len(lines) and lines[pos][1] > indent:
                return block(lines[pos][1])
            if pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("- "):
                return block(indent)
            return None
        return _scalar(rest, lineno)

    def block(indent):
        nonlocal pos
        lineno, ind, content, _ = lines[pos]
        if content.startswith("- ") or content == "-":
            out = []
            while pos < len(lines) and lines[pos][1] == indent and \
                    (lines[pos][2].startswith("- ") or lines[pos][2] == "-"):
                lineno, ind, content, ri = lines[pos]
                item = content[2:].strip() if content != "-" else ""
                kv = _key_value(item, lineno) if item else None
                if kv is not None:
                    # a mapping whose first key sits after "- "
                    sub_indent = indent + 2
                    lines[pos] = (lineno, sub_indent, item, ri)
                    out.append(block(sub_indent))
                else:
                    pos += 1
                    if item == "":
                        out.append(block(lines[pos][1]) if pos < len(lines)
                                   and lines[pos][1] > indent else None)
                    else:
                        out.append(_scalar(item, lineno))
            return out
        out = {}
        while pos < len(lines) and lines[pos][1] == indent:
            lineno, ind, content, ri = lines[pos]
            if content.startswith("- "):
                break
            kv = _key_value(content, lineno)
            if kv is None:
                raise YamlSubsetError("line %d: expected 'key: value': %r" % (lineno, content))
            key, rest = kv
            pos += 1
            if key in out:
                raise YamlSubsetError("line %d: duplicate key %r" % (lineno, key))
            out[key] = value_after(rest, lineno, indent, ri)
        if pos < len(lines) and lines[pos][1] > indent:
            raise YamlSubsetError("line %d: unexpected indentation" % lines[pos][0])
        return out

    if not lines:
        return None
    doc = block(lines[0][1])
    if pos != len(lines):
        raise YamlSubsetError("line %d: not understood" % lines[pos][0])
    return doc


def load_spec():
    text = SPEC_PATH.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        return yaml_subset_load(text)
    return yaml.safe_load(text)


# --------------------------------------------------------------------------
# The JSON Schema subset
# --------------------------------------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_KNOWN = {"$ref", "type", "const", "enum", "required", "properties", "additionalProperties",
          "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum",
          "maximum", "oneOf", "anyOf", "format", "description", "example", "default",
          "summary", "title"}


class Validator:
    def __init__(self, spec):
        self.spec = spec

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("only local $ref are supported: %s" % ref)
        node = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, value, schema, where="$"):
        """A list of 'where: what' strings; empty if value is valid."""
        out = []
        unknown = set(schema) - _KNOWN
        if unknown:
            raise ValueError("%s: schema keywords this validator does not know: %s"
                             % (where, sorted(unknown)))
        if "$ref" in schema:
            out += self.errors(value, self.resolve(schema["$ref"]), where)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_TYPES[t](value) for t in types):
                return out + ["%s: %s is not of type %s" % (where, _short(value), "/".join(types))]
        if "const" in schema and value != schema["const"]:
            out.append("%s: %s is not %r" % (where, _short(value), schema["const"]))
        if "enum" in schema and value not in schema["enum"]:
            out.append("%s: %s is not one of %s" % (where, _short(value), schema["enum"]))
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append("%s: shorter than %d" % (where, schema["minLength"]))
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append("%s: longer than %d" % (where, schema["maxLength"]))
            if "pattern" in schema and not re.search(schema["pattern"], value):
                out.append("%s: %s does not match %s" % (where, _short(value), schema["pattern"]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                out.append("%s: %s is below %s" % (where, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                out.append("%s: %s is above %s" % (where, value, schema["maximum"]))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append("%s: fewer than %d items" % (where, schema["minItems"]))
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                out.append("%s: more than %d items" % (where, schema["maxItems"]))
            if "items" in schema:
                for i, v in enumerate(value):
                    out += self.errors(v, schema["items"], "%s[%d]" % (where, i))
        if isinstance(value, dict):
            for k in schema.get("required", []):
                if k not in value:
                    out.append("%s: required property %r is missing" % (where, k))
            props = schema.get("properties", {})
            for k, v in value.items():
                if k in props:
                    out += self.errors(v, props[k], "%s.%s" % (where, k))
                elif schema.get("additionalProperties") is False:
                    out.append("%s: property %r is not allowed" % (where, k))
                elif isinstance(schema.get("additionalProperties"), dict):
                    out += self.errors(v, schema["additionalProperties"], "%s.%s" % (where, k))
        if "oneOf" in schema:
            ok = [s for s in schema["oneOf"] if not self.errors(value, s, where)]
            if len(ok) != 1:
                out.append("%s: %s matches %d of the oneOf alternatives, not exactly one"
                           % (where, _short(value), len(ok)))
        if "anyOf" in schema:
            if all(self.errors(value, s, where) for s in schema["anyOf"]):
                out.append("%s: %s matches none of the anyOf alternatives" % (where, _short(value)))
        return out


def _short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 60 else s[:57] + "..."


def _template_match(template, path):
    rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(rx, path) is not None


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

SPEC = load_spec()

# Every endpoint of contract.md, which the document must describe.
CONTRACT_OPERATIONS = [
    ("post", "/v1/checks"), ("get", "/v1/checks/{check_id}"),
    ("post", "/v1/checks/{check_id}/decision"), ("get", "/v1/offenders/{id}"),
    ("put", "/v1/offenders/{id}"), ("delete", "/v1/offenders/{id}"),
    ("post", "/v1/offenders/_bulk"), ("get", "/v1/audit"), ("get", "/v1/audit/checkpoint"),
    ("get", "/healthz"), ("get", "/metrics"),
]
CONTRACT_ERROR_CODES = ["invalid_json", "invalid_field", "forbidden", "not_found",
                        "method_not_allowed", "conflict", "payload_too_large",
                        "unsupported_media_type", "too_many_requests", "unavailable", "internal"]


class TheDocument(unittest.TestCase):
    """The document itself: complete against the contract, every $ref
    resolves, and the validator is one that really rejects."""

    def test_every_contract_endpoint_is_described(self):
        for method, path in CONTRACT_OPERATIONS:
            with self.subTest(endpoint="%s %s" % (method.upper(), path)):
                self.assertIn(path, SPEC["paths"])
                self.assertIn(method, SPEC["paths"][path])

    def test_every_contract_error_code_is_in_the_error_schema(self):
        codes = SPEC["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
            "code"]["enum"]
        self.assertEqual(sorted(codes), sorted(CONTRACT_ERROR_CODES))

    def test_every_reference_resolves(self):
        v = Validator(SPEC)
        refs = []

        def walk(node):
            if isinstance(node, dict):
                for k, x in node.items():
                    if k == "$ref":
                        refs.append(x)
                    else:
                        walk(x)
            elif isinstance(node, list):
                for x in node:
                    walk(x)
        walk(SPEC)
        self.assertGreater(len(refs), 50)
        for r in sorted(set(refs)):
            with self.subTest(ref=r):
                self.assertIsInstance(v.resolve(r), dict)

    def test_the_fallback_yaml_loader_reads_the_document_as_pyyaml_does(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML (python3-yaml) not installed: nothing to compare with")
        text = SPEC_PATH.read_text(encoding="utf-8")
        self.assertEqual(yaml_subset_load(text), yaml.safe_load(text))

    def test_the_validator_rejects_what_it_should(self):
        v = Validator(SPEC)
        s = {"$ref": "#/components/schemas/CheckResponse"}
        good = {"check_id": "chk_01ABC", "outcome": "no_match", "candidates": [],
                "more_candidates": False, "audit": {"seq": 3, "hash": "a" * 64}}
        self.assertEqual(v.errors(good, s), [])
        cases = [
            ("a required property missing", {k: x for k, x in good.items() if k != "audit"},
             "required property 'audit'"),
            ("a value outside its enum", dict(good, outcome="maybe"), "is not one of"),
            ("a string where a boolean belongs", dict(good, more_candidates="no"),
             "is not of type boolean"),
            ("a string where an integer belongs", dict(good, audit={"seq": "3", "hash": "a" * 64}),
             "is not of type integer"),
            ("a hash that is not 64 hex", dict(good, audit={"seq": 3, "hash": "XYZ"}),
             "does not match"),
            ("a negative sequence number", dict(good, audit={"seq": -1, "hash": "a" * 64}),
             "is below"),
            ("a candidate without its band",
             dict(good, candidates=[{"offender_id": "A-1", "score": 0.5,
                                     "managing_force": FORCE_A, "summary": {}}]),
             "required property 'band'"),
            ("eleven candidates", dict(good, candidates=[{
                "offender_id": "A-1", "band": "match", "score": 0.9,
                "managing_force": FORCE_A, "summary": {}}] * 11), "more than 10 items"),
            ("a boolean where a number belongs",
             dict(good, candidates=[{"offender_id": "A-1", "band": "match", "score": True,
                                     "managing_force": FORCE_A, "summary": {}}]),
             "is not of type number"),
            ("a date of birth that is neither a date nor null",
             {"names": [{"family": "Q"}], "dob": 1970}, "anyOf"),
            ("a date of birth known in part with a month 13",
             {"names": [{"family": "Q"}], "dob": "1970-13"}, "anyOf"),
        ]
        for name, value, want in cases:
            with self.subTest(case=name):
                schema = s if not name.startswith("a date of birth") else \
                    {"$ref": "#/components/schemas/Subject"}
                errs = v.errors(value, schema)
                self.assertTrue(errs, "the validator accepted %s" % name)
                self.assertTrue(any(want in e for e in errs), errs)


class Conformance:
    """Sends requests to the class's daemon and validates every answer
    against the document (mixed into DaemonTestCase classes)."""

    validator = Validator(SPEC)

    def operation(self, method, path):
        for template, item in SPEC["paths"].items():
            if _template_match(template, path.split("?")[0]) and method.lower() in item:
                # a literal segment beats a template ("/v1/offenders/_bulk")
                if "{" in template and path.split("?")[0] in SPEC["paths"]:
                    continue
                return template, item[method.lower()]
        return None, None

    def conforms(self, principal, method, path, body=None, ctype="application/json"):
        """Sends the request, validates the answer, returns it."""
        c = self.client(principal)
        r = c.request(method, path, body=body, ctype=ctype)
        self.assertTrue(r.request_id, "%s %s: no X-Request-Id" % (method, path))
        template, op = self.operation(method, path)
        got_type = (r.header("Content-Type") or "").split(";")[0].strip()
        if op is None:
            # not an operation of the document: an unknown path (404), or a
            # method a known path does not take (405 with Allow)
            known = any(_template_match(t, path.split("?")[0]) for t in SPEC["paths"])
            self.assertEqual(r.status, 405 if known else 404, "%s %s: %r" % (method, path, r))
            if known:
                self.assertTrue(r.header("Allow"), "405 without an Allow header")
            schema = {"$ref": "#/components/schemas/Error"}
            self.assertEqual(got_type, "application/json", "%s %s: %r" % (method, path, r))
            errs = self.validator.errors(r.json(), schema)
            self.assertEqual(errs, [], "%s %s -> %d" % (method, path, r.status))
            return r
        responses = op["responses"]
        self.assertIn(str(r.status), responses, "%s %s answered %d, which docs/openapi.yaml does "
                      "not list for %s %s: %r" % (method, path, r.status, method.upper(),
                                                  template, r))
        resp = responses[str(r.status)]
        if "$ref" in resp:
            resp = self.validator.resolve(resp["$ref"])
        content = resp.get("content", {})
        self.assertIn(got_type, content, "%s %s -> %d: media type %r, the document says %s"
                      % (method, path, r.status, got_type, sorted(content)))
        schema = content[got_type]["schema"]
        if got_type == "application/json":
            errs = self.validator.errors(r.json(), schema)
            self.assertEqual(errs, [], "%s %s -> %d: the answer does not validate against "
                             "docs/openapi.yaml" % (method, path, r.status))
        elif got_type == "application/x-ndjson" and template == "/v1/audit":
            entry = {"$ref": "#/components/schemas/AuditEntry"}
            lines = [json.loads(l) for l in r.body.split(b"\n") if l.strip()]
            self.assertTrue(lines)
            for e in lines:
                errs = self.validator.errors(e, entry, "$[seq %s]" % e.get("seq"))
                self.assertEqual(errs, [], "an audit entry does not validate")
        else:
            self.assertIsInstance(r.body, bytes)
        if r.status == 405:
            self.assertTrue(r.header("Allow"), "405 without an Allow header")
        return r


class RealAnswers(Conformance, DaemonTestCase):
    """The running daemon's answers, each validated against the document."""

    records = fixture_records()

    def test_health_and_metrics(self):
        self.conforms("mon.wm", "GET", "/healthz")
        r = self.conforms("mon.wm", "GET", "/metrics")
        self.assertIn(b"disclosured_", r.body)
        self.conforms("cw.wm", "GET", "/metrics")  # 403 for a case worker

    def test_a_check_its_reading_decision_and_the_full_record(self):
        r = self.conforms("do.wm", "POST", "/v1/checks", check_body(case_ref="WM-OAS-0001"))
        self.assertEqual(r.status, 200, r)
        j = r.json()
        ids = [c["offender_id"] for c in j["candidates"]]
        self.assertIn("WMP-T000001", ids)
        cid = j["check_id"]
        self.conforms("do.wm", "GET", "/v1/checks/" + cid)
        self.conforms("aud.nat", "GET", "/v1/checks/" + cid)
        self.conforms("cw.met", "GET", "/v1/checks/" + cid)  # 403: another force's
        self.conforms("do.wm", "GET", "/v1/checks/chk_00000000000000000000000000")  # 404
        r = self.conforms("do.wm", "GET", "/v1/offenders/WMP-T000001?check_id=" + cid)
        self.assertEqual(r.status, 200, r)
        decision = {"decision": "disclose", "offender_id": "WMP-T000001",
                    "recipient": "Fictitious applicant, in person",
                    "rationale": "Fictitious risk assessment"}
        r = self.conforms("do.wm", "POST", "/v1/checks/%s/decision" % cid, decision)
        self.assertEqual(r.status, 200, r)
        r = self.conforms("do.wm", "POST", "/v1/checks/%s/decision" % cid, decision)
        self.assertEqual(r.status, 409, r)
        r = self.conforms("do.wm", "GET", "/v1/checks/" + cid)
        self.assertEqual(r.json()["decision"]["decision"], "disclose")
        # A date of birth known in part, as sent and as stored.
        r = self.conforms("do.wm", "POST", "/v1/checks", check_body(case_ref="WM-OAS-0002", dob="1971-04"))
        self.assertEqual(r.status, 200, r)
        self.conforms("do.wm", "GET", "/v1/checks/" + r.json()["check_id"])

    def test_no_match_and_the_check_errors(self):
        r = self.conforms("cw.wm", "POST", "/v1/checks",
                          check_body(given="Xanthippe", family="Qwyzzlethorpe-Vmbrk",
                                     dob="1903-02-01"))
        self.assertEqual(r.json()["outcome"], "no_match")
        r = self.conforms("cw.wm", "POST", "/v1/checks", check_body(dob="1970-13-45"))
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_field"))
        r = self.conforms("cw.wm", "POST", "/v1/checks", b"{not json")
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_json"))
        r = self.conforms("cw.wm", "POST", "/v1/checks", b"case_ref=1", ctype="text/plain")
        self.assertEqual(r.status, 415, r)
        r = self.conforms("mon.wm", "POST", "/v1/checks", check_body())
        self.assertEqual(r.status, 403, r)
        too_big = int(self.daemon.conf["server"]["max_body"]) + 1024
        r = self.conforms("cw.wm", "POST", "/v1/checks", check_body(postcode="Z" * too_big))
        self.assertEqual(r.status, 413, r)
        r = self.conforms("cw.wm", "DELETE", "/v1/checks")
        self.assertEqual(r.status, 405, r)
        r = self.conforms("cw.wm", "GET", "/v1/nowhere")
        self.assertEqual(r.status, 404, r)

    def test_records_put_delete_and_bulk(self):
        rec = {"id": "WMP-OAS0001",
               "names": [{"given": "Perpetua", "family": "Oddwhistle", "kind": "primary"}],
               "dob": "1966-06-06", "managing_force": FORCE_A, "status": "active"}
        r = self.conforms("reg.wm", "PUT", "/v1/offenders/WMP-OAS0001", rec)
        self.assertEqual(r.status, 201, r)
        r = self.conforms("reg.wm", "PUT", "/v1/offenders/WMP-OAS0001", rec)
        self.assertEqual(r.status, 200, r)
        r = self.conforms("reg.wm", "PUT", "/v1/offenders/WMP-OTHER", rec)
        self.assertEqual(r.status, 400, r)
        r = self.conforms("reg.wm", "DELETE", "/v1/offenders/WMP-OAS0001")
        self.assertEqual(r.status, 200, r)
        r = self.conforms("reg.wm", "DELETE", "/v1/offenders/WMP-OAS0001")
        self.assertEqual(r.status, 404, r)
        lines = [json.dumps(dict(rec, id="WMP-OAS%04d" % i)).encode() for i in range(2, 6)]
        lines.insert(2, b'{"id": "WMP-OASBAD", "names": []}')
        r = self.conforms("reg.wm", "POST", "/v1/offenders/_bulk", b"\n".join(lines) + b"\n",
                          ctype="application/x-ndjson")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["line"] for x in r.json()["rejected"]], [3])
        r = self.conforms("cw.wm", "PUT", "/v1/offenders/WMP-OAS0001", rec)
        self.assertEqual(r.status, 403, r)

    def test_the_audit_export_and_checkpoint(self):
        self.conforms("cw.wm", "GET", "/healthz")
        r = self.conforms("aud.nat", "GET", "/v1/audit?from=0&limit=10000")
        self.assertEqual(r.status, 200, r)
        last = json.loads([l for l in r.body.split(b"\n") if l.strip()][-1])
        self.assertEqual(last["action"], "checkpoint", "the export does not end sealed")
        r = self.conforms("cw.wm", "GET", "/v1/audit/checkpoint")
        self.assertEqual(r.json()["action"], "checkpoint")
        r = self.conforms("aud.nat", "GET", "/v1/audit?from=0&limit=0")
        self.assertEqual(r.status, 400, r)
        self.conforms("cw.wm", "GET", "/v1/audit?from=0&limit=10")  # 403


class RateLimitedAnswers(Conformance, DaemonTestCase):
    """429 too_many_requests, which needs a daemon with a rate limit."""

    daemon_conf = {"server": {"rate_limit": "2"}}

    def test_a_flooding_principal_gets_429_in_the_documented_shape(self):
        statuses = []
        for _ in range(20):
            r = self.conforms("cw.wm", "GET", "/v1/checks/chk_00000000000000000000000000")
            statuses.append(r.status)
            if r.status == 429:
                self.assertEqual(r.json()["error"]["code"], "too_many_requests")
                break
        self.assertIn(429, statuses, "20 requests at once never met the rate limit of 2/s")


if __name__ == "__main__":
    unittest.main()
