#!/bin/sh
# run.sh -- build keyadm twice (plain with -Werror, and ASan+UBSan) and run
# every test in both.  As root it installs missing Debian packages first and
# the root-only tests (file ownership attacks, the real sshd) run too.
#
#   tests/run.sh            everything
#   tests/run.sh -R cli     only the tests whose name matches (ctest -R)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/deps.sh"
keyadm_deps

jobs=$(nproc 2>/dev/null || echo 2)
status=0
for variant in plain asan; do
	build="$top/build-test-$variant"
	case $variant in
	plain)	flags="-DKEYADM_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" ;;
	asan)	flags="-DKEYADM_WERROR=ON -DKEYADM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" ;;
	esac
	echo "== $variant: configure and build"
	cmake -S "$top" -B "$build" $flags >"$build.log" 2>&1 ||
	    { cat "$build.log"; exit 1; }
	cmake --build "$build" -j "$jobs" >>"$build.log" 2>&1 ||
	    { tail -n 40 "$build.log"; exit 1; }
	echo "== $variant: test"
	# Sanitizer reports go to files too: Criterion passes a test whose
	# worker only leaked (LeakSanitizer reports at exit), so look after.
	san="$build/sanitizer-logs"
	rm -rf "$san"
	mkdir -p "$san"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$san/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan \
	    ctest --test-dir "$build" --output-on-failure "$@" || status=1
	if [ -n "$(ls -A "$san")" ]; then
		echo "== $variant: sanitizer reports:" >&2
		head -n 60 "$san"/* >&2
		status=1
	fi
done
if [ $status -eq 0 ]; then
	echo "== all tests passed (plain and ASan+UBSan builds)"
else
	echo "== some tests FAILED" >&2
fi
exit $status
