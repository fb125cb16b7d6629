# Crash recovery of both index types.
#
# Four writers insert, update and delete rows in a table under quarry_bm25 and
# one under quarry_hnsw (one transaction changes both), while a fifth session
# runs ranked searches on both and a sixth VACUUMs and merges the pending
# list. After a few seconds the postmaster and every backend are killed with
# SIGKILL, the server restarts and replays WAL, and then:
#   - every row is in the state of its last acknowledged commit (or of the one
#     change in flight when the server died), in both tables;
#   - quarry_verify_index finds nothing wrong with either index;
#   - every docs row is found by its own unique token through the index, and
#     ranked scans equal the sequential plan; every items row is found at
#     distance 0 by its own vector (approximate index: 0.5 % allowed);
#   - the next round's writes go on into the recovered indexes.
# Then a zero vector's INSERT into a cosine index (the metapage mark's own WAL
# record) is killed after its commit: the mark and the row order survive.
# Then CREATE INDEX is killed half-way (both index types, plain and
# CONCURRENTLY): after recovery the plain build left no index, the concurrent
# one an invalid index that DROP removes or REINDEX repairs.
# The quarry_hnsw indexes use QUARRY_HNSW_STORAGE's layout (QuarryTest.pm);
# on sq8 and sq4 the quarry_bm25 build is not killed (it does not depend on
# the layout: the run on full covers it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use QuarryTest;

my $rounds = $ENV{QUARRY_CRASH_ROUNDS} // 5;
my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init;
$node->append_conf('postgresql.conf', qq{
autovacuum_naptime = 1
max_connections = 40
log_statement = none
log_min_messages = warning
});
$node->start;
create_schema($node);
load_rows($node, 3000);

my $dir = PostgreSQL::Test::Utils::tempdir();
my ($crashes, $rows_checked, $acked_total) = (0, 0, 0);
srand($ENV{QUARRY_SEED} // 20261124);
for my $round (1 .. $rounds)
{
	my $load = start_workload($node, $dir, writers => 4);
	usleep(int((2 + rand(3)) * 1_000_000));
	crash_node($node);
	$crashes++;
	my ($allowed, $acked) = stop_workload($load);
	$acked_total += $acked;
	$node->start;
	my $state = read_state($node);
	$rows_checked += check_state($state, $allowed, "round $round ($acked commits acknowledged)");
	check_indexes($node, "round $round");
}

# --- the zero-vector mark's WAL record ------------------------------------------
# A cosine index whose null-row list holds NULL rows only, a zero vector
# inserted (its INSERT marks the metapage first), then SIGKILL: the mark is
# replayed.
$node->safe_psql('postgres', "CREATE INDEX items_zero ON items USING quarry_hnsw (emb quarry_cosine_ops) "
	  . "WITH (storage = '@{[QuarryTest::hnsw_storage()]}')");
is(zero_vector_mark($node, 'items_zero'), 'none', 'items_zero: built over NULL rows only, unmarked');
$node->safe_psql('postgres', "INSERT INTO items VALUES (990000, 1, array_fill(0::real, ARRAY[16]))");
crash_node($node);
$crashes++;
$node->start;
is(zero_vector_mark($node, 'items_zero'), 'held', 'items_zero: the mark survived the crash');
check_zero_vector_first($node, 'items_zero', 990000, 'after the crash');
verify_clean($node, 'after the zero-vector crash', 'items_zero');
$node->safe_psql('postgres', "DROP INDEX items_zero; DELETE FROM items WHERE id = 990000");

# --- CREATE INDEX killed half-way ----------------------------------------------
my $kill_bm25 = QuarryTest::hnsw_storage() eq 'full';
$node->safe_psql('postgres',
	"CREATE TABLE big_docs AS SELECT g AS id, body_of(g, 1) AS body FROM generate_series(1, 400000) g")
  if $kill_bm25;
$node->safe_psql('postgres',
	"CREATE TABLE big_items AS SELECT g AS id, vec_of(g, 1) AS emb FROM generate_series(1, 60000) g");
my %builds = (
	big_items_idx => "CREATE INDEX %s big_items_idx ON big_items USING quarry_hnsw (emb quarry_l2_ops) "
	  . "WITH (storage = '@{[QuarryTest::hnsw_storage()]}')");
$builds{big_docs_idx} = "CREATE INDEX %s big_docs_idx ON big_docs USING quarry_bm25 (body) WITH (text_config = 'simple')"
  if $kill_bm25;
for my $index (sort keys %builds)
{
	for my $mode ('', 'CONCURRENTLY')
	{
		my $label = "CREATE INDEX $mode $index killed";
		my $sql = sprintf($builds{$index}, $mode);
		my $build = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', $sql ],
			'>', "$dir/build.out", '2>', "$dir/build.err");
		# Wait until the build is scanning the table (its progress row shows
		# tuples done), then kill everything.
		my $started = $node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE tuples_done > 0 OR blocks_done > 0});
		ok($started, "$label: the build was running");
		crash_node($node);
		$crashes++;
		eval { $build->finish; };
		$node->start;
		my $valid = $node->safe_psql('postgres', qq{
SELECT coalesce((SELECT indisvalid::text FROM pg_index WHERE indexrelid = to_regclass('$index')), 'absent')});
		if ($mode eq '')
		{
			is($valid, 'absent', "$label: no index is left behind");
		}
		else
		{
			is($valid, 'false', "$label: an invalid index is left behind");
			my $plan = $node->safe_psql('postgres',
				$index =~ /docs/
				? "EXPLAIN SELECT id FROM big_docs ORDER BY body <@> 'w5' LIMIT 5"
				: "EXPLAIN SELECT id FROM big_items ORDER BY emb <-> vec_of(1, 1) LIMIT 5");
			unlike($plan, qr/$index/, "$label: the planner does not use the invalid index");
			$node->safe_psql('postgres', "REINDEX INDEX $index");
			is($node->safe_psql('postgres', "SELECT indisvalid FROM pg_index WHERE indexrelid = '$index'::regclass"),
				't', "$label: REINDEX makes it valid");
			verify_clean($node, $label, $index);
			$node->safe_psql('postgres', "DROP INDEX $index");
		}
		$node->safe_psql('postgres', sprintf($builds{$index}, ''));
		verify_clean($node, "$label, built again", $index);
		$node->safe_psql('postgres', "DROP INDEX $index");
	}
}

# The small tables are still sound after all of it.
check_indexes($node, 'after the build crashes');
my $log = slurp_file($node->logfile);
my @panics = $log =~ /^.*PANIC.*$/mg;
ok(!@panics, 'no PANIC in the server log') or diag(join("\n", @panics[ 0 .. 4 ]));
diag("summary: $crashes crashes survived, $acked_total commits acknowledged, $rows_checked row states checked");
$node->stop;
done_testing();
