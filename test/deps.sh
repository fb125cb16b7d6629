#!/usr/bin/env bash
# Installs the Debian packages quarry needs that are missing. Idempotent; prints
# nothing when nothing is missing.
#
#   test/deps.sh [test|demo|bench]...     (default: test)
#
#   test   build + every test: PostgreSQL 15 server and headers, CRoaring,
#          GoogleTest, cmake, the compilers, dpkg-dev (jemalloc source), Perl IPC::Run
#          (TAP tests), lz4, zstd and GSSAPI headers (Citus: test/build_citus.sh)
#   demo   the demo's data: the PostgreSQL manual, Fashion-MNIST
#   bench  the benchmark anchors and plots: RUM, hnswlib, matplotlib; psycopg2 and
#          psycopg 3 (the client-path benchmarks)
set -euo pipefail

profiles=("$@")
[[ ${#profiles[@]} -eq 0 ]] && profiles=(test)

packages=()
for profile in "${profiles[@]}"; do
	case $profile in
	test)
		packages+=(postgresql-15 postgresql-server-dev-15 postgresql-contrib libroaring-dev
			googletest libgtest-dev cmake g++ make dpkg-dev libipc-run-perl xz-utils
			ca-certificates clang libclang-rt-14-dev liblz4-dev libzstd-dev libkrb5-dev)
		;;
	demo)
		packages+=(postgresql-doc-15 dataset-fashion-mnist python3 xz-utils)
		;;
	bench)
		packages+=(postgresql-15-rum libhnswlib-dev python3-matplotlib python3-numpy zlib1g-dev
			python3-psycopg2 python3-psycopg
			xz-utils)
		;;
	*)
		echo "deps.sh: unknown profile '$profile' (test, demo or bench)" >&2
		exit 2
		;;
	esac
done

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "deps.sh: missing packages (${missing[*]}) and not root; install them or run as root" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
	2> >(grep -v -e "^debconf: delaying" >&2)
