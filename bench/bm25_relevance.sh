#!/usr/bin/env bash
# Relevance of quarry_bm25 against built-in full-text search, on test
# collections with relevance judgments (../shared/data): nDCG@10, MRR@10 and
# Recall@100 for
#   quarry       ORDER BY doc <@> query LIMIT k (BM25, k1 = 1.2, b = 0.75, and the
#                BEIR/Anserini setting k1 = 0.9, b = 0.4)
#   ts_rank_cd   GIN on to_tsvector, WHERE tsv @@ (query terms OR-ed)
#                ORDER BY ts_rank_cd DESC LIMIT k (PostgreSQL's ranking)
#   quarry BM25F one index over the two fields (title, body) (BM25F, README
#                "Several fields with weights"): the title's weight chosen
#                on SciFact's train queries among 0.5, 1, 1.5, 2, 3 (body 1),
#                then reported on the test queries of SciFact and Cranfield;
#                every weight of that grid on the test queries, for context
# All use the 'english' text search configuration; one-field documents are
# title + text (Cranfield's text already begins with its title, so its
# one field is the text, and its two fields the title and the text). Gains
# are the qrels' grades.
#
#   bench/bm25_relevance.sh            writes bench/results/bm25_relevance.{md,csv,png}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data scifact
"$repo/test/deps.sh" test bench
make -C "$repo" -s -j"$(nproc)" >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi

bench_start relevance
trap bench_stop EXIT

evaluate() { # prefix document-expression
	local p=$1 doc=$2
	bench_psql -q <<SQL
CREATE INDEX ${p}_bm25 ON ${p}_docs USING quarry_bm25 (($doc)) WITH (text_config = 'english');
CREATE INDEX ${p}_gin ON ${p}_docs USING gin (to_tsvector('english', $doc));
ANALYZE ${p}_docs;
SET client_min_messages = warning;
DO \$\$
DECLARE
    q record;
    tq tsquery;
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR q IN SELECT * FROM ${p}_queries LOOP
        INSERT INTO runs
        SELECT '$p', 'quarry k1=1.2 b=0.75', q.id, row_number() OVER (), id FROM (
            SELECT id FROM ${p}_docs WHERE ($doc) <@> q.text < 0
            ORDER BY ($doc) <@> q.text LIMIT 100) s;
        -- The query's lexemes OR-ed (plainto_tsquery would AND them).
        tq := replace(plainto_tsquery('english', q.text)::text, '&', '|')::tsquery;
        INSERT INTO runs
        SELECT '$p', 'ts_rank_cd (GIN)', q.id, row_number() OVER (), id FROM (
            SELECT id FROM ${p}_docs
            WHERE to_tsvector('english', $doc) @@ tq
            ORDER BY ts_rank_cd(to_tsvector('english', $doc), tq) DESC, id LIMIT 100) s;
    END LOOP;
END \$\$;
ALTER INDEX ${p}_bm25 SET (k1 = 0.9, b = 0.4);
DO \$\$
DECLARE
    q record;
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR q IN SELECT * FROM ${p}_queries LOOP
        INSERT INTO runs
        SELECT '$p', 'quarry k1=0.9 b=0.4', q.id, row_number() OVER (), id FROM (
            SELECT id FROM ${p}_docs WHERE ($doc) <@> q.text < 0
            ORDER BY ($doc) <@> q.text LIMIT 100) s;
    END LOOP;
END \$\$;
SQL
}

# Ranks `queries` (a table of id, text) with the fields index of ${p}_docs at
# title weight w, as system "quarry BM25F ... title=w" of dataset `label`.
fields_runs() { # prefix label queries w system
	local p=$1 label=$2 queries=$3 w=$4 system=$5
	bench_psql -q <<SQL
ALTER INDEX ${p}_fields SET (weights = 'title=$w, body=1');
SET client_min_messages = warning;
DO \$\$
DECLARE
    q record;
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR q IN SELECT * FROM $queries LOOP
        INSERT INTO runs
        SELECT '$label', '$system', q.id, row_number() OVER (), id FROM (
            SELECT id FROM ${p}_docs WHERE (title, body) <@> q.text < 0
            ORDER BY (title, body) <@> q.text LIMIT 100) s;
    END LOOP;
END \$\$;
SQL
}

# nDCG@10 of every system of dataset `label`, best first: "system|ndcg".
ndcg_of() { # label
	metrics_sql | sed "s/FROM (SELECT DISTINCT dataset, system FROM runs) r/FROM (SELECT DISTINCT dataset, system FROM runs WHERE dataset = '$1') r/" \
		> /tmp/quarry-relevance-one.sql
	chmod 644 /tmp/quarry-relevance-one.sql
	bench_psql -A -t -F'|' -f /tmp/quarry-relevance-one.sql | awk -F'|' '{print $2 "|" $4}' | sort -t'|' -k2,2 -r
}

metrics_sql() {
	cat <<'SQL'
WITH judged AS (
    SELECT 'scifact' AS dataset, qid, did, score FROM scifact_qrels
    UNION ALL SELECT 'cranfield', qid, did, score FROM cranfield_qrels
    UNION ALL SELECT 'cisi', qid, did, score FROM cisi_qrels
    UNION ALL SELECT 'scifact-train', qid, did, score FROM scifact_train_qrels),
per_query AS (
    SELECT r.dataset, r.system, qs.qid,
           coalesce((SELECT sum(j.score / log(2, r2.rank + 1)) FROM runs r2
                     JOIN judged j ON j.dataset = r2.dataset AND j.qid = r2.qid AND j.did = r2.did AND j.score > 0
                     WHERE r2.dataset = r.dataset AND r2.system = r.system AND r2.qid = qs.qid AND r2.rank <= 10), 0)
           / nullif((SELECT sum(score / log(2, rn + 1)) FROM (
                         SELECT score, row_number() OVER (ORDER BY score DESC) AS rn FROM judged j
                         WHERE j.dataset = r.dataset AND j.qid = qs.qid AND j.score > 0) i WHERE rn <= 10), 0) AS ndcg10,
           coalesce((SELECT 1.0 / min(r2.rank) FROM runs r2
                     JOIN judged j ON j.dataset = r2.dataset AND j.qid = r2.qid AND j.did = r2.did AND j.score > 0
                     WHERE r2.dataset = r.dataset AND r2.system = r.system AND r2.qid = qs.qid AND r2.rank <= 10), 0) AS mrr10,
           (SELECT count(*) FROM runs r2
            JOIN judged j ON j.dataset = r2.dataset AND j.qid = r2.qid AND j.did = r2.did AND j.score > 0
            WHERE r2.dataset = r.dataset AND r2.system = r.system AND r2.qid = qs.qid AND r2.rank <= 100)::float8
           / nullif((SELECT count(*) FROM judged j WHERE j.dataset = r.dataset AND j.qid = qs.qid AND j.score > 0), 0)
             AS recall100
    FROM (SELECT DISTINCT dataset, system FROM runs) r
    JOIN (SELECT DISTINCT dataset, qid FROM judged) qs USING (dataset))
SELECT dataset, system, count(*) AS queries,
       round(avg(ndcg10)::numeric, 4) AS ndcg_at_10,
       round(avg(mrr10)::numeric, 4) AS mrr_at_10,
       round(avg(recall100)::numeric, 4) AS recall_at_100
FROM per_query GROUP BY dataset, system ORDER BY dataset, system
SQL
}

echo "== loading"
load_beir "$QUARRY_DATA/scifact" scifact
load_beir "$QUARRY_DATA/cranfield" cranfield
load_beir "$QUARRY_DATA/cisi" cisi
echo "== ranking"
bench_psql -q -c "CREATE TABLE runs (dataset text, system text, qid text, rank int, did text)" -c "CREATE INDEX runs_key ON runs (dataset, system, qid, rank)"
evaluate scifact "title || ' ' || body"
evaluate cranfield "body"
evaluate cisi "body"

echo "== two fields (BM25F)"
bench_psql -q <<SQL
CREATE TABLE scifact_train_qrels (qid text, did text, score int);
\\copy scifact_train_qrels FROM PROGRAM 'tail -n +2 $QUARRY_DATA/scifact/qrels/train.tsv'
CREATE TEMP TABLE raw_train (j jsonb);
\\copy raw_train FROM '$QUARRY_DATA/scifact/queries.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE scifact_train_queries AS
    SELECT q.id, q.text FROM (SELECT j->>'_id' AS id, j->>'text' AS text FROM raw_train) q
    WHERE q.id IN (SELECT qid FROM scifact_train_qrels);
SQL
weights="0.5 1 1.5 2 3"
for p in scifact cranfield; do
	bench_psql -q -c "CREATE INDEX ${p}_fields ON ${p}_docs USING quarry_bm25 (title, body) WITH (text_config = 'english')"
done
for w in $weights; do
	fields_runs scifact scifact-train scifact_train_queries "$w" "quarry BM25F title=$w"
done
best=$(ndcg_of scifact-train | head -1)
chosen=$(echo "$best" | sed -E 's/.*title=([0-9.]+).*/\1/')
echo "   title weight chosen on SciFact's train queries: $chosen (nDCG@10 there: ${best##*|})"
for p in scifact cranfield; do
	fields_runs $p $p ${p}_queries "$chosen" "quarry BM25F (title; body) title=$chosen chosen on SciFact train"
	for w in $weights; do
		[[ $w == "$chosen" ]] || fields_runs $p $p ${p}_queries "$w" "quarry BM25F (title; body) title=$w (grid)"
	done
done

out=$here/results/bm25_relevance
metrics_sql > /tmp/quarry-relevance.sql
chmod 644 /tmp/quarry-relevance.sql
bench_psql -A -F, -P footer=off -f /tmp/quarry-relevance.sql > "$out.csv"
{
	echo "# quarry_bm25 relevance"
	echo
	echo "Run: \`bench/bm25_relevance.sh\` on $(date -u +%Y-%m-%d), PostgreSQL $(pg_config --version | awk '{print $2}')."
	echo "Documents: title + text (Cranfield: text, which starts with the title); 'english' configuration."
	echo "Gains: the qrels' grades (Cranfield graded 1-4, SciFact and CISI binary)."
	echo "BM25F: one index over (title, body), k1 = 1.2, b = 0.75, body weight 1; the title weight ($chosen)"
	echo "chosen on SciFact's train queries ($(wc -l < "$QUARRY_DATA/scifact/qrels/train.tsv") judgments) among $weights, then run on the"
	echo "test queries; the other weights of the grid on the test queries are context, not a choice."
	echo
	echo "| dataset | system | queries | nDCG@10 | MRR@10 | Recall@100 |"
	echo "| --- | --- | --- | --- | --- | --- |"
	tail -n +2 "$out.csv" | awk -F, '{printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6}'
	echo
	echo "Two fields against one concatenated field (nDCG@10, k1 = 1.2, b = 0.75; BM25F at the weight chosen on train):"
	echo
	tail -n +2 "$out.csv" | awk -F, '
		$2 == "quarry k1=1.2 b=0.75" { one[$1] = $4 }
		$2 ~ /chosen on SciFact train/ { two[$1] = $4 }
		END { for (d in two) printf "- %s: %s with two fields, %s with one (%+.4f)\n", d, two[d], one[d], two[d] - one[d] }' | sort
} > "$out.md"
/usr/bin/python3 "$here/plot.py" relevance "$out.csv" "$out.png"
cat "$out.md"
