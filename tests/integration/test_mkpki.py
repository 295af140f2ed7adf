"""test_mkpki.py - scripts/mkpki.sh, the small CA the operator's guide walks
through: the commands of docs/operators-guide.md §2-§4 must do what the
guide says they do, on a CA folder of their own (never the harness's PKI).
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import REPO, SESSION_DIR, tmo

MKPKI = REPO / "scripts" / "mkpki.sh"


def mkpki(*args, cwd=None):
    return subprocess.run(["sh", str(MKPKI), *map(str, args)], capture_output=True, text=True,
                          timeout=tmo(60), cwd=cwd)


def openssl(*args, cwd=None, env=None):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True,
                          timeout=tmo(60), cwd=cwd, env=env)


class MkpkiCase(unittest.TestCase):

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mkpki-", dir=SESSION_DIR))
        self.ca = self.dir / "ca"
        r = mkpki("init", self.ca, "disclosure.example.internal")
        self.assertEqual(r.returncode, 0, r.stderr)


class AuditKeyRotation(MkpkiCase):

    def test_a_new_audit_key_keeps_the_old_pair_aside_and_names_both(self):
        old_pub = (self.ca / "audit-public.pem").read_text()
        old_key = (self.ca / "audit-ed25519.pem").read_text()
        r = mkpki("audit-key", self.ca)
        self.assertEqual(r.returncode, 0, r.stderr)
        kept = sorted(p.name for p in self.ca.glob("audit-ed25519-*"))
        self.assertEqual(len(kept), 2, kept)
        key_name, pub_name = sorted(kept, key=lambda n: n.endswith(".pub.pem"))
        self.assertTrue(pub_name.endswith(".pub.pem"), kept)
        self.assertEqual((self.ca / key_name).read_text(), old_key)
        self.assertEqual((self.ca / pub_name).read_text(), old_pub)
        self.assertNotEqual((self.ca / "audit-public.pem").read_text(), old_pub)
        # The guide's step 2 copies the old public key by the name printed.
        self.assertIn(str(self.ca / key_name), r.stdout)
        self.assertIn(str(self.ca / pub_name), r.stdout)
        self.assertEqual(os.stat(self.ca / "audit-ed25519.pem").st_mode & 0o777, 0o600)


if __name__ == "__main__":
    unittest.main()
