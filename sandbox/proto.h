/* SPDX-License-Identifier: MIT */
/*
 * Everything that crosses a process boundary: the frame a worker sends to the
 * host (untrusted, validated field by field), and the trusted control
 * messages between the host and its zygote. See docs/protocol.md.
 */
#ifndef AIRLOCK_PROTO_H
#define AIRLOCK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* ---- Frame: worker -> host over a pipe. Little-endian, 64 bytes. ---- */

#define FRAME_MAGIC	  0x4652414cu /* "LARF" read little-endian: bytes 'L' 'A' 'R' 'F' */
#define FRAME_VERSION	  2
#define FRAME_HEADER_SIZE 64

struct frame_header {
	uint32_t magic;
	uint16_t version;
	uint16_t status; /* AIRLOCK_OK or the worker's airlock_error */
	uint16_t kind;	 /* enum frame_kind; 0 when status != 0 */
	uint16_t format; /* enum frame_format; 0 when status != 0 */
	uint32_t type;	 /* detected airlock_type, also on errors */
	uint32_t width;
	uint32_t height;
	uint32_t channels;
	uint32_t rate;
	uint64_t frames;
	uint32_t changes;
	uint32_t limit; /* airlock_key that tripped, on errors */
	uint64_t payload_len;
	uint32_t mime;	   /* AIRLOCK_E_UNSUPPORTED only: a mime_index(), below mime_count(); else 0 */
	uint32_t reserved; /* must be 0 */
};

void frame_header_pack(const struct frame_header *h, uint8_t out[FRAME_HEADER_SIZE]);
void frame_header_unpack(const uint8_t in[FRAME_HEADER_SIZE], struct frame_header *h);

/* The header for a decoded frame, or for an error status with what was learned. */
void frame_header_from(const struct frame *f, int status, struct frame_header *h);

/*
 * The trust boundary. Checks every field of h against the request's limits
 * with overflow-safe arithmetic. Returns AIRLOCK_OK for a success frame, with
 * *payload_len the exact byte count that must follow; the worker's own error
 * code for a well-formed error frame; AIRLOCK_E_PROTOCOL for anything else.
 */
int frame_validate(const struct frame_header *h, const struct limits *lim, uint64_t *payload_len);

/*
 * The payload's values, once all of it is in: float samples must be finite
 * (a NaN would poison whatever model reads them); a video's trailer must be
 * exactly what the request's sampling, size limits and the frame's own
 * numbers give (decoders/video.h). AIRLOCK_OK, AIRLOCK_E_PROTOCOL, or
 * AIRLOCK_E_NOMEM when the host cannot allocate the check's index buffer.
 * h has passed frame_validate() with the same lim.
 */
int frame_validate_payload(const struct frame_header *h, const struct limits *lim, const uint8_t *payload, size_t len);

/* ---- Control: host <-> zygote (both trusted). Native layout. ---- */

#define CTL_MAGIC     0x414c4b5au
#define CTL_VERSION   8
#define ZYGOTE_CTL_FD 3

/* zygote -> host on the control socket, once, at start, with a pidfd of the zygote. */
struct ctl_hello {
	uint32_t magic;
	uint32_t version;
	int32_t status;	 /* AIRLOCK_OK or AIRLOCK_E_SANDBOX_UNAVAILABLE */
	int32_t step;	 /* enum sandbox_step that failed, 0 when none */
	int32_t err;	 /* errno of that step */
	uint32_t layers; /* airlock_layer bits the zygote's workers run under */
};

/* host -> zygote on the control socket, with four fds: input memfd, frame pipe, status socket, payload memfd. */
struct ctl_request {
	uint32_t magic;
	uint32_t version;
	uint64_t input_len;
	struct limits lim;
};

/* STARTED then ENDED; or REFUSED alone when no worker could be forked (wstatus: errno). */
enum { STATUS_STARTED = 1, STATUS_ENDED = 2, STATUS_REFUSED = 3 };

/* zygote -> host on a request's status socket: STARTED, then ENDED with the wait status. */
struct ctl_status {
	uint32_t magic;
	uint32_t kind;
	int32_t pid;
	int32_t wstatus;
};

/* host -> zygote on a status socket: kill this worker now. Closing the socket does the same. */
#define STATUS_KILL 'K'

#endif
