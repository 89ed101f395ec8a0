#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vm-stuck.py MONITOR SYSTEM_MAP MODULE_SYMS: where a stuck test VM is.

Asks the QEMU human monitor on the unix socket MONITOR for every vCPU's
registers, three times a second apart, and prints each vCPU's RIP as a
kernel symbol, found in SYSTEM_MAP (the kernel runs with nokaslr) and in
MODULE_SYMS (the modules' lines of /proc/kallsyms, written by the VM's
init). The same RIP three times is a vCPU that does not move; RIPs that
change inside one function are a loop there. Each line also says whether
the vCPU runs user code, has interrupts off or is halted. Then each
vCPU's local APIC: the IPIs pending at it and those in service.
"""
import bisect
import re
import socket
import sys
import time


def load_symbols(paths):
    syms = []
    for path in paths:
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) < 3 or parts[1] not in "tTwW":
                        continue
                    name = parts[2] + (" " + parts[3] if len(parts) > 3 else "")
                    syms.append((int(parts[0], 16), name))
        except OSError:
            pass
    syms.sort()
    return syms


def symbolize(syms, addrs, rip):
    i = bisect.bisect_right(addrs, rip) - 1
    if i < 0 or rip >= 1 << 64:
        return "?"
    addr, name = syms[i]
    return "%s+0x%x" % (name, rip - addr)


def monitor(path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    out = b""

    def until_prompt():
        nonlocal out
        while not out.rstrip().endswith(b"(qemu)"):
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk

    until_prompt()
    out = b""
    s.sendall(command.encode() + b"\n")
    until_prompt()
    s.close()
    return out.decode(errors="replace")


def main():
    mon, system_map, module_syms = sys.argv[1:4]
    syms = load_symbols([system_map, module_syms])
    addrs = [a for a, _ in syms]
    for sample in range(3):
        try:
            regs = monitor(mon, "info registers -a")
        except OSError as e:
            print("vm-stuck: the monitor does not answer: %s" % e)
            return
        cpus = re.findall(r"CPU#(\d+).*?RIP=([0-9a-f]+) RFL=([0-9a-f]+)"
                          r".*?CPL=(\d).*?HLT=(\d)", regs, re.S)
        print("vm-stuck: sample %d:" % sample)
        for cpu, rip, rfl, cpl, hlt in cpus:
            print("vm-stuck:   cpu%s %s %s%s%s%s" % (
                cpu, rip, symbolize(syms, addrs, int(rip, 16)),
                " user" if cpl == "3" else "",
                "" if int(rfl, 16) & 0x200 else " irqs-off",
                " halted" if hlt == "1" else ""))
        time.sleep(1)
    # Each local APIC's pending and in-service vectors: a vCPU spinning
    # with interrupts on for a call-function IPI (0xfb) that is in no
    # IRR was sent an IPI the emulator lost.
    for cpu in re.findall(r"CPU#(\d+)", regs):
        try:
            lapic = monitor(mon, "info lapic %s" % cpu)
        except OSError:
            break
        keep = [" ".join(l.split()) for l in lapic.splitlines()
                if l.startswith(("ICR", "ISR", "IRR", "APR"))]
        print("vm-stuck: cpu%s lapic: %s" % (cpu, "; ".join(keep)))
    # the last sample in full, without the monitor's echo of the command
    print(regs[regs.find("CPU#"):].replace("(qemu)", "").rstrip())


if __name__ == "__main__":
    main()
