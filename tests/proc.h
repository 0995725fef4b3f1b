/* SPDX-License-Identifier: MIT */
/* What the host process holds: open fds and live children, read from /proc. */
#ifndef AIRLOCK_TEST_PROC_H
#define AIRLOCK_TEST_PROC_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

/* Children of every thread of this process; pids[] receives up to max of them. */
static inline int proc_children(pid_t *pids, int max)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		FILE *f = fopen(path, "r");
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

#endif
