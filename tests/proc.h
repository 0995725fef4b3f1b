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

/*
 * /proc/PID/stat from the field after the command name (which may hold
 * spaces and parentheses): the state letter first. NULL once pid is gone.
 */
static inline const char *proc_stat_fields(pid_t pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

/* 'R', 'S', 'Z', ... of pid, or 0 once it is gone. */
static inline char proc_state(pid_t pid)
{
	char buf[1024];
	const char *p = proc_stat_fields(pid, buf, sizeof(buf));
	return p ? p[0] : 0;
}

/* CPU time of pid in clock ticks (utime + stime): 0 for a zombie, -1 once it is gone. */
static inline long proc_cpu_ticks(pid_t pid)
{
	char buf[1024], state = 0;
	unsigned long ut = 0, st = 0;
	const char *p = proc_stat_fields(pid, buf, sizeof(buf));
	if (!p || sscanf(p, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &ut, &st) != 3)
		return -1;
	return state == 'Z' ? 0 : (long)(ut + st);
}

#endif
