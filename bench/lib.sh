# Shared by the benchmark scripts: a throwaway cluster tuned for measuring, and
# loaders for the data sets in ../shared/data. Source after test/lib/cluster.sh.
#
#   bench_start NAME                start a cluster in /tmp/quarry-bench-NAME
#   bench_psql ARGS...              psql on it (database "bench")
#   bench_stop                      stop and delete it (QUARRY_BENCH_KEEP=1 keeps it)
#   load_beir DIR PREFIX            DIR/{corpus,queries}.jsonl + qrels/test.tsv into
#                                   PREFIX_docs(id, title, body), PREFIX_queries(id, text),
#                                   PREFIX_qrels(qid, did, score)

bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${QUARRY_DATA:=$(cd "$bench_repo/.." && pwd)/shared/data}"
export QUARRY_DATA

bench_start() {
	bench_dir=/tmp/quarry-bench-$1
	if [[ -f $bench_dir/data/postmaster.pid ]]; then
		cluster_stop "$bench_dir"
	fi
	rm -rf "$bench_dir"
	mkdir -p "$bench_dir"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$bench_dir"
	bench_port=$(free_port)
	cluster_start "$bench_dir" "$bench_port" "shared_buffers=4GB" "work_mem='64MB'" \
		"maintenance_work_mem='2GB'" "effective_cache_size='16GB'" "max_parallel_workers_per_gather=0" \
		"max_parallel_maintenance_workers=0" "jit=off" "lc_messages='C'" "checkpoint_timeout='30min'" \
		"max_wal_size='10GB'"
	cluster_psql "$bench_dir" "$bench_port" -q -c "CREATE DATABASE bench"
	bench_psql -q -c "CREATE EXTENSION quarry"
}

bench_psql() {
	cluster_psql "$bench_dir" "$bench_port" -d bench "$@"
}

bench_stop() {
	[[ -n ${bench_dir:-} ]] || return 0
	cluster_stop "$bench_dir"
	[[ ${QUARRY_BENCH_KEEP:-0} == 1 ]] || rm -rf "$bench_dir"
}

load_beir() {
	local dir=$1 prefix=$2
	bench_psql -q <<SQL
CREATE TEMP TABLE raw_docs (j jsonb);
\\copy raw_docs FROM '$dir/corpus.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE ${prefix}_docs AS
    SELECT j->>'_id' AS id, coalesce(j->>'title', '') AS title, j->>'text' AS body FROM raw_docs;
CREATE TEMP TABLE raw_queries (j jsonb);
\\copy raw_queries FROM '$dir/queries.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE ${prefix}_qrels (qid text, did text, score int);
\\copy ${prefix}_qrels FROM PROGRAM 'tail -n +2 $dir/qrels/test.tsv'
CREATE TABLE ${prefix}_queries AS
    SELECT j->>'_id' AS id, j->>'text' AS text FROM raw_queries
    WHERE j->>'_id' IN (SELECT qid FROM ${prefix}_qrels);
SQL
}

# Requires a data folder; prints why and exits 0 when it is absent.
require_data() {
	if [[ ! -r $QUARRY_DATA/$1 ]]; then
		echo "skipped: $QUARRY_DATA/$1 is not available"
		exit 0
	fi
}
