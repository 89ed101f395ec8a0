# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the pvmm modules, and the project's test entry points.
#   make                 build the modules against KDIR
#   make lint            W=1, sparse (C=2), checkpatch --strict and the docs; fails on any finding
#   make docs            Documentation/pvmm through the kernel's make htmldocs
#   make graft-build     build the sources grafted into an x86_64 kernel tree
#   make kunit           KUnit suites under UML, in a grafted Debian source tree
#   make selftests       static selftest and tool binaries
#   make vm-test         boot the test VM and run the kselftests there
#   make test            kunit + vm-test (the README's test command)
#   make demo            boot the test VM and show each service working
#   make bench           benchmarks in the test VM, as ratios
#   make dkms-deb        the pvmm-dkms package (debian/, dh_dkms)
#   make dkms-check      that package installed and removed in bare bookworm
#                        and trixie roots

# The default kernel build tree is defined once, in scripts/kdir.sh.
KDIR ?= $(shell KERNELRELEASE=$(KERNELRELEASE) $(CURDIR)/scripts/kdir.sh)

.PHONY: all modules clean lint graft-build kunit selftests vm-test vm-test-debug test demo bench dkms-deb dkms-check docs

all: modules

modules:
	@test -n "$(KDIR)" || { echo "no kernel build tree: install linux-headers-amd64 or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	@test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C selftests/pvmm clean
	$(MAKE) -C tools clean

lint:
	KDIR=$(KDIR) scripts/lint.sh

docs:
	scripts/docs.sh

graft-build:
	scripts/graft-build.sh

kunit:
	scripts/kunit.sh

selftests:
	$(MAKE) -C selftests/pvmm
	$(MAKE) -C tools

vm-test:
	KDIR=$(KDIR) scripts/vm-run.sh test

vm-test-debug:
	scripts/vm-run-debug.sh test

test:
	scripts/run-tests.sh

demo:
	KDIR=$(KDIR) scripts/vm-run.sh demo

bench:
	KDIR=$(KDIR) scripts/vm-run.sh bench

dkms-deb:
	scripts/dkms-deb.sh

dkms-check:
	d=$$(mktemp -d) && deb=$$(scripts/dkms-deb.sh $$d) && \
	scripts/dkms-check.sh bookworm $$deb $$d/bookworm && \
	scripts/dkms-check.sh trixie $$deb $$d/trixie; rc=$$?; rm -rf $$d; exit $$rc
