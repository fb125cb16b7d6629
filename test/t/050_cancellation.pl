# Cancellation of long index builds and long scans, for both index types.
#
# statement_timeout = 1s and pg_cancel_backend() from another session stop
#   - CREATE INDEX ... USING quarry_bm25 on 1M rows and USING quarry_hnsw on
#     100k 64-d vectors (each takes several seconds to finish), and
#   - a ranked walk over all 1M rows of the quarry_bm25 index and a series of
#     full walks over the quarry_hnsw graph,
# within a second: a statement timeout returns within 2 s of the statement's
# start (1 s timeout + at most 1 s to stop), a cancel within 1 s of the
# signal. Afterwards, in the same backend, quarry_memory_stats() shows no
# build arena left and the backend's private memory (RssAnon) back within
# 32 MB of what it was before the statement; the indexes still answer and
# verify. Builds run to completion first, once, to show how long they take.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', qq{
maintenance_work_mem = '512MB'
log_statement = none
# JIT would load LLVM into the backend at the first costly query (8 MB of
# relocated library pages and its own heap): memory that is PostgreSQL's and
# stays for the backend's life, which would blur what these checks measure.
jit = off
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION quarry;
CREATE TABLE big_docs AS
SELECT g AS id, 'w' || (g % 997) || ' w' || (g * 7 % 1013) || ' common ' || md5(g::text) || ' t' || g AS body
FROM generate_series(1, 1000000) g;
CREATE TABLE big_items AS
SELECT g AS id, ARRAY(SELECT random()::real FROM generate_series(1, 64) WHERE g > 0) AS emb
FROM generate_series(1, 100000) g;
-- Cancels a backend and waits until its statement is over; returns seconds.
CREATE FUNCTION cancel_and_wait(p int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    started timestamptz;
    st text;
    qs timestamptz;
BEGIN
    SELECT query_start INTO started FROM pg_stat_activity WHERE pid = p;
    PERFORM pg_cancel_backend(p);
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT state, query_start INTO st, qs FROM pg_stat_activity WHERE pid = p;
        EXIT WHEN st IS DISTINCT FROM 'active' OR qs IS DISTINCT FROM started;
        IF clock_timestamp() - t0 > interval '60 s' THEN
            RETURN -1;
        END IF;
        PERFORM pg_sleep(0.005);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
});

my %build = (
	bm25 => "CREATE INDEX big_docs_idx ON big_docs USING quarry_bm25 (body) WITH (text_config = 'simple')",
	hnsw => "CREATE INDEX big_items_idx ON big_items USING quarry_hnsw (emb quarry_l2_ops)");
my %scan = (
	# Ten full ranked walks over the 1M rows (one takes about half a second
	# since returned rows are no longer tokenized again for their score).
	bm25 => q{SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT count(*) FROM generate_series(1, 10) r,
    LATERAL (SELECT count(*) FROM (SELECT id FROM big_docs ORDER BY body <@> ('common w' || r || ' w7')::quarry_query) w) x},
	hnsw => q{SET enable_seqscan = off; SET quarry.hnsw_max_scan_tuples = 100000000;
SELECT count(*) FROM generate_series(1, 20) q,
    LATERAL (SELECT count(*) FROM (SELECT id FROM big_items ORDER BY emb <-> (SELECT emb FROM big_items WHERE id = q)) w) x});
my $stats = "SELECT 'mem', build_arenas_live, backend_anon_bytes FROM quarry_memory_stats()";

# Starts $sql in one session, between two memory readings. IPC::Run moves
# data through scalars only when pumped, so the script and the output go
# through files: the session runs on its own.
my $dir = PostgreSQL::Test::Utils::tempdir();
my $sessions = 0;
sub session
{
	my ($sql, %opt) = @_;
	my $n = ++$sessions;
	open my $fh, '>', "$dir/session$n.sql" or die;
	print $fh join("\n",
		"SELECT 'pid', pg_backend_pid();", "$stats;", $opt{before} // '',
		"SELECT 't0', extract(epoch FROM clock_timestamp());",
		"$sql;", "SELECT 't1', extract(epoch FROM clock_timestamp());",
		'RESET ALL;', "$stats;", '');
	close $fh;
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-At', '-F', ' ', '-d', $node->connstr('postgres'), '-f', "$dir/session$n.sql" ],
		'>', "$dir/session$n.out", '2>', "$dir/session$n.err");
	return ($h, "$dir/session$n");
}

# Waits for a session; returns its readings and its stderr.
sub finish_session
{
	my ($h, $base) = @_;
	$h->finish;
	return (parse(slurp_file("$base.out")), slurp_file("$base.err"));
}

sub parse
{
	my ($out) = @_;
	my %v;
	my @mem;
	for (split /\n/, $out)
	{
		my @f = split / /;
		if ($f[0] eq 'mem') { push @mem, [ $f[1], $f[2] ] }
		elsif ($f[0] =~ /^(pid|t0|t1)$/) { $v{ $f[0] } = $f[1] }
	}
	$v{mem} = \@mem;
	return \%v;
}

sub check_memory
{
	my ($v, $label) = @_;
	my ($before, $after) = @{ $v->{mem} };
	ok(defined $after && $after->[0] == 0, "$label: no build arena left (build_arenas_live = "
		  . ($after->[0] // 'none') . ')');
	my $grown = defined $after ? ($after->[1] - $before->[1]) / 1048576 : 1e9;
	ok($grown < 32, sprintf("$label: private memory back within 32 MB (%+.1f MB)", $grown));
	return;
}

for my $am ('bm25', 'hnsw')
{
	# A full build, for scale, then dropped.
	my $t = time;
	$node->safe_psql('postgres', $build{$am});
	my $full = time - $t;
	ok($full > 2.5, sprintf("$am: a full CREATE INDEX takes %.1f s (long enough to cancel)", $full));
	(my $index = $build{$am}) =~ s/^CREATE INDEX (\S+).*/$1/s;
	$node->safe_psql('postgres', "DROP INDEX $index");

	# statement_timeout
	my ($h, $base) = session($build{$am}, before => "SET statement_timeout = '1s';");
	my ($v, $err) = finish_session($h, $base);
	like($err, qr/canceling statement due to statement timeout/, "$am: CREATE INDEX hits statement_timeout");
	my $took = $v->{t1} - $v->{t0};
	ok($took < 2.0, sprintf("$am: CREATE INDEX stopped %.2f s after it started (timeout 1 s)", $took));
	check_memory($v, "$am: after the timed-out CREATE INDEX");

	# pg_cancel_backend, once the build is well under way
	($h, $base) = session($build{$am});
	$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE tuples_done > 1000 OR blocks_done > 10});
	usleep(500_000);
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX%' AND state = 'active' AND backend_type = 'client backend'");
	my $latency = $node->safe_psql('postgres', "SELECT cancel_and_wait($pid)");
	($v, $err) = finish_session($h, $base);
	like($err, qr/canceling statement due to user request/, "$am: CREATE INDEX is cancelled");
	ok($latency >= 0 && $latency < 1.0, sprintf("$am: CREATE INDEX stopped %.3f s after pg_cancel_backend", $latency));
	check_memory($v, "$am: after the cancelled CREATE INDEX");
	is($node->safe_psql('postgres', "SELECT to_regclass('$index') IS NULL"), 't', "$am: no index is left");

	# Scans: build the index for good, then cancel long scans.
	$node->safe_psql('postgres', $build{$am});
	$t = time;
	my $rows = $node->safe_psql('postgres', $scan{$am});
	my $scan_time = time - $t;
	ok($scan_time > 2.0, sprintf("$am: the long scan takes %.1f s uncancelled (%s)", $scan_time, $rows));

	($h, $base) = session($scan{$am}, before => "SET statement_timeout = '1s';");
	($v, $err) = finish_session($h, $base);
	like($err, qr/canceling statement due to statement timeout/, "$am: the long scan hits statement_timeout");
	$took = $v->{t1} - $v->{t0};
	ok($took < 2.0, sprintf("$am: the long scan stopped %.2f s after it started (timeout 1 s)", $took));
	check_memory($v, "$am: after the timed-out scan");

	($h, $base) = session($scan{$am});
	$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
WHERE state = 'active' AND query LIKE '%ORDER BY%' AND clock_timestamp() - query_start > interval '0.5 s'});
	$pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE '%ORDER BY%' AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
	$latency = $node->safe_psql('postgres', "SELECT cancel_and_wait($pid)");
	($v, $err) = finish_session($h, $base);
	like($err, qr/canceling statement due to user request/, "$am: the long scan is cancelled");
	ok($latency >= 0 && $latency < 1.0, sprintf("$am: the long scan stopped %.3f s after pg_cancel_backend", $latency));
	check_memory($v, "$am: after the cancelled scan");
}

# The indexes are intact and answer.
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
SELECT id FROM big_docs ORDER BY body <@> 't777' LIMIT 1}), '777', 'bm25: the index answers after the cancellations');
# Uniform random 64-d vectors are hard for any HNSW index: at ef_search 200
# about 97 % of rows find themselves first; a broken index finds none.
my $found = $node->safe_psql('postgres', q{SET enable_seqscan = off; SET quarry.hnsw_ef_search = 200;
SELECT count(*) FROM big_items i WHERE i.id <= 100
   AND (SELECT x.id FROM big_items x ORDER BY x.emb <-> i.emb LIMIT 1) = i.id});
ok($found >= 90, "hnsw: the index answers after the cancellations ($found of 100 rows find themselves)");
my $log = slurp_file($node->logfile);
ok($log !~ /terminated by signal|PANIC/, 'no crash in the server log');
$node->stop;
done_testing();
