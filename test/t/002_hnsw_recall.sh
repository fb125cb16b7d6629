#!/usr/bin/env bash
# quarry_hnsw recall on real data: 20,000 Fashion-MNIST training images, 200
# test images as queries, default settings (m 16, ef_construction 64,
# ef_search 40). recall@10 against the exact answer (a sequential scan with
# the same distance operator; a row at the 10th exact distance counts) must be
# at least 0.95, for L2 and for cosine, and a filtered query (one label, 10 %
# of the rows) must return 10 rows of that label for every query.
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
-- recall@10 of the index against the exact answer for operator OP.
CREATE FUNCTION recall(op text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
    r record;
    hits bigint := 0;
    found bigint;
    kth float8;
BEGIN
    FOR r IN SELECT id, v FROM q LOOP
        SET LOCAL enable_indexscan = off;
        EXECUTE format('SELECT max(d) FROM (SELECT v %s \$1 AS d FROM fm ORDER BY d LIMIT 10) s', op)
            INTO kth USING r.v;
        SET LOCAL enable_indexscan = on;
        SET LOCAL enable_seqscan = off;
        EXECUTE format('SELECT count(*) FROM (SELECT v %s \$1 AS d FROM fm ORDER BY v %s \$1 LIMIT 10) s
                        WHERE d <= \$2', op, op) INTO STRICT found USING r.v, kth;
        hits := hits + found;
        SET LOCAL enable_seqscan = on;
    END LOOP;
    RETURN hits / (10.0 * (SELECT count(*) FROM q));
END \$\$;
EOF

status=0
for op in '<->' '<=>'; do
	recall=$(psql_t -c "SELECT round(recall('$op')::numeric, 4)")
	echo "recall@10 for $op at default settings: $recall"
	if ! awk -v r="$recall" 'BEGIN { exit !(r >= 0.95) }'; then
		echo "FAIL: recall@10 for $op is below 0.95"
		status=1
	fi
done

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
