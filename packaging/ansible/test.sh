#!/bin/sh
# test.sh KEYADM_BINARY -- run the example playbooks against localhost in a
# scratch --root tree and check that they report changes the way keyadm
# does: the first add is changed and the second is not; a --check run
# reports a change without making it; the first revoke is changed and the
# second is not; the audit writes its report, and findings do not fail it.
#
# Skips (exit 0) when ansible-playbook is not installed.  As root the
# account gets a uid of its own, as tests/demo.sh does; otherwise it is us.
# Nothing outside the scratch directory is touched, and it is removed at
# the end (KEEP=1 keeps it).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 KEYADM_BINARY" >&2
	exit 64
fi
if ! command -v ansible-playbook >/dev/null 2>&1; then
	echo "ansible-playbook not installed; skipped"
	exit 0
fi
for tool in ssh-keygen python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "test.sh: $tool is needed" >&2
		exit 69
	fi
done
case $1 in
/*) keyadm=$1 ;;
*) keyadm=$(pwd)/$1 ;;
esac
if [ ! -x "$keyadm" ]; then
	echo "test.sh: $keyadm: not an executable" >&2
	exit 66
fi
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d /tmp/keyadm-ansible.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
# keyadm reaches the home as the account: every directory above must be
# searchable and writable by root alone.
chmod 755 "$work"
tree=$work/root
mkdir -p "$tree/etc" "$tree/home/alice" "$tree/var/lib" "$work/keys"
chmod 755 "$tree"
me=$(id -u)
if [ "$me" -eq 0 ]; then uid=2001; else uid=$me; fi
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:%s:%s:Alice:/home/alice:/bin/sh\n' \
    "$uid" "$uid" >"$tree/etc/passwd"
printf 'root:x:0:\nalice:x:%s:\n' "$uid" >"$tree/etc/group"
chmod 700 "$tree/home/alice"
[ "$me" -ne 0 ] || chown "$uid:$uid" "$tree/home/alice"

ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f "$work/keys/alice"
ssh-keygen -q -t ed25519 -N '' -C 'alice@phone' -f "$work/keys/phone"
ssh-keygen -q -t ed25519 -N '' -C 'intern@desk' -f "$work/keys/intern"
fpr=$(ssh-keygen -l -f "$work/keys/alice.pub" | cut -d' ' -f2)
akeys=$tree/home/alice/.ssh/authorized_keys
revoked=$tree/etc/ssh/keyadm_revoked_keys

printf '%s\n' 'localhost ansible_connection=local ansible_become=false' \
    >"$work/inventory"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_PIPELINING=1
export ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_PYTHON_INTERPRETER=auto_silent
# The role stages keys with mkdtemp(3), which honours TMPDIR: keep them here
# to check that none is left behind.
mkdir -m 755 "$work/tmp"
export TMPDIR="$work/tmp"
# Not the caller's ansible.cfg: the defaults, and the settings above.
printf '[defaults]\n' >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg"

fail=0
n=0
# play NAME EXPECTED_CHANGED [ansible-playbook arguments]
play() {
	name=$1 want=$2
	shift 2
	n=$((n + 1))
	log=$work/run$n.log
	set +e
	ansible-playbook -i "$work/inventory" \
	    -e "keyadm_path=$keyadm" -e "keyadm_root=$tree" "$@" >"$log" 2>&1
	rc=$?
	set -e
	recap=$(grep -E '^localhost +:' "$log" || true)
	printf '%-34s %s\n' "$name:" "$recap"
	if [ "$rc" -ne 0 ] || ! printf '%s\n' "$recap" | grep -q " changed=$want " ||
	    ! printf '%s\n' "$recap" | grep -q ' failed=0 '; then
		echo "FAIL: $name: want changed=$want failed=0, exit 0 (got exit $rc); log:"
		sed 's/^/    /' "$log"
		fail=1
	fi
}
check() {
	if ! eval "$2"; then
		echo "FAIL: $1"
		fail=1
	fi
}

add="$here/keyadm-add.yml"
revoke="$here/keyadm-revoke.yml"
audit="$here/keyadm-audit.yml"

cd "$here"
echo "== add"
play "add, check mode" 1 "$add" -e keyadm_user=alice -e "keyadm_key_file=$work/keys/alice.pub" \
    -e 'keyadm_reason="ticket 1"' --check
check "check mode wrote $akeys" "[ ! -e '$akeys' ]"
play "add, first run" 1 "$add" -e keyadm_user=alice -e "keyadm_key_file=$work/keys/alice.pub" \
    -e 'keyadm_reason="ticket 1"'
check "key not installed" "grep -q 'alice@laptop' '$akeys'"
play "add, second run" 0 "$add" -e keyadm_user=alice -e "keyadm_key_file=$work/keys/alice.pub" \
    -e 'keyadm_reason="ticket 1"'
play "add, check mode, installed key" 0 "$add" -e keyadm_user=alice \
    -e "keyadm_key_file=$work/keys/alice.pub" --check
# options: the first run rewrites the line, the second finds it as it is
play "add --restrict, first run" 1 "$add" -e keyadm_user=alice \
    -e "keyadm_key_file=$work/keys/phone.pub" \
    -e '{"keyadm_add_args": ["--restrict", "--expires", "2099-01-01"]}'
play "add --restrict, second run" 0 "$add" -e keyadm_user=alice \
    -e "keyadm_key_file=$work/keys/phone.pub" \
    -e '{"keyadm_add_args": ["--restrict", "--expires", "2099-01-01"]}'
check "staged key files left behind" "! ls -d '$work/tmp'/keyadm.* >/dev/null 2>&1"

echo "== audit"
reports=$work/reports
play "audit, clean" 3 "$audit" -e "keyadm_audit_report_dir=$reports"
check "report says clean" \
    "grep -q '\"status\": \"clean\"' '$reports/keyadm-audit.json'"
play "audit, clean again" 0 "$audit" -e "keyadm_audit_report_dir=$reports"
cat "$work/keys/intern.pub" >>"$akeys" || fail=1    # a key added by hand
play "audit, a finding (exit 1)" 2 "$audit" -e "keyadm_audit_report_dir=$reports"
check "report lacks the finding" "python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
h = r[\"hosts\"][\"localhost\"]
assert h[\"status\"] == \"findings\" and h[\"rc\"] == 1, h
assert [f[\"kind\"] for f in h[\"findings\"]] == [\"unmanaged-key\"], h
assert r[\"summary\"][\"with_findings\"] == 1, r[\"summary\"]
' '$reports/keyadm-audit.json'"
check "markdown report lacks the finding" \
    "grep -q 'unmanaged-key' '$reports/keyadm-audit.md'"

echo "== revoke"
play "revoke, check mode" 1 "$revoke" -e "keyadm_fingerprint=$fpr" \
    -e 'keyadm_reason="laptop stolen"' --check
check "check mode wrote $revoked" "[ ! -e '$revoked' ]"
check "check mode removed the key" "grep -q 'alice@laptop' '$akeys'"
play "revoke, first run" 1 "$revoke" -e "keyadm_fingerprint=$fpr" \
    -e 'keyadm_reason="laptop stolen"'
check "key still installed" "! grep -q 'alice@laptop' '$akeys'"
check "key not in $revoked" \
    "grep -q \"\$(cut -d' ' -f2 '$work/keys/alice.pub')\" '$revoked'"
play "revoke, second run" 0 "$revoke" -e "keyadm_fingerprint=$fpr" \
    -e 'keyadm_reason="laptop stolen"'
# the hand-added key was never recorded: by fingerprint keyadm cannot revoke
# it (ok, not changed, a warning); by its .pub it lists it in the
# revoked-keys file, and the role's audit sweep takes the line out
ifpr=$(ssh-keygen -l -f "$work/keys/intern.pub" | cut -d' ' -f2)
play "revoke unrecorded, fingerprint" 0 "$revoke" -e "keyadm_fingerprint=$ifpr" \
    -e 'keyadm_reason="found by audit"'
play "revoke unrecorded, .pub, first" 2 "$revoke" \
    -e "keyadm_key_file=$work/keys/intern.pub" -e 'keyadm_reason="found by audit"'
play "revoke unrecorded, .pub, second" 0 "$revoke" \
    -e "keyadm_key_file=$work/keys/intern.pub" -e 'keyadm_reason="found by audit"'
check "hand-added key still installed" "! grep -q 'intern@desk' '$akeys'"
check "hand-added key not in $revoked" \
    "grep -q \"\$(cut -d' ' -f2 '$work/keys/intern.pub')\" '$revoked'"
play "audit, after the revokes" 2 "$audit" -e "keyadm_audit_report_dir=$reports"
check "audit not clean after the revokes" \
    "grep -q '\"status\": \"clean\"' '$reports/keyadm-audit.json'"

echo "== a refusal fails the host"
set +e
ansible-playbook -i "$work/inventory" -e "keyadm_path=$keyadm" \
    -e "keyadm_root=$tree" "$add" -e keyadm_user=alice \
    -e "keyadm_key_file=$work/keys/alice.pub" >"$work/refused.log" 2>&1
rc=$?
set -e
recap=$(grep -E '^localhost +:' "$work/refused.log" || true)
printf '%-34s %s\n' "add a revoked key:" "$recap"
check "adding a revoked key did not fail (exit $rc)" \
    "[ $rc -ne 0 ] && printf '%s\n' '$recap' | grep -q ' failed=1 '"

if [ "$fail" -ne 0 ]; then
	echo "ansible test: FAILED (logs in $work)"
	trap - EXIT
	exit 1
fi
echo "ansible test: passed"
