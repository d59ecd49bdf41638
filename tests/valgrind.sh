#!/bin/sh
#
# tests/valgrind.sh -- the CLI tests with every keyadm they run under
# valgrind's memcheck.  Slow (each keyadm run takes seconds); not part of
# the everyday "ctest".
#
# Usage: tests/valgrind.sh [REGEX]
#
#   REGEX     which tests, as for "ctest -R" (default: ^cli, every CLI
#             test executable: cli, cli_import, cli_faults, ...)
#
# cli_stress is left out unless REGEX names it: its crash sweep kills
# keyadm at its Nth system call (strace fault injection), and valgrind's
# own calls move every N; its concurrent runs have time limits that hold
# at native speed only.  For the same reason attack_races'
# file_rewritten_in_place_during_adds can fail under valgrind ("the
# racer does not pause"): a timing failure, not a memory error.  What
# counts here is the valgrind logs.
#
# Last full run (2026-12-08, 9 CLI suites): 2,649 keyadm runs, no memory
# error or leak in any log.
#
# Builds a plain Debug build (no sanitizers, which valgrind cannot run
# under) in build-valgrind/ at the top of the tree, or in
# $KEYADM_VALGRIND_BUILD.  Then, for each test ctest would run for REGEX,
# runs its command as ctest would (same environment, from "ctest
# --show-only=json-v1"), except that KEYADM_BIN names a wrapper script
# that runs the built keyadm under
#
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --error-exitcode=99 --track-fds=no -q
#
# with one log file per keyadm process in build-valgrind/valgrind-logs/
# (keyadm.XXXXXXXX.log, each listed with keyadm's arguments in runs.txt;
# -q keeps a clean run's log empty, and empty logs are deleted at the
# end).  The tests are run directly, not through ctest,
# because ctest's per-test TIMEOUT (600 s) is too short under valgrind.
# A test's own hang guard (30 s for one keyadm run, tests/cli/run.h)
# still applies: a test that fails only because keyadm got slow is
# reported among the test failures, not as a memory error.
#
# Exit status: 0 when every log is empty and every test passed; 1 when
# any log reports an error (listed, with the first lines of each); 2
# when the logs are clean but some test failed (see its output in
# build-valgrind/valgrind-logs/test_NAME.out); 77 when valgrind or a
# needed tool is missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${KEYADM_VALGRIND_BUILD:-$top/build-valgrind}
regex=${1:-^cli}

for tool in valgrind cmake ctest python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "valgrind.sh: $tool not found" >&2
		exit 77
	fi
done

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DKEYADM_SANITIZE=OFF -DKEYADM_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"

real=$build/keyadm
if [ ! -x "$real" ]; then
	echo "valgrind.sh: $real was not built" >&2
	exit 70
fi

logs=$build/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
# keyadm also runs as other users in some root-only tests (setpriv to
# nobody): they must be able to write their log
chmod 1777 "$logs"
: >"$logs/runs.txt"
chmod 0666 "$logs/runs.txt"

wrapper=$build/valgrind-keyadm
cat >"$wrapper" <<EOF
#!/bin/sh
# Made by tests/valgrind.sh: keyadm under memcheck, one log per process
# (named by mktemp, since pids come round again), listed with its
# arguments in runs.txt.  Under a file size limit (cli_faults sets
# RLIMIT_FSIZE to 0) valgrind could not write its log: keyadm runs bare.
if [ "\$(ulimit -f)" != unlimited ]; then
	exec "$real" "\$@"
fi
log=\$(mktemp "$logs/keyadm.XXXXXXXX.log") || exit 70
printf '%s %s\\n' "\${log##*/}" "\$*" >>"$logs/runs.txt" 2>/dev/null
exec valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \\
	--error-exitcode=99 --track-fds=no --vgdb=no -q \\
	--log-file="\$log" "$real" "\$@"
EOF
chmod 0755 "$wrapper"

# The tests ctest would run for REGEX, each run as ctest would run it
# (command, working directory, ENVIRONMENT property), KEYADM_BIN aside.
failed=$logs/failed-tests.txt
exclude='^$'
[ $# -eq 0 ] && exclude='^cli_stress$'
(cd "$build" && ctest --show-only=json-v1 -R "$regex" -E "$exclude") |
python3 -c '
import json, os, subprocess, sys, time

wrapper, logs, failed = sys.argv[1:4]
tests = [t for t in json.load(sys.stdin).get("tests", []) if t.get("command")]
if not tests:
	sys.exit("valgrind.sh: no test matches")
bad = []
for t in tests:
	props = {p["name"]: p["value"] for p in t.get("properties", [])}
	env = dict(os.environ)
	for kv in props.get("ENVIRONMENT", []):
		k, _, v = kv.partition("=")
		env[k] = v
	env["KEYADM_BIN"] = wrapper
	name = t["name"]
	outpath = os.path.join(logs, "test_" + name + ".out")
	print("== %s (keyadm under valgrind)" % name, flush=True)
	start = time.time()
	with open(outpath, "wb") as out:
		rc = subprocess.call(t["command"], env=env, stdout=out,
		    stderr=subprocess.STDOUT,
		    cwd=props.get("WORKING_DIRECTORY") or None)
	print("   %s in %d s; output in %s" % ("passed" if rc == 0 else
	    "FAILED (exit %d)" % rc, time.time() - start, outpath), flush=True)
	if rc != 0:
		bad.append(name)
with open(failed, "w") as f:
	f.write("".join(n + "\n" for n in bad))
' "$wrapper" "$logs" "$failed"

# Clean runs leave empty logs; whatever is left reports errors.
# a run killed before valgrind started (a test's SIGKILL) left no log
runs=$(find "$logs" -name 'keyadm.*.log' | wc -l)
find "$logs" -name 'keyadm.*.log' -size 0 -delete
bad=$(find "$logs" -name 'keyadm.*.log' | sort)
nbad=$(printf '%s' "$bad" | grep -c . || true)
echo "== $runs keyadm runs under valgrind" \
    "($(wc -l <"$logs/runs.txt") lines in runs.txt), $nbad with errors"
status=0
if [ "$nbad" -gt 0 ]; then
	for f in $bad; do
		echo "-- $f"
		head -n 40 "$f"
	done
	status=1
fi
if [ -s "$failed" ]; then
	echo "== tests that failed under valgrind:" $(cat "$failed")
	[ "$status" -eq 0 ] && status=2
fi
exit "$status"
