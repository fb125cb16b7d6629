# A throwaway Citus cluster for quarry's scale-out tests: a coordinator and two
# workers, three PostgreSQL clusters on loopback. Source test/lib/cluster.sh
# first, then this file; it defines:
#
#   citus_start BASE [SETTING=VALUE...]
#                     initdb BASE/coordinator, BASE/worker1, BASE/worker2 (free
#                     ports), start them with Citus preloaded, CREATE EXTENSION
#                     citus and quarry in each one's postgres database, register
#                     the coordinator and both workers; the settings go to all three.
#                     Installs a trap that stops all three when the shell exits
#                     (on failure too); returns non-zero if any step fails
#   citus_stop BASE   stops the three (no error for one not running)
#   citus_port BASE NODE        the port of coordinator, worker1 or worker2
#   citus_psql BASE NODE ARGS...  psql on that node's postgres database
#
# Citus must be installed in PG_BINDIR's PostgreSQL (test/build_citus.sh).

citus_nodes=(coordinator worker1 worker2)

citus_port() {
	cat "$1/$2/port"
}

citus_psql() {
	local base=$1 node=$2
	shift 2
	cluster_psql "$base/$node" "$(citus_port "$base" "$node")" "$@"
}

citus_stop() {
	local base=$1 node
	for node in "${citus_nodes[@]}"; do
		[[ -d $base/$node ]] && cluster_stop "$base/$node"
	done
	return 0
}

citus_start() {
	local base=$1 node port
	shift
	mkdir -p "$base"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$base"
	# shellcheck disable=SC2064 # BASE is fixed now, on purpose
	trap "citus_stop '$base'" EXIT
	for node in "${citus_nodes[@]}"; do
		mkdir -p "$base/$node"
		[[ $(id -u) -eq 0 ]] && chown postgres: "$base/$node"
		port=$(free_port)
		echo "$port" >"$base/$node/port"
		cluster_initdb "$base/$node" || return 1
		cluster_configure "$base/$node" "$port" "shared_preload_libraries='citus'" \
			"max_connections=100" "max_prepared_transactions=100" "lc_messages='C'" \
			"citus.enable_statistics_collection=off" "$@"
		cluster_up "$base/$node" || return 1
		citus_psql "$base" "$node" -q -c "CREATE EXTENSION citus" -c "CREATE EXTENSION quarry" || return 1
	done
	citus_psql "$base" coordinator -q -At \
		-c "SELECT citus_set_coordinator_host('127.0.0.1', $(citus_port "$base" coordinator))" \
		-c "SELECT citus_add_node('127.0.0.1', $(citus_port "$base" worker1))" \
		-c "SELECT citus_add_node('127.0.0.1', $(citus_port "$base" worker2))" >/dev/null || return 1
}
