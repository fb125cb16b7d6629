# Churn: the same 3,000 rows are rewritten 40 times (every row's text and
# vector change each cycle), each cycle followed by VACUUM. The indexes must
# stay bounded and correct:
#   - no leak: the pages in use (the relation's pages less those free in its
#     free space map) over cycles 21-40 are at most 10 % above their largest
#     over cycles 1-20, for both indexes;
#   - bounded size, against the size after the first cycle (which holds two
#     versions of every row until VACUUM, like the table): quarry_hnsw at most
#     1.2x (freed slots are reused); quarry_bm25 at most 5x. A quarry_bm25
#     relation grows in steps: it keeps the largest footprint any one
#     transaction needed (live segments, the pending list, and every segment
#     and pending page the transaction's flushes and merges retired, which
#     cannot be recycled before it ends), and which flushes and merges fall
#     into one UPDATE varies from cycle to cycle. Freed pages go to the free
#     space map and are reused by the next flushes.
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

$node->safe_psql('postgres', 'CREATE EXTENSION pg_freespacemap');
my $size_sql = q{SELECT pg_relation_size('docs_idx') / 8192, pg_relation_size('items_idx') / 8192,
  (SELECT count(*) FROM pg_freespace('docs_idx') WHERE avail > 0),
  (SELECT count(*) FROM pg_freespace('items_idx') WHERE avail > 0)};
my ($fresh_bm25, $fresh_hnsw) = split /\|/, $node->safe_psql('postgres', $size_sql);
diag("fresh build: quarry_bm25 $fresh_bm25 pages, quarry_hnsw $fresh_hnsw pages");
my (@bm25, @hnsw, @bm25_used, @hnsw_used);
for my $cycle (1 .. $cycles)
{
	$node->safe_psql('postgres', q{
UPDATE docs SET ver = ver + 1, body = body_of(id, ver + 1);
UPDATE items SET ver = ver + 1, emb = vec_of(id, ver + 1);
VACUUM docs; VACUUM items;
});
	my ($b, $h, $bf, $hf) = split /\|/, $node->safe_psql('postgres', $size_sql);
	push @bm25, $b;
	push @hnsw, $h;
	push @bm25_used, $b - $bf;
	push @hnsw_used, $h - $hf;
	check_indexes($node, "cycle $cycle") if $cycle % 10 == 0;
}
diag("quarry_bm25 pages: fresh $fresh_bm25, by cycle: @bm25");
diag("quarry_hnsw pages: fresh $fresh_hnsw, by cycle: @hnsw");
diag("quarry_bm25 pages in use, by cycle: @bm25_used");
diag("quarry_hnsw pages in use, by cycle: @hnsw_used");

sub max_of { my $m = 0; for (@_) { $m = $_ if $_ > $m } return $m }
my $half = $cycles / 2;
for my $index ([ 'quarry_bm25', \@bm25, \@bm25_used, 5 ], [ 'quarry_hnsw', \@hnsw, \@hnsw_used, 1.2 ])
{
	my ($name, $sizes, $used, $factor) = @$index;
	my $first = max_of(@$used[ 0 .. $half - 1 ]);
	my $second = max_of(@$used[ $half .. $cycles - 1 ]);
	ok($second <= $first * 1.1, "$name: no leak: pages in use $first at most in cycles 1-$half, then $second");
	my $largest = max_of(@$sizes);
	ok($largest <= $sizes->[0] * $factor,
		sprintf("$name: at most %.1fx its size after the first cycle (%d pages vs %d: %.2fx)",
			$factor, $largest, $sizes->[0], $largest / $sizes->[0]));
}
$node->stop;
done_testing();
