# install.mk - what `make install` puts in place besides the programs: the
# systemd unit (its ExecStart pointed at $(SBINDIR)), the sysusers.d and
# tmpfiles.d entries, the man pages and the example configuration.
#
# It never overwrites a live configuration: examples go in as *.example
# beside it, and the operator copies them (docs/operators-guide.md).

SYSUSERSDIR  ?= /usr/lib/sysusers.d
TMPFILESDIR  ?= /usr/lib/tmpfiles.d
MAN_PAGES    := man/disclosurectl.1 man/disclosured.conf.5 man/disclosured.8

.PHONY: install-extra
install: install-extra

install-extra:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	sed 's|/usr/local/sbin/|$(SBINDIR)/|g' systemd/disclosured.service \
		> $(DESTDIR)$(UNITDIR)/disclosured.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/disclosured.service
	install -m 0644 systemd/disclosured.sysusers $(DESTDIR)$(SYSUSERSDIR)/disclosured.conf
	install -m 0644 systemd/disclosured.tmpfiles $(DESTDIR)$(TMPFILESDIR)/disclosured.conf
	@set -e; for p in $(MAN_PAGES); do \
		s=$${p##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	install -d $(DESTDIR)$(SYSCONFDIR)/disclosured
	@set -e; for f in conf/*.example; do \
		[ -f "$$f" ] || continue; \
		echo "install -m 0644 $$f $(DESTDIR)$(SYSCONFDIR)/disclosured/"; \
		install -m 0644 "$$f" $(DESTDIR)$(SYSCONFDIR)/disclosured/; \
	done
