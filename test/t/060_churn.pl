# Churn: the same 3,000 rows are rewritten 40 times (every row's text and
# vector change each cycle), each cycle followed by VACUUM. The indexes must
# stay bounded and correct:
#   - no growth in the second half: the largest size over cycles 21-40 is at
#     most 10 % above the largest over cycles 1-20, for both indexes;
#   - against the size after the first cycle (which holds two versions of
#     every row until VACUUM, like the table): quarry_hnsw at most 1.2x (freed
#     slots are reused); quarry_bm25 at most 5x (besides the live segments, its
#     pending list, the segments a merge retired in the last cycle, which wait
#     for older snapshots to end, and recycled pages kept in the free space
#     map for the next flush).
#   - every 10 cycles: the verifier finds nothing, every row is found by its
#     own token (bm25) and its own vector (hnsw), ranked scans equal the
#     sequential plan.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use QuarryTest;

my $cycles = 40;
my $node = PostgreSQL::Test::Cluster->new('churn');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = none\nautovacuum = off\n");
$node->start;
create_schema($node, pending_limit => '256kB');
load_rows($node, 3000);

my $size_sql = q{SELECT pg_relation_size('docs_idx') / 8192, pg_relation_size('items_idx') / 8192};
my ($fresh_bm25, $fresh_hnsw) = split /\|/, $node->safe_psql('postgres', $size_sql);
diag("fresh build: quarry_bm25 $fresh_bm25 pages, quarry_hnsw $fresh_hnsw pages");
my (@bm25, @hnsw);
for my $cycle (1 .. $cycles)
{
	$node->safe_psql('postgres', q{
UPDATE docs SET ver = ver + 1, body = body_of(id, ver + 1);
UPDATE items SET ver = ver + 1, emb = vec_of(id, ver + 1);
VACUUM docs; VACUUM items;
});
	my ($b, $h) = split /\|/, $node->safe_psql('postgres', $size_sql);
	push @bm25, $b;
	push @hnsw, $h;
	check_indexes($node, "cycle $cycle") if $cycle % 10 == 0;
}
diag("quarry_bm25 pages: fresh $fresh_bm25, by cycle: @bm25");
diag("quarry_hnsw pages: fresh $fresh_hnsw, by cycle: @hnsw");

sub max_of { my $m = 0; for (@_) { $m = $_ if $_ > $m } return $m }
my $half = $cycles / 2;
for my $index ([ 'quarry_bm25', \@bm25, 5 ], [ 'quarry_hnsw', \@hnsw, 1.2 ])
{
	my ($name, $sizes, $factor) = @$index;
	my $first = max_of(@$sizes[ 0 .. $half - 1 ]);
	my $second = max_of(@$sizes[ $half .. $cycles - 1 ]);
	ok($second <= $first * 1.1, "$name: no growth in the second half ($first pages, then $second)");
	ok($second <= $sizes->[0] * $factor,
		sprintf("$name: at most %.1fx its size after the first cycle (%d pages vs %d: %.2fx)",
			$factor, $second, $sizes->[0], $second / $sizes->[0]));
}
$node->stop;
done_testing();
