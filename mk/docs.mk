# docs.mk - `make check-docs`: the documentation and the unit are part of
# what is shipped, so they are checked like code.
#
#   - every man page renders with man(1) and groff without a warning (and
#     passes mandoc -Tlint, where mandoc is installed);
#   - `systemd-analyze security --offline=true` rates the unit's sandbox at
#     an exposure of 2.0 or lower;
#   - docs/openapi.yaml passes a real OpenAPI 3.1 linter (Redocly CLI,
#     fetched from the npm registry by npx on first use).
#
# It never edits what it checks.

MAN_PAGES     ?= man/disclosurectl.1 man/disclosured.conf.5 man/disclosured.8
MAX_EXPOSURE  ?= 2.0
# Pinned: @redocly/cli@1 (latest 1.x) names a respect-core release the
# registry does not hold; 1.34.20 installs.
REDOCLY       ?= npx --yes @redocly/cli@1.34.20

.PHONY: check-docs check-man check-man-sync check-unit-sandbox check-openapi check-reasons

check-docs: check-man check-man-sync check-reasons check-unit-sandbox check-openapi

check-man:
	@scripts/ensure-deps.sh docs
	@set -e; fail=0; for p in $(MAN_PAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings=w -E UTF-8 $$p 2>&1 >/dev/null); \
		out="$$out$$(groff -t -man -ww -z -K utf8 $$p 2>&1)"; \
		if command -v mandoc >/dev/null 2>&1; then out="$$out$$(mandoc -Tlint -W warning $$p 2>&1)"; fi; \
		if [ -n "$$out" ]; then echo "$$p: warnings:"; echo "$$out"; fail=1; \
		else echo "$$p: renders without warnings"; fi; \
	done; test $$fail = 0

# The pages must name what the code accepts: every configuration key of
# lib/config.c and lib/acl.c, every long flag of the daemon and the client,
# every client command.  (Read from the sources, so a new flag without its
# page fails here.)  In roff a flag is written with escaped hyphens.
check-man-sync:
	@set -e; fail=0; \
	miss() { printf '%s: does not mention %s (%s)\n' "$$1" "$$2" "$$3"; fail=1; }; \
	for k in $$(sed -n 's/^[[:space:]]*{"[a-z]*", "\([a-z_]*\)", K_.*/\1/p' lib/config.c) cn roles force; do \
		grep -q "^\.B $$k\$$" man/disclosured.conf.5 || miss man/disclosured.conf.5 "key $$k" lib/config.c; \
	done; \
	for f in $$(grep -ho '{"[a-z-]*", *\(no\|required\|optional\)_argument' daemon/*.c | sed 's/{"\([^"]*\)".*/\1/' | sort -u); do \
		r=$$(printf '%s' "\\-\\-$$f" | sed 's/\([^\\]\)-/\1\\-/g'); \
		grep -qF -- "$$r" man/disclosured.8 || miss man/disclosured.8 "--$$f" daemon/; \
	done; \
	for f in $$(grep -ho '{"[a-z-]*", *\(no\|required\|optional\)_argument' client/*.c client/*.h | sed 's/{"\([^"]*\)".*/\1/' | sort -u); do \
		r=$$(printf '%s' "\\-\\-$$f" | sed 's/\([^\\]\)-/\1\\-/g'); \
		grep -qF -- "$$r" man/disclosurectl.1 || miss man/disclosurectl.1 "--$$f" client/; \
	done; \
	for c in $$(grep -o '{"[a-z]*", *cmd_[a-z_]*}' client/main.c | sed 's/{"\([a-z]*\)".*/\1/'); do \
		grep -q "^\.SS \"\?$$c" man/disclosurectl.1 || miss man/disclosurectl.1 "command $$c" client/main.c; \
	done; \
	for m in $$(grep -ho 'disclosured_[a-z_]*' daemon/metrics.c daemon/writer.c | sed 's/_\(bucket\|sum\|count\)$$//' | sort -u); do \
		grep -q "^\.BR\{0,1\} $$m\b" man/disclosured.8 || miss man/disclosured.8 "metric $$m" daemon/; \
	done; \
	test $$fail = 0 && echo "man pages name every key, flag, command and metric of the code"

# Every reason the matcher can give (a quoted "field:level" in lib/match.c)
# has its words in disclosurectl's table (client/render.c) and its row in
# docs/matching.md: a new level without them fails here.
check-reasons:
	@set -e; fail=0; n=0; \
	for r in $$(grep -o '"\(family\|given\|middle\|names\|name\|dob\|postcode\|sex\):[a-z_]*"' lib/match.c | tr -d '"' | sort -u); do \
		n=$$((n + 1)); \
		grep -qF "{\"$$r\"," client/render.c || { echo "client/render.c: no words for the reason $$r"; fail=1; }; \
		grep -qF "\`$$r\`" docs/matching.md || { echo "docs/matching.md: no row for the reason $$r"; fail=1; }; \
	done; \
	test $$n -gt 30 || { echo "check-reasons: found only $$n reasons in lib/match.c"; fail=1; }; \
	test $$fail = 0 && echo "every one of the matcher's $$n reasons has its words and its row"

check-unit-sandbox:
	@scripts/ensure-deps.sh docs
	@command -v systemd-analyze >/dev/null 2>&1 || \
		{ echo "check-docs: systemd-analyze missing (apt-get install systemd)"; exit 1; }
	@out=$$(systemd-analyze security --offline=true systemd/disclosured.service 2>&1); \
	level=$$(printf '%s\n' "$$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'); \
	if [ -z "$$level" ]; then echo "$$out"; echo "check-docs: no exposure level in systemd-analyze's output"; exit 1; fi; \
	if awk -v l="$$level" -v m="$(MAX_EXPOSURE)" 'BEGIN { exit !(l <= m) }'; then \
		echo "systemd/disclosured.service: exposure $$level (limit $(MAX_EXPOSURE))"; \
	else \
		printf '%s\n' "$$out" | grep '✗' || true; \
		echo "systemd/disclosured.service: exposure $$level is above $(MAX_EXPOSURE)"; exit 1; \
	fi

check-openapi:
	@scripts/ensure-deps.sh docs
	$(REDOCLY) lint --format=stylish docs/openapi.yaml
