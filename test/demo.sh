#!/usr/bin/env bash
# The demo command. Builds and installs quarry, starts a throwaway PostgreSQL
# cluster (in /tmp/quarry-demo, on a free port, as an unprivileged user), and
# shows the extension working. The cluster keeps running so you can try your
# own queries:
#
#   test/demo.sh            build, install, start, show
#   test/demo.sh psql       a psql session on the demo cluster
#   test/demo.sh stop       stop the demo cluster and delete it
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source test/lib/cluster.sh
demo=/tmp/quarry-demo

demo_port() { cat "$demo/port" 2>/dev/null; }

case ${1:-run} in
psql)
	[[ -f $demo/port ]] || { echo "no demo cluster: run test/demo.sh first" >&2; exit 1; }
	cluster_psql "$demo" "$(demo_port)" -d demo "${@:2}"
	exit
	;;
stop)
	cluster_stop "$demo"
	rm -rf "$demo"
	echo "demo cluster stopped and removed"
	exit
	;;
run) ;;
*)
	echo "usage: test/demo.sh [psql|stop]" >&2
	exit 2
	;;
esac

echo "== dependencies"
test/deps.sh test demo
echo "== build and install"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
make -s -j"$(nproc)" >/dev/null
"${sudo_cmd[@]}" make -s install >/dev/null

echo "== throwaway cluster"
if [[ -f $demo/data/postmaster.pid ]]; then
	cluster_stop "$demo"
fi
rm -rf "$demo"
mkdir -p "$demo"
[[ $(id -u) -eq 0 ]] && chown postgres: "$demo"
port=$(free_port)
cluster_start "$demo" "$port" "lc_messages='C'"
echo "$port" | as_cluster_user tee "$demo/port" >/dev/null
cluster_psql "$demo" "$port" -q -c "CREATE DATABASE demo"
psql_demo() { cluster_psql "$demo" "$port" -d demo "$@"; }
echo "cluster in $demo, port $port"

echo
echo "== quarry"
psql_demo -q -c "CREATE EXTENSION quarry"
psql_demo -c "SELECT extname, extversion FROM pg_extension WHERE extname = 'quarry'"
psql_demo -c "SELECT * FROM quarry_memory_stats()" -x

# Vector search on Fashion-MNIST (quarry_hnsw).
source test/lib/demo_hnsw.sh
demo_hnsw "$demo"

cat <<EOT

The demo cluster is running. Try your own SQL:
  test/demo.sh psql                      (psql on database "demo")
  test/demo.sh stop                      (stop and delete the cluster)
EOT
