# docs.mk - `make check-docs`: the documentation and the unit are part of
# what is shipped, so they are checked like code.
#
#   - every man page renders with man(1) and groff without a warning;
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

.PHONY: check-docs check-man check-unit-sandbox check-openapi

check-docs: check-man check-unit-sandbox check-openapi

check-man:
	@scripts/ensure-deps.sh docs
	@set -e; fail=0; for p in $(MAN_PAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings=w -E UTF-8 $$p 2>&1 >/dev/null); \
		out="$$out$$(groff -man -ww -z -K utf8 $$p 2>&1)"; \
		if [ -n "$$out" ]; then echo "$$p: warnings:"; echo "$$out"; fail=1; \
		else echo "$$p: renders without warnings"; fi; \
	done; test $$fail = 0

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
