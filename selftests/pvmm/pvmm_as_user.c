// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_as_user UID PROGRAM [ARG...]: run a selftest as an unprivileged
 * user on a group-accessible /dev/pvmm, as an operator sets it up for an
 * unprivileged VMM (root:UID 0660). The device's owner and mode are put
 * back when the program ends. Exits with the program's status.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	struct stat st;
	int status;
	gid_t gid;
	uid_t uid;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: %s UID PROGRAM [ARG...]\n", argv[0]);
		return 2;
	}
	uid = strtoul(argv[1], NULL, 10);
	gid = uid;
	if (!uid || stat("/dev/pvmm", &st) || chown("/dev/pvmm", 0, gid) ||
	    chmod("/dev/pvmm", 0660)) {
		perror("pvmm_as_user: /dev/pvmm");
		return 2;
	}
	pid = fork();
	if (!pid) {
		if (setgroups(1, &gid) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid)) {
			perror("pvmm_as_user: dropping privileges");
			_exit(2);
		}
		execv(argv[2], argv + 2);
		perror("pvmm_as_user: exec");
		_exit(2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = 2 << 8;
	if (chown("/dev/pvmm", st.st_uid, st.st_gid) ||
	    chmod("/dev/pvmm", st.st_mode & 07777))
		perror("pvmm_as_user: restoring /dev/pvmm");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
