// SPDX-License-Identifier: GPL-2.0
/*
 * pvmmctl: the operator's view of the pvmm modules on a host, from the
 * sysfs tree /sys/kernel/pvmm (Documentation/ABI/testing/sysfs-kernel-pvmm)
 * and nothing else.
 *
 *   pvmmctl [--json] list          every VM: id, VMM pid and user, vCPUs,
 *                                  calls, services, balloon target and size
 *   pvmmctl [--json] show VM       a VM's counters, its services' state and
 *                                  each vCPU's
 *   pvmmctl balloon VM TARGET      set a VM's balloon target; TARGET in
 *                                  4 KiB pages, or with a K, M or G suffix
 *   pvmmctl weight VM W            set a VM's placement weight
 *   pvmmctl top [-d SECONDS] [-n COUNT]
 *                                  per-VM and per-vCPU steal, boosts, calls
 *                                  and balloon, refreshed like top(1)
 *
 * VM is "vmN" or N. Reading a VM's files and writing needs root.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpvmm.h"

static bool json;

static void print_usage(void)
{
	fprintf(stderr,
		"usage: pvmmctl [--json] list\n"
		"       pvmmctl [--json] show VM\n"
		"       pvmmctl balloon VM TARGET   (pages, or K/M/G bytes)\n"
		"       pvmmctl weight VM WEIGHT\n"
		"       pvmmctl top [-d SECONDS] [-n COUNT]\n");
	exit(2);
}

/* The hub must be there: say so plainly when it is not. */
static void need_hub(void)
{
	if (access(PVMM_SYSFS, F_OK)) {
		fprintf(stderr, "pvmmctl: %s not found: %s\n", PVMM_SYSFS,
			"is the pvmm module loaded? (modprobe pvmm)");
		exit(1);
	}
}

/* "vmN" or "N" to N, checking that the VM exists. */
static int vm_arg(const char *s)
{
	char path[64], *end;
	long id;

	if (!strncmp(s, "vm", 2))
		s += 2;
	id = strtol(s, &end, 10);
	if (!*s || *end || id < 0 || id > 0x7fffffff) {
		fprintf(stderr, "pvmmctl: \"%s\" is not a VM (vmN or N)\n", s);
		exit(2);
	}
	snprintf(path, sizeof(path), PVMM_SYSFS "/vm%ld", id);
	if (access(path, F_OK)) {
		fprintf(stderr, "pvmmctl: no VM vm%ld (pvmmctl list shows them)\n",
			id);
		exit(1);
	}
	return id;
}

/* A file of the tree as text: "" when it is absent. */
static const char *get(char *buf, size_t len, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (vmm_sysfs_read_str(path, buf, len))
		buf[0] = 0;
	return buf;
}

static long long get_ll(const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return vmm_sysfs_read(path);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The ids of the entries "<prefix>N" of @dir, sorted; their count. */
static int list_ids(const char *dir, const char *prefix, int **ids)
{
	size_t plen = strlen(prefix);
	char path[256];
	struct dirent *d;
	int n = 0, cap = 16;
	DIR *dp;

	snprintf(path, sizeof(path), PVMM_SYSFS "%s%s", *dir ? "/" : "", dir);
	*ids = malloc(cap * sizeof(**ids));
	dp = opendir(path);
	if (!dp || !*ids) {
		if (dp)
			closedir(dp);
		return 0;
	}
	while ((d = readdir(dp))) {
		if (strncmp(d->d_name, prefix, plen) ||
		    !isdigit((unsigned char)d->d_name[plen]))
			continue;
		if (n == cap) {
			int *m = realloc(*ids, (cap *= 2) * sizeof(**ids));

			if (!m)
				break;
			*ids = m;
		}
		(*ids)[n++] = atoi(d->d_name + plen);
	}
	closedir(dp);
	qsort(*ids, n, sizeof(**ids), cmp_int);
	return n;
}

/* JSON strings here are sysfs words: escape the two that matter. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

/* A value as JSON: a number when it is one, else a string. */
static void json_val(const char *v)
{
	char *end;

	if (*v) {
		strtoll(v, &end, 10);
		if (!*end) {
			fputs(v, stdout);
			return;
		}
	}
	json_str(v);
}

static void list_vms(void)
{
	static const char *const cols[] = {
		"VM", "PID", "UID", "VCPUS", "CALLS", "BALLOON_TARGET",
		"BALLOONED", "SERVICES",
	};
	int *ids, n = list_ids("", "vm", &ids);
	char rows[n ? n : 1][8][128];
	int width[8];
	char buf[128];

	for (int c = 0; c < 8; c++)
		width[c] = strlen(cols[c]);
	for (int i = 0; i < n; i++) {
		int id = ids[i];

		snprintf(rows[i][0], 128, "vm%d", id);
		get(rows[i][1], 128, "vm%d/pid", id);
		get(rows[i][2], 128, "vm%d/uid", id);
		get(rows[i][3], 128, "vm%d/vcpus", id);
		get(rows[i][4], 128, "vm%d/calls", id);
		get(buf, sizeof(buf), "vm%d/balloon/target_pages", id);
		snprintf(rows[i][5], 128, "%s", *buf ? buf : "-");
		get(buf, sizeof(buf), "vm%d/balloon/ballooned_pages", id);
		snprintf(rows[i][6], 128, "%s", *buf ? buf : "-");
		get(rows[i][7], 128, "vm%d/services", id);
		if (!rows[i][7][0])
			strcpy(rows[i][7], "-");
		for (int c = 0; c < 8; c++)
			if ((int)strlen(rows[i][c]) > width[c])
				width[c] = strlen(rows[i][c]);
	}
	if (json) {
		static const char *const keys[] = {
			"vm", "pid", "uid", "vcpus", "calls", "balloon_target_pages",
			"ballooned_pages", "services",
		};

		printf("[");
		for (int i = 0; i < n; i++) {
			printf("%s{\"id\": %d", i ? ", " : "", ids[i]);
			for (int c = 1; c < 8; c++) {
				printf(", \"%s\": ", keys[c]);
				if (c == 7)
					json_str(rows[i][c][0] == '-' ? "" : rows[i][c]);
				else if (rows[i][c][0] == '-')
					printf("null");
				else
					json_val(rows[i][c]);
			}
			printf("}");
		}
		printf("]\n");
		free(ids);
		return;
	}
	/* the last column is free text: no padding after it */
	for (int c = 0; c < 7; c++)
		printf("%-*s  ", width[c], cols[c]);
	printf("%s\n", cols[7]);
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < 7; c++)
			printf("%-*s  ", width[c], rows[i][c]);
		printf("%s\n", rows[i][7]);
	}
	free(ids);
}

/* Every file of a directory of the tree, as "name value" or JSON members. */
static void show_dir(const char *rel, const char *indent, bool *first)
{
	char path[256];
	struct dirent **names;
	int n;

	snprintf(path, sizeof(path), PVMM_SYSFS "/%s", rel);
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char file[320], buf[256];

		snprintf(file, sizeof(file), "%s/%s", rel, name);
		if (name[0] != '.' && !vmm_sysfs_read_str(file, buf, sizeof(buf))) {
			if (json) {
				printf("%s\"%s\": ", *first ? "" : ", ", name);
				json_val(buf);
				*first = false;
			} else {
				printf("%s%-24s %s\n", indent, name, buf);
			}
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void show_group(int id, const char *sub, const char *title)
{
	char rel[96], path[160];
	bool first = true;

	snprintf(rel, sizeof(rel), "vm%d%s%s", id, *sub ? "/" : "", sub);
	snprintf(path, sizeof(path), PVMM_SYSFS "/%s", rel);
	if (access(path, F_OK))
		return;
	if (json) {
		printf(", \"%s\": {", title);
		show_dir(rel, "", &first);
		printf("}");
	} else {
		printf("%s:\n", title);
		show_dir(rel, "  ", &first);
	}
}

static int cmd_show(int id)
{
	static const char *const groups[] = { "balloon", "clock", "mmu", "sched" };
	char rel[64];
	bool first = true;
	int *vcpus, n;

	snprintf(rel, sizeof(rel), "vm%d", id);
	if (json) {
		printf("{\"id\": %d, \"vm\": {", id);
		show_dir(rel, "", &first);
		printf("}");
	} else {
		printf("vm%d:\n", id);
		show_dir(rel, "  ", &first);
	}
	for (unsigned int g = 0; g < ARRAY_SIZE(groups); g++)
		show_group(id, groups[g], groups[g]);
	snprintf(rel, sizeof(rel), "vm%d", id);
	n = list_ids(rel, "vcpu", &vcpus);
	if (json)
		printf(", \"vcpus\": [");
	for (int i = 0; i < n; i++) {
		char sub[64];

		if (json) {
			first = true;
			printf("%s{\"id\": %d, ", i ? ", " : "", vcpus[i]);
			snprintf(sub, sizeof(sub), "vm%d/vcpu%d", id, vcpus[i]);
			printf("\"hub\": {");
			show_dir(sub, "", &first);
			printf("}");
			snprintf(sub, sizeof(sub), "vcpu%d/sched", vcpus[i]);
			show_group(id, sub, "sched");
			printf("}");
		} else {
			snprintf(sub, sizeof(sub), "vm%d/vcpu%d", id, vcpus[i]);
			printf("vcpu%d:\n", vcpus[i]);
			show_dir(sub, "  ", &first);
			snprintf(sub, sizeof(sub), "vcpu%d/sched", vcpus[i]);
			show_group(id, sub, "  sched");
		}
	}
	if (json)
		printf("]}\n");
	free(vcpus);
	return 0;
}

static int write_or_say(const char *rel, long long v)
{
	int r = vmm_sysfs_write(rel, v);

	if (r) {
		fprintf(stderr, "pvmmctl: %s/%s: %s\n", PVMM_SYSFS, rel,
			r == -ENOENT ? "absent: the service is not enabled for this VM" :
			strerror(-r));
		return 1;
	}
	return 0;
}

static int cmd_balloon(int id, const char *arg)
{
	unsigned long long pages;
	char *end, rel[64];
	double v;

	v = strtod(arg, &end);
	if (end == arg || v < 0)
		print_usage();
	switch (toupper((unsigned char)*end)) {
	case 0:
		pages = v;
		break;
	case 'K':
		pages = v * 1024 / 4096;
		break;
	case 'M':
		pages = v * (1 << 20) / 4096;
		break;
	case 'G':
		pages = v * (1 << 30) / 4096;
		break;
	default:
		print_usage();
	}
	snprintf(rel, sizeof(rel), "vm%d/balloon/target_pages", id);
	if (write_or_say(rel, pages))
		return 1;
	printf("vm%d: balloon target %llu pages (%llu MiB)\n", id, pages,
	       pages * 4096 >> 20);
	return 0;
}

static int cmd_weight(int id, const char *arg)
{
	char *end, rel[64];
	long w = strtol(arg, &end, 10);

	if (end == arg || *end)
		print_usage();
	snprintf(rel, sizeof(rel), "vm%d/sched/weight", id);
	return write_or_say(rel, w);
}

/* One vCPU's or VM's counters at a refresh. */
struct top_row {
	int vm, vcpu;			/* vcpu -1: the VM's own row */
	long long calls, steal_ns, boosts;
	long long target, ballooned;
};

static int top_sample(struct top_row **rows)
{
	int *vms, nvm = list_ids("", "vm", &vms), n = 0, cap = 64;

	*rows = malloc(cap * sizeof(**rows));
	for (int i = 0; i < nvm && *rows; i++) {
		char rel[32];
		int *vcpus, nv;

		snprintf(rel, sizeof(rel), "vm%d", vms[i]);
		nv = list_ids(rel, "vcpu", &vcpus);
		for (int j = -1; j < nv; j++) {
			struct top_row *r;

			if (n == cap) {
				struct top_row *m = realloc(*rows,
							    (cap *= 2) * sizeof(*m));

				if (!m)
					break;
				*rows = m;
			}
			r = &(*rows)[n++];
			r->vm = vms[i];
			r->vcpu = j < 0 ? -1 : vcpus[j];
			if (j < 0) {
				r->calls = get_ll("vm%d/calls", r->vm);
				r->steal_ns = -1;
				r->boosts = -1;
				r->target = get_ll("vm%d/balloon/target_pages", r->vm);
				r->ballooned = get_ll("vm%d/balloon/ballooned_pages",
						      r->vm);
				continue;
			}
			r->calls = get_ll("vm%d/vcpu%d/calls", r->vm, r->vcpu);
			r->steal_ns = get_ll("vm%d/vcpu%d/sched/steal_ns", r->vm,
					     r->vcpu);
			r->boosts = get_ll("vm%d/vcpu%d/sched/boosts", r->vm,
					   r->vcpu);
			r->target = -1;
			r->ballooned = -1;
		}
		free(vcpus);
	}
	free(vms);
	return n;
}

static const struct top_row *top_find(const struct top_row *rows, int n,
				      const struct top_row *r)
{
	for (int i = 0; i < n; i++)
		if (rows[i].vm == r->vm && rows[i].vcpu == r->vcpu)
			return &rows[i];
	return NULL;
}

static void top_cell(long long now, long long before, double secs,
		     double scale)
{
	if (now < 0 || before < 0)
		printf(" %10s", "-");
	else
		printf(" %10.1f", (now - before) / secs / scale);
}

static int cmd_top(double delay, long count)
{
	struct top_row *prev = NULL, *cur;
	int nprev = 0, n;
	bool tty = isatty(STDOUT_FILENO);

	for (long k = 0; count < 0 || k <= count; k++) {
		n = top_sample(&cur);
		if (k) {
			if (tty)
				printf("\033[H\033[J");
			printf("pvmmctl top: every %.1f s, rates per second\n",
			       delay);
			printf("%-8s %-8s %10s %10s %10s %14s %14s\n", "VM", "VCPU",
			       "CALLS/s", "STEAL%", "BOOSTS/s", "BAL_TARGET",
			       "BALLOONED");
			for (int i = 0; i < n; i++) {
				const struct top_row *r = &cur[i];
				const struct top_row *p = top_find(prev, nprev, r);
				char vm[16], vcpu[16];

				snprintf(vm, sizeof(vm), "vm%d", r->vm);
				snprintf(vcpu, sizeof(vcpu), r->vcpu < 0 ? "-" : "%d",
					 r->vcpu);
				printf("%-8s %-8s", vm, vcpu);
				top_cell(r->calls, p ? p->calls : -1, delay, 1);
				/* steal ns per ns of wall time, in % */
				top_cell(r->steal_ns, p ? p->steal_ns : -1, delay,
					 1e7);
				top_cell(r->boosts, p ? p->boosts : -1, delay, 1);
				if (r->target >= 0)
					printf(" %14lld %14lld\n", r->target,
					       r->ballooned);
				else
					printf(" %14s %14s\n", "-", "-");
			}
			fflush(stdout);
		}
		free(prev);
		prev = cur;
		nprev = n;
		if (count < 0 || k < count)
			usleep(delay * 1e6);
	}
	free(prev);
	return 0;
}

int main(int argc, char **argv)
{
	int a = 1;

	if (a < argc && !strcmp(argv[a], "--json")) {
		json = true;
		a++;
	}
	if (a >= argc)
		print_usage();
	if (!strcmp(argv[a], "list") && argc == a + 1) {
		need_hub();
		list_vms();
		return 0;
	}
	if (!strcmp(argv[a], "show") && argc == a + 2) {
		need_hub();
		return cmd_show(vm_arg(argv[a + 1]));
	}
	if (!strcmp(argv[a], "balloon") && argc == a + 3 && !json) {
		need_hub();
		return cmd_balloon(vm_arg(argv[a + 1]), argv[a + 2]);
	}
	if (!strcmp(argv[a], "weight") && argc == a + 3 && !json) {
		need_hub();
		return cmd_weight(vm_arg(argv[a + 1]), argv[a + 2]);
	}
	if (!strcmp(argv[a], "top") && !json) {
		double delay = 1;
		long count = -1;
		int opt;

		optind = a + 1;
		while ((opt = getopt(argc, argv, "d:n:")) != -1) {
			if (opt == 'd')
				delay = atof(optarg);
			else if (opt == 'n')
				count = atol(optarg);
			else
				print_usage();
		}
		if (optind != argc || delay <= 0)
			print_usage();
		need_hub();
		return cmd_top(delay, count);
	}
	print_usage();
}
