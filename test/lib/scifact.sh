# SciFact (../shared/data/scifact) for psql, with its fastText vectors:
#
#   scifact_sql DIR | psql ...
#
# prints a psql script that fills the existing tables
#   raw (id bigint, body text, emb real[])            the 5,183 abstracts
#                                                     (title and text) and vectors
#   raw_queries (qid int, q text, v real[])           the 300 test queries
#                                                     (those with test judgments)
# from DIR/corpus.jsonl, DIR/queries.jsonl, DIR/qrels/test.tsv and
# DIR/embeddings-fasttext128/{corpus,queries}_vectors.tsv.

scifact_sql() {
	local sf=$1
	cat <<SQL
CREATE TEMP TABLE j (j jsonb);
\\copy j FROM '$sf/corpus.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TEMP TABLE v (id text, v real[]);
\\copy v FROM '$sf/embeddings-fasttext128/corpus_vectors.tsv'
INSERT INTO raw SELECT (j->>'_id')::bigint, coalesce(j->>'title', '') || ' ' || (j->>'text'), v.v
FROM j JOIN v ON v.id = j->>'_id';
CREATE TEMP TABLE jq (j jsonb);
\\copy jq FROM '$sf/queries.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TEMP TABLE qv (id text, v real[]);
\\copy qv FROM '$sf/embeddings-fasttext128/queries_vectors.tsv'
CREATE TEMP TABLE qrels (qid text, did text, score int);
\\copy qrels FROM PROGRAM 'tail -n +2 $sf/qrels/test.tsv'
INSERT INTO raw_queries SELECT (j->>'_id')::int, j->>'text', qv.v FROM jq JOIN qv ON qv.id = j->>'_id'
WHERE j->>'_id' IN (SELECT qid FROM qrels);
SQL
}
