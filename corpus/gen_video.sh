#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Writes the video fixtures under corpus/video/ and their manifest corpus/video.tsv.
#
# Every file is made here by Debian 12's ffmpeg 5.1 from lavfi sources (testsrc2, whose frame
# counter and moving pattern make every frame and its orientation tell-tale, and mandelbrot),
# with -threads 1 for ffmpeg and every encoder, -fflags +bitexact -flags:v +bitexact
# -map_metadata -1 for the muxers, and no random source, so that two runs give the same bytes.
# Adapted from the research fixtures of 2026-12-03 (/work/r18/fx/make.sh and make2.sh, a
# scratch directory of that session, not in the repository): smaller pictures, shorter clips,
# fixed quality settings, and the cases the video plan (docs/video-plan.md, section 7) lists.
#
# The manifest's facts come from ffprobe (tests/python/scripts/videoref.py, `row`), never from
# airlock; the same module gives the tests their expected RGB frames with the ffmpeg CLI.
#
#   corpus/gen_video.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/video
manifest=$here/video.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
export SVT_LOG=1 # libsvtav1: errors only (it prints its banner to stderr otherwise)

rm -rf "$out"
mkdir -p "$out"

ff() { nice -n 10 ffmpeg -nostdin -hide_banner -v error -y -threads 1 "$@"; }
BX="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
X264="-c:v libx264 -preset medium -crf 30 -x264-params threads=1"
X265="-c:v libx265 -preset medium -crf 32 -x265-params pools=none:frame-threads=1:log-level=error"
src() { # src SIZE RATE SECONDS: the testsrc2 pattern
	echo "testsrc2=size=$1:rate=$2:duration=$3"
}
S=160x120
V2=$(src $S 25 2)

# H.264 (libx264, High, B-frames: MP4 stores composition offsets and the 2-frame delay as an edit
# list, as ffmpeg's muxer does by default), yuv420p, 25 fps, 2 s; the same stream in Matroska.
ff -f lavfi -i "$V2" $BX $X264 -pix_fmt yuv420p "$out/h264.mp4"
ff -i "$out/h264.mp4" $BX -c copy "$out/h264.mkv"
# H.264 + AAC in MP4: a video request takes the video track.
ff -f lavfi -i "$(src $S 25 1)" -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=1" $BX $X264 \
	-pix_fmt yuv420p -c:a aac -b:a 48k -shortest "$out/h264_aac.mp4"
# NTSC rate: 30000/1001 fps, MP4 time base 1/30000, so the pts are not whole microseconds.
ff -f lavfi -i "$(src $S 30000/1001 1)" $BX $X264 -pix_fmt yuv420p "$out/h264_ntsc.mp4"
# Variable frame rate: the select filter keeps frames 0-2 of every 10 and frame 17, and -fps_mode vfr
# keeps their timestamps (16 frames, the last at 1.68 s), in MP4 and in Matroska (millisecond pts).
VFR="select='lt(mod(n\,10)\,3)+eq(n\,17)'"
ff -f lavfi -i "$V2" -vf "$VFR" -fps_mode vfr $BX $X264 -pix_fmt yuv420p "$out/h264_vfr.mp4"
ff -f lavfi -i "$V2" -vf "$VFR" -fps_mode vfr $BX $X264 -pix_fmt yuv420p "$out/h264_vfr.mkv"
# Chroma formats and depth: High 4:4:4 Predictive, High 4:2:2, High 10.
ff -f lavfi -i "$(src $S 25 1)" $BX $X264 -pix_fmt yuv444p "$out/h264_444.mp4"
ff -f lavfi -i "$(src $S 25 1)" $BX $X264 -pix_fmt yuv422p "$out/h264_422.mp4"
ff -f lavfi -i "$(src $S 25 1)" $BX $X264 -pix_fmt yuv420p10le "$out/h264_10bit.mp4"
# Colour: BT.709 matrix (limited range), converted and tagged so; full range (BT.601), tagged so.
ff -f lavfi -i "$(src $S 25 1)" -vf "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p" $BX $X264 \
	-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv "$out/h264_bt709.mp4"
ff -f lavfi -i "$(src $S 25 1)" -vf "scale=out_color_matrix=bt601:out_range=pc,format=yuv420p" $BX $X264 \
	-colorspace smpte170m -color_range pc "$out/h264_fullrange.mp4"
# Display matrices: h264.mp4's stream copied with ffmpeg 5.1's `rotate` tag, which its MP4 muxer
# turns into a tkhd matrix. The file name gives the matrix's angle as ffprobe reports it
# (av_display_rotation_get: counter-clockwise degrees), taken modulo 360: rot90 is the tag 90
# (matrix 0,-1,1,0; ffprobe 90), rot180 the tag 180 (ffprobe -180), rot270 the tag 270 (matrix
# 0,1,-1,0, the one a phone held upright writes; ffprobe -90). ffmpeg displays each turned
# counter-clockwise by that angle.
for r in 90 180 270; do
	ff -i "$out/h264.mp4" $BX -c copy -metadata:s:v:0 rotate=$r "$out/h264_rot$r.mp4"
done
# Edit lists. -ss on a stream copy: the copy starts at the keyframe before 0.5 s (frame 0) and the
# edit list skips the first 0.5 s, so 13 packets are read and discarded (50 packets, 37 frames).
ff -ss 0.5 -i "$out/h264.mp4" $BX -c copy "$out/h264_elst_skip.mp4"
# -itsoffset on a stream copy: an empty edit first, so the first frame is at 0.3 s.
ff -itsoffset 0.3 -i "$out/h264.mp4" $BX -c copy "$out/h264_elst_delay.mp4"
# A single frame.
ff -f lavfi -i "$(src $S 25 1)" -frames:v 1 $BX $X264 -pix_fmt yuv420p "$out/h264_1frame.mp4"

# HEVC (libx265): 8-bit tagged hvc1 in MP4 (the tag Apple players want), Main 10 in Matroska.
ff -f lavfi -i "$V2" $BX $X265 -pix_fmt yuv420p -tag:v hvc1 "$out/hevc.mp4"
ff -f lavfi -i "$(src $S 25 1)" $BX $X265 -pix_fmt yuv420p10le "$out/hevc_10bit.mkv"

# VP8 and VP9 (libvpx) in WebM. VP8 on the mandelbrot source, one pass; then two passes with
# alt-ref frames, which libvpx makes only in two-pass mode here: VP8's are invisible frames in blocks
# of their own (more packets than frames), VP9's hidden frames inside superframes (one packet each).
M2="mandelbrot=size=$S:rate=25"
ff -f lavfi -i "$M2" -t 2 $BX -c:v libvpx -b:v 200k -pix_fmt yuv420p "$out/vp8.webm"
twopass() { # twopass SOURCE OUTPUT OPTIONS...: a libvpx two-pass encode of 2 s of a lavfi source
	local i=$1 o=$2
	shift 2
	ff -f lavfi -i "$i" -t 2 $BX "$@" -pass 1 -passlogfile "$tmp/pass" -f null -
	ff -f lavfi -i "$i" -t 2 $BX "$@" -pass 2 -passlogfile "$tmp/pass" "$o"
}
twopass "$M2" "$out/vp8_altref.webm" -c:v libvpx -b:v 200k -auto-alt-ref 1 -lag-in-frames 16 -pix_fmt yuv420p
twopass "$V2" "$out/vp9.webm" -c:v libvpx-vp9 -b:v 200k -row-mt 0 -auto-alt-ref 1 -lag-in-frames 25 \
	-pix_fmt yuv420p
ff -f lavfi -i "$(src $S 25 1)" $BX -c:v libvpx-vp9 -b:v 200k -row-mt 0 -pix_fmt yuv420p10le \
	"$out/vp9_10bit.webm"
# Odd size (chroma planes 81x61) at 30000/1001 fps: WebM's millisecond pts. testsrc2 rounds its size
# down to the chroma grid of the format it negotiates, so it is asked for rgb24 and converted after.
ff -f lavfi -i "$(src 161x121 30000/1001 1),format=rgb24" $BX -c:v libvpx-vp9 -b:v 200k -row-mt 0 -pix_fmt yuv420p \
	"$out/vp9_161x121.webm"

# AV1: libaom in MP4, SVT-AV1 in Matroska (airlock decodes AV1 with libdav1d).
ff -f lavfi -i "$V2" $BX -c:v libaom-av1 -cpu-used 8 -crf 40 -row-mt 0 -pix_fmt yuv420p "$out/av1_aom.mp4"
ff -f lavfi -i "$V2" $BX -c:v libsvtav1 -preset 10 -crf 45 -svtav1-params lp=1 -pix_fmt yuv420p "$out/av1_svt.mkv"

# Codecs airlock does not decode: MPEG-4 Part 2 in MP4, Motion JPEG in Matroska.
ff -f lavfi -i "$(src $S 25 1)" $BX -c:v mpeg4 -q:v 8 "$out/mpeg4.mp4"
ff -f lavfi -i "$(src $S 25 1)" $BX -c:v mjpeg -q:v 8 -pix_fmt yuvj420p "$out/mjpeg.mkv"

# The manifest.
{
	echo "# SPDX-License-Identifier: MIT"
	echo "# Video fixtures, written by corpus/gen_video.sh (Debian 12's ffmpeg 5.1). Every fact is ffprobe's, for the"
	echo "# first video stream (tests/python/scripts/videoref.py, probe(), which the script calls):"
	echo "#   container: ffprobe's format_name as airlock's type (mov,mp4,... -> mp4; matroska,webm -> matroska)."
	echo "#   codec, pix_fmt, width, height: -show_streams codec_name, pix_fmt, width, height (the decoded frame,"
	echo "#     before any rotation; not coded_width/coded_height, which H.264 rounds up to whole macroblocks)."
	echo "#   color_range, color_space, chroma_location: -show_streams, as ffprobe names them (unknown: not tagged)."
	echo "#   rotation: the display matrix's angle from -show_streams side data (av_display_rotation_get:"
	echo "#     counter-clockwise degrees, ffprobe prints -180 for 180 and -90 for 270), 0 without a matrix;"
	echo "#     ffmpeg's autorotate shows the frame turned counter-clockwise by that angle (np.rot90(frame, rotation/90))."
	echo "#   frames: nb_read_frames of -count_frames (frames the decoder output); packets: nb_read_packets of"
	echo "#     -count_packets (packets the demuxer returned, edit-list-discarded ones included)."
	echo "#   avg_frame_rate, r_frame_rate, time_base: -show_streams, as fractions."
	echo "#   start_us: the first decoded frame's best_effort_timestamp (-show_frames) in microseconds."
	echo "#   last_pts_us: the last decoded frame's best_effort_timestamp minus the first's, in microseconds."
	echo "#     Both: ticks x time_base x 10^6 rounded to nearest, ties away from zero (av_rescale_q)."
	echo "#   outcome_video: what airlock must answer with track video: ok, or the error name."
	echo "#"
	printf "# file\tcontainer\tcodec\tpix_fmt\tcolor_range\tcolor_space\tchroma_location\twidth\theight\t"
	printf "rotation\tframes\tpackets\tavg_frame_rate\tr_frame_rate\ttime_base\tstart_us\tlast_pts_us\t"
	printf "outcome_video\tdescription\n"
} >"$manifest"

row() { # row FILE OUTCOME DESCRIPTION
	printf "corpus/video/%s\t%s\t%s\t%s\n" "$1" "$(python3 "$root/tests/python/scripts/videoref.py" row "$out/$1")" \
		"$2" "$3" >>"$manifest"
}

row h264.mp4 ok "H.264 High yuv420p 160x120, 25 fps, 2 s, B-frames (composition offsets, a 2-frame edit list)"
row h264.mkv ok "h264.mp4's stream copied into Matroska"
row h264_aac.mp4 ok "H.264 + AAC 44.1 kHz stereo, 1 s"
row h264_ntsc.mp4 ok "H.264 at 30000/1001 fps, 1 s"
row h264_vfr.mp4 ok "H.264, variable rate: frames 0-2 of every 10 and frame 17 of a 25 fps source"
row h264_vfr.mkv ok "the same variable-rate selection in Matroska"
row h264_444.mp4 ok "H.264 High 4:4:4 Predictive, yuv444p, 1 s"
row h264_422.mp4 ok "H.264 High 4:2:2, yuv422p, 1 s"
row h264_10bit.mp4 ok "H.264 High 10, yuv420p10le, 1 s"
row h264_bt709.mp4 ok "H.264 tagged BT.709 (matrix, primaries, transfer), limited range, converted with that matrix"
row h264_fullrange.mp4 ok "H.264 tagged full range, BT.601 (smpte170m) matrix"
row h264_rot90.mp4 ok "h264.mp4 with a display matrix of 90 degrees (ffmpeg 5.1's rotate tag 90)"
row h264_rot180.mp4 ok "h264.mp4 with a display matrix of 180 degrees"
row h264_rot270.mp4 ok "h264.mp4 with a display matrix of 270 degrees (a phone's portrait matrix)"
row h264_elst_skip.mp4 ok "h264.mp4 copied from 0.5 s (-ss): an edit list skips 13 leading packets"
row h264_elst_delay.mp4 ok "h264.mp4 copied with -itsoffset 0.3: an empty edit first"
row h264_1frame.mp4 ok "H.264, a single frame"
row hevc.mp4 ok "HEVC Main yuv420p 160x120, 25 fps, 2 s, tagged hvc1"
row hevc_10bit.mkv ok "HEVC Main 10 yuv420p10le in Matroska, 1 s"
row vp8.webm ok "VP8 (mandelbrot), one pass, 25 fps, 2 s"
row vp8_altref.webm ok "VP8 (mandelbrot), two passes: invisible alt-ref frames in blocks of their own"
row vp9.webm ok "VP9 profile 0, two passes: hidden alt-ref frames in superframes, 25 fps, 2 s"
row vp9_10bit.webm ok "VP9 profile 2, yuv420p10le, 1 s"
row vp9_161x121.webm ok "VP9, odd size 161x121, 30000/1001 fps, 1 s (millisecond pts)"
row av1_aom.mp4 ok "AV1 (libaom) in MP4, 25 fps, 2 s"
row av1_svt.mkv ok "AV1 (SVT-AV1) in Matroska, 25 fps, 2 s"
row mpeg4.mp4 unsupported "MPEG-4 Part 2 in MP4: a codec airlock does not decode"
row mjpeg.mkv unsupported "Motion JPEG in Matroska: a codec airlock does not decode"

echo "$(ls "$out" | wc -l) files, $(cat "$out"/* | wc -c) bytes in $out; $(grep -vc '^#' "$manifest") rows"
