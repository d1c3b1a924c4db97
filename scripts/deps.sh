#!/bin/sh
# Install every Debian package pincer's build, tests and runtime need.
# Installs only what is missing, and says nothing when all is present.
set -eu

PACKAGES="
	make gcc clang pkg-config libclang-rt-14-dev
	libjansson-dev libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libssl-dev
	libcurl4-openssl-dev libyaml-dev libxml2-dev libsqlite3-dev
	libcmocka-dev
	python3 python3-pytest python3-pytest-timeout python3-websockets python3-cryptography
	chromium
"

missing=""
for p in $PACKAGES; do
	# dpkg-query is fast and needs no root; "install ok installed" means present.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
