#!/usr/bin/env python3
"""audit_verify.py - an independent offline verifier of a disclosured audit
export (contract.md "Audit export", docs/audit-format.md).

What it is for: checking, after each integration run, that the chain the
daemon wrote holds, with code that shares nothing with the daemon's own
verifier (lib/audit.c) so that one bug cannot hide in both.

    python3 audit_verify.py EXPORT.ndjson --key audit-public.pem [--allow-unsealed]

The format as documented: one compact JSON entry a line, seq 0,1,2...;
"prev" is the previous entry's hash (64 zeros for seq 0); "hash" is the
lower-case hex SHA-256 of the line's bytes before ',"hash":"'.  An entry of
action "checkpoint" carries {"size","head","signed_at","key_id",
"signature"}: an Ed25519 signature over

    disclosured-checkpoint-v1\\nsize=N\\nhead=HEX\\nsigned_at=TIME\\nkey_id=HEX\\n

where size is the checkpoint's own seq, head the hash of entry size-1
(its prev) and key_id the first 16 hex of the
SHA-256 of the raw 32-byte public key.  Ed25519 is checked with the openssl
command-line tool (no third-party Python packages).

What it must never do: accept a file that does not end with a checkpoint
covering every entry before it (unless allow_unsealed), or trust anything
in the file it has not recomputed.
"""

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ZERO = "0" * 64
_LINE = re.compile(rb'^(\{"seq":(0|[1-9][0-9]*),"time":"[^"\\]*","prev":"[0-9a-f]{64}",.*)'
                   rb',"hash":"([0-9a-f]{64})"\}$', re.S)
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
CHECKPOINT_PREFIX = "disclosured-checkpoint-v1"


class VerifyResult:
    def __init__(self):
        self.ok = False
        self.entries = 0
        self.checkpoints = 0
        self.sealed_size = 0
        self.first_bad_seq = -1
        self.msg = ""

    def __repr__(self):
        return "<VerifyResult ok=%s entries=%d checkpoints=%d sealed=%d bad=%d %s>" % (
            self.ok, self.entries, self.checkpoints, self.sealed_size, self.first_bad_seq, self.msg)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a member name is repeated")
    return dict(pairs)


def raw_public_key(pub_pem):
    """The 32 raw bytes of an Ed25519 public key in PEM (SubjectPublicKeyInfo)."""
    text = Path(pub_pem).read_text()
    b64 = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
    der = base64.b64decode(b64)
    # SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (0 unused) 32 bytes }
    prefix = bytes.fromhex("302a300506032b6570032100")
    if len(der) != 44 or not der.startswith(prefix):
        raise ValueError("%s: not an Ed25519 public key" % pub_pem)
    return der[12:]


def key_id(pub_pem):
    return hashlib.sha256(raw_public_key(pub_pem)).hexdigest()[:16]


def decode_signature(s):
    if not isinstance(s, str):
        raise ValueError("signature is not a string")
    if re.fullmatch(r"[0-9a-fA-F]{128}", s):
        return bytes.fromhex(s)
    t = s.replace("-", "+").replace("_", "/")
    sig = base64.b64decode(t + "=" * (-len(t) % 4), validate=True)
    if len(sig) != 64:
        raise ValueError("signature is %d bytes, Ed25519 signatures are 64" % len(sig))
    return sig


def checkpoint_message(cp):
    return ("%s\nsize=%d\nhead=%s\nsigned_at=%s\nkey_id=%s\n" % (
        CHECKPOINT_PREFIX, cp["size"], cp["head"], cp["signed_at"], cp["key_id"])).encode()


def ed25519_verify(pub_pem, message, signature):
    with tempfile.TemporaryDirectory(prefix="audit-verify-") as d:
        m = Path(d) / "msg"
        s = Path(d) / "sig"
        m.write_bytes(message)
        s.write_bytes(signature)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub_pem),
                            "-rawin", "-in", str(m), "-sigfile", str(s)],
                           capture_output=True, timeout=30)
        return r.returncode == 0


def verify_lines(lines, pub_pem, allow_unsealed=False, first_seq=0):
    """Verifies the lines (bytes, without newlines) of an export that starts
    at first_seq (0 for a complete export).  Never raises on bad input."""
    res = VerifyResult()
    try:
        kid = key_id(pub_pem)
    except (OSError, ValueError) as e:
        res.msg = "public key: %s" % e
        return res
    hashes = {}  # seq -> hash, for checkpoints' heads
    prev = None
    expect = first_seq
    last_cp_cover = None  # seq after the last good checkpoint's coverage

    def bad(seq, why):
        res.first_bad_seq = seq
        res.msg = "seq %d: %s" % (seq, why)
        return res

    for pos, line in enumerate(lines):
        if isinstance(line, str):
            line = line.encode("utf-8")
        line = line.rstrip(b"\n")
        m = _LINE.match(line)
        if not m:
            return bad(expect, "line %d does not begin {\"seq\":N,\"time\":..,\"prev\":..,"
                               " and end ,\"hash\":\"<64 hex>\"}" % (pos + 1))
        try:
            e = json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as err:
            return bad(expect, "line %d is not JSON in UTF-8: %s" % (pos + 1, err))
        if not isinstance(e, dict):
            return bad(expect, "line %d is not a JSON object" % (pos + 1))
        seq = e.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return bad(expect, "no integer seq")
        if seq != expect:
            return bad(expect, "found seq %d where %d was due (removed, reordered, duplicated "
                               "or inserted line)" % (seq, expect))
        got = hashlib.sha256(m.group(1)).hexdigest()
        if got != m.group(3).decode() or e.get("hash") != got:
            return bad(seq, "hash does not match the entry's bytes")
        p = e.get("prev")
        if not isinstance(p, str) or not _HEX64.match(p):
            return bad(seq, "prev is not 64 lower-case hex")
        if prev is None:
            if seq == 0 and p != ZERO:
                return bad(seq, "the first entry's prev is not 64 zeros")
        elif p != prev:
            return bad(seq, "prev does not link to the previous entry's hash")
        if not isinstance(e.get("time"), str) or not _TIME.match(e["time"]):
            return bad(seq, "time is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        if not isinstance(e.get("action"), str):
            return bad(seq, "no action")
        if e["action"] == "checkpoint":
            cp = e.get("checkpoint")
            if not isinstance(cp, dict):
                return bad(seq, "checkpoint entry without a checkpoint object")
            size = cp.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size != seq:
                return bad(seq, "checkpoint size %r is not the number of entries before it (%d)"
                           % (size, seq))
            head = cp.get("head")
            want = ZERO if size == 0 else hashes.get(size - 1)
            if want is None:
                return bad(seq, "checkpoint covers entry %d, which this export does not hold"
                           % (size - 1))
            if head != want:
                return bad(seq, "checkpoint head does not match the hash of entry %d" % (size - 1))
            if cp.get("key_id") != kid:
                return bad(seq, "checkpoint key_id %r is not the given key's (%s)"
                           % (cp.get("key_id"), kid))
            if cp.get("algorithm", "ed25519") != "ed25519":
                return bad(seq, "checkpoint algorithm %r is not ed25519" % (cp.get("algorithm"),))
            if not isinstance(cp.get("signed_at"), str):
                return bad(seq, "checkpoint without signed_at")
            try:
                sig = decode_signature(cp.get("signature"))
            except (ValueError, TypeError) as err:
                return bad(seq, "checkpoint signature unreadable: %s" % err)
            if not ed25519_verify(pub_pem, checkpoint_message(cp), sig):
                return bad(seq, "checkpoint signature does not verify")
            res.checkpoints += 1
            last_cp_cover = seq
            res.sealed_size = size
        hashes[seq] = got
        prev = got
        expect = seq + 1
        res.entries += 1

    if res.entries == 0:
        res.msg = "empty export"
        res.first_bad_seq = first_seq
        return res
    last = expect - 1
    if last_cp_cover != last and not allow_unsealed:
        res.first_bad_seq = (last_cp_cover + 1) if last_cp_cover is not None else first_seq
        res.msg = ("the export does not end with a checkpoint covering all its entries "
                   "(entries after seq %s are unsealed)" % last_cp_cover)
        return res
    res.ok = True
    res.msg = "%d entries, %d checkpoints, sealed over %d" % (res.entries, res.checkpoints,
                                                             res.sealed_size)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export")
    ap.add_argument("--key", required=True, help="Ed25519 public key (PEM)")
    ap.add_argument("--allow-unsealed", action="store_true")
    ap.add_argument("--from", dest="first_seq", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        data = Path(a.export).read_bytes()
    except OSError as e:
        print("audit_verify: %s" % e, file=sys.stderr)
        return 1
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    res = verify_lines(lines, a.key, a.allow_unsealed, a.first_seq)
    print(("ok: " if res.ok else "FAILED: ") + res.msg)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
