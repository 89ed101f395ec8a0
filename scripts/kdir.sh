#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The one definition of the default kernel build tree (KDIR), for the
# Makefile and the scripts: $KDIR when set; /lib/modules/$KERNELRELEASE/build
# when DKMS or kbuild names a release; else the running kernel's build tree
# when it is a Debian amd64 one (its image can be fetched for the test VM);
# else the newest installed linux-headers-*-amd64. Prints nothing when there
# is none.
set -euo pipefail

if [ -n "${KDIR:-}" ]; then
	echo "$KDIR"
elif [ -n "${KERNELRELEASE:-}" ]; then
	echo "/lib/modules/$KERNELRELEASE/build"
elif [[ "$(uname -r)" == *-amd64 ]] && [ -d "/lib/modules/$(uname -r)/build" ]; then
	readlink -f "/lib/modules/$(uname -r)/build"
else
	ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1
fi
