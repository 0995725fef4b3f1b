/* SPDX-License-Identifier: MIT */
/*
 * A work bound for Vorbis setup headers, checked before libvorbis sees them.
 *
 * A Vorbis setup header (packet type 5) describes up to 256 codebooks of up
 * to 2^24 entries each, and libvorbis 1.3.7 allocates and sorts every one of
 * them (vorbis_synthesis_headerin, then vorbis_synthesis_init) before the
 * first audio packet. A few hundred header bytes can therefore ask for
 * gigabytes and seconds. vorbis_setup_check() walks the header exactly as
 * libvorbis unpacks it (same fields, same widths, same order, same checks)
 * without allocating anything the header asks for, and adds up what
 * libvorbis would allocate and loop over: an upper bound, in "cost units"
 * (one unit per byte allocated or per inner-loop step).
 */
#ifndef AIRLOCK_VORBIS_SETUP_H
#define AIRLOCK_VORBIS_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "airlock.h"

/*
 * The default budget, in cost units: 2^25 (33,554,432). The costliest setup
 * header among 112 real encoder outputs (oggenc 1.4.2 / libvorbisenc 1.3.7;
 * qualities -1, 0, 5, 10; 1, 2, 6, 8 channels; 8 to 96 kHz) costs 2,720,734
 * units (q 10, 5.1, 44.1 or 48 kHz), the cheapest 335,970 (q -1, 8 kHz
 * stereo); the project's own Vorbis fixtures cost 527,019 to 543,413. The
 * budget is 12.3 times the costliest, and 1/64 of the worker's default 2 GiB
 * address-space cap, so a header within it cannot by itself exhaust the
 * worker. A header just over it (corpus/hostile/vorbis_setup_over_budget.ogg)
 * costs libvorbis 7.8 MB and 0.17 s of CPU in vorbis_synthesis_init; the
 * costliest real one 0.9 MB and 13 ms. tests/test_vorbis_setup.c holds the
 * measured costs.
 */
#define VORBIS_SETUP_BUDGET (UINT64_C(1) << 25)

/*
 * Ogg framing (RFC 3533): finds packet number `index` (0 = identification,
 * 1 = comment, 2 = setup) of the first logical stream of buf and copies its
 * first min(max, full length) bytes to dst. dst may be NULL when max is 0
 * (to learn the length first). buf, dst and full_len are borrowed.
 *
 * Pages are taken as libogg takes them, and more strictly: bytes before a
 * capture pattern are skipped, pages of other streams are ignored, but a page
 * whose CRC, version, sequence number or continuation flag is wrong before
 * the packet is complete ends the search, where libogg would drop the page
 * and go on (no real file has that, and dropping it would let the header we
 * check differ from the one libvorbis reads).
 *
 * Returns the number of bytes copied, and sets *full_len to the packet's
 * whole length; both are 0 when the packet is not complete in buf.
 */
size_t ogg_packet_copy(const uint8_t *buf, size_t len, unsigned index, uint8_t *dst, size_t max, size_t *full_len);

/*
 * Walks the setup packet pkt (n bytes, starting with "\x05vorbis") as
 * libvorbis 1.3.7's _vorbis_unpack_books does, for a stream of `channels`
 * channels (from the identification header, 1 to 255), and computes *cost:
 * an upper bound of the bytes libvorbis allocates plus the inner-loop steps
 * it runs for this header in vorbis_synthesis_headerin and
 * vorbis_synthesis_init (codebooks, their decode tables, value lists,
 * residue decode maps, floor, mapping and mode records). Not counted: what
 * the identification header alone sizes (PCM buffers, MDCT and window
 * tables: at most 255 channels x 8192 floats, about 9 MB). The walk itself
 * takes time linear in n and allocates nothing.
 *
 * pkt and cost are borrowed. *cost is written on AIRLOCK_OK and
 * AIRLOCK_E_TOO_COMPLEX only (saturating at UINT64_MAX).
 *
 * Returns:
 *   AIRLOCK_OK             libvorbis would accept the header, at most
 *                          budget units
 *   AIRLOCK_E_TOO_COMPLEX  well formed, but more than budget units
 *   AIRLOCK_E_MALFORMED    libvorbis would refuse it (headerin or
 *                          synthesis_init: truncated, an index out of
 *                          range, a codeword tree that is over- or
 *                          under-full), or it would hang libvorbis (a
 *                          lookup type 1 book of dimension 0), or channels
 *                          is 0 or over 255
 *   AIRLOCK_E_INVALID_ARG  pkt or cost NULL
 */
int vorbis_setup_check(const uint8_t *pkt, size_t n, uint32_t channels, uint64_t budget, uint64_t *cost);

#endif
