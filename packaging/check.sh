#!/bin/sh
# check.sh -- cheap checks of packaging/, without building a package.
#
#   packaging/check.sh BUILD/keyadm
#
# 1. the bash completion parses (bash -n) and completes commands, options
#    and users when sourced;
# 2. the systemd units pass `systemd-analyze verify` (skipped with a
#    message when systemd-analyze is not installed);
# 3. the sample keyadm.conf is accepted by the keyadm given (as the
#    /etc/keyadm.conf of a scratch --root tree), and so is the same file
#    with every "#name = default" line uncommented; a bad line is refused
#    (which shows the file really is read).
# One line per check; the exit status is 1 when any check failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: packaging/check.sh PATH/TO/BUILT/keyadm" >&2
	exit 64
fi
case $1 in
/*) keyadm=$1 ;;
*) keyadm=$(pwd)/$1 ;;
esac

fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
skip() { echo "skip $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyadm-pkgcheck.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

# --- 1. bash completion ---------------------------------------------------
comp="$here/completion/keyadm"
if ! command -v bash >/dev/null 2>&1; then
	skip "completion: bash is not installed"
elif err=$(bash -n "$comp" 2>&1); then
	pass "completion: bash -n $comp"
	# Complete a few command lines as readline would split them; no
	# bash-completion loaded, so the file's own fallbacks are used.
	mkdir -p "$tmp/ctree/etc"
	printf 'root:x:0:0::/root:/bin/sh\nzed1:x:2001:2001::/home/zed1:/bin/sh\nzed2:x:2002:2002::/home/zed2:/bin/sh\n' \
	    >"$tmp/ctree/etc/passwd"
	out=$(CTREE="$tmp/ctree" bash --norc --noprofile -c '
		. "$1" || exit 1
		complete -p keyadm >/dev/null || exit 1
		c() {
			COMP_LINE=$1
			COMP_POINT=${#1}
			local s=${1//=/ = }
			read -ra COMP_WORDS <<<"$s"
			[[ $1 == *" " ]] && COMP_WORDS+=("")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=()
			_keyadm keyadm "${COMP_WORDS[COMP_CWORD]}" \
			    "${COMP_WORDS[COMP_CWORD-1]}"
			echo "${COMPREPLY[*]}"
		}
		c "keyadm au"
		c "keyadm --json a"
		c "keyadm list --status "
		c "keyadm list --status=re"
		c "keyadm add --d"
		c "keyadm --root $CTREE add ze"
		c "keyadm --root $CTREE audit zed1 ze"
		c "keyadm --root $CTREE revoke --user z"
		c "keyadm --root $CTREE authorized-keys zed1 ssh-ed"
	' sh "$comp" 2>&1)
	expect="audit authorized-keys
add audit adopt authorized-keys
active revoked expired removed all
revoked removed
--dry-run
zed1 zed2
zed1 zed2
zed1 zed2
ssh-ed25519"
	if [ "$out" = "$expect" ]; then
		pass "completion: commands, options, --status values, users"
	else
		fail "completion: got [$(echo "$out" | tr '\n' '|')]," \
		    "expected [$(echo "$expect" | tr '\n' '|')]"
	fi
else
	fail "completion: bash -n: $(echo "$err" | tr '\n' ' ')"
fi

# --- 2. systemd units -------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd units: systemd-analyze is not installed"
else
	# ExecStart names /usr/sbin/keyadm, which verify wants to exist: point
	# it at the keyadm given.  The man pages need not be installed.
	mkdir "$tmp/units"
	for u in "$here"/systemd/*.service "$here"/systemd/*.timer; do
		sed "s#/usr/sbin/keyadm#$keyadm#g" "$u" >"$tmp/units/${u##*/}"
	done
	if err=$(cd "$tmp/units" && systemd-analyze verify --man=no \
	    ./*.service ./*.timer 2>&1) && [ -z "$err" ]; then
		pass "systemd units: systemd-analyze verify" \
		    "$(cd "$tmp/units" && echo *)"
	else
		fail "systemd units: systemd-analyze verify:" \
		    "$(echo "$err" | tr '\n' ' ')"
	fi
fi

# --- 3. the sample keyadm.conf --------------------------------------------
# keyadm reads DIR/etc/keyadm.conf under --root DIR with the rules of
# /etc/keyadm.conf (owned by root or us, nothing group or world-writable
# on the way), so the file is copied into a scratch tree.
conf_ok() {	# NAME FILE: keyadm --root TREE list accepts FILE as its config
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree/etc"
	chmod 0755 "$tmp/tree" "$tmp/tree/etc"
	cp "$2" "$tmp/tree/etc/keyadm.conf"
	chmod 0644 "$tmp/tree/etc/keyadm.conf"
	if err=$("$keyadm" --root "$tmp/tree" list 2>&1 >/dev/null); then
		pass "keyadm.conf: $1 accepted"
	else
		fail "keyadm.conf: $1 refused (exit $?): $err"
	fi
}
conf_ok "packaging/keyadm.conf" "$here/keyadm.conf"

# every "#name = value" line uncommented: the defaults shown are valid
sed -n 's/^#\([a-z_0-9]* = \)/\1/p' "$here/keyadm.conf" >"$tmp/defaults.conf"
n=$(wc -l <"$tmp/defaults.conf")
if [ "$n" -lt 15 ]; then
	fail "keyadm.conf: only $n \"#name = value\" lines"
else
	conf_ok "its $n settings uncommented" "$tmp/defaults.conf"
fi

# the control: a line keyadm does not know is refused with exit 78
{ cat "$here/keyadm.conf"; echo "no_such_setting = 1"; } >"$tmp/bad.conf"
rm -rf "$tmp/tree"
mkdir -p "$tmp/tree/etc"
cp "$tmp/bad.conf" "$tmp/tree/etc/keyadm.conf"
chmod 0644 "$tmp/tree/etc/keyadm.conf"
"$keyadm" --root "$tmp/tree" list >/dev/null 2>&1
r=$?
if [ "$r" -eq 78 ]; then
	pass "keyadm.conf: an unknown setting is refused (exit 78)"
else
	fail "keyadm.conf: an unknown setting gave exit $r, not 78"
fi

if [ "$fails" -ne 0 ]; then
	echo "packaging/check.sh: $fails check(s) failed"
	exit 1
fi
echo "packaging/check.sh: all checks passed"
