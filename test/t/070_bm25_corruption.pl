# quarry_bm25 pages overwritten with garbage.
#
# A quarry_bm25 index with several segments and a pending list is damaged one
# page at a time, with the server stopped: the metapage and pages of every
# type (segment headers, postings and per-row data, dictionary, extents,
# pending list, free pages), each overwritten with random bytes, with zeros,
# or with a garbage body under an intact page header and special space. Then
# searches, bitmap matches, statistics, inserts, updates, VACUUM, a merge and
# quarry_verify_index run. Every statement must either succeed with the right
# rows or fail with an ERROR naming the index; the server must not crash; the
# verifier (run after the reads, before the writes, which may repair the
# damage by rewriting it) must not pass an index a read failed on. Each case starts
# from a copy of the intact data directory. Finally REINDEX repairs an index
# that has garbage in it.
#
# Two clusters: one with data checksums (PostgreSQL rejects any damaged page
# it reads; quarry adds the index's name to the error), one without, where
# quarry's own checks (page ids, types, bounds, decoders) must catch random
# and zeroed pages. A garbage body under a valid header and special space is
# only guaranteed to be caught with checksums: without them the test checks
# that nothing crashes, and counts what was caught.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PostgreSQL::Test::RecursiveCopy;
use File::Path qw(rmtree);

srand($ENV{QUARRY_SEED} // 7070);
my %totals = (cases => 0, statements => 0, errors => 0, wrong => 0);

my @reads = (
	[ 'ranked search', q{SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT string_agg(id || ':' || round(s::numeric, 9), ',') FROM (
  SELECT id, body <@> 'w5 common' AS s FROM docs ORDER BY body <@> 'w5 common' LIMIT 10) x} ],
	[ 'second ranked search', q{SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT string_agg(id || ':' || round(s::numeric, 9), ',') FROM (
  SELECT id, body <@> 'w17 filler t33x1' AS s FROM docs ORDER BY body <@> 'w17 filler t33x1' LIMIT 10) x} ],
	[ 'bitmap match', q{SET enable_seqscan = off; SET enable_indexscan = off;
SELECT count(*) FROM docs WHERE body @@@ 'w7'} ],
	[ 'scores over a sequential scan', q{SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT round(sum(body <@> quarry_query('w3 common', 'docs_idx'))::numeric, 6) FROM docs} ],
	[ 'statistics', q{SELECT doc_count, total_length FROM quarry_bm25_stats('docs_idx')} ]);
my @writes = (
	[ 'insert', q{INSERT INTO docs SELECT g, 1, 'w5 inserted t' || g FROM generate_series(100000, 100020) g} ],
	[ 'update', q{UPDATE docs SET body = body || ' updated' WHERE id % 50 = 0} ],
	[ 'vacuum', q{DELETE FROM docs WHERE id % 97 = 0; VACUUM (INDEX_CLEANUP ON) docs} ],
	[ 'merge', q{SELECT quarry_bm25_merge('docs_idx') >= 0} ]);

for my $checksums (1, 0)
{
	my $label = $checksums ? 'checksums' : 'no checksums';
	my $node = PostgreSQL::Test::Cluster->new($checksums ? 'sums' : 'nosums');
	{
		# Each cluster says what it wants: run.sh's PG_TEST_INITDB_EXTRA_OPTS
		# (--no-data-checksums on 18, whose default is on) would come last and win.
		local $ENV{PG_TEST_INITDB_EXTRA_OPTS} = '';
		my $no_sums = `initdb --help` =~ /--no-data-checksums/ ? ['--no-data-checksums'] : [];
		$node->init(extra => $checksums ? ['--data-checksums'] : $no_sums);
	}
	$node->append_conf('postgresql.conf',
		"log_statement = none\nautovacuum = off\nquarry.bm25_pending_limit = '64kB'\n");
	$node->start;
	is($node->safe_psql('postgres', 'SHOW data_checksums'), $checksums ? 'on' : 'off', "$label: data_checksums");
	$node->safe_psql('postgres', q{
CREATE EXTENSION quarry;
CREATE EXTENSION pageinspect;
CREATE TABLE docs (id int PRIMARY KEY, ver int, body text);
INSERT INTO docs SELECT g, 1, 'w' || (g % 97) || ' w' || (g * 7 % 13) || ' common ' || repeat('filler ', g % 4) || 't' || g || 'x1'
FROM generate_series(1, 4000) g;
CREATE INDEX docs_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'simple');
INSERT INTO docs SELECT g, 1, 'w' || (g % 97) || ' late t' || g || 'x1' FROM generate_series(4001, 6000) g;
});
	my %expected = map { $_->[0] => $node->safe_psql('postgres', $_->[1] =~ s/SET enable_\w+ = off;//gr) } @reads;
	my $pages = page_types($node);
	my @blocks = pick_blocks($pages);
	note("$label: " . scalar(@$pages) . " pages; damaging blocks @blocks");
	my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('docs_idx')");
	$node->stop;
	my $pristine = PostgreSQL::Test::Utils::tempdir() . '/pristine';
	PostgreSQL::Test::RecursiveCopy::copypath($node->data_dir, $pristine);

	my %caught = (random => 0, zero => 0, body => 0);
	my %tried = (random => 0, zero => 0, body => 0);
	for my $block (@blocks)
	{
		for my $mode ('random', 'zero', 'body')
		{
			rmtree($node->data_dir);
			PostgreSQL::Test::RecursiveCopy::copypath($pristine, $node->data_dir);
			chmod 0700, $node->data_dir;
			damage($file, $block, $mode);
			$node->start;
			my $case = "$label, block $block ($pages->[$block]), $mode";
			my $strict = $checksums || $mode ne 'body';
			my $result = run_case($node, $case, \%expected, $strict);
			$tried{$mode}++;
			$caught{$mode}++ if $result->{errors} > 0;
			$node->stop('immediate');
			$totals{cases}++;
		}
	}
	diag("$label: cases with an ERROR (caught) per kind of damage: "
		  . join(', ', map { "$_ $caught{$_}/$tried{$_}" } sort keys %tried));

	# REINDEX repairs an index with garbage in it.
	rmtree($node->data_dir);
	PostgreSQL::Test::RecursiveCopy::copypath($pristine, $node->data_dir);
	chmod 0700, $node->data_dir;
	damage($file, $_, 'random') for @blocks[ 0 .. 2 ];
	$node->start;
	my ($ret) = $node->psql('postgres', $reads[0][1]);
	isnt($ret, 0, "$label: a search on the damaged index fails");
	$node->safe_psql('postgres', 'REINDEX INDEX docs_idx');
	is($node->safe_psql('postgres', $reads[0][1]), $expected{'ranked search'}, "$label: after REINDEX the search is right");
	is($node->safe_psql('postgres', "SELECT count(*) FROM quarry_verify_index('docs_idx')"), '0',
		"$label: after REINDEX the verifier finds nothing");
	ok(slurp_file($node->logfile) !~ /terminated by signal|PANIC/, "$label: no crash in the server log");
	$node->stop;
}
diag("summary: $totals{cases} damaged-page cases, $totals{statements} statements, "
	  . "$totals{errors} ERRORs naming the index, $totals{wrong} wrong answers");
done_testing();

# The page type of every block (the PageOpaque's type field, 8 bytes before
# the page's end).
sub page_types
{
	my ($node) = @_;
	my %names = (1 => 'meta', 2 => 'segment header', 3 => 'segment data', 4 => 'dictionary leaf',
		5 => 'dictionary inner', 6 => 'extents', 7 => 'pending', 8 => 'free');
	my $out = $node->safe_psql('postgres', q{
SELECT b, get_byte(p, 8184) + 256 * get_byte(p, 8185)
FROM generate_series(0, pg_relation_size('docs_idx') / 8192 - 1) b, LATERAL get_raw_page('docs_idx', b::int) p
ORDER BY b});
	my @types;
	for (split /\n/, $out)
	{
		my ($b, $t) = split /\|/;
		$types[$b] = $names{$t} // "type $t";
	}
	return \@types;
}

# The metapage and up to two random blocks of each page type.
sub pick_blocks
{
	my ($types) = @_;
	my %by_type;
	push @{ $by_type{ $types->[$_] } }, $_ for 1 .. $#$types;
	my @picked = (0);
	for my $type (sort keys %by_type)
	{
		my @b = @{ $by_type{$type} };
		for (1 .. 2)
		{
			last unless @b;
			push @picked, splice(@b, int(rand(@b)), 1);
		}
	}
	return @picked;
}

# Overwrites block $block of $file: random bytes, zeros, or a random body
# between an intact page header (24 bytes) and special space (16 bytes).
sub damage
{
	my ($file, $block, $mode) = @_;
	open my $fh, '+<:raw', $file or die "cannot open $file: $!";
	sysseek($fh, $block * 8192, 0) or die;
	my $page;
	sysread($fh, $page, 8192) == 8192 or die "short read of block $block";
	my $noise = join('', map { chr(int(rand(256))) } 1 .. 8192);
	my $new =
	    $mode eq 'zero'   ? "\0" x 8192
	  : $mode eq 'random' ? $noise
	  :                     substr($page, 0, 24) . substr($noise, 24, 8192 - 40) . substr($page, 8192 - 16);
	sysseek($fh, $block * 8192, 0) or die;
	syswrite($fh, $new) == 8192 or die;
	close $fh;
	return;
}

# Runs every statement against the damaged index; returns the counts.
sub run_case
{
	my ($node, $case, $expected, $strict) = @_;
	my %r = (errors => 0, wrong => 0);
	my @problems;
	my $log_start = -s $node->logfile;
	# The verifier runs before the writes: a merge or a VACUUM that rewrites
	# the damaged part repairs the index.
	for my $st (@reads, [ 'verify', q{SELECT count(*) FROM quarry_verify_index('docs_idx')} ], @writes)
	{
		my ($name, $sql) = @$st;
		my ($ret, $out, $err) = $node->psql('postgres', $sql);
		$totals{statements}++;
		if ($ret == 0)
		{
			if ($name eq 'verify' && $out ne '0')
			{
				$r{errors}++;    # the verifier reported problems: caught
			}
			elsif (exists $expected->{$name} && $out ne $expected->{$name})
			{
				$r{wrong}++;
				push @problems, "$name returned wrong rows" if $strict;
			}
			elsif ($name eq 'verify' && $r{errors} > 0)
			{
				push @problems, 'the verifier passed an index that failed a statement';
			}
			next;
		}
		if ($ret != 3 || $err !~ /ERROR/)
		{
			push @problems, "$name: not an ERROR (psql status $ret): $err";
			last;
		}
		$r{errors}++;
		$totals{errors}++ if $err =~ /docs_idx/;
		push @problems, "$name: the ERROR does not name the index: $err" unless $err =~ /docs_idx/;
	}
	$totals{wrong} += $r{wrong};
	my $log = substr(slurp_file($node->logfile), $log_start);
	push @problems, 'the server crashed' if $log =~ /terminated by signal|PANIC/;
	my $summary = $r{errors} ? "$r{errors} statements caught it" : 'no statement was affected';
	$summary .= ", $r{wrong} wrong answers (no checksums, garbage under a valid header)" if $r{wrong} && !$strict;
	ok(!@problems, "$case: $summary")
	  or diag(join("\n", @problems));
	return \%r;
}
