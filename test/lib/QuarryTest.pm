# Shared pieces of the TAP tests in test/t (*.pl): a schema with both index
# types, a write workload whose every acknowledged commit is recorded, and the
# checks that the table and both indexes hold exactly the committed rows.
#
# The workload: each writer owns the ids with id % writers == w and runs a
# psql script of small transactions, each changing one id in both tables
# (docs: text under quarry_bm25; items: a real[16] under quarry_hnsw) and then
# printing "ack ID VERSION" -- printed only once COMMIT returned, so an ack is
# a commit the server confirmed. Version 0 means "deleted". After a crash a
# row may be in the state of its last acknowledged change or of the one change
# in flight after it, nothing else.
package QuarryTest;

use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use Exporter 'import';
our @EXPORT = qw(create_schema load_rows start_workload stop_workload crash_node
  read_state check_state check_indexes verify_clean row_count zero_vector_mark check_zero_vector_first);

# The schema: tokens and vectors are functions of (id, version), so a row's
# expected content is known without storing it. Every non-NULL body holds a token
# unique to its (id, version): "t<id>x<version>". Every seventh version has a
# NULL body and a NULL vector (the indexes keep those rows apart): (id + ver)
# % 7 = 0, so whatever the versions, about a seventh of the rows are NULL and
# the rest are not.
sub create_schema
{
	my ($node, %opt) = @_;
	my $pending = $opt{pending_limit} // '64kB';
	$node->safe_psql('postgres', qq{
CREATE EXTENSION quarry;
ALTER SYSTEM SET quarry.bm25_pending_limit = '$pending';
SELECT pg_reload_conf();
CREATE FUNCTION body_of(id int, ver int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \$\$
    SELECT CASE WHEN (id + ver) % 7 <> 0 THEN
           'w' || (id % 97) || ' w' || (id * 7 % 13) || ' common ' || repeat('filler ', id % 4)
           || 't' || id || 'x' || ver END \$\$;
CREATE FUNCTION vec_of(id int, ver int) RETURNS real[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \$\$
    SELECT CASE WHEN (id + ver) % 7 <> 0 THEN
           ARRAY(SELECT (abs(hashint4(id * 1000 + ver * 17 + d)) % 100000)::real / 1000
                 FROM generate_series(1, 16) d) END \$\$;
CREATE TABLE docs (id int PRIMARY KEY, ver int NOT NULL, body text);
CREATE TABLE items (id int PRIMARY KEY, ver int NOT NULL, emb real[]);
});
	return;
}

# The quarry_hnsw layout the scripts' vector indexes use: QUARRY_HNSW_STORAGE
# (full, sq8 or sq4; default full), so crash recovery and replicas can be
# run on the compressed layouts too.
sub hnsw_storage
{
	my $storage = $ENV{QUARRY_HNSW_STORAGE} // 'full';
	die "QUARRY_HNSW_STORAGE must be full, sq8 or sq4" unless $storage =~ /^(full|sq8|sq4)$/;
	return $storage;
}

# Rows 1..n at version 1, then both indexes.
sub load_rows
{
	my ($node, $n) = @_;
	my $storage = hnsw_storage();
	$node->safe_psql('postgres', qq{
INSERT INTO docs SELECT g, 1, body_of(g, 1) FROM generate_series(1, $n) g;
INSERT INTO items SELECT g, 1, vec_of(g, 1) FROM generate_series(1, $n) g;
CREATE INDEX docs_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'simple');
CREATE INDEX items_idx ON items USING quarry_hnsw (emb quarry_l2_ops) WITH (storage = '$storage');
});
	return;
}

# The committed state: id => version, read with a sequential scan.
sub read_state
{
	my ($node) = @_;
	my $out = $node->safe_psql('postgres', q{
SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;
SELECT coalesce(d.id, i.id), coalesce(d.ver, -1), coalesce(i.ver, -1)
FROM docs d FULL JOIN items i USING (id)});
	my %state;
	for my $line (split /\n/, $out)
	{
		my ($id, $dver, $iver) = split /\|/, $line;
		$state{$id} = $dver == $iver ? $dver : "mismatch:$dver/$iver";
	}
	return \%state;
}

sub row_count
{
	my ($state) = @_;
	return scalar keys %$state;
}

# One writer's script: $ops transactions over the ids it owns, starting from
# $state. Returns the list of [id, new_version] in script order.
sub writer_script
{
	my ($file, $state, $w, $writers, $ops, $next_id) = @_;
	my @own = sort { $a <=> $b } grep { $_ % $writers == $w && $state->{$_} > 0 } keys %$state;
	my %ver = map { $_ => $state->{$_} } @own;
	my @plan;
	open my $fh, '>', $file or die "cannot write $file: $!";
	print $fh "\\set ON_ERROR_STOP 1\n\\set QUIET 1\n";
	for my $k (1 .. $ops)
	{
		my $r = rand();
		my ($id, $sql);
		if ($r < 0.4 || @own < 10)
		{
			$id = $$next_id;
			$$next_id += $writers;
			push @own, $id;
			$ver{$id} = 1;
			$sql = "INSERT INTO docs VALUES ($id, 1, body_of($id, 1)); "
			  . "INSERT INTO items VALUES ($id, 1, vec_of($id, 1));";
		}
		elsif ($r < 0.75)
		{
			$id = $own[ int(rand(@own)) ];
			my $v = ++$ver{$id};
			$sql = "UPDATE docs SET ver = $v, body = body_of($id, $v) WHERE id = $id; "
			  . "UPDATE items SET ver = $v, emb = vec_of($id, $v) WHERE id = $id;";
		}
		else
		{
			my $i = int(rand(@own));
			$id = $own[$i];
			splice @own, $i, 1;
			$ver{$id} = 0;
			$sql = "DELETE FROM docs WHERE id = $id; DELETE FROM items WHERE id = $id;";
		}
		push @plan, [ $id, $ver{$id} ];
		print $fh "BEGIN; $sql COMMIT;\n\\echo ack $id $ver{$id}\n";
	}
	close $fh;
	return \@plan;
}

# Background load besides the writers: ranked searches on both indexes, and
# VACUUM with pending-list merges.
sub side_scripts
{
	my ($dir) = @_;
	open my $q, '>', "$dir/search.sql" or die;
	print $q "\\set ON_ERROR_STOP 1\n\\set QUIET 1\n\\o /dev/null\n";
	for my $k (1 .. 4000)
	{
		my $a = $k % 97;
		print $q "SELECT id FROM docs ORDER BY body <@> 'w$a common' LIMIT 10;\n";
		print $q "SELECT id FROM items ORDER BY emb <-> vec_of($k, 1) LIMIT 10;\n";
	}
	close $q;
	open my $v, '>', "$dir/vacuum.sql" or die;
	print $v "\\set ON_ERROR_STOP 1\n\\set QUIET 1\n\\o /dev/null\n";
	print $v "VACUUM docs; VACUUM items; SELECT quarry_bm25_merge('docs_idx'); SELECT pg_sleep(0.3);\n"
	  for 1 .. 400;
	close $v;
	return;
}

# Starts the writers and the side load; returns a handle for stop_workload.
sub start_workload
{
	my ($node, $dir, %opt) = @_;
	my $writers = $opt{writers} // 4;
	my $state = read_state($node);
	my $max = 0;
	for (keys %$state) { $max = $_ if $_ > $max }
	my @runs;
	side_scripts($dir);
	for my $w (0 .. $writers - 1)
	{
		my $next_id = $max + 1 + (($w - ($max + 1)) % $writers);
		my $file = "$dir/writer$w.sql";
		my $plan = writer_script($file, $state, $w, $writers, $opt{ops} // 20000, \$next_id);
		push @runs, { plan => $plan, out => "$dir/writer$w.out", file => $file };
	}
	my $start = sub {
		my ($run) = @_;
		$run->{harness} = IPC::Run::start(
			[ 'psql', '-X', '-d', $node->connstr('postgres'), '-f', $run->{file} ],
			'>', $run->{out}, '2>', "$run->{out}.err");
		return $run;
	};
	$start->($_) for @runs;
	my @side = map { $start->({ file => "$dir/$_.sql", out => "$dir/$_.out" }) } qw(search vacuum);
	return { before => $state, writers => \@runs, side => \@side };
}

# Waits for the writers to exit (at the end of their scripts, or at the first
# error, e.g. when the server goes away), stops the side load, and returns the
# allowed versions (id => { version => 1, ... }) and the number of acks.
sub stop_workload
{
	my ($load) = @_;
	# Writers stop at their script's end or at the first error; the side load
	# is stopped once they have.
	eval { $_->{harness}->finish; } for @{ $load->{writers} };
	eval { $_->{harness}->kill_kill; } for @{ $load->{side} };
	my %allowed = map { $_ => { $load->{before}{$_} => 1 } } keys %{ $load->{before} };
	my $acked_total = 0;
	for my $w (@{ $load->{writers} })
	{
		my $acked = 0;
		open my $fh, '<', $w->{out} or die;
		while (<$fh>) { $acked++ if /^ack /; }
		close $fh;
		$acked_total += $acked;
		for my $k (0 .. $acked - 1)
		{
			my ($id, $v) = @{ $w->{plan}[$k] };
			$allowed{$id} = { $v => 1 };
		}
		# The change after the last ack may or may not have committed.
		if ($acked < @{ $w->{plan} })
		{
			my ($id, $v) = @{ $w->{plan}[$acked] };
			$allowed{$id} //= { 0 => 1 };
			$allowed{$id}{$v} = 1;
		}
	}
	return (\%allowed, $acked_total);
}

# Table state against the allowed versions. Returns the number of ids checked.
sub check_state
{
	my ($state, $allowed, $label) = @_;
	my @bad;
	my %ids = (%$allowed, %$state);
	for my $id (keys %ids)
	{
		my $have = $state->{$id} // 0;
		my $ok = $allowed->{$id} // { 0 => 1 };
		push @bad, "id $id has version $have, allowed " . join(',', sort keys %$ok) unless $ok->{$have};
	}
	ok(!@bad, "$label: every row is in its last acknowledged state (or the one in flight)")
	  or diag(join("\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
	return scalar keys %ids;
}

# Both indexes against the table: the verifier finds nothing; every row's own
# token finds it (exactly, through the quarry_bm25 index scan); ranked scans
# equal the sequential plan; every row's own vector comes back at distance 0
# through the quarry_hnsw index (an approximate index: $hnsw_misses allowed).
sub check_indexes
{
	my ($node, $label, %opt) = @_;
	$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) docs; VACUUM (INDEX_CLEANUP ON) items');
	verify_clean($node, $label, 'docs_idx', 'items_idx');
	my $lost_docs = $node->safe_psql('postgres', q{
SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
SELECT count(*) FROM docs d
WHERE d.body IS NOT NULL AND (SELECT x.id FROM docs x
       ORDER BY x.body <@> quarry_query('t' || d.id || 'x' || d.ver, 'docs_idx') LIMIT 1) IS DISTINCT FROM d.id});
	is($lost_docs, '0', "$label: every docs row is found by its own token through the index");
	my $mismatch = $node->safe_psql('postgres', q{
CREATE TEMP TABLE idx AS SELECT 0 AS q, 0 AS id, 0::float8 AS s WHERE false;
DO $$
DECLARE a int;
BEGIN
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
    FOR a IN 0..96 BY 7 LOOP
        INSERT INTO idx SELECT a, x.id, x.s FROM (
            SELECT id, body <@> quarry_query('w' || a || ' common', 'docs_idx') AS s FROM docs
            ORDER BY body <@> quarry_query('w' || a || ' common', 'docs_idx') LIMIT 50) x;
    END LOOP;
END $$;
SET enable_indexscan = off; SET enable_bitmapscan = off;
WITH seq AS (
    SELECT a AS q, id, s FROM generate_series(0, 96, 7) a,
    LATERAL (SELECT id, body <@> quarry_query('w' || a || ' common', 'docs_idx') AS s FROM docs
             ORDER BY 2, id LIMIT 50) y)
SELECT count(*) FROM (SELECT q, s FROM idx EXCEPT ALL SELECT q, s FROM seq) z;
DROP TABLE idx});
	is($mismatch, '0', "$label: ranked quarry_bm25 scans return the scores of the sequential plan");
	my $lost_items = $node->safe_psql('postgres', q{
SET enable_seqscan = off; SET quarry.hnsw_ef_search = 200;
SELECT count(*) FROM items i
WHERE i.emb IS NOT NULL AND (SELECT x.emb <-> i.emb FROM items x ORDER BY x.emb <-> i.emb LIMIT 1) IS DISTINCT FROM 0});
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE emb IS NOT NULL');
	my $allowed = int($rows * ($opt{hnsw_miss_ratio} // 0.005));
	ok($lost_items <= $allowed,
		"$label: items rows found at distance 0 through the index ($lost_items of $rows missed, at most $allowed allowed)");
	# Unlimited ordered scans return every row, those with NULLs last.
	my $walks = $node->safe_psql('postgres', q{
SET enable_seqscan = off; SET enable_bitmapscan = off; SET quarry.hnsw_max_scan_tuples = 100000000;
SELECT (SELECT count(*) FROM (SELECT id FROM docs ORDER BY body <@> quarry_query('w5 common', 'docs_idx')) x)
           = (SELECT count(*) FROM docs)
   AND (SELECT count(*) FROM (SELECT body FROM docs ORDER BY body <@> quarry_query('w5 common', 'docs_idx')
                              OFFSET (SELECT count(*) FROM docs WHERE body IS NOT NULL)) x WHERE body IS NOT NULL) = 0
   AND (SELECT count(*) FROM (SELECT id FROM items ORDER BY emb <-> vec_of(1, 1)) x)
           >= (SELECT count(*) FROM items WHERE emb IS NULL) + 0.98 * (SELECT count(*) FROM items WHERE emb IS NOT NULL)});
	is($walks, 't', "$label: unlimited ordered scans return the NULL rows last");
	return;
}

# The zero-vector mark of a quarry_hnsw index (quarry_hnsw_index_info's
# zero_vectors: none, held or unknown).
sub zero_vector_mark
{
	my ($node, $index) = @_;
	return $node->safe_psql('postgres', "SELECT zero_vectors FROM quarry_hnsw_index_info('$index')");
}

# Row `id` holds items' only zero vector: through the cosine index `index`, a
# scan that filters out every other vector meets it in the null-row list and
# must return it before the NULL rows (NaN sorts before NULL), which it does
# only if the index's metapage is marked (else it returns the list's rows as
# NULL distances, in list order, and a NULL row inserted before comes first).
sub check_zero_vector_first
{
	my ($node, $index, $id, $label) = @_;
	my $first = $node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
SET quarry.hnsw_max_scan_tuples = 2147483647;
SELECT id FROM items WHERE id = $id OR emb IS NULL ORDER BY emb <=> vec_of(5, 1) LIMIT 1});
	is($first, $id, "$label: $index returns the zero vector before the NULL rows");
	return;
}

# quarry_verify_index reports no problem for each index.
sub verify_clean
{
	my ($node, $label, @indexes) = @_;
	for my $index (@indexes)
	{
		my $problems = $node->safe_psql('postgres', "SELECT p FROM quarry_verify_index('$index') p");
		is($problems, '', "$label: quarry_verify_index('$index') finds no problem");
	}
	return;
}

# Kills the postmaster and every backend at once with SIGKILL (a power cut
# as far as PostgreSQL can tell, except that the OS keeps its page cache),
# and waits until all of them are gone.
sub crash_node
{
	my ($node) = @_;
	my $pid = $node->{_pid};
	die "node is not running" unless defined $pid;
	my @children = split ' ', `pgrep -P $pid`;
	kill 'KILL', $pid, @children;
	for (1 .. 600)
	{
		last unless grep { kill 0, $_ } $pid, @children;
		usleep(50_000);
	}
	$node->{_pid} = undef;
	return;
}

1;
