#!/usr/bin/env bash
# quarry_hnsw recall on real data: 20,000 Fashion-MNIST training images, 200
# test images as queries, default settings (m 16, ef_construction 64,
# ef_search 40). recall@10 against the exact answer (a sequential scan with
# the same distance operator; a row at the 10th exact distance counts) must be
# at least 0.95, for L2 and for cosine, with the full layout and with each
# compressed one (storage = 'sq8' and 'sq4', on copies of the table; their
# scans rerank by the exact distance from the table), and a filtered query
# (one label, 10 % of the rows) must return 10 rows of that label for every
# query.
# Skips when the data set is absent (QUARRY_DATA empty).
set -euo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"

data=${QUARRY_DATA:-}/fashion-mnist
if [[ -z ${QUARRY_DATA:-} || ! -f $data/train-images-idx3-ubyte.gz ]]; then
	echo "SKIP: Fashion-MNIST not found (QUARRY_DATA=${QUARRY_DATA:-})"
	exit 0
fi

dir=$QUARRY_WORKSPACE/cluster
mkdir -p "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
port=$(free_port)
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" "lc_messages='C'" "maintenance_work_mem='512MB'"
psql_t() { cluster_psql "$dir" "$port" -q -At "$@"; }

"$QUARRY_REPO/bench/fmnist.py" tsv "$data" train 20000 >"$dir/train.tsv"
"$QUARRY_REPO/bench/fmnist.py" tsv "$data" test 200 >"$dir/test.tsv"
chmod a+r "$dir"/*.tsv
psql_t <<EOF
CREATE EXTENSION quarry;
CREATE TABLE fm (id int PRIMARY KEY, label int, v real[]);
COPY fm FROM '$dir/train.tsv';
CREATE TABLE q (id int PRIMARY KEY, label int, v real[]);
COPY q FROM '$dir/test.tsv';
CREATE INDEX fm_l2 ON fm USING quarry_hnsw (v quarry_l2_ops);
CREATE INDEX fm_cos ON fm USING quarry_hnsw (v quarry_cosine_ops);
ANALYZE fm;
-- The compressed layouts, each on a copy of fm with its two indexes.
CREATE TABLE fm_sq8 (id int PRIMARY KEY, label int, v real[]);
INSERT INTO fm_sq8 SELECT * FROM fm;
CREATE INDEX fm_sq8_l2 ON fm_sq8 USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
CREATE INDEX fm_sq8_cos ON fm_sq8 USING quarry_hnsw (v quarry_cosine_ops) WITH (storage = 'sq8');
ANALYZE fm_sq8;
CREATE TABLE fm_sq4 (id int PRIMARY KEY, label int, v real[]);
INSERT INTO fm_sq4 SELECT * FROM fm;
CREATE INDEX fm_sq4_l2 ON fm_sq4 USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq4');
CREATE INDEX fm_sq4_cos ON fm_sq4 USING quarry_hnsw (v quarry_cosine_ops) WITH (storage = 'sq4');
ANALYZE fm_sq4;
-- The exact answer for operator OP: the distance of each query's 10th
-- nearest row (a sequential scan of fm), computed once for all layouts.
CREATE TABLE kth (op text, id int, d float8, PRIMARY KEY (op, id));
SET enable_indexscan = off;
INSERT INTO kth SELECT '<->', id, (SELECT max(d) FROM (SELECT v <-> q.v AS d FROM fm ORDER BY d LIMIT 10) s) FROM q;
INSERT INTO kth SELECT '<=>', id, (SELECT max(d) FROM (SELECT v <=> q.v AS d FROM fm ORDER BY d LIMIT 10) s) FROM q;
RESET enable_indexscan;
-- recall@10 of the index of table TAB against the exact answer for operator OP.
CREATE FUNCTION recall(p_op text, tab text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
    r record;
    hits bigint := 0;
    found bigint;
BEGIN
    FOR r IN SELECT q.v, kth.d FROM q JOIN kth ON kth.id = q.id AND kth.op = p_op LOOP
        SET LOCAL enable_seqscan = off;
        EXECUTE format('SELECT count(*) FROM (SELECT v %s \$1 AS d FROM %I ORDER BY v %s \$1 LIMIT 10) s
                        WHERE d <= \$2', p_op, tab, p_op) INTO STRICT found USING r.v, r.d;
        hits := hits + found;
        SET LOCAL enable_seqscan = on;
    END LOOP;
    RETURN hits / (10.0 * (SELECT count(*) FROM q));
END \$\$;
EOF

status=0
for layout in full sq8 sq4; do
	tab=fm
	[[ $layout == full ]] || tab=fm_$layout
	for op in '<->' '<=>'; do
		# The recall is that layout's index's.
		index=${tab}_l2
		[[ $op == '<=>' ]] && index=${tab}_cos
		plan=$(psql_t -c "SET enable_seqscan = off" \
			-c "EXPLAIN (COSTS OFF) SELECT id FROM $tab ORDER BY v $op (SELECT v FROM q LIMIT 1) LIMIT 10")
		grep -q "Index Scan using $index " <<<"$plan" || { echo "FAIL: the scan of $tab by $op does not use $index"; status=1; }
		recall=$(psql_t -c "SELECT round(recall('$op', '$tab')::numeric, 4)")
		echo "recall@10 for $op, storage $layout, at default settings: $recall"
		if ! awk -v r="$recall" 'BEGIN { exit !(r >= 0.95) }'; then
			echo "FAIL: recall@10 for $op, storage $layout, is below 0.95"
			status=1
		fi
	done
done

# The compressed indexes are smaller: codes, not floats.
sizes=$(psql_t -F ' ' -c "SELECT pg_relation_size('fm_l2') / 1048576, pg_relation_size('fm_sq8_l2') / 1048576,
    pg_relation_size('fm_sq4_l2') / 1048576")
read -r full_mb sq8_mb sq4_mb <<<"$sizes"
echo "L2 index sizes (MB): full $full_mb, sq8 $sq8_mb, sq4 $sq4_mb"
[[ $sq4_mb -lt $sq8_mb && $sq8_mb -lt $full_mb ]] || { echo "FAIL: sizes not full > sq8 > sq4"; status=1; }

# A filtered query: each label holds about 10 % of the rows.
short=$(psql_t -c "SET enable_seqscan = off" -c "
    SELECT count(*) FROM q, LATERAL (
        SELECT count(*) AS n, bool_and(fm.label = q.label) AS same
        FROM (SELECT label FROM fm WHERE fm.label = q.label ORDER BY fm.v <-> q.v LIMIT 10) fm) s
    WHERE n <> 10 OR NOT same")
echo "filtered queries (WHERE label = x, LIMIT 10) that did not return 10 rows of x: $short"
[[ $short == 0 ]] || status=1

# The plan really is the index, with the filter on it.
plan=$(psql_t -c "EXPLAIN (COSTS OFF) SELECT id FROM fm WHERE label = 3 ORDER BY v <-> (SELECT v FROM q LIMIT 1) LIMIT 10")
echo "$plan"
grep -q "Index Scan using fm_l2" <<<"$plan" || { echo "FAIL: the planner did not use the index"; status=1; }
[[ $status -eq 0 ]] && echo "ok"
exit $status
