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


class Revocation(MkpkiCase):
    """The guide recommends that a case worker makes their own key and CSR
    and the CA signs it (§2); §3 revokes with mkpki.sh.  Such a
    certificate used to be out of mkpki.sh's reach."""

    def csr(self, cn):
        key, csr = self.dir / (cn + ".key"), self.dir / (cn + ".csr")
        r = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", key)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = openssl("req", "-new", "-key", key, "-subj", "/O=Fictitious Police/CN=" + cn,
                    "-out", csr)
        self.assertEqual(r.returncode, 0, r.stderr)
        return csr

    def sign_as_the_guide_does(self, csr, out):
        env = dict(os.environ, MKPKI_SAN="DNS:unused")
        r = openssl("ca", "-config", self.ca / "ca" / "openssl.cnf", "-batch", "-extensions",
                    "ext_client", "-notext", "-in", csr, "-out", out, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def revoked_by_the_crl(self, crt):
        r = openssl("verify", "-crl_check", "-CAfile", self.ca / "ca.crt", "-CRLfile",
                    self.ca / "clients.crl", crt)
        if r.returncode == 0:
            return False
        self.assertIn("certificate revoked", r.stdout + r.stderr)
        return True

    def test_a_csr_signed_into_clients_is_revoked_by_its_cn(self):
        crt = self.ca / "clients" / "carl.case.crt"
        self.sign_as_the_guide_does(self.csr("carl.case"), crt)
        self.assertFalse(self.revoked_by_the_crl(crt))
        r = mkpki("revoke", self.ca, "carl.case")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.revoked_by_the_crl(crt))

    def test_a_certificate_kept_elsewhere_is_revoked_by_its_file(self):
        crt = self.dir / "fiona.field.crt"
        self.sign_as_the_guide_does(self.csr("fiona.field"), crt)
        r = mkpki("revoke", self.ca, "fiona.field")
        self.assertEqual(r.returncode, 1, "revoked a CN that has no file in clients/")
        self.assertIn("give the certificate's file", r.stderr)
        r = mkpki("revoke", self.ca, "./fiona.field.crt", cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("CN=fiona.field", r.stdout)
        self.assertTrue(self.revoked_by_the_crl(crt))

    def test_a_certificate_of_another_ca_is_not_recorded(self):
        other = self.dir / "other"
        self.assertEqual(mkpki("init", other).returncode, 0)
        self.assertEqual(mkpki("client", other, "gus.guest").returncode, 0)
        crl_before = (self.ca / "clients.crl").read_bytes()
        index_before = (self.ca / "ca" / "index.txt").read_text()
        r = mkpki("revoke", self.ca, other / "clients" / "gus.guest.crt")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("is not signed by this CA", r.stderr)
        self.assertEqual((self.ca / "clients.crl").read_bytes(), crl_before)
        self.assertEqual((self.ca / "ca" / "index.txt").read_text(), index_before)

    def test_the_guides_commands_by_hand_revoke_too(self):
        crt = self.ca / "clients" / "hugo.hand.crt"
        self.sign_as_the_guide_does(self.csr("hugo.hand"), crt)
        env = dict(os.environ, MKPKI_SAN="DNS:unused")
        for args in (["-revoke", "clients/hugo.hand.crt", "-crl_reason", "keyCompromise"],
                     ["-gencrl", "-crlexts", "ext_crl", "-out", "clients.crl"]):
            r = openssl("ca", "-config", "ca/openssl.cnf", "-batch", *args, cwd=self.ca, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.revoked_by_the_crl(crt))


class Usage(unittest.TestCase):

    def test_the_usage_text_is_whole(self):
        r = mkpki()
        self.assertEqual(r.returncode, 2)
        for line in ("mkpki.sh init DIR", "mkpki.sh revoke DIR CN|FILE",
                     "kept as audit-ed25519-<date>.pem"):
            self.assertIn(line, r.stderr)


if __name__ == "__main__":
    unittest.main()
