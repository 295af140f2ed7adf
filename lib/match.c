/*
 * match.c - a disclosure check: candidates from the store's indexes,
 * Fellegi-Sunter scoring of every name of every candidate, bands and
 * reasons (match.h; the method is written up in docs/matching.md).
 *
 * Three parts:
 *   - the indexer the store calls on every create/replace/delete: it
 *     normalises each name once and writes the blocking keys and a compact
 *     binary "match view" of the record, so that scoring never parses JSON;
 *   - candidate generation: the union of several blocking keys built from
 *     every name of the subject, the most selective keys first, within a
 *     budget that keeps a check near a millisecond on a million records;
 *   - scoring: a log-odds weight per comparison level (one table below,
 *     the only place weights and thresholds live), rarer names weighing
 *     more, the best name pair kept, reasons in the contract's words.
 *
 * Never asserts identity: the bands only rank candidates for a person to
 * decide.  Never lets a namesake with a conflicting date of birth reach
 * the match band.  Never allocates on the check path after
 * match_ctx_new().  Never trusts a stored view: every read is bounded.
 */
#include <stddef.h>
#include <pthread.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disclosure/match.h"

#include "compare.h"
#include "nickname.h"
#include "normalize.h"

/* ------------------------------------------------------------------ */
/* Weights and thresholds: the one place they live (docs/matching.md). */

/* Log-odds weights in bits (log2 of m/u). */
#define W_FAMILY_EXACT_MIN 5.0   /* the commonest surnames */
#define W_FAMILY_EXACT_MAX 14.0  /* a name seen once in a large register */
#define W_FAMILY_EXACT_DEFAULT 10.0
#define W_FAMILY_COMPOUND_DROP 2.0 /* one part of a compound: exact weight less this */
/* Every word of a compound, in another order (Carter-Chapman for
 * Chapman-Carter; Lopez Garcia for Garcia Lopez, as Spanish and
 * Portuguese order the two surnames differently): exact weight less this. */
#define W_FAMILY_REORDERED_DROP 1.0
/* The same words but for the particles (Santos for dos Santos, Berg for
 * van der Berg, Rashid for bin Rashid, Van Den Berg for van der Berg):
 * forms drop and change them; the words' own weight less this. */
#define W_FAMILY_PARTICLES_DROP 0.5
#define W_FAMILY_FUZZY 7.0       /* Jaro-Winkler >= 0.92 or one edit */
#define W_FAMILY_PHONETIC 6.0    /* Double Metaphone codes agree */
#define W_FAMILY_FUZZY_LOW 3.5   /* Jaro-Winkler >= 0.85 */
/* One edit between two family names the register knows well (Hill and
 * Hall, Parker and Barker) that data/surnames.tsv does not list as one
 * name (Clark and Clarke, Davies and Davis): as W_GIVEN_FUZZY_NAMES. */
#define W_FAMILY_FUZZY_NAMES 3.5
/* A listed romanisation or spelling of the same surname (data/surnames.tsv:
 * Zhou and Chow, Guo and Kwok, Park and Bak, Alhassan and Hassan): the
 * weight of a sound-alike, as a nickname is for the given name (each at
 * most the exact weight less W_FUZZY_BELOW_EXACT), and, like a
 * sound-alike, never a match without the district or the middle name
 * behind it (name_needs_support). */
#define W_FAMILY_VARIANT 6.0
/* The name with and without Mac (MacKay and Kay): the part left is most
 * often a surname of its own, of other families (Kay, Rae, Neil, Donald),
 * so no more than a loose spelling (W_FAMILY_FUZZY_LOW). */
#define W_FAMILY_MAC_DROPPED 3.5
#define W_FAMILY_DISAGREE -8.0
/* A family name given as its initial alone ("Jamie W", as a profile on
 * social media shows it; evaluation I found none of them): agrees as an
 * initial with the record's family name, weighed as a given name's
 * initial is, and never the match band (a name agreeing in part). */
#define W_FAMILY_INITIAL 2.0
/* Two typos in a family name of five letters or more that keeps its
 * first letter (Shitj for Smith, Mwhsah for Mensah, Calrie for Clarke):
 * about as likely of the same person as of another (two slips are rare,
 * and few names of that length are two edits from a given one), so it
 * weighs far less against the record than another name, and leaves the
 * date and the postcode to decide.  Nelson and Wilson stay apart: their
 * first letters differ. */
#define W_FAMILY_TWO_EDITS -3.0
/* The family name given is a middle name of the record's, the given
 * names agreeing (Mahmoud Ahmed for Mahmoud Ahmed Al-Sayed; Abdi Omar
 * for Abdi Omar Farah): a name chain of a father's and a grandfather's
 * names, Arabic, Somali or Ethiopian, is written with either as the
 * surname.  The family name's exact weight less this; the match band
 * only with the postcode or the middle name behind it, as a given name
 * that is the record's middle name (name_needs_support). */
#define W_FAMILY_MIDDLE_DROP 3.0
#define W_GIVEN_EXACT_MIN 3.5
#define W_GIVEN_EXACT_MAX 10.0
#define W_GIVEN_EXACT_DEFAULT 7.0
#define W_GIVEN_NICKNAME 5.0
#define W_GIVEN_FUZZY 5.0
#define W_GIVEN_PHONETIC 4.0
#define W_GIVEN_INITIAL 2.0
#define W_GIVEN_FUZZY_LOW 2.0
/* A near spelling between two given names the register knows well
 * (Harry and Barry, Dean and Sean): each is a name in its own right, and
 * of all the slips a hand makes few land on another common name, so the
 * agreement says little more than that both are names.  A name counts as
 * well known when at least NAME_KNOWN_PER records in a million (and
 * never fewer than NAME_KNOWN_MIN records) carry it. */
#define W_GIVEN_FUZZY_NAMES 3.0
#define NAME_KNOWN_PER 20
#define NAME_KNOWN_MIN 3
#define W_GIVEN_MIDDLE_AS_GIVEN_DROP 2.5 /* known by the middle name */
#define W_GIVEN_DISAGREE -5.0
#define W_FUZZY_BELOW_EXACT 1.5  /* a near spelling never outweighs the exact name */
#define W_MIDDLE_EXACT 2.0
#define W_MIDDLE_INITIAL 1.0
#define W_MIDDLE_FUZZY 1.0
#define W_MIDDLE_DISAGREE -1.5
#define W_NAMES_SWAPPED -1.0
/* Every part of the name disagrees, but the date of birth is exactly one
 * of the record's and the postcode agrees to its sector: the names weigh
 * this much, not less (a name changed and not recorded, score_candidate):
 * 14 + 6 - 10 with the full postcode, 14 + 4 - 10 with its sector, both
 * possible_match, never match. */
#define W_NAME_CHANGED -10.0
/* Dates: log2(m/u) with about 22,000 possible dates of birth; a one-digit
 * slip agrees by chance with some 30 dates, so it weighs little. */
#define W_DOB_EXACT 14.0
#define W_DOB_OTHER 12.0
#define W_DOB_SWAPPED 9.0
#define W_DOB_ONE_DIGIT 5.0
#define W_DOB_NEAR 5.0       /* 1-3 days apart: about as likely by chance as a one-digit slip */
#define W_DOB_YEAR 8.0
#define W_DOB_MONTH_ONLY 6.0 /* the same month, one date the 1st: possibly the month only */
#define W_DOB_YEAR_ONLY 4.0  /* the same year, one date 1 January: possibly the year only */
/* 4 to 45 days apart (dob:weeks_apart), across a year's end too: about
 * 80 dates agree so by chance, a share of 2^-8 of a register spread over
 * sixty years of births, and a birthday given weeks out is a known slip
 * (a form filled in from memory, a date heard wrongly): log2(m/u) is
 * near nothing.  But at 0 the namesakes of a common name born within
 * weeks of the date, living elsewhere, filled the ten places before
 * people who fit better: a name changed and not recorded (W_NAME_CHANGED,
 * 10 bits) was found 90.7% of the time at 1,000,000 records, against 98.0%
 * before this level.  At -3 they need a name rare enough to say
 * something (95.3% at -2, 96.7% at -3), and the outside probes' dates
 * weeks out are found as often as at 0.  Before it, a date weeks out in
 * the same year weighed -6 (dob:same_year) and one across a year's end
 * -12.  Never enough for the match band (docs/matching.md section 8,
 * "A birthday weeks out"). */
#ifndef W_DOB_WEEKS
#define W_DOB_WEEKS -3.0
#endif
/* The year one out and one slip more (dob:year_and_slip: 29 July 1981
 * for 28 July 1982): two mistakes in one date, each a few per cent of
 * dates given, against 18 to 44 dates that agree so by chance: log2(m/u)
 * a little below nothing.  As a mismatch (-12) it lost the person
 * behind an exact name (bench-match's dob_year+slip: 76.0% found at
 * 100,000 records, 72.7% at 1,000,000).  At -6, as a date in the same
 * year is weighed, 99.3% at both, and negatives with a candidate 26.00 ->
 * 26.22% and 67.44 -> 68.00%; at -3 99.3% too, ranked first more often
 * (91.3% against 84.0% at 100,000), but negatives 27.00% and 69.11%, and
 * name_changed at 1,000,000 96.7 -> 95.3%.  Never enough for the match
 * band. */
#ifndef W_DOB_YEAR_AND_SLIP
#define W_DOB_YEAR_AND_SLIP -6.0
#endif
/* The same year, another birthday: a date given wrongly by someone who
 * knew the year (months out).  As a mismatch (-12) it hid the
 * person behind an exact name; at -6 an exact name keeps them in view as a
 * possible match when it is rare enough to say something, while the many
 * namesakes of a common name born the same year stay out (at +2, half as
 * many again of bench-match's negatives got a candidate, and the p99 at
 * 1,000,000 records went from 0.6 to 1.0 ms).  Never enough for the match
 * band. */
#define W_DOB_SAME_YEAR -6.0
/* The birthday two years apart (not one digit: 1979 and 1981): two dates
 * agree so by chance against some thirty for a one-digit slip, and it is
 * a rarer mistake; weighed as the slip is. */
#define W_DOB_YEAR_TWO 5.0
/* The birthday three to five years apart: an age guessed or miscounted.
 * Neither way, and never enough for the match band: the names and the
 * postcode must carry a possible match (Andrew Bailey born 1996-06-19 at
 * WV14 4EQ for the one born 2000-06-19 there), and a common name's
 * namesakes who share a birthday stay out.  Six to ten years apart, an
 * age lied about (a year changed and the birthday kept: an evaluation's
 * Lee Caldwick, "1982-03-14", born 1975-03-14, was no_match at -12), it
 * weighs as an age that far out does, W_DOB_AGE_FAR (dob_score_dates):
 * a rare name keeps him in view; at 0 a million records' namesakes who
 * share the birthday were read and listed. */
#define W_DOB_SAME_BIRTHDAY 0.0
#define W_DOB_AGE 2.5
/* An age more than AGE_GUESS_YEARS from every date of the record's: as a
 * year of birth that far out (W_DOB_PART_MISMATCH), so that a namesake
 * ten years from the age given is not listed on the name alone. */
#define W_DOB_AGE_INCONSISTENT -12.0
/* An age given for a date: within AGE_NEAR_YEARS of the record's it is
 * consistent (W_DOB_AGE), within AGE_ROUGH_YEARS it weighs nothing either
 * way, within AGE_GUESS_YEARS W_DOB_AGE_GUESS, further it is inconsistent.
 * An age is often a guess by someone who knows the person by sight, and
 * four or five years out is a common one: about a tenth of guesses
 * against a fifteenth of a register's people, log2(m/u) near nothing.
 * At 0, though, the namesakes of a common name within five years of the
 * age were scored too, and the scan's budget ran out before the person
 * in one check in 4,000 at 1,000,000 records (an exact age, no postcode);
 * at -3 only names rare enough to say something keep such a person in
 * view. */
#define AGE_NEAR_YEARS 1
#define AGE_ROUGH_YEARS 3
#define AGE_GUESS_YEARS 5
#define W_DOB_AGE_GUESS -3.0
/* Six to ten years out (AGE_FAR_YEARS) an age, or a year of birth given
 * alone, still conflicts (never the match band) but weighs half what a
 * date that differs does: Clare's Law's partners give themselves out as
 * years younger than they are, and an independent evaluation's Marc
 * O'Neill, "34", the only one on its register and 41, was no_match at
 * -12 (as were 33 of its 40 unique names given six to eight years
 * young).  Further out, -12: a namesake sixteen years from the age given
 * is not listed on the name alone (evaluation G). */
#define AGE_FAR_YEARS 10
#define W_DOB_AGE_FAR -6.0
#define W_DOB_MISMATCH -12.0
/* A date of birth that conflicts (another date, an age far out) where the
 * names agree (the family name exactly or as a listed variant, the given
 * name exactly or as a pet form) and so does the postcode, in full: the
 * date mis-entered or lied about (Clare's Law: a partner who gave a false
 * age), or a relative of the same name in the household.  Both are for
 * the officer to see and neither is the match (the date conflicts): it
 * weighs as an age guessed five years out.  An independent evaluation's
 * David Roberts, 1967-10-06, LE5 0XT, was no_match beside the David
 * Roberts born 1977-03-09 who lives there (at -12 a common name's weight
 * and the postcode's could not carry it); and David Brown, "47", at the
 * address of the David Brown born 1972, was left out of a list of ten
 * namesakes of that age living elsewhere. */
#define W_DOB_CONFLICT_AT_ADDRESS W_DOB_AGE_GUESS
/* A date of birth that makes the person older than this, today, is not
 * the person's: 1900-01-01 is what forms hold where nobody knew it,
 * 1903-08-28 is 2003-08-28 with the century slipped (a two-digit year
 * read the wrong way), 1905 is 1965 with a digit slipped.  A record's
 * date it agrees with as a slip (one digit) counts as usual; one it
 * conflicts with weighs nothing, as an absent date would, and says
 * dob:implausible, rather than -12 against every record (which hid an
 * evaluation's David Palmer, "1900-01-01", at his own postcode, and its
 * only Robert Russell-Williams, "1903-08-28"). */
#define DOB_AGE_MAX 110
/* Such a date a hundred years on, the same day, is a record's date: the
 * century slipped, a two-digit year read the wrong way.  As likely by
 * chance as the year off by one (one date agrees so), and a slip as
 * that is: weighed so, and never the match band without the postcode or
 * the middle name behind it (as a near date). */
#define W_DOB_CENTURY W_DOB_YEAR
/* A check's date of birth known in part ("1970-03", "1970"): what is
 * known agrees, weighed as a record's placeholder date is (one given as
 * the 1st, or as 1 January: the month and year, or the year, all that can
 * agree), and, like an age, never enough for the match band.  Otherwise
 * the years decide: one out weighs nothing either way (so does the right
 * year in another month), two to five out is weighed as an age guessed
 * that far, further as dates that differ (the year of a date was
 * known: an age rounds a guess, and the namesakes of a common name born
 * in other decades are ruled out by their tags, unread). */
#define W_DOB_PART_MONTH W_DOB_MONTH_ONLY
#define W_DOB_PART_YEAR W_DOB_YEAR_ONLY
#define W_DOB_PART_NEAR 0.0
#define W_DOB_PART_APART W_DOB_AGE_GUESS
#define W_DOB_PART_MISMATCH W_DOB_MISMATCH
#define DOB_PART_APART_YEARS 5
#define W_POSTCODE_FULL 6.0
#define W_POSTCODE_SECTOR 4.0
#define W_POSTCODE_DISTRICT 3.0
#define W_POSTCODE_AREA 1.5
#define W_POSTCODE_DIFFERENT -1.0
#define W_SEX_MISMATCH -4.0
#define M_PROB 0.95 /* P(agreement | same person), for the frequency weights */

/*
 * Bands, on the summed weight.  The match threshold grows with the
 * register: among N records about N * 2^-W score W or more by chance, so
 * the match band asks for log2(N) + THRESHOLD_MATCH_MARGIN bits (and never
 * fewer than THRESHOLD_MATCH_MIN).  The possible_match threshold stays
 * low on purpose: a miss costs more than a look at a namesake.
 * The displayed score is a logistic map of the weight with 0.50 at the
 * possible_match threshold and 0.90 at the match threshold.
 */
#define THRESHOLD_MATCH_MIN 20.0
#ifndef THRESHOLD_MATCH_MARGIN
#define THRESHOLD_MATCH_MARGIN 6.5
#endif
#define THRESHOLD_POSSIBLE 8.0
/* The match band says "very likely this person", which cannot be said of
 * two records: when the runner-up is within this many bits of the best,
 * neither is a match (a person must tell them apart). */
#define MATCH_MARGIN 3.0
/* Weights closer than this are equal (scored_before). */
#define W_EQUAL 1e-9

/* Comparison thresholds of the string comparators. */
#define JW_HIGH 0.92
#define JW_LOW 0.85

/* Candidate generation budget (see docs/matching.md, "Blocking"). */
#ifndef KEY_CAP /* (overridable at build time for measurements) */
#define KEY_CAP 400       /* keys with more records are left to more selective keys */
#endif
/* With a date of birth or an age to rule namesakes out by their entries'
 * tags, larger keys are worth reading: most entries cost a comparison of
 * 32 bits, not a view. */
#define KEY_CAP_TAGGED 3000
#define REF_BUDGET 6000   /* index entries examined per check at most */
/* Keys that pair one name with a weaker detail (F: family + initial, Y:
 * family + year of birth, G: given name + year of birth) are for the
 * rarer names.  Under a common name they hold hundreds of people, each a
 * view to read, and the people they would add are found by the other
 * keys: bench-match finds the same people at 100,000 and 1,000,000
 * records without them at all, and reads half the views. */
#define SECONDARY_CAP 40
#ifndef SCAN_BUDGET
#define SCAN_BUDGET 350   /* views read per check at most */
#endif
#define FALLBACK_SCAN 250 /* of the first key over its cap: read partly, budget permitting */
#define DECISIVE_MARGIN 4.0 /* a match this far above the threshold ends the search... */
#define EARLY_STOP_MIN 16  /* ...except through keys this small, which cost nothing */
#define MORE_PROBES 8     /* views read to tell whether more would fit */
#define VIEW_GROUP 8       /* views fetched together (store_get_views) */
#define FAMILY_SCAN_MAX 24 /* a check without a date reads a family name this rare whole */
_Static_assert(VIEW_GROUP <= STORE_VIEWS_MAX, "a group is fetched in one call");

/* ------------------------------------------------------------------ */

#define INDEXER_VERSION 22
#define VIEW_MAGIC 0xD1
#define VIEW_NAMES_MAX 16
#define VIEW_DOBS_MAX 4
#define VIEW_POSTCODES_MAX 8
#define PC_MAX 15

#define QKEYS_MAX 768
#define QKEY_LEN 48
#define SEEN_SLOTS 8192 /* > 2 * SCAN_BUDGET, a power of two */

/*
 * The tag of every index entry of a record (store.h): its dates of birth
 * and where it lived, so that a check can rule a namesake born on another
 * day or living elsewhere out from the index alone, without reading the
 * view.
 *   bit 31      set: the tag is filled in (0: nothing known, never ruled out)
 *   bit 30      dates that do not fit below: never ruled out by date
 *   bit 29      bits 0-11 hold another date of birth, not the districts
 *   bits 12-28  the date of birth: year - 1850 (8 bits, 0: none), month
 *               (4), day (5)
 *   bits 0-11   with bit 29: one other date of birth, its year's distance
 *               from the first plus 4 (3 bits), month (4), day (5);
 *               without: where the record lived, one bit for every
 *               address's postcode: six pairs of bits, the pair by hash
 *               of the postcode's area (the letters it begins with), the
 *               bit of the pair by hash of its district (outward code).
 *               No bit set: no postcode at all.
 * One other date is the common case (an alias's); a record with more, or
 * with dates outside 1851-2105 or three years apart, is never ruled out
 * by date, and one with another date never by postcode.
 *
 * The area bits are what rule out most namesakes of a check that has no
 * date of birth: living in another area they weigh at most
 * W_POSTCODE_DIFFERENT, living in the same one W_POSTCODE_AREA, and at a
 * million records a common name has hundreds of them.
 */
#define TAG_KNOWN (1u << 31)
#define TAG_UNFIT (1u << 30)
#define TAG_OTHER (1u << 29)
#define TAG_MAIN_SHIFT 12
#define TAG_YEAR_BASE 1850
#define TAG_AREA_PAIRS 6
#define QKEY_SLOTS 2048 /* > 2 * QKEYS_MAX, a power of two */
/* The date weights of the tags a check met, by tag (tag_rules_out):
 * 16 KiB a context. */
#define TAG_DOB_BITS 10
#define TAG_DOB_SLOTS (1u << TAG_DOB_BITS)
struct tag_dob_memo {
	uint32_t tag, gen;
	double w_dob;
};
/* Entries read together with a key's count (one B-tree descent instead of
 * two for the keys a check will read), per key at most and per check. */
#define KEY_REFS_MAX 256
#define REF_ARENA 4096
#define NICK_CODE_SLOTS 512 /* primary codes of the name tables' names, a power of two */
#define HEARD_READINGS_MAX 6 /* readings of a check's names: as heard (Cyrillic, Greek, Arabic), Somali spelling */
#define SUBJ_VARIANTS ((CHECK_MAX_NAMES + HEARD_READINGS_MAX) * 2)
#define NICK_VARIANTS_MAX 24
/* The family name's listed variants kept per reading, and the sounds of
 * them used in keys. */
#define FAMILY_VARIANTS_MAX 16
#define FAMILY_VARIANT_CODES_MAX 4
/* Sounds of a given name and its variants used in keys: the own ones
 * first, then the variants' in table order (bounds the keys of a check). */
#define QUERY_GIVEN_CODES_MAX 6
/* The same in the postcode sector (P keys), where more are looked up:
 * a few records each, and the one key left to a nickname whose family
 * name has a typo and whose date of birth is a year out (Johnny Wlson of
 * WF9 8JQ for Jonathan Wilson), when the nickname is in large groups of
 * the table (Johnny: John's and Jonathan's). */
#define SECTOR_GIVEN_CODES_MAX 12
/* Sounds of the family name one slip away, looked up for a check without
 * a date of birth (slip_codes). */
#define SLIP_CODES_MAX 12
/* Sounds of the family names no record spells so, one letter put back or
 * replaced, looked up for a check without a date of birth: at most this
 * many a check (typo_keys). */
#ifndef TYPO_CODES_MAX
#define TYPO_CODES_MAX 96
#endif

/*
 * The reasons a candidate carries, each one object: the scorer hands them
 * out and compares them by address (some 600 strcmp() calls a check
 * decided that two reasons differ, 2-4% of its CPU).  Every reason the
 * scorer gives is one of these.
 */
static const char R_DOB_ABSENT[] = "dob:absent";
static const char R_DOB_AGE_APPROXIMATE[] = "dob:age_approximate";
static const char R_DOB_AGE_CONSISTENT[] = "dob:age_consistent";
static const char R_DOB_AGE_GUESS[] = "dob:age_guess";
static const char R_DOB_AGE_INCONSISTENT[] = "dob:age_inconsistent";
static const char R_DOB_CENTURY_SLIPPED[] = "dob:century_slipped";
static const char R_DOB_DAY_MONTH_SWAPPED[] = "dob:day_month_swapped";
static const char R_DOB_EXACT[] = "dob:exact";
static const char R_DOB_IMPLAUSIBLE[] = "dob:implausible";
static const char R_DOB_MISMATCH[] = "dob:mismatch";
static const char R_DOB_MONTH_ONLY[] = "dob:month_only";
static const char R_DOB_NEAR[] = "dob:near";
static const char R_DOB_ONE_DIGIT[] = "dob:one_digit";
static const char R_DOB_OTHER_DOB[] = "dob:other_dob";
static const char R_DOB_PARTIAL_EXACT[] = "dob:partial_exact";
static const char R_DOB_PARTIAL_MISMATCH[] = "dob:partial_mismatch";
static const char R_DOB_PARTIAL_SAME_YEAR[] = "dob:partial_same_year";
static const char R_DOB_PARTIAL_YEARS_APART[] = "dob:partial_years_apart";
static const char R_DOB_PARTIAL_YEAR_OFF_BY_ONE[] = "dob:partial_year_off_by_one";
static const char R_DOB_SAME_BIRTHDAY[] = "dob:same_birthday";
static const char R_DOB_SAME_YEAR[] = "dob:same_year";
static const char R_DOB_WEEKS_APART[] = "dob:weeks_apart";
static const char R_DOB_YEAR_AND_SLIP[] = "dob:year_and_slip";
static const char R_DOB_YEAR_OFF_BY_ONE[] = "dob:year_off_by_one";
static const char R_DOB_YEAR_OFF_BY_TWO[] = "dob:year_off_by_two";
static const char R_DOB_YEAR_ONLY[] = "dob:year_only";
static const char R_FAMILY_COMPOUND_PART[] = "family:compound_part";
static const char R_FAMILY_EXACT[] = "family:exact";
static const char R_FAMILY_FUZZY[] = "family:fuzzy";
static const char R_FAMILY_INITIAL[] = "family:initial";
static const char R_FAMILY_MIDDLE_NAME[] = "family:middle_name";
static const char R_FAMILY_MISMATCH[] = "family:mismatch";
static const char R_FAMILY_MISSING[] = "family:missing";
static const char R_FAMILY_PARTICLES[] = "family:particles";
static const char R_FAMILY_PHONETIC[] = "family:phonetic";
static const char R_FAMILY_REORDERED[] = "family:reordered";
static const char R_FAMILY_SINGH_KAUR[] = "family:singh_kaur";
static const char R_FAMILY_TWO_EDITS[] = "family:two_edits";
static const char R_FAMILY_VARIANT[] = "family:variant";
static const char R_GIVEN_ANOTHER_NAME[] = "given:another_name";
static const char R_GIVEN_EXACT[] = "given:exact";
static const char R_GIVEN_FUZZY[] = "given:fuzzy";
static const char R_GIVEN_INITIAL[] = "given:initial";
static const char R_GIVEN_MIDDLE_NAME[] = "given:middle_name";
static const char R_GIVEN_MISMATCH[] = "given:mismatch";
static const char R_GIVEN_MISSING[] = "given:missing";
static const char R_GIVEN_NICKNAME[] = "given:nickname";
static const char R_GIVEN_PHONETIC[] = "given:phonetic";
static const char R_MATCH_AMBIGUOUS[] = "match:ambiguous";
static const char R_MIDDLE_EXACT[] = "middle:exact";
static const char R_MIDDLE_FUZZY[] = "middle:fuzzy";
static const char R_MIDDLE_INITIAL[] = "middle:initial";
static const char R_MIDDLE_MISMATCH[] = "middle:mismatch";
static const char R_NAMES_SPLIT[] = "names:split";
static const char R_NAMES_SWAPPED[] = "names:swapped";
static const char R_NAME_ALIAS[] = "name:alias";
static const char R_NAME_DIFFERENT[] = "name:different";
static const char R_NAME_TRANSLITERATED[] = "name:transliterated";
static const char R_POSTCODE_AREA[] = "postcode:area";
static const char R_POSTCODE_DIFFERENT[] = "postcode:different";
static const char R_POSTCODE_DISTRICT[] = "postcode:district";
static const char R_POSTCODE_FULL[] = "postcode:full";
static const char R_POSTCODE_SECTOR[] = "postcode:sector";
static const char R_SEX_MISMATCH[] = "sex:mismatch";

const char *band_name(enum band b)
{
	switch (b) {
	case BAND_MATCH: return "match";
	case BAND_POSSIBLE_MATCH: return "possible_match";
	default: return "no_match";
	}
}

/* A token with its phonetic codes. */
struct mtok {
	const char *s; /* NUL-terminated */
	uint8_t len;
	char dm1[DM_CODE_MAX + 1], dm2[DM_CODE_MAX + 1];
};

/* A normalised name: of the subject (tokens in the ctx) or of a record
 * (tokens in the view bytes). */
struct mname {
	struct mtok given[NORM_TOKENS_MAX], middle[NORM_TOKENS_MAX], family[NORM_TOKENS_MAX];
	uint8_t ng, nm, nf;
	uint8_t kind;
	bool translit;
	bool arabic; /* written in Arabic script (romanised without short vowels) */
	char family_joined[NORM_TOKENS_MAX * (NORM_TOKEN_MAX + 1)];
	uint8_t family_joined_len;
	/* original spelling (records only), not NUL-terminated */
	const char *orig[3];
	uint16_t orig_len[3];
	/* frequency weights (subject only) */
	double w_family_tok[NORM_TOKENS_MAX];
	size_t family_count[NORM_TOKENS_MAX]; /* records with the token; 0 unknown */
	double w_family_joined;
	double w_given;
	/* Whether any record has a family token / first given name spelt as
	 * this name's (subject only): if not, neither can agree exactly,
	 * which bounds what the names can weigh (name_bound). */
	bool family_seen, given_seen;
	/* The most the given and middle names (and a swap) can weigh
	 * against any record's name (subject only; subject_prepare). */
	double rest_ub;
	/* The family name's listed variants (subject only; subject_prepare):
	 * none, when the name is not in data/surnames.tsv, which spares the
	 * scorer the look-ups. */
	const char *fam_vars[FAMILY_VARIANTS_MAX];
	uint8_t n_fam_vars;
	/* The first given name's number in the nickname table, -1 if not
	 * listed (subject only; subject_prepare): looked up once a check,
	 * not once a record. */
	long nick_given;
};

/* A decoded match view. */
struct rview {
	uint8_t sex, mappa, status;
	struct date dobs[VIEW_DOBS_MAX];
	uint8_t n_dobs;
	bool has_main_dob; /* dobs[0] is the record's dob, the rest other_dobs */
	char postcodes[VIEW_POSTCODES_MAX][PC_MAX + 1];
	uint8_t n_postcodes;
	const char *id, *force;
	uint8_t id_len, force_len;
	struct mname names[VIEW_NAMES_MAX];
	uint8_t n_names;
};

struct matcher {
	struct nickname_table *nick;
	struct nickname_table *sur; /* family-name variants (data/surnames.tsv) */
	struct store_indexer indexer;
	struct normalizer *norm; /* for the indexer, under lock */
	pthread_mutex_t lock;
	/* indexer scratch, under lock */
	struct norm_part parts[VIEW_NAMES_MAX][3];
	bool translit[VIEW_NAMES_MAX];
};

struct qkey {
	char k[QKEY_LEN];
	uint8_t len;
	bool counted; /* count already read */
	bool read;    /* every entry of it examined (collect_fn) */
	size_t count;
	/* The entries, read with the count when the key is small and the
	 * check's arena has room (n_refs == count), else 0: read later. */
	uint32_t refs_at, n_refs;
};

struct scored {
	uint32_t recno;
	const void *view; /* the record's match view, valid until the read ends */
	size_t view_len;
	double w;
	enum band band;
	size_t name_idx;
	bool decisive;
	const char *reasons[MATCH_MAX_REASONS];
	size_t n_reasons;
};

#define MEMO_SLOTS 1024
#define MEMO_KEY 64

struct memo_entry {
	uint32_t gen, hash;
	uint16_t salt;
	uint8_t len;
	char key[MEMO_KEY];
	double w;
	const char *why;
};

struct match_ctx {
	const struct matcher *m;
	struct memo_entry memo[MEMO_SLOTS];
	struct normalizer *norm;
	/* the subject */
	struct norm_part parts[CHECK_MAX_NAMES + HEARD_READINGS_MAX][3];
	struct mname subj[SUBJ_VARIANTS];
	bool swapped[SUBJ_VARIANTS];
	bool split[SUBJ_VARIANTS]; /* a whole name from the family field, cut (subject_add_split) */
	size_t n_subj;
	char postcode[PC_MAX + 1];
	char sector[16];
	/* blocking */
	struct qkey keys[QKEYS_MAX];
	struct qkey keys_sorted[QKEYS_MAX]; /* qkeys_by_count()'s */
	size_t n_keys;
	/* the keys already added (an index into keys), valid when the
	 * generation is this check's: a check emits ~100 keys, many twice */
	uint16_t qkey_idx[QKEY_SLOTS];
	uint32_t qkey_gen[QKEY_SLOTS];
	/* primary Double Metaphone codes of the nickname table's names, by
	 * their (stable) address in the shared table: kept across checks */
	struct {
		const char *name;
		char code[DM_CODE_MAX + 1];
	} nick_code[NICK_CODE_SLOTS];
	struct store_ref ref_arena[REF_ARENA];
	size_t ref_used;
	struct store_ref cands[SCAN_BUDGET + 1024]; /* record numbers and tags */
	size_t n_cands, cand_limit;
	size_t n_refs_seen, ref_limit; /* index entries examined, and the most */
	size_t n_pruned; /* entries ruled out by their tags */
	/* Whether the answer may leave out records in the possible band
	 * (more_candidates): set_aside, one was left out because the list was
	 * full (weighs_too_little, top_insert); cut, a key was passed over or
	 * read in part, or did not fit in the table; truncated, such a key
	 * was one of the name's own (not F, Y or G: a name too common to
	 * read whole, or the scan's budget spent). */
	bool set_aside, cut, truncated, key_stopped;
	size_t n_probes; /* records probe_left_out was asked about */
	size_t n_probe_views; /* and read */
	struct rview probe_view;
	struct store_reader *r; /* of the check under way */
	uint32_t district_bit, area_pair; /* of the subject's postcode in a tag (0: none) */
	/* of a subject with an age and no date: the dates of birth within
	 * AGE_NEAR_YEARS of it, AGE_ROUGH_YEARS and AGE_GUESS_YEARS
	 * (dob_score_dates's three tolerances) */
	struct age_window age_near, age_rough, age_guess, age_far;
	const struct check_subject *s; /* the subject of the check under way */
	uint32_t seen_key[SEEN_SLOTS];
	uint32_t seen_gen[SEEN_SLOTS];
	uint32_t gen;
	struct tag_dob_memo tag_dob[TAG_DOB_SLOTS]; /* tag_rules_out's date weights, this check's (gen) */
	/* scoring */
	struct rview view;
	struct scored top[MATCH_MAX_CANDIDATES];
	size_t n_top;
	double t_match; /* the match threshold for this register's size */
	double name_bound; /* the most any name pair can weigh in this check */
	struct date today;
	/* The check's date of birth would make the person older than
	 * DOB_AGE_MAX: a date it conflicts with weighs nothing
	 * (dob:implausible). */
	bool dob_implausible;
	/* No reading of the subject has a family name ("Paul", "-"): the G
	 * keys (given name and year of birth) are the name's own keys, read
	 * as the primary keys are, not as secondary ones under
	 * SECONDARY_CAP.  An evaluation's "Paul -", 35, in M24 answered one
	 * Paul of that age, living elsewhere, and said the list was whole:
	 * the Pauls born in those years were too many for a secondary key,
	 * and the Paul Evans of M24 was never read. */
	bool given_only;
	/* The key being read pairs the subject's postcode sector with a
	 * sound of the names (P): a record at the subject's address whose
	 * names both agree is met through such a key, so only there may its
	 * tag bound ease a conflicting date (W_DOB_CONFLICT_AT_ADDRESS).  A
	 * record first met through another key is ruled out as before, and
	 * weighed again when the P key is read.  (The tag's district is a
	 * bit of twelve: through the N keys of a common name at a million
	 * records it let a twelfth of them be read, 61 -> 74 views a check.) */
	bool sector_key;
	/* And that date a hundred years on, when it is not in the future: the
	 * century slipped (W_DOB_CENTURY); year 0 = none. */
	struct date dob_century;
	size_t n_records;
};

/* ------------------------------------------------------------------ */
/* Helpers */

/* The Double Metaphone codes of s into t, zero to their last byte: codes
 * are compared four bytes at once (codes_agree), as the views hold them. */
static void dm_codes(struct mtok *t, const char *s, size_t len)
{
	memset(t->dm1, 0, sizeof(t->dm1));
	memset(t->dm2, 0, sizeof(t->dm2));
	double_metaphone(s, len, t->dm1, t->dm2);
}

static void tok_codes(struct mtok *t)
{
	dm_codes(t, t->s, t->len);
}

static void name_join_family(struct mname *n)
{
	size_t k = 0;

	for (size_t i = 0; i < n->nf; i++) {
		memcpy(n->family_joined + k, n->family[i].s, n->family[i].len);
		k += n->family[i].len;
	}
	n->family_joined[k] = '\0';
	n->family_joined_len = (uint8_t)k;
}

static void name_from_parts(struct mname *n, struct norm_part p[3])
{
	memset(n, 0, offsetof(struct mname, family_joined));
	n->ng = p[NORM_GIVEN].n;
	n->nm = p[NORM_MIDDLE].n;
	n->nf = p[NORM_FAMILY].n;
	for (size_t i = 0; i < n->ng; i++) {
		n->given[i].s = p[NORM_GIVEN].tok[i];
		n->given[i].len = p[NORM_GIVEN].len[i];
		tok_codes(&n->given[i]);
	}
	for (size_t i = 0; i < n->nm; i++) {
		n->middle[i].s = p[NORM_MIDDLE].tok[i];
		n->middle[i].len = p[NORM_MIDDLE].len[i];
		tok_codes(&n->middle[i]);
	}
	for (size_t i = 0; i < n->nf; i++) {
		n->family[i].s = p[NORM_FAMILY].tok[i];
		n->family[i].len = p[NORM_FAMILY].len[i];
		tok_codes(&n->family[i]);
	}
	name_join_family(n);
}

static bool tok_eq(const struct mtok *a, const struct mtok *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* A code's four bytes as one number: two codes zero to their last byte
 * (dm_codes, rd_tokens) are the same string exactly when these are equal. */
static uint32_t code_word(const char *code)
{
	uint32_t w;

	_Static_assert(DM_CODE_MAX == sizeof(w), "a code is four bytes and a NUL");
	memcpy(&w, code, sizeof(w));
	return w;
}

static bool codes_agree(const struct mtok *a, const struct mtok *b)
{
	uint32_t a1, a2, b1, b2;

	if (a->dm1[0] == '\0' || b->dm1[0] == '\0')
		return false;
	a1 = code_word(a->dm1);
	a2 = code_word(a->dm2);
	b1 = code_word(b->dm1);
	b2 = code_word(b->dm2);
	return a1 == b1 || a1 == b2 || (a->dm2[0] != '\0' && (a2 == b1 || a2 == b2));
}

/* A token's letters with those that English spells one sound with made
 * one: ph as f; c before e, i or y as s, any other c, k and q as k; s and
 * z as s; i and y as i; a letter doubled as one.  Returns the length
 * written (less than cap). */
static size_t spelling_skeleton(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		char ch = s[i];
		if (ch == 'p' && i + 1 < len && s[i + 1] == 'h') {
			ch = 'f';
			i++;
		} else if (ch == 'c') {
			ch = i + 1 < len && (s[i + 1] == 'e' || s[i + 1] == 'i' || s[i + 1] == 'y') ? 's' : 'k';
		} else if (ch == 'q') {
			ch = 'k';
		} else if (ch == 'z') {
			ch = 's';
		} else if (ch == 'y') {
			ch = 'i';
		}
		if (n > 0 && out[n - 1] == ch)
			continue;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n;
}

/* The first letter spelling_skeleton() writes for s (len >= 1). */
static char skeleton_first(const char *s, size_t len)
{
	switch (s[0]) {
	case 'p': return len > 1 && s[1] == 'h' ? 'f' : 'p';
	case 'c': return len > 1 && (s[1] == 'e' || s[1] == 'i' || s[1] == 'y') ? 's' : 'k';
	case 'q': return 'k';
	case 'z': return 's';
	case 'y': return 'i';
	default: return s[0];
	}
}

/*
 * Alike in sound: the Double Metaphone codes agree, or the spellings do
 * once the letters English spells one sound with are made one: Huzsayn
 * and Hussain, which Double Metaphone tells apart (HSSN, HSN: it reads
 * the z and the s as two).  Three letters or more: Ky and Ci say
 * nothing.
 */
static bool sound_alike(const struct mtok *a, const struct mtok *b)
{
	char x[NORM_TOKEN_MAX + 1], y[NORM_TOKEN_MAX + 1];
	size_t nx, ny;

	if (codes_agree(a, b))
		return true;
	if (a->len < 3 || b->len < 3)
		return false;
	/* Most names compared begin with another sound: told apart by
	 * their skeletons' first letters, without writing either. */
	if (skeleton_first(a->s, a->len) != skeleton_first(b->s, b->len))
		return false;
	nx = spelling_skeleton(a->s, a->len, x, sizeof(x));
	ny = spelling_skeleton(b->s, b->len, y, sizeof(y));
	return nx == ny && memcmp(x, y, nx) == 0;
}

/* The Arabic article written as a word of its own (Al-Hassan, El Hassan):
 * no part of the name, and no evidence on its own. */
static bool family_article(const struct mtok *t)
{
	return t->len == 2 && (t->s[0] == 'a' || t->s[0] == 'e') && t->s[1] == 'l';
}

/* A particle of a family name written as a word of its own (van den
 * Bosch, de Souza, Le Roux, bin Hamad), or the Arabic article: beside
 * other words, agreeing in it says nothing of the person (Willie De is
 * not Willie de Souza).  Alone it is a name like any other (Le, Du). */
static bool family_particle(const struct mtok *t)
{
	/* By length: the scorer asks this of every token it compares. */
	static const char *const two[] = {"de", "da", "di", "du", "le", "la", NULL};
	static const char *const three[] = {"van", "von", "den", "der", "des", "del", "dos",
					    "das", "bin", "ibn", "ben", NULL};
	const char *const *words;

	if (t->len == 2)
		words = two;
	else if (t->len == 3)
		words = three;
	else
		return t->len == 5 && memcmp(t->s, "della", 5) == 0;
	if (family_article(t))
		return true;
	for (size_t i = 0; words[i] != NULL; i++)
		if (words[i][0] == t->s[0] && memcmp(words[i], t->s, t->len) == 0)
			return true;
	return false;
}

/*
 * The few real functions the scorer needs, written here so that the
 * library does not pull in libm for every program that links it.
 * Accuracy of 1e-6 is far finer than the weights themselves.
 */
static double ln_approx(double x)
{
	double k = 0.0, m, t, t2, sum = 0.0, term;

	if (x <= 0.0)
		return -1e9;
	while (x >= 2.0) {
		x /= 2.0;
		k += 1.0;
	}
	while (x < 1.0) {
		x *= 2.0;
		k -= 1.0;
	}
	m = x; /* in [1, 2): ln m = 2 atanh((m - 1) / (m + 1)) */
	t = (m - 1.0) / (m + 1.0);
	t2 = t * t;
	term = t;
	for (int i = 1; i < 30; i += 2) {
		sum += term / i;
		term *= t2;
	}
	return 2.0 * sum + k * 0.69314718055994530942;
}

static double log2_approx(double x)
{
	return ln_approx(x) / 0.69314718055994530942;
}

static double exp_approx(double x)
{
	double term = 1.0, sum = 1.0;
	int halvings = 0;

	if (x > 700.0)
		x = 700.0;
	if (x < -700.0)
		return 0.0;
	while (x > 0.5 || x < -0.5) {
		x /= 2.0;
		halvings++;
	}
	for (int i = 1; i < 20; i++) {
		term *= x / i;
		sum += term;
	}
	while (halvings-- > 0)
		sum *= sum;
	return sum;
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Birth years a query stands for: the year of the dob +-1, or the years an
 * age allows +-1.  Returns how many were written. */
static size_t query_years(const struct check_subject *s, const struct date *today, int out[4])
{
	size_t n = 0;

	if (s->dob.year != 0) {
		out[n++] = s->dob.year;
		out[n++] = s->dob.year - 1;
		out[n++] = s->dob.year + 1;
	} else if (s->age >= 0 && today->year > s->age) {
		int y = today->year - s->age;
		out[n++] = y - 1;
		out[n++] = y;
		out[n++] = y - 2;
		out[n++] = y + 1;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Keys.  One LMDB database holds every kind, told apart by the first byte:
 *   F<dm family>:<initial>     family sound + initial of a given or middle name
 *   N<dm family>:<dm given>    family sound + given sound
 *   Y<dm family>:<year>        family sound + birth year
 *   G<dm given>:<year>         given sound + birth year
 *   B<dm family>:<dm given>:<year>  whole name + birth year (common names)
 *   M<dm family>:<dm given>:<mmdd>  whole name + birthday (a wrong year)
 *   P<postcode sector>:<dm given>  where a given name lived (any address)
 *   Q<postcode sector>:<dm family> where a family name lived (any address)
 *   D<yyyymmdd>                date of birth (and other dates of birth)
 *   E<yyyymmdd>:<sector>       date of birth where the record lived
 *   S<sector>:<yyyy>           year of birth where the record lived
 *   I<family initial><given initial>:<yyyy>  the name's initials + birth year
 *   T<family token>            exact family token (frequencies only)
 *   U<given token>             exact given token (frequencies only)
 */

typedef int (*key_fn)(void *arg, const char *key, size_t len);

/*
 * Keys are built by hand on both sides, by the same few functions: a check
 * makes a hundred or more and a record dozens, and vsnprintf was a tenth
 * of either's cost.  Indexer and query must make the very same bytes, or a
 * check silently finds nobody: both go through key_build.
 */
struct kbuf {
	char b[QKEY_LEN];
	size_t n;
	bool over; /* too long: neither indexed nor looked up */
};

static void kb_ch(struct kbuf *k, char ch)
{
	if (k->n + 1 >= sizeof(k->b)) {
		k->over = true;
		return;
	}
	k->b[k->n++] = ch;
}

static void kb_str(struct kbuf *k, const char *s)
{
	while (*s != '\0')
		kb_ch(k, *s++);
}

/* As printf's %0*d with width digits at least. */
static void kb_int(struct kbuf *k, int v, int width)
{
	char d[12];
	int n = 0;
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

	do {
		d[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		kb_ch(k, '-');
	for (int i = n; i < width - (v < 0); i++)
		kb_ch(k, '0');
	while (n > 0)
		kb_ch(k, d[--n]);
}

/* Builds the key  kind a[:b][:num]  (num when width >= 0, at least width
 * digits, as printf's %0*d).  False when it would be too long: such a key
 * is neither indexed nor looked up. */
static bool key_build(struct kbuf *k, char kind, const char *a, const char *b, int num, int width)
{
	k->n = 0;
	k->over = false;
	kb_ch(k, kind);
	kb_str(k, a);
	if (b != NULL) {
		kb_ch(k, ':');
		kb_str(k, b);
	}
	if (width >= 0) {
		kb_ch(k, ':');
		kb_int(k, num, width);
	}
	return !k->over;
}

/* A date key's kind and YYYYMMDD. */
static void key_date_head(struct kbuf *k, char kind, unsigned year, unsigned month, unsigned day)
{
	k->n = 0;
	k->over = false;
	kb_ch(k, kind);
	kb_int(k, (int)year, 4);
	kb_int(k, (int)month, 2);
	kb_int(k, (int)day, 2);
}

/* "D" YYYYMMDD and the first letter of a name token. */
static bool key_date(struct kbuf *k, unsigned year, unsigned month, unsigned day, char letter)
{
	key_date_head(k, 'D', year, month, day);
	kb_ch(k, letter);
	return !k->over;
}

/* "E" YYYYMMDD ":" and a postcode sector: a date of birth where the
 * record lived, for a name changed and not recorded (score_candidate). */
static bool key_date_sector(struct kbuf *k, unsigned year, unsigned month, unsigned day,
			    const char *sector)
{
	key_date_head(k, 'E', year, month, day);
	kb_ch(k, ':');
	kb_str(k, sector);
	return !k->over;
}

/* "S" and a postcode sector ":" YYYY: whoever was born that year and
 * lived there, whatever their name.  A check that garbled both names (a
 * name heard on the telephone: Davix Wipson for David Wilson) with the
 * address right and an age or a year meets no name key; a sector and a
 * year hold a handful of people. */
static bool key_sector_year(struct kbuf *k, const char *sector, int year)
{
	k->n = 0;
	k->over = false;
	kb_ch(k, 'S');
	kb_str(k, sector);
	kb_ch(k, ':');
	kb_int(k, year, 4);
	return !k->over;
}

/*
 * The first letters of a name's tokens (given, middle and family), added
 * to letters[] (NUL-terminated, at most cap - 1) without repeats: with a
 * date of birth, the D keys.  A name corrupted past every name key (a
 * typo in each part that changes their sounds) still keeps the first
 * letter of one of its words, and a date shared by some 35 people at a
 * million records by one or two.
 */
static void letter_add(char *letters, size_t cap, char ch)
{
	size_t k = strlen(letters);

	if (ch < 'a' || ch > 'z' || memchr(letters, ch, k) != NULL || k + 1 >= cap)
		return;
	letters[k] = ch;
	letters[k + 1] = '\0';
}

static void name_letters(const struct mname *n, char *letters, size_t cap)
{
	for (size_t part = 0; part < 3; part++) {
		const struct mtok *t = part == 0 ? n->given : part == 1 ? n->middle : n->family;
		size_t nt = part == 0 ? n->ng : part == 1 ? n->nm : n->nf;
		for (size_t i = 0; i < nt; i++)
			letter_add(letters, cap, t[i].s[0]);
	}
}

static int key_emit(key_fn fn, void *arg, char kind, const char *a, const char *b, int num, int width)
{
	struct kbuf k;

	if (!key_build(&k, kind, a, b, num, width))
		return DSC_OK; /* cannot happen with bounded tokens; never index a cut key */
	return fn(arg, k.b, k.n);
}

/* Distinct codes of a token (1 or 2). */
static size_t tok_code_list(const struct mtok *t, const char *out[2])
{
	size_t n = 0;

	if (t->dm1[0] != '\0')
		out[n++] = t->dm1;
	if (t->dm2[0] != '\0' && (n == 0 || strcmp(t->dm2, t->dm1) != 0))
		out[n++] = t->dm2;
	return n;
}

/*
 * The consonant skeletons of a name (consonant_skeleton), for a name
 * romanised from Arabic script against the same name written in Latin
 * letters (mhmd hdad and Mohammed Haddad).  Family: the tokens joined,
 * without an article written as a word of its own (Al Masri), one letter
 * or more (علی: ly, Ali; بٹ: bt, Butt; both l and b); of a name written
 * in Arabic, also without the article written joined (المصري: almsry,
 * Masri), two letters or more.  Given: the first given name, and all of
 * them joined when there are more (عبد الرحمن: bd alrhmn, Abdulrahman).
 */
#define SKEL_MAX 40

struct skeletons {
	char fam[2][SKEL_MAX], given[2][SKEL_MAX];
	uint8_t n_fam, n_given;
};

static void name_skeletons(const struct mname *n, struct skeletons *k)
{
	char joined[NORM_TOKENS_MAX * (NORM_TOKEN_MAX + 1)];
	size_t skip = n->nf > 1 && family_article(&n->family[0]) ? 1 : 0, len = 0;

	k->n_fam = k->n_given = 0;
	for (size_t i = skip; i < n->nf; i++) {
		memcpy(joined + len, n->family[i].s, n->family[i].len);
		len += n->family[i].len;
	}
	if (len > 0 && consonant_skeleton(joined, len, k->fam[0], SKEL_MAX) >= 1)
		k->n_fam++;
	if (n->arabic && len > 4 && (joined[0] == 'a' || joined[0] == 'e') && joined[1] == 'l' &&
	    consonant_skeleton(joined + 2, len - 2, k->fam[k->n_fam], SKEL_MAX) >= 2 &&
	    (k->n_fam == 0 || strcmp(k->fam[0], k->fam[1]) != 0))
		k->n_fam++;
	if (n->ng == 0 || n->given[0].len < 2)
		return;
	if (consonant_skeleton(n->given[0].s, n->given[0].len, k->given[0], SKEL_MAX) >= 1)
		k->n_given++;
	if (n->ng > 1) {
		len = 0;
		for (size_t i = 0; i < n->ng; i++) {
			memcpy(joined + len, n->given[i].s, n->given[i].len);
			len += n->given[i].len;
		}
		if (consonant_skeleton(joined, len, k->given[k->n_given], SKEL_MAX) >= 1 &&
		    (k->n_given == 0 || strcmp(k->given[0], k->given[1]) != 0))
			k->n_given++;
	}
}

static bool skeletons_meet(const char (*a)[SKEL_MAX], size_t na, const char (*b)[SKEL_MAX], size_t nb)
{
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				return true;
	return false;
}

/* The keys of one record name (years: birth years of the record). */
static int record_name_keys(const struct mname *n, const int *years, size_t n_years, const int *mmdd,
			    size_t n_mmdd, char sectors[][16], size_t n_sectors, key_fn fn, void *arg)
{
	const char *fc[2], *gc[2];
	size_t nfc, ngc = n->ng > 0 ? tok_code_list(&n->given[0], gc) : 0;
	char initials[NORM_TOKENS_MAX * 2 + 1];
	size_t ni = 0;
	int rc;

	for (size_t i = 0; i < n->ng; i++)
		if (memchr(initials, n->given[i].s[0], ni) == NULL)
			initials[ni++] = n->given[i].s[0];
	for (size_t i = 0; i < n->nm; i++)
		if (memchr(initials, n->middle[i].s[0], ni) == NULL)
			initials[ni++] = n->middle[i].s[0];
	if (ni == 0)
		initials[ni++] = '_';

	for (size_t t = 0; t < n->nf; t++) {
		const struct mtok *ft = &n->family[t];
		if ((rc = key_emit(fn, arg, 'T', ft->s, NULL, 0, -1)) != DSC_OK)
			return rc;
		nfc = tok_code_list(ft, fc);
		for (size_t c = 0; c < nfc; c++) {
			for (size_t i = 0; i < ni; i++)
				if ((rc = key_emit(fn, arg, 'F', fc[c], (char[2]){initials[i], '\0'}, 0, -1)) != DSC_OK)
					return rc;
			for (size_t g = 0; g < ngc; g++) {
				if ((rc = key_emit(fn, arg, 'N', fc[c], gc[g], 0, -1)) != DSC_OK)
					return rc;
				for (size_t y = 0; y < n_years; y++)
					if ((rc = key_emit(fn, arg, 'B', fc[c], gc[g], years[y], 0)) != DSC_OK)
						return rc;
				for (size_t d = 0; d < n_mmdd; d++)
					if ((rc = key_emit(fn, arg, 'M', fc[c], gc[g], mmdd[d], 4)) != DSC_OK)
						return rc;
			}
			for (size_t y = 0; y < n_years; y++)
				if ((rc = key_emit(fn, arg, 'Y', fc[c], NULL, years[y], 0)) != DSC_OK)
					return rc;
			for (size_t p = 0; p < n_sectors; p++)
				if ((rc = key_emit(fn, arg, 'Q', sectors[p], fc[c], 0, -1)) != DSC_OK)
					return rc;
		}
	}
	/* The initials of each family token and the given name with each
	 * birth year: both names slipped (I keys, query_name_keys). */
	for (size_t t = 0; t < n->nf && n->ng > 0; t++)
		for (size_t y = 0; y < n_years; y++)
			if ((rc = key_emit(fn, arg, 'I', (char[3]){n->family[t].s[0], n->given[0].s[0], '\0'}, NULL,
					   years[y], 0)) != DSC_OK)
				return rc;
	/* A family name of more than one word, joined: whether a family
	 * name nobody has word for word is somebody's all the same, split
	 * elsewhere (Hall-Walker for HallW alker, Thompson Francis for
	 * ThompsonFrancis: family_score's exact, subject_prepare's bound). */
	if (n->nf > 1 && (rc = key_emit(fn, arg, 'J', n->family_joined, NULL, 0, -1)) != DSC_OK)
		return rc;
	/* Each middle name's tokens: whether a family name nobody has is
	 * somebody's middle name (subject_prepare's bound). */
	for (size_t t = 0; t < n->nm; t++)
		if ((rc = key_emit(fn, arg, 'V', n->middle[t].s, NULL, 0, -1)) != DSC_OK)
			return rc;
	if (n->ng > 0) {
		if ((rc = key_emit(fn, arg, 'U', n->given[0].s, NULL, 0, -1)) != DSC_OK)
			return rc;
		for (size_t g = 0; g < ngc; g++) {
			for (size_t y = 0; y < n_years; y++)
				if ((rc = key_emit(fn, arg, 'G', gc[g], NULL, years[y], 0)) != DSC_OK)
					return rc;
			for (size_t p = 0; p < n_sectors; p++)
				if ((rc = key_emit(fn, arg, 'P', sectors[p], gc[g], 0, -1)) != DSC_OK)
					return rc;
		}
	}
	/* A name written in Arabic: its family and given names' consonants,
	 * which a Latin spelling of it shares (query_name_keys). */
	if (n->arabic) {
		struct skeletons sk;
		name_skeletons(n, &sk);
		for (size_t f = 0; f < sk.n_fam; f++)
			for (size_t g = 0; g < sk.n_given; g++)
				if ((rc = key_emit(fn, arg, 'A', sk.fam[f], sk.given[g], 0, -1)) != DSC_OK)
					return rc;
	}
	return DSC_OK;
}

/* ------------------------------------------------------------------ */
/* The indexer (called by the store's writer, under the matcher's lock). */

struct emit_adapter {
	store_emit_fn emit;
	void *sink;
};

static int adapter_fn(void *arg, const char *key, size_t len)
{
	struct emit_adapter *a = arg;
	return a->emit(a->sink, key, len);
}

enum heard_script { HEARD_NONE = 0, HEARD_CYRILLIC, HEARD_GREEK, HEARD_ARABIC };
static enum heard_script heard_script_of(const char *text);

/*
 * Urdu and Persian read three Arabic letters otherwise than Arabic does:
 * ض and ذ as z, ث as s, where ICU romanises them d, dh and th, as an Arab
 * says them.  رمضان is Ramzan to an Urdu speaker, Ramadan to an Arab;
 * ریاض Riaz and Riyadh; نذیر Nazir and Nadhir; عثمان Usman and Uthman;
 * قاضی Qazi and Qadi.  Which way a clerk wrote a name in Latin letters
 * depends on who said it, so a name written in Arabic script with any of
 * the three is read both ways: as ICU romanises it, and as here, with them
 * written ز and س (another reading of a record's name in its view and
 * keys, record_normalise; of a check's name, subject_prepare).
 *
 * Writes text so rewritten to out (at most cap - 1 bytes, cut at a
 * character's boundary; the normaliser reads no more than
 * NORM_INPUT_MAX) and returns whether any letter was rewritten.  Each
 * letter and its replacement are two bytes of UTF-8, lead byte 0xD8:
 * ض D8 B6, ذ D8 B0, ث D8 AB; ز D8 B2, س D8 B3.
 */
/*
 * And ʿayn.  ICU romanises ع as a mark the normaliser drops, so a name
 * that begins with it begins with a consonant: عمران is mrn, علی ly,
 * عباس bas, where a clerk wrote Imran, Ali, Abbas.  Both words of عمران
 * علی so, no key of the check met Imran Ali's (the sounds and the
 * initials all differ), and a check with his exact date of birth found
 * nobody.  At a word's start, before a consonant, ع is written أ (ICU:
 * a), a vowel as the Latin spelling has one (which vowel, the scorer's
 * sound and spelling comparisons leave open); before an alef or ئ it is
 * dropped, as ICU drops it, the vowel being there (عائشة Aisha).  ع is
 * D8 B9, أ D8 A3; the alefs D8 A2, A3, A5, A7, ئ D8 A6.
 *
 * what: READ_URDU for the Urdu letters, READ_AYN for ʿayn, or both.
 */
enum { READ_URDU = 1, READ_AYN = 2 };

static bool urdu_reading(const char *text, char *out, size_t cap, int what)
{
	size_t n = 0;
	bool changed = false;

	if (text == NULL || cap == 0)
		return false;
	while (text[n] != '\0' && n + 1 < cap)
		n++;
	while (n > 0 && text[n] != '\0' && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--; /* cut before a continuation byte: at a character's start */
	memcpy(out, text, n);
	out[n] = '\0';
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char a = (unsigned char)out[i], b = (unsigned char)out[i + 1];
		if (a != 0xD8)
			continue;
		if ((what & READ_URDU) && (b == 0xB6 || b == 0xB0)) {
			out[i + 1] = (char)0xB2;
			changed = true;
		} else if ((what & READ_URDU) && b == 0xAB) {
			out[i + 1] = (char)0xB3;
			changed = true;
		} else if ((what & READ_AYN) && b == 0xB9 &&
			   (i == 0 || out[i - 1] == ' ' || out[i - 1] == '-') &&
			   !(i + 3 < n && (unsigned char)out[i + 2] == 0xD8 &&
			     ((unsigned char)out[i + 3] == 0xA2 || (unsigned char)out[i + 3] == 0xA3 ||
			      (unsigned char)out[i + 3] == 0xA5 || (unsigned char)out[i + 3] == 0xA6 ||
			      (unsigned char)out[i + 3] == 0xA7))) {
			out[i + 1] = (char)0xA3;
			changed = true;
		}
		i++;
	}
	return changed;
}

/* The other readings of a name written in Arabic script (urdu_reading):
 * with its Urdu letters and ʿayn both, and when it has both, with ʿayn
 * alone (عثمان: Usman, and Uthman as an Arab says it).  Writes them to
 * text[k][3] and returns how many (0-2). */
static size_t arabic_readings(const char *const orig[3], char text[2][3][NORM_INPUT_MAX + 1])
{
	bool both = false, ayn = false, apart = false;

	for (size_t p = 0; p < 3; p++) {
		both |= urdu_reading(orig[p], text[0][p], sizeof(text[0][p]), READ_URDU | READ_AYN);
		ayn |= urdu_reading(orig[p], text[1][p], sizeof(text[1][p]), READ_AYN);
		/* The two differ where an Urdu letter was rewritten. */
		apart |= orig[p] != NULL && strcmp(text[0][p], text[1][p]) != 0;
	}
	if (!both)
		return 0;
	return ayn && apart ? 2 : 1;
}

/* Normalises every name of a record into m->parts. Returns the count. */
/* Singh (men's) and Kaur (women's): Sikhs write them as the family name,
 * or before a family (clan) name, and one person's documents do both. */
static bool sikh_title(const struct mtok *t)
{
	return (t->len == 5 && memcmp(t->s, "singh", 5) == 0) || (t->len == 4 && memcmp(t->s, "kaur", 4) == 0);
}

/* The parts p read with middle token t (Singh, Kaur) as the family name
 * and the family name's tokens as middle names, after the other middle
 * tokens. */
static void sikh_parts(const struct norm_part p[3], size_t t, struct norm_part out[3])
{
	struct norm_part *mid = &out[NORM_MIDDLE], *fam = &out[NORM_FAMILY];

	out[NORM_GIVEN] = p[NORM_GIVEN];
	memset(mid, 0, sizeof(*mid));
	memset(fam, 0, sizeof(*fam));
	fam->n = 1;
	fam->len[0] = p[NORM_MIDDLE].len[t];
	memcpy(fam->tok[0], p[NORM_MIDDLE].tok[t], sizeof(fam->tok[0]));
	for (size_t i = 0; i < p[NORM_MIDDLE].n && mid->n < NORM_TOKENS_MAX; i++) {
		if (i == t)
			continue;
		mid->len[mid->n] = p[NORM_MIDDLE].len[i];
		memcpy(mid->tok[mid->n++], p[NORM_MIDDLE].tok[i], sizeof(mid->tok[0]));
	}
	for (size_t i = 0; i < p[NORM_FAMILY].n && mid->n < NORM_TOKENS_MAX; i++) {
		mid->len[mid->n] = p[NORM_FAMILY].len[i];
		memcpy(mid->tok[mid->n++], p[NORM_FAMILY].tok[i], sizeof(mid->tok[0]));
	}
}

static size_t record_normalise(struct matcher *m, const struct offender *o, struct mname *names)
{
	size_t n = o->n_names < VIEW_NAMES_MAX ? o->n_names : VIEW_NAMES_MAX;
	size_t primary = offender_primary(o);
	size_t k = 0;

	/* The primary name first, so that it wins ties. */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < o->n_names && k < n; i++) {
			const struct person_name *pn = &o->names[i];
			bool t1, t2, t3;
			if ((pass == 0) != (i == primary))
				continue;
			normalize_part(m->norm, pn->given, NORM_GIVEN, &m->parts[k][NORM_GIVEN], &t1);
			normalize_part(m->norm, pn->middle, NORM_MIDDLE, &m->parts[k][NORM_MIDDLE], &t2);
			normalize_part(m->norm, pn->family, NORM_FAMILY, &m->parts[k][NORM_FAMILY], &t3);
			m->translit[k] = t1 || t2 || t3;
			name_from_parts(&names[k], m->parts[k]);
			names[k].kind = (uint8_t)pn->kind;
			names[k].translit = m->translit[k];
			names[k].arabic = heard_script_of(pn->family) == HEARD_ARABIC ||
					  heard_script_of(pn->given) == HEARD_ARABIC ||
					  heard_script_of(pn->middle) == HEARD_ARABIC;
			names[k].orig[0] = pn->given;
			names[k].orig[1] = pn->middle;
			names[k].orig[2] = pn->family;
			k++;
		}
	}
	/* The other readings of each name written in Arabic script that has
	 * ض, ذ, ث or a word that begins with ع (arabic_readings), after every
	 * name as written: names of the record's own kind, shown as written
	 * when one is the one that matched. */
	for (size_t i = 0, written = k; i < written && k < VIEW_NAMES_MAX; i++) {
		char text[2][3][NORM_INPUT_MAX + 1];
		size_t nr;
		if (!names[i].arabic)
			continue;
		nr = arabic_readings(names[i].orig, text);
		for (size_t x = 0; x < nr && k < VIEW_NAMES_MAX; x++) {
			for (size_t p = 0; p < 3; p++)
				normalize_part(m->norm, names[i].orig[p] != NULL ? text[x][p] : NULL,
					       (enum norm_part_kind)p, &m->parts[k][p], NULL);
			m->translit[k] = true;
			name_from_parts(&names[k], m->parts[k]);
			names[k].kind = names[i].kind;
			names[k].translit = true;
			names[k].arabic = true;
			for (size_t p = 0; p < 3; p++)
				names[k].orig[p] = names[i].orig[p];
			k++;
		}
	}
	/* Singh or Kaur as a middle name, before a family (clan) name:
	 * also read as the family name, the clan name as a middle name
	 * (sikh_title: Gurpreet Singh Bains is Gurpreet Singh too). */
	for (size_t i = 0, written = k; i < written && k < VIEW_NAMES_MAX; i++) {
		const struct norm_part *p = m->parts[i];
		size_t t;
		if (p[NORM_FAMILY].n == 0 || names[i].nf == 0 || sikh_title(&names[i].family[0]))
			continue;
		for (t = 0; t < names[i].nm && !sikh_title(&names[i].middle[t]); t++)
			;
		if (t == names[i].nm)
			continue;
		sikh_parts(p, t, m->parts[k]);
		m->translit[k] = m->translit[i];
		name_from_parts(&names[k], m->parts[k]);
		names[k].kind = names[i].kind;
		names[k].translit = names[i].translit;
		names[k].arabic = names[i].arabic;
		for (size_t q = 0; q < 3; q++)
			names[k].orig[q] = names[i].orig[q];
		k++;
	}
	return k;
}

static size_t record_years(const struct offender *o, int years[VIEW_DOBS_MAX])
{
	size_t n = 0;

	if (o->dob.year != 0)
		years[n++] = o->dob.year;
	for (size_t i = 0; i < o->n_other_dobs && n < VIEW_DOBS_MAX; i++) {
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || years[j] == o->other_dobs[i].year;
		if (!dup && o->other_dobs[i].year != 0)
			years[n++] = o->other_dobs[i].year;
	}
	return n;
}

/*
 * The normalised postcode of a record's address: its postcode field, or,
 * when it has none, a postcode written in its text ("12 High Street,
 * Worcester WR1 2AB", as some registers keep addresses).  False when
 * there is neither.
 */
static bool address_postcode(const struct address *a, char pc[PC_MAX + 1])
{
	pc[0] = '\0';
	if (a->postcode != NULL) {
		normalize_postcode(a->postcode, pc, PC_MAX + 1);
		return true;
	}
	return a->text != NULL && postcode_in_text(a->text, pc, PC_MAX + 1) > 0;
}

static int indexer_keys(const struct offender *o, store_emit_fn emit, void *sink, void *arg)
{
	struct matcher *m = arg;
	static __thread struct mname names[VIEW_NAMES_MAX];
	struct emit_adapter ad = {emit, sink};
	int years[VIEW_DOBS_MAX], mmdd[VIEW_DOBS_MAX];
	char sectors[VIEW_POSTCODES_MAX][16], letters[27];
	size_t n, ny, ns = 0, nd = 0;
	int rc = DSC_OK;

	for (size_t i = 0; i < o->n_addresses && ns < VIEW_POSTCODES_MAX; i++) {
		char pc[PC_MAX + 1];
		bool dup = false;
		if (!address_postcode(&o->addresses[i], pc))
			continue;
		if (postcode_sector(pc, sectors[ns]) == 0)
			continue;
		for (size_t j = 0; j < ns && !dup; j++)
			dup = strcmp(sectors[j], sectors[ns]) == 0;
		if (!dup)
			ns++;
	}
	if (o->dob.year != 0)
		mmdd[nd++] = o->dob.month * 100 + o->dob.day;
	for (size_t i = 0; i < o->n_other_dobs && nd < VIEW_DOBS_MAX; i++) {
		int v = o->other_dobs[i].month * 100 + o->other_dobs[i].day;
		bool dup = false;
		for (size_t j = 0; j < nd && !dup; j++)
			dup = mmdd[j] == v;
		if (!dup)
			mmdd[nd++] = v;
	}
	pthread_mutex_lock(&m->lock);
	n = record_normalise(m, o, names);
	ny = record_years(o, years);
	letters[0] = '\0';
	for (size_t i = 0; i < n && rc == DSC_OK; i++) {
		rc = record_name_keys(&names[i], years, ny, mmdd, nd, sectors, ns, adapter_fn, &ad);
		name_letters(&names[i], letters, sizeof(letters));
	}
	pthread_mutex_unlock(&m->lock);
	if (rc != DSC_OK)
		return rc;
	for (size_t i = 0; i <= o->n_other_dobs && i <= VIEW_DOBS_MAX; i++) {
		const struct date *d = i == 0 ? &o->dob : &o->other_dobs[i - 1];
		struct kbuf k;
		for (size_t l = 0; d->year != 0 && letters[l] != '\0'; l++)
			if (key_date(&k, d->year, d->month, d->day, letters[l]) &&
			    (rc = ad.emit(ad.sink, k.b, k.n)) != DSC_OK)
				return rc;
		for (size_t j = 0; d->year != 0 && j < ns; j++)
			if (key_date_sector(&k, d->year, d->month, d->day, sectors[j]) &&
			    (rc = ad.emit(ad.sink, k.b, k.n)) != DSC_OK)
				return rc;
	}
	for (size_t y = 0; y < ny; y++)
		for (size_t j = 0; j < ns; j++) {
			struct kbuf k;
			if (key_sector_year(&k, sectors[j], years[y]) && (rc = ad.emit(ad.sink, k.b, k.n)) != DSC_OK)
				return rc;
		}
	return DSC_OK;
}

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The bit of a normalised postcode in a tag, and in *area_pair the pair
 * of bits of its area (0 when it has none: the letters compare_postcode's
 * area level compares).  Every district of an area falls in the area's
 * pair, so a record with none of the pair's bits set lived in another
 * area; one without the postcode's own bit in another district. */
static uint32_t postcode_bit(const char *normalised_postcode, uint32_t *area_pair)
{
	char out[16];
	size_t n = postcode_outward(normalised_postcode, out), a = 0;
	unsigned pair;

	while (a < n && isalpha((unsigned char)out[a]))
		a++;
	pair = fnv1a(out, a) % TAG_AREA_PAIRS;
	if (area_pair != NULL)
		*area_pair = a > 0 ? 3u << (2 * pair) : 0;
	return 1u << (2 * pair + fnv1a(out, n) % 2);
}

static uint32_t indexer_tag(const struct offender *o, void *arg)
{
	const struct date *d = &o->dob, *od = o->n_other_dobs > 0 ? &o->other_dobs[0] : NULL;
	uint32_t t = TAG_KNOWN, districts = 0;

	(void)arg;
	for (size_t i = 0; i < o->n_addresses; i++) {
		char pc[PC_MAX + 1];
		if (address_postcode(&o->addresses[i], pc) && pc[0] != '\0')
			districts |= postcode_bit(pc, NULL);
	}
	if (d->year == 0)
		return od == NULL ? t | districts : t | TAG_UNFIT | districts;
	if (d->year <= TAG_YEAR_BASE || d->year > TAG_YEAR_BASE + 255 || d->month > 12 || d->day > 31 ||
	    o->n_other_dobs > 1 ||
	    (od != NULL && (abs((int)od->year - (int)d->year) > 3 || od->month > 12 || od->day > 31)))
		return t | TAG_UNFIT | districts;
	t |= ((uint32_t)(d->year - TAG_YEAR_BASE) << 9 | (uint32_t)d->month << 5 | d->day) << TAG_MAIN_SHIFT;
	if (od == NULL)
		return t | districts;
	return t | TAG_OTHER | (uint32_t)((int)od->year - (int)d->year + 4) << 9 | (uint32_t)od->month << 5 | od->day;
}

static int put_u8(struct store_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	return store_buf_append(b, &c, 1);
}

static int put_u16(struct store_buf *b, unsigned v)
{
	unsigned char c[2] = {(unsigned char)(v & 0xFF), (unsigned char)(v >> 8)};
	return store_buf_append(b, c, 2);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static int put_str8(struct store_buf *b, const char *s, size_t max)
{
	size_t n = s != NULL ? utf8_cut(s, max < 255 ? max : 255) : 0;
	int rc = put_u8(b, (unsigned)n);
	return rc != DSC_OK ? rc : store_buf_append(b, s, n);
}

static int put_tokens(struct store_buf *b, const struct mtok *t, size_t n)
{
	int rc = put_u8(b, (unsigned)n);

	for (size_t i = 0; i < n && rc == DSC_OK; i++) {
		char codes[2 * DM_CODE_MAX] = {0};
		memcpy(codes, t[i].dm1, strlen(t[i].dm1));
		memcpy(codes + DM_CODE_MAX, t[i].dm2, strlen(t[i].dm2));
		if ((rc = put_u8(b, t[i].len)) == DSC_OK && (rc = store_buf_append(b, t[i].s, t[i].len + 1u)) == DSC_OK)
			rc = store_buf_append(b, codes, sizeof(codes));
	}
	return rc;
}

static int put_date(struct store_buf *b, const struct date *d)
{
	int rc = put_u16(b, d->year);
	if (rc == DSC_OK)
		rc = put_u8(b, d->month);
	if (rc == DSC_OK)
		rc = put_u8(b, d->day);
	return rc;
}

/*
 * View layout (all integers little-endian):
 *   u8 magic, u8 sex, u8 mappa category, u8 status
 *   u8 has_main_dob, u8 n_dobs, n_dobs * (u16 year, u8 month, u8 day)
 *   u8 n_postcodes, n * (u8 len, bytes)          normalised, "WR12AB"
 *   u8 id_len, id; u8 force_len, force
 *   u8 n_names, per name:
 *     u8 kind, u8 script (0 Latin, 1 romanised, 2 romanised from Arabic),
 *     3 * (u16 len, original bytes)              given, middle, family
 *     3 * (u8 n, n * (u8 len, token, NUL, 4+4 bytes of codes))
 */
static int indexer_view(const struct offender *o, struct store_buf *out, void *arg)
{
	struct matcher *m = arg;
	static __thread struct mname names[VIEW_NAMES_MAX];
	char pcs[VIEW_POSTCODES_MAX][PC_MAX + 1];
	size_t n, n_dobs = 0, n_pc = 0;
	int rc;

	if (out == NULL)
		return DSC_OK;
	if ((rc = put_u8(out, VIEW_MAGIC)) != DSC_OK || (rc = put_u8(out, (unsigned char)o->sex)) != DSC_OK ||
	    (rc = put_u8(out, (unsigned)o->mappa_category)) != DSC_OK ||
	    (rc = put_u8(out, (unsigned)o->status)) != DSC_OK)
		return rc;
	if (o->dob.year != 0)
		n_dobs++;
	for (size_t i = 0; i < o->n_other_dobs && n_dobs < VIEW_DOBS_MAX; i++)
		n_dobs++;
	if ((rc = put_u8(out, o->dob.year != 0)) != DSC_OK || (rc = put_u8(out, (unsigned)n_dobs)) != DSC_OK)
		return rc;
	if (o->dob.year != 0 && (rc = put_date(out, &o->dob)) != DSC_OK)
		return rc;
	for (size_t i = 0, k = o->dob.year != 0; k < n_dobs; i++, k++)
		if ((rc = put_date(out, &o->other_dobs[i])) != DSC_OK)
			return rc;
	for (size_t i = 0; i < o->n_addresses && n_pc < VIEW_POSTCODES_MAX; i++)
		if (address_postcode(&o->addresses[i], pcs[n_pc]))
			n_pc++;
	if ((rc = put_u8(out, (unsigned)n_pc)) != DSC_OK)
		return rc;
	for (size_t k = 0; k < n_pc; k++)
		if ((rc = put_str8(out, pcs[k], PC_MAX)) != DSC_OK)
			return rc;
	if ((rc = put_str8(out, o->id, OFFENDER_ID_MAX)) != DSC_OK ||
	    (rc = put_str8(out, o->managing_force, 63)) != DSC_OK)
		return rc;

	pthread_mutex_lock(&m->lock);
	n = record_normalise(m, o, names);
	rc = put_u8(out, (unsigned)n);
	for (size_t i = 0; i < n && rc == DSC_OK; i++) {
		const struct mname *nm = &names[i];
		if ((rc = put_u8(out, nm->kind)) != DSC_OK ||
		    (rc = put_u8(out, nm->arabic ? 2u : nm->translit ? 1u : 0u)) != DSC_OK)
			break;
		for (size_t p = 0; p < 3 && rc == DSC_OK; p++) {
			size_t len = nm->orig[p] != NULL ? utf8_cut(nm->orig[p], MATCH_NAME_MAX - 1) : 0;
			if ((rc = put_u16(out, (unsigned)len)) == DSC_OK && len > 0)
				rc = store_buf_append(out, nm->orig[p], len);
		}
		if (rc == DSC_OK)
			rc = put_tokens(out, nm->given, nm->ng);
		if (rc == DSC_OK)
			rc = put_tokens(out, nm->middle, nm->nm);
		if (rc == DSC_OK)
			rc = put_tokens(out, nm->family, nm->nf);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- view decoding (bounded: a damaged view is skipped, not trusted) ---- */

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

static unsigned rd_u8(struct rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static unsigned rd_u16(struct rd *r)
{
	unsigned lo = rd_u8(r), hi = rd_u8(r);
	return lo | hi << 8;
}

static const char *rd_bytes(struct rd *r, size_t n)
{
	const char *s = (const char *)r->p;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return s;
}

static uint8_t rd_tokens(struct rd *r, struct mtok *t)
{
	unsigned n = rd_u8(r);

	if (n > NORM_TOKENS_MAX) {
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < n && !r->bad; i++) {
		/* A token: its length, its bytes and a NUL, its two codes;
		 * the whole of it checked to be there at once. */
		size_t len = r->p < r->end ? *r->p : 0;
		const char *codes;
		if (len == 0 || len > NORM_TOKEN_MAX || (size_t)(r->end - r->p) < 1 + len + 1 + 2 * DM_CODE_MAX ||
		    r->p[1 + len] != '\0') {
			r->bad = true;
			return 0;
		}
		t[i].len = (uint8_t)len;
		t[i].s = (const char *)r->p + 1;
		codes = (const char *)r->p + 1 + len + 1;
		r->p += 1 + len + 1 + 2 * DM_CODE_MAX;
		memcpy(t[i].dm1, codes, DM_CODE_MAX);
		t[i].dm1[DM_CODE_MAX] = '\0';
		memcpy(t[i].dm2, codes + DM_CODE_MAX, DM_CODE_MAX);
		t[i].dm2[DM_CODE_MAX] = '\0';
	}
	return r->bad ? 0 : (uint8_t)n;
}

/*
 * The view is decoded in two steps: the head (sex, dates, postcodes, id,
 * force) and then the names.  The scorer rules most candidates in or out
 * on the head alone (a namesake born on another day), so it decodes the
 * names only of those worth comparing.  *rest is left at the names.
 */
static int view_decode_head(const void *data, size_t len, struct rview *v, struct rd *rest)
{
	struct rd r = {data, (const unsigned char *)data + len, false};
	unsigned n;

	if (rd_u8(&r) != VIEW_MAGIC)
		return DSC_EINTERNAL;
	v->sex = (uint8_t)rd_u8(&r);
	v->mappa = (uint8_t)rd_u8(&r);
	v->status = (uint8_t)rd_u8(&r);
	v->has_main_dob = rd_u8(&r) != 0;
	n = rd_u8(&r);
	if (n > VIEW_DOBS_MAX)
		return DSC_EINTERNAL;
	v->n_dobs = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		v->dobs[i].year = (uint16_t)rd_u16(&r);
		v->dobs[i].month = (uint8_t)rd_u8(&r);
		v->dobs[i].day = (uint8_t)rd_u8(&r);
	}
	n = rd_u8(&r);
	if (n > VIEW_POSTCODES_MAX)
		return DSC_EINTERNAL;
	v->n_postcodes = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		unsigned l = rd_u8(&r);
		const char *s = rd_bytes(&r, l);
		if (r.bad || l > PC_MAX)
			return DSC_EINTERNAL;
		memcpy(v->postcodes[i], s, l);
		v->postcodes[i][l] = '\0';
	}
	v->id_len = (uint8_t)rd_u8(&r);
	v->id = rd_bytes(&r, v->id_len);
	v->force_len = (uint8_t)rd_u8(&r);
	v->force = rd_bytes(&r, v->force_len);
	v->n_names = 0;
	if (r.bad || v->id_len > OFFENDER_ID_MAX)
		return DSC_EINTERNAL;
	*rest = r;
	return DSC_OK;
}

static int view_decode_names(struct rd *r, struct rview *v)
{
	unsigned n = rd_u8(r);

	if (r->bad || n > VIEW_NAMES_MAX)
		return DSC_EINTERNAL;
	for (unsigned i = 0; i < n && !r->bad; i++) {
		struct mname *nm = &v->names[i];
		nm->kind = (uint8_t)rd_u8(r);
		{
			unsigned script = rd_u8(r);
			nm->translit = script != 0;
			nm->arabic = script == 2;
		}
		for (size_t p = 0; p < 3; p++) {
			nm->orig_len[p] = (uint16_t)rd_u16(r);
			nm->orig[p] = rd_bytes(r, nm->orig_len[p]);
		}
		nm->ng = rd_tokens(r, nm->given);
		nm->nm = rd_tokens(r, nm->middle);
		nm->nf = rd_tokens(r, nm->family);
		if (!r->bad)
			name_join_family(nm);
	}
	if (r->bad)
		return DSC_EINTERNAL;
	v->n_names = (uint8_t)n;
	return DSC_OK;
}

static int view_decode(const void *data, size_t len, struct rview *v)
{
	struct rd r;
	int rc = view_decode_head(data, len, v, &r);

	return rc != DSC_OK ? rc : view_decode_names(&r, v);
}

/* ------------------------------------------------------------------ */
/* matcher and ctx */

int matcher_new(struct matcher **out, const char *nickname_file, struct dsc_error *err)
{
	return matcher_new_tables(out, nickname_file, NULL, err);
}

int matcher_new_tables(struct matcher **out, const char *nickname_file, const char *surname_file,
		       struct dsc_error *err)
{
	struct matcher *m;
	int rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "matcher: out of memory");
	if ((rc = nickname_table_load(&m->nick, nickname_file, err)) != DSC_OK) {
		free(m);
		return rc;
	}
	if ((rc = surname_table_load(&m->sur, surname_file, err)) != DSC_OK) {
		nickname_table_free(m->nick);
		free(m);
		return rc;
	}
	if ((rc = normalizer_new(&m->norm, err)) != DSC_OK) {
		nickname_table_free(m->nick);
		nickname_table_free(m->sur);
		free(m);
		return rc;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->indexer.keys = indexer_keys;
	m->indexer.view = indexer_view;
	m->indexer.tag = indexer_tag;
	m->indexer.arg = m;
	m->indexer.version = INDEXER_VERSION;
	*out = m;
	return DSC_OK;
}

void matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	nickname_table_free(m->nick);
	nickname_table_free(m->sur);
	normalizer_free(m->norm);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

const struct store_indexer *matcher_indexer(const struct matcher *m)
{
	return &m->indexer;
}

int match_ctx_new(const struct matcher *m, struct match_ctx **out, struct dsc_error *err)
{
	struct match_ctx *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "match context: out of memory");
	if ((rc = normalizer_new(&c->norm, err)) != DSC_OK) {
		free(c);
		return rc;
	}
	c->m = m;
	*out = c;
	return DSC_OK;
}

void match_ctx_free(struct match_ctx *c)
{
	if (c == NULL)
		return;
	normalizer_free(c->norm);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Candidate generation */

static int qkey_add(void *arg, const char *key, size_t len)
{
	struct match_ctx *c = arg;
	uint32_t h = 2166136261u;
	size_t slot;

	if (len >= QKEY_LEN)
		return DSC_OK;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	for (slot = h & (QKEY_SLOTS - 1); c->qkey_gen[slot] == c->gen; slot = (slot + 1) & (QKEY_SLOTS - 1)) {
		const struct qkey *k = &c->keys[c->qkey_idx[slot]];
		if (k->len == len && memcmp(k->k, key, len) == 0)
			return DSC_OK;
	}
	if (c->n_keys == QKEYS_MAX) {
		c->cut = true;
		return DSC_OK; /* bounded: the most important keys come first */
	}
	c->qkey_gen[slot] = c->gen;
	c->qkey_idx[slot] = (uint16_t)c->n_keys;
	memcpy(c->keys[c->n_keys].k, key, len);
	c->keys[c->n_keys].len = (uint8_t)len;
	c->keys[c->n_keys].counted = false;
	c->keys[c->n_keys].read = false;
	c->keys[c->n_keys].n_refs = 0;
	c->n_keys++;
	return DSC_OK;
}

/* Adds the key  kind a[:b][:num]  (see key_build). */
static void qkey_put(struct match_ctx *c, char kind, const char *a, const char *b, int num, int width)
{
	struct kbuf k;

	if (key_build(&k, kind, a, b, num, width))
		qkey_add(c, k.b, k.n);
}

/* Reads the count of a key and, when it is small and the arena has room,
 * its entries with it. */
static int qkey_count(struct match_ctx *c, struct store_reader *r, struct qkey *q)
{
	size_t room = REF_ARENA - c->ref_used, got;
	int rc;

	if (room > KEY_REFS_MAX)
		room = KEY_REFS_MAX;
	rc = store_index_get(r, q->k, q->len, c->ref_arena + c->ref_used, room, &q->count, &got);
	if (rc != DSC_OK)
		return rc;
	q->counted = true;
	q->refs_at = (uint32_t)c->ref_used;
	q->n_refs = (uint32_t)got;
	c->ref_used += got;
	return DSC_OK;
}

/* The primary code of a name of the nickname table (vars of
 * nickname_variants), computed once per ctx. */
static const char *nick_primary_code(struct match_ctx *c, const char *name)
{
	size_t h = (size_t)(((uintptr_t)name >> 3) * 2654435761u) & (NICK_CODE_SLOTS - 1);

	if (c->nick_code[h].name != name) {
		char alt[DM_CODE_MAX + 1];
		double_metaphone(name, strlen(name), c->nick_code[h].code, alt);
		c->nick_code[h].name = name;
	}
	return c->nick_code[h].code;
}

/* The primary sounds of those variants that are not the sound of a token
 * of the name itself (whose keys the name has already), at most
 * FAMILY_VARIANT_CODES_MAX. */
static size_t family_variant_codes(struct match_ctx *c, const struct mname *n,
				   char out[FAMILY_VARIANT_CODES_MAX][DM_CODE_MAX + 1])
{
	size_t k = 0;

	for (size_t v = 0; v < n->n_fam_vars && k < FAMILY_VARIANT_CODES_MAX; v++) {
		const char *code = nick_primary_code(c, n->fam_vars[v]);
		bool dup = code[0] == '\0';
		for (size_t t = 0; t < n->nf && !dup; t++)
			dup = strcmp(n->family[t].dm1, code) == 0;
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(out[j], code) == 0;
		if (!dup)
			memcpy(out[k++], code, DM_CODE_MAX + 1);
	}
	return k;
}

/* True when the key  kind a:b  was added and holds no record; reads its
 * count once (generate_candidates then does not).  A failed read says
 * "not empty", so that the keys below it are still looked up. */
static bool qkey_empty(struct match_ctx *c, struct store_reader *r, char kind, const char *a, const char *b)
{
	struct kbuf k;

	if (!key_build(&k, kind, a, b, 0, -1))
		return false;
	for (size_t i = c->n_keys; i-- > 0;) {
		struct qkey *q = &c->keys[i];
		if (q->len != k.n || memcmp(q->k, k.b, k.n) != 0)
			continue;
		if (!q->counted && qkey_count(c, r, q) != DSC_OK)
			return false;
		return q->count == 0;
	}
	return false;
}

/* A Double Metaphone code (at most four letters) as one number. */
static uint32_t code_bits(const char *code)
{
	uint32_t b = 0;

	for (size_t i = 0; i < DM_CODE_MAX && code[i] != '\0'; i++)
		b |= (uint32_t)(unsigned char)code[i] << (8 * i);
	return b;
}

/*
 * The sounds of a family-name token one typing slip away: two adjacent
 * letters swapped back, or one letter left out (an extra one typed), that
 * are not the token's own sound.  Without a date of birth nothing but the
 * names' sounds finds a person, and a slip that changes the sound (Jodran
 * for Jordan, Hlot for Holt, Bihsop for Bishop) found nobody.  Returns
 * the count, at most max, distinct.
 */
static size_t slip_codes(const struct mtok *t, char (*out)[DM_CODE_MAX + 1], size_t max)
{
	char v[NORM_TOKEN_MAX + 1], p[DM_CODE_MAX + 1], alt[DM_CODE_MAX + 1];
	size_t n = 0;

	if (t->len < 3 || t->len > NORM_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < 2 * (size_t)t->len - 1 && n < max; i++) {
		size_t vl;
		bool dup = false;
		if (i + 1 < t->len) { /* swap letters i and i + 1 */
			if (t->s[i] == t->s[i + 1])
				continue;
			memcpy(v, t->s, t->len);
			v[i] = t->s[i + 1];
			v[i + 1] = t->s[i];
			vl = t->len;
		} else { /* leave out letter i - (len - 1) */
			size_t d = i - (t->len - 1);
			memcpy(v, t->s, d);
			memcpy(v + d, t->s + d + 1, t->len - d - 1);
			vl = t->len - 1u;
		}
		double_metaphone(v, vl, p, alt);
		if (p[0] == '\0' || strcmp(p, t->dm1) == 0)
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(out[k], p) == 0;
		if (!dup)
			memcpy(out[n++], p, sizeof(p));
	}
	return n;
}

/*
 * The sounds of the family name's spellings one keystroke away that
 * slip_codes leaves out: a letter missed (any letter put back anywhere:
 * Smih, Taylo, larke) or mistyped (one replaced: Smitj, Mowak), other
 * than the name's own; at most max, into out.  A five-letter name has
 * some 280 such spellings and 50 to 100 sounds among them, so only a
 * name nobody on the register spells so pays for them (typo_keys).
 */
static size_t typo_codes(const struct mtok *t, uint32_t *out, size_t max)
{
	char v[NORM_TOKEN_MAX + 1], p[DM_CODE_MAX + 1];
	uint32_t own = code_bits(t->dm1);
	size_t n = 0;

	if (t->len < 2 || t->len >= NORM_TOKEN_MAX)
		return 0;
	/* Position by position, each letter put in before it, then each in
	 * its place: the sounds of edits near the front (which change the
	 * sound most) come first should max be reached.  Computed without
	 * the memo of double_metaphone (these spellings are met once), and
	 * only the primary code, which is all that is looked up. */
	for (size_t i = 0; i <= t->len && n < max; i++) {
		for (int kind = 0; kind < 2 && n < max; kind++) {
			size_t vl;
			if (kind == 1 && i == t->len)
				break;
			for (char ch = 'a'; ch <= 'z' && n < max; ch++) {
				uint32_t b;
				bool dup;
				if (kind == 0) { /* ch put in before letter i */
					memcpy(v, t->s, i);
					v[i] = ch;
					memcpy(v + i + 1, t->s + i, t->len - i);
					vl = t->len + 1u;
				} else { /* letter i replaced by ch */
					if (t->s[i] == ch)
						continue;
					memcpy(v, t->s, t->len);
					v[i] = ch;
					vl = t->len;
				}
				double_metaphone_primary(v, vl, p);
				b = code_bits(p);
				dup = p[0] == '\0' || b == own;
				for (size_t k = 0; k < n && !dup; k++)
					dup = out[k] == b;
				if (!dup)
					out[n++] = b;
			}
		}
	}
	return n;
}

static bool qkey_empty(struct match_ctx *c, struct store_reader *r, char kind, const char *a, const char *b);

/* Whether nobody on the register has the reading's family-name sound
 * with its given name's (each N key of their own codes is empty; those
 * were counted already, by query_name_keys). */
static bool own_name_keys_empty(struct match_ctx *c, struct store_reader *r, const struct mname *n)
{
	for (size_t t = 0; t < n->nf; t++)
		if (n->family[t].dm1[0] != '\0' && !qkey_empty(c, r, 'N', n->family[t].dm1, n->given[0].dm1))
			return false;
	return true;
}

/*
 * For a check without a date of birth: the N keys, with the given name's
 * own sound, of the sounds typo_codes finds for every family name of a
 * reading that nobody on the register spells so (its T keys are empty:
 * a typo, or a stranger), or that nobody has with that given name (its
 * own N keys are empty: Rhodri William, when some other William is
 * registered and Rhodri is Williams).  Added after every other key of
 * the check, so that they never take the place of one (qkey_add drops
 * what does not fit), and at most TYPO_CODES_MAX a check.
 */
static void typo_keys(struct match_ctx *c, struct store_reader *r)
{
	/* The sounds of the last family name worked out: a check's names
	 * often share one (aliases under other given names, the readings of
	 * one name), and each costs some 280 Double Metaphones. */
	uint32_t codes[TYPO_CODES_MAX];
	const struct mtok *done = NULL;
	size_t left = TYPO_CODES_MAX, n_codes = 0;

	for (size_t i = 0; i < c->n_subj && left > 0; i++) {
		const struct mname *n = &c->subj[i];
		if (c->swapped[i] || n->ng == 0 || n->given[0].dm1[0] == '\0' ||
		    (n->family_seen && !own_name_keys_empty(c, r, n)))
			continue;
		for (size_t t = 0; t < n->nf && left > 0; t++) {
			size_t k;
			if (done == NULL || !tok_eq(done, &n->family[t])) {
				/* left only falls, so a list cut at it serves the later names. */
				n_codes = typo_codes(&n->family[t], codes, left);
				done = &n->family[t];
			}
			k = n_codes < left ? n_codes : left;
			for (size_t j = 0; j < k; j++) {
				char code[DM_CODE_MAX + 1] = {0};
				for (size_t b = 0; b < DM_CODE_MAX; b++) /* code_bits, undone */
					code[b] = (char)((codes[j] >> (8 * b)) & 0xff);
				qkey_put(c, 'N', code, n->given[0].dm1, 0, -1);
			}
			left -= k;
		}
	}
}

/*
 * For a check without a full date: the N keys, with each family name's
 * own sound, of the given name's spellings one slip away (two letters
 * swapped back, one left out: slip_codes) when nobody on the register
 * has the reading's family and given names' sounds together.  Mxarcia
 * Williams or Jpohn Jackson, without a date, met no key: the F keys
 * (family name and initial) of a name as common as Williams are over
 * their cap.  At most SLIP_CODES_MAX a reading, after every other key.
 */
static void given_slip_keys(struct match_ctx *c, struct store_reader *r)
{
	for (size_t i = 0; i < c->n_subj; i++) {
		const struct mname *n = &c->subj[i];
		char slips[SLIP_CODES_MAX][DM_CODE_MAX + 1];
		size_t ns;
		if (c->swapped[i] || n->ng == 0 || n->given[0].dm1[0] == '\0' || !own_name_keys_empty(c, r, n))
			continue;
		ns = slip_codes(&n->given[0], slips, SLIP_CODES_MAX);
		for (size_t t = 0; t < n->nf; t++)
			for (size_t k = 0; k < ns && n->family[t].dm1[0] != '\0'; k++)
				qkey_put(c, 'N', n->family[t].dm1, slips[k], 0, -1);
	}
}

/*
 * The keys of one subject name.  The record side indexes both Double
 * Metaphone codes of each token; the query side uses the primary code
 * only (any agreement between the two pairs of codes nearly always
 * involves the query's primary), which keeps a check near a hundred key
 * look-ups.  swapped: the name given the other way round, for which only
 * the name keys are worth their look-ups.
 */
static void query_name_keys(struct match_ctx *c, struct store_reader *r, const struct mname *n, bool swapped,
			    const int *years, size_t n_years, const int *mmdd, size_t n_mmdd)
{
	char initials[64];
	const char *gcodes[SECTOR_GIVEN_CODES_MAX];
	char gcode_buf[NICK_VARIANTS_MAX][DM_CODE_MAX + 1];
	size_t ni = 0, ngc = 0, own = 0, ngc_name;
	size_t ngc_max = c->sector[0] != '\0' ? SECTOR_GIVEN_CODES_MAX : QUERY_GIVEN_CODES_MAX;

	/* Initials and sounds of the given name and its nickname variants. */
	for (size_t i = 0; i < n->ng; i++)
		if (memchr(initials, n->given[i].s[0], ni) == NULL)
			initials[ni++] = n->given[i].s[0];
	for (size_t i = 0; i < n->nm; i++)
		if (memchr(initials, n->middle[i].s[0], ni) == NULL)
			initials[ni++] = n->middle[i].s[0];
	if (n->ng > 0 && n->given[0].dm1[0] != '\0') {
		const char *vars[NICK_VARIANTS_MAX];
		size_t nv = nickname_variants(c->m->nick, n->given[0].s, vars, NICK_VARIANTS_MAX);
		gcodes[ngc++] = n->given[0].dm1;
		own = ngc;
		for (size_t v = 0; v < nv; v++) {
			bool dup;
			if (memchr(initials, vars[v][0], ni) == NULL && ni < sizeof(initials))
				initials[ni++] = vars[v][0];
			memcpy(gcode_buf[v], nick_primary_code(c, vars[v]), DM_CODE_MAX + 1);
			dup = gcode_buf[v][0] == '\0';
			for (size_t g = 0; g < ngc && !dup; g++)
				dup = strcmp(gcodes[g], gcode_buf[v]) == 0;
			if (!dup && ngc < ngc_max)
				gcodes[ngc++] = gcode_buf[v];
		}
	}
	/* The name keys (N, B, M) and the given name's own (G) take the
	 * first QUERY_GIVEN_CODES_MAX, the sector's (P) all. */
	ngc_name = ngc < QUERY_GIVEN_CODES_MAX ? ngc : QUERY_GIVEN_CODES_MAX;
	if (ni == 0) {
		/* No given name: every initial (the F keys of the family sound). */
		for (char ch = 'a'; ch <= 'z'; ch++)
			initials[ni++] = ch;
		initials[ni++] = '_';
	}

	for (size_t t = 0; t < n->nf; t++) {
		const char *fc = n->family[t].dm1;
		if (fc[0] == '\0')
			continue;
		for (size_t g = 0; g < ngc_name; g++) {
			qkey_put(c, 'N', fc, gcodes[g], 0, -1);
			if (g >= own)
				continue;
			/* Every record with a B or M key of this name has its N key
			 * too: when that is empty (most swapped readings, names not
			 * on the register), theirs are, and need no look-ups. */
			if (qkey_empty(c, r, 'N', fc, gcodes[g]))
				continue;
			/* With a dob, the year as given only: a year off by one or
			 * slipped keeps the birthday, which the M key covers. */
			for (size_t y = 0; y < n_years && (n_mmdd == 0 || y < 1); y++)
				qkey_put(c, 'B', fc, gcodes[g], years[y], 0);
			for (size_t d = 0; d < n_mmdd; d++)
				qkey_put(c, 'M', fc, gcodes[g], mmdd[d], 4);
		}
		for (size_t i = 0; i < ni; i++)
			qkey_put(c, 'F', fc, (char[2]){initials[i], '\0'}, 0, -1);
		/* Without a date, a family name few records carry, whole:
		 * every given name, so that a slip in its first letter (Harry
		 * for Barry) or a pet form of another letter the table lacks
		 * is found, which the F keys' initial cannot do. */
		if (!swapped && n_mmdd == 0 && n->family_count[t] > 0 && n->family_count[t] <= FAMILY_SCAN_MAX &&
		    !family_particle(&n->family[t]))
			qkey_put(c, 'T', n->family[t].s, NULL, 0, -1);
		if (!swapped)
			for (size_t y = 0; y < n_years; y++)
				qkey_put(c, 'Y', fc, NULL, years[y], 0);
		/* The family name in the postcode sector, read either way round:
		 * small, and with no date of birth often all that tells a
		 * swapped name's owner from the many who share it. */
		if (c->sector[0] != '\0')
			qkey_put(c, 'Q', c->sector, fc, 0, -1);
	}
	/* The family name's listed variants (Zhou: Chow, Chou, Jau; Guo:
	 * Kwok, Kuo) by their sounds, with the given name's own sound and in
	 * the postcode sector: the keys that find a variant without a date
	 * (with one, the date keys hold the variants' initials too). */
	{
		char fv[FAMILY_VARIANT_CODES_MAX][DM_CODE_MAX + 1];
		size_t nfv = family_variant_codes(c, n, fv);
		for (size_t v = 0; v < nfv; v++) {
			for (size_t g = 0; g < own; g++)
				qkey_put(c, 'N', fv[v], gcodes[g], 0, -1);
			if (c->sector[0] != '\0')
				qkey_put(c, 'Q', c->sector, fv[v], 0, -1);
		}
	}
	/* The consonants of a Latin name, which the same name written in
	 * Arabic script is indexed under (record_name_keys): one key or
	 * two, and empty on a register without such names. */
	if (!n->arabic) {
		struct skeletons sk;
		name_skeletons(n, &sk);
		for (size_t f = 0; f < sk.n_fam; f++)
			for (size_t g = 0; g < sk.n_given; g++)
				qkey_put(c, 'A', sk.fam[f], sk.given[g], 0, -1);
	}
	if (swapped)
		return;
	/* A date known in part or an age, and no day: whoever has the
	 * initials of the family name and the given name and was born in
	 * those years.  A slip in both names (Thomax Phiklips, 1975, for
	 * Thomas Phillips) changes both sounds, and with them every name
	 * key; a full date finds them by its D key.  Read last, as a
	 * secondary key (scan_and_score). */
	if (n_mmdd == 0 && n->ng > 0)
		for (size_t t = 0; t < n->nf; t++)
			for (size_t y = 0; y < n_years; y++)
				qkey_put(c, 'I', (char[3]){n->family[t].s[0], n->given[0].s[0], '\0'}, NULL, years[y], 0);
	/* No date of birth: the family name's spellings one slip away, by
	 * their sounds, with the given name's own (the date keys find those
	 * of a check with a date, if the date is right).  With a date, when
	 * nobody on the register is called so: a slip in the name and one in
	 * the date (Bilal Rijaz, 1960, for Bilal Riaz, 1969) meet no other
	 * key. */
	if ((n_mmdd == 0 || !n->family_seen) && own > 0) {
		char slips[SLIP_CODES_MAX][DM_CODE_MAX + 1];
		size_t ns = 0;
		for (size_t t = 0; t < n->nf && ns < SLIP_CODES_MAX; t++)
			ns += slip_codes(&n->family[t], slips + ns, SLIP_CODES_MAX - ns);
		for (size_t k = 0; k < ns; k++)
			for (size_t g = 0; g < own; g++)
				qkey_put(c, 'N', slips[k], gcodes[g], 0, -1);
	}
	/* The given name's sound and its nickname variants' with the year:
	 * Doug for Douglas Hall with a slip in his family name that changes
	 * its sound and a year out meets no other key without a postcode
	 * sector. */
	for (size_t g = 0; g < ngc_name; g++)
		for (size_t y = 0; y < n_years; y++)
			qkey_put(c, 'G', gcodes[g], NULL, years[y], 0);
	/* The given name in the postcode sector, and its nickname variants
	 * there too (Jim for James): a few records each, and the one key
	 * that finds Jim Williasmon of DY10 6RT, a year out, when the slip
	 * has changed his family name's sound. */
	if (c->sector[0] != '\0')
		for (size_t g = 0; g < ngc; g++)
			qkey_put(c, 'P', c->sector, gcodes[g], 0, -1);
}

/*
 * Orders the keys by count, the first added first among equal counts (as
 * a stable sort would): each key's count and place packed into one
 * number, sorted, and the keys copied over in that order.  qsort() of
 * the keys themselves (72 bytes each, through a comparison function)
 * was 2% of a check's instructions, and qsort() of the numbers, for the
 * checks with more than 64 keys, 1.3%: a Shell sort (Ciura's gaps) of
 * the numbers, which are all different, so any sort orders them alike.
 */
static void qkeys_by_count(struct match_ctx *c)
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
	uint64_t order[QKEYS_MAX];
	size_t n = c->n_keys;

	for (size_t i = 0; i < n; i++) {
		uint64_t count = c->keys[i].count < (UINT64_C(1) << 47) ? c->keys[i].count : (UINT64_C(1) << 47) - 1;
		order[i] = count << 16 | i;
	}
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			uint64_t v = order[i];
			size_t j = i;
			for (; j >= gap && order[j - gap] > v; j -= gap)
				order[j] = order[j - gap];
			order[j] = v;
		}
	}
	for (size_t i = 0; i < n; i++)
		c->keys_sorted[i] = c->keys[order[i] & 0xffffu];
	memcpy(c->keys, c->keys_sorted, n * sizeof(c->keys[0]));
}

static bool tag_rules_out(struct match_ctx *c, uint32_t tag, uint32_t recno);

static int collect_fn(void *arg, const struct store_ref *refs, size_t n)
{
	struct match_ctx *c = arg;

	for (size_t i = 0; i < n; i++) {
		uint32_t r = refs[i].recno;
		size_t h = (r * 2654435761u) & (SEEN_SLOTS - 1);
		bool found = false;

		if (++c->n_refs_seen > c->ref_limit) {
			c->key_stopped = true;
			return 1; /* examined enough of a huge key */
		}
		/* A pure function of the tag: the same from any key, so a
		 * ruled-out record needs no place in the seen set. */
		if (tag_rules_out(c, refs[i].tag, r)) {
			c->n_pruned++;
			continue;
		}
		while (c->seen_gen[h] == c->gen) {
			if (c->seen_key[h] == r) {
				found = true;
				break;
			}
			h = (h + 1) & (SEEN_SLOTS - 1);
		}
		if (found)
			continue;
		if (c->n_cands >= c->cand_limit) {
			c->key_stopped = true;
			return 1; /* budget reached: stop this key */
		}
		c->seen_gen[h] = c->gen;
		c->seen_key[h] = r;
		c->cands[c->n_cands++] = refs[i];
	}
	return 0;
}

static int scan_key(struct match_ctx *c, struct store_reader *r, struct qkey *k, struct dsc_error *err)
{
	int rc;

	c->key_stopped = false;
	c->sector_key = k->k[0] == 'P';
	if (k->n_refs > 0 && k->n_refs == k->count) {
		collect_fn(c, c->ref_arena + k->refs_at, k->n_refs);
		k->read = !c->key_stopped;
		return DSC_OK;
	}
	rc = store_index_each(r, k->k, k->len, collect_fn, c);
	k->read = rc >= 0 && !c->key_stopped;

	if (rc < 0)
		return dsc_error_set(err, rc, "reading the candidate index failed (%s)", dsc_status_name(rc));
	return DSC_OK;
}

/*
 * A full date of birth and a family name nobody on the register spells
 * so (a slip, or a stranger): the D keys of the date with day and month
 * swapped and of the same day a year either side, with the initials of
 * that name's given and family names.  A slip that changes the family
 * name's sound and one in the date (John Johes, 1988-09-01, for John
 * Jones, 1988-01-09; Nicola Baka a year out) meet no other key when the
 * given name is too common for its G keys.  At most six keys, of a few
 * records each.
 */
static void slipped_date_keys(struct match_ctx *c, const struct date *d)
{
	char letters[8] = "";
	struct kbuf k;

	for (size_t i = 0; i < c->n_subj; i++) {
		const struct mname *n = &c->subj[i];
		if (c->swapped[i] || n->ng == 0 || n->nf == 0 || n->given[0].dm1[0] == '\0' || n->family_seen)
			continue;
		letter_add(letters, 3, n->given[0].s[0]);
		letter_add(letters, 3, n->family[0].s[0]);
		break;
	}
	for (size_t l = 0; letters[l] != '\0'; l++) {
		if (d->day <= 12 && d->day != d->month && key_date(&k, d->year, d->day, d->month, letters[l]))
			qkey_add(c, k.b, k.n);
		if (!(d->month == 2 && d->day == 29)) {
			if (key_date(&k, d->year - 1u, d->month, d->day, letters[l]))
				qkey_add(c, k.b, k.n);
			if (key_date(&k, d->year + 1u, d->month, d->day, letters[l]))
				qkey_add(c, k.b, k.n);
		}
	}
}

static int generate_candidates(struct match_ctx *c, struct store_reader *r, const struct check_subject *s,
			       struct dsc_error *err)
{
	int years[4], mmdd[2];
	size_t ny = query_years(s, &c->today, years), nd = 0;
	int rc;

	c->n_keys = 0;
	c->n_cands = 0;
	c->ref_used = 0;
	c->n_refs_seen = 0;
	if (++c->gen == 0) {
		memset(c->seen_gen, 0, sizeof(c->seen_gen));
		memset(c->qkey_gen, 0, sizeof(c->qkey_gen));
		memset(c->memo, 0, sizeof(c->memo));
		memset(c->tag_dob, 0, sizeof(c->tag_dob));
		c->gen = 1;
	}
	/* Dates first, then names as given, then swapped.  The date as
	 * given only, with the first letter of any word of any reading's
	 * names (name_letters); a date with its day and month swapped is
	 * found through the names (the M keys hold the swapped birthday)
	 * and, with a postcode, the E key.  A date known in part has no
	 * day to look up: its year is in the names' keys (query_years). */
	if (s->dob.year != 0 && s->dob.day != 0) {
		const struct date *d = &s->dob;
		/* A day that could be a month, and is not the month itself. */
		bool swaps = d->day <= 12 && d->day != d->month;
		char letters[27] = "";
		struct kbuf k;
		for (size_t i = 0; i < c->n_subj; i++) {
			const struct mname *q = &c->subj[i];
			const char *vars[NICK_VARIANTS_MAX];
			size_t nv = q->ng > 0 ? nickname_variants(c->m->nick, q->given[0].s, vars, NICK_VARIANTS_MAX) : 0;
			name_letters(q, letters, sizeof(letters));
			/* Willie for Liam: the given name's variants' letters too. */
			for (size_t v = 0; v < nv; v++)
				letter_add(letters, sizeof(letters), vars[v][0]);
			/* Chow for Zhou: the family name's listed variants'.  (The
			 * name with or without Mac is left to the given name's
			 * initial: a letter more for every check is a key more.) */
			for (size_t v = 0; v < q->n_fam_vars; v++)
				letter_add(letters, sizeof(letters), q->fam_vars[v][0]);
		}
		for (size_t l = 0; letters[l] != '\0'; l++) {
			if (key_date(&k, d->year, d->month, d->day, letters[l]))
				qkey_add(c, k.b, k.n);
			/* The century slipped (W_DOB_CENTURY). */
			if (c->dob_century.year != 0 &&
			    key_date(&k, c->dob_century.year, d->month, d->day, letters[l]))
				qkey_add(c, k.b, k.n);
		}
		/* Whoever was born that day where the subject lives, whatever
		 * their name: a name changed and not recorded.  And on the day
		 * with day and month swapped: a name written in another script
		 * whose every sound has changed on the way (теренке сміт for
		 * Terence Smith), with the date written the American way, is
		 * found by no other key. */
		if (c->sector[0] != '\0' && key_date_sector(&k, d->year, d->month, d->day, c->sector))
			qkey_add(c, k.b, k.n);
		if (c->sector[0] != '\0' && swaps && key_date_sector(&k, d->year, d->day, d->month, c->sector))
			qkey_add(c, k.b, k.n);
		/* The birthday, and swapped, for the M keys. */
		mmdd[nd++] = d->month * 100 + d->day;
		if (swaps)
			mmdd[nd++] = d->day * 100 + d->month;
	}
	for (size_t i = 0; i < c->n_subj; i++)
		query_name_keys(c, r, &c->subj[i], c->swapped[i], years, ny, mmdd, nd);
	if (nd == 0) {
		typo_keys(c, r);
		given_slip_keys(c, r);
	} else {
		slipped_date_keys(c, &s->dob);
	}
	/* Whoever lived in the subject's sector, born in the years the date,
	 * the part of it known or the age allows: read as a secondary key
	 * (SECONDARY_CAP), for the names no key met. */
	for (size_t y = 0; c->sector[0] != '\0' && y < ny; y++) {
		struct kbuf k;
		if (key_sector_year(&k, c->sector, years[y]))
			qkey_add(c, k.b, k.n);
	}

	/* Most keys are answered by the store's key filter, a cache miss
	 * each: fetched side by side first. */
	for (size_t i = 0; i < c->n_keys; i++)
		if (!c->keys[i].counted)
			store_index_prefetch(r, c->keys[i].k, c->keys[i].len);
	for (size_t i = 0; i < c->n_keys; i++) {
		if (c->keys[i].counted)
			continue;
		rc = qkey_count(c, r, &c->keys[i]);
		if (rc < 0)
			return dsc_error_set(err, rc, "reading the candidate index failed (%s)", dsc_status_name(rc));
	}
	qkeys_by_count(c);

	return DSC_OK;
}

/* ------------------------------------------------------------------ */
/* Scoring */

struct reasons {
	const char *r[MATCH_MAX_REASONS];
	size_t n;
};

static void reason(struct reasons *rs, const char *s)
{
	if (rs->n < MATCH_MAX_REASONS)
		rs->r[rs->n++] = s;
}

/*
 * Frequency weight log2(m/u), u the share of records with the token,
 * smoothed towards the default weight's share as if one record in
 * 1/u0 had it: a small register (a test, a new force) says little about
 * how rare a name is, a large one says a lot.
 */
/* The number of records under the key kind+tok; false if it cannot be read. */
static bool token_count(struct store_reader *r, char kind, const char *tok, size_t *count)
{
	struct kbuf k;

	return key_build(&k, kind, tok, NULL, 0, -1) && store_index_count(r, k.b, k.n, count) == DSC_OK;
}

static double tf_weight(struct store_reader *r, char kind, const char *tok, size_t n_records, double lo,
			double hi, double dflt, bool *seen, size_t *count_out)
{
	size_t count = 0;
	double u0 = M_PROB / exp_approx(dflt * 0.69314718055994530942), u;

	*seen = true; /* unless the register says otherwise */
	if (count_out != NULL)
		*count_out = 0;
	if (!token_count(r, kind, tok, &count))
		return dflt;
	*seen = count > 0;
	if (count_out != NULL)
		*count_out = count;
	u = ((double)count + 1.0) / ((double)n_records + 1.0 / u0);
	return clampd(log2_approx(M_PROB / u), lo, hi);
}

static void subject_weights(struct match_ctx *c, struct store_reader *r, struct mname *n)
{
	double best = W_FAMILY_EXACT_MIN;
	bool seen;

	n->family_seen = false;
	for (size_t t = 0; t < n->nf; t++) {
		n->w_family_tok[t] = tf_weight(r, 'T', n->family[t].s, c->n_records, W_FAMILY_EXACT_MIN,
					       W_FAMILY_EXACT_MAX, W_FAMILY_EXACT_DEFAULT, &seen, &n->family_count[t]);
		n->family_seen = n->family_seen || seen;
		if (n->w_family_tok[t] > best)
			best = n->w_family_tok[t];
	}
	/* A compound name as a whole is at least as rare as its rarest part. */
	n->w_family_joined = clampd(best + (n->nf > 1 ? 2.0 : 0.0), W_FAMILY_EXACT_MIN, W_FAMILY_EXACT_MAX);
	n->given_seen = true;
	n->w_given = n->ng > 0 ? tf_weight(r, 'U', n->given[0].s, c->n_records, W_GIVEN_EXACT_MIN,
					   W_GIVEN_EXACT_MAX, W_GIVEN_EXACT_DEFAULT, &n->given_seen, NULL)
			       : 0.0;
}

/* True unless the register holds no index entry under kind+tok (a failed
 * read counts as seen). */
static bool token_seen(struct store_reader *r, char kind, const char *tok)
{
	size_t count = 0;

	return !token_count(r, kind, tok, &count) || count > 0;
}

/*
 * True when a and b (4 letters or more) differ by one insertion, deletion,
 * substitution or swap of adjacent letters: Damerau-Levenshtein <= 1,
 * decided in one pass because the scorer asks this of every name pair.
 */
static bool one_edit(const struct mtok *a, const struct mtok *b)
{
	const char *x = a->s, *y = b->s;
	size_t xl = a->len, yl = b->len, i = 0;

	if (xl < 4 || yl < 4)
		return false;
	if (xl < yl) {
		const char *t = x;
		x = y;
		y = t;
		xl = b->len;
		yl = a->len;
	}
	if (xl - yl > 1)
		return false;
	while (i < yl && x[i] == y[i])
		i++;
	if (i == yl)
		return true; /* equal, or one letter added at the end */
	if (xl == yl) {
		if (memcmp(x + i + 1, y + i + 1, xl - i - 1) == 0)
			return true; /* substitution */
		return i + 1 < xl && x[i] == y[i + 1] && x[i + 1] == y[i] &&
		       memcmp(x + i + 2, y + i + 2, xl - i - 2) == 0; /* adjacent swap */
	}
	return memcmp(x + i + 1, y + i, yl - i) == 0; /* deletion from x */
}


/* Two edits apart (Damerau-Levenshtein), both five letters or more, the
 * first letter the same: two typos in one name (family_score). */
static bool two_edits(const struct mtok *a, const struct mtok *b)
{
	size_t d = a->len > b->len ? a->len - b->len : b->len - a->len;

	if (a->len < 5 || b->len < 5 || d > 2 || a->s[0] != b->s[0])
		return false;
	return damerau_levenshtein(a->s, a->len, b->s, b->len) == 2;
}

/* A family name as compared: its tokens without a leading article (when
 * more follow), joined. */
struct fam_core {
	const struct mtok *tok;
	size_t n;
	struct mtok joined;
	char buf[NORM_TOKENS_MAX * (NORM_TOKEN_MAX + 1)];
};

static void fam_core(const struct mname *n, struct fam_core *f)
{
	size_t skip = n->nf > 1 && family_article(&n->family[0]) ? 1 : 0, k = 0;

	f->tok = n->family + skip;
	f->n = n->nf - skip;
	if (skip == 0) {
		f->joined.s = n->family_joined;
		f->joined.len = n->family_joined_len;
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		memcpy(f->buf + k, f->tok[i].s, f->tok[i].len);
		k += f->tok[i].len;
	}
	f->buf[k] = '\0';
	f->joined.s = f->buf;
	f->joined.len = (uint8_t)k;
}

/* One is the other with Mac before it (the normaliser writes Mc as mac),
 * and what is left has three letters or more. */
static bool mac_dropped(const struct mtok *a, const struct mtok *b)
{
	if (a->len < b->len) {
		const struct mtok *t = a;
		a = b;
		b = t;
	}
	return b->len >= 3 && a->len == b->len + 3 && memcmp(a->s, "mac", 3) == 0 &&
	       memcmp(a->s + 3, b->s, b->len) == 0;
}

static bool starts_mac(const struct mtok *t)
{
	return t->len >= 3 && memcmp(t->s, "mac", 3) == 0;
}

/*
 * One edit from the other's Mc spelling: the normaliser writes Mc as mac
 * (McDonald and MacDonald compare equal), so a typo in the Mc itself
 * (MNamara, cDonald, MvDonald) is two letters from the mac of the record
 * and one from what was typed there.  Only where four letters or more
 * follow the mac: MacKay less its c is not a name to trust.
 */
static bool mc_one_edit(const struct mtok *a, const struct mtok *b)
{
	char buf[UINT8_MAX + 1]; /* a joined name's length is a uint8_t */
	struct mtok mc;

	if (starts_mac(a) == starts_mac(b))
		return false; /* neither, or both: compared as they are */
	if (!starts_mac(a)) {
		const struct mtok *t = a;
		a = b;
		b = t;
	}
	if (a->len < 7)
		return false;
	buf[0] = 'm';
	memcpy(buf + 1, a->s + 2, a->len - 2u); /* "mac..." -> "mc..." */
	buf[a->len - 1u] = '\0';
	mc.s = buf;
	mc.len = (uint8_t)(a->len - 1u);
	return one_edit(&mc, b);
}

/* Whether the family-name table relates a and b (NUL-terminated). */
static bool surname_related(const struct nickname_table *sur, const struct mtok *a, const struct mtok *b)
{
	return sur != NULL && nickname_related(sur, a->s, b->s);
}

/* Whether the register holds tok as a name of many records: kind 'U' a
 * first given name, 'T' a family name's token (W_GIVEN_FUZZY_NAMES,
 * W_FAMILY_FUZZY_NAMES).  A failed read says no, which keeps the weight
 * of a near spelling. */
static bool name_well_known(const struct match_ctx *c, char kind, const struct mtok *tok)
{
	size_t count = 0, least = c->n_records / (1000000 / NAME_KNOWN_PER);

	if (least < NAME_KNOWN_MIN)
		least = NAME_KNOWN_MIN;
	return token_count(c->r, kind, tok->s, &count) && count >= least;
}

/* The same words of a compound family name, each once, in another order
 * (the joined spellings differ, so the order does); not particles alone. */
static bool same_words_reordered(const struct mname *q, const struct mname *rn)
{
	bool used[NORM_TOKENS_MAX] = {false}, any = false;

	if (q->nf < 2 || q->nf != rn->nf || q->family_joined_len != rn->family_joined_len)
		return false;
	for (size_t i = 0; i < q->nf; i++) {
		size_t j = 0;
		while (j < rn->nf && (used[j] || !tok_eq(&q->family[i], &rn->family[j])))
			j++;
		if (j == rn->nf)
			return false;
		used[j] = true;
		any = any || !family_particle(&q->family[i]);
	}
	return any;
}

/* The words of two family names that are not particles, in order, agree
 * (there is at least one), and the names differ only in their particles:
 * the weight those words have, or a negative number if they do not agree. */
static double same_words_but_particles(const struct mname *q, const struct mname *rn)
{
	size_t i = 0, j = 0, n_core = 0;
	double best = W_FAMILY_EXACT_MIN;

	for (;;) {
		while (i < q->nf && family_particle(&q->family[i]))
			i++;
		while (j < rn->nf && family_particle(&rn->family[j]))
			j++;
		if (i == q->nf || j == rn->nf)
			break;
		if (!tok_eq(&q->family[i], &rn->family[j]))
			return -1.0;
		if (q->w_family_tok[i] > best)
			best = q->w_family_tok[i];
		n_core++;
		i++;
		j++;
	}
	if (i != q->nf || j != rn->nf || n_core == 0)
		return -1.0;
	return clampd(best + (n_core > 1 ? 2.0 : 0.0), W_FAMILY_EXACT_MIN, W_FAMILY_EXACT_MAX) -
	       W_FAMILY_PARTICLES_DROP;
}

/* swapped: q is the subject's names read the other way round. */
static double family_score(const struct match_ctx *c, const struct mname *q, const struct mname *rn, bool swapped,
			   const char **why)
{
	const struct nickname_table *sur = c->m->sur;
	double w_exact = q->w_family_joined;
	double best = W_FAMILY_DISAGREE;
	double fuzzy_cap = w_exact - W_FUZZY_BELOW_EXACT;
	struct fam_core qc, rc;

	*why = NULL;
	if (q->nf == 0 || rn->nf == 0) {
		*why = R_FAMILY_MISSING; /* a family name of punctuation only ("-", "?") */
		return 0.0;
	}
	if (q->family_joined_len == rn->family_joined_len &&
	    memcmp(q->family_joined, rn->family_joined, q->family_joined_len) == 0) {
		*why = R_FAMILY_EXACT;
		return w_exact;
	}
	/* An initial (W_FAMILY_INITIAL); not in a reading with the names
	 * swapped, where it is the given name's initial ("A Cameron"). */
	if (q->nf == 1 && q->family[0].len == 1 && !swapped) {
		if (rn->family[0].s[0] == q->family[0].s[0]) {
			*why = R_FAMILY_INITIAL;
			return W_FAMILY_INITIAL;
		}
		*why = R_FAMILY_MISMATCH;
		return W_FAMILY_DISAGREE;
	}
	if (same_words_reordered(q, rn)) {
		*why = R_FAMILY_REORDERED;
		return w_exact - W_FAMILY_REORDERED_DROP;
	}
	{
		double wp = same_words_but_particles(q, rn);
		if (wp > 0) {
			*why = R_FAMILY_PARTICLES;
			return wp;
		}
	}
	/* One part of a compound name ("Smith" for "Smith-Jones", "Hassan"
	 * for "Al-Hassan"), but never a particle or the Arabic article:
	 * Al-Hassan and Al-Rashid agree in nothing.  A family name of
	 * particles only that the record's has (De for de Souza, Al for
	 * Al-Hassan: the rest of it lost on the form) is no family name, as
	 * one of punctuation is not: weighed as missing, at the end. */
	bool only_particles = true, particle_agrees = false;
	for (size_t i = 0; i < q->nf; i++)
		only_particles = only_particles && family_particle(&q->family[i]);
	for (size_t i = 0; i < q->nf; i++) {
		for (size_t j = 0; j < rn->nf; j++) {
			if (tok_eq(&q->family[i], &rn->family[j]) && family_particle(&q->family[i]))
				particle_agrees = true;
			else if (tok_eq(&q->family[i], &rn->family[j])) {
				double w = clampd(q->w_family_tok[i] - W_FAMILY_COMPOUND_DROP, W_FAMILY_EXACT_MIN - 1.0,
						  W_FAMILY_EXACT_MAX);
				if (w > best) {
					best = w;
					*why = R_FAMILY_COMPOUND_PART;
				}
			}
		}
	}
	if (*why != NULL)
		return best;

	/* The rest with the article set aside, so that Al-Hassan and
	 * Al-Rashid do not look near for their first letters. */
	fam_core(q, &qc);
	fam_core(rn, &rc);
	{
		const struct mtok *qj = &qc.joined, *rj = &rc.joined;
		/* (compared with JW_HIGH and JW_LOW only) */
		double jw = jaro_winkler_floor(qj->s, qj->len, rj->s, rj->len, JW_LOW);
		if (jw >= JW_HIGH || one_edit(qj, rj) || mc_one_edit(qj, rj)) {
			*why = R_FAMILY_FUZZY;
			if (qc.n == 1 && rc.n == 1 && name_well_known(c, 'T', qj) && name_well_known(c, 'T', rj) &&
			    !surname_related(sur, qj, rj))
				return min_d(W_FAMILY_FUZZY_NAMES, fuzzy_cap);
			return min_d(W_FAMILY_FUZZY, fuzzy_cap);
		}
		for (size_t i = 0; i < qc.n; i++) {
			for (size_t j = 0; j < rc.n; j++) {
				if ((qc.n > 1 || rc.n > 1) &&
				    (family_particle(&qc.tok[i]) || family_particle(&rc.tok[j])))
					continue;
				if (sound_alike(&qc.tok[i], &rc.tok[j])) {
					*why = R_FAMILY_PHONETIC;
					return min_d(W_FAMILY_PHONETIC, fuzzy_cap);
				}
			}
		}
		/* One written in Arabic script: the same consonants are the
		 * same sound (hdad, Haddad; khlyl, Khalil). */
		if (q->arabic != rn->arabic) {
			struct skeletons qs, rs;
			name_skeletons(q, &qs);
			name_skeletons(rn, &rs);
			if (skeletons_meet(qs.fam, qs.n_fam, rs.fam, rs.n_fam)) {
				*why = R_FAMILY_PHONETIC;
				return min_d(W_FAMILY_PHONETIC, fuzzy_cap);
			}
		}
		/* A listed variant: after the near spellings and the sounds, so
		 * that the table only adds pairs (Zhou and Chow) and never
		 * weakens one that was already found (Zhou and Chou; Li and Lee,
		 * which agree by sound, and sound is not weak evidence for a
		 * name written in another script, name_needs_support). */
		if (q->n_fam_vars > 0 &&
		    (surname_related(sur, qj, rj) ||
		     ((qj->s != q->family_joined || rj->s != rn->family_joined) &&
		      surname_related(sur, &(struct mtok){.s = q->family_joined, .len = q->family_joined_len},
				      &(struct mtok){.s = rn->family_joined, .len = rn->family_joined_len})))) {
			*why = R_FAMILY_VARIANT;
			return min_d(W_FAMILY_VARIANT, fuzzy_cap);
		}
		/* A token of a compound with a typo. */
		for (size_t i = 0; i < qc.n && (qc.n > 1 || rc.n > 1); i++) {
			for (size_t j = 0; j < rc.n; j++) {
				const struct mtok *a = &qc.tok[i], *b = &rc.tok[j];
				if (family_particle(a) || family_particle(b))
					continue;
				if (jaro_winkler_floor(a->s, a->len, b->s, b->len, JW_HIGH) >= JW_HIGH || one_edit(a, b)) {
					*why = R_FAMILY_FUZZY;
					return min_d(W_FAMILY_FUZZY - W_FAMILY_COMPOUND_DROP, fuzzy_cap);
				}
			}
		}
		if (jw >= JW_LOW) {
			*why = R_FAMILY_FUZZY;
			return min_d(W_FAMILY_FUZZY_LOW, fuzzy_cap);
		}
		if (mac_dropped(qj, rj)) {
			*why = R_FAMILY_VARIANT;
			return min_d(W_FAMILY_MAC_DROPPED, fuzzy_cap);
		}
		if (two_edits(qj, rj)) {
			*why = R_FAMILY_TWO_EDITS;
			return W_FAMILY_TWO_EDITS;
		}
	}
	if (only_particles && particle_agrees) {
		*why = R_FAMILY_MISSING;
		return 0.0;
	}
	/* Singh or Kaur alone on one side and another family name on the
	 * other: one Sikh writes Harpreet Singh on one form and Harpreet
	 * Bhamra on the next, so the two say nothing either way; and never
	 * the match band (score_names: name_partial).  (Singh before the
	 * family name is read by sikh_parts.) */
	if ((q->nf == 1 && sikh_title(&q->family[0])) != (rn->nf == 1 && sikh_title(&rn->family[0]))) {
		*why = R_FAMILY_SINGH_KAUR;
		return 0.0;
	}
	*why = R_FAMILY_MISMATCH;
	return W_FAMILY_DISAGREE;
}

/* The consonants of a token, as spellings of one name in Latin letters
 * vary least: vowels, h and y dropped, and w too but before a vowel
 * inside the word, where it is written for a v; a letter doubled as one
 * (Balvinder and Balwinder, Asok and Ashok, Wojciech and Wojchiech all
 * meet).  out has room for NORM_TOKEN_MAX + 1. */
static size_t loose_consonants(const struct mtok *t, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < t->len; i++) {
		char ch = t->s[i];

		if (ch == 'w' && i > 0 && i + 1 < t->len && strchr("aeiou", t->s[i + 1]) != NULL)
			ch = 'v';
		else if (strchr("aeiouhyw", ch) != NULL)
			continue;
		if (n > 0 && out[n - 1] == ch)
			continue;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n;
}

static bool loose_same(const struct mtok *a, const struct mtok *b)
{
	char x[NORM_TOKEN_MAX + 1], y[NORM_TOKEN_MAX + 1];
	size_t nx = loose_consonants(a, x), ny = loose_consonants(b, y);

	return nx == ny && memcmp(x, y, nx) == 0;
}

/* Whether one token begins the other (Gav and Gavin), or the two begin
 * with the same four letters (Musti and Mustafa). */
static bool tok_prefix(const struct mtok *a, const struct mtok *b)
{
	size_t n = a->len < b->len ? a->len : b->len;

	if (n > 4)
		n = 4;
	return n > 0 && memcmp(a->s, b->s, n) == 0;
}

/* Whether the nickname table relates a, whose number in it is na
 * (nickname_find; NICK_LOOK_UP: not looked up yet), and b. */
#define NICK_LOOK_UP (-2L)
static bool nick_related(const struct match_ctx *c, const struct mtok *a, long na, const struct mtok *b)
{
	return nickname_related_to(c->m->nick, na == NICK_LOOK_UP ? nickname_find(c->m->nick, a->s) : na, b->s);
}

/* Compares one given-name token of the subject (na: its number in the
 * nickname table, or NICK_LOOK_UP) with one of the record; returns the
 * weight, or a negative number for disagreement. */
static double given_tok_score(const struct match_ctx *c, const struct mtok *a, long na, const struct mtok *b,
			      double w_exact, const char **why)
{
	double cap = w_exact - W_FUZZY_BELOW_EXACT;

	if (a->len == 1 || b->len == 1) {
		if (a->s[0] == b->s[0]) {
			*why = R_GIVEN_INITIAL;
			return W_GIVEN_INITIAL;
		}
		*why = R_GIVEN_MISMATCH;
		return W_GIVEN_DISAGREE;
	}
	if (tok_eq(a, b)) {
		*why = R_GIVEN_EXACT;
		return w_exact;
	}
	if (nick_related(c, a, na, b)) {
		*why = R_GIVEN_NICKNAME;
		return min_d(W_GIVEN_NICKNAME, cap);
	}
	double jw = jaro_winkler_floor(a->s, a->len, b->s, b->len, JW_LOW); /* (compared with JW_HIGH and JW_LOW only) */
	double w;
	bool near = jw >= JW_HIGH || one_edit(a, b), alike = sound_alike(a, b);
	if (near) {
		*why = R_GIVEN_FUZZY;
		w = min_d(W_GIVEN_FUZZY, cap);
	} else if (alike) {
		*why = R_GIVEN_PHONETIC;
		w = min_d(W_GIVEN_PHONETIC, cap);
	} else if (jw >= JW_LOW) {
		*why = R_GIVEN_FUZZY;
		w = min_d(W_GIVEN_FUZZY_LOW, cap);
	} else {
		*why = R_GIVEN_MISMATCH;
		return W_GIVEN_DISAGREE;
	}
	/* Listed as two names however alike (data/nicknames.tsv, its '!'
	 * lines: Hassan and Hussein, Harjinder and Rajinder, Oluwaseun and
	 * Oluwafemi, Mehmet and Mahmut): twins are given such pairs, and an
	 * independent evaluation's were put in the match band by a near
	 * spelling with their twin's date and address.  As below, never the
	 * match band. */
	if (nickname_apart(c->m->nick, a->s, b->s)) {
		*why = R_GIVEN_ANOTHER_NAME;
		return min_d(W_GIVEN_FUZZY_NAMES, w);
	}
	if (!name_well_known(c, 'U', a) || !name_well_known(c, 'U', b))
		return w;
	/* Two names the register knows well, a letter apart but not alike
	 * in sound, neither the other's beginning (Rajesh and Rakesh, Stacey
	 * and Tracey, Michael and Michelle): each a name in its own right, as
	 * likely a brother or a twin as a slip of the hand.  Never the match
	 * band (score_names: name_conflict): twins share the family name,
	 * the date of birth and the address, and an independent evaluation
	 * found 59 of 120 such twins in it.  Spellings of one name sound
	 * alike (Khaled and Khalid, Deepak and Dipak, Sohail and Sohel) or
	 * keep their consonants (loose_same), and a pet form is the name's
	 * beginning (Nige, Gav, Col; Musti, four letters of Mustafa): as
	 * before. */
	if (!alike && !tok_prefix(a, b) && !loose_same(a, b)) {
		*why = R_GIVEN_ANOTHER_NAME;
		return min_d(W_GIVEN_FUZZY_NAMES, w);
	}
	/* Harry and Barry, Dean and Sean: the agreement says little more
	 * than that both are names. */
	return near ? min_d(W_GIVEN_FUZZY_NAMES, w) : w;
}

/* A given name used in another position (a middle name one is known by)
 * counts only when spelt the same or as a listed variant: fuzzy matches
 * between any two of a person's names would find too much. */
static double alt_given(const struct match_ctx *c, const struct mtok *a, long na, const struct mtok *b,
			double w_exact)
{
	if (a->len == 1 || b->len == 1)
		return -1.0;
	if (tok_eq(a, b))
		return w_exact;
	if (nick_related(c, a, na, b))
		return min_d(W_GIVEN_NICKNAME, w_exact - W_FUZZY_BELOW_EXACT);
	return -1.0;
}

/* All of a name's given names joined into one token (buf: room for
 * NORM_TOKENS_MAX tokens), with its sound codes. */
static void given_joined(const struct mname *n, struct mtok *t, char *buf)
{
	size_t len = 0;

	for (size_t i = 0; i < n->ng; i++) {
		memcpy(buf + len, n->given[i].s, n->given[i].len);
		len += n->given[i].len;
	}
	buf[len] = '\0';
	t->s = buf;
	t->len = (uint8_t)len;
	dm_codes(t, buf, len);
}

static double given_score(const struct match_ctx *c, const struct mname *q, const struct mname *rn,
			  const char **why)
{
	double w;

	if (q->ng == 0 || rn->ng == 0) {
		*why = R_GIVEN_MISSING;
		return 0.0;
	}
	w = given_tok_score(c, &q->given[0], q->nick_given, &rn->given[0], q->w_given, why);
	/* One written in Arabic script: the same consonants are the same
	 * sound (hsn, Hassan; mr, Omar), as a phonetic code's agreeing. */
	if (q->arabic != rn->arabic) {
		double wp = min_d(W_GIVEN_PHONETIC, q->w_given - W_FUZZY_BELOW_EXACT);
		struct skeletons qs, rs;
		if (w < wp) {
			name_skeletons(q, &qs);
			name_skeletons(rn, &rs);
			if (skeletons_meet(qs.given, qs.n_given, rs.given, rs.n_given)) {
				*why = R_GIVEN_PHONETIC;
				w = wp;
			}
		}
	}
	/* Written apart on one side and together on the other: Ji-hoon and
	 * jihun (ICU writes a name in Hangul as one word), Kwok Keung and
	 * Kwokkeung, Abdul Karim and Abdulkarim.  Every given name joined,
	 * each side, compared as one name, and worth at most a near
	 * spelling: the letters agree, not the names as written (and
	 * subject_prepare's bound for a name no record spells so holds). */
	if ((q->ng > 1 || rn->ng > 1) && w < min_d(W_GIVEN_FUZZY, q->w_given - W_FUZZY_BELOW_EXACT)) {
		char qb[NORM_TOKENS_MAX * NORM_TOKEN_MAX + 1], rb[NORM_TOKENS_MAX * NORM_TOKEN_MAX + 1];
		double near = min_d(W_GIVEN_FUZZY, q->w_given - W_FUZZY_BELOW_EXACT), v;
		struct mtok qj, rj;
		const char *wj;
		given_joined(q, &qj, qb);
		given_joined(rn, &rj, rb);
		v = given_tok_score(c, &qj, NICK_LOOK_UP, &rj, q->w_given, &wj);
		if (v > near) {
			v = near;
			wj = R_GIVEN_FUZZY;
		}
		if (v > w && v > 0) {
			w = v;
			*why = wj;
		}
	}
	if (w > 0)
		return w;
	/* Known by a middle name: the subject's given name is the record's
	 * second given or middle name, or the other way round. */
	{
		double best = w;
		const char *bw = *why;
		for (size_t i = 0; i < (size_t)rn->nm + rn->ng; i++) {
			const struct mtok *t = i < rn->nm ? &rn->middle[i] : &rn->given[i - rn->nm];
			if (t == &rn->given[0] || t->len == 1)
				continue;
			double v = alt_given(c, &q->given[0], q->nick_given, t, q->w_given);
			if (v > 0 && v - W_GIVEN_MIDDLE_AS_GIVEN_DROP > best) {
				best = v - W_GIVEN_MIDDLE_AS_GIVEN_DROP;
				bw = R_GIVEN_MIDDLE_NAME;
			}
		}
		for (size_t i = 0; i < (size_t)q->nm + q->ng; i++) {
			const struct mtok *t = i < q->nm ? &q->middle[i] : &q->given[i - q->nm];
			if (t == &q->given[0] || t->len == 1)
				continue;
			double v = alt_given(c, t, NICK_LOOK_UP, &rn->given[0], W_GIVEN_EXACT_DEFAULT);
			if (v > 0 && v - W_GIVEN_MIDDLE_AS_GIVEN_DROP > best) {
				best = v - W_GIVEN_MIDDLE_AS_GIVEN_DROP;
				bw = R_GIVEN_MIDDLE_NAME;
			}
		}
		*why = bw;
		return best;
	}
}

static double middle_score(const struct match_ctx *c, const struct mname *q, const struct mname *rn,
			   const char **why)
{
	const struct mtok *a, *b;

	*why = NULL;
	if (q->nm == 0 || rn->nm == 0)
		return 0.0;
	a = &q->middle[0];
	b = &rn->middle[0];
	if (a->len == 1 || b->len == 1) {
		if (a->s[0] == b->s[0]) {
			*why = R_MIDDLE_INITIAL;
			return W_MIDDLE_INITIAL;
		}
	} else if (tok_eq(a, b)) {
		*why = R_MIDDLE_EXACT;
		return W_MIDDLE_EXACT;
	} else if (nickname_related(c->m->nick, a->s, b->s) || sound_alike(a, b) ||
		   jaro_winkler_floor(a->s, a->len, b->s, b->len, JW_HIGH) >= JW_HIGH) {
		*why = R_MIDDLE_FUZZY;
		return W_MIDDLE_FUZZY;
	}
	/* The subject may list only some middle names, in any order. */
	for (size_t i = 0; i < q->nm; i++)
		for (size_t j = 0; j < rn->nm; j++)
			if (tok_eq(&q->middle[i], &rn->middle[j])) {
				*why = R_MIDDLE_EXACT;
				return W_MIDDLE_EXACT;
			}
	*why = R_MIDDLE_MISMATCH;
	return W_MIDDLE_DISAGREE;
}

struct name_result {
	double w;
	bool name_conflict; /* the family or the given name disagrees */
	bool name_partial;  /* both only partly agree (one part of a compound
			     * surname, an initial, a middle name used as given;
			     * Singh for another family name) */
	const char *why[4];
	size_t name_idx;
	bool swapped, translit;
};

/*
 * Names that agree only in part or only by sound: one part of a compound
 * family name, a given name that is the record's middle name or only its
 * initial, and (both written in the Latin alphabet) a family or given
 * name that only sounds alike.  Each is how a real person's name gets
 * written down wrong, and each is also how two different people's names
 * look alike: Kwabena Osei and Kwabena Owusu, Ahmad Hamdan and Ahmad
 * Haddad-Hamdan, Jun Huang and Jian Huang.  With a date of birth that
 * agrees they weigh enough for the match band, and at a million records
 * a date shared by chance with such a name is no longer rare: in
 * bench-match's negatives at 1,000,000 records, six namesakes in 1,500
 * were put in the match band beside such a stranger.  So they make a
 * match only with something more than the date behind them: the postcode
 * to the district at least, or the middle name (supported_beyond_date);
 * else they are possible matches for a person to look at.  A name written
 * in another script agrees by sound at best, so there sound is not weak.
 * No given name at all (on either side) says less than an initial, and
 * is weak too: the family name and the date alone fit a twin as well;
 * so is no family name (one of punctuation only: "-", "?"), and so is a
 * listed variant of the family name (family:variant: Wong is Wang and
 * Huang, Kay is not MacKay's family), in any script.
 * (Not "partial" with one part of a compound surname, as an initial is:
 * that is also how a whole name typed into the family field reads.)
 * Asked of the best pair's reasons (name_result.why), and only of a
 * candidate that would otherwise be a match.
 */
static bool family_or_given_is(const struct name_result *nr, const char *const *reasons, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (nr->why[0] == reasons[i] || nr->why[1] == reasons[i])
			return true;
	return false;
}

static bool name_needs_support(const struct name_result *nr)
{
	static const char *const weak[] = {R_FAMILY_COMPOUND_PART, R_GIVEN_MIDDLE_NAME, R_GIVEN_INITIAL,
					   R_GIVEN_MISSING, R_FAMILY_MISSING, R_FAMILY_VARIANT,
					   R_FAMILY_MIDDLE_NAME};
	static const char *const weak_in_latin[] = {R_FAMILY_PHONETIC, R_GIVEN_PHONETIC};

	return family_or_given_is(nr, weak, sizeof(weak) / sizeof(weak[0])) ||
	       (!nr->translit && family_or_given_is(nr, weak_in_latin, sizeof(weak_in_latin) / sizeof(weak_in_latin[0])));
}

/* The given names agree only by a near spelling or a sound. */
static bool given_near_only(const struct name_result *nr)
{
	static const char *const near[] = {R_GIVEN_FUZZY, R_GIVEN_PHONETIC, R_GIVEN_ANOTHER_NAME};

	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		if (nr->why[1] == near[i])
			return true;
	return false;
}

/* The postcode agrees to the sector at least (wp: postcode_score's
 * reason, not NULL). */
static bool postcode_in_sector(const char *wp)
{
	return wp == R_POSTCODE_FULL || wp == R_POSTCODE_SECTOR;
}

/* The postcode agrees to the district at least (wp as above). */
static bool postcode_in_district(const char *wp)
{
	return postcode_in_sector(wp) || wp == R_POSTCODE_DISTRICT;
}

/* The postcode to the district at least, or the middle name exactly. */
static bool supported_beyond_date(const struct name_result *nr, const char *wp)
{
	return (wp != NULL && postcode_in_district(wp)) ||
	       (nr->why[2] == R_MIDDLE_EXACT);
}

/*
 * Memo of name comparisons within one check: candidates found through a
 * common name share their family and given names, and the string
 * comparators are most of the cost of scoring.  Keyed by the subject name
 * variant, the part and the record's tokens; cleared per check by a
 * generation number.
 */
static uint32_t memo_hash(const char *s, size_t len)
{
	uint64_t h = len * UINT64_C(0x9e3779b97f4a7c15);

	/* Eight bytes at a time (a key is some twenty). */
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		memcpy(&w, s + i, len - i < 8 ? len - i : 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

/* A record name's key of one part, written and hashed once for all the
 * subject's variants (score_names); len 0: not written yet. */
struct memo_name_key {
	char key[MEMO_KEY];
	uint8_t len;
	bool unkeyed; /* too long to memoise */
	uint32_t hash;
};

/* Writes the tokens of up to two parts, separated, into key; returns its
 * length, or 0 if it does not fit (then the comparison is not memoised). */
static size_t memo_key(char *key, size_t cap, const struct mtok *a, size_t na, const struct mtok *b, size_t nb)
{
	size_t k = 0;

	for (size_t part = 0; part < 2; part++) {
		const struct mtok *t = part == 0 ? a : b;
		size_t n = part == 0 ? na : nb;
		for (size_t i = 0; i < n; i++) {
			if (k + t[i].len + 1 > cap)
				return 0;
			memcpy(key + k, t[i].s, t[i].len);
			k += t[i].len;
			key[k++] = ' ';
		}
		if (k + 1 > cap)
			return 0;
		key[k++] = '|';
	}
	return k;
}

static bool memo_get(struct match_ctx *c, unsigned salt, const char *key, size_t len, uint32_t hash, double *w,
		     const char **why, struct memo_entry **slot)
{
	uint32_t h = (hash ^ (salt * 0x9e3779b1u)) * 16777619u;
	struct memo_entry *e = &c->memo[h & (MEMO_SLOTS - 1)];

	*slot = e;
	if (e->gen == c->gen && e->hash == h && e->salt == salt && e->len == len && memcmp(e->key, key, len) == 0) {
		*w = e->w;
		*why = e->why;
		return true;
	}
	e->gen = 0; /* filled by memo_put */
	e->hash = h;
	return false;
}

static void memo_put(struct match_ctx *c, struct memo_entry *e, unsigned salt, const char *key, size_t len,
		     double w, const char *why)
{
	e->gen = c->gen;
	e->salt = salt;
	e->len = (uint8_t)len;
	memcpy(e->key, key, len);
	e->w = w;
	e->why = why;
}

/* Writes and hashes k for tokens a and b unless already done; false when
 * they do not fit a key (then the comparison is not memoised). */
static bool memo_name_key(struct memo_name_key *k, const struct mtok *a, size_t na, const struct mtok *b, size_t nb)
{
	size_t len;

	if (k->unkeyed)
		return false;
	if (k->len > 0)
		return true;
	len = memo_key(k->key, sizeof(k->key), a, na, b, nb);
	if (len == 0) {
		k->unkeyed = true;
		return false;
	}
	k->len = (uint8_t)len;
	k->hash = memo_hash(k->key, len);
	return true;
}

static double family_score_memo(struct match_ctx *c, size_t variant, const struct mname *q, const struct mname *rn,
				struct memo_name_key *k, const char **why)
{
	unsigned salt = (unsigned)variant * 4 + (rn->arabic ? 2u : 0u);
	struct memo_entry *e;
	double w;

	if (!memo_name_key(k, rn->family, rn->nf, NULL, 0))
		return family_score(c, q, rn, c->swapped[variant], why);
	if (memo_get(c, salt, k->key, k->len, k->hash, &w, why, &e))
		return w;
	w = family_score(c, q, rn, c->swapped[variant], why);
	memo_put(c, e, salt, k->key, k->len, w, *why);
	return w;
}

static double given_score_memo(struct match_ctx *c, size_t variant, const struct mname *q, const struct mname *rn,
			       struct memo_name_key *k, const char **why)
{
	unsigned salt = (unsigned)variant * 4 + (rn->arabic ? 2u : 0u) + 1;
	struct memo_entry *e;
	double w;

	if (!memo_name_key(k, rn->given, rn->ng, rn->middle, rn->nm))
		return given_score(c, q, rn, why);
	if (memo_get(c, salt, k->key, k->len, k->hash, &w, why, &e))
		return w;
	w = given_score(c, q, rn, why);
	memo_put(c, e, salt, k->key, k->len, w, *why);
	return w;
}

/* The subject's family name, one word and no particle, is a middle name
 * of the record's (W_FAMILY_MIDDLE_DROP). */
static bool family_is_middle(const struct mname *q, const struct mname *rn)
{
	if (q->nf != 1 || family_particle(&q->family[0]))
		return false;
	for (size_t j = 0; j < rn->nm; j++)
		if (tok_eq(&q->family[0], &rn->middle[j]))
			return true;
	return false;
}

/* The given name agrees as the same name: exactly or as a pet form. */
static bool given_same_name(const char *wg)
{
	return wg != NULL && (wg == R_GIVEN_EXACT || wg == R_GIVEN_NICKNAME);
}

/* Both names agree as the same name: the family name exactly or as a
 * listed variant, the given name exactly or as a pet form. */
static bool names_agree(const struct name_result *nr)
{
	return nr->why[0] != NULL &&
	       (nr->why[0] == R_FAMILY_EXACT || nr->why[0] == R_FAMILY_VARIANT) &&
	       given_same_name(nr->why[1]);
}

/* The given names agree: the same, a pet form, a near spelling or a
 * sound (not an initial, a middle name, another name or none). */
static bool given_agrees(const char *wg)
{
	static const char *const agree[] = {R_GIVEN_EXACT, R_GIVEN_NICKNAME, R_GIVEN_FUZZY, R_GIVEN_PHONETIC};

	for (size_t i = 0; wg != NULL && i < sizeof(agree) / sizeof(agree[0]); i++)
		if (wg == agree[i])
			return true;
	return false;
}

/*
 * The least the names must weigh for a record whose other evidence (date,
 * postcode, sex) weighs w to reach the possible band, for score_names to
 * leave every pair of names that cannot (a family name that disagrees,
 * read through a given name's key, say) without comparing the given
 * names.  Only where what score_candidate does after score_names can
 * only lower the names' weight: not when a family name that disagrees
 * may weigh nothing instead (the very address and a date that agrees),
 * nor when a name changed may be weighed (the date exact, the postcode's
 * sector): both start from the pair that weighs most, whatever it is.
 */
static double name_floor(const struct match_ctx *c, double w, double w_date, bool dob_exact, const char *wp)
{
	double need = THRESHOLD_POSSIBLE;

	if ((wp == R_POSTCODE_FULL && w_date > 0.0) || (dob_exact && wp != NULL && postcode_in_sector(wp)))
		return -1e9;
	/* With ten listed and more_candidates already said, a record
	 * matters only if it takes a place (top_insert, scored_before): in
	 * the match band, or, when the tenth is a possible match, weighing
	 * as much as the tenth. */
	if (c->n_top == MATCH_MAX_CANDIDATES && c->set_aside) {
		const struct scored *last = &c->top[MATCH_MAX_CANDIDATES - 1];
		double enter = last->band == BAND_MATCH ? last->w : min_d(last->w, c->t_match);
		if (enter > need)
			need = enter;
	}
	return need - w;
}

/*
 * The record's best pair of names (theirs, the subject's readings).  A
 * pair whose family name, with the most its given and middle names could
 * add (rest_ub), weighs no more than the best so far, or less than floor,
 * is left.
 */
static void score_names(struct match_ctx *c, const struct rview *v, double floor, struct name_result *best)
{
	struct memo_name_key fkey[VIEW_NAMES_MAX], gkey[VIEW_NAMES_MAX];

	memset(best, 0, sizeof(*best));
	best->w = -1e9;
	for (size_t j = 0; j < v->n_names; j++) {
		fkey[j].len = gkey[j].len = 0;
		fkey[j].unkeyed = gkey[j].unkeyed = false;
	}
	for (size_t i = 0; i < c->n_subj; i++) {
		const struct mname *q = &c->subj[i];
		for (size_t j = 0; j < v->n_names; j++) {
			const struct mname *rn = &v->names[j];
			const char *wf, *wg, *wm;
			double wfam = family_score_memo(c, i, q, rn, &fkey[j], &wf), w;
			if (wf == R_FAMILY_MISMATCH && family_is_middle(q, rn)) {
				wfam = clampd(q->w_family_joined - W_FAMILY_MIDDLE_DROP, W_FAMILY_EXACT_MIN - 2.0,
					      W_FAMILY_EXACT_MAX);
				wf = R_FAMILY_MIDDLE_NAME;
			}
			/* Once the family name is weighed, a pair whose given and
			 * middle names cannot lift it above the best so far is left
			 * (rest_ub: subject_prepare). */
			if (wfam + q->rest_ub <= best->w + 1e-9 || wfam + q->rest_ub < floor - 1e-6)
				continue;
			w = wfam + given_score_memo(c, i, q, rn, &gkey[j], &wg);
			/* Singh for another family name, the record's middle
			 * name for the family name, or the family name's initial,
			 * counts only when the given names agree: Sian Chapman
			 * is not Harpreet Singh Sandhu for being born on his
			 * date, nor "J" Wayne Johnson. */
			if (wf != NULL &&
			    (wf == R_FAMILY_SINGH_KAUR || wf == R_FAMILY_MIDDLE_NAME ||
			     wf == R_FAMILY_INITIAL) &&
			    !given_agrees(wg)) {
				w += W_FAMILY_DISAGREE - wfam;
				wf = R_FAMILY_MISMATCH;
			}
			w += middle_score(c, q, rn, &wm);
			if (c->swapped[i] || c->split[i])
				w += W_NAMES_SWAPPED;
			/* Prefer the primary name on a tie. */
			if (w > best->w + 1e-9) {
				best->w = w;
				best->why[0] = wf;
				best->why[1] = wg;
				best->why[2] = wm;
				best->why[3] = c->split[i] ? R_NAMES_SPLIT : c->swapped[i] ? R_NAMES_SWAPPED : NULL;
				/* Two names, unless one was read from another script,
				 * where the letters are ICU's guess (Deepak for
				 * दीपक, Michail for Μιχαήλ). */
				best->name_conflict = (wf == R_FAMILY_MISMATCH) ||
						      (wg != NULL && (wg == R_GIVEN_MISMATCH ||
								      (wg == R_GIVEN_ANOTHER_NAME &&
								       !rn->translit && !q->translit)));
				best->name_partial = (wf != NULL && wg != NULL &&
						      wf == R_FAMILY_COMPOUND_PART &&
						      (wg == R_GIVEN_MIDDLE_NAME ||
						       wg == R_GIVEN_INITIAL)) ||
						     (wf != NULL && (wf == R_FAMILY_SINGH_KAUR ||
								     wf == R_FAMILY_INITIAL));
				best->name_idx = j;
				best->swapped = c->swapped[i];
				best->translit = rn->translit || q->translit;
			}
		}
	}
}

static double dob_score_dates(const struct match_ctx *c, const struct check_subject *s, const struct date *dobs,
			      size_t n_dobs, bool has_main_dob, const char **why, bool *agrees, bool *conflicts);

/* A date of birth known in part (day 0, and month 0 for a year alone)
 * against a record's dates: the nearest year decides (W_DOB_PART_*). */
static double dob_score_part(const struct check_subject *s, const struct date *dobs, size_t n_dobs,
			     const char **why, bool *conflicts)
{
	int nearest = INT_MAX;
	bool month = false;

	for (size_t i = 0; i < n_dobs; i++) {
		int apart = abs((int)dobs[i].year - (int)s->dob.year);

		if (dobs[i].year == 0)
			continue;
		if (apart == 0 && dobs[i].month == s->dob.month)
			month = true;
		if (apart < nearest)
			nearest = apart;
	}
	if (nearest == 0 && (s->dob.month == 0 || month)) {
		*why = R_DOB_PARTIAL_EXACT;
		return s->dob.month != 0 ? W_DOB_PART_MONTH : W_DOB_PART_YEAR;
	}
	if (nearest == 0) {
		*why = R_DOB_PARTIAL_SAME_YEAR;
		return W_DOB_PART_NEAR;
	}
	if (nearest == 1) {
		*why = R_DOB_PARTIAL_YEAR_OFF_BY_ONE;
		return W_DOB_PART_NEAR;
	}
	if (nearest <= DOB_PART_APART_YEARS) {
		*why = R_DOB_PARTIAL_YEARS_APART;
		return W_DOB_PART_APART;
	}
	if (nearest <= AGE_FAR_YEARS && nearest != INT_MAX) {
		*why = R_DOB_PARTIAL_MISMATCH; /* six to ten years out: as an age that far */
		*conflicts = true;
		return W_DOB_AGE_FAR;
	}
	if (nearest == INT_MAX) {
		*why = R_DOB_ABSENT;
		return 0.0;
	}
	*why = R_DOB_PARTIAL_MISMATCH;
	*conflicts = true;
	return W_DOB_PART_MISMATCH;
}

static double dob_score(const struct match_ctx *c, const struct check_subject *s, const struct rview *v,
			const char **why, bool *agrees, bool *conflicts)
{
	return dob_score_dates(c, s, v->dobs, v->n_dobs, v->has_main_dob, why, agrees, conflicts);
}

static double dob_score_dates(const struct match_ctx *c, const struct check_subject *s, const struct date *dobs,
			      size_t n_dobs, bool has_main_dob, const char **why, bool *agrees, bool *conflicts)
{
	/* By level; a level with no row (absent, mismatch) weighs nothing
	 * here.  A date known only to its month or year agrees too little
	 * for the match band: like an age, it only keeps the person in view. */
	static const struct {
		double w;
		const char *why;
		bool agrees;
	} levels[DOB_MISMATCH + 1] = {
		[DOB_EXACT] = {W_DOB_EXACT, R_DOB_EXACT, true},
		[DOB_DAY_MONTH_SWAPPED] = {W_DOB_SWAPPED, R_DOB_DAY_MONTH_SWAPPED, true},
		[DOB_ONE_DIGIT] = {W_DOB_ONE_DIGIT, R_DOB_ONE_DIGIT, true},
		[DOB_YEAR_OFF_BY_ONE] = {W_DOB_YEAR, R_DOB_YEAR_OFF_BY_ONE, true},
		[DOB_MONTH_ONLY] = {W_DOB_MONTH_ONLY, R_DOB_MONTH_ONLY, false},
		[DOB_YEAR_ONLY] = {W_DOB_YEAR_ONLY, R_DOB_YEAR_ONLY, false},
		[DOB_NEAR] = {W_DOB_NEAR, R_DOB_NEAR, true},
		[DOB_WEEKS] = {W_DOB_WEEKS, R_DOB_WEEKS_APART, false},
		[DOB_YEAR_OFF_BY_TWO] = {W_DOB_YEAR_TWO, R_DOB_YEAR_OFF_BY_TWO, true},
		[DOB_SAME_BIRTHDAY] = {W_DOB_SAME_BIRTHDAY, R_DOB_SAME_BIRTHDAY, false},
		[DOB_YEAR_AND_SLIP] = {W_DOB_YEAR_AND_SLIP, R_DOB_YEAR_AND_SLIP, false},
		[DOB_SAME_YEAR] = {W_DOB_SAME_YEAR, R_DOB_SAME_YEAR, false},
	};
	double best = -1e9;
	bool best_agrees = false;

	*agrees = false;
	*conflicts = false;
	*why = R_DOB_ABSENT;
	if (n_dobs == 0 || (s->dob.year == 0 && s->age < 0))
		return 0.0;
	if (s->dob.year != 0 && s->dob.day == 0)
		return dob_score_part(s, dobs, n_dobs, why, conflicts);
	if (s->dob.year == 0) {
		/* Age only: the nearest of the record's dates decides. */
		int nearest = INT_MAX;
		for (size_t i = 0; i < n_dobs; i++) {
			int a = age_on(&dobs[i], &c->today);
			if (a >= 0 && abs(a - s->age) < nearest)
				nearest = abs(a - s->age);
		}
		if (nearest <= AGE_NEAR_YEARS) {
			/* Consistent, but a span of two years of births: not
			 * enough on its own for the match band. */
			*why = R_DOB_AGE_CONSISTENT;
			return W_DOB_AGE;
		}
		if (nearest <= AGE_ROUGH_YEARS) {
			*why = R_DOB_AGE_APPROXIMATE; /* a rough guess of age: neither way */
			return 0.0;
		}
		if (nearest <= AGE_GUESS_YEARS) {
			*why = R_DOB_AGE_GUESS; /* a guess four or five years out */
			return W_DOB_AGE_GUESS;
		}
		*why = R_DOB_AGE_INCONSISTENT;
		*conflicts = true;
		return nearest <= AGE_FAR_YEARS ? W_DOB_AGE_FAR : W_DOB_AGE_INCONSISTENT;
	}
	for (size_t i = 0; i < n_dobs; i++) {
		enum dob_level l = compare_dob(&s->dob, &dobs[i]);
		bool other = !(i == 0 && has_main_dob);
		if ((unsigned)l > DOB_MISMATCH || levels[l].why == NULL)
			continue;
		double w = levels[l].w;
		const char *reason_str = levels[l].why;
		/* The birthday six to ten years apart: as an age that far
		 * (W_DOB_SAME_BIRTHDAY). */
		if (l == DOB_SAME_BIRTHDAY && abs((int)dobs[i].year - (int)s->dob.year) > AGE_GUESS_YEARS)
			w = W_DOB_AGE_FAR;
		if (other && l == DOB_EXACT) {
			w = W_DOB_OTHER;
			reason_str = R_DOB_OTHER_DOB;
		} else if (other) {
			w -= W_DOB_EXACT - W_DOB_OTHER;
		}
		if (w > best) {
			best = w;
			best_agrees = levels[l].agrees;
			*why = reason_str;
		}
	}
	if (best > -1e9) {
		*agrees = best_agrees;
		return best;
	}
	*why = R_DOB_MISMATCH;
	*conflicts = true;
	return W_DOB_MISMATCH;
}

/*
 * Whether a record that can weigh at most `ub` is not worth scoring
 * given the list so far.  With a match in hand, a record that can
 * neither come within the margin of it nor weigh as much as a match
 * itself could only be listed as a weak possible match.  One that could
 * make the match ambiguous is scored, and so is a namesake with the same
 * date of birth living elsewhere, which the person deciding must see
 * beside the match.  With ten listed, one that cannot pass the tenth
 * cannot enter: one weighing less, or as much with a later record number
 * (the order of equals, scored_before), in a band no higher.  Ties are
 * common (namesakes living elsewhere, with no date of birth to tell them
 * apart), and the index hands records out in record-number order, so
 * the second rule saves most of the views of a common name.
 * tag_rules_out asks before a view is read (a bound from the tag),
 * score_candidate after (from the view's dates and postcodes).
 */
enum left_out { KEPT = 0, BELOW_A_MATCH, LIST_FULL };

static enum left_out weighs_too_little(const struct match_ctx *c, double ub, uint32_t recno)
{
	if (c->n_top > 0 && c->top[0].band == BAND_MATCH &&
	    ub < c->top[0].w - MATCH_MARGIN && ub < c->t_match)
		return BELOW_A_MATCH;
	if (c->n_top == MATCH_MAX_CANDIDATES) {
		const struct scored *last = &c->top[MATCH_MAX_CANDIDATES - 1];
		bool below = ub < last->w - W_EQUAL || (ub <= last->w + W_EQUAL && recno > last->recno);
		if (below && (last->band == BAND_MATCH || ub < c->t_match))
			return LIST_FULL;
	}
	return KEPT;
}

static void score_candidate(struct match_ctx *c, const struct check_subject *s, uint32_t recno,
			    const void *view, size_t view_len, struct rview *v, struct rd *names, bool probe);

/*
 * A record left out because the list is full, whose bound reaches the
 * possible band: does it really weigh that much?  If so the answer says
 * that more would fit (more_candidates).  The bound takes the names to
 * agree as well as any can, and a sound-alike shares the key of the very
 * name (the same Double Metaphone codes): its view is read to tell.  One
 * record that weighs enough settles it; after
 * MORE_PROBES that do not, the answer says more may fit rather than read
 * on.  What the check finds is not changed.
 */
static void probe_left_out(struct match_ctx *c, uint32_t recno)
{
	const void *data;
	size_t len;
	struct rd names;

	if (c->set_aside)
		return;
	if (++c->n_probes > MORE_PROBES) {
		c->set_aside = true;
		return;
	}
	if (store_get_views(c->r, &recno, 1, &data, &len) != DSC_OK || data == NULL ||
	    view_decode_head(data, len, &c->probe_view, &names) != DSC_OK)
		return; /* no view, or a damaged one: never scored either */
	c->n_probe_views++;
	score_candidate(c, c->s, recno, data, len, &c->probe_view, &names, true);
}

/*
 * True when no name agreement could lift a record with this tag to the
 * possible band, or into the top list once that is full: the most its
 * names could weigh (name_bound) plus what its date of birth, sex and
 * postcode at best add.  Exactly the weights score_candidate would give,
 * so a record ruled out here would have been left out there.
 */
static double postcode_bound(const struct match_ctx *c, uint32_t tag)
{
	uint32_t low = tag & 0xfffu;

	if ((tag & TAG_OTHER) != 0 || (low & c->district_bit) != 0)
		return W_POSTCODE_FULL;
	if ((low & c->area_pair) != 0)
		return W_POSTCODE_AREA;
	return low != 0 ? W_POSTCODE_DIFFERENT : 0.0;
}

/*
 * What the dates of a tag weigh: dob_score_dates's weight, reached
 * directly in the two cases that make up nearly every entry of a common
 * name (a check may test thousands): dates that agree with the subject's
 * neither in the year nor in the day (compare_dob's first test: a
 * mismatch), and a subject with only an age (two comparisons a date,
 * age_window).
 */
static double tag_dob_weight(const struct match_ctx *c, const struct date *d, size_t n)
{
	const struct check_subject *s = c->s;
	const char *why;
	bool agrees, conflicts;

	if (s->dob.year != 0 && s->dob.day == 0) /* known in part: a few comparisons */
		return dob_score_dates(c, s, d, n, true, &why, &agrees, &conflicts);
	if (s->dob.year != 0) {
		for (size_t i = 0; i < n; i++)
			if (d[i].year == s->dob.year || d[i].day == s->dob.day ||
			    /* days or weeks apart around a year's end (dob:near,
			     * dob:weeks_apart) */
			    abs((int)d[i].year - (int)s->dob.year) == 1)
				return dob_score_dates(c, s, d, n, true, &why, &agrees, &conflicts);
		return W_DOB_MISMATCH;
	}
	for (size_t i = 0; i < n; i++)
		if (age_window_has(&c->age_near, &d[i]))
			return W_DOB_AGE;
	for (size_t i = 0; i < n; i++)
		if (age_window_has(&c->age_rough, &d[i]))
			return 0.0;
	for (size_t i = 0; i < n; i++)
		if (age_window_has(&c->age_guess, &d[i]))
			return W_DOB_AGE_GUESS;
	for (size_t i = 0; i < n; i++)
		if (age_window_has(&c->age_far, &d[i]))
			return W_DOB_AGE_FAR;
	return W_DOB_AGE_INCONSISTENT;
}

static bool date_same(const struct date *a, const struct date *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day;
}

/* What the dates of a tag (TAG_KNOWN, not TAG_UNFIT, with a date) weigh
 * against the check's date of birth or age. */
static double tag_dates_weight(const struct match_ctx *c, uint32_t tag)
{
	uint32_t main = (tag >> TAG_MAIN_SHIFT) & 0x1ffffu, low = tag & 0xfffu;
	struct date d[2];
	size_t n = 0;
	double w_dob;

	d[n].year = (uint16_t)(TAG_YEAR_BASE + (main >> 9));
	d[n].month = (uint8_t)((main >> 5) & 15u);
	d[n].day = (uint8_t)(main & 31u);
	n++;
	if ((tag & TAG_OTHER) != 0) {
		d[n].year = (uint16_t)((int)d[0].year + (int)(low >> 9) - 4);
		d[n].month = (uint8_t)((low >> 5) & 15u);
		d[n].day = (uint8_t)(low & 31u);
		n++;
	}
	w_dob = tag_dob_weight(c, d, n);
	if (c->dob_implausible && w_dob < 0.0)
		w_dob = 0.0; /* (score_candidate: dob:implausible) */
	for (size_t i = 0; i < n && c->dob_century.year != 0; i++)
		if (date_same(&d[i], &c->dob_century) && w_dob < W_DOB_CENTURY)
			w_dob = W_DOB_CENTURY;
	return w_dob;
}

static bool tag_rules_out(struct match_ctx *c, uint32_t tag, uint32_t recno)
{
	const struct check_subject *s = c->s;
	double w = c->name_bound, w_dob = 0.0;

	if ((tag & TAG_KNOWN) == 0)
		return false;
	if (s->dob.year == 0 && s->age < 0) {
		/* No date to compare: the record's dates weigh nothing. */
	} else if ((tag & TAG_UNFIT) != 0) {
		return false;
	} else if ((tag >> (TAG_MAIN_SHIFT + 9)) & 0xffu) {
		/* A record is asked about once for each key it is under and
		 * again before its view is read, and namesakes share dates:
		 * the weight of a tag's dates is kept for the check (a pure
		 * function of the tag and the check's date or age). */
		struct tag_dob_memo *m = &c->tag_dob[(uint32_t)(tag * 2654435761u) >> (32 - TAG_DOB_BITS)];
		if (m->gen != c->gen || m->tag != tag) {
			m->w_dob = tag_dates_weight(c, tag);
			m->tag = tag;
			m->gen = c->gen;
		}
		w_dob = m->w_dob;
	}
	/* A record none of whose districts is the subject's can agree on the
	 * postcode area at best, one none of whose areas is either on nothing
	 * (postcode_score), and one with no postcode weighs nothing for it.
	 * Its sex is not in the tag: assume it agrees.  One that may live at
	 * the subject's address may have its conflicting date eased
	 * (W_DOB_CONFLICT_AT_ADDRESS). */
	if (c->postcode[0] != '\0') {
		double pb = postcode_bound(c, tag);
		if (pb >= W_POSTCODE_FULL && c->sector[0] != '\0' && c->sector_key && w_dob < W_DOB_CONFLICT_AT_ADDRESS)
			w_dob = W_DOB_CONFLICT_AT_ADDRESS; /* (a postcode in full has a sector) */
		w += pb;
	}
	w += w_dob;
	if (w < THRESHOLD_POSSIBLE)
		return true;
	switch (weighs_too_little(c, w, recno)) {
	case KEPT:
		return false;
	case LIST_FULL:
		probe_left_out(c, recno);
		return true;
	default:
		return true;
	}
}

static double postcode_score(const struct match_ctx *c, const struct rview *v, const char **why)
{
	static const char *const names[] = {NULL, R_POSTCODE_FULL, R_POSTCODE_SECTOR, R_POSTCODE_DISTRICT,
					    R_POSTCODE_AREA, R_POSTCODE_DIFFERENT};
	static const double weights[] = {0.0, W_POSTCODE_FULL, W_POSTCODE_SECTOR, W_POSTCODE_DISTRICT,
					 W_POSTCODE_AREA, W_POSTCODE_DIFFERENT};
	enum postcode_level best = POSTCODE_ABSENT;

	*why = NULL;
	if (c->postcode[0] == '\0')
		return 0.0;
	for (size_t i = 0; i < v->n_postcodes; i++) {
		enum postcode_level l = compare_postcode(c->postcode, v->postcodes[i]);
		if (l != POSTCODE_ABSENT && (best == POSTCODE_ABSENT || l < best))
			best = l;
	}
	*why = names[best];
	return weights[best];
}

static double score_of(double w, double t_match, enum band band)
{
	double k = ln_approx(9.0) / (t_match - THRESHOLD_POSSIBLE);
	double s = 1.0 / (1.0 + exp_approx(-(w - THRESHOLD_POSSIBLE) * k));
	/* Rounded down so that the displayed score never crosses a band edge. */
	s = (double)(long)(s * 100.0 + 1e-9) / 100.0;
	/* A possible match never shows the score of a match (it may have the
	 * weight of one, without agreeing dates). */
	return band != BAND_MATCH && s > 0.89 ? 0.89 : s;
}

static void reason_add(struct scored *sc, const char *r)
{
	if (sc->n_reasons < MATCH_MAX_REASONS)
		sc->reasons[sc->n_reasons++] = r;
}

/* Order of the result: band, then weight, then record number (stable).
 * Weights within W_EQUAL are equal: the same evidence summed in another
 * order (a bound, a score) may differ in the last bit. */
static bool scored_before(const struct scored *a, const struct scored *b)
{
	if (a->band != b->band)
		return a->band > b->band;
	if (a->w > b->w + W_EQUAL || a->w < b->w - W_EQUAL)
		return a->w > b->w;
	return a->recno < b->recno;
}

/* Inserts into the top list. */
static void top_insert(struct match_ctx *c, const struct scored *sc)
{
	size_t pos = c->n_top;

	while (pos > 0 && scored_before(sc, &c->top[pos - 1]))
		pos--;
	if (c->n_top == MATCH_MAX_CANDIDATES)
		c->set_aside = true; /* this one, or the tenth it pushes out */
	if (pos >= MATCH_MAX_CANDIDATES)
		return;
	if (c->n_top < MATCH_MAX_CANDIDATES)
		c->n_top++;
	memmove(&c->top[pos + 1], &c->top[pos], (c->n_top - 1 - pos) * sizeof(c->top[0]));
	c->top[pos] = *sc;
}

/* Weighs a record and puts it in the list if it earns a place; with
 * probe, only finds whether it reaches the possible band (set_aside). */
static void score_candidate(struct match_ctx *c, const struct check_subject *s, uint32_t recno,
			    const void *view, size_t view_len, struct rview *v, struct rd *names, bool probe)
{
	struct name_result nr;
	struct reasons rs = {.n = 0};
	struct scored sc;
	const char *wd, *wp;
	bool dob_agrees, dob_conflicts, dob_exact, dob_firm, name_changed = false;
	double w, w_date, w_postcode, eased = 0.0;

	/* Dates, postcode and sex first: they are cheap, and when even the
	 * best possible name agreement could not lift the candidate to the
	 * possible band (a namesake born on another day), the names need
	 * not be compared at all. */
	bool sex_mismatch = s->sex != 0 && s->sex != 'X' && v->sex != 0 && v->sex != 'X' && (char)v->sex != s->sex;

	w = dob_score(c, s, v, &wd, &dob_agrees, &dob_conflicts);
	if (c->dob_implausible && w < 0.0) {
		w = 0.0;
		wd = R_DOB_IMPLAUSIBLE;
		dob_conflicts = dob_agrees = false;
		for (size_t i = 0; i < v->n_dobs && c->dob_century.year != 0; i++) {
			if (date_same(&v->dobs[i], &c->dob_century)) {
				w = W_DOB_CENTURY;
				wd = R_DOB_CENTURY_SLIPPED;
				dob_agrees = true;
			}
		}
	}
	w_date = w;
	dob_exact = wd == R_DOB_EXACT || wd == R_DOB_OTHER_DOB;
	dob_firm = dob_exact && !(s->dob.month == 1 && s->dob.day == 1);
	w_postcode = postcode_score(c, v, &wp);
	/* A conflicting date at the very address: eased until the names are
	 * known, and kept so only if they agree (W_DOB_CONFLICT_AT_ADDRESS). */
	if (dob_conflicts && w < W_DOB_CONFLICT_AT_ADDRESS && wp == R_POSTCODE_FULL)
		eased = W_DOB_CONFLICT_AT_ADDRESS - w;
	w += eased + w_postcode;
	if (sex_mismatch)
		w += W_SEX_MISMATCH;
	if (w + c->name_bound < THRESHOLD_POSSIBLE)
		return;
	if (!probe) {
		enum left_out why = weighs_too_little(c, w + c->name_bound, recno);
		if (why == BELOW_A_MATCH || (why == LIST_FULL && c->set_aside))
			return;
		/* Left out for the full list: weighed on, to tell whether
		 * it would have been shown (probe_left_out), not kept. */
		probe = why == LIST_FULL;
	}
	if (view_decode_names(names, v) != DSC_OK || v->n_names == 0)
		return; /* damaged, or no name to compare: skipped, not trusted */
	score_names(c, v, name_floor(c, w, w_date, dob_exact, wp), &nr);
#ifdef MATCH_CHECK_BOUND
	/* A build for checking name_bound (make BUILD=build-bound
	 * CFLAGS="-g -DMATCH_CHECK_BOUND" build-bound/matchbench): any record
	 * whose names outweigh the bound tags are tested against, which
	 * tag_rules_out may have left out unread elsewhere. */
	if (nr.w > c->name_bound + 1e-6)
		fprintf(stderr, "BOUND %.3f > %.3f: %s %s / %s %s %s | %s\n", nr.w, c->name_bound,
			s->names[0].given ? s->names[0].given : "", s->names[0].family ? s->names[0].family : "",
			nr.why[0] ? nr.why[0] : "-", nr.why[1] ? nr.why[1] : "-", nr.why[2] ? nr.why[2] : "-",
			nr.why[3] ? nr.why[3] : "-");
#endif
	if (eased > 0 && !names_agree(&nr))
		w -= eased;
	/* A family name other than the record's, the given name the same, at
	 * the very address, with a date or an age that agrees: a surname
	 * taken on marriage, or one in use and not registered (evaluation
	 * I's Susan Knight, 26, at M16 5XX, is the Susan Whitby born 2000
	 * who lives there; its David Watson, 63, at NG11 4LB, the David
	 * Powell born 1963).  The family name then weighs nothing either way;
	 * still never the match band (the names conflict). */
	if (nr.why[0] == R_FAMILY_MISMATCH && given_same_name(nr.why[1]) &&
	    wp == R_POSTCODE_FULL && w_date > 0.0)
		nr.w -= W_FAMILY_DISAGREE;
	/* A name changed and not recorded (by deed poll, or only in use):
	 * no part of it agrees, but the date of birth is exactly one of the
	 * record's and the postcode agrees to its sector.  Someone else born
	 * that day in the same few streets is rare (a sector holds some
	 * 3,000 addresses; a date of birth 1 person in 22,000), and an
	 * officer must see this one.  Possible at most: the names conflict. */
	if (nr.w < W_NAME_CHANGED && dob_exact && wp != NULL && postcode_in_sector(wp)) {
		nr.w = W_NAME_CHANGED;
		name_changed = true;
	}
	w += nr.w;
	if (w < THRESHOLD_POSSIBLE)
		return;
	if (probe) {
		c->set_aside = true;
		return;
	}

	for (size_t i = 0; i < 4; i++)
		if (nr.why[i] != NULL)
			reason(&rs, nr.why[i]);
	reason(&rs, wd);
	if (wp != NULL)
		reason(&rs, wp);
	if (sex_mismatch)
		reason(&rs, R_SEX_MISMATCH);
	if (nr.translit)
		reason(&rs, R_NAME_TRANSLITERATED);
	if (v->names[nr.name_idx].kind == NAME_ALIAS)
		reason(&rs, R_NAME_ALIAS);
	if (name_changed)
		reason(&rs, R_NAME_DIFFERENT);

	sc.recno = recno;
	sc.view = view;
	sc.view_len = view_len;
	sc.w = w;
	/* The match band needs agreeing dates: a name alone, however rare,
	 * or a conflicting date of birth, is never more than possible.  So
	 * is a date that only nearly agrees (a digit slipped, a year off,
	 * day and month swapped, a few days out) without the postcode (its
	 * district at least) or the middle name behind it, or with another
	 * postcode given: a namesake born a slip away looks so too (Rajinder
	 * Singh born 2007-06-27 in NW2 and another born 2001-06-27 in LE17;
	 * David Ward born 1957-12-02 in LU6 and another born 1957-02-12 in
	 * L8; Sarah Roberts born 1965-11-08, asked about with no postcode,
	 * and another born 1965-08-11). */
	/* So is a date of 1 January that agrees exactly: the date written for
	 * whoever's birthday is unknown (the Home Office gives it to asylum
	 * seekers without papers; forms that want a date where only the year
	 * is known), which namesakes share far more often than any other
	 * day.  An independent evaluation's namesakes born "1 January" were
	 * the match of each other 61 times in 64 (Abdi Mohamed Hussein,
	 * 2001-01-01, WF19 5WG, and Abdi Ali Hussein of that date in CH12);
	 * and David Smith, 1964-01-01 where only the year was known, was the
	 * decisive match of another David Smith born that day, which ended
	 * the search before the one born in March. */
	/* Nor is a record of the other sex (both known) whose given name
	 * only nearly agrees: Michael and Michelle, Paul and Paula, twins at
	 * one address, agree on everything else.  (With the given name
	 * agreeing, a sex mistyped on a form is still a match.) */
	sc.band = w >= c->t_match && dob_agrees && !dob_conflicts && !nr.name_conflict && !nr.name_partial &&
			  !(sex_mismatch && given_near_only(&nr)) &&
			  (!name_needs_support(&nr) || supported_beyond_date(&nr, wp)) &&
			  (dob_firm || ((wp == NULL || postcode_in_district(wp)) && supported_beyond_date(&nr, wp)))
			  ? BAND_MATCH
			  : BAND_POSSIBLE_MATCH;
	sc.name_idx = nr.name_idx;
	sc.decisive = sc.band == BAND_MATCH && dob_firm && w >= c->t_match + DECISIVE_MARGIN;
	memcpy(sc.reasons, rs.r, sizeof(rs.r));
	sc.n_reasons = rs.n;
	top_insert(c, &sc);
}

static void copy_orig(char *dst, const char *s, size_t len)
{
	if (len >= MATCH_NAME_MAX)
		len = MATCH_NAME_MAX - 1;
	if (s != NULL && len > 0)
		memcpy(dst, s, len);
	dst[len] = '\0';
}

static int fill_candidate(struct match_ctx *c, struct store_reader *r, const struct check_subject *s,
			  const struct scored *sc, struct candidate *out)
{
	const void *data;
	size_t len;
	struct rview *v = &c->view;
	size_t ni = sc->name_idx;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The view scored, still in the read transaction: not read twice. */
	data = sc->view;
	len = sc->view_len;
	rc = data != NULL ? DSC_OK : store_get_view(r, sc->recno, &data, &len);
	if (rc != DSC_OK || view_decode(data, len, v) != DSC_OK)
		return rc != DSC_OK ? rc : DSC_EINTERNAL;
	(void)s;
	if (ni >= v->n_names)
		return DSC_EINTERNAL;
	copy_orig(out->offender_id, v->id, v->id_len);
	out->recno = sc->recno;
	out->band = sc->band;
	out->score = score_of(sc->w, c->t_match, sc->band);
	copy_orig(out->matched_name.given, v->names[ni].orig[0], v->names[ni].orig_len[0]);
	copy_orig(out->matched_name.middle, v->names[ni].orig[1], v->names[ni].orig_len[1]);
	copy_orig(out->matched_name.family, v->names[ni].orig[2], v->names[ni].orig_len[2]);
	out->matched_name.kind = v->names[ni].kind == NAME_ALIAS ? NAME_ALIAS : NAME_PRIMARY;
	memcpy(out->reasons, sc->reasons, sizeof(out->reasons));
	out->n_reasons = sc->n_reasons;
	{
		size_t fl = v->force_len < sizeof(out->managing_force) - 1 ? v->force_len
									   : sizeof(out->managing_force) - 1;
		memcpy(out->managing_force, v->force, fl);
		out->managing_force[fl] = '\0';
	}
	out->birth_year = v->has_main_dob ? v->dobs[0].year : 0;
	out->sex = (char)v->sex;
	out->mappa_category = v->mappa;
	out->status = v->status <= STATUS_DECEASED ? (enum offender_status)v->status : STATUS_ACTIVE;
	return DSC_OK;
}

/*
 * Scripts whose romanisation of an English (or other Latin-script) name
 * is not what an English speaker would read back (enum heard_script,
 * above).
 */

/* The script of UTF-8 text, as far as as-heard readings go: Cyrillic
 * (U+0400-U+04FF), Greek (U+0370-U+03FF) or Arabic (U+0600-U+06FF),
 * whichever letter comes first. */
static enum heard_script heard_script_of(const char *text)
{
	if (text == NULL)
		return HEARD_NONE;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if ((p[1] & 0xC0) != 0x80)
			continue;
		if (*p >= 0xD0 && *p <= 0xD3)
			return HEARD_CYRILLIC;
		if (*p == 0xCE || *p == 0xCF || (*p == 0xCD && p[1] >= 0xB0))
			return HEARD_GREEK;
		if (*p >= 0xD8 && *p <= 0xDB)
			return HEARD_ARABIC;
	}
	return HEARD_NONE;
}

static bool is_vowel(char ch)
{
	return ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u' || ch == 'y';
}

/*
 * The romanisation of a name written in another script read back as an
 * English speaker would have written it.  Cyrillic has no h and no w: a
 * clerk writes the h of Hersi or Singh as х (kh) and the w of Owusu as в
 * (v).  Modern Greek writes b, d, g and j as μπ, ντ, γκ and τζ (ICU: mp,
 * nt, nk, tz), ch as τσ (ts), w and u as ου (ou), and β is v.  Arabic
 * writes the long vowels of a foreign name with و and ي (ICU: w, y):
 * after a letter and before no vowel they are o and i (جون jwn: Jon,
 * سميث smyth: Smith, ماركين markyn: Markin), and ch, which it has not,
 * as تش (ICU: tsh; تشارلي tsharly: Charlie).  Each rule rewrites to no
 * more letters than it reads, in place.  Returns whether any token
 * changed.
 *
 * other: the second reading of a script that has one (subject_add_heard):
 * Greek with μπ, ντ and νκ or γκ as b, d and g only where no vowel comes
 * before them;
 * Cyrillic as Ukrainian writes an English name, whose h is г (ICU: g).
 */
static bool heard_reading(struct norm_part *p, enum heard_script script, bool other)
{
	static const struct rule {
		const char *from, *to;
		bool nasal; /* Greek's m-p, n-t, n-k too (the other reading, after a vowel) */
	} cyrillic[] = {{"kh", "h", false}, {"v", "w", false}, {NULL, NULL, false}},
	  ukrainian[] = {{"kh", "h", false}, {"v", "w", false}, {"g", "h", false}, {NULL, NULL, false}},
	  greek[] = {{"tz", "j", false}, {"mp", "b", true},  {"nt", "d", true},  {"nk", "g", true},
		     {"gk", "g", false}, {"ts", "ch", false}, {"b", "v", false},  {NULL, NULL, false}};
	const struct rule *rules = script == HEARD_GREEK ? greek : other ? ukrainian : cyrillic; /* Arabic: its own */
	bool changed = false;

	for (size_t i = 0; i < p->n; i++) {
		char *t = p->tok[i];
		size_t k = 0, len = p->len[i];
		for (size_t j = 0; j < len;) {
			size_t r;
			const char *to = NULL;
			if (script == HEARD_GREEK && t[j] == 'o' && j + 1 < len && t[j + 1] == 'u') {
				to = j + 2 < len && is_vowel(t[j + 2]) ? "w" : "u"; /* Edouard, Broun */
				r = 2;
			} else if (script == HEARD_ARABIC) {
				r = 1;
				if (j > 0 && (t[j] == 'w' || t[j] == 'y') && !(j + 1 < len && is_vowel(t[j + 1])))
					to = t[j] == 'w' ? "o" : "i";
				else if (j + 3 <= len && memcmp(t + j, "tsh", 3) == 0) {
					to = "ch"; /* تش, Arabic's ch: تشارلي Charlie */
					r = 3;
				}
			} else {
				for (const struct rule *u = rules; u->from != NULL && to == NULL; u++) {
					r = strlen(u->from);
					if (j + r <= len && memcmp(t + j, u->from, r) == 0)
						to = u->to;
					/* Greek's other reading: mp, nt and nk as b, d
					 * and g only where no vowel comes before them
					 * (Ντελρόι Delroy, Καμπμπελ Campbell's second b);
					 * after one they are also m-p, n-t and n-k
					 * (Γκραντ Grant, τζανκοουσκι Jankowski). */
					if (to != NULL && other && u->nasal && k > 0 && is_vowel(t[k - 1]))
						to = NULL;
				}
			}
			if (to == NULL) {
				t[k++] = t[j++];
				continue;
			}
			for (const char *q = to; *q != '\0'; q++)
				t[k++] = *q;
			j += r;
			changed = true;
		}
		t[k] = '\0';
		p->len[i] = (uint8_t)k;
	}
	return changed;
}

/* Adds the parts as a reading of the subject; false if nothing usable. */
static bool subject_add(struct match_ctx *c, struct store_reader *r, struct norm_part parts[3], bool translit)
{
	struct mname *q = &c->subj[c->n_subj];

	if (parts[NORM_FAMILY].n == 0 && parts[NORM_GIVEN].n == 0)
		return false; /* nothing usable (punctuation only) */
	name_from_parts(q, parts);
	q->translit = translit;
	subject_weights(c, r, q);
	c->swapped[c->n_subj] = false;
	c->split[c->n_subj] = false;
	c->n_subj++;
	return true;
}

/*
 * No given name, and a family name of two or three words: perhaps the
 * whole name written in the family field (Marlon Thompson; 王明, Wang
 * Ming).  A reading with the first word as the given name and the rest
 * as the family name; of three words also one with the middle word as
 * the middle name, and one with the last word as the given name and the
 * first two as the family name; the swapped readings (subject_prepare) add the
 * other way, the family name first, as Chinese, Korean, Vietnamese and
 * Hungarian write it.  Each weighs as a swap does (W_NAMES_SWAPPED,
 * names:split).  The reading as written stays: a double-barrelled name
 * with the given name missing is found as before.
 */
static void subject_add_split(struct match_ctx *c, struct store_reader *r)
{
	for (size_t i = 0, k = c->n_subj; i < k; i++) {
		const struct mname *q = &c->subj[i];
		if (q->ng != 0 || q->nf < 2 || q->nf > 3 || family_particle(&q->family[0]))
			continue;
		/* Three words: Marlon Delroy Thompson, Siobhan Carrow-Pellin,
		 * and Carrow-Pellin Siobhan (a compound family name first). */
		for (size_t cut = 0; cut < (q->nf == 3 ? 3u : 1u) && c->n_subj < SUBJ_VARIANTS; cut++) {
			struct mname *w = &c->subj[c->n_subj];
			memset(w, 0, sizeof(*w));
			w->ng = 1;
			if (q->nf == 3 && cut == 0) {
				w->given[0] = q->family[0];
				w->middle[0] = q->family[1];
				w->nm = 1;
				w->family[0] = q->family[2];
				w->nf = 1;
			} else if (q->nf == 3 && cut == 2) {
				w->given[0] = q->family[2];
				w->family[0] = q->family[0];
				w->family[1] = q->family[1];
				w->nf = 2;
			} else {
				w->given[0] = q->family[0];
				for (size_t t = 1; t < q->nf; t++)
					w->family[t - 1] = q->family[t];
				w->nf = (uint8_t)(q->nf - 1);
			}
			w->translit = q->translit;
			w->arabic = q->arabic;
			name_join_family(w);
			subject_weights(c, r, w);
			c->swapped[c->n_subj] = false;
			c->split[c->n_subj] = true;
			c->n_subj++;
		}
	}
}

/* Singh or Kaur as a middle name of written name i (c->parts[i]): also
 * read as the family name (sikh_parts), as the records are
 * (record_normalise); its parts from the readings' pool. */
static void subject_add_sikh(struct match_ctx *c, struct store_reader *r, size_t i, size_t *n_heard)
{
	const struct norm_part *p = c->parts[i];
	const struct mname *q = &c->subj[c->n_subj - 1];
	size_t t;

	if (q->nf == 0 || sikh_title(&q->family[0]) || *n_heard == HEARD_READINGS_MAX ||
	    c->n_subj >= SUBJ_VARIANTS)
		return;
	for (t = 0; t < q->nm && !sikh_title(&q->middle[t]); t++)
		;
	if (t == q->nm || t >= p[NORM_MIDDLE].n)
		return;
	sikh_parts(p, t, c->parts[CHECK_MAX_NAMES + *n_heard]);
	if (subject_add(c, r, c->parts[CHECK_MAX_NAMES + *n_heard], q->translit)) {
		c->subj[c->n_subj - 1].arabic = c->subj[c->n_subj - 2].arabic;
		(*n_heard)++;
	}
}

/* The same tokens. */
static bool part_same(const struct norm_part *a, const struct norm_part *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->len[i] != b->len[i] || memcmp(a->tok[i], b->tok[i], a->len[i]) != 0)
			return false;
	return true;
}

/*
 * Readings of a name written in Cyrillic or Greek as heard: the given
 * name, the family name, or both read back (Сухвиндер Сингх: Sukhvinder
 * as romanised, Singh as heard), each only when it differs.
 */
static void subject_add_heard(struct match_ctx *c, struct store_reader *r, size_t from, enum heard_script script,
			      size_t *n_heard)
{
	const struct norm_part *src = c->parts[from];
	struct norm_part given = src[NORM_GIVEN], middle = src[NORM_MIDDLE], family = src[NORM_FAMILY];
	/* Each part read back, all three (no short cut). */
	bool gv = heard_reading(&given, script, false), md = heard_reading(&middle, script, false);
	bool g = gv || md, f = heard_reading(&family, script, false);

	for (unsigned which = 1; which <= 3; which++) {
		struct norm_part *dst;
		if (((which & 1) != 0 && !g) || ((which & 2) != 0 && !f) || *n_heard == HEARD_READINGS_MAX)
			continue;
		dst = c->parts[CHECK_MAX_NAMES + (*n_heard)++];
		dst[NORM_GIVEN] = (which & 1) != 0 ? given : src[NORM_GIVEN];
		dst[NORM_MIDDLE] = (which & 1) != 0 ? middle : src[NORM_MIDDLE];
		dst[NORM_FAMILY] = (which & 2) != 0 ? family : src[NORM_FAMILY];
		if (subject_add(c, r, dst, true))
			c->subj[c->n_subj - 1].arabic = script == HEARD_ARABIC;
	}
	/* One reading more of both parts.  Greek writes d as ντ and b as μπ,
	 * but also n-t and m-p so, and ICU writes γκ (g) as it writes νκ
	 * (n-k): those read as d, b and g only where no vowel comes before
	 * them (Γκραντ: grant, where the reading above gives grad;
	 * τζανκοουσκι: jankouski, not jagouski).  Ukrainian writes the h of
	 * an English name as г, which is Russian's g (гув джонес: huw jones,
	 * where the reading above gives guw jones). */
	if ((script == HEARD_GREEK || script == HEARD_CYRILLIC) && *n_heard < HEARD_READINGS_MAX) {
		struct norm_part g2 = src[NORM_GIVEN], m2 = src[NORM_MIDDLE], f2 = src[NORM_FAMILY];
		bool any = heard_reading(&g2, script, true);
		any = heard_reading(&m2, script, true) || any;
		any = heard_reading(&f2, script, true) || any;
		if (any && !(part_same(&g2, &given) && part_same(&m2, &middle) && part_same(&f2, &family))) {
			struct norm_part *dst = c->parts[CHECK_MAX_NAMES + (*n_heard)++];
			dst[NORM_GIVEN] = g2;
			dst[NORM_MIDDLE] = m2;
			dst[NORM_FAMILY] = f2;
			(void)subject_add(c, r, dst, true);
		}
	}
}

/*
 * Somali's own Latin spelling (official since 1972) writes the sound ħ as
 * x, the ʕ as c and long vowels doubled: Maxamed, Xasan, Cabdi, Faarax,
 * Jaamac, Saciid.  English records mostly write the same names Mohamed,
 * Hassan, Abdi, Farah, Jama, Said.  A word shows the spelling when it has
 * an x before another letter or a doubled a, i or u (Max, Alex and Aaron
 * aside: no x at the end, and a name with nothing else Somali in it keeps
 * its c).
 */
static bool somali_word(const char *t, size_t len)
{
	for (size_t j = 0; j + 1 < len; j++)
		if (t[j] == 'x' || ((t[j] == 'a' || t[j] == 'i' || t[j] == 'u') && t[j + 1] == t[j]))
			return true;
	return false;
}

/* One part read as an English record writes it: x as h, doubled vowels
 * single, and c dropped where it is the ʕ: anywhere in a word that shows
 * the spelling (Jaamac, Saciid, Cabdullaahi), and at the start of a short
 * word of the same name (Cabdi, Cali, Cumar, Cilmi: five letters at most,
 * so that Carter or Connor keep theirs).  Returns whether any changed. */
static bool somali_part(struct norm_part *p)
{
	bool changed = false;

	for (size_t i = 0; i < p->n; i++) {
		char *t = p->tok[i];
		size_t len = p->len[i], k = 0;
		bool word = somali_word(t, len);
		for (size_t j = 0; j < len; j++) {
			char ch = t[j];
			bool vowel_next = j + 1 < len && strchr("aeiou", t[j + 1]) != NULL;
			if (ch == 'x' && (word || j + 1 < len))
				ch = 'h';
			else if (ch == 'c' && (word || (j == 0 && len <= 5 && vowel_next)) && len > 2)
				ch = '\0';
			else if (k > 0 && t[k - 1] == ch && strchr("aiu", ch) != NULL && word)
				ch = '\0';
			if (ch == '\0') {
				changed = true;
				continue;
			}
			changed = changed || ch != t[j];
			t[k++] = ch;
		}
		t[k] = '\0';
		p->len[i] = (uint8_t)k;
	}
	return changed;
}

/* The subject's name read as an English record writes a Somali one, when
 * a word of it shows Somali spelling (somali_word): one reading more, in
 * the as-heard readings' room. */
static void subject_add_somali(struct match_ctx *c, struct store_reader *r, size_t from, size_t *n_heard)
{
	const struct norm_part *src = c->parts[from];
	bool shows = false, g, m, f;
	struct norm_part *dst;

	for (int k = NORM_GIVEN; k <= NORM_FAMILY && !shows; k++)
		for (size_t i = 0; i < src[k].n && !shows; i++)
			shows = somali_word(src[k].tok[i], src[k].len[i]);
	if (!shows || *n_heard == HEARD_READINGS_MAX)
		return;
	dst = c->parts[CHECK_MAX_NAMES + *n_heard];
	memcpy(dst, src, sizeof(c->parts[0]));
	g = somali_part(&dst[NORM_GIVEN]); /* each part, whatever the others gave */
	m = somali_part(&dst[NORM_MIDDLE]);
	f = somali_part(&dst[NORM_FAMILY]);
	if (!(g || m || f))
		return;
	(*n_heard)++;
	subject_add(c, r, dst, c->subj[c->n_subj - 1].translit);
}

/*
 * Whether a part of the subject's name is a placeholder that forms write
 * for a name nobody knew ("Unknown", "N/K", "Not known", "TBC"): then it is
 * no name, weighed as absent rather than as a name that disagrees.
 */
static bool placeholder_part(const struct norm_part *p)
{
	static const char *const words[] = {"unknown", "unk", "nk", "notknown", "nfn", "fnu", "tbc",
					    "tba", "notgiven", "notstated", "na", "none", NULL};
	char joined[NORM_TOKEN_MAX * 2 + 1];
	size_t n = 0;

	if (p->n == 0 || p->n > 2)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		if (n + p->len[i] >= sizeof(joined))
			return false;
		memcpy(joined + n, p->tok[i], p->len[i]);
		n += p->len[i];
	}
	joined[n] = '\0';
	/* "na" only as N/A, two letters apart: Na is also a name. */
	if (strcmp(joined, "na") == 0 && p->n != 2)
		return false;
	for (size_t i = 0; words[i] != NULL; i++)
		if (strcmp(joined, words[i]) == 0)
			return true;
	return false;
}

/* The other readings of a check's name written in Arabic script
 * (arabic_readings: its Urdu letters, ʿayn), in the readings' room. */
static void subject_add_urdu(struct match_ctx *c, struct store_reader *r, const struct person_name *pn,
			     size_t *n_heard)
{
	const char *orig[3] = {pn->given, pn->middle, pn->family};
	char text[2][3][NORM_INPUT_MAX + 1];
	size_t nr = arabic_readings(orig, text);

	for (size_t x = 0; x < nr && *n_heard < HEARD_READINGS_MAX; x++) {
		struct norm_part *dst = c->parts[CHECK_MAX_NAMES + *n_heard];
		for (size_t p = 0; p < 3; p++) {
			normalize_part(c->norm, orig[p] != NULL ? text[x][p] : NULL, (enum norm_part_kind)p,
				       &dst[p], NULL);
			if (placeholder_part(&dst[p]))
				dst[p].n = 0;
		}
		if (!subject_add(c, r, dst, true))
			continue;
		(*n_heard)++;
		c->subj[c->n_subj - 1].arabic = true;
	}
}

/* The listed variants of a reading's family name (data/surnames.tsv), of
 * the name as written and without its article, kept in the reading: the
 * keys and the scorer read them there. */
static void subject_family_variants(const struct match_ctx *c, struct mname *n)
{
	struct fam_core core;
	size_t k;

	n->n_fam_vars = 0;
	if (n->nf == 0)
		return;
	k = nickname_variants(c->m->sur, n->family_joined, n->fam_vars, FAMILY_VARIANTS_MAX);
	fam_core(n, &core);
	if (core.joined.s != n->family_joined && k < FAMILY_VARIANTS_MAX)
		k += nickname_variants(c->m->sur, core.joined.s, n->fam_vars + k, FAMILY_VARIANTS_MAX - k);
	n->n_fam_vars = (uint8_t)k;
}

static void subject_prepare(struct match_ctx *c, struct store_reader *r, const struct check_subject *s)
{
	size_t n = s->n_names < CHECK_MAX_NAMES ? s->n_names : CHECK_MAX_NAMES, n_heard = 0;

	c->n_subj = 0;
	for (size_t i = 0; i < n; i++) {
		const struct person_name *pn = &s->names[i];
		bool t1, t2, t3;
		normalize_part(c->norm, pn->given, NORM_GIVEN, &c->parts[i][NORM_GIVEN], &t1);
		normalize_part(c->norm, pn->middle, NORM_MIDDLE, &c->parts[i][NORM_MIDDLE], &t2);
		normalize_part(c->norm, pn->family, NORM_FAMILY, &c->parts[i][NORM_FAMILY], &t3);
		for (int k = NORM_GIVEN; k <= NORM_FAMILY; k++)
			if (placeholder_part(&c->parts[i][k]))
				c->parts[i][k].n = 0;
		enum heard_script script = heard_script_of(pn->family);
		if (script == HEARD_NONE)
			script = heard_script_of(pn->given);
		if (script == HEARD_NONE)
			script = heard_script_of(pn->middle);
		if (!subject_add(c, r, c->parts[i], t1 || t2 || t3))
			continue;
		c->subj[c->n_subj - 1].arabic = script == HEARD_ARABIC;
		subject_add_sikh(c, r, i, &n_heard);
		if (script != HEARD_NONE)
			subject_add_heard(c, r, i, script, &n_heard);
		else
			subject_add_somali(c, r, i, &n_heard);
		if (script == HEARD_ARABIC)
			subject_add_urdu(c, r, pn, &n_heard);
	}
	subject_add_split(c, r);
	/* Given and family the wrong way round: the same names swapped. */
	c->name_bound = 0.0;
	for (size_t i = 0, k = c->n_subj; i < k && c->n_subj < SUBJ_VARIANTS; i++) {
		const struct mname *q = &c->subj[i];
		struct mname *w = &c->subj[c->n_subj];
		if (q->ng == 0 || q->nf == 0)
			continue;
		memset(w, 0, sizeof(*w));
		for (size_t t = 0; t < q->nf; t++)
			w->given[t] = q->family[t];
		w->ng = q->nf;
		for (size_t t = 0; t < q->ng; t++)
			w->family[t] = q->given[t];
		w->nf = q->ng;
		memcpy(w->middle, q->middle, sizeof(w->middle));
		w->nm = q->nm;
		w->translit = q->translit;
		w->arabic = q->arabic;
		name_join_family(w);
		/* The same tokens are the same evidence whichever way round:
		 * take the frequencies of their roles as typed, not of the
		 * (rare) records that hold a surname as a given name. */
		if (c->split[i]) {
			/* Neither way round is as typed: the roles' own. */
			subject_weights(c, r, w);
		} else {
			w->w_family_joined = clampd(q->w_given, W_FAMILY_EXACT_MIN, W_FAMILY_EXACT_MAX);
			for (size_t t = 0; t < w->nf; t++)
				w->w_family_tok[t] = w->w_family_joined;
			w->w_given = clampd(q->w_family_joined, W_GIVEN_EXACT_MIN, W_GIVEN_EXACT_MAX);
			/* The given tokens as family names, the family as a given name. */
			w->family_seen = false;
			for (size_t t = 0; t < w->nf && !w->family_seen; t++)
				w->family_seen = token_seen(r, 'T', w->family[t].s);
			w->given_seen = token_seen(r, 'U', w->given[0].s);
		}
		c->swapped[c->n_subj] = true;
		c->split[c->n_subj] = c->split[i];
		c->n_subj++;
	}
	/* The most a record's names can weigh against any variant.  Records
	 * are ruled out against it (tag_rules_out, score_candidate): it must
	 * never be less than score_names gives.
	 *
	 * Family: exactly (a compound part or a near spelling weighs less);
	 * a name nobody on the register spells so, word for word or joined
	 * (a typo, most often), cannot agree exactly and weighs at most a
	 * near spelling (family_score caps those below the exact weight),
	 * or, one word with a given name beside it that somebody has as a
	 * middle name (a V key), what it weighs as a middle name of the
	 * record's (W_FAMILY_MIDDLE_DROP below its exact weight).
	 *
	 * Given (given_score): exactly only if some record has it as its
	 * first given name (the U key); a nickname, near or phonetic
	 * spelling at most min(W_GIVEN_NICKNAME, exact - W_FUZZY_BELOW_EXACT);
	 * an initial W_GIVEN_INITIAL; the given name as the record's middle
	 * name its exact weight less W_GIVEN_MIDDLE_AS_GIVEN_DROP; and, when
	 * the subject has a middle or second given name, that name as the
	 * record's given name W_GIVEN_EXACT_DEFAULT less the same.  Middle:
	 * exactly.  A swapped reading: W_NAMES_SWAPPED on top. */
	for (size_t i = 0; i < c->n_subj; i++) {
		struct mname *q = &c->subj[i];
		double g = 0.0, f = 0.0, b;
		if (q->ng > 0) {
			double near = min_d(W_GIVEN_NICKNAME, q->w_given - W_FUZZY_BELOW_EXACT);
			g = q->given_seen ? q->w_given : near;
			g = g > W_GIVEN_INITIAL ? g : W_GIVEN_INITIAL;
			g = g > q->w_given - W_GIVEN_MIDDLE_AS_GIVEN_DROP ? g : q->w_given - W_GIVEN_MIDDLE_AS_GIVEN_DROP;
			if (q->nm + q->ng > 1 && g < W_GIVEN_EXACT_DEFAULT - W_GIVEN_MIDDLE_AS_GIVEN_DROP)
				g = W_GIVEN_EXACT_DEFAULT - W_GIVEN_MIDDLE_AS_GIVEN_DROP;
		}
		if (q->nf > 0) {
			f = q->w_family_joined;
			/* Nobody has its words as a family name's; but somebody's
			 * family name may still be the same letters split
			 * elsewhere (the J keys), or, for words of its own, not
			 * split at all (Smit Hson, Smithson: a T key): exactly,
			 * then. */
			if (!q->family_seen && !token_seen(r, 'J', q->family_joined) &&
			    (q->nf == 1 || !token_seen(r, 'T', q->family_joined)))
				f = min_d(W_FAMILY_FUZZY, q->w_family_joined - W_FUZZY_BELOW_EXACT);
			if (f < W_FAMILY_INITIAL)
				f = W_FAMILY_INITIAL;
			/* A middle name of the record's (family_is_middle, with
			 * the given names agreeing), which a name nobody has as
			 * a family name may be: Nabil Faraj for Nabil Faraj
			 * Haddad, where nobody is called Faraj.  Only if somebody
			 * has it as a middle name (the V keys): not a typo. */
			if (!q->family_seen && q->nf == 1 && q->ng > 0 && !family_particle(&q->family[0]) &&
			    token_seen(r, 'V', q->family[0].s))
				f = f > q->w_family_joined - W_FAMILY_MIDDLE_DROP
					    ? f
					    : clampd(q->w_family_joined - W_FAMILY_MIDDLE_DROP, W_FAMILY_EXACT_MIN - 2.0,
						     W_FAMILY_EXACT_MAX);
		}
		q->rest_ub = g + (q->nm > 0 ? W_MIDDLE_EXACT : 0.0) +
			     (c->swapped[i] || c->split[i] ? W_NAMES_SWAPPED : 0.0);
		subject_family_variants(c, q);
		q->nick_given = q->ng > 0 ? nickname_find(c->m->nick, q->given[0].s) : -1;
		b = f + q->rest_ub;
		if (b > c->name_bound)
			c->name_bound = b;
	}
}

/* Reads the views of the candidates from index `from` on and scores them,
 * fetching the views of a group of candidates together: each is a miss in
 * a map of gigabytes, and side by side they cost little more than one. */
static int score_new(struct match_ctx *c, struct store_reader *r, const struct check_subject *s, size_t from,
		     struct check_result *out, struct dsc_error *err)
{
	size_t i = from;

	while (i < c->n_cands) {
		uint32_t recnos[VIEW_GROUP];
		const struct store_ref *group[VIEW_GROUP];
		const void *data[VIEW_GROUP];
		size_t len[VIEW_GROUP], n = 0;
		int rc;

		for (; i < c->n_cands && n < VIEW_GROUP; i++) {
			/* Asked again: the list has filled since the key was read. */
			if (tag_rules_out(c, c->cands[i].tag, c->cands[i].recno)) {
				c->n_pruned++;
				continue;
			}
			group[n] = &c->cands[i];
			recnos[n++] = c->cands[i].recno;
		}
		if (n == 0)
			break;
		if ((rc = store_get_views(r, recnos, n, data, len)) != DSC_OK)
			return dsc_error_set(err, rc, "reading a match view failed (%s)", dsc_status_name(rc));
		for (size_t j = 0; j < n; j++) {
			struct rd names;
			/* And again for the later ones of the group, as the earlier
			 * may have filled the list: the same records are scored, in
			 * the same order, as when each was fetched alone (a record
			 * once ruled out stays so as the list fills). */
			if (j > 0 && tag_rules_out(c, group[j]->tag, group[j]->recno)) {
				c->n_pruned++;
				continue;
			}
			if (data[j] == NULL)
				continue; /* an index entry without a view: skipped */
			if (view_decode_head(data[j], len[j], &c->view, &names) != DSC_OK)
				continue; /* a damaged view: skipped rather than trusted */
			out->n_considered++;
			out->n_views++;
			score_candidate(c, s, group[j]->recno, data[j], len[j], &c->view, &names, false);
		}
	}
	return DSC_OK;
}

/*
 * Reads the keys from the most selective on, scoring as it goes, within
 * the budget.  Stops early once the best candidate is decisive (the names
 * agree, the date of birth is exactly a recorded one and the weight is
 * well above the match threshold), except through keys small enough to
 * cost nothing.  A record not yet seen could still share the date of
 * birth (the D keys hold every record born that day, 40 or more in a
 * register of a million), but to come within MATCH_MARGIN of a decisive
 * match it would need nearly the same names, and so share the name keys
 * already read; reading every D key first cost a quarter of the views at
 * a million records and changed no result of bench-match.
 */
static int scan_and_score(struct match_ctx *c, struct store_reader *r, const struct check_subject *s,
			  struct check_result *out, struct dsc_error *err)
{
	size_t total = 0, over = SIZE_MAX;
	size_t cap = s->dob.year != 0 || s->age >= 0 ? KEY_CAP_TAGGED : KEY_CAP;
	int rc;

	c->cand_limit = SCAN_BUDGET;
	c->ref_limit = SIZE_MAX;
	for (size_t i = 0; i < c->n_keys; i++) {
		struct qkey *k = &c->keys[i];
		size_t from = c->n_cands;
		if (k->count == 0)
			continue;
		if ((k->k[0] == 'F' || k->k[0] == 'Y' || (k->k[0] == 'G' && !c->given_only)) &&
		    k->count > SECONDARY_CAP)
			continue;
		if (k->k[0] == 'S' || k->k[0] == 'I')
			continue; /* after the names' keys, below */
		if (k->count > cap) {
			over = i;
			break; /* sorted: every later key is at least as common */
		}
		if (total >= REF_BUDGET || c->n_cands >= SCAN_BUDGET)
			break;
		if (c->n_top > 0 && c->top[0].decisive && k->count > EARLY_STOP_MIN)
			break;
		if ((rc = scan_key(c, r, k, err)) != DSC_OK)
			return rc;
		total += k->count; /* the last key may have been read in part */
		if ((rc = score_new(c, r, s, from, out, err)) != DSC_OK)
			return rc;
	}
	/* The family name with an initial (F) passed over for its size, when
	 * a date of birth rules most of its people out by their tags and
	 * nothing decisive was found: a typo that changes the given name's
	 * sound, with a slipped date, leaves little else to go on. */
	for (size_t i = 0; i < c->n_keys && s->dob.year != 0; i++) {
		struct qkey *k = &c->keys[i];
		size_t from = c->n_cands;
		if (k->k[0] != 'F' || k->count <= SECONDARY_CAP)
			continue;
		if (k->count > KEY_CAP || total >= REF_BUDGET || c->n_cands >= SCAN_BUDGET ||
		    (c->n_top > 0 && c->top[0].decisive))
			break;
		if ((rc = scan_key(c, r, k, err)) != DSC_OK)
			return rc;
		total += k->count;
		if ((rc = score_new(c, r, s, from, out, err)) != DSC_OK)
			return rc;
	}
	/* Whoever lived in the sector, born in the years the check allows
	 * (the S keys), and whoever has the names' initials and was born
	 * then (the I keys), when nothing decisive was found: a name garbled
	 * past every name key, with the address right or with none.  Never
	 * a key over SECONDARY_CAP (a sector, or a J and an S, of a dense
	 * register). */
	for (size_t i = 0; i < c->n_keys; i++) {
		struct qkey *k = &c->keys[i];
		size_t from = c->n_cands;
		if ((k->k[0] != 'S' && k->k[0] != 'I') || k->count == 0 || k->count > SECONDARY_CAP)
			continue;
		if (total >= REF_BUDGET || c->n_cands >= SCAN_BUDGET || (c->n_top > 0 && c->top[0].decisive))
			break;
		if ((rc = scan_key(c, r, k, err)) != DSC_OK)
			return rc;
		total += k->count;
		if ((rc = score_new(c, r, s, from, out, err)) != DSC_OK)
			return rc;
	}
	if (over == SIZE_MAX && c->n_cands == 0) {
		/* Nothing read: every key was a secondary one over its cap. */
		for (size_t i = 0; i < c->n_keys && over == SIZE_MAX; i++)
			if (c->keys[i].count > 0)
				over = i;
	}
	if (over != SIZE_MAX && c->n_cands < SCAN_BUDGET && !(c->n_top > 0 && c->top[0].decisive)) {
		/* The most selective key left is over its cap (a common name and
		 * little else to go on): read part of it rather than none, or the
		 * answer would hold the people of the smaller keys (a nickname,
		 * a sound-alike) and none of the many with the very name given.
		 * Its first records are as good as any. */
		size_t from = c->n_cands;
		c->cand_limit = c->n_cands + FALLBACK_SCAN < SCAN_BUDGET ? c->n_cands + FALLBACK_SCAN : SCAN_BUDGET;
		c->ref_limit = c->n_refs_seen + REF_BUDGET;
		if ((rc = scan_key(c, r, &c->keys[over], err)) != DSC_OK)
			return rc;
		if ((rc = score_new(c, r, s, from, out, err)) != DSC_OK)
			return rc;
	}
	out->n_considered += c->n_pruned;
	c->n_pruned = 0;
	for (size_t i = 0; i < c->n_keys; i++) {
		const struct qkey *k = &c->keys[i];
		if (k->count > 0 && !k->read) {
			c->cut = true;
			if (k->k[0] != 'F' && k->k[0] != 'Y' && (k->k[0] != 'G' || c->given_only) && k->k[0] != 'S' &&
			    k->k[0] != 'I')
				c->truncated = true;
		}
	}
	return DSC_OK;
}

int match_run(struct match_ctx *c, struct store_reader *r, const struct check_subject *subject,
	      struct check_result *out, struct dsc_error *err)
{
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	memset(out, 0, offsetof(struct check_result, candidates));
	out->outcome = BAND_NONE;
	out->n_candidates = 0;
	out->n_considered = 0;
	out->n_views = 0;
	out->more_candidates = false;
	c->set_aside = c->cut = c->truncated = c->sector_key = false;
	c->n_probes = c->n_probe_views = 0;
	c->r = r;
	if (subject->n_names == 0)
		return dsc_error_field(err, DSC_EINVAL, "subject.names", "at least one name is needed");
	gmtime_r(&now, &tm);
	c->today.year = (uint16_t)(tm.tm_year + 1900);
	c->today.month = (uint8_t)(tm.tm_mon + 1);
	c->today.day = (uint8_t)tm.tm_mday;
	if (store_offender_count(r, &c->n_records) != DSC_OK)
		c->n_records = 0;
	c->t_match = log2_approx((double)c->n_records + 1.0) + THRESHOLD_MATCH_MARGIN;
	if (c->t_match < THRESHOLD_MATCH_MIN)
		c->t_match = THRESHOLD_MATCH_MIN;
	{
		/* The subject's postcode field may be full to the last byte. */
		char pc[sizeof(subject->postcode) + 1];
		size_t n = strnlen(subject->postcode, sizeof(subject->postcode));
		memcpy(pc, subject->postcode, n);
		pc[n] = '\0';
		normalize_query_postcode(pc, c->postcode, sizeof(c->postcode));
	}
	postcode_sector(c->postcode, c->sector);
	c->district_bit = c->area_pair = 0;
	if (c->postcode[0] != '\0')
		c->district_bit = postcode_bit(c->postcode, &c->area_pair);
	age_window_init(&c->age_near, subject->age, AGE_NEAR_YEARS, &c->today);
	age_window_init(&c->age_rough, subject->age, AGE_ROUGH_YEARS, &c->today);
	age_window_init(&c->age_guess, subject->age, AGE_GUESS_YEARS, &c->today);
	age_window_init(&c->age_far, subject->age, AGE_FAR_YEARS, &c->today);

	c->dob_implausible = subject->dob.year != 0 && (int)c->today.year - (int)subject->dob.year > DOB_AGE_MAX;
	memset(&c->dob_century, 0, sizeof(c->dob_century));
	if (c->dob_implausible && subject->dob.day != 0) {
		c->dob_century = subject->dob;
		c->dob_century.year = (uint16_t)(subject->dob.year + 100u);
		if (age_on(&c->dob_century, &c->today) < 0)
			c->dob_century.year = 0; /* in the future */
	}
	subject_prepare(c, r, subject);
	c->given_only = c->n_subj > 0;
	for (size_t i = 0; i < c->n_subj; i++)
		c->given_only = c->given_only && c->subj[i].nf == 0;
	if (c->n_subj == 0) /* answered no_match, it would read as a clean result */
		return dsc_error_field(err, DSC_EINVAL, "subject.names",
				       "no name holds a letter: nobody can be matched by it");
	c->n_top = 0;
	c->n_pruned = 0;
	c->s = subject;
	if ((rc = generate_candidates(c, r, subject, err)) != DSC_OK)
		return rc;
	if ((rc = scan_and_score(c, r, subject, out, err)) != DSC_OK)
		return rc;

	/* One match at most, and only a clear one: a runner-up within the
	 * margin of the best makes both possible matches (two records fit as
	 * well: a person must tell them apart), one further below is only a
	 * possible match.  The runner-up may be a possible match by band and
	 * weigh as much: Dafydd Jones asked about as born 1 January 1987 at
	 * OX14 2JY is Dafydd Gethin Jones born that day and living elsewhere
	 * (the date exactly) as much as Dafydd Jones born on the 11th at that
	 * very postcode (a digit out). */
	if (c->n_top > 1 && c->top[0].band == BAND_MATCH && c->top[1].w >= c->top[0].w - MATCH_MARGIN) {
		for (size_t i = 0; i < c->n_top && c->top[i].band == BAND_MATCH; i++) {
			c->top[i].band = BAND_POSSIBLE_MATCH;
			reason_add(&c->top[i], R_MATCH_AMBIGUOUS);
		}
	}
	for (size_t i = 1; i < c->n_top; i++) {
		struct scored *sc = &c->top[i];
		if (sc->band == BAND_MATCH)
			sc->band = BAND_POSSIBLE_MATCH;
	}
	/* Demotions can reorder: keep the result in band order. */
	for (size_t i = 1; i < c->n_top; i++) {
		struct scored t = c->top[i];
		size_t j = i;
		while (j > 0 && scored_before(&t, &c->top[j - 1])) {
			c->top[j] = c->top[j - 1];
			j--;
		}
		c->top[j] = t;
	}
	for (size_t i = 0; i < c->n_top; i++) {
		rc = fill_candidate(c, r, subject, &c->top[i], &out->candidates[out->n_candidates]);
		if (rc != DSC_OK)
			continue;
		out->n_candidates++;
	}
	if (out->n_candidates > 0)
		out->outcome = out->candidates[0].band;
	/* Ten shown, and more may fit; or fewer shown, no clear match among
	 * them, and the search stopped short of the name's own records. */
	if (out->n_candidates == MATCH_MAX_CANDIDATES)
		out->more_candidates = c->set_aside || c->cut;
	else
		out->more_candidates = c->truncated && !(c->n_top > 0 && c->top[0].decisive);
	out->n_views += c->n_probe_views;
	return DSC_OK;
}
