"""test_audit_tail.py - what the daemon checks, and says, of the stored
audit log it is about to extend (docs/audit-format.md, "daemon.start").

Whoever can write the store can change the entries that no checkpoint
has sealed yet, or rewrite older ones and remove the checkpoints after
them: only a seal or a receipt that has left the host proves otherwise.
The daemon cannot undo that, but it can refuse to extend a chain that
does not hold, or a checkpoint its own key did not sign, and it says in
daemon.start whether the last run left the log as a clean stop does
(daemon.stop and its checkpoint) and how many entries were unsealed.

The store is altered here as such a person would, with the LMDB tools
(mdb_dump, mdb_drop, mdb_load) on the stopped daemon's store.
"""

import hashlib
import json
import subprocess
import unittest

import audit_verify
from harness import (Daemon, audit_entries, check_body, export_audit, fixture_records,
                     load_records, pki, tmo)


def dump_audit(store):
    """{seq: line bytes} of the store's audit database."""
    out = subprocess.run(["mdb_dump", "-s", "audit", str(store)], check=True,
                         capture_output=True, timeout=tmo(60)).stdout.decode()
    body = out.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].split("\n")
    pairs = [line.strip() for line in body if line.startswith(" ")]
    return {int(pairs[i], 16): bytes.fromhex(pairs[i + 1]) for i in range(0, len(pairs), 2)}


def load_audit(store, lines):
    """Writes {seq: line bytes} into the audit database, over the lines
    of those seqs."""
    text = ["VERSION=3", "format=bytevalue", "database=audit", "type=btree", "HEADER=END"]
    for seq in sorted(lines):
        text += [" " + seq.to_bytes(8, "big").hex(), " " + lines[seq].hex()]
    text.append("DATA=END")
    subprocess.run(["mdb_load", "-s", "audit", str(store)], input="\n".join(text).encode() + b"\n",
                   check=True, timeout=tmo(60))


def rehash(line, prev=None):
    """The line with prev replaced (if given) and its hash recomputed:
    what a forger without the key can do."""
    obj = json.loads(line)
    if prev is not None:
        obj["prev"] = prev
    obj.pop("hash")
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode()[:-1]
    h = hashlib.sha256(body).hexdigest()  # of the bytes before ,"hash":"
    return body + (',"hash":"%s"}' % h).encode(), h


def starts(d):
    return [e for e in audit_entries(export_audit(d)) if e["action"] == "daemon.start"]


class TheLogsEnd(unittest.TestCase):

    def refused(self, d):
        """The daemon must refuse to start (exit 1); returns its log."""
        d.start(wait=False)
        try:
            rc = d.proc.wait(tmo(20))
        except subprocess.TimeoutExpired:
            rc = None
        d._forget()
        self.assertEqual(rc, 1, "the daemon started on an altered log:\n" + d.log_tail())
        return d.log_text()

    def test_daemon_start_names_its_key_and_how_the_last_run_ended(self):
        d = Daemon("tail-clean").start()
        try:
            load_records(d, fixture_records())
            first = starts(d)[0]
            self.assertEqual(first["previous_stop"], "none")
            self.assertEqual(first["key_id"], audit_verify.key_id(pki().audit_pub))
            d.stop()
            d.start()
            entries = audit_entries(export_audit(d))
            second = [e for e in entries if e["action"] == "daemon.start"][1]
            self.assertEqual(second["previous_stop"], "clean")
            self.assertEqual(second["unsealed"], 0)
            before = entries[second["seq"] - 1]
            self.assertEqual(before["action"], "checkpoint")
            self.assertEqual(entries[second["seq"] - 2]["action"], "daemon.stop")
            self.assertEqual(second["sealed_through"], second["seq"] - 2)
            self.assertNotIn("sealed_by_key_id", second)
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_a_kill_is_said_with_the_entries_it_left_unsealed(self):
        d = Daemon("tail-kill").start()
        try:
            for i in range(5):
                r = d.client("cw.wm").post("/v1/checks", check_body(case_ref="TAIL-%d" % i))
                self.assertEqual(r.status, 200, r)
            d.kill9()
            d.start()
            entries = audit_entries(export_audit(d))
            start = [e for e in entries if e["action"] == "daemon.start"][1]
            cps = [e["seq"] for e in entries[:start["seq"]] if e["action"] == "checkpoint"]
            self.assertEqual(start["previous_stop"], "unclean")
            self.assertEqual(start["unsealed"], start["seq"] - 1 - cps[-1] if cps else start["seq"])
            self.assertGreaterEqual(start["unsealed"], 5)
            self.assertIn("daemon.start records it", d.log_text())
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_an_unsealed_entry_changed_is_refused(self):
        d = Daemon("tail-edit").start()
        try:
            r = d.client("cw.wm").post("/v1/checks", check_body(
                case_ref="TAIL-EDIT", justification="Fictitious: my neighbour, just curious"))
            seq = r.json()["audit"]["seq"]
            r = d.client("cw.wm").post("/v1/checks", check_body(case_ref="TAIL-AFTER"))
            self.assertEqual(r.json()["audit"]["seq"], seq + 1)
            d.kill9()
            store = d.dir / "store"
            lines = dump_audit(store)
            # The bytes changed, the hash left: the line no longer hashes.
            edited = lines[seq].replace(b"my neighbour, just curious", b"safeguarding referral  ")
            self.assertNotEqual(edited, lines[seq])
            load_audit(store, {seq: edited})
            log = self.refused(d)
            self.assertIn("stored entry %d does not hash to its own hash" % seq, log)
            # Re-hashed: it no longer links to the entry after it.
            edited, _ = rehash(edited)
            load_audit(store, {seq: edited})
            log = self.refused(d)
            self.assertIn("stored entry %d does not link to the entry before it" % (seq + 1), log)
            # Put back, the daemon starts and the log verifies.
            load_audit(store, {seq: lines[seq]})
            d.start()
            audit_verify.verify_lines(export_audit(d), pki().audit_pub)
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)

    def test_a_checkpoint_its_key_did_not_sign_is_refused(self):
        d = Daemon("tail-sig").start()
        d.stop()
        store = d.dir / "store"
        lines = dump_audit(store)
        last = max(lines)
        cp = json.loads(lines[last])
        self.assertEqual(cp["action"], "checkpoint")
        sig = bytearray(cp["checkpoint"]["signature"].encode())
        sig[5] = ord("A") if sig[5] != ord("A") else ord("B")
        forged = lines[last].replace(cp["checkpoint"]["signature"].encode(), bytes(sig))
        forged, _ = rehash(forged)
        load_audit(store, {last: forged})
        log = self.refused(d)
        self.assertIn("the last stored checkpoint, seq %d: checkpoint signature does not verify" % last,
                      log)

    def test_history_rewritten_without_the_key_is_said_at_the_next_start(self):
        # The reviewer's forgery: an entry sealed long ago rewritten, the
        # chain after it re-hashed and every checkpoint after it removed.
        # The daemon cannot tell it from a crash, but it says so, in an
        # entry its next checkpoint seals: an unclean stop and how much
        # of the log no seal covered.
        d = Daemon("tail-forge", conf={"audit": {"checkpoint_every": "4"}}).start()
        try:
            for i in range(6):
                self.assertEqual(d.client("cw.wm").post(
                    "/v1/checks", check_body(case_ref="TAIL-B%d" % i)).status, 200)
            r = d.client("cw.wm").post("/v1/checks", check_body(
                case_ref="TAIL-FORGE", justification="Fictitious: my neighbour, just curious"))
            target = r.json()["audit"]["seq"]
            for i in range(12):
                self.assertEqual(d.client("cw.wm").post(
                    "/v1/checks", check_body(case_ref="TAIL-F%d" % i)).status, 200)
            d.stop()
            store = d.dir / "store"
            lines = dump_audit(store)
            cps_before = [s for s in sorted(lines) if s < target
                          and json.loads(lines[s])["action"] == "checkpoint"]
            # (The LMDB tools cannot delete a line: each checkpoint after
            # the target becomes an entry of another kind, which is as
            # good for the forger.)
            forged, prev = {}, None
            for s in sorted(lines):
                line = lines[s]
                if s < target:
                    prev = json.loads(line)["hash"]
                    continue
                obj = json.loads(line)
                if obj["action"] == "checkpoint":
                    obj = {"seq": obj["seq"], "time": obj["time"], "prev": obj["prev"],
                           "request_id": None, "principal": None, "action": "config.reload",
                           "result": "ok", "hash": ""}
                    line = json.dumps(obj, separators=(",", ":")).encode()
                if s == target:
                    line = line.replace(b"my neighbour, just curious", b"referral from the school")
                forged[s], prev = rehash(line, prev)
            load_audit(store, forged)
            d.start()
            entries = audit_entries(export_audit(d))
            start = [e for e in entries if e["action"] == "daemon.start"][-1]
            self.assertEqual(start["previous_stop"], "unclean")
            self.assertEqual(start["sealed_through"], cps_before[-1] - 1)
            self.assertGreater(start["unsealed"], 4, "more than checkpoint_every entries unsealed")
            d.stop()
        finally:
            if d.alive():
                d.stop(expect_rc=None)


if __name__ == "__main__":
    unittest.main()
