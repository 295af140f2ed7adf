#!/usr/bin/env python3
"""run.py - runs the integration suite against the real daemon.

    BUILD=build python3 tests/integration/run.py [-k PATTERN]... [--list] [--keep]

Prints one line per test ("ok", "FAIL", "ERROR", "skip"), then the details
of every failure with the tail of the daemon's log, and exits 1 if any test
failed (0 otherwise).  -k selects tests whose full name
(module.Class.test_name) contains PATTERN (or matches it as a shell
pattern); several -k are alternatives.

What it must never do: leave a daemon running, or report success when a
test failed or nothing ran.
"""

import argparse
import atexit
import faulthandler
import fnmatch
import os
import shutil
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def full_name(test):
    return "%s.%s.%s" % (type(test).__module__, type(test).__qualname__, test._testMethodName)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def selected(name, patterns):
    if not patterns:
        return True
    low = name.lower()
    for p in patterns:
        pl = p.lower()
        if pl in low or fnmatch.fnmatch(low, pl) or fnmatch.fnmatch(low, "*" + pl + "*"):
            return True
    return False


class LineResult(unittest.TestResult):
    """One line per test, as it finishes."""

    def __init__(self):
        super().__init__()
        self.t0 = {}
        self.passed = 0
        self.reported = True

    def startTest(self, test):
        super().startTest(test)
        self.t0[test] = time.monotonic()
        self.reported = False

    def stopTest(self, test):
        super().stopTest(test)
        if not self.reported:  # only subtests failed: the test itself failed
            self._line("FAIL", test)

    def _line(self, word, test, extra=""):
        dt = time.monotonic() - self.t0.get(test, time.monotonic())
        name = full_name(test) if isinstance(test, unittest.TestCase) else str(test)
        self.reported = True
        print("%-5s %s (%.2fs)%s" % (word, name, dt, extra), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line("FAIL", test)

    def addError(self, test, err):
        super().addError(test, err)
        self._line("ERROR", test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line("skip", test, " - " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line("xfail", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line("XPASS", test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            word = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            print("%-5s %s" % (word, subtest.id()), flush=True)


def main():
    ap = argparse.ArgumentParser(description="disclosured integration tests")
    ap.add_argument("-k", action="append", default=[], metavar="PATTERN",
                    help="run only tests whose name contains PATTERN (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folders even if every test passed")
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("ITEST_TIMEOUT", 900)),
                    help="abort the whole run after this many seconds (default 900)")
    a = ap.parse_args()

    loader = unittest.TestLoader()
    modules = sorted(p.stem for p in HERE.glob("test_*.py"))
    tests = []
    for m in modules:
        suite = loader.loadTestsFromName(m)
        tests += [t for t in flatten(suite) if selected(full_name(t) if isinstance(
            t, unittest.TestCase) and hasattr(t, "_testMethodName") else str(t), a.k)]
    if a.list:
        for t in tests:
            print(full_name(t))
        shutil.rmtree(harness.SESSION_DIR, ignore_errors=True)
        return 0
    if not tests:
        print("no test matches %s" % " or ".join(a.k), file=sys.stderr)
        shutil.rmtree(harness.SESSION_DIR, ignore_errors=True)
        return 1
    if not harness.DAEMON_BIN.exists():
        print("%s does not exist: build it first (make BUILD=%s)"
              % (harness.DAEMON_BIN, harness.BUILD.name), file=sys.stderr)
        shutil.rmtree(harness.SESSION_DIR, ignore_errors=True)
        return 1

    atexit.register(harness.kill_leftovers)
    # A hung test must not hang CI: dump every thread's stack and exit.
    faulthandler.dump_traceback_later(a.timeout, exit=True)

    print("integration tests: %d selected, daemon %s, timeouts x%.0f, folders in %s"
          % (len(tests), harness.DAEMON_BIN, harness.SLOW, harness.SESSION_DIR), flush=True)
    t0 = time.monotonic()
    result = LineResult()
    unittest.TestSuite(tests).run(result)
    faulthandler.cancel_dump_traceback_later()
    harness.kill_leftovers()

    for kind, items in (("FAIL", result.failures), ("ERROR", result.errors)):
        for test, tb in items:
            name = full_name(test) if hasattr(test, "_testMethodName") else str(test)
            print("\n======== %s %s\n%s" % (kind, name, tb), flush=True)
    bad = len(result.failures) + len(result.errors)
    extra = ""
    if result.expectedFailures:
        extra += ", %d known bugs still failing (xfail)" % len(result.expectedFailures)
    if result.unexpectedSuccesses:
        # not a failure of the run: a bug marked as known got fixed, and
        # the marker should go
        extra += ", %d known bugs now passing (XPASS: remove their markers)" % len(
            result.unexpectedSuccesses)
    print("\n%d passed, %d failed, %d skipped%s in %.1fs"
          % (result.passed, bad, len(result.skipped), extra, time.monotonic() - t0))
    if bad == 0 and not a.keep:
        shutil.rmtree(harness.SESSION_DIR, ignore_errors=True)
    else:
        print("temporary folders kept in %s" % harness.SESSION_DIR)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
