// SPDX-License-Identifier: GPL-2.0
/*
 * pvmmctl: the operator's view of the pvmm modules on a host.
 *
 *   pvmmctl list                  every VM: id, VMM pid, vCPUs, services,
 *                                 balloon target and size
 *   pvmmctl balloon VM TARGET     set a VM's balloon target; TARGET in
 *                                 4 KiB pages, or with a K, M or G suffix
 *   pvmmctl show VM               a VM's hub statistics, balloon counters
 *                                 and the guest's memory statistics
 *
 * VM is "vmN" or N, as in /sys/kernel/debug/pvmm/. Needs root (debugfs
 * and sysfs writes).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEBUGFS		"/sys/kernel/debug/pvmm"
#define BALLOON_SYSFS	"/sys/kernel/pvmm_balloon"

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* The value of "key: value" in a debugfs stats file, or "-". */
static void field(const char *text, const char *key, char *out, size_t len)
{
	const char *p = text;
	size_t k = strlen(key);

	snprintf(out, len, "-");
	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == ':') {
			p += k + 1;
			while (*p == ' ')
				p++;
			snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
}

static int parse_vm(const char *arg)
{
	char *end;
	long id;

	if (!strncmp(arg, "vm", 2))
		arg += 2;
	id = strtol(arg, &end, 10);
	if (end == arg || *end || id < 0)
		return -1;
	return id;
}

static int cmd_list(void)
{
	char path[512], text[4096], pid[32], vcpus[32], svc[128];
	char target[32], pages[32];
	struct dirent *d;
	DIR *dir = opendir(DEBUGFS);

	if (!dir) {
		perror(DEBUGFS);
		return 1;
	}
	printf("%-6s %-8s %-6s %-24s %-14s %s\n", "VM", "PID", "VCPUS",
	       "SERVICES", "BALLOON_TARGET", "BALLOONED");
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "vm", 2))
			continue;
		snprintf(path, sizeof(path), DEBUGFS "/%s/stats", d->d_name);
		if (read_file(path, text, sizeof(text)))
			continue;
		field(text, "pid", pid, sizeof(pid));
		field(text, "vcpus", vcpus, sizeof(vcpus));
		field(text, "services", svc, sizeof(svc));
		snprintf(path, sizeof(path), BALLOON_SYSFS "/%s/target_pages",
			 d->d_name);
		if (read_file(path, target, sizeof(target)))
			snprintf(target, sizeof(target), "-");
		snprintf(path, sizeof(path), BALLOON_SYSFS "/%s/ballooned_pages",
			 d->d_name);
		if (read_file(path, pages, sizeof(pages)))
			snprintf(pages, sizeof(pages), "-");
		target[strcspn(target, "\n")] = 0;
		pages[strcspn(pages, "\n")] = 0;
		printf("%-6s %-8s %-6s %-24s %-14s %s\n", d->d_name, pid, vcpus,
		       svc, target, pages);
	}
	closedir(dir);
	return 0;
}

/* "2048", "8M", "1G", "512K": a count of 4 KiB pages */
static long long parse_pages(const char *arg)
{
	char *end;
	long long v = strtoll(arg, &end, 10);

	if (end == arg || v < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 0:
		return v;
	case 'K':
		v <<= 10;
		break;
	case 'M':
		v <<= 20;
		break;
	case 'G':
		v <<= 30;
		break;
	default:
		return -1;
	}
	return end[1] ? -1 : v / 4096;
}

static int cmd_balloon(const char *vm, const char *target)
{
	long long pages = parse_pages(target);
	char path[256], buf[32];
	int id = parse_vm(vm), fd, n;

	if (id < 0 || pages < 0) {
		fprintf(stderr, "pvmmctl: bad VM or target\n");
		return 2;
	}
	snprintf(path, sizeof(path), BALLOON_SYSFS "/vm%d/target_pages", id);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "pvmmctl: %s: %s (is the balloon service enabled for vm%d?)\n",
			path, strerror(errno), id);
		return 1;
	}
	n = snprintf(buf, sizeof(buf), "%lld\n", pages);
	if (write(fd, buf, n) != n) {
		perror(path);
		close(fd);
		return 1;
	}
	close(fd);
	printf("vm%d: balloon target %lld pages (%lld MiB)\n", id, pages,
	       pages / 256);
	return 0;
}

static int cmd_show(const char *vm)
{
	char path[256], text[8192];
	int id = parse_vm(vm);

	if (id < 0) {
		fprintf(stderr, "pvmmctl: bad VM\n");
		return 2;
	}
	snprintf(path, sizeof(path), DEBUGFS "/vm%d/stats", id);
	if (read_file(path, text, sizeof(text))) {
		fprintf(stderr, "pvmmctl: no vm%d\n", id);
		return 1;
	}
	printf("%s", text);
	snprintf(path, sizeof(path), DEBUGFS "/vm%d/balloon", id);
	if (!read_file(path, text, sizeof(text)))
		printf("balloon:\n%s", text);
	return 0;
}

static int print_help(void)
{
	fprintf(stderr, "usage: pvmmctl list\n"
		"       pvmmctl balloon VM TARGET   (pages, or 512K, 8M, 1G)\n"
		"       pvmmctl show VM\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list"))
		return cmd_list();
	if (argc == 4 && !strcmp(argv[1], "balloon"))
		return cmd_balloon(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "show"))
		return cmd_show(argv[2]);
	return print_help();
}
