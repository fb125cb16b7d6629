# The vector-search part of test/demo.sh (sourced). demo_hnsw DIR loads the
# 60,000 Fashion-MNIST training images (Debian dataset-fashion-mnist) as real[]
# vectors with their labels, builds a quarry_hnsw index while showing
# pg_stat_progress_create_index, and for a few test images prints the labels of
# their 10 nearest neighbours, the recall against exact search and the query
# times. It needs psql_demo (psql on the demo database) and python3.

demo_hnsw_labels="'{T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot}'::text[]"

demo_hnsw() {
	local dir=$1 fm=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
	echo
	echo "== vector search: Fashion-MNIST (quarry_hnsw)"
	if [[ ! -f $fm/train-images-idx3-ubyte.gz ]]; then
		echo "Fashion-MNIST not found in $fm (Debian package dataset-fashion-mnist); skipping"
		return 0
	fi
	python3 "$repo/bench/fmnist.py" tsv "$fm" train >"$dir/fashion_train.tsv"
	python3 "$repo/bench/fmnist.py" tsv "$fm" test 100 >"$dir/fashion_test.tsv"
	chmod a+r "$dir"/fashion_*.tsv
	psql_demo -q <<EOF
CREATE TABLE fashion (id int PRIMARY KEY, label int, image real[]);
-- Store the vectors uncompressed: compression saves little on float data and
-- costs a decompression for every row a query returns.
ALTER TABLE fashion ALTER image SET STORAGE PLAIN;
COPY fashion FROM '$dir/fashion_train.tsv';
CREATE TABLE fashion_test (id int PRIMARY KEY, label int, image real[]);
COPY fashion_test FROM '$dir/fashion_test.tsv';
VACUUM ANALYZE fashion;
EOF
	echo "loaded: $(psql_demo -At -c "SELECT count(*) FROM fashion") images of 28 x 28 = 784 pixels, as real[] with a label"

	echo "building: CREATE INDEX ON fashion USING quarry_hnsw (image quarry_l2_ops) WITH (m = 16, ef_construction = 64)"
	local start=$SECONDS
	psql_demo -q -c "SET maintenance_work_mem = '1GB'" \
		-c "CREATE INDEX fashion_image ON fashion USING quarry_hnsw (image quarry_l2_ops) WITH (m = 16, ef_construction = 64)" &
	local build=$!
	local line last=""
	while kill -0 "$build" 2>/dev/null; do
		line=$(psql_demo -At -c "SELECT coalesce(phase, '') || ' ' || tuples_done || '/' || tuples_total
		                         FROM pg_stat_progress_create_index WHERE relid = 'fashion'::regclass" 2>/dev/null || true)
		if [[ -t 1 ]]; then
			[[ -n $line ]] && printf '\r  progress: %-60s' "$line"
			sleep 0.3
		else
			[[ -n $line && $line != "$last" ]] && echo "  progress: $line"
			last=$line
			sleep 1
		fi
	done
	wait "$build"
	printf '\r  built in %d s: %s%-30s\n' $((SECONDS - start)) \
		"$(psql_demo -At -c "SELECT pg_size_pretty(pg_relation_size('fashion_image')) || ' (' ||
		                      round(pg_relation_size('fashion_image') / (60000 * 784 * 4.0), 2) || ' x the raw vectors)'")" ""

	psql_demo -q <<EOF
CREATE FUNCTION demo_neighbours(query int, OUT label text, OUT neighbours text, OUT recall text,
                                OUT index_ms numeric, OUT exact_ms numeric) LANGUAGE plpgsql AS \$\$
DECLARE
    q real[];
    found int[];
    exact int[];
    labels int[];
    t0 timestamptz;
BEGIN
    SELECT image, ($demo_hnsw_labels)[fashion_test.label + 1] INTO q, label FROM fashion_test WHERE id = query;
    t0 := clock_timestamp();
    SELECT array_agg(id), array_agg(f.label) INTO found, labels
    FROM (SELECT id, fashion.label FROM fashion ORDER BY image <-> q LIMIT 10) f;
    index_ms := round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 2);
    SET LOCAL enable_indexscan = off;
    t0 := clock_timestamp();
    SELECT array_agg(id) INTO exact FROM (SELECT id FROM fashion ORDER BY image <-> q LIMIT 10) e;
    exact_ms := round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
    SET LOCAL enable_indexscan = on;
    SELECT string_agg(($demo_hnsw_labels)[l + 1], ', ') INTO neighbours FROM unnest(labels) l;
    recall := (SELECT count(*) FROM unnest(found) f WHERE f = ANY (exact)) || '/10';
END \$\$;
EOF
	echo
	psql_demo -q -c "SELECT count(*) FROM (SELECT id FROM fashion ORDER BY image <-> (SELECT image FROM fashion_test WHERE id = 99) LIMIT 10) s" >/dev/null
	echo "The 10 nearest training images of a few test images (ORDER BY image <-> query LIMIT 10):"
	psql_demo -c "SELECT '#' || q AS test_image, n.* FROM generate_series(0, 5) q, demo_neighbours(q) n"
	echo "recall: how many of the 10 are the exact 10 nearest (a sequential scan over all 60,000)."
	echo "Try:  test/demo.sh psql -c \"SELECT id, label FROM fashion ORDER BY image <-> (SELECT image FROM fashion_test WHERE id = 7) LIMIT 5\""
}
