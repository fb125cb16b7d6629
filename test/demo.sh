#!/usr/bin/env bash
# The demo command. Builds and installs quarry, starts a throwaway PostgreSQL
# cluster (in /tmp/quarry-demo, on a free port, as an unprivileged user), and
# shows the extension working. The cluster keeps running so you can try your
# own queries:
#
#   test/demo.sh                    build, install, start, show
#   test/demo.sh search 'question'  search the PostgreSQL manual on the demo cluster
#   test/demo.sh psql               a psql session on the demo cluster
#   test/demo.sh stop               stop the demo cluster and delete it
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
search)
	[[ -f $demo/port ]] || { echo "no demo cluster: run test/demo.sh first" >&2; exit 1; }
	[[ -n ${2:-} ]] || { echo "usage: test/demo.sh search 'your question'" >&2; exit 2; }
	cluster_psql "$demo" "$(demo_port)" -d demo -v q="$2" <<'SQL'
\timing on
SELECT * FROM search(:'q', 5);
SQL
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
	echo "usage: test/demo.sh [search 'question'|psql|stop]" >&2
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

# Runs CREATE INDEX (and what follows it in the same session) in the background
# and shows pg_stat_progress_create_index while it runs.
create_index_with_progress() { # sql
	local out
	out=$(mktemp)
	psql_demo -q <<<"$1" >"$out" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		psql_demo -At -c "SELECT format('  progress: %s, %s of %s rows', phase, tuples_done, tuples_total)
		                  FROM pg_stat_progress_create_index" 2>/dev/null | sed '/^$/d'
		sleep 0.1
	done
	wait "$pid"
	cat "$out"
	rm -f "$out"
}

demo_bm25() {
	echo
	echo "== BM25: the PostgreSQL manual, searchable"
	local html=/usr/share/doc/postgresql-doc-15/html
	/usr/bin/python3 test/demo_manual.py "$html" | as_cluster_user tee "$demo/manual.tsv" >/dev/null
	psql_demo -q <<SQL
CREATE TABLE manual (id serial PRIMARY KEY, page text, anchor text, title text, body text);
\copy manual (page, anchor, title, body) FROM '$demo/manual.tsv'
ANALYZE manual;
SQL
	psql_demo -At -c "SELECT format('loaded %s sections (%s) of the manual from $html',
	                                count(*), pg_size_pretty(sum(length(body))::bigint)) FROM manual"
	echo "CREATE INDEX manual_bm25 ON manual USING quarry_bm25 ((title || ' ' || body)) WITH (text_config = 'english');"
	create_index_with_progress "\\timing on
CREATE INDEX manual_bm25 ON manual USING quarry_bm25 ((title || ' ' || body)) WITH (text_config = 'english');
\\timing off
\\echo The build arena (a private jemalloc arena) is gone once CREATE INDEX ends:
SELECT build_arenas_created, build_arenas_destroyed, build_arenas_live,
		       pg_size_pretty(build_bytes_peak) AS arena_peak, pg_size_pretty(backend_anon_bytes) AS backend_private_memory
		FROM quarry_memory_stats();"
	psql_demo -c "SELECT doc_count AS sections, round(avg_length) AS avg_lexemes, pg_size_pretty(pages * 8192) AS index_size,
	                     text_config FROM quarry_bm25_stats('manual_bm25')"
	psql_demo -q <<'SQL'
CREATE FUNCTION search(q text, k int DEFAULT 5)
RETURNS TABLE (rank bigint, score numeric, title text, snippet text, link text) LANGUAGE sql STABLE AS $$
    SELECT row_number() OVER (), round(-((m.title || ' ' || m.body) <@> quarry_query_parse(q, 'manual_bm25'))::numeric, 2),
           m.title, quarry_snippet(m.body, quarry_query_parse(q, 'manual_bm25'), '*', '*', 1, 16),
           'https://www.postgresql.org/docs/15/' || m.page || '#' || m.anchor
    FROM (SELECT * FROM manual ORDER BY (title || ' ' || body) <@> quarry_query_parse(q, 'manual_bm25') LIMIT k) m
$$;
SQL
	echo
	echo "EXPLAIN of a search: an ordered index scan, exact BM25 top k:"
	psql_demo -c "EXPLAIN (COSTS OFF) SELECT title FROM manual ORDER BY (title || ' ' || body) <@> 'vacuum' LIMIT 5"
	for question in "how do I vacuum a table" "create index concurrently" "logical replication slot" "replic* slot" \
		"+vacum~1 -full"; do
		echo "-- $question"
		psql_demo -v q="$question" <<'SQL' | sed '/^$/d'
\timing on
SELECT * FROM search(:'q', 3);
SQL
	done
}

demo_bm25

# Vector search on Fashion-MNIST (quarry_hnsw).
source test/lib/demo_hnsw.sh
demo_hnsw "$demo"

cat <<EOT

The demo cluster is running. Try your own:
  test/demo.sh search 'how are TOAST values compressed'
  test/demo.sh psql                      (psql on database "demo"; try SELECT * FROM search('...'))
  test/demo.sh stop                      (stop and delete the cluster)
EOT
