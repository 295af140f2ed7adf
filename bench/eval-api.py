#!/usr/bin/env python3
"""eval-api.py - an independent evaluation of matching, through the daemon's API.

    BUILD=build python3 bench/eval-api.py [--records N] [--per-kind N]
        [--pairs N] [--negatives N] [--seed N] [--misses N] [--keep]

What it is for: measuring the matcher the way an outside evaluator will,
with a corruption model written separately from tools/matchbench.c (its
author never read matchbench's corruption code), through the real
disclosured over mutual TLS.  It

  1. writes a register with build/genregister (fictitious people only) and
     loads it offline into a fresh store with build/store-import;
  2. starts build/disclosured on that store with the integration suite's
     throwaway PKI, configuration and ACL (tests/integration/harness.py,
     imported, not copied);
  3. draws true people from the register, corrupts them the way enquirers
     and clerks do (typos of several sorts, spelling variants, diacritics,
     case and spacing, titles, initials, compound and Mc/Mac/O' surnames,
     middle name used as given, shortened given names, aliases, other
     scripts, date-of-birth and postcode slips, text as a scanned form or
     a pasted web page gives it: digits for letters, invisible characters,
     Jr or a title beside the family name, a postcode's letters and digits
     that look alike, full-width forms; and pairs of these), adds
     negatives (invented people, namesakes, relatives), and posts every
     check to POST /v1/checks as a national caseworker;
  4. prints recall and error rates per corruption kind and overall, the
     misses of the worst kinds (query -> candidates), API latency, and a
     final RESULT line.

Deterministic for a seed and a day (Python's own PRNG; nothing iterates
a set or a dict whose order depends on string hashing; ages are counted
to today, as the daemon counts them).  Every person is generated
by genregister or by mechanical corruption of its records.

What it must never do: tune the corruptions to what the matcher handles
(the point is to find what it does not), reach behind the daemon's back
(it loads the store only before the daemon starts), or leave a daemon
running.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

VOWELS = "aeiou"


def fold(s):
    """Lower-case ASCII letters only: for this program's own bookkeeping
    (negatives that turn out to be somebody), not a model of the matcher."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.translate(str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "ı": "i", "ß": "ss", "đ": "d"}))
    return "".join(c for c in s.lower() if "a" <= c <= "z")


def is_plain_latin(s):
    return bool(s) and all(("a" <= c.lower() <= "z") or c in " -'" for c in s)


# QWERTY neighbours (same row and the rows above and below).
_KEYROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
KEY_NEIGHBOURS = {}
for _r, _row in enumerate(_KEYROWS):
    for _i, _c in enumerate(_row):
        near = []
        for dr in (-1, 0, 1):
            rr = _r + dr
            if 0 <= rr < len(_KEYROWS):
                for di in (-1, 0, 1):
                    ii = _i + di
                    if (dr or di) and 0 <= ii < len(_KEYROWS[rr]):
                        near.append(_KEYROWS[rr][ii])
        KEY_NEIGHBOURS[_c] = "".join(near)


def letter_positions(s, first=False):
    """Indices of ASCII letters in s; without first, not index 0 (people
    rarely get the first letter wrong, and clerks copy it)."""
    return [i for i, c in enumerate(s) if c.isalpha() and c.isascii() and (first or i > 0)]


def typo_keyboard(rng, s):
    pos = letter_positions(s)
    if not pos:
        return None
    i = rng.choice(pos)
    c = s[i].lower()
    if c not in KEY_NEIGHBOURS:
        return None
    n = rng.choice(KEY_NEIGHBOURS[c])
    n = n.upper() if s[i].isupper() else n
    return s[:i] + n + s[i + 1:]


def typo_double(rng, s):
    pos = letter_positions(s)
    if not pos:
        return None
    i = rng.choice(pos)
    return s[:i] + s[i] + s[i:]


def typo_drop(rng, s):
    """Drops a letter: a doubled one if the name has one (Philip/Phillip),
    else any but the first."""
    doubled = [i for i in range(1, len(s)) if s[i] == s[i - 1] and s[i].isalpha()]
    pos = doubled or letter_positions(s)
    if not pos or len(s) < 4:
        return None
    i = rng.choice(pos)
    return s[:i] + s[i + 1:]


def typo_transpose(rng, s):
    pos = [i for i in range(1, len(s) - 1) if s[i].isalpha() and s[i + 1].isalpha() and s[i] != s[i + 1]]
    if not pos:
        return None
    i = rng.choice(pos)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


TYPOS = [typo_keyboard, typo_double, typo_drop, typo_transpose]


def typo_two(rng, s):
    if len(s) < 5:
        return None
    out = s
    for _ in range(2):
        t = rng.choice(TYPOS)(rng, out)
        if t is None:
            return None
        out = t
    return out


def vowel_change(rng, s):
    pos = [i for i in letter_positions(s) if s[i] in VOWELS]
    if not pos:
        return None
    i = rng.choice(pos)
    return s[:i] + rng.choice([v for v in VOWELS + "y" if v != s[i]]) + s[i + 1:]


# Spelling variants as heard (Steven/Stephen, Catherine/Kathryn,
# Philip/Filip, Neil/Neal, Sean/Shaun): one or two rewrites.
PHONETIC_RULES = [("ph", "v"), ("v", "ph"), ("ph", "f"), ("f", "ph"), ("c", "k"), ("k", "c"),
                  ("ck", "k"), ("y", "i"), ("i", "y"), ("ey", "y"), ("ie", "y"), ("y", "ie"),
                  ("ee", "ea"), ("ea", "ee"), ("ei", "ie"), ("ie", "ei"), ("ou", "ow"),
                  ("th", "t"), ("t", "th"), ("s", "z"), ("z", "s"), ("ai", "ay"), ("ay", "ai"),
                  ("ine", "yn"), ("er", "ar"), ("ea", "e"), ("oh", "o"), ("x", "ks"), ("qu", "kw"),
                  ("sh", "sch"), ("ah", "a"), ("an", "en"), ("ll", "l"), ("mm", "m")]


def phonetic_variant(rng, s):
    out = s
    changes = 0
    for _ in range(rng.choice((1, 1, 2))):
        low = out.lower()
        options = [(a, b, i) for a, b in PHONETIC_RULES for i in range(len(low))
                   if low.startswith(a, i)]
        if not options:
            break
        a, b, i = rng.choice(options)
        rep = b.upper() + b[1:] if out[i].isupper() else b
        if i == 0:
            rep = b[:1].upper() + b[1:] if out[:1].isupper() else b
        out = out[:i] + rep + out[i + len(a):]
        changes += 1
    return out if changes and out != s else None


ADD_MARKS = {"a": "áàäâ", "e": "éèëê", "i": "íïî", "o": "óöô", "u": "úüû", "c": "ç", "n": "ñ",
             "s": "ş", "z": "ż", "y": "ÿ"}


def diacritic_added(rng, s):
    pos = [i for i, c in enumerate(s) if c.lower() in ADD_MARKS]
    if not pos:
        return None
    i = rng.choice(pos)
    m = rng.choice(ADD_MARKS[s[i].lower()])
    return s[:i] + (m.upper() if s[i].isupper() else m) + s[i + 1:]


def diacritic_removed(rng, s):
    if all(ord(c) < 128 for c in s):
        return None
    if not all(unicodedata.name(c, "").startswith("LATIN") or c in " -'" for c in s):
        return None
    t = unicodedata.normalize("NFKD", s)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.translate(str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ı": "i", "đ": "d"}))
    return t if t != s else None


def case_space(rng, s):
    k = rng.randrange(5)
    if k == 0:
        t = s.upper()
    elif k == 1:
        t = s.lower()
    elif k == 2:
        t = "  " + s + " "
    elif k == 3:
        i = rng.randrange(1, len(s)) if len(s) > 1 else 1
        t = s[:i] + " " + s[i:]          # a stray space inside
    else:
        t = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)
    return t if t != s else None


# --------------------------------------------------------------------------
# Other scripts: simple tables of this program's own (Latin -> script),
# longest match first; not any standard, as a clerk or a foreign document
# would write an English-looking name.
# --------------------------------------------------------------------------

CYRILLIC = [("shch", "щ"), ("sch", "ш"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"),
            ("ts", "ц"), ("ph", "ф"), ("th", "т"), ("ck", "к"), ("ee", "и"), ("oo", "у"),
            ("ya", "я"), ("yu", "ю"), ("ie", "и"), ("j", "дж"), ("x", "кс"), ("q", "к"),
            ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"),
            ("h", "х"), ("i", "и"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"),
            ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"),
            ("y", "и"), ("z", "з")]
GREEK = [("th", "θ"), ("ph", "φ"), ("ps", "ψ"), ("ch", "τσ"), ("sh", "σ"), ("ck", "κ"),
         ("ks", "ξ"), ("ee", "ι"), ("oo", "ου"), ("ou", "ου"), ("mb", "μπ"), ("b", "μπ"),
         ("d", "ντ"), ("g", "γκ"), ("j", "τζ"), ("u", "ου"), ("w", "ου"), ("h", ""),
         ("a", "α"), ("c", "κ"), ("e", "ε"), ("f", "φ"), ("i", "ι"), ("k", "κ"), ("l", "λ"),
         ("m", "μ"), ("n", "ν"), ("o", "ο"), ("p", "π"), ("q", "κ"), ("r", "ρ"), ("s", "σ"),
         ("t", "τ"), ("v", "β"), ("x", "ξ"), ("y", "ι"), ("z", "ζ")]
# Greek letter by letter (b as beta, d as delta, g as gamma), as a
# clerk without the modern conventions above would write it.
GREEK_LETTERS = [("th", "θ"), ("ph", "φ"), ("ps", "ψ"), ("ch", "χ"), ("ks", "ξ"), ("a", "α"),
                 ("b", "β"), ("c", "κ"), ("d", "δ"), ("e", "ε"), ("f", "φ"), ("g", "γ"), ("h", "η"),
                 ("i", "ι"), ("j", "ι"), ("k", "κ"), ("l", "λ"), ("m", "μ"), ("n", "ν"), ("o", "ο"),
                 ("p", "π"), ("q", "κ"), ("r", "ρ"), ("s", "σ"), ("t", "τ"), ("u", "υ"), ("v", "β"),
                 ("w", "ω"), ("x", "ξ"), ("y", "υ"), ("z", "ζ")]
# Ukrainian conventions: h as г, g as ґ, i as і, y as и, e as е.
CYRILLIC_UK = [("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ph", "ф"),
               ("th", "т"), ("ck", "к"), ("ee", "і"), ("oo", "у"), ("ya", "я"), ("yu", "ю"),
               ("ye", "є"), ("j", "дж"), ("x", "кс"), ("q", "к"), ("a", "а"), ("b", "б"),
               ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "ґ"), ("h", "г"), ("i", "і"),
               ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"),
               ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("y", "и"), ("z", "з")]
# Arabic writes long vowels and usually drops short ones: a, i/ee, o/u/oo
# are written, e is dropped inside a word; a word starting with a vowel
# starts with alif.
ARABIC = [("sh", "ش"), ("th", "ث"), ("kh", "خ"), ("gh", "غ"), ("ch", "تش"), ("ph", "ف"),
          ("ck", "ك"), ("ee", "ي"), ("oo", "و"), ("ou", "و"), ("ai", "اي"), ("ay", "اي"),
          ("b", "ب"), ("c", "ك"), ("d", "د"), ("f", "ف"), ("g", "غ"), ("h", "ه"), ("j", "ج"),
          ("k", "ك"), ("l", "ل"), ("m", "م"), ("n", "ن"), ("p", "ب"), ("q", "ق"), ("r", "ر"),
          ("s", "س"), ("t", "ت"), ("v", "ف"), ("w", "و"), ("x", "كس"), ("y", "ي"), ("z", "ز"),
          ("a", "ا"), ("i", "ي"), ("o", "و"), ("u", "و"), ("e", "")]


def transliterate(s, table, script):
    low = s.lower()
    out = []
    i = 0
    while i < len(low):
        c = low[i]
        if not c.isalpha():
            out.append(" " if c in " -" else "")
            i += 1
            continue
        if script == "arabic" and c in "aeiou" and (i == 0 or not low[i - 1].isalpha()):
            out.append("ا" if c in "ae" else "ا" + {"i": "ي", "o": "و", "u": "و"}[c])
            i += 1
            continue
        for a, b in table:
            if low.startswith(a, i):
                out.append(b)
                i += len(a)
                break
        else:
            return None
    t = "".join(out).strip()
    if script == "greek":
        # final sigma at the end of each word
        t = " ".join(w[:-1] + "ς" if w.endswith("σ") else w for w in t.split(" "))
    elif script == "cyrillic" and low.endswith("y"):
        t = t[:-1] + "й"
    return t or None


# --------------------------------------------------------------------------
# Given names: diminutives of this program's own (not the project's table)
# --------------------------------------------------------------------------

DIMINUTIVES = {
    "alexander": ["Alex", "Sandy", "Sasha"], "andrew": ["Andy", "Drew"], "anthony": ["Tony"],
    "benjamin": ["Ben", "Benny"], "catherine": ["Kate", "Cathy"], "charles": ["Charlie", "Chas"],
    "christopher": ["Chris", "Kit"], "daniel": ["Dan", "Danny"], "david": ["Dave", "Davy"],
    "edward": ["Ed", "Ted", "Eddie"], "elizabeth": ["Liz", "Beth", "Lizzie"],
    "james": ["Jim", "Jimmy", "Jamie"], "john": ["Jack", "Johnny"], "joseph": ["Joe", "Joey"],
    "margaret": ["Maggie", "Peggy"], "matthew": ["Matt"], "michael": ["Mike", "Mick", "Micky"],
    "nicholas": ["Nick", "Nicky"], "patrick": ["Pat", "Paddy"], "peter": ["Pete"],
    "richard": ["Rich", "Dick", "Ricky"], "robert": ["Rob", "Bob", "Bobby", "Robbie"],
    "samuel": ["Sam", "Sammy"], "stephen": ["Steve", "Stevie"], "steven": ["Steve"],
    "thomas": ["Tom", "Tommy"], "william": ["Will", "Bill", "Billy", "Liam"],
    "mohammed": ["Mo"], "muhammad": ["Mo"], "mohamed": ["Mo"], "gareth": ["Gaz"],
    "gary": ["Gaz"], "dafydd": ["Dai", "Dafi"], "callum": ["Cal"], "hamish": ["Hamie"],
    "rajesh": ["Raj"], "gurpreet": ["Preet"], "piotr": ["Piotrek"], "andrei": ["Andi"],
    "seamus": ["Shay"], "simon": ["Si"], "paul": ["Paulie"], "mark": ["Marky"],
    "alasdair": ["Al", "Ally"], "terence": ["Terry"], "raymond": ["Ray"], "ronald": ["Ron"],
    "kenneth": ["Ken", "Kenny"], "jonathan": ["Jon", "Jonny"], "timothy": ["Tim"],
    "gregory": ["Greg"], "philip": ["Phil"], "stuart": ["Stu"], "leonard": ["Len", "Lenny"],
}


def shortened_prefix(rng, given):
    """Christopher -> Chris, Alexander -> Alex: a prefix of 3-5 letters
    ending in a consonant, for given names of 6 letters or more."""
    if not is_plain_latin(given) or len(given) < 6:
        return None
    ok = [n for n in (3, 4, 5) if given[n - 1].lower() not in "aeiouyhjw"
          and any(c in VOWELS for c in given[:n].lower())]
    if not ok:
        return None
    return given[:rng.choice(ok)]


# Anglicised or native equivalents a clerk may write instead (Dafydd as
# David, Seamus as James): the same person under his language's name.
EQUIVALENTS = {
    "dafydd": ["David"], "seamus": ["James"], "hamish": ["James"], "sean": ["John"],
    "shaun": ["John"], "iain": ["Ian", "John"], "ian": ["Iain"], "huw": ["Hugh"],
    "padraig": ["Patrick"], "piotr": ["Peter"], "andrei": ["Andrew"], "pawel": ["Paul"],
    "paweł": ["Paul"], "jakub": ["Jacob", "James"], "tomasz": ["Thomas"], "tomas": ["Thomas"],
    "michał": ["Michael"], "michal": ["Michael"], "aleksandr": ["Alexander"],
    "alexandru": ["Alexander"], "oleksandr": ["Alexander"], "sergei": ["Sergey", "Serge"],
    "dmitri": ["Dmitry", "Dimitri"], "ioannis": ["John", "Yannis"], "georgios": ["George"],
    "dimitrios": ["Jimmy", "Dimitri"], "konstantinos": ["Constantine", "Costas"],
    "nikolaos": ["Nicholas", "Nikos"], "christos": ["Chris"], "ștefan": ["Stephen"],
    "stefan": ["Stephen"], "krzysztof": ["Christopher"], "grzegorz": ["Gregory"],
    "wojciech": ["Adalbert"], "mateusz": ["Matthew"], "łukasz": ["Luke"], "lukasz": ["Luke"],
    "andrzej": ["Andrew"], "owain": ["Owen"], "ieuan": ["Evan", "John"], "iwan": ["Ivan", "John"],
    "eoin": ["Owen", "John"], "euan": ["Ewan", "Evan"], "ewan": ["Euan"], "rhys": ["Rees", "Reece"],
    "donal": ["Donald"], "cormac": ["Charles"], "ciaran": ["Kieran"], "kieran": ["Ciaran"],
    "niall": ["Neil"], "neil": ["Niall"], "gwilym": ["William"], "ruaridh": ["Roderick", "Rory"],
    "murdo": ["Murdoch"], "mohammed": ["Muhammad", "Mohamed"], "ahmet": ["Ahmed"],
    "ahmed": ["Ahmad"], "youssef": ["Joseph", "Yusuf"], "yusuf": ["Joseph"], "ibrahim": ["Abraham"],
    "mustafa": ["Mostafa"], "hussain": ["Hussein"], "mehmet": ["Mohammed"], "yuri": ["George"],
    "ivan": ["John"], "mykola": ["Nicholas", "Mikola"], "jonas": ["John"], "lukas": ["Luke"],
}


def given_split(rng, given):
    """Abdirahman as Abdi Rahman, Mohammed Ali as MohammedAli: a compound
    given name written apart or together."""
    low = given.lower()
    for pre in ("abdul", "abdi", "abd", "mohammed", "muhammad", "gur", "jas", "man", "har", "nav",
                "sukh", "param", "kul", "amar", "bal"):
        if low.startswith(pre) and len(low) >= len(pre) + 3:
            rest = given[len(pre):]
            return given[:len(pre)] + " " + rest[0].upper() + rest[1:]
    if " " in given:
        return given.replace(" ", "")
    return None


# Misread handwriting or scanned forms.
OCR_CONFUSIONS = [("m", "rn"), ("rn", "m"), ("cl", "d"), ("d", "cl"), ("h", "li"), ("li", "h"),
                  ("n", "ri"), ("u", "v"), ("v", "u"), ("a", "o"), ("o", "a"), ("e", "c"),
                  ("i", "l"), ("l", "i"), ("g", "q"), ("nn", "m"), ("w", "vv")]


def ocr_misread(rng, s):
    low = s.lower()
    options = [(a, b, i) for a, b in OCR_CONFUSIONS for i in range(1, len(low)) if low.startswith(a, i)]
    if not options:
        return None
    a, b, i = rng.choice(options)
    return s[:i] + b + s[i + len(a):]


# What a scanned form's recognition, or a hurried hand, writes for a
# letter: a digit of the same shape (the tables of OCR-noise generators).
OCR_DIGITS = {"o": "0", "i": "1", "l": "1", "s": "5", "e": "3", "a": "4", "g": "9", "b": "6",
              "z": "2", "t": "7", "O": "0", "I": "1", "S": "5", "B": "8", "Z": "2", "G": "6",
              "E": "3", "A": "4", "T": "7", "L": "1"}


def ocr_digit(rng, s):
    pos = [i for i, c in enumerate(s) if c in OCR_DIGITS]
    if not pos:
        return None
    i = rng.choice(pos)
    return s[:i] + OCR_DIGITS[s[i]] + s[i + 1:]


# Characters that are there and not seen: what a name copied from a web
# page, a PDF or a word processor carries (soft hyphen, zero-width space,
# non-joiner, joiner, word joiner, byte-order mark).
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


def invisible_pasted(rng, s):
    if len(s) < 2:
        return None
    i = rng.randrange(1, len(s))
    return s[:i] + rng.choice(INVISIBLE) + s[i:]


def truncated(rng, s):
    """A long name cut by a form's or a legacy system's field length."""
    if len(s) < 9:
        return None
    return s[:rng.choice((6, 7, 8))]


# --------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------

def current_postcode(rec):
    addrs = rec.get("addresses") or []
    for a in addrs:
        if a.get("to") is None and a.get("postcode"):
            return a["postcode"]
    for a in reversed(addrs):
        if a.get("postcode"):
            return a["postcode"]
    return None


def primary(rec):
    for n in rec["names"]:
        if n.get("kind") == "primary":
            return n
    return rec["names"][0]


def parse_date(s):
    try:
        return datetime.date.fromisoformat(s)
    except (TypeError, ValueError):
        return None


def age_on(dob, today):
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def dates_close(a, b):
    """Same date, day/month swapped, one digit apart or a year off: what a
    reasonable matcher would treat as possibly the same date."""
    if a == b:
        return True
    sa, sb = a.replace("-", ""), b.replace("-", "")
    if sum(x != y for x, y in zip(sa, sb)) <= 1:
        return True
    if sa[:4] == sb[:4] and sa[4:6] == sb[6:8] and sa[6:8] == sb[4:6]:
        return True
    return sa[4:] == sb[4:] and abs(int(sa[:4]) - int(sb[:4])) <= 1


class Register:
    def __init__(self, path):
        self.records = []
        self.by_id = {}
        # (folded family word, folded given or middle) -> dobs, for every
        # word of every family name: to discard negatives that turn out to
        # be somebody (Gary Harris-Brown born on Gary Brown's birthday)
        self.people = {}
        with open(path, "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                self.records.append(r)
                self.by_id[r["id"]] = r
                dobs = [d for d in [r.get("dob")] + (r.get("other_dobs") or []) if d]
                for n in r["names"]:
                    for word in family_words(n["family"]):
                        for g in (n.get("given"), n.get("middle")):
                            if g:
                                self.people.setdefault((word, soundex(g)), []).extend(dobs)
        self.givens = sorted({primary(r).get("given") for r in self.records
                              if is_plain_latin(primary(r).get("given"))})
        self.families = sorted({primary(r)["family"] for r in self.records
                                if is_plain_latin(primary(r)["family"])})
        self.postcodes = sorted({current_postcode(r) for r in self.records if current_postcode(r)})

    def is_somebody(self, given, family, dob):
        """True if a record has this given name (or one that sounds the same:
        Padraig and Patrick, Mohammed and Mohamed) and a word of this family
        name (Mc written Mac), with a date close to dob (any date if dob is
        None)."""
        giv = soundex(given)
        for word in family_words(family):
            dobs = self.people.get((word, giv))
            if dobs is not None and (dob is None or any(dates_close(dob, d) for d in dobs)):
                return True
        return False


def family_words(family):
    words = {fold(w) for w in family.replace("-", " ").split() if fold(w)}
    return sorted({"mac" + w[2:] if w.startswith("mc") else w for w in words})


def soundex(name):
    """American Soundex of the folded name ('' for none): this program's own
    test of two given names being one, not the matcher's."""
    s = fold(name)
    if not s:
        return ""
    codes = {c: d for d, letters in (("1", "bfpv"), ("2", "cgjkqsxz"), ("3", "dt"), ("4", "l"),
                                      ("5", "mn"), ("6", "r")) for c in letters}
    out, last = s[0].upper(), codes.get(s[0], "")
    for c in s[1:]:
        d = codes.get(c, "")
        if d and d != last:
            out += d
        if c not in "hw":
            last = d
    return (out + "000")[:4]


# --------------------------------------------------------------------------
# Corruption kinds
#
# A query is {"names": [{"given", "middle"?, "family"}], "dob"?, "age"?,
# "postcode"?, "sex"?}.  Each kind takes (rng, record, query, ctx) and
# changes the query in place, returning False when it cannot act on this
# record (the sampler then draws another one).  `part` says what a kind
# touches, so that pairs combine kinds acting on different parts.
# --------------------------------------------------------------------------

def on_name_part(fn, part):
    def kind(rng, rec, q, ctx):
        n = q["names"][0]
        if part == "either":
            parts = [p for p in ("family", "given") if n.get(p)]
            p = rng.choice(parts)
        else:
            p = part
        s = n.get(p)
        if not s:
            return False
        t = fn(rng, s)
        if not t or t == s:
            return False
        n[p] = t
        return True
    return kind


def k_clean(rng, rec, q, ctx):
    return True


def k_title(rng, rec, q, ctx):
    n = q["names"][0]
    if not n.get("given"):
        return False
    titles = ["Mr", "Mr.", "Dr", "Dr.", "Rev"] if rec.get("sex") != "F" else ["Mrs", "Ms", "Miss", "Dr", "Mrs."]
    n["given"] = rng.choice(titles) + " " + n["given"]
    return True


def k_initial_dot(rng, rec, q, ctx):
    n = q["names"][0]
    g = n.get("given")
    if not g:
        return False
    n["given"] = g[0].upper() + "."
    if n.get("middle") and rng.random() < 0.5:
        n["middle"] = n["middle"][0].upper() + "."
    return True


def k_hyphen(rng, rec, q, ctx):
    n = q["names"][0]
    f = n["family"]
    if "-" in f:
        n["family"] = f.replace("-", rng.choice(["", " "]))
    elif " " in f:
        n["family"] = f.replace(" ", rng.choice(["", "-"]))
    else:
        return False
    return True


def k_mc_mac_o(rng, rec, q, ctx):
    n = q["names"][0]
    f = n["family"]
    if f.startswith("O'") and len(f) > 2:
        rest = f[2:]
        n["family"] = rng.choice(["O" + rest, "O " + rest, "O'" + rest.lower(), "O\u2019" + rest])
    elif f.startswith("Mac") and len(f) > 3 and f[3].isupper():
        rest = f[3:]
        n["family"] = rng.choice(["Mc" + rest, "Mac " + rest, "Mac" + rest.lower(), "M'" + rest])
    elif f.startswith("Mc") and len(f) > 2 and f[2].isupper():
        rest = f[2:]
        n["family"] = rng.choice(["Mac" + rest, "Mc " + rest, "Mc" + rest.lower(), "M'" + rest])
    else:
        return False
    return True


def k_middle_as_given(rng, rec, q, ctx):
    p = primary(rec)
    if not p.get("middle"):
        return False
    n = q["names"][0]
    n["given"] = p["middle"].split()[0]
    n.pop("middle", None)
    return True


def k_given_prefix(rng, rec, q, ctx):
    n = q["names"][0]
    t = shortened_prefix(rng, n.get("given") or "")
    if not t:
        return False
    n["given"] = t
    n.pop("middle", None)
    return True


def k_given_from(table):
    """The given name replaced by one the table gives for it (a
    diminutive, a native or anglicised equivalent)."""
    def kind(rng, rec, q, ctx):
        n = q["names"][0]
        opts = table.get((n.get("given") or "").lower())
        if not opts:
            return False
        n["given"] = rng.choice(opts)
        return True
    return kind


def k_alias_surname(rng, rec, q, ctx):
    p = primary(rec)
    # an alias in another script is the script kinds' business
    fams = [m["family"] for m in rec["names"] if m is not p and fold(m["family"])
            and fold(m["family"]) != fold(p["family"])
            and all(unicodedata.name(c, "").startswith("LATIN") or c in " -'" for c in m["family"])]
    if not fams:
        return False
    q["names"][0]["family"] = rng.choice(fams)
    return True


def k_names_swapped(rng, rec, q, ctx):
    n = q["names"][0]
    if not n.get("given"):
        return False
    n["given"], n["family"] = n["family"], n["given"]
    n.pop("middle", None)
    return True


def k_script(script, table):
    def kind(rng, rec, q, ctx):
        n = q["names"][0]
        if not is_plain_latin(n["family"]) or not is_plain_latin(n.get("given") or "x"):
            return False
        fam = transliterate(n["family"], table, script)
        giv = transliterate(n["given"], table, script) if n.get("given") else None
        if not fam or (n.get("given") and not giv):
            return False
        n["family"] = fam
        if giv:
            n["given"] = giv
        n.pop("middle", None)
        return True
    return kind


def k_given_formal(rng, rec, q, ctx):
    """The reverse of a diminutive: the register says Jim, the enquirer
    James."""
    n = q["names"][0]
    g = (n.get("given") or "").lower()
    formal = sorted(k for k, v in DIMINUTIVES.items() if g in (x.lower() for x in v))
    if not formal:
        return False
    n["given"] = rng.choice(formal).capitalize()
    return True


def k_given_split(rng, rec, q, ctx):
    n = q["names"][0]
    t = given_split(rng, n.get("given") or "")
    if not t:
        return False
    n["given"] = t
    return True


def k_given_missing(rng, rec, q, ctx):
    n = q["names"][0]
    if not n.get("given"):
        return False
    del n["given"]
    n.pop("middle", None)
    return True


def k_forenames_in_given(rng, rec, q, ctx):
    """Every forename in the given field ("John Paul"), as on a form with
    one box for forenames."""
    p = primary(rec)
    if not p.get("middle") or not p.get("given"):
        return False
    n = q["names"][0]
    n["given"] = p["given"] + " " + p["middle"]
    n.pop("middle", None)
    return True


def k_whole_name_in_family(rng, rec, q, ctx):
    n = q["names"][0]
    if not n.get("given"):
        return False
    n["family"] = n.pop("given") + " " + n["family"]
    n.pop("middle", None)
    return True


def k_compound_one_part(rng, rec, q, ctx):
    n = q["names"][0]
    parts = [x for x in n["family"].replace("-", " ").split() if x]
    if len(parts) < 2:
        return False
    n["family"] = rng.choice(parts)
    return True


def k_compound_reordered(rng, rec, q, ctx):
    # A double-barrelled name the other way round: Spanish and Portuguese
    # forms order the two surnames oppositely, and a hand may too.
    n = q["names"][0]
    sep = "-" if "-" in n["family"] else " "
    parts = [x for x in n["family"].replace("-", " ").split() if x]
    if len(parts) != 2 or parts[0].lower() == parts[1].lower():
        return False
    n["family"] = parts[1] + rng.choice([sep, " "]) + parts[0]
    return True


def k_extra_wrong_name(rng, rec, q, ctx):
    """The true name and, as a second name, somebody else's (a wrong alias
    the enquirer heard)."""
    other = primary(rng.choice(ctx.reg.records))
    extra = {"family": other["family"]}
    if other.get("given"):
        extra["given"] = other["given"]
    q["names"].append(extra)
    return True


def k_sex_wrong(rng, rec, q, ctx):
    if rec.get("sex") not in ("M", "F"):
        return False
    q["sex"] = "F" if rec["sex"] == "M" else "M"
    return True


def k_dob_transposed(rng, rec, q, ctx):
    """Two adjacent digits of the date swapped (1968 as 1986, 12 as 21)."""
    s = q.get("dob")
    if not s:
        return False
    digits = s.replace("-", "")
    pos = [i for i in range(7) if digits[i] != digits[i + 1] and i != 3 and i != 5]
    rng.shuffle(pos)
    for i in pos:
        t = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
        cand = "%s-%s-%s" % (t[:4], t[4:6], t[6:])
        d = parse_date(cand)
        if d and d <= ctx.today and d.year > ctx.today.year - 100 and not dates_swapped(s, cand):
            q["dob"] = cand
            return True
    return False


def k_dob_first_of_january(rng, rec, q, ctx):
    """Only the year known, entered as 1 January."""
    d = parse_date(q.get("dob"))
    if not d or (d.month, d.day) == (1, 1):
        return False
    q["dob"] = "%04d-01-01" % d.year
    return True


def k_dob_first_of_month(rng, rec, q, ctx):
    """Only the month and year known, entered as the 1st."""
    d = parse_date(q.get("dob"))
    if not d or d.day == 1:
        return False
    q["dob"] = "%04d-%02d-01" % (d.year, d.month)
    return True


def k_age_approx(rng, rec, q, ctx):
    """"About 40": an age a year or two off."""
    d = parse_date(q.get("dob"))
    if not d:
        return False
    del q["dob"]
    q["age"] = age_on(d, ctx.today) + rng.choice((-2, -1, 1, 2))
    return True


def k_pc_typo(rng, rec, q, ctx):
    pc = q.get("postcode")
    if not pc:
        return False
    pos = [i for i, c in enumerate(pc) if c.isalnum() and i > 0]
    i = rng.choice(pos)
    c = pc[i]
    if c.isdigit():
        r = rng.choice([x for x in "0123456789" if x != c])
    else:
        r = rng.choice([x for x in "ABDEFGHJLNPQRSTUWXYZ" if x != c])
    q["postcode"] = pc[:i] + r + pc[i + 1:]
    return True


def k_dob_swap(rng, rec, q, ctx):
    d = parse_date(q.get("dob"))
    if not d or d.day > 12 or d.day == d.month:
        return False
    q["dob"] = "%04d-%02d-%02d" % (d.year, d.day, d.month)
    return True


def k_dob_digit(rng, rec, q, ctx):
    s = q.get("dob")
    if not s:
        return False
    digits = s.replace("-", "")
    for _ in range(30):
        i = rng.randrange(8)
        c = rng.choice([x for x in "0123456789" if x != digits[i]])
        t = digits[:i] + c + digits[i + 1:]
        cand = "%s-%s-%s" % (t[:4], t[4:6], t[6:])
        d = parse_date(cand)
        if d and ctx.today.year - 100 < d.year <= ctx.today.year and not dates_swapped(s, cand):
            q["dob"] = cand
            return True
    return False


def dates_swapped(a, b):
    return a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def k_dob_year(rng, rec, q, ctx):
    d = parse_date(q.get("dob"))
    if not d:
        return False
    try:
        q["dob"] = d.replace(year=d.year + rng.choice((-1, 1))).isoformat()
    except ValueError:        # 29 February
        return False
    return True


def k_drop(field):
    """The field left out of the query (date of birth, postcode)."""
    def kind(rng, rec, q, ctx):
        if field not in q:
            return False
        del q[field]
        return True
    return kind


def k_dob_age(rng, rec, q, ctx):
    d = parse_date(q.get("dob"))
    if not d:
        return False
    del q["dob"]
    q["age"] = age_on(d, ctx.today)
    return True


def k_pc_other(rng, rec, q, ctx):
    if "postcode" not in q:
        return False
    pc = rng.choice(ctx.reg.postcodes)
    if pc.split()[0] == q["postcode"].split()[0]:
        return False
    q["postcode"] = pc
    return True


def k_pc_outward(rng, rec, q, ctx):
    pc = q.get("postcode")
    if not pc or " " not in pc:
        return False
    q["postcode"] = pc.split()[0]
    return True


def k_pc_noise(rng, rec, q, ctx):
    pc = q.get("postcode")
    if not pc:
        return False
    q["postcode"] = rng.choice([pc.replace(" ", ""), pc.lower(), " " + pc.lower().replace(" ", "") + " "])
    return True


def k_generation_suffix(rng, rec, q, ctx):
    n = q["names"][0]
    if rec.get("sex") == "F" or not n.get("family"):
        return False
    n["family"] = n["family"] + rng.choice([" Jr", " Jr.", " Jnr", " Snr", " Sr", " II", " III", ", Jr"])
    return True


def k_title_in_family(rng, rec, q, ctx):
    n = q["names"][0]
    titles = ["Mr", "Mr.", "Dr"] if rec.get("sex") != "F" else ["Mrs", "Ms", "Miss", "Mrs."]
    n["family"] = rng.choice(titles) + " " + n["family"]
    return True


# Letters and digits of one shape, as read off a handwritten or scanned
# form: one character of the postcode written as its lookalike.
PC_LOOKALIKE = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B",
                "O": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2", "G": "6", "T": "7"}


def k_pc_lookalike(rng, rec, q, ctx):
    pc = q.get("postcode")
    if not pc:
        return False
    pos = [i for i, c in enumerate(pc) if c in PC_LOOKALIKE]
    if not pos:
        return False
    i = rng.choice(pos)
    q["postcode"] = pc[:i] + PC_LOOKALIKE[pc[i]] + pc[i + 1:]
    return True


def k_pc_fullwidth(rng, rec, q, ctx):
    pc = q.get("postcode")
    if not pc:
        return False
    q["postcode"] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c
                            for c in pc)
    return True


def k_pc_old_address(rng, rec, q, ctx):
    cur = q.get("postcode")
    old = [a["postcode"] for a in rec.get("addresses") or [] if a.get("postcode") and a["postcode"] != cur]
    if not cur or not old:
        return False
    q["postcode"] = rng.choice(old)
    return True


# name: (group, part, fn).  part is "given", "family", "name" (both) or
# the field; pairs never combine two kinds on the same part.
KINDS = [
    ("clean", "none", "none", k_clean),
    ("typo_keyboard_family", "name", "family", on_name_part(typo_keyboard, "family")),
    ("typo_keyboard_given", "name", "given", on_name_part(typo_keyboard, "given")),
    ("typo_doubled_letter", "name", "family", on_name_part(typo_double, "either")),
    ("typo_dropped_letter", "name", "family", on_name_part(typo_drop, "either")),
    ("typo_transposed", "name", "family", on_name_part(typo_transpose, "either")),
    ("typo_two_in_family", "name", "family", on_name_part(typo_two, "family")),
    ("typo_two_in_given", "name", "given", on_name_part(typo_two, "given")),
    ("vowel_change", "name", "family", on_name_part(vowel_change, "either")),
    ("phonetic_spelling", "name", "family", on_name_part(phonetic_variant, "either")),
    ("diacritic_added", "name", "family", on_name_part(diacritic_added, "either")),
    ("diacritic_removed", "name", "family", on_name_part(diacritic_removed, "either")),
    ("case_and_spacing", "name", "family", on_name_part(case_space, "either")),
    ("title_in_given", "name", "given", k_title),
    ("initial_with_stop", "name", "given", k_initial_dot),
    ("hyphen_or_space_surname", "name", "family", k_hyphen),
    ("mc_mac_o_variant", "name", "family", k_mc_mac_o),
    ("middle_as_given", "name", "given", k_middle_as_given),
    ("given_shortened", "name", "given", k_given_prefix),
    ("given_diminutive", "name", "given", k_given_from(DIMINUTIVES)),
    ("alias_surname", "name", "family", k_alias_surname),
    ("names_swapped", "name", "name", k_names_swapped),
    ("script_cyrillic", "name", "name", k_script("cyrillic", CYRILLIC)),
    ("script_greek", "name", "name", k_script("greek", GREEK)),
    ("script_arabic", "name", "name", k_script("arabic", ARABIC)),
    ("script_greek_letters", "name", "name", k_script("greek", GREEK_LETTERS)),
    ("script_cyrillic_ukrainian", "name", "name", k_script("cyrillic", CYRILLIC_UK)),
    ("ocr_misread", "name", "family", on_name_part(ocr_misread, "either")),
    ("family_truncated", "name", "family", on_name_part(truncated, "family")),
    ("compound_one_part", "name", "family", k_compound_one_part),
    ("given_equivalent", "name", "given", k_given_from(EQUIVALENTS)),
    ("given_formal", "name", "given", k_given_formal),
    ("given_split_or_joined", "name", "given", k_given_split),
    ("given_missing", "name", "given", k_given_missing),
    ("forenames_in_given", "name", "given", k_forenames_in_given),
    ("whole_name_in_family", "name", "name", k_whole_name_in_family),
    ("extra_wrong_name", "name", "extra", k_extra_wrong_name),
    ("sex_wrong", "sex", "sex", k_sex_wrong),
    ("dob_day_month_swapped", "dob", "dob", k_dob_swap),
    ("dob_digits_transposed", "dob", "dob", k_dob_transposed),
    ("dob_first_of_january", "dob", "dob", k_dob_first_of_january),
    ("dob_first_of_month", "dob", "dob", k_dob_first_of_month),
    ("age_approximate", "dob", "dob", k_age_approx),
    ("dob_one_digit", "dob", "dob", k_dob_digit),
    ("dob_year_off", "dob", "dob", k_dob_year),
    ("dob_missing", "dob", "dob", k_drop("dob")),
    ("dob_age_only", "dob", "dob", k_dob_age),
    ("postcode_missing", "pc", "pc", k_drop("postcode")),
    ("postcode_other", "pc", "pc", k_pc_other),
    ("postcode_outward_only", "pc", "pc", k_pc_outward),
    ("postcode_format_noise", "pc", "pc", k_pc_noise),
    ("postcode_old_address", "pc", "pc", k_pc_old_address),
    ("postcode_typo", "pc", "pc", k_pc_typo),
    # Added 1 December 2026 (second session): text as scanned or pasted.
    ("ocr_digit_for_letter", "name", "family", on_name_part(ocr_digit, "either")),
    ("invisible_char_pasted", "name", "family", on_name_part(invisible_pasted, "either")),
    ("generation_suffix", "name", "family", k_generation_suffix),
    ("title_in_family", "name", "family", k_title_in_family),
    ("postcode_lookalike", "pc", "pc", k_pc_lookalike),
    ("postcode_fullwidth", "pc", "pc", k_pc_fullwidth),
    # Added 1 December 2026 (third session).
    ("compound_reordered", "name", "family", k_compound_reordered),
]
KIND_BY_NAME = {k[0]: k for k in KINDS}
# Kinds that pairs draw from: every kind but clean, and the "name" part
# of kinds on both names conflicts with either.
PAIRABLE = [k for k in KINDS if k[0] != "clean"]
PAIR_GROUPS = [("name", "name"), ("name", "dob"), ("name", "pc"), ("dob", "pc")]


def parts_conflict(a, b):
    if a == b:
        return True
    return "name" in (a, b) and {a, b} & {"given", "family", "name"} == {a, b}


def base_query(rng, rec):
    """The true person as an enquirer knows them: primary name (middle name
    sometimes), date of birth, current postcode, sex half the time."""
    p = primary(rec)
    n = {"family": p["family"]}
    if p.get("given"):
        n["given"] = p["given"]
    if p.get("middle") and rng.random() < 0.25:
        n["middle"] = p["middle"]
    q = {"names": [n]}
    if rec.get("dob"):
        q["dob"] = rec["dob"]
    pc = current_postcode(rec)
    if pc:
        q["postcode"] = pc
    if rec.get("sex") and rng.random() < 0.5:
        q["sex"] = rec["sex"]
    return q


def make_positive(rng, ctx, kinds):
    for _ in range(2000):
        rec = rng.choice(ctx.reg.records)
        q = base_query(rng, rec)
        before = json.dumps(q, sort_keys=True)
        ok = True
        for k in kinds:
            if not k[3](rng, rec, q, ctx):
                ok = False
                break
        if ok and (kinds[0][0] == "clean" or json.dumps(q, sort_keys=True) != before):
            return rec, q
    return None, None


# --------------------------------------------------------------------------
# Negatives
# --------------------------------------------------------------------------

def random_dob(rng, today):
    d = datetime.date(today.year - rng.randint(18, 80), 1, 1) + datetime.timedelta(days=rng.randrange(365))
    return d.isoformat()


def neg_invented(rng, ctx):
    for _ in range(200):
        g, f = rng.choice(ctx.reg.givens), rng.choice(ctx.reg.families)
        dob = random_dob(rng, ctx.today)
        if ctx.reg.is_somebody(g, f, dob):
            continue
        q = {"names": [{"given": g, "family": f}], "dob": dob,
             "postcode": rng.choice(ctx.reg.postcodes)}
        return q
    return None


def neg_namesake(rng, ctx):
    for _ in range(200):
        rec = rng.choice(ctx.reg.records)
        p = primary(rec)
        if not p.get("given"):
            continue
        dob = random_dob(rng, ctx.today)
        if ctx.reg.is_somebody(p["given"], p["family"], dob):
            continue
        pc = rng.choice(ctx.reg.postcodes)
        own = current_postcode(rec) or ""
        if pc.split()[0] == own.split()[0] if own else False:
            continue
        return {"names": [{"given": p["given"], "family": p["family"]}], "dob": dob, "postcode": pc}
    return None


def neg_relative(rng, ctx):
    for _ in range(200):
        rec = rng.choice(ctx.reg.records)
        p = primary(rec)
        pc = current_postcode(rec)
        if not pc:
            continue
        g = rng.choice(ctx.reg.givens)
        if fold(g) == fold(p.get("given")) or fold(g)[:1] == fold(p.get("given"))[:1]:
            continue
        dob = random_dob(rng, ctx.today)
        if ctx.reg.is_somebody(g, p["family"], None):
            continue
        return {"names": [{"given": g, "family": p["family"]}], "dob": dob, "postcode": pc}
    return None


NEGATIVES = [("neg_invented", neg_invented), ("neg_namesake", neg_namesake),
             ("neg_relative", neg_relative)]


# --------------------------------------------------------------------------
# Running the checks
# --------------------------------------------------------------------------

class Ctx:
    pass


class Row:
    def __init__(self, name):
        self.name = name
        self.n = 0
        self.found = 0
        self.in_match = 0
        self.rank1 = 0
        self.wrong_match = 0
        self.any_candidate = 0
        self.errors = 0
        self.warned = 0     # misses whose answer said more_candidates
        self.misses = []
        self.wrong = []     # positives with another person in the match band

    def add(self, o):
        self.n += 1
        if o["status"] != 200:
            self.errors += 1
            self.misses.append(o)
            return
        if o["true_id"] is None:
            self.any_candidate += bool(o["candidates"])
            self.wrong_match += any(c.get("band") == "match" for c in o["candidates"])
            if o["candidates"]:
                self.misses.append(o)
            return
        ids = [c.get("offender_id") for c in o["candidates"]]
        if o["true_id"] in ids:
            self.found += 1
            c = o["candidates"][ids.index(o["true_id"])]
            self.in_match += c.get("band") == "match"
            self.rank1 += ids[0] == o["true_id"]
        else:
            self.misses.append(o)
            self.warned += bool(o.get("more"))
        if any(c.get("band") == "match" and c.get("offender_id") != o["true_id"] for c in o["candidates"]):
            self.wrong_match += 1
            self.wrong.append(o)


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def percentile(xs, p):
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


def name_text(n):
    return " ".join(x for x in (n.get("given"), n.get("middle"), n.get("family")) if x)


def query_name_text(n):
    """given (middle) | family: the fields as sent, since several kinds
    move words between them."""
    g = n.get("given") or ""
    if n.get("middle"):
        g += " (%s)" % n["middle"]
    return "%s | %s" % (g, n.get("family"))


def describe_query(q):
    out = [" / ".join(repr(query_name_text(n)) for n in q["names"])]
    out.append("dob=%s" % q["dob"] if "dob" in q else ("age=%s" % q["age"] if "age" in q else "no dob"))
    out.append("pc=%s" % q["postcode"] if "postcode" in q else "no pc")
    if "sex" in q:
        out.append("sex=" + q["sex"])
    return " ".join(out)


def describe_record(rec):
    names = " / ".join(repr(name_text(n)) for n in rec["names"])
    return "%s %s dob=%s pc=%s" % (rec["id"], names, rec.get("dob"), current_postcode(rec))


def describe_candidate(c, reg):
    mn = c.get("matched_name") or {}
    rec = reg.by_id.get(c.get("offender_id"))
    dob = rec.get("dob") if rec else "?"
    return "%s %s %.3f %r dob=%s %s" % (c.get("offender_id"), c.get("band"), c.get("score", 0),
                                          name_text(mn), dob, ",".join(c.get("reasons") or []))


def run(args):
    os.environ["BUILD"] = args.build
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    import harness  # the integration suite's PKI, configuration and client

    build = harness.BUILD
    for prog in ("disclosured", "genregister", "store-import"):
        if not (build / prog).exists():
            sys.exit("eval-api: %s is missing: run make BUILD=%s %s"
                     % (build / prog, args.build, build / prog))

    work = harness.SESSION_DIR
    ctx = Ctx()
    ctx.today = datetime.date.today()
    t0 = time.monotonic()
    try:
        reg_path = Path(args.register) if args.register else work / "register.jsonl"
        if not args.register:
            subprocess.run([str(build / "genregister"), "--seed", str(args.seed), "--count",
                            str(args.records), "-o", str(reg_path)], check=True)
        ctx.reg = Register(reg_path)
        print("register: %d records (%s), read in %.1fs" % (len(ctx.reg.records), reg_path,
                                                          time.monotonic() - t0), flush=True)

        map_size = str(max(1 << 30, len(ctx.reg.records) * 40000))
        d = harness.Daemon("eval", conf={"store": {"map_size": map_size}})
        t1 = time.monotonic()
        r = subprocess.run([str(build / "store-import"), "--map-size", map_size, "--quiet",
                            str(d.dir / "store"), str(reg_path)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("eval-api: store-import failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
        print("store-import: %.1fs %s" % (time.monotonic() - t1, r.stdout.strip().splitlines()[-1:]),
              flush=True)
        d.start(timeout=harness.tmo(120))
        try:
            return evaluate(args, ctx, d, harness)
        finally:
            d.stop(expect_rc=None)
    finally:
        harness.kill_leftovers()
        if args.keep:
            print("kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def build_checks(args, ctx):
    """The labelled checks: (kind, group, true record or None, query)."""
    import random
    rng = random.Random(args.seed)
    checks = []
    for k in KINDS:
        n = args.per_kind if k[0] != "clean" else max(10, args.per_kind // 2)
        for _ in range(n):
            rec, q = make_positive(rng, ctx, [k])
            if rec is not None:
                checks.append((k[0], "single", rec, q))
    for _ in range(args.pairs):
        # the four sorts of pair equally often, whatever the number of
        # kinds in each group
        ga, gb = rng.choice(PAIR_GROUPS)
        for _ in range(100):
            a = rng.choice([k for k in PAIRABLE if k[1] == ga])
            b = rng.choice([k for k in PAIRABLE if k[1] == gb])
            if a[0] != b[0] and not parts_conflict(a[2], b[2]):
                break
        if KINDS.index(a) > KINDS.index(b):
            a, b = b, a
        rec, q = make_positive(rng, ctx, [a, b])
        if rec is not None:
            groups = "+".join(sorted((a[1], b[1])))
            checks.append(("%s+%s" % (a[0], b[0]), "pair:" + groups, rec, q))
    for name, fn in NEGATIVES:
        for _ in range(args.negatives):
            q = fn(rng, ctx)
            if q is not None:
                checks.append((name, "negative", None, q))
    return checks


def evaluate(args, ctx, d, harness):
    checks = build_checks(args, ctx)
    if args.show_queries:
        shown = set()
        for kind, group, rec, q in checks:
            if kind not in shown and (group == "single" or group == "negative"):
                shown.add(kind)
                print("  %-26s %s  <- %s" % (kind, describe_query(q), describe_record(rec) if rec else "nobody"))
    print("checks: %d (%d per single kind, %d pairs, %d per negative kind)"
          % (len(checks), args.per_kind, args.pairs, args.negatives), flush=True)
    c = harness.Client(d, args.principal, timeout=harness.tmo(30))
    rows = {}
    lat = []
    overall_pos, overall_neg, overall = Row("positives"), Row("negatives"), Row("all")
    t0 = time.monotonic()
    for i, (kind, group, rec, q) in enumerate(checks):
        body = {"case_ref": "EVAL-%06d" % i, "purpose": "other",
                "justification": "Independent matching evaluation with fictitious subjects",
                "subject": q}
        s = time.perf_counter()
        r = c.post("/v1/checks", body)
        lat.append(time.perf_counter() - s)
        o = {"kind": kind, "query": q, "true_id": rec["id"] if rec else None, "status": r.status,
             "candidates": [], "body": r.body[:300]}
        if r.status == 200:
            o["candidates"] = r.json().get("candidates") or []
            o["more"] = r.json().get("more_candidates") is True
        for key in ([kind] + ([group] if group.startswith("pair") else [])):
            rows.setdefault(key, Row(key)).add(o)
        (overall_neg if rec is None else overall_pos).add(o)
        overall.add(o)
        if args.progress and (i + 1) % 500 == 0:
            print("  %d/%d checks, %.0fs" % (i + 1, len(checks), time.monotonic() - t0), flush=True)
    c.close()
    elapsed = time.monotonic() - t0
    report(args, ctx, rows, overall_pos, overall_neg, overall, lat, elapsed)
    return 0


def report(args, ctx, rows, pos, neg, allr, lat, elapsed):
    print()
    print("Positives (recall = the true record among the candidates; %):")
    print("%-44s %5s %8s %8s %7s %7s %4s" % ("kind", "n", "recall", "in_match", "rank1", "wrong_m", "err"))
    single = [k[0] for k in KINDS]
    pair_groups = sorted(k for k in rows if k.startswith("pair:"))
    for name in single + pair_groups + ["positives"]:
        r = pos if name == "positives" else rows.get(name)
        if r is None or r.n == 0:
            continue
        print("%-44s %5d %8.2f %8.2f %7.2f %7.2f %4d" % (name, r.n, pct(r.found, r.n), pct(r.in_match, r.n),
                                                       pct(r.rank1, r.n), pct(r.wrong_match, r.n), r.errors))
    print()
    print("Negatives (any = some candidate shown, i.e. possible_match or match; %):")
    print("%-44s %5s %8s %8s %4s" % ("kind", "n", "any", "in_match", "err"))
    for name, _ in NEGATIVES:
        r = rows.get(name)
        if r:
            print("%-44s %5d %8.2f %8.2f %4d" % (name, r.n, pct(r.any_candidate, r.n), pct(r.wrong_match, r.n),
                                               r.errors))
    print("%-44s %5d %8.2f %8.2f %4d" % ("negatives", neg.n, pct(neg.any_candidate, neg.n),
                                        pct(neg.wrong_match, neg.n), neg.errors))

    # Pairs one by one: only the ones that missed, worst first.
    pair_rows = [r for k, r in rows.items() if "+" in k and not k.startswith("pair:") and r.misses]
    pair_rows.sort(key=lambda r: (pct(r.found, r.n), r.name))
    if pair_rows:
        print()
        print("Pairs with misses:")
        for r in pair_rows:
            print("  %-50s %3d/%-3d found" % (r.name, r.found, r.n))

    # Single kinds first (what the matcher should fix generically), then
    # pairs; worst recall first in each.
    singles = [rows[k[0]] for k in KINDS if k[0] in rows and rows[k[0]].misses and rows[k[0]].n]
    singles.sort(key=lambda r: (pct(r.found, r.n), r.name))
    print()
    print("Misses of the worst kinds (query as given | family -> candidates; true record):")
    for r in singles[:args.kinds_shown] + pair_rows[:args.kinds_shown]:
        print("== %s: %d of %d missed%s" % (r.name, len(r.misses), r.n,
                                           ", %d of them said more_candidates" % r.warned if r.warned else ""))
        for o in r.misses[:args.misses if "+" not in r.name else min(2, args.misses)]:
            print("  query: %s" % describe_query(o["query"]))
            if o["status"] != 200:
                print("    HTTP %d %s" % (o["status"], o["body"]))
            tr = ctx.reg.by_id.get(o["true_id"])
            print("    true: %s" % describe_record(tr))
            for cand in o["candidates"][:3]:
                print("    cand: %s" % describe_candidate(cand, ctx.reg))
            if not o["candidates"]:
                print("    cand: (none)")
    if pos.wrong:
        print()
        print("Another person in the match band (positives):")
        for o in pos.wrong[:args.misses]:
            print("  %s: %s" % (o["kind"], describe_query(o["query"])))
            print("    true: %s" % describe_record(ctx.reg.by_id.get(o["true_id"])))
            for cand in o["candidates"][:3]:
                print("    cand: %s" % describe_candidate(cand, ctx.reg))
    neg_rows = [rows[n] for n, _ in NEGATIVES if n in rows and rows[n].misses]
    if neg_rows:
        print()
        print("Negatives shown a candidate (first few of each kind):")
        for r in neg_rows:
            print("== %s: %d of %d with a candidate" % (r.name, len(r.misses), r.n))
            for o in r.misses[:min(3, args.misses)]:
                print("  query: %s" % describe_query(o["query"]))
                for cand in o["candidates"][:2]:
                    print("    cand: %s" % describe_candidate(cand, ctx.reg))

    neg_match = [(r.name, o) for r in neg_rows for o in r.misses
                 if o["candidates"] and o["candidates"][0].get("band") == "match"]
    if neg_match:
        print()
        print("Negatives in the match band (every one, with the candidate's reasons):")
        for name, o in neg_match:
            print("  %s: %s" % (name, describe_query(o["query"])))
            for cand in o["candidates"][:2]:
                print("    cand: %s" % describe_candidate(cand, ctx.reg))

    below = [k[0] for k in KINDS if k[0] in rows and rows[k[0]].n and pct(rows[k[0]].found, rows[k[0]].n) < 99.0]
    print()
    print("kinds with recall below 99%%: %s" % (", ".join(below) or "none"))
    missed = pos.n - pos.found
    print("misses the answer warned of (more_candidates: more may fit than it shows): %d of %d"
          % (pos.warned, missed))
    ms = [x * 1000.0 for x in lat]
    print("API latency (one keep-alive connection, sequential): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
          "max %.2f ms; %d checks in %.1fs" % (percentile(ms, 50), percentile(ms, 90), percentile(ms, 99),
                                              max(ms) if ms else 0.0, len(ms), elapsed))
    ns = rows.get("neg_namesake")
    print("RESULT eval=api records=%d checks=%d recall=%.2f in_match=%.2f rank1=%.2f wrong_match=%.3f "
          "neg_possible=%.2f neg_match=%.2f namesake_match=%d kinds_below_99=%d errors=%d "
          "p50_ms=%.2f p99_ms=%.2f silent_misses=%d"
          % (len(ctx.reg.records), allr.n, pct(pos.found, pos.n), pct(pos.in_match, pos.n),
             pct(pos.rank1, pos.n), pct(allr.wrong_match, allr.n), pct(neg.any_candidate, neg.n),
             pct(neg.wrong_match, neg.n), ns.wrong_match if ns else 0, len(below), allr.errors,
             percentile(ms, 50), percentile(ms, 99), missed - pos.warned))


def main():
    ap = argparse.ArgumentParser(description="Independent evaluation of matching through the daemon's API.")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"), help="build folder (default $BUILD or build)")
    ap.add_argument("--records", type=int, default=100000, help="register size (default 100000)")
    ap.add_argument("--register", help="use this register JSONL instead of generating one")
    ap.add_argument("--seed", type=int, default=20261129, help="seed of the register and the checks")
    ap.add_argument("--per-kind", type=int, default=30, help="checks per single corruption kind (default 30)")
    ap.add_argument("--pairs", type=int, default=250, help="checks with two corruptions (default 250)")
    ap.add_argument("--negatives", type=int, default=100, help="checks per negative kind (default 100)")
    ap.add_argument("--misses", type=int, default=8, help="misses shown per kind (default 8)")
    ap.add_argument("--kinds-shown", type=int, default=8, help="worst kinds whose misses are shown (default 8)")
    ap.add_argument("--principal", default="cw.nat",
                    help="ACL principal of the integration harness to check as (default cw.nat: "
                         "caseworker, national scope, so candidates carry names and reasons)")
    ap.add_argument("--progress", action="store_true", help="print progress every 500 checks")
    ap.add_argument("--show-queries", action="store_true", help="print one query of each kind")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (store, logs, PKI)")
    args = ap.parse_args()
    if args.records < 100 or args.per_kind < 1 or args.pairs < 0 or args.negatives < 0:
        ap.error("--records must be at least 100 and --per-kind at least 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
