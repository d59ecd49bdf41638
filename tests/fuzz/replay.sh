#!/bin/sh
# replay.sh FUZZER DIR... -- run FUZZER once on every file in each DIR
# (a missing or empty DIR is fine; README and .gitkeep are skipped).
# Non-zero when any input crashes, leaks or times out; the failing file
# is named.  Used by run.sh and by the fuzz_regress_* ctests.
set -u
fuzzer=$1
shift
log=$(mktemp "${TMPDIR:-/tmp}/replay.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
dirs=$*
set --
for dir in $dirs; do
	[ -d "$dir" ] || continue
	for f in "$dir"/* "$dir"/.[!.]*; do
		[ -f "$f" ] || continue
		case ${f##*/} in
		README*|.gitkeep) continue ;;
		esac
		set -- "$@" "$f"
	done
done
[ $# -eq 0 ] && exit 0
if "$fuzzer" -timeout=10 -rss_limit_mb=2048 "$@" >"$log" 2>&1; then
	exit 0
fi
bad=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
echo "replay: ${fuzzer##*/}: FAILS on ${bad:-one of $#}" >&2
tail -n 60 "$log" >&2
exit 1
