# SPDX-License-Identifier: GPL-2.0-only
#
# dm-hybrid top-level Makefile.  "make" builds the module against Debian's
# 6.12 headers (KDIR overrides) with W=1 warnings as errors, and the tools.

# The running kernel if its headers are installed, else Debian's 6.12.
KVER	?= $(shell r=$$(uname -r); if [ -d /usr/src/linux-headers-$$r ]; then \
		echo $$r; else ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | \
		head -n1 | sed 's,.*/linux-headers-,,'; fi)
KDIR	?= /usr/src/linux-headers-$(KVER)
SRCDIR	:= $(CURDIR)
DMH_CACHE ?= /var/cache/dm-hybrid
KSRC	?= $(DMH_CACHE)/src/current
CHECKPATCH := $(KSRC)/scripts/checkpatch.pl

# The module's rooms (dm-hybrid.h draws their map).
KMODSRC := dm-hybrid.c dm-hybrid-pool.c dm-hybrid-io.c dm-hybrid-cell.c dm-hybrid-migrate.c \
	   dm-hybrid-block.c dm-hybrid-readfill.c dm-hybrid-stage.c \
	   dm-hybrid-monitor.c dm-hybrid-policy.c dm-hybrid-map.c \
	   dm-hybrid-metadata.c dm-hybrid-slog.c dm-hybrid.h dm-hybrid-cell.h \
	   dm-hybrid-migrate.h dm-hybrid-block.h dm-hybrid-block-priv.h \
	   dm-hybrid-monitor.h dm-hybrid-map.h \
	   dm-hybrid-metadata.h dm-hybrid-format.h
KSOURCES := $(filter-out dm-hybrid-format.h,$(KMODSRC)) \
	    $(wildcard tests/kunit/*.[ch]) tests/hddsim/dm-hddsim.c

# What DKMS and the packages install (scripts/rooms.sh checks that every
# kernel file of the module is in it).
.PHONY: print-kmodsrc
print-kmodsrc:
	@echo $(KMODSRC)

.PHONY: all module tools clean checkpatch sparse setup install \
	install-module install-tools install-systemd dkms-install uninstall

# Installation: "make install" puts the module into
# /lib/modules/$(KVER)/updates (then depmod), the tools and man pages under
# $(PREFIX), and hybridctl.service.  DESTDIR stages everything (no depmod).
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/dm-hybrid
UNITDIR	?= /lib/systemd/system
VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := dkms.conf $(KMODSRC)

all: module tools

setup:
	bash scripts/setup.sh

module:
	$(MAKE) -C $(KDIR) M=$(SRCDIR) W=1 KCFLAGS=-Werror modules

tools:
	$(MAKE) -C tools

sparse:
	$(MAKE) -C $(KDIR) M=$(SRCDIR) W=1 C=2 KCFLAGS=-Werror \
		CHECKFLAGS="-Wsparse-error" modules

# checkpatch runs from the unpacked linux-source (it needs spelling.txt and
# const_structs.checkpatch beside it); nothing of it is copied here.  It
# covers every C file of the project: the kernel's (the module's files at
# the top, found by name so a new one is not missed, the KUnit suites,
# dm-hddsim) by the kernel's rules, user space's (the tools, their unit
# tests, the lab's guest helpers in tests/tools, the placement lab in
# bench/sim but not its stand-ins for kernel headers, bench/sim/kshim)
# with the tools' ignore set.  Both sets are checked even when the first
# fails.  The format header's knob table is an X-macro (DMH_KNOBS), a
# list that checkpatch takes for a statement macro: that header alone is
# checked without COMPLEX_MACRO and MACRO_ARG_REUSE.
CP_XMACRO := dm-hybrid-format.h
checkpatch: CP_KERNEL = $(filter-out $(CP_XMACRO),$(sort $(KSOURCES) \
	$(filter-out %.mod.c,$(wildcard *.[ch])) \
	$(wildcard tests/kunit/*.[ch] tests/hddsim/*.[ch])))
checkpatch: CP_USER = $(wildcard tools/*.[ch] tools/tests/*.[ch] tests/tools/*.[ch] \
	bench/sim/*.[ch])
checkpatch:
	@test -x $(CHECKPATCH) || { echo "run 'make setup' first"; exit 1; }
	@rc=0; \
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES -f $(CP_KERNEL) || rc=1; \
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,COMPLEX_MACRO,MACRO_ARG_REUSE \
		-f $(CP_XMACRO) || rc=1; \
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,NEW_TYPEDEFS,SPDX_LICENSE_TAG \
		-f $(CP_USER) || rc=1; \
	exit $$rc

install: install-module install-tools install-systemd

install-module: module
	install -D -m 0644 dm_hybrid.ko $(DESTDIR)/lib/modules/$(KVER)/updates/dm_hybrid.ko
	$(if $(DESTDIR),@echo "DESTDIR set: run 'depmod -a $(KVER)' on the target",depmod -a $(KVER))

install-tools: tools
	$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) \
		SBINDIR=$(SBINDIR) MANDIR=$(MANDIR)

install-systemd:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	sed 's,@SBINDIR@,$(SBINDIR),g' packaging/hybridctl.service.in \
		> $(DESTDIR)$(UNITDIR)/hybridctl.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hybridctl.service
	install -m 0644 packaging/hybridtab.example Documentation/guide-*.rst \
		Documentation/dm-hybrid.rst $(DESTDIR)$(DOCDIR)/
	$(if $(DESTDIR),,-systemctl daemon-reload 2>/dev/null)

# DKMS: the module sources into $(DKMS_SRCTREE)/dm-hybrid-$(VERSION), then
# (not with DESTDIR) dkms add (once), build and install for $(KVER) (the
# running kernel when its headers are installed), rebuilding over an
# earlier build of the same version; DKMS rebuilds the module for every
# kernel installed later.  DKMS_FLAGS: more dkms options (make check-dkms
# passes a throw-away --dkmstree and --installtree and --no-depmod).
DKMS_SRCTREE ?= /usr/src
DKMS_FLAGS ?=
DKMS	:= dkms -m dm-hybrid -v $(VERSION) --sourcetree $(DKMS_SRCTREE) $(DKMS_FLAGS)
dkms-install:
	install -d $(DESTDIR)$(DKMS_SRCTREE)/dm-hybrid-$(VERSION)
	install -m 0644 $(DKMS_SRC) $(DESTDIR)$(DKMS_SRCTREE)/dm-hybrid-$(VERSION)/
	grep -v -e CONFIG_KUNIT -e '^# KUnit' Kbuild \
		> $(DESTDIR)$(DKMS_SRCTREE)/dm-hybrid-$(VERSION)/Kbuild
	$(if $(DESTDIR),,{ $(DKMS) status 2>/dev/null | grep -q . || $(DKMS) add; } && \
		$(DKMS) build -k $(KVER) --force && \
		$(DKMS) install -k $(KVER) --force)

# Debian packages dm-hybrid-dkms and dm-hybrid-tools, built with debhelper
# from packaging/debian/ in a copy of the tree under $(DEB_OUT) (git ignores
# build/), then checked by lintian; see packaging/build-deb.sh.
DEB_OUT	?= $(SRCDIR)/build/deb
.PHONY: deb
deb:
	bash packaging/build-deb.sh $(DEB_OUT)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/dm_hybrid.ko
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,hybridctl hybrid_check hybrid_dump \
		hybrid_restore hybrid_repair hybrid_metadata_size)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,hybridctl.8 hybrid_check.8 \
		hybrid_dump.8 hybrid_restore.8 hybrid_repair.8 hybrid_metadata_size.8)
	rm -f $(DESTDIR)$(UNITDIR)/hybridctl.service
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	$(MAKE) -C $(KDIR) M=$(SRCDIR) clean
	$(MAKE) -C tools clean

-include tests/tests.mk
