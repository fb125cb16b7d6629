# Throwaway PostgreSQL clusters for quarry's tests, demo and benchmarks.
# Source this file; it defines:
#
#   cluster_user                  the unprivileged OS user clusters run as
#                                 (postgres when we are root: initdb refuses root)
#   as_cluster_user CMD...        runs CMD as that user
#   make_workspace NAME           a fresh directory under $TMPDIR (default /tmp) owned by that user
#   free_port                     a TCP port nothing listens on
#   cluster_start DIR PORT [SETTING=VALUE...]
#                                 initdb DIR/data and start it, socket in DIR, on PORT
#                                 (= cluster_initdb + cluster_configure + cluster_up)
#   cluster_initdb DIR [INITDB-OPTION...]
#                                 initdb DIR/data (UTF8, C.UTF-8, trust, no data
#                                 checksums) with extra options
#   initdb_checksum_opts          the initdb options for "no data checksums" with
#                                 PG_BINDIR's initdb: --no-data-checksums where that
#                                 exists (18, whose default is on), else none; nothing
#                                 when QUARRY_DATA_CHECKSUMS=1 (the server's default)
#   cluster_configure DIR PORT [SETTING=VALUE...]
#                                 appends the test settings to DIR/data/postgresql.conf
#   cluster_up DIR                starts the cluster already in DIR/data (log DIR/server.log)
#   cluster_stop DIR              fast shutdown (no error if it is not running)
#   cluster_psql DIR PORT ARGS... psql against it, as the cluster user
#
# PG_BINDIR (default: pg_config --bindir) chooses the PostgreSQL installation.

: "${PG_BINDIR:=$(pg_config --bindir)}"

cluster_user() {
	if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi
}

as_cluster_user() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

make_workspace() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/quarry-$1.XXXXXX")
	chmod 755 "$dir"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
	echo "$dir"
}

free_port() {
	local port
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

cluster_start() {
	local dir=$1 port=$2
	shift 2
	cluster_initdb "$dir" && cluster_configure "$dir" "$port" "$@" && cluster_up "$dir"
}

# Test clusters are alike on every version: without data checksums, as 15 and 17
# make them by default (the corruption tests overwrite pages under a valid header).
initdb_checksum_opts() {
	[[ ${QUARRY_DATA_CHECKSUMS:-0} == 1 ]] && return 0
	# Not "initdb --help | grep -q": under pipefail, grep leaving early can make
	# initdb die of SIGPIPE and the pipeline fail (a checksummed 18 cluster).
	local help
	help=$("$PG_BINDIR/initdb" --help 2>/dev/null)
	[[ $help == *--no-data-checksums* ]] && echo --no-data-checksums
	return 0
}

cluster_initdb() {
	local dir=$1
	shift
	# shellcheck disable=SC2046 # zero or one word
	as_cluster_user "$PG_BINDIR/initdb" -D "$dir/data" -U "$(cluster_user)" --auth=trust \
		--no-sync -E UTF8 --locale=C.UTF-8 $(initdb_checksum_opts) "$@" >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
}

cluster_configure() {
	local dir=$1 port=$2
	shift 2
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$dir'"
		echo "shared_buffers = 256MB"
		echo "max_connections = 60"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = on"
		echo "log_min_messages = warning"
		echo "logging_collector = off"
		for setting in "$@"; do echo "${setting%%=*} = ${setting#*=}"; done
	} | as_cluster_user tee -a "$dir/data/postgresql.conf" >/dev/null
}

cluster_up() {
	local dir=$1
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
		tail -20 "$dir/server.log" >&2
		return 1
	}
}

cluster_stop() {
	local dir=$1
	[[ -f $dir/data/postmaster.pid ]] || return 0
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

cluster_psql() {
	local dir=$1 port=$2
	shift 2
	as_cluster_user "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d postgres "$@"
}
