#!/bin/sh
# demo.sh -- keyadm's main job, end to end, in a throwaway --root tree.
#
# Builds keyadm if needed, makes a tree with two accounts (alice, bob),
# makes real key pairs with ssh-keygen the way users do, and then does what
# an administrator does: check a key, add it, add it again (nothing
# changes), list the grants as text and JSON, and watch keyadm refuse a weak
# key, a private key sent by mistake and a home with a planted symlink;
# then restrict a key with options and an expiry, revoke a key everywhere
# (the revoked-keys file sshd reads), refuse to add it back without
# --force, and expire grants whose time has passed; finally audit what the
# files really grant after a hand edit, adopt the stray key, and show the
# hash-chained history.
# Nothing outside the tree is touched; the tree is removed at the end
# (KEEP=1 keeps it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/deps.sh"
keyadm_deps

build="$top/build"
if [ ! -x "$build/keyadm" ]; then
	echo "== building keyadm in $build"
	cmake -S "$top" -B "$build" -DKEYADM_TESTS=OFF >/dev/null
	cmake --build "$build" -j "$(nproc)" >/dev/null
fi
keyadm="$build/keyadm"

tree=$(mktemp -d /tmp/keyadm-demo.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tree"' EXIT
chmod 755 "$tree"
me=$(id -u)
# As root the accounts get their own uids; otherwise they are all us.
if [ "$me" -eq 0 ]; then a_uid=2001; b_uid=2002; else a_uid=$me; b_uid=$me; fi
mkdir -p "$tree/etc" "$tree/home/alice" "$tree/home/bob" "$tree/var/lib"
cat >"$tree/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
alice:x:$a_uid:$a_uid:Alice:/home/alice:/bin/sh
bob:x:$b_uid:$b_uid:Bob:/home/bob:/bin/sh
PW
printf 'root:x:0:\nalice:x:%s:\nbob:x:%s:\n' "$a_uid" "$b_uid" >"$tree/etc/group"
chmod 700 "$tree/home/alice" "$tree/home/bob"
if [ "$me" -eq 0 ]; then
	chown "$a_uid:$a_uid" "$tree/home/alice"
	chown "$b_uid:$b_uid" "$tree/home/bob"
fi

run() {
	echo
	echo "\$ keyadm $*"
	set +e
	"$keyadm" --root "$tree" "$@"
	echo "(exit $?)"
	set -e
}

echo "== users make key pairs on their own machines"
mkdir -p "$tree/inbox"
ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f "$tree/inbox/alice"
ssh-keygen -q -t rsa -b 1024 -N '' -C 'bob@old-box' -f "$tree/inbox/bob_weak" 2>/dev/null ||
    openssl genrsa 1024 2>/dev/null | ssh-keygen -y -f /dev/stdin >"$tree/inbox/bob_weak.pub"
ssh-keygen -q -t ecdsa -b 384 -N '' -C 'bob@desk' -f "$tree/inbox/bob"
# bob's laptop runs Windows: PuTTYgen writes an RFC 4716 public key
puttygen -q -t ed25519 -C 'bob@windows' -o "$tree/inbox/bob-putty.ppk" \
    --new-passphrase /dev/null
puttygen "$tree/inbox/bob-putty.ppk" -O public -o "$tree/inbox/bob-putty.pub"
# alice also has a key made with openssl: SPKI PEM
openssl genpkey -algorithm ed25519 2>/dev/null |
    openssl pkey -pubout >"$tree/inbox/alice-openssl.pem"
ls -l "$tree/inbox"

echo
echo "== the administrator's side (the tree $tree stands for /)"
run check "$tree/inbox/alice.pub"
run add alice "$tree/inbox/alice.pub" --reason "ticket 4711"
run add alice "$tree/inbox/alice.pub" --reason "ticket 4711 again"
run check "$tree/inbox/bob_weak.pub"
run add bob "$tree/inbox/bob_weak.pub"
run add bob "$tree/inbox/bob" --reason "sent the private key by mistake"
run add bob "$tree/inbox/bob.pub" --reason "ticket 4712"
run check "$tree/inbox/bob-putty.pub" "$tree/inbox/alice-openssl.pem"
run add bob "$tree/inbox/bob-putty.pub" --reason "ticket 4713: Windows laptop"
run add bob "$tree/inbox/bob-putty.ppk" --reason "the .ppk is the private key"
run add carol "$tree/inbox/alice.pub"
run list
run --json list alice

echo
echo "== what sshd will read"
ls -ld "$tree/home/alice" "$tree/home/alice/.ssh" "$tree/home/alice/.ssh/authorized_keys"
cat "$tree/home/alice/.ssh/authorized_keys"

echo
echo "== restrict what a key may do; options are checked as sshd parses them"
run add bob "$tree/inbox/bob.pub" --restrict --from "10.0.0.0/8,*.example.com" \
    --command /usr/bin/aspshell --expires 90d --reason "ticket 4714" --dry-run
run add bob "$tree/inbox/bob.pub" --restrict --from "10.0.0.0/8,*.example.com" \
    --command /usr/bin/aspshell --expires 90d --reason "ticket 4714"
run add bob "$tree/inbox/bob.pub" --from "10.0.0.1/8"
cat "$tree/home/bob/.ssh/authorized_keys"

echo
echo "== alice's laptop is stolen: revoke her key everywhere"
run add bob "$tree/inbox/alice.pub" --reason "alice helps bob"
run revoke "$tree/inbox/alice.pub" --reason "laptop stolen" --dry-run
run revoke "$tree/inbox/alice.pub" --reason "laptop stolen"
cat "$tree/etc/ssh/keyadm_revoked_keys"
run add alice "$tree/inbox/alice.pub" --reason "found it again"
run list --status revoked

echo
echo "== a key that expires in two seconds, then the cron job"
ssh-keygen -q -t ed25519 -N '' -C 'contractor@laptop' -f "$tree/inbox/contractor"
run add alice "$tree/inbox/contractor.pub" --expires 2s --reason "one-off"
run list alice
sleep 3
run expire
run list --status expired

echo
echo "== bob plants a symbolic link to root's keys; keyadm refuses"
rm -rf "$tree/home/bob/.ssh"
mkdir -p "$tree/root/.ssh"
ln -s "$tree/root/.ssh" "$tree/home/bob/.ssh"
run add bob "$tree/inbox/bob-putty.pub" --reason "should not land in /root"
ls -la "$tree/root/.ssh"

echo
echo "== what really grants access: someone edits alice's keys by hand"
ssh-keygen -q -t ed25519 -N '' -C 'intern@desk' -f "$tree/inbox/intern"
cat "$tree/inbox/intern.pub" >>"$tree/home/alice/.ssh/authorized_keys"
run audit
run adopt alice --reason "found by audit; approved in ticket 4720"
run audit alice
run history --user alice
run verify
echo
echo "== demo done"
