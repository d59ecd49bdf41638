#!/bin/sh
# run.sh [SECONDS_PER_TARGET] -- build the libFuzzer targets with clang
# (ASan+UBSan, LeakSanitizer on), seed their corpora, replay every past
# crash in tests/fuzz/regress/<target>/, then fuzz each target for
# SECONDS_PER_TARGET seconds (default 30).  Exit status non-zero on any
# crash, leak, timeout or out-of-memory, with the reproducer's path.
#
# Environment:
#   KEYADM_FUZZ_BUILD   build directory (default: <source>/build-fuzz)
#   KEYADM_FUZZ_JOBS    targets fuzzed at once (default: nproc)
#   KEYADM_FUZZ_TARGETS space-separated subset (default: all)
#   KEYADM_VECTORS      shared/vectors (default: <source>/../shared/vectors)
#   CC                  clang to use (default: clang-14, else clang)
#
# The corpus of each target is kept in the build directory between runs
# (corpus/<target>/), so coverage accumulates; delete it to start over.
# A crash leaves its input in artifacts/<target>/: copy it to
# tests/fuzz/regress/<target>/ once it is understood, so it is replayed
# by every later run and by ctest (fuzz_regress_<target>).
set -u

secs=${1:-30}
case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 64 ;;
esac
fuzzdir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$fuzzdir/../.." && pwd)
build=${KEYADM_FUZZ_BUILD:-$top/build-fuzz}
vectors=${KEYADM_VECTORS:-$top/../shared/vectors}
jobs=${KEYADM_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
all="keyparse_buf keyformat keyparse_line blob authkeys sshopts config
revfile denylist pam_info"
targets=${KEYADM_FUZZ_TARGETS:-$all}

# --- what keyadm needs to build (installed when root) ------------------
if [ -f "$top/tests/deps.sh" ]; then
	. "$top/tests/deps.sh"
	keyadm_deps || exit 1
fi

# --- the compiler ------------------------------------------------------
cc=${CC:-}
if [ -z "$cc" ]; then
	if command -v clang-14 >/dev/null 2>&1; then cc=clang-14
	elif command -v clang >/dev/null 2>&1; then cc=clang
	fi
fi
rt_ok() {	# the libFuzzer runtime links
	printf 'int LLVMFuzzerTestOneInput(const char *d, long n)'\
'{(void)d;(void)n;return 0;}\n' >"$build/rt.c" &&
	"$cc" -fsanitize=fuzzer,address,undefined "$build/rt.c" \
	    -o "$build/rt" >/dev/null 2>&1
}
mkdir -p "$build" || exit 1
if [ -z "$cc" ] || ! rt_ok; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "== installing clang-14 and libclang-rt-14-dev"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    clang-14 libclang-rt-14-dev >"$build/apt.log" 2>&1 ||
		    { apt-get update >>"$build/apt.log" 2>&1 &&
		    DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    clang-14 libclang-rt-14-dev >>"$build/apt.log" 2>&1; } ||
		    { tail -n 20 "$build/apt.log" >&2; exit 1; }
		cc=${CC:-clang-14}
	fi
	rt_ok || { echo "run.sh: need clang with the libFuzzer runtime" \
	    "(Debian: clang-14 libclang-rt-14-dev)" >&2; exit 1; }
fi

# --- configure and build -----------------------------------------------
echo "== build ($cc) in $build"
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER="$cc" -DKEYADM_FUZZ=ON \
    -DKEYADM_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build/build.log" 2>&1 || { tail -n 40 "$build/build.log"; exit 1; }
set --
for t in $targets; do set -- "$@" "fuzz_$t"; done
cmake --build "$build" -j "$jobs" --target "$@" >>"$build/build.log" 2>&1 ||
    { grep -E 'error|Error' "$build/build.log" | head -n 40; exit 1; }
bin=$build/tests/fuzz

# --- seed corpora --------------------------------------------------------
# seeds/<target>/ is rebuilt each run from the test vectors, tests/data and
# tests/fuzz/seeds; corpus/<target>/ is libFuzzer's and is kept.
seeds=$build/seeds
rm -rf "$seeds"
for t in $all; do mkdir -p "$seeds/$t" "$build/corpus/$t"; done
n=0
put() {		# put TARGET FILE...: copy files as seeds
	_t=$1; shift
	for _f in "$@"; do
		[ -f "$_f" ] || continue
		n=$((n + 1))
		cp "$_f" "$seeds/$_t/$n-${_f##*/}"
	done
}
ossh=$vectors/openssh-sshkey
bad=$vectors/badkeys
[ -d "$ossh" ] || echo "run.sh: no test vectors at $vectors;" \
    "only tests/data and tests/fuzz/seeds seed the corpora" >&2
for t in $all; do put "$t" "$fuzzdir"/seeds/"$t"/*; done
pubs=$(ls "$ossh"/*.pub "$bad"/*.openssh.pub "$bad"/*/*.openssh.pub \
    "$top"/tests/data/keys/*.pub "$top"/tests/data/cli/*.pub 2>/dev/null)
for f in $pubs; do
	put keyparse_buf "$f"
	put keyparse_line "$f"
	put authkeys "$f"
	put denylist "$f"
	set -f
	set -- $(head -n 1 "$f")
	set +f
	[ $# -ge 2 ] || continue
	n=$((n + 1))
	printf '%s %s\n' "$1" "$2" >"$seeds/revfile/$n-${f##*/}"
	printf 'publickey %s %s\n' "$1" "$2" >"$seeds/pam_info/$n-${f##*/}"
	{ printf '\377'; printf '%s' "$2" | base64 -d 2>/dev/null; } \
	    >"$seeds/blob/$n-${f##*/}.bin"
done
for f in $(find "$bad" "$top/tests/data/keys" "$top/tests/data/cli" \
    -type f 2>/dev/null | sort); do
	case $f in *.dat|*LICENSE*|*README*) continue ;; esac
	[ "$(wc -c <"$f")" -le 65536 ] || continue
	put keyparse_buf "$f"
	head -n 1 "$f" | grep -q -- '-----BEGIN\|---- BEGIN' &&
	    put keyformat "$f"
done
# keyformat also takes a block's body (selector byte, then the DER): the
# bodies of the PEM public keys among the vectors.
pem_body() {	# pem_body FILE LABEL: the decoded body of LABEL blocks
	sed -n "/^-----BEGIN $2-----/,/^-----END $2-----/p" "$1" |
	    grep -v -- '^-----' | base64 -d 2>/dev/null
}
for f in $(find "$bad" "$top/tests/data/keys" -type f 2>/dev/null | sort); do
	n=$((n + 1))
	grep -q -- '^-----BEGIN PUBLIC KEY-----' "$f" &&
	    { printf '\001'; pem_body "$f" "PUBLIC KEY"; } \
	    >"$seeds/keyformat/$n-${f##*/}.spki.bin"
	grep -q -- '^-----BEGIN RSA PUBLIC KEY-----' "$f" &&
	    { printf '\002'; pem_body "$f" "RSA PUBLIC KEY"; } \
	    >"$seeds/keyformat/$n-${f##*/}.pkcs1.bin"
done
put denylist "$ossh"/*.fp
put authkeys "$top"/tests/data/authkeys/*/* \
    "$top"/tests/data/cli/preexisting-authorized_keys
put config "$top"/packaging/keyadm.conf
put keyparse_buf "$fuzzdir"/seeds/keyformat/*
echo "== $(find "$seeds" -type f | wc -l) seed files from $vectors," \
    "tests/data and tests/fuzz/seeds"

dict_of() {
	case $1 in
	sshopts)	echo "$fuzzdir/dict/sshopts.dict" ;;
	config)		echo "$fuzzdir/dict/config.dict" ;;
	pam_info)	echo "$fuzzdir/dict/pam_info.dict" ;;
	authkeys)	cat "$fuzzdir/dict/keys.dict" \
			    "$fuzzdir/dict/sshopts.dict" >"$build/authkeys.dict"
			echo "$build/authkeys.dict" ;;
	*)		echo "$fuzzdir/dict/keys.dict" ;;
	esac
}

# Longest input per target: just past the caps the parsers enforce
# (KEYLINE_MAX 16 KiB, a 12 KiB blob, SSHOPTS_MAX 8 KiB, a 16 KiB blob
# in SSH_AUTH_INFO_0), so the fuzzer reaches both sides of each.
maxlen_of() {
	case $1 in
	keyparse_line)	echo 17500 ;;
	blob)		echo 13000 ;;
	sshopts)	echo 8300 ;;
	config|denylist) echo 4096 ;;
	pam_info)	echo 24000 ;;
	*)		echo 20000 ;;
	esac
}

asan=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-$asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# --- replay past crashes -------------------------------------------------
# A failing one fails the run, but the fuzzing still goes on: a CI log
# then shows every open problem, not only the first.
status=0
for t in $targets; do
	if ! sh "$fuzzdir/replay.sh" "$bin/fuzz_$t" "$fuzzdir/regress/$t"; then
		echo "FAIL $t: a regression input still crashes" \
		    "(tests/fuzz/regress/$t, see regress/README.md)" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "== regression inputs replayed clean"

# --- fuzz ----------------------------------------------------------------
fuzz_one() {
	t=$1
	mkdir -p "$build/artifacts/$t"
	"$bin/fuzz_$t" "$build/corpus/$t" "$seeds/$t" \
	    -dict="$(dict_of "$t")" -max_len="$(maxlen_of "$t")" \
	    -max_total_time="$secs" \
	    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$build/artifacts/$t/" \
	    >"$build/fuzz-$t.log" 2>&1
}
summary() {	# one line per target from its log
	t=$1
	log=$build/fuzz-$t.log
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n \
	    's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1 ft \2 corp \3/p')
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	printf '%-14s %s, %s runs, %s exec/s\n' "$t" "${cov:-cov ?}" \
	    "${runs:-?}" "${eps:-?}"
}
echo "== fuzzing each target for ${secs}s, $jobs at a time"
pending=$targets
failed=
while [ -n "$(echo $pending)" ]; do
	batch=
	i=0
	for t in $pending; do
		[ $i -lt "$jobs" ] || break
		batch="$batch $t"
		i=$((i + 1))
	done
	pids=
	for t in $batch; do
		fuzz_one "$t" &
		pids="$pids $!:$t"
	done
	for p in $pids; do
		t=${p#*:}
		if wait "${p%%:*}"; then
			summary "$t"
		else
			summary "$t"
			failed="$failed $t"
		fi
	done
	rest=
	for t in $pending; do
		case " $batch " in *" $t "*) ;; *) rest="$rest $t" ;; esac
	done
	pending=$rest
done

for t in $failed; do
	log=$build/fuzz-$t.log
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
	    tail -n 1)
	echo >&2
	what=$(grep -m 1 -E 'ERROR: |runtime error:|invariant broken' "$log")
	echo "FAIL $t: $what" >&2
	grep -E '^ +#[0-9]+ ' "$log" | grep -v -E \
	    'fuzzer::|__sanitizer_print|libc\.so|abort\.c|raise\.c|_start' |
	    head -n 12 >&2
	echo "reproducer: ${repro:-none written, see $log}" >&2
	[ -n "$repro" ] && echo "replay: $bin/fuzz_$t $repro" >&2
	status=1
done
[ $status -eq 0 ] && echo "== no crash, leak or timeout"
exit $status
