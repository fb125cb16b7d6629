# Physical replication of both index types: a streaming standby made with
# pg_basebackup on loopback follows a primary that runs a mixed workload
# (inserts, updates, deletes, VACUUM, pending-list flushes and merges, a
# CREATE INDEX and a REINDEX while streaming). Once the standby has replayed
# everything:
#   - the standby's ranked quarry_bm25 results (ids and scores) and quarry_hnsw
#     results (ids and distances) equal the primary's for a set of queries,
#     through index scans on both;
#   - a zero vector inserted into a cosine index marks its metapage on the
#     standby too (the mark's WAL record), and both return it before the NULL
#     rows;
#   - quarry_verify_index passes on the standby (replay paused) and on the
#     primary;
#   - after promotion the former standby takes writes into both indexes and
#     still verifies.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use QuarryTest;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
log_statement = none
max_connections = 40
});
$primary->start;
create_schema($primary);
load_rows($primary, 3000);

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->append_conf('postgresql.conf', 'hot_standby_feedback = on');
$standby->start;

# A mixed workload streamed while the standby replays.
my $dir = PostgreSQL::Test::Utils::tempdir();
srand($ENV{QUARRY_SEED} // 4242);
my $load = start_workload($primary, $dir, writers => 3, ops => 1500);
my ($allowed, $acked) = stop_workload($load);
is($acked, 3 * 1500, 'every transaction of the workload committed');
check_state(read_state($primary), $allowed, 'primary after the workload');
$primary->safe_psql('postgres', qq{
CREATE INDEX docs_english ON docs USING quarry_bm25 (body) WITH (text_config = 'english', k1 = 0.9, b = 0.4);
CREATE INDEX items_cos ON items USING quarry_hnsw (emb quarry_cosine_ops) WITH (m = 8, storage = '@{[QuarryTest::hnsw_storage()]}');
DELETE FROM docs WHERE id % 5 = 0;
DELETE FROM items WHERE id % 5 = 0;
VACUUM docs; VACUUM items;
REINDEX INDEX items_idx;
SELECT quarry_bm25_merge('docs_idx');
INSERT INTO docs SELECT g, 1, body_of(g, 1) FROM generate_series(900000, 900500) g;
INSERT INTO items SELECT g, 1, vec_of(g, 1) FROM generate_series(900000, 900500) g;
});
# The zero-vector mark's own WAL record: items_cos holds NULL rows only until
# this INSERT of a zero vector marks its metapage.
is(zero_vector_mark($primary, 'items_cos'), 'none', 'items_cos: unmarked before the zero vector');
$primary->safe_psql('postgres', "INSERT INTO items VALUES (990000, 1, array_fill(0::real, ARRAY[16]))");
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is(zero_vector_mark($standby, 'items_cos'), 'held', 'standby: items_cos marked by the replayed INSERT');
check_zero_vector_first($_->[0], 'items_cos', 990000, $_->[1]) for ([ $primary, 'primary' ], [ $standby, 'standby' ]);

# The same queries on both servers, through index scans.
my @queries;
for my $a (0, 5, 17, 42, 96)
{
	for my $index ('docs_idx', 'docs_english')
	{
		push @queries, qq{SELECT id, round((body <@> quarry_query('w$a common filler', '$index'))::numeric, 9)
FROM docs ORDER BY body <@> quarry_query('w$a common filler', '$index') LIMIT 20};
	}
	push @queries, qq{SELECT id, round((emb <-> vec_of($a, 1))::numeric, 5) FROM items
ORDER BY emb <-> vec_of($a, 1) LIMIT 20};
	push @queries, qq{SELECT id, round((emb <=> vec_of($a, 1))::numeric, 5) FROM items
ORDER BY emb <=> vec_of($a, 1) LIMIT 20};
}
my $settings = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;';
my $same = 0;
for my $q (@queries)
{
	my $on_primary = $primary->safe_psql('postgres', "$settings EXPLAIN (COSTS OFF) $q");
	like($on_primary, qr/Index Scan using/, 'the query is an index scan') unless $same;
	my $p = $primary->safe_psql('postgres', "$settings $q");
	my $s = $standby->safe_psql('postgres', "$settings $q");
	is($s, $p, 'standby equals primary: ' . substr($q =~ s/\s+/ /gr, 0, 90));
	$same++ if $s eq $p && $p ne '';
}
ok($same == @queries, "all " . scalar(@queries) . " queries returned rows and matched");

# The verifier on the standby, with replay paused so the pages hold still.
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$standby->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'");
verify_clean($standby, 'standby', 'docs_idx', 'docs_english', 'items_idx', 'items_cos');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
verify_clean($primary, 'primary', 'docs_idx', 'docs_english', 'items_idx', 'items_cos');

# Promotion: the former standby writes into both indexes.
$standby->promote;
$standby->safe_psql('postgres', q{
INSERT INTO docs SELECT g, 1, body_of(g, 1) FROM generate_series(950000, 950300) g;
INSERT INTO items SELECT g, 1, vec_of(g, 1) FROM generate_series(950000, 950300) g;
UPDATE docs SET ver = 2, body = body_of(id, 2) WHERE id BETWEEN 950000 AND 950100;
DELETE FROM items WHERE id BETWEEN 950000 AND 950050;
});
check_indexes($standby, 'promoted standby');
verify_clean($standby, 'promoted standby', 'docs_english', 'items_cos');

$standby->stop;
$primary->stop;
done_testing();
