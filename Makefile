# SPDX-License-Identifier: GPL-2.0-only
#
# dm-hybrid top-level Makefile.  "make" builds the module against Debian's
# 6.12 headers (KDIR overrides) with W=1 warnings as errors, and the tools.

KVER	?= $(shell ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | \
		head -n1 | sed 's,.*/linux-headers-,,')
KDIR	?= /usr/src/linux-headers-$(KVER)
SRCDIR	:= $(CURDIR)
DMH_CACHE ?= /var/cache/dm-hybrid
KSRC	?= $(DMH_CACHE)/src/current
CHECKPATCH := $(KSRC)/scripts/checkpatch.pl

KSOURCES := dm-hybrid.c dm-hybrid-map.c dm-hybrid-monitor.c dm-hybrid-migrate.c \
	    dm-hybrid.h dm-hybrid-format.h $(wildcard tests/kunit/*.[ch]) \
	    tests/hddsim/dm-hddsim.c

.PHONY: all module tools clean checkpatch sparse setup

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
# const_structs.checkpatch beside it); nothing of it is copied here.
checkpatch:
	@test -x $(CHECKPATCH) || { echo "run 'make setup' first"; exit 1; }
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES -f $(KSOURCES)
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,NEW_TYPEDEFS,SPDX_LICENSE_TAG \
		-f tools/*.c

clean:
	$(MAKE) -C $(KDIR) M=$(SRCDIR) clean
	$(MAKE) -C tools clean

-include tests/tests.mk
