#!/usr/bin/env bash
# quarry_bm25 under concurrent writers and readers: pgbench runs 8 sessions for
# a bounded time, inserting, updating, deleting and searching, with a pending
# list limit small enough that flushes and merges happen all the time, and
# VACUUM running alongside. Afterwards the index must agree with the table:
#   - no ERROR and no crashed backend during the run,
#   - for a set of queries, the ranked index scan returns exactly the rows that
#     hold a query term, with the same scores as the seqscan plan,
#   - N and the total length equal a count over the table (after VACUUM),
#   - every search issued during the run returned rows in score order (the
#     search script checks it).
set -euo pipefail
repo=${QUARRY_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/lib/cluster.sh"
work=$(make_workspace bm25-concurrency)
port=$(free_port)
trap 'cluster_stop "$work/c"; [[ ${QUARRY_KEEP:-0} == 1 ]] || rm -rf "$work"' EXIT
mkdir -p "$work/c"
[[ $(id -u) -eq 0 ]] && chown postgres: "$work/c"
cluster_start "$work/c" "$port" "quarry.bm25_pending_limit='64kB'" "autovacuum_naptime=1" \
	"log_min_messages=error"
psql_c() { cluster_psql "$work/c" "$port" "$@"; }

psql_c -q <<'SQL'
CREATE EXTENSION quarry;
CREATE TABLE docs (id bigserial PRIMARY KEY, grp int, body text);
INSERT INTO docs (grp, body)
SELECT g % 10, 'w' || (g % 97) || ' w' || (g % 13) || ' common words ' || g FROM generate_series(1, 5000) g;
CREATE INDEX docs_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'simple');
-- The rows the ranked index scan returns with a positive score.
CREATE FUNCTION docs_by_index(q text) RETURNS TABLE (id bigint, s float8) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    RETURN QUERY SELECT x.id, x.s FROM (SELECT d.id, d.body <@> q AS s FROM docs d ORDER BY d.body <@> q) x
                 WHERE x.s < 0;
END $$;
-- Every search checks its own rows come in non-increasing score order.
CREATE TABLE order_violations (at timestamptz DEFAULT now(), q text);
CREATE FUNCTION search_checked(q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    prev float8 := -1e300;
    r record;
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR r IN SELECT body <@> q AS s FROM docs ORDER BY body <@> q LIMIT 20 LOOP
        IF r.s < prev THEN
            INSERT INTO order_violations (q) VALUES (q);
        END IF;
        prev := r.s;
    END LOOP;
END $$;
SQL

cat >"$work/insert.sql" <<'EOF'
\set g random(1, 100000)
INSERT INTO docs (grp, body) VALUES (:g % 10, 'w' || (:g % 97) || ' w' || (:g % 13) || ' inserted ' || :g);
EOF
cat >"$work/update.sql" <<'EOF'
\set id random(1, 5000)
UPDATE docs SET body = body || ' updated' WHERE id = :id;
EOF
cat >"$work/delete.sql" <<'EOF'
\set id random(1, 8000)
DELETE FROM docs WHERE id = :id;
EOF
cat >"$work/search.sql" <<'EOF'
\set a random(1, 97)
\set b random(1, 13)
SELECT search_checked('w' || :a || ' w' || :b || ' updated');
EOF
cat >"$work/vacuum.sql" <<'EOF'
VACUUM docs;
EOF
chmod 644 "$work"/*.sql

echo "# pgbench: 8 clients for 20 s (inserts, updates, deletes, searches, VACUUM)"
as_cluster_user "$PG_BINDIR/pgbench" -h "$work/c" -p "$port" -n -c 8 -j 2 -T 20 \
	-f "$work/insert.sql@40" -f "$work/update.sql@20" -f "$work/delete.sql@10" -f "$work/search.sql@30" \
	-f "$work/vacuum.sql@1" postgres >"$work/pgbench.log" 2>&1 || {
	cat "$work/pgbench.log"
	echo "not ok - pgbench failed"
	exit 1
}
grep -E "number of transactions actually processed|number of failed|tps" "$work/pgbench.log" | sed 's/^/# /'

status=0
check() { # description sql-returning-boolean
	local got
	got=$(psql_c -At -c "$2")
	if [[ $got == t ]]; then
		echo "ok - $1"
	else
		echo "not ok - $1 (got '$got')"
		status=1
	fi
}

# VACUUM skips index vacuuming when few heap pages hold dead line pointers
# (PostgreSQL's bypass optimisation) and leaves the index entries of those rows
# for a later VACUUM; INDEX_CLEANUP ON makes it vacuum the index now. Rows on
# pages it cannot get a cleanup lock on can still wait for a later round, and a
# wrong count in the index would survive any number of rounds.
stats_match="SELECT s.doc_count = t.n AND s.total_length = t.len
    FROM quarry_bm25_stats('docs_idx') s,
         (SELECT count(*) AS n, sum((SELECT coalesce(sum(array_length(positions, 1)), 0)
                                     FROM unnest(to_tsvector('simple', body)))) AS len
          FROM docs WHERE body IS NOT NULL) t"
for round in 1 2 3; do
	psql_c -q -c "VACUUM (INDEX_CLEANUP ON) docs"
	[[ $(psql_c -At -c "$stats_match") == t ]] && break
	echo "# after VACUUM round $round the counts differ; vacuuming again"
done
psql_c -At -c "SELECT format('# index: N %s, length %s, segments %s, removed %s, pending %s; table: rows %s',
    s.doc_count, s.total_length, s.segments, s.removed_rows, s.pending_rows,
    (SELECT count(*) FROM docs WHERE body IS NOT NULL)) FROM quarry_bm25_stats('docs_idx') s"
check "no search saw rows out of score order" "SELECT count(*) = 0 FROM order_violations"
check "statistics equal a count over the table" "$stats_match"
psql_c -At -c "SELECT '# verify: ' || p FROM quarry_verify_index('docs_idx') p"
check "quarry_verify_index finds no problem" "SELECT count(*) = 0 FROM quarry_verify_index('docs_idx')"
for q in "w5 w7" "w13 updated" "inserted w1" "common w96" "w0 w0 w12"; do
	check "index scan = seqscan for '$q' (rows and scores)" "
        WITH idx AS (SELECT * FROM docs_by_index('$q')),
             seq AS (SELECT id, body <@> quarry_query('$q', 'docs_idx') AS s FROM docs
                     WHERE body <@> quarry_query('$q', 'docs_idx') < 0)
        SELECT count(*) = 0 AND (SELECT count(*) FROM idx) > 0 FROM idx FULL JOIN seq USING (id)
        WHERE idx.id IS NULL OR seq.id IS NULL OR abs(idx.s - seq.s) > 1e-9"
done
check "segments were flushed and merged during the run" \
	"SELECT segments >= 1 AND pending_bytes < 65536 FROM quarry_bm25_stats('docs_idx')"
if grep -qE "terminated by signal|PANIC" "$work/c/server.log"; then
	echo "not ok - the server log shows a crash"
	grep -E "terminated by signal|PANIC" "$work/c/server.log" | head
	status=1
else
	echo "ok - no crash in the server log"
fi
if grep -q "ERROR" "$work/pgbench.log"; then
	echo "not ok - pgbench reported errors"
	grep ERROR "$work/pgbench.log" | sort | uniq -c | head
	status=1
else
	echo "ok - no ERROR during the run"
fi
exit $status
