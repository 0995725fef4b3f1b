/* SPDX-License-Identifier: MIT */
/*
 * Namespaces: defence in depth under the seccomp filter. The zygote enters
 * them once, after it has loaded everything it needs from the filesystem
 * and before it forks its first worker, so every worker inherits them at no
 * cost per request. Each one is applied only where the kernel lets an
 * unprivileged process do it; what was applied is reported, never assumed.
 *
 * - user: a namespace of its own, the zygote's uid and gid mapped to 0
 *   inside, and then every capability dropped, bounding set included. A
 *   host running as root no longer has root's capabilities in its workers
 *   (and without a user namespace they are dropped all the same).
 * - network: no interfaces but a loopback that is down.
 * - IPC: no System V objects or POSIX message queues of the host.
 * - mount: the root is an empty read-only tmpfs, the old root detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	int rc = write(fd, text, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return rc;
}

/* The calling process's uid and gid, outside, become 0 inside; no supplementary groups. */
static int map_ids(uid_t uid, gid_t gid)
{
	char map[64];

	if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) != 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}

/*
 * Makes an empty read-only tmpfs the root: a fresh detached mount is put
 * over "/" and pivoted to, and the old root is detached. Needs no directory
 * to exist anywhere, and afterwards no path leads out.
 */
static int empty_root(void)
{
	int fs = -1, mnt = -1, rc = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		goto out;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) != 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) != 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		goto out;
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		goto out;
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) != 0 || fchdir(mnt) != 0 ||
	    syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
		goto out;
	rc = 0;
out:
	if (mnt >= 0)
		close(mnt);
	if (fs >= 0)
		close(fs);
	return rc;
}

/*
 * Empties the bounding set (while CAP_SETPCAP is still held), then the
 * effective, permitted and inheritable sets. The zygote and its workers
 * need no capability, in a namespace of their own or, for a host running
 * as root without one, in the host's.
 */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	int rc = 0;

	/* EINVAL past the kernel's last capability; anything else is a failure to drop one. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			rc = -1;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0)
		rc = -1;
	return rc;
}

uint32_t ns_enter(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	uint32_t layers = 0;

	/* Without a user namespace of its own, an unprivileged process can enter no other. */
	if (unshare(CLONE_NEWUSER) != 0) {
		drop_caps();
		return 0;
	}
	if (map_ids(uid, gid) != 0) {
		drop_caps();
		return 0;
	}
	if (unshare(CLONE_NEWNET) == 0)
		layers |= AIRLOCK_LAYER_NET_NS;
	if (unshare(CLONE_NEWIPC) == 0)
		layers |= AIRLOCK_LAYER_IPC_NS;
	if (unshare(CLONE_NEWNS) == 0 && empty_root() == 0)
		layers |= AIRLOCK_LAYER_MOUNT_NS;
	/* The user layer counts only once the namespace's capabilities are gone again. */
	if (drop_caps() == 0)
		layers |= AIRLOCK_LAYER_USER_NS;
	return layers;
}
