# disclosured - build, test, install.
#
#   make                 build/disclosured, build/disclosurectl, tools
#   make check           unit tests (cmocka) and integration tests (real daemon, real TLS)
#   make check SANITIZE=1 BUILD=build-asan   the same under ASan+UBSan
#   make check SANITIZE=thread BUILD=build-tsan   the same under ThreadSanitizer
#   make install PREFIX=/usr/local DESTDIR=...
#   make compile_commands.json
#
# Every target that needs libraries first runs scripts/ensure-deps.sh, which
# installs the Debian packages that pkg-config cannot find (as root), or says
# which to install.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
DATADIR  ?= $(PREFIX)/share/disclosured
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
VERSION  := 0.1.0

CC       ?= cc
SANITIZE ?=
PYTHON   ?= python3

PKGS     := libevent libevent_openssl libevent_pthreads openssl lmdb jansson inih icu-uc icu-i18n libsystemd
# Recursively expanded on purpose: evaluated in recipes, after ensure-deps ran.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow
OPT      ?= -O2
ifeq ($(SANITIZE),thread)
# ThreadSanitizer: the races of the daemon's threads (workers, writer,
# bulk import, prefault).  libevent, OpenSSL, LMDB and jansson are not
# instrumented: the tests run with TSAN_OPTIONS=ignore_noninstrumented_modules=1
# (tests/integration/harness.py, check-unit below), so only our own code's
# accesses are checked.
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else ifneq ($(SANITIZE),)
OPT      := -O1
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# make does not rebuild an object when only the flags change: a sanitizer
# build in the plain build's folder would link old objects with new ones.
ifneq ($(SANITIZE),)
ifeq ($(BUILD),build)
$(error SANITIZE=$(SANITIZE) needs a build folder of its own: add BUILD=build-asan (ASan+UBSan) or BUILD=build-tsan (TSan))
endif
endif
CFLAGS   ?= -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(OPT) $(CFLAGS) $(SANFLAGS) $(WARN) \
	     -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -pthread

LIB_SRC     := $(wildcard lib/*.c)
DAEMON_SRC  := $(wildcard daemon/*.c)
CLIENT_SRC  := $(wildcard client/*.c)
TOOL_SRC    := $(wildcard tools/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

LIB_OBJ     := $(LIB_SRC:%.c=$(BUILD)/%.o)
GEN_OBJ      = # generated sources add themselves here (mk/*.mk)
DAEMON_OBJ  := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
CLIENT_OBJ  := $(CLIENT_SRC:%.c=$(BUILD)/%.o)
TOOLS       := $(TOOL_SRC:tools/%.c=$(BUILD)/%)
UNIT_TESTS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBDSC      := $(BUILD)/libdisclosure.a

PROGRAMS    := $(BUILD)/disclosured $(BUILD)/disclosurectl

.PHONY: all deps check check-unit check-integration install clean distclean bench
# Objects of tests and tools are intermediate files of pattern rules: keep them.
.SECONDARY:
all: $(PROGRAMS) $(TOOLS)

deps:
	@scripts/ensure-deps.sh build

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBDSC): $(LIB_OBJ) $(GEN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/disclosured: $(DAEMON_OBJ) $(LIBDSC)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIBDSC) $(PKG_LIBS)

$(BUILD)/disclosurectl: $(CLIENT_OBJ) $(LIBDSC)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLIENT_OBJ) $(LIBDSC) $(PKG_LIBS)

$(BUILD)/%: $(BUILD)/tools/%.o $(LIBDSC)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBDSC) $(PKG_LIBS)

# The unit tests include cmocka.h: its package (the check profile) must be
# there before they compile, not only before they run.
.PHONY: check-deps
check-deps: deps
	@scripts/ensure-deps.sh check

$(BUILD)/tests/unit/%.o: tests/unit/%.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBDSC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBDSC) $(PKG_LIBS) $(CMOCKA_LIBS)

check: check-unit check-integration

check-unit: $(UNIT_TESTS)
	@set -e; fail=0; for t in $(UNIT_TESTS); do \
		echo "== $$t"; \
		( cd tests/unit && TSAN_OPTIONS="$${TSAN_OPTIONS:-ignore_noninstrumented_modules=1 halt_on_error=1}" ../../$$t ) || fail=1; \
	done; test $$fail = 0

check-integration: all
	@scripts/ensure-deps.sh check
	BUILD=$(BUILD) $(PYTHON) tests/integration/run.py

# Benchmarks print figures; each part adds a bench/bench-*.sh (run in name order).
bench: all
	@scripts/ensure-deps.sh bench
	BUILD=$(BUILD) bench/run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BUILD)/disclosured $(DESTDIR)$(SBINDIR)/disclosured
	install -m 0755 $(BUILD)/disclosurectl $(DESTDIR)$(BINDIR)/disclosurectl
	@for f in data/*; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(DATADIR)/ || true; done

compile_commands.json: | deps
	$(MAKE) clean BUILD=$(BUILD)
	bear --output $@ -- $(MAKE) all $(UNIT_TESTS)

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf build-* compile_commands.json

# Fragments owned by their parts: matching data, benchmarks, fuzzing, demo,
# installation of units and pages.
-include mk/*.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
