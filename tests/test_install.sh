#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TAP. What a packager gets: `meson install --destdir` into a temporary
# folder, the installed prefix then MOVED elsewhere (as a wheel, a conda
# package or an unpacked tarball is), and the installed CLI and library used
# from there without AIRLOCK_ZYGOTE: the library finds the helper from its own
# location. Also the message and exit status when the helper cannot be
# started, a program built against the installed header (airlock_open_detail,
# the report's size member, the event's), and -Dtests=false configuring
# without python3.
#
# Usage: test_install.sh MESON BUILD_ROOT SOURCE_ROOT PREFIX BINDIR LIBDIR
#        LIBEXECDIR INCLUDEDIR DATADIR MANDIR B_SANITIZE CC...
set -u
meson=$1 build=$2 src=$3 prefix=$4 bindir=$5 libdir=$6 libexecdir=$7 includedir=$8 datadir=$9
mandir=${10} sanitize=${11}
shift 11
cc=("$@")

n=0 bad=0
ok() { # ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"
		bad=$((bad + 1))
		return 1
	fi
}
diag() { sed 's/^/# /'; }

# Outside the build tree: a library loaded from inside it takes the helper built there.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/airlock-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

for d in "$bindir" "$libdir" "$libexecdir" "$includedir" "$datadir" "$mandir"; do
	case $d in /*)
		echo "1..0 # SKIP $d is outside the prefix: nothing to relocate"
		exit 77
		;;
	esac
done

"$meson" install -C "$build" --no-rebuild --destdir "$tmp/stage" >"$tmp/install.log" 2>&1
ok $? "meson install --destdir" || diag <"$tmp/install.log"

mv "$tmp/stage$prefix" "$tmp/moved" && rm -rf "$tmp/stage"
ok $? "the installed prefix moved to another folder"
root=$tmp/moved
export LD_LIBRARY_PATH=$root/$libdir # the installed CLI has no rpath

missing=
for f in "$bindir/airlock" "$libdir/libairlock.so.1" "$libexecdir/airlock-zygote" "$includedir/airlock.h" \
	"$libdir/pkgconfig/airlock.pc" "$mandir/man1/airlock.1" "$datadir/doc/airlock/api.md" \
	"$datadir/doc/airlock/LICENSE" "$datadir/doc/airlock/CHANGELOG.md"; do
	[ -e "$root/$f" ] || missing="$missing $f"
done
ok "$([ -z "$missing" ] && echo 0 || echo 1)" "installed: CLI, libairlock.so.1, helper, header, airlock.pc, man page, docs, LICENSE, CHANGELOG.md${missing:+ (missing:$missing)}"

# Where a library that did not look beside itself would go instead.
fixed=$prefix/$libexecdir/airlock-zygote
[ -e "$fixed" ] && echo "# $fixed exists on this machine: the C checks below tell the two apart"

out=$tmp/out.png
env -u AIRLOCK_ZYGOTE "$root/$bindir/airlock" "$src/corpus/images/rgb8.png" -o "$out" 2>"$tmp/err"
rc=$?
sig=$(head -c 8 "$out" 2>/dev/null | od -An -tx1 | tr -d ' \n')
ok "$([ $rc -eq 0 ] && [ "$sig" = 89504e470d0a1a0a ] && echo 0 || echo 1)" \
	"moved prefix, no AIRLOCK_ZYGOTE: rgb8.png sanitized to a PNG (exit $rc)"
diag <"$tmp/err"

AIRLOCK_ZYGOTE=/nonexistent "$root/$bindir/airlock" "$src/corpus/images/rgb8.png" -o "$out" 2>"$tmp/err"
rc=$?
grep -qF 'airlock: cannot start helper "/nonexistent": No such file or directory (AIRLOCK_ZYGOTE names it' "$tmp/err"
ok "$([ $? -eq 0 ] && [ $rc -eq 70 ] && echo 0 || echo 1)" \
	"AIRLOCK_ZYGOTE=/nonexistent: exit 70 and the path and the reason on stderr (exit $rc)"
diag <"$tmp/err"

AIRLOCK_ZYGOTE=/nonexistent "$root/$bindir/airlock" --log "$tmp/log" "$src/corpus/images/rgb8.png" -o "$out" 2>/dev/null
grep -qF '"error":"helper",' "$tmp/log" && grep -qF '"helper":"/nonexistent","reason":"No such file or directory"}' "$tmp/log"
ok $? "--log: the helper tried and the reason in the event line"
diag <"$tmp/log"

# Without the moved helper the library falls back to the configured libexecdir, and says so.
mv "$root/$libexecdir/airlock-zygote" "$tmp/zygote.away"
if [ -e "$fixed" ]; then
	ok 0 "# SKIP the helper missing from the moved prefix: $fixed exists"
else
	env -u AIRLOCK_ZYGOTE "$root/$bindir/airlock" "$src/corpus/images/rgb8.png" -o "$out" 2>"$tmp/err"
	rc=$?
	grep -qF "airlock: cannot start helper \"$fixed\": No such file or directory (set AIRLOCK_ZYGOTE, or install airlock-zygote in $prefix/$libexecdir)" "$tmp/err"
	ok "$([ $? -eq 0 ] && [ $rc -eq 70 ] && echo 0 || echo 1)" \
		"no helper beside the moved library: exit 70, the configured path and how to fix it (exit $rc)"
	diag <"$tmp/err"
fi
mv "$tmp/zygote.away" "$root/$libexecdir/airlock-zygote"

# A program built against the installed header and library alone.
cat >"$tmp/consumer.c" <<'EOF'
/* SPDX-License-Identifier: MIT */
#include <airlock.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n, bad;
static void ok(int cond, const char *what)
{
	printf("%sok %d - consumer: %s\n", cond ? "" : "not ", ++n, what);
	bad += !cond;
}

static int events, event_size_ok;
static void on_event(void *user, const airlock_event *ev)
{
	(void)user;
	events++;
	event_size_ok = ev->size == sizeof(airlock_event);
}

int main(int argc, char **argv)
{
	const char *want_dir = argv[1], *png_path = argv[2], *not_exec = argv[3];
	char path[4096], expect[8200], real[4096];
	int why = -1;
	airlock_ctx *ctx = NULL;
	char v[64];

	snprintf(v, sizeof(v), "%d.%d.%d", AIRLOCK_VERSION_MAJOR, AIRLOCK_VERSION_MINOR, AIRLOCK_VERSION_PATCH);
	ok(strcmp(v, airlock_version_string()) == 0, "the header's version macros match the loaded library");

	unsetenv("AIRLOCK_ZYGOTE");
	int rc = airlock_open_detail(&ctx, path, sizeof(path), &why);
	snprintf(expect, sizeof(expect), "%s/airlock-zygote", want_dir);
	ok(rc == AIRLOCK_OK && why == 0 && realpath(path, real) && strcmp(real, expect) == 0,
	   "airlock_open_detail: the helper beside the moved library, found without AIRLOCK_ZYGOTE");
	printf("# rc %s, helper %s, errno %d\n", airlock_error_name(rc), path, why);

	FILE *f = fopen(png_path, "rb");
	static unsigned char buf[1 << 16];
	size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	airlock_result *r = NULL;
	airlock_report unset;
	memset(&unset, 0x5a, sizeof(unset));
	unset.size = 0;
	rc = airlock_sanitize_report(ctx, buf, len, AIRLOCK_TYPE_NONE, &r, &unset);
	ok(rc == AIRLOCK_E_INVALID_ARG && r == NULL && unset.type == (airlock_type)0x5a5a5a5a,
	   "a report whose size is not set: invalid_argument, nothing written");
	airlock_report rep = AIRLOCK_REPORT_INIT;
	rc = airlock_sanitize_report(ctx, buf, len, AIRLOCK_TYPE_NONE, &r, &rep);
	ok(rc == AIRLOCK_OK && rep.type == AIRLOCK_TYPE_PNG && rep.size == sizeof(rep) && rep.layers != 0,
	   "AIRLOCK_REPORT_INIT: filled in, size kept");
	airlock_result_free(r);
	r = NULL;
	/* A caller built against a later header: its newer member is left as it set it. */
	struct {
		airlock_report old;
		uint64_t newer;
	} later = { .old = { .size = sizeof(later) }, .newer = 0x1122334455667788u };
	rc = airlock_sanitize_report(ctx, buf, len, AIRLOCK_TYPE_NONE, &r, &later.old);
	ok(rc == AIRLOCK_OK && later.old.type == AIRLOCK_TYPE_PNG && later.newer == 0x1122334455667788u,
	   "a larger report from a later header: known members filled, the rest untouched");
	airlock_result_free(r);
	r = NULL;
	airlock_set_event_fn(ctx, on_event, NULL);
	rc = airlock_sanitize(ctx, "x", 1, AIRLOCK_TYPE_NONE, &r);
	ok(rc != AIRLOCK_OK && events == 1 && event_size_ok, "the event's size is sizeof(airlock_event)");
	airlock_close(ctx);

	ctx = NULL;
	setenv("AIRLOCK_ZYGOTE", "/nonexistent", 1);
	rc = airlock_open_detail(&ctx, path, sizeof(path), &why);
	ok(rc == AIRLOCK_E_HELPER && ctx == NULL && strcmp(path, "/nonexistent") == 0 && why == ENOENT,
	   "AIRLOCK_ZYGOTE=/nonexistent: helper, that path, ENOENT");
	setenv("AIRLOCK_ZYGOTE", not_exec, 1);
	rc = airlock_open_detail(&ctx, path, 8, &why);
	ok(rc == AIRLOCK_E_HELPER && strlen(path) == 7 && strncmp(path, not_exec, 7) == 0 && why == EACCES,
	   "a helper that is not executable: EACCES; the path cut to the buffer");
	setenv("AIRLOCK_ZYGOTE", "/bin/true", 1);
	rc = airlock_open_detail(&ctx, NULL, 0, &why);
	ok(rc == AIRLOCK_E_HELPER && why == EPIPE, "a program that exits without a hello: EPIPE");
	ok(airlock_open_detail(&ctx, NULL, 1, &why) == AIRLOCK_E_INVALID_ARG && airlock_open_detail(NULL, NULL, 0, NULL) == AIRLOCK_E_INVALID_ARG,
	   "airlock_open_detail: NULL out, or no buffer with a size, is invalid_argument");
	return bad != 0;
}
EOF
if [ "${#cc[@]}" -eq 0 ]; then
	echo "ok $((n += 1)) # SKIP no C compiler given"
else
	flags=()
	[ "$sanitize" != none ] && flags+=("-fsanitize=$sanitize")
	"${cc[@]}" -std=c11 -D_GNU_SOURCE "${flags[@]}" -I"$root/$includedir" "$tmp/consumer.c" \
		-L"$root/$libdir" -lairlock -o "$tmp/consumer" >"$tmp/cc.log" 2>&1
	ok $? "a program builds against the installed airlock.h and libairlock.so" || diag <"$tmp/cc.log"
	: >"$tmp/not-exec"
	# Its own TAP lines, renumbered into ours.
	while IFS= read -r line; do
		case $line in
		"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
		"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
		*) echo "$line" ;;
		esac
	done < <("$tmp/consumer" "$(realpath "$root/$libexecdir")" "$src/corpus/images/rgb8.png" "$tmp/not-exec" 2>&1)
fi

# -Dtests=false: configured without looking for python3, and no test registered.
"$meson" setup "$tmp/b2" "$src" -Dtests=false >"$tmp/setup.log" 2>&1
rc=$?
ok $rc "meson setup -Dtests=false" || diag <"$tmp/setup.log"
if [ $rc -eq 0 ]; then
	! grep -q 'Program python3' "$tmp/b2/meson-logs/meson-log.txt"
	ok $? "-Dtests=false: python3 is never looked up"
	tests=$("$meson" introspect --tests "$tmp/b2")
	ok "$([ "$tests" = "[]" ] && echo 0 || echo 1)" "-Dtests=false: no test registered (got ${tests:0:60})"
fi

echo "1..$n"
[ $bad -eq 0 ]
