#!/usr/bin/env bash
# shellcheck disable=SC2015
#
# run.sh -- keyadm's benchmarks B1..B7, one command (docs/BENCHMARKS.md).
#
#	tests/bench/run.sh [--quick] [--only B1,B4,...] [--runs N]
#	    [--keyadm PATH] [--timeout SECONDS] [--keep]
#
# Builds keyadm (Release) in build-bench/, compiles keygen.c and measure.c
# there, generates the key data once into build-bench/data/ (reused by
# later runs), then runs each benchmark: keyadm and its comparison on the
# same data in the same run, several times each and alternating, and prints
# the medians, the ratio, the target and MET / NOT MET.  Ends with a
# summary table, also written to build-bench/bench-results.md.
#
# Figures, not a timed test: a target NOT MET does not fail the run.  What
# does (exit 1) is what makes a figure meaningless: keyadm failing or
# refusing a key, a fingerprint of keyadm's that differs from ssh-keygen's,
# a tree that does not hold the keys that were installed.
#
# Run as root (homes are owned by their accounts, as on a real system);
# as another user every account gets the runner's uid, as tests/cli does.

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${BENCH_BUILD:-$SRC/build-bench}
BIN=$BUILD/bench
DATA=$BUILD/data
WORK=$BUILD/work
RESULTS=$WORK/results.tsv
REPORT=$BUILD/bench-results.md

QUICK=0
ONLY=
RUNS=
KEYADM=
TIMEOUT=
KEEP=0
FAILED=0
UID_BASE=20000
WARN="-Wall -Wextra -Wshadow -Wcast-qual -Wwrite-strings
    -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wconversion
    -Wno-sign-conversion"

usage() {
	echo "usage: tests/bench/run.sh [--quick] [--only B1,B2,...] [--runs N]" \
	    "[--keyadm PATH] [--timeout SECONDS] [--keep]" >&2
	exit 64
}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 70; }
say() { printf '%s\n' "$*"; }

# Options into the globals above.
parse_args() {
	local id
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) QUICK=1 ;;
		--only) [ $# -ge 2 ] || usage; ONLY=$2; shift ;;
		--runs) [ $# -ge 2 ] || usage; RUNS=$2; shift ;;
		--keyadm) [ $# -ge 2 ] || usage; KEYADM=$2; shift ;;
		--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift ;;
		--keep) KEEP=1 ;;
		-h|--help) usage ;;
		*) usage ;;
		esac
		shift
	done
	case ${RUNS:-1} in ''|*[!0-9]*|0) usage ;; esac
	case ${TIMEOUT:-1} in ''|*[!0-9]*|0) usage ;; esac
	case $KEYADM in ''|/*) ;; *) KEYADM=$(pwd)/$KEYADM ;; esac
	for id in $(printf '%s' "$ONLY" | tr ',' ' '); do
		case $id in
		B[1-7]) ;;
		*) echo "bench: --only: no benchmark $id" >&2; usage ;;
		esac
	done
}

# Sizes: the issue's, or small ones for --quick.  R_* are runs per side.
set_sizes() {
	if [ "$QUICK" = 1 ]; then
		N1=10000 U3=100 N4=1000 N6U=100 N5=20000 U5=20 S5=1000
		R1=${RUNS:-3} R3=${RUNS:-2} R4=${RUNS:-5} R6=${RUNS:-3} R5S=2 R5L=11
		TIMEOUT=${TIMEOUT:-600}
	else
		N1=100000 U3=1000 N4=10000 N6U=1000 N5=1000000 U5=1000 S5=1000
		R1=${RUNS:-5} R3=${RUNS:-3} R4=${RUNS:-7} R6=${RUNS:-5} R5S=3 R5L=21
		TIMEOUT=${TIMEOUT:-3600}
	fi
	N6=$((N6U * 10))
}

# ---------------------------------------------------------------- numbers

# The median of column 1 of FILE (measure's elapsed seconds).
median() {
	sort -k1,1g "$1" | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The largest value of column COL of FILE.
colmax() { awk -v c="$2" '$c > m { m = $c } END { print m + 0 }' "$1"; }
# Column 1 of FILE, one line, as "a b c" in 3 decimals.
runs_of() { awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }' "$1"; }
# A time for people: seconds, or milliseconds below 0.1 s.
fmt_t() {
	awk -v t="$1" 'BEGIN { if (t < 0.1) printf "%.2f ms", t * 1000;
	    else printf "%.3f s", t }'
}
# keys per second.
kps() {
	awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'
}
# a / b in 4 significant digits.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4g", (b > 0 ? a / b : 0) }'
}
# MET when "A OP B" holds (OP one of >= <= <), else NOT MET.
judge() {
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
	    ok = op == ">=" ? a >= b : op == "<=" ? a <= b : a < b
	    print ok ? "MET" : "NOT MET" }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# A row of the summary: id, measured, comparison, ratio, target, result.
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"
}
# A benchmark that could not produce a meaningful figure: loud, exit 1.
fail() {
	local id=$1; shift
	FAILED=1
	printf '\nbench: %s FAILED: %s\n\n' "$id" "$*" >&2
	record "$id" "FAILED: $*" "-" "-" "-" "FAILED"
}
skip() {
	local id=$1; shift
	printf 'bench: %s skipped: %s\n' "$id" "$*" >&2
	record "$id" "skipped: $*" "-" "-" "-" "SKIPPED"
}
# The first lines of a program's stderr, for a failure message.
errof() { head -c 400 "$1" | tr '\n' ' '; }
# What a status from measure means.
status_text() {
	case $1 in
	124) echo "timed out after $TIMEOUT s (--timeout)" ;;
	*) echo "exited $1" ;;
	esac
}

want() {	# ID: 0 when the benchmark is to run
	[ -z "$ONLY" ] && return 0
	case ",$ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}

# timed RES OUT ERR CMD...: one measured run, its line appended to RES.
timed() {
	local res=$1 out=$2 err=$3; shift 3
	"$BIN/measure" -t "$TIMEOUT" -o "$res" -- "$@" > "$out" 2> "$err"
}

# ------------------------------------------------------------------ build

cc_tool() {	# NAME LIBS...: BIN/NAME from HERE/NAME.c when out of date
	local name=$1; shift
	if [ ! -x "$BIN/$name" ] || [ "$HERE/$name.c" -nt "$BIN/$name" ]; then
		# shellcheck disable=SC2086
		"${CC:-cc}" -O2 -std=gnu11 $WARN -o "$BIN/$name" \
		    "$HERE/$name.c" "$@" || die "cannot compile $name.c"
	fi
}

build() {
	mkdir -p "$BIN" "$DATA" || die "cannot make $BUILD"
	if [ -z "$KEYADM" ]; then
		log "building keyadm (Release) in $BUILD"
		cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
		    -DKEYADM_TESTS=OFF > "$BUILD/bench-build.log" 2>&1 &&
		cmake --build "$BUILD" -j "$(nproc)" --target keyadm \
		    >> "$BUILD/bench-build.log" 2>&1 ||
		    die "the build failed; see $BUILD/bench-build.log"
		KEYADM=$BUILD/keyadm
	fi
	[ -x "$KEYADM" ] || die "$KEYADM: not an executable"
	cc_tool keygen -lcrypto -lm
	cc_tool measure
	command -v ssh-keygen > /dev/null || die "ssh-keygen is needed"
}

# ------------------------------------------------------------------- data

# gen NAME ARGS...: DATA/NAME from keygen ARGS, unless it was made already
# with the same arguments by the same keygen.c.
gen() {
	local name=$1; shift
	local stamp
	stamp="keygen $* $(cksum < "$HERE/keygen.c")"
	if [ -f "$DATA/$name" ] &&
	    [ "$(cat "$DATA/$name.stamp" 2> /dev/null)" = "$stamp" ]; then
		return 0
	fi
	log "generating $name (keygen $*)"
	rm -f "$DATA/$name.stamp"
	"$BIN/keygen" -p "$DATA" "$@" > "$DATA/$name.tmp" ||
	    die "keygen $* failed"
	mv "$DATA/$name.tmp" "$DATA/$name" || die "mv"
	printf '%s\n' "$stamp" > "$DATA/$name.stamp"
}

# keys_of IMPORT KEYS: DATA/KEYS, the key lines of DATA/IMPORT (USER<TAB>
# line), so that the two hold the same keys in the same order.
keys_of() {
	if [ -f "$DATA/$2" ] &&
	    cmp -s "$DATA/$1.stamp" "$DATA/$2.stamp" 2> /dev/null; then
		return 0
	fi
	cut -f2- "$DATA/$1" > "$DATA/$2.tmp" && mv "$DATA/$2.tmp" "$DATA/$2" ||
	    die "cannot make $2"
	cp "$DATA/$1.stamp" "$DATA/$2.stamp"
}

# Keys that are listed in every tree's deny list, and the fresh key of B4.
data_common() {
	gen deny.list -n 1000 -m ed25519 -o 800000000 -c denied
	gen fresh.pub -n 1 -m ed25519 -o 900000000 -c fresh
}

# ------------------------------------------------------------------ trees

IMPORT_OK=
have_import() {
	if [ -z "$IMPORT_OK" ]; then
		if "$KEYADM" import --help > /dev/null 2>&1; then
			IMPORT_OK=yes
		else
			IMPORT_OK=no
		fi
	fi
	[ "$IMPORT_OK" = yes ]
}

uname_fmt() {	# USERS: the printf format of a user name, as keygen -u
	local w=${#1}
	[ "$w" -lt 4 ] && w=4
	echo "u%0${w}d"
}

# tree_conf DIR: etc/keyadm.conf with the default policy (every weak-key
# check is always on) and a deny list of 1,000 keys, so that check is on too.
tree_conf() {
	cp "$DATA/deny.list" "$1/etc/keyadm-deny.list" &&
	printf '%s\n' "# keyadm benchmarks: the default profile, a deny list" \
	    "deny_list = /etc/keyadm-deny.list" > "$1/etc/keyadm.conf" &&
	chmod 644 "$1/etc/keyadm.conf" "$1/etc/keyadm-deny.list"
}

# tree_make DIR USERS [IMPORT]: a --root tree as tests/cli/run.c makes
# one: etc/passwd and etc/group with root and u0001..uUSERS (uid and gid
# 20001..), homes DIR/home/uNNNN mode 0700 owned by their account (when we
# are root), DIR/root, DIR/var/lib.  With IMPORT, each account's lines of
# it are written to its ~/.ssh/authorized_keys (0600, .ssh 0700) first.
tree_make() {
	local t=$1 nu=$2 imp=${3:-} fmt myuid mygid
	fmt=$(uname_fmt "$nu")
	myuid=$(id -u) mygid=$(id -g)
	rm -rf "$t" && mkdir -p "$t/etc" "$t/var/lib" "$t/root" "$t/home" &&
	chmod 755 "$t" "$t/etc" "$t/var" "$t/var/lib" "$t/home" &&
	chmod 700 "$t/root" || return 1
	awk -v n="$nu" -v fmt="$fmt" -v base="$UID_BASE" -v root="$AS_ROOT" \
	    -v myuid="$myuid" -v mygid="$mygid" -v etc="$t/etc" 'BEGIN {
		print "root:x:0:0:root:/root:/bin/sh" > (etc "/passwd")
		print "root:x:0:" > (etc "/group")
		for (i = 1; i <= n; i++) {
			u = sprintf(fmt, i)
			id = root ? base + i : myuid
			gid = root ? base + i : mygid
			printf "%s:x:%d:%d::/home/%s:/bin/sh\n", u, id, gid,
			    u > (etc "/passwd")
			if (root)
				printf "%s:x:%d:\n", u, gid > (etc "/group")
		}
	}' || return 1
	tree_conf "$t" || return 1
	(cd "$t/home" && awk -v n="$nu" -v fmt="$fmt" 'BEGIN {
	    for (i = 1; i <= n; i++) printf fmt "\n", i }' |
	    xargs mkdir -m 700) || return 1
	if [ -n "$imp" ]; then
		awk -F '\t' -v home="$t/home" '$1 != u {
			if (f != "") close(f)
			u = $1
			system("mkdir -m 700 " home "/" u "/.ssh")
			f = home "/" u "/.ssh/authorized_keys"
		}
		{ print $2 > f }' "$imp" || return 1
		find "$t/home" -name authorized_keys -exec chmod 600 {} + ||
		    return 1
	fi
	[ "$AS_ROOT" = 1 ] || return 0
	awk -v n="$nu" -v fmt="$fmt" -v base="$UID_BASE" 'BEGIN {
	    for (i = 1; i <= n; i++)
		printf "%d " fmt "\n", base + i, i }' |
	while read -r id u; do
		chown -R "$id:$id" "$t/home/$u" || exit 1
	done
}

# tree_with_keys DIR USERS IMPORT: a tree whose store and files hold every
# key of IMPORT for its account: keyadm import when it exists, else the
# files written by us and keyadm adopt --all (FILL says which).  What that
# cost is measured into DIR.fill.res.
tree_with_keys() {
	local t=$1 nu=$2 imp=$3 st
	rm -f "$t.fill.res"
	if [ "$FILL" = import ]; then
		tree_make "$t" "$nu" || return 1
		timed "$t.fill.res" "$t.fill.out" "$t.fill.err" "$KEYADM" \
		    --root "$t" -q import "$imp" --reason benchmark
	else
		tree_make "$t" "$nu" "$imp" || return 1
		timed "$t.fill.res" "$t.fill.out" "$t.fill.err" "$KEYADM" \
		    --root "$t" -q adopt --all --reason benchmark
	fi
	st=$?
	if [ "$st" -ne 0 ]; then
		echo "keyadm $FILL $(status_text "$st"): $(errof "$t.fill.err")"
		return 1
	fi
}
# What filling DIR cost, for people.
fill_cost() {
	if [ ! -f "$1.fill.res" ]; then
		echo "recorded with keyadm $FILL"
		return 0
	fi
	echo "keyadm $FILL took $(fmt_t "$(median "$1.fill.res")"), max RSS" \
	    "$(mib "$(colmax "$1.fill.res" 4)")"
}

# tree_holds DIR IMPORT: 0 when the homes of DIR hold exactly the keys of
# IMPORT, each for its account (options and comments aside).
tree_holds() {
	local t=$1 imp=$2
	awk -F '\t' '{ split($2, a, " "); print $1 " " a[1] " " a[2] }' \
	    "$imp" | sort > "$t.want" || return 1
	find "$t/home" -path '*/.ssh/authorized_keys' -type f -exec awk '{
		n = split(FILENAME, p, "/")
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(ssh-|ecdsa-|sk-)/) {
				print p[n - 2] " " $i " " $(i + 1)
				break
			}
	    }' {} + | sort > "$t.got" || return 1
	cmp -s "$t.want" "$t.got"
}

# ------------------------------------------------------------ correctness

# fpr_compare KEYADM_OUT SSHKEYGEN_OUT N: 0 when keyadm check judged N
# keys, refused none, and says for line i exactly what ssh-keygen -l says
# for its key i: bits, fingerprint, comment, type.  Else a reason on stdout.
fpr_compare() {
	local k=$1 s=$2 n=$3 nk ns rej
	awk 'match($0, /: (accept|warn|reject): [0-9]+ SHA256:/) {
		pre = substr($0, 1, RSTART - 1)
		rest = substr($0, RSTART + 2)
		m = split(pre, a, ":")
		v = rest
		sub(/:.*/, "", v)
		sub(/^[a-z]+: /, "", rest)
		print a[m] " " v " " rest
	}' "$k" > "$k.norm" || return 1
	rej=$(awk '$2 == "reject"' "$k.norm" | wc -l)
	awk '{ $2 = ""; sub(/  /, " "); print }' "$k.norm" > "$k.cmp"
	awk '{ print NR " " $0 }' "$s" > "$s.cmp"
	nk=$(wc -l < "$k.cmp") ns=$(wc -l < "$s.cmp")
	if [ "$rej" -ne 0 ]; then
		echo "keyadm refused $rej of the keys, e.g." \
		    "$(awk '$2 == "reject"' "$k.norm" | head -1)"
	elif [ "$nk" -ne "$n" ] || [ "$ns" -ne "$n" ]; then
		echo "$n keys, but keyadm reported $nk and ssh-keygen $ns"
	elif ! cmp -s "$k.cmp" "$s.cmp"; then
		echo "keyadm and ssh-keygen differ: $(diff "$k.cmp" "$s.cmp" |
		    head -4 | tr '\n' ' ')"
	else
		return 0
	fi
	return 1
}

# ------------------------------------------------------------- benchmarks

# An empty tree for the runs of keyadm check: the same configuration.
check_root() {
	if [ ! -f "$WORK/checkroot/etc/keyadm.conf" ]; then
		tree_make "$WORK/checkroot" 1 || die "cannot make a tree"
	fi
	echo "$WORK/checkroot"
}

# bench_check ID FILE N LABEL TARGET AIM: keyadm check vs ssh-keygen -l -f.
# Sets CHECK_T (keyadm's median) on success.
bench_check() {
	local id=$1 file=$2 n=$3 label=$4 target=$5 aim=$6
	local d=$WORK/$id root st i why tk ts r v
	CHECK_T=
	mkdir -p "$d" && : > "$d/k.res" && : > "$d/s.res" || die "mkdir"
	root=$(check_root)
	say ""
	say "== $id: keyadm check vs ssh-keygen -l -f, $n $label keys," \
	    "$R1 runs each"
	for i in $(seq 1 "$R1"); do
		timed "$d/k.res" "$d/k.out" "$d/k.err" \
		    "$KEYADM" --root "$root" check "$file"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail "$id" "keyadm check $(status_text "$st"):" \
			    "$(errof "$d/k.err")"
			return 1
		fi
		timed "$d/s.res" "$d/s.out" "$d/s.err" ssh-keygen -l -f "$file"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail "$id" "ssh-keygen -l $(status_text "$st"):" \
			    "$(errof "$d/s.err")"
			return 1
		fi
		if [ "$i" = 1 ] && ! why=$(fpr_compare "$d/k.out" "$d/s.out" \
		    "$n"); then
			fail "$id" "fingerprints: $why"
			return 1
		fi
	done
	tk=$(median "$d/k.res") ts=$(median "$d/s.res")
	r=$(ratio "$ts" "$tk")
	v=$(judge "$r" ">=" "$target")
	say "   keyadm check   median $(fmt_t "$tk"), $(kps "$n" "$tk") keys/s," \
	    "max RSS $(mib "$(colmax "$d/k.res" 4)"); runs: $(runs_of "$d/k.res")"
	say "   ssh-keygen -l  median $(fmt_t "$ts"), $(kps "$n" "$ts") keys/s;" \
	    "runs: $(runs_of "$d/s.res")"
	say "   fingerprints: all $n equal to ssh-keygen's, none refused"
	say "   keyadm/ssh-keygen keys/s: ${r}x; target >= ${target}x$aim: $v"
	record "$id" \
	    "keyadm check, $n $label keys: $(fmt_t "$tk"), $(kps "$n" "$tk") keys/s" \
	    "ssh-keygen -l -f: $(fmt_t "$ts"), $(kps "$n" "$ts") keys/s" \
	    "${r}x" ">= ${target}x$aim" "$v"
	CHECK_T=$tk
}

B1_T=
bench_b1() {
	gen "mixed-$N1-u$U3.import" -n "$N1" -u "$U3"
	keys_of "mixed-$N1-u$U3.import" "mixed-$N1.keys"
	bench_check B1 "$DATA/mixed-$N1.keys" "$N1" mixed 1.0 " (aim 3x)" &&
	    B1_T=$CHECK_T
}

bench_b2() {
	gen "ed25519-$N1.keys" -n "$N1" -m ed25519
	bench_check B2 "$DATA/ed25519-$N1.keys" "$N1" Ed25519 2.0 ""
}

# keyadm check's median over B1's keys: B1's, or measured now.
B3_RSS=
check_time_b1() {
	local d=$WORK/B3 i st
	if [ -n "$B1_T" ]; then
		echo "$B1_T"
		return 0
	fi
	: > "$d/c.res"
	for i in $(seq 1 "$R1"); do
		timed "$d/c.res" /dev/null "$d/c.err" "$KEYADM" \
		    --root "$(check_root)" check "$DATA/mixed-$N1.keys"
		st=$?
		[ "$st" -eq 0 ] || { echo "keyadm check $(status_text "$st"):" \
		    "$(errof "$d/c.err")"; return 1; }
	done
	median "$d/c.res"
}

bench_b3() {
	local d=$WORK/B3 imp i st tc ti r v m
	B3_RSS=
	gen "mixed-$N1-u$U3.import" -n "$N1" -u "$U3"
	keys_of "mixed-$N1-u$U3.import" "mixed-$N1.keys"
	imp=$DATA/mixed-$N1-u$U3.import
	say ""
	say "== B3: keyadm import of $N1 keys for $U3 accounts vs B1's" \
	    "keyadm check, $R3 runs"
	if ! have_import; then
		skip B3 "keyadm import is not there yet ($KEYADM import" \
		    "--help fails)"
		return 0
	fi
	mkdir -p "$d" && : > "$d/i.res" || die "mkdir"
	tree_make "$d/tmpl" "$U3" || die "cannot make the B3 tree"
	for i in $(seq 1 "$R3"); do
		rm -rf "$d/t" && cp -a "$d/tmpl" "$d/t" || die "cp"
		timed "$d/i.res" "$d/i.out" "$d/i.err" \
		    "$KEYADM" --root "$d/t" import "$imp" --reason benchmark
		st=$?
		if [ "$st" -ne 0 ]; then
			fail B3 "keyadm import $(status_text "$st"):" \
			    "$(errof "$d/i.err")"
			return 1
		fi
		if [ "$i" = 1 ] && ! tree_holds "$d/t" "$imp"; then
			fail B3 "after keyadm import the key files do not hold" \
			    "the imported keys (compare $d/t.want $d/t.got)"
			return 1
		fi
	done
	B3_RSS=$(colmax "$d/i.res" 4)
	if ! tc=$(check_time_b1); then
		fail B3 "$tc"
		return 1
	fi
	ti=$(median "$d/i.res")
	r=$(ratio "$ti" "$tc")
	v=$(judge "$r" "<=" 2)
	say "   keyadm import  median $(fmt_t "$ti"), $(kps "$N1" "$ti") keys/s," \
	    "max RSS $(mib "$B3_RSS"); runs: $(runs_of "$d/i.res")"
	say "   keyadm check   median $(fmt_t "$tc") (B1)"
	say "   files: every key installed for its account"
	say "   import/check time: ${r}x; target <= 2x: $v"
	m="keyadm import, $N1 keys, $U3 accounts: $(fmt_t "$ti")"
	record B3 "$m, $(kps "$N1" "$ti") keys/s" \
	    "keyadm check (B1): $(fmt_t "$tc")" "${r}x" "<= 2x" "$v"
}

bench_b4() {
	local d=$WORK/B4 i st ta te r v fresh nl
	gen "mixed-$N4.keys" -n "$N4"
	fresh=$DATA/fresh.pub
	say ""
	say "== B4: keyadm add of one key into an account holding $N4 keys" \
	    "vs into an empty one, $R4 runs each"
	mkdir -p "$d" && : > "$d/a.res" && : > "$d/e.res" || die "mkdir"
	awk '{ print "u0001\t" $0 }' "$DATA/mixed-$N4.keys" > "$d/keys.import"
	if ! why=$(tree_with_keys "$d/tmpl" 2 "$d/keys.import"); then
		fail B4 "cannot fill the account: $why"
		return 1
	fi
	if ! tree_holds "$d/tmpl" "$d/keys.import"; then
		fail B4 "after $FILL the key file does not hold the keys"
		return 1
	fi
	for i in $(seq 1 "$R4"); do
		rm -rf "$d/t" && cp -a "$d/tmpl" "$d/t" || die "cp"
		timed "$d/a.res" "$d/a.out" "$d/a.err" \
		    "$KEYADM" --root "$d/t" add u0001 "$fresh"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail B4 "keyadm add (full) $(status_text "$st"):" \
			    "$(errof "$d/a.err")"
			return 1
		fi
		nl=$(grep -c . "$d/t/home/u0001/.ssh/authorized_keys")
		if [ "$nl" -ne $((N4 + 1)) ] || ! grep -qF \
		    "$(cut -d' ' -f2 "$fresh")" "$d/t/home/u0001/.ssh/authorized_keys"
		then
			fail B4 "after add the file has $nl lines, not" \
			    "$((N4 + 1)) with the new key"
			return 1
		fi
		rm -rf "$d/t" && cp -a "$d/tmpl" "$d/t" || die "cp"
		timed "$d/e.res" "$d/e.out" "$d/e.err" \
		    "$KEYADM" --root "$d/t" add u0002 "$fresh"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail B4 "keyadm add (empty) $(status_text "$st"):" \
			    "$(errof "$d/e.err")"
			return 1
		fi
	done
	ta=$(median "$d/a.res") te=$(median "$d/e.res")
	r=$(ratio "$ta" "$te")
	v=$(judge "$r" "<=" 3)
	say "   (the $N4 keys: $(fill_cost "$d/tmpl"))"
	say "   add, $N4 keys  median $(fmt_t "$ta"); runs: $(runs_of "$d/a.res")"
	say "   add, empty      median $(fmt_t "$te"); runs: $(runs_of "$d/e.res")"
	say "   full/empty time: ${r}x; target <= 3x: $v"
	record B4 "keyadm add into $N4 keys: $(fmt_t "$ta")" \
	    "into an empty account: $(fmt_t "$te")" "${r}x" "<= 3x" "$v"
}

# The B5 tree with N5 grants, cached in DATA between runs.
b5_tree() {
	local t=$DATA/tree-b5-$N5-u$U5 imp=$1 stamp why
	# the keys themselves, how they were recorded, the store's schema
	stamp="$(cksum < "$imp") $FILL $(cat "$SRC"/sql/*.sql | cksum)"
	if [ -d "$t" ] && [ "$(cat "$t.stamp" 2> /dev/null)" = "$stamp" ]
	then
		echo "$t"
		return 0
	fi
	log "B5: filling a store with $N5 grants for $U5 accounts" \
	    "(keyadm $FILL; once, cached in $t)"
	rm -rf "$t" "$t.stamp"
	if ! why=$(tree_with_keys "$t.tmp" "$U5" "$imp"); then
		echo "$why"
		return 1
	fi
	if ! tree_holds "$t.tmp" "$imp"; then
		echo "after keyadm $FILL the key files do not hold the keys"
		return 1
	fi
	rm -f "$t.tmp.want" "$t.tmp.got" "$t.tmp.fill.out" "$t.tmp.fill.err"
	mv "$t.tmp.fill.res" "$t.fill.res" &&
	mv "$t.tmp" "$t" && printf '%s\n' "$stamp" > "$t.stamp" || return 1
	echo "$t"
}

# lookups ID TREE USER TYPE B64 RES: R5L timed authorized-keys runs after
# one warm-up; each must print exactly the line of that key.
lookups() {
	local id=$1 t=$2 u=$3 ty=$4 b=$5 res=$6 i st
	: > "$res"
	for i in $(seq 0 "$R5L"); do
		timed "$res.new" "$res.out" "$res.err" \
		    "$KEYADM" --root "$t" authorized-keys "$u" "$ty" "$b"
		st=$?
		if [ "$st" -ne 0 ]; then
			echo "authorized-keys $(status_text "$st"):" \
			    "$(errof "$res.err")"
			return 1
		fi
		if [ "$(wc -l < "$res.out")" -ne 1 ] ||
		    ! grep -qF " $b" "$res.out"; then
			echo "authorized-keys $u did not print the key's one" \
			    "line: $(head -c 200 "$res.out")"
			return 1
		fi
		[ "$i" -gt 0 ] && cat "$res.new" >> "$res"
		rm -f "$res.new"
	done
}

bench_b5() {
	local d=$WORK/B5 imp keys big mid k line u ty b why i st
	local tb tsm tsc r1 r2 v1 v2
	gen "mixed-$N5-u$U5.import" -n "$N5" -u "$U5"
	keys_of "mixed-$N5-u$U5.import" "mixed-$N5.keys"
	imp=$DATA/mixed-$N5-u$U5.import keys=$DATA/mixed-$N5.keys
	say ""
	say "== B5: keyadm authorized-keys USER TYPE KEY with $N5 grants vs" \
	    "ssh-keygen -l -f over $N5 lines, and vs $S5 grants"
	mkdir -p "$d" || die "mkdir"
	if ! big=$(b5_tree "$imp"); then
		fail B5 "cannot fill the store: $big"
		return 1
	fi
	# the key in the middle of the middle account
	k=$((N5 / U5)) mid=$((U5 / 2))
	line=$(sed -n "$(((mid - 1) * k + k / 2 + 1))p" "$imp")
	u=$(printf '%s' "$line" | cut -f1)
	ty=$(printf '%s' "$line" | cut -f2 | cut -d' ' -f1)
	b=$(printf '%s' "$line" | cut -f2 | cut -d' ' -f2)
	# the same key for the same account among S5 grants in all
	{ printf '%s\n' "$line"; grep -vF "$b" "$imp" | head -n $((S5 - 1)); } \
	    > "$d/small.import"
	if ! why=$(tree_with_keys "$d/small" "$U5" "$d/small.import"); then
		fail B5 "cannot fill the small store: $why"
		return 1
	fi
	if ! why=$(lookups B5 "$big" "$u" "$ty" "$b" "$d/big.res"); then
		fail B5 "$N5 grants: $why"
		return 1
	fi
	if ! why=$(lookups B5 "$d/small" "$u" "$ty" "$b" "$d/small.res"); then
		fail B5 "$S5 grants: $why"
		return 1
	fi
	: > "$d/s.res"
	for i in $(seq 1 "$R5S"); do
		timed "$d/s.res" "$d/s.out" "$d/s.err" ssh-keygen -l -f "$keys"
		st=$?
		if [ "$st" -ne 0 ] || [ "$(wc -l < "$d/s.out")" -ne "$N5" ]; then
			fail B5 "ssh-keygen -l $(status_text "$st"), $(wc -l < \
			    "$d/s.out") lines: $(errof "$d/s.err")"
			return 1
		fi
	done
	tb=$(median "$d/big.res") tsm=$(median "$d/small.res")
	tsc=$(median "$d/s.res")
	r1=$(ratio "$tb" "$tsc") r2=$(ratio "$tb" "$tsm")
	v1=$(judge "$r1" "<=" 0.01) v2=$(judge "$r2" "<=" 2)
	say "   (the key: $u's, $ty; the $N5 grants: $(fill_cost "$big"))"
	say "   lookup, $N5 grants  median $(fmt_t "$tb") of $R5L;" \
	    "max RSS $(mib "$(colmax "$d/big.res" 4)")"
	say "   lookup, $S5 grants  median $(fmt_t "$tsm") of $R5L"
	say "   ssh-keygen -l -f, $N5 lines  median $(fmt_t "$tsc"); runs:" \
	    "$(runs_of "$d/s.res")"
	say "   lookup/scan: ${r1}x (1/$(ratio "$tsc" "$tb")); target <= 0.01x" \
	    "(1/100): $v1"
	say "   lookup $N5/$S5 grants: ${r2}x; target <= 2x: $v2"
	record B5 "authorized-keys, $N5 grants: $(fmt_t "$tb")" \
	    "ssh-keygen -l -f, $N5 lines: $(fmt_t "$tsc")" \
	    "${r1}x (1/$(ratio "$tsc" "$tb"))" "<= 0.01x (1/100)" "$v1"
	record "B5 (scale)" "authorized-keys, $N5 grants: $(fmt_t "$tb")" \
	    "the same, $S5 grants: $(fmt_t "$tsm")" "${r2}x" "<= 2x" "$v2"
	B5_SCAN=$d/s.out
}

bench_b6() {
	local d=$WORK/B6 imp keys i st ta tc r v why root
	gen "mixed-$N6-u$N6U.import" -n "$N6" -u "$N6U"
	keys_of "mixed-$N6-u$N6U.import" "mixed-$N6.keys"
	imp=$DATA/mixed-$N6-u$N6U.import keys=$DATA/mixed-$N6.keys
	say ""
	say "== B6: keyadm audit of $N6U accounts x 10 keys vs keyadm check" \
	    "over those $N6 keys, $R6 runs each"
	mkdir -p "$d" && : > "$d/a.res" && : > "$d/c.res" || die "mkdir"
	if ! why=$(tree_with_keys "$d/t" "$N6U" "$imp"); then
		fail B6 "cannot fill the accounts: $why"
		return 1
	fi
	root=$(check_root)
	for i in $(seq 1 "$R6"); do
		timed "$d/a.res" "$d/a.out" "$d/a.err" \
		    "$KEYADM" --root "$d/t" audit
		st=$?
		if [ "$st" -ne 0 ]; then
			fail B6 "keyadm audit of a clean tree $(status_text \
			    "$st"): $(errof "$d/a.err") $(head -c 300 "$d/a.out")"
			return 1
		fi
		timed "$d/c.res" "$d/c.out" "$d/c.err" \
		    "$KEYADM" --root "$root" check "$keys"
		st=$?
		if [ "$st" -ne 0 ]; then
			fail B6 "keyadm check $(status_text "$st"):" \
			    "$(errof "$d/c.err")"
			return 1
		fi
	done
	ta=$(median "$d/a.res") tc=$(median "$d/c.res")
	r=$(ratio "$ta" "$tc")
	v=$(judge "$r" "<=" 2)
	say "   (the grants: $(fill_cost "$d/t"))"
	say "   (audit: $(tail -1 "$d/a.out"))"
	say "   keyadm audit   median $(fmt_t "$ta"); runs: $(runs_of "$d/a.res")"
	say "   keyadm check   median $(fmt_t "$tc"); runs: $(runs_of "$d/c.res")"
	say "   audit/check time: ${r}x; target <= 2x: $v"
	record B6 "keyadm audit, $N6U accounts x 10 keys: $(fmt_t "$ta")" \
	    "keyadm check, $N6 keys: $(fmt_t "$tc")" "${r}x" "<= 2x" "$v"
}

B5_SCAN=
bench_b7() {
	local d=$WORK/B7 keys st rss v why lim=65536
	gen "mixed-$N5-u$U5.import" -n "$N5" -u "$U5"
	keys_of "mixed-$N5-u$U5.import" "mixed-$N5.keys"
	keys=$DATA/mixed-$N5.keys
	say ""
	say "== B7: peak memory of keyadm check over $N5 keys, and of B3's import"
	mkdir -p "$d" && : > "$d/k.res" || die "mkdir"
	timed "$d/k.res" "$d/k.out" "$d/k.err" \
	    "$KEYADM" --root "$(check_root)" check "$keys"
	st=$?
	if [ "$st" -ne 0 ]; then
		fail B7 "keyadm check $(status_text "$st"): $(errof "$d/k.err")"
	else
		if [ -n "$B5_SCAN" ] && [ -f "$B5_SCAN" ]; then
			if ! why=$(fpr_compare "$d/k.out" "$B5_SCAN" "$N5"); then
				fail B7 "fingerprints: $why"
				return 1
			fi
			say "   fingerprints: all $N5 equal to ssh-keygen's (B5)"
		else
			say "   fingerprints: not compared (B5's ssh-keygen" \
			    "output is compared when B5 runs too)"
		fi
		rss=$(colmax "$d/k.res" 4)
		v=$(judge "$rss" "<" "$lim")
		say "   keyadm check   $(fmt_t "$(median "$d/k.res")")," \
		    "$(kps "$N5" "$(median "$d/k.res")") keys/s," \
		    "max RSS $(mib "$rss"); target < 64 MiB: $v"
		record "B7 (check)" "keyadm check, $N5 keys: max RSS $(mib \
		    "$rss")" "-" "-" "< 64 MiB" "$v"
	fi
	if [ -n "$B3_RSS" ]; then
		v=$(judge "$B3_RSS" "<" "$lim")
		say "   keyadm import  max RSS $(mib "$B3_RSS") (B3); target" \
		    "< 64 MiB: $v"
		record "B7 (import)" "keyadm import, $N1 keys: max RSS $(mib \
		    "$B3_RSS")" "-" "-" "< 64 MiB" "$v"
	else
		skip "B7 (import)" "needs B3's import runs"
	fi
}

# ---------------------------------------------------------------- summary

summary() {
	local head
	head="keyadm $("$KEYADM" --version 2> /dev/null | cut -d' ' -f2)"
	head="$head ($(cd "$SRC" && git describe --always --dirty 2> /dev/null))"
	head="$head, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs"
	head="$head, $(ssh -V 2>&1 | cut -d, -f1)"
	[ "$QUICK" = 1 ] && head="$head, --quick sizes"
	{
		printf '%s\n\n' "$head"
		printf '| id | measured | comparison | ratio | target | result |\n'
		printf '|---|---|---|---|---|---|\n'
		awk -F '\t' '{ gsub(/\|/, "\\|")
		    printf "| %s | %s | %s | %s | %s | %s |\n",
		    $1, $2, $3, $4, $5, $6 }' "$RESULTS"
	} > "$REPORT"
	say ""
	say "== Summary (also in $REPORT)"
	say ""
	cat "$REPORT"
}

# ------------------------------------------------------------------- main

main() {
	parse_args "$@"
	set_sizes
	[ "$(id -u)" = 0 ] && AS_ROOT=1 || AS_ROOT=0
	cd "$SRC" || die "cd"
	[ "$AS_ROOT" = 1 ] || log "not root: every account gets uid $(id -u)"
	build
	rm -rf "$WORK" && mkdir -p "$WORK" && : > "$RESULTS" ||
	    die "cannot make $WORK"
	cd "$WORK" || die "cd $WORK"
	data_common
	if have_import; then FILL=import; else FILL=adopt; fi
	have_import || log "keyadm import is not there yet: B3 and B7 (import)" \
	    "are skipped; B4, B5 and B6 record keys with keyadm adopt"
	say "keyadm benchmarks: $KEYADM; data in $DATA"
	want B1 && bench_b1
	want B2 && bench_b2
	want B3 && bench_b3
	want B4 && bench_b4
	want B5 && bench_b5
	want B6 && bench_b6
	want B7 && bench_b7
	summary
	[ "$KEEP" = 1 ] || rm -rf "$WORK/B3/t" "$WORK/B3/tmpl" "$WORK/B4/t" \
	    "$WORK/B5/small" "$WORK/B6/t"
	if [ "$FAILED" != 0 ]; then
		log "FAILED: see the messages above"
		exit 1
	fi
	exit 0
}

# Everything runs inside main, which bash has read whole before it starts,
# and main exits: editing this file cannot derail a run in progress.
main "$@"
