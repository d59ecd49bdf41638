# deps.sh -- sourced by tests/run.sh and tests/demo.sh: install the Debian
# packages keyadm needs to build and test, when they are missing and we are
# root.  Idempotent; prints nothing when everything is there.

KEYADM_DEBS="build-essential cmake pkg-config libssh-dev libssl-dev \
libsqlite3-dev sqlite3 libcriterion-dev libpam0g-dev openssh-client \
openssh-server mandoc putty-tools openssl python3 strace bash systemd"

keyadm_deps() {
	missing=""
	for p in $KEYADM_DEBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "keyadm: missing Debian packages:$missing" >&2
		echo "keyadm: run this script as root to install them" >&2
		return 1
	fi
	echo "== installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null &&
	    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
