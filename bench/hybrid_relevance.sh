#!/usr/bin/env bash
# Hybrid search (README "Hybrid search"): relevance and speed of
# ORDER BY quarry_hybrid(...) LIMIT 10 against each side alone and against
# the two-CTE recipe it replaces.
#
# Relevance, SciFact (../shared/data/scifact, 5,183 abstracts) with its
# fastText vectors (embeddings-fasttext128, 128-d, cosine): nDCG@10 on the
# 300 test queries of
#   BM25          ORDER BY doc <@> q LIMIT 10 (title + text, 'english', k1 1.2, b 0.75)
#   dense         ORDER BY emb <=> v LIMIT 10 (quarry_hnsw, cosine, ef_search 200)
#   RRF           quarry_hybrid(doc, q, emb, v): depth 100, k 60
#   linear        quarry_hybrid(..., fusion => 'linear', weight => w): w chosen
#                 among 0.1 ... 0.9 on the 809 train queries, reported on test
#                 (every w of the grid on test too, for context)
# Speed: p50 / p95 latency of the one call and of the recipe (two ordered
# CTEs of `depth` rows, FULL JOIN, RRF, joined back to the table for the
# title), LIMIT 10, depth 100, both in one PL/pgSQL loop, alternating which
# goes first, after a warm-up pass; on SciFact's 300 test queries, and on the
# 1,012,445 Gutenberg paragraphs with their fastText vectors
# (../shared/data/gutenberg-paragraphs, fasttext100: 100-d, cosine; the
# first 300 held-out query paragraphs, their first ten words as the BM25
# query),
# skipped with QUARRY_HYBRID_SKIP_GUTENBERG=1. QUARRY_HYBRID_BASE_FVECS and
# QUARRY_HYBRID_CACHE: below.
#
#   bench/hybrid_relevance.sh        writes bench/results/hybrid.md
# QUARRY_DESTDIR=DIR installs into a private copy of PostgreSQL (as
# test/run.sh does) instead of the system's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data scifact
make -C "$repo" -s -j2 >/dev/null
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	"$repo/test/private_pg.sh" "$QUARRY_DESTDIR"
	make -C "$repo" -s install DESTDIR="$QUARRY_DESTDIR" >/dev/null
elif [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi
out=$here/results/hybrid.md
sf=$QUARRY_DATA/scifact
gut=$QUARRY_DATA/gutenberg-paragraphs

bench_start hybrid
# Resolving quarry_hybrid needs quarry loaded when a statement is planned (README).
bench_psql -q -c "ALTER DATABASE bench SET session_preload_libraries = 'quarry'"
trap bench_stop EXIT
t_start=$(date +%s)

echo "== loading SciFact"
load_beir "$sf" sf
bench_psql -q <<SQL
ALTER TABLE sf_docs ADD COLUMN doc text, ADD COLUMN emb real[];
-- The vector files' rows are "id<TAB>{...}" (a corpus or query id).
CREATE TEMP TABLE raw_vec (id text, v real[]);
\\copy raw_vec FROM '$sf/embeddings-fasttext128/corpus_vectors.tsv'
UPDATE sf_docs d SET doc = d.title || ' ' || d.body, emb = v.v FROM raw_vec v WHERE v.id = d.id;
CREATE TABLE sf_train_qrels (qid text, did text, score int);
\\copy sf_train_qrels FROM PROGRAM 'tail -n +2 $sf/qrels/train.tsv'
CREATE TEMP TABLE raw_q (j jsonb);
\\copy raw_q FROM '$sf/queries.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TEMP TABLE raw_qvec (id text, v real[]);
\\copy raw_qvec FROM '$sf/embeddings-fasttext128/queries_vectors.tsv'
CREATE TABLE sf_all_queries AS
    SELECT q.j->>'_id' AS id, q.j->>'text' AS text, v.v AS emb,
           CASE WHEN q.j->>'_id' IN (SELECT qid FROM sf_qrels) THEN 'test'
                WHEN q.j->>'_id' IN (SELECT qid FROM sf_train_qrels) THEN 'train' END AS split
    FROM raw_q q JOIN raw_qvec v ON v.id = q.j->>'_id';
ALTER TABLE sf_docs ALTER emb SET STORAGE PLAIN;
CREATE INDEX sf_bm25 ON sf_docs USING quarry_bm25 (doc) WITH (text_config = 'english');
CREATE INDEX sf_hnsw ON sf_docs USING quarry_hnsw (emb quarry_cosine_ops);
CREATE UNIQUE INDEX ON sf_docs (id);
VACUUM ANALYZE sf_docs;
CREATE TABLE runs (split text, system text, qid text, rank int, did text);
SQL
bench_psql -At -c "SELECT split, count(*) FROM sf_all_queries GROUP BY 1 ORDER BY 1"

# Ranks the queries of `split` with the SQL `expr` (an ORDER BY key with
# q.text and q.emb in scope) as `system`.
rank_runs() { # split system order-by-expression
	bench_psql -q <<SQL
SET quarry.hnsw_ef_search = 200;
DO \$\$
DECLARE
    q record;
BEGIN
    FOR q IN SELECT * FROM sf_all_queries WHERE split = '$1' LOOP
        INSERT INTO runs SELECT '$1', '$2', q.id, row_number() OVER (), id
        FROM (SELECT id FROM sf_docs ORDER BY $3 LIMIT 10) s;
    END LOOP;
END \$\$;
SQL
}

# nDCG@10 (binary gains) of every system on `split`: "system|ndcg".
ndcg() { # split
	local qrels=sf_qrels
	[[ $1 == train ]] && qrels=sf_train_qrels
	bench_psql -At -F'|' <<SQL
WITH dcg AS (
    SELECT r.system, r.qid, sum(1 / log(2, r.rank + 1)) AS dcg
    FROM runs r JOIN $qrels j ON j.qid = r.qid AND j.did = r.did AND j.score > 0
    WHERE r.split = '$1' GROUP BY r.system, r.qid),
ideal AS (
    SELECT c.qid, sum(1 / log(2, n + 1)) AS idcg
    FROM (SELECT qid, count(*) AS relevant FROM $qrels WHERE score > 0 GROUP BY qid) c, generate_series(1, least(10, c.relevant)) n
    GROUP BY c.qid),
systems AS (SELECT DISTINCT system FROM runs WHERE split = '$1')
SELECT s.system, round(avg(coalesce(d.dcg, 0) / i.idcg)::numeric, 4)
FROM systems s CROSS JOIN ideal i LEFT JOIN dcg d ON d.system = s.system AND d.qid = i.qid
GROUP BY s.system ORDER BY s.system;
SQL
}

echo "== relevance"
weights="0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9"
for split in train test; do
	rank_runs $split "BM25" "doc <@> quarry_query(q.text)"
	rank_runs $split "dense" "emb <=> q.emb"
	rank_runs $split "RRF (depth 100, k 60)" "quarry_hybrid(doc, quarry_query(q.text), emb, q.emb)"
	for w in $weights; do
		rank_runs $split "linear w=$w" "quarry_hybrid(doc, quarry_query(q.text), emb, q.emb, fusion => 'linear', weight => $w)"
	done
done
ndcg train > /tmp/quarry-hybrid-train.txt
ndcg test > /tmp/quarry-hybrid-test.txt
best=$(grep '^linear' /tmp/quarry-hybrid-train.txt | sort -t'|' -k2,2 -r | head -1)
best_w=${best%%|*}
best_w=${best_w#linear w=}
val() { grep -F "$1|" "$2" | head -1 | cut -d'|' -f2; }
echo "weight chosen on train: $best_w (train nDCG@10 ${best##*|})"
cat /tmp/quarry-hybrid-test.txt

# Latency of the one call and of the recipe on `table` (columns doc, emb,
# title) for the queries of `queries` (columns id, text, emb), depth 100,
# LIMIT 10: "form|p50 ms|p95 ms|mean ms".
speed() { # table queries limit-of-queries
	bench_psql -q -At -F'|' <<SQL
SET quarry.hnsw_ef_search = 100;
CREATE TEMP TABLE timings (form text, qid text, ms float8);
CREATE FUNCTION pg_temp.one_call(q text, v real[]) RETURNS int LANGUAGE plpgsql AS \$f\$
DECLARE n int;
BEGIN
    SELECT count(*) INTO n FROM (SELECT id, title FROM $1
        ORDER BY quarry_hybrid(doc, quarry_query(q), emb, v, depth => 100) LIMIT 10) s;
    RETURN n;
END \$f\$;
-- The recipe, as fast as plain SQL writes it: each side an ordered index scan
-- with LIMIT in a subquery, numbered in that order; the text side keeps rows
-- with a query term by @@@ (an index condition of the ordered scan).
CREATE FUNCTION pg_temp.recipe(q text, v real[]) RETURNS int LANGUAGE plpgsql AS \$f\$
DECLARE n int;
BEGIN
    WITH text_side AS (
        SELECT id, row_number() OVER () AS r FROM (
            SELECT id FROM $1 WHERE doc @@@ quarry_query(q) ORDER BY doc <@> quarry_query(q) LIMIT 100) t),
    vector_side AS (
        SELECT id, row_number() OVER () AS r FROM (
            SELECT id FROM $1 ORDER BY emb <=> v LIMIT 100) t),
    fused AS (
        SELECT id, coalesce(1 / (60 + t.r::float8), 0) + coalesce(1 / (60 + v.r::float8), 0) AS score,
               t.r AS tr, v.r AS vr
        FROM text_side t FULL JOIN vector_side v USING (id))
    SELECT count(*) INTO n FROM (SELECT d.id, d.title FROM fused f JOIN $1 d USING (id)
        ORDER BY f.score DESC, f.tr NULLS LAST, f.vr NULLS LAST LIMIT 10) s;
    RETURN n;
END \$f\$;
-- The same with each side's score selected and ranked by it (ParadeDB's
-- shape: RANK() OVER (ORDER BY score) of the LIMITed subquery).
CREATE FUNCTION pg_temp.recipe_match(q text, v real[]) RETURNS int LANGUAGE plpgsql AS \$f\$
DECLARE n int;
BEGIN
    WITH text_side AS (
        SELECT id, row_number() OVER (ORDER BY s) AS r FROM (
            SELECT id, doc <@> quarry_query(q) AS s FROM $1
            WHERE doc @@@ quarry_query(q) ORDER BY doc <@> quarry_query(q) LIMIT 100) t),
    vector_side AS (
        SELECT id, row_number() OVER (ORDER BY d) AS r FROM (
            SELECT id, emb <=> v AS d FROM $1 ORDER BY emb <=> v LIMIT 100) t),
    fused AS (
        SELECT id, coalesce(1 / (60 + t.r::float8), 0) + coalesce(1 / (60 + v.r::float8), 0) AS score,
               t.r AS tr, v.r AS vr
        FROM text_side t FULL JOIN vector_side v USING (id))
    SELECT count(*) INTO n FROM (SELECT d.id, d.title FROM fused f JOIN $1 d USING (id)
        ORDER BY f.score DESC, f.tr NULLS LAST, f.vr NULLS LAST LIMIT 10) s;
    RETURN n;
END \$f\$;
-- One form for one query, timed (pass 2 only).
CREATE FUNCTION pg_temp.timed(form text, qid text, q text, v real[], keep bool) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    IF form = 'one call' THEN PERFORM pg_temp.one_call(q, v);
    ELSIF form = 'recipe' THEN PERFORM pg_temp.recipe(q, v);
    ELSE PERFORM pg_temp.recipe_match(q, v);
    END IF;
    IF keep THEN INSERT INTO timings VALUES (form, qid, 1000 * extract(epoch FROM clock_timestamp() - t0)); END IF;
END \$f\$;
DO \$\$
DECLARE
    q record;
    i int := 0;
    pass int;
    forms text[] := ARRAY['one call', 'recipe', 'recipe selecting scores'];
    k int;
BEGIN
    FOR pass IN 1..2 LOOP -- pass 1 warms the caches
        FOR q IN SELECT * FROM $2 ORDER BY id LIMIT $3 LOOP
            i := i + 1;
            FOR k IN 0..2 LOOP -- each form first in turn
                PERFORM pg_temp.timed(forms[1 + (i + k) % 3], q.id, q.text, q.emb, pass = 2);
            END LOOP;
        END LOOP;
    END LOOP;
END \$\$;
SELECT form, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2), round(avg(ms)::numeric, 2), count(*)
FROM timings GROUP BY form ORDER BY form;
SQL
}

echo "== speed, SciFact"
bench_psql -q -c "CREATE VIEW sf_test_queries AS SELECT id, text, emb FROM sf_all_queries WHERE split = 'test'"
sf_speed=$(speed sf_docs sf_test_queries 300)
echo "$sf_speed"
sf_load=$(cut -d' ' -f1-3 /proc/loadavg)

gut_speed="" gut_note="skipped (QUARRY_HYBRID_SKIP_GUTENBERG=1)" gut_load=""
if [[ ${QUARRY_HYBRID_SKIP_GUTENBERG:-0} != 1 && -d $gut/fasttext100 ]]; then
	echo "== loading Gutenberg (1M paragraphs, vectors from the shipped word vectors)"
	# QUARRY_HYBRID_CACHE=DIR keeps the computed vectors there for the next run.
	work=${QUARRY_HYBRID_CACHE:-$(mktemp -d /tmp/quarry-hybrid-gut.XXXXXX)}
	mkdir -p "$work"
	chmod 755 "$work"
	# QUARRY_HYBRID_BASE_FVECS=FILE: the base vectors already built as the data's README says
	# (its sha256 is checked), written as binary COPY in seconds; otherwise they are computed
	# here from the shipped word vectors (minutes, and formatted as text).
	base_fvecs=${QUARRY_HYBRID_BASE_FVECS:-}
	if [[ -n $base_fvecs ]]; then
		[[ $(sha256sum < "$base_fvecs" | cut -d' ' -f1) == 08f04f0a51688291767299347ad9d7dfad27bdf349f87d6e83fc0116f2fecede ]] ||
			{ echo "$base_fvecs: not the README's base.fvecs (sha256)" >&2; exit 1; }
		/usr/bin/python3 "$here/hybrid_vectors.py" --binary "$base_fvecs" 1 "$work/base.copy"
		base_copy="COPY raw_gvec FROM '$work/base.copy' WITH (format binary)"
	else
		if [[ ! -s $work/base.tsv ]]; then
			xzcat "$gut/gutenberg_1m.tsv.xz" | cut -f4 | /usr/bin/python3 -c 'import sys,re
for l in sys.stdin: sys.stdout.write(" ".join(re.findall(r"[a-z0-9]+", l.lower()))+"\n")' > "$work/docs.txt"
			/usr/bin/python3 "$here/hybrid_vectors.py" "$gut/fasttext100/words.vec.xz" "$work/docs.txt" "$work/base.tsv.part"
			mv "$work/base.tsv.part" "$work/base.tsv"
			rm -f "$work/docs.txt"
		fi
		base_copy="COPY raw_gvec FROM '$work/base.tsv'"
	fi
	# awk, not head: under pipefail, head closing the pipe early fails xzcat with SIGPIPE.
	xzcat "$gut/fasttext100/queries.tsv.xz" | awk 'NR <= 300' > "$work/queries.tsv"
	/usr/bin/python3 "$here/hybrid_vectors.py" --binary "$gut/fasttext100/queries.fvecs" 0 "$work/qvec.copy"
	chmod 644 "$work"/*
	bench_psql -q <<SQL
CREATE TABLE gut (id int, title text, doc text, emb real[]);
ALTER TABLE gut ALTER emb SET STORAGE PLAIN;
CREATE TEMP TABLE raw_gut (id int, book int, para int, doc text);
\\copy raw_gut FROM PROGRAM 'xzcat $gut/gutenberg_1m.tsv.xz' WITH (format text)
CREATE TEMP TABLE raw_gvec (id int, emb real[]);
$base_copy;
INSERT INTO gut SELECT r.id, 'book ' || r.book || ' paragraph ' || r.para, r.doc, v.emb
FROM raw_gut r JOIN raw_gvec v USING (id) ORDER BY r.id;
CREATE TEMP TABLE raw_gq (n int, book int, para int, text text);
\\copy raw_gq FROM '$work/queries.tsv' WITH (format text)
CREATE TEMP TABLE raw_gqv (n int, emb real[]);
COPY raw_gqv FROM '$work/qvec.copy' WITH (format binary);
-- The BM25 query: the paragraph's first ten words.
CREATE TABLE gut_queries AS SELECT q.n::text AS id, array_to_string((regexp_split_to_array(q.text, '\\s+'))[1:10], ' ') AS text, v.emb
FROM raw_gq q JOIN raw_gqv v USING (n);
SQL
	echo "   loaded $(bench_psql -At -c 'SELECT count(*) FROM gut') rows; building indexes"
	bench_psql -q -c "CREATE INDEX gut_bm25 ON gut USING quarry_bm25 (doc) WITH (text_config = 'english')" \
		-c "CREATE INDEX gut_hnsw ON gut USING quarry_hnsw (emb quarry_cosine_ops)" \
		-c "CREATE UNIQUE INDEX gut_id ON gut (id)" -c "VACUUM ANALYZE gut" # the recipe joins back by id
	[[ -n ${QUARRY_HYBRID_CACHE:-} ]] || rm -rf "$work"
	echo "== speed, Gutenberg"
	gut_speed=$(speed gut gut_queries 300)
	echo "$gut_speed"
	gut_note="" gut_load=$(cut -d' ' -f1-3 /proc/loadavg)
fi

row() { # label file
	echo "| $1 | $(val "$1" /tmp/quarry-hybrid-test.txt) | $(val "$1" /tmp/quarry-hybrid-train.txt) |"
}
speed_rows() { # dataset speed-output
	local one rec mat
	one=$(grep '^one call|' <<<"$2") rec=$(grep '^recipe|' <<<"$2") mat=$(grep '^recipe selecting scores|' <<<"$2")
	ratio() { awk -v a="$(cut -d'|' -f2 <<<"$1")" -v b="$(cut -d'|' -f2 <<<"$one")" 'BEGIN { printf "%.2f×", a / b }'; }
	echo "| $1 | $(cut -d'|' -f2 <<<"$one") / $(cut -d'|' -f3 <<<"$one") | $(cut -d'|' -f2 <<<"$rec") / $(cut -d'|' -f3 <<<"$rec") | $(ratio "$rec") | $(cut -d'|' -f2 <<<"$mat") / $(cut -d'|' -f3 <<<"$mat") | $(ratio "$mat") | $(cut -d'|' -f5 <<<"$one") |"
}
{
	echo "# Hybrid search: relevance and speed"
	echo
	echo "\`bench/hybrid_relevance.sh\`, $(date -u +%Y-%m-%d), $(nproc) vCPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), one backend, $(( $(date +%s) - t_start )) s."
	echo
	echo "## Relevance: SciFact, nDCG@10"
	echo
	echo "BM25 on title + text ('english', k1 1.2, b 0.75); dense: the 128-d fastText vectors, cosine, quarry_hnsw"
	echo "(ef_search 200); fusions at depth 100. The linear weight (text side) was chosen on the train queries"
	echo "among $weights: **w = $best_w**."
	echo
	echo "| system | test (300 queries) | train (809 queries) |"
	echo "| --- | --- | --- |"
	row "BM25"
	row "dense"
	row "RRF (depth 100, k 60)"
	row "linear w=$best_w"
	echo
	echo "Every weight of the grid (test / train):"
	echo
	echo "| w | test | train |"
	echo "| --- | --- | --- |"
	for w in $weights; do echo "| $w | $(val "linear w=$w" /tmp/quarry-hybrid-test.txt) | $(val "linear w=$w" /tmp/quarry-hybrid-train.txt) |"; done
	echo
	echo "## Speed: one call against the recipe, depth 100, LIMIT 10"
	echo
	echo "Latency per query in ms, p50 / p95, both forms in one PL/pgSQL loop over the same queries (alternating"
	echo "which runs first, after a warm-up pass); the recipe is two ordered CTEs, a FULL JOIN, RRF, and the"
	echo "join back to the table for the title: each side an ordered index scan with LIMIT in a subquery,"
	echo 'numbered in its order (the text side with `WHERE doc @@@ q`); "recipe selecting scores" also selects'
	echo 'each side'"'"'s score and ranks by it, as ParadeDB'"'"'s recipe does. ef_search 100. Load average at the end'
	echo "of each: SciFact $sf_load;"
	echo "Gutenberg ${gut_load:-$gut_note}."
	echo
	echo "| data | one call p50 / p95 | recipe p50 / p95 | recipe p50 ÷ one call p50 | recipe selecting scores p50 / p95 | its p50 ÷ one call p50 | queries |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	speed_rows "SciFact (5,183 docs)" "$sf_speed"
	[[ -n $gut_speed ]] && speed_rows "Gutenberg (1,012,445 paragraphs)" "$gut_speed"
} > "$out"
cat "$out"
