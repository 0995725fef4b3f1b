/* SPDX-License-Identifier: MIT */
/* What the host process holds: open fds and live children, read from /proc. */
#ifndef AIRLOCK_TEST_PROC_H
#define AIRLOCK_TEST_PROC_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline int proc_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* Children of every thread of pid; pids[] (may be NULL) receives up to max of them. */
static inline int proc_children_of(pid_t pid, pid_t *pids, int max)
{
	char path[300];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		long p;
		while (fscanf(f, "%ld", &p) == 1) {
			if (pids && n < max)
				pids[n] = (pid_t)p;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Children of every thread of this process. */
static inline int proc_children(pid_t *pids, int max)
{
	return proc_children_of(getpid(), pids, max);
}

#endif
