/* SPDX-License-Identifier: MIT */
/* EINTR-safe exact I/O on pipes and sockets, and fd passing. */
#ifndef AIRLOCK_IO_H
#define AIRLOCK_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes to a pipe; loops on short writes and EINTR. 0 or -errno. */
int io_write_all(int fd, const void *buf, size_t n);

/* Reads exactly n bytes; EOF before that is -EPIPE. 0 or -errno. */
int io_read_all(int fd, void *buf, size_t n);

/* One datagram with up to nfds descriptors (SCM_RIGHTS). 0 or -errno. */
int io_send_fds(int sock, const void *buf, size_t n, const int *fds, size_t nfds);

/*
 * Receives one datagram of exactly n bytes with exactly nfds descriptors,
 * set O_CLOEXEC. Returns 0, -EPIPE on EOF, -EPROTO on any other shape (any
 * descriptors received are closed), or -errno.
 */
int io_recv_fds(int sock, void *buf, size_t n, int *fds, size_t nfds);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t io_now_ms(void);

#endif
