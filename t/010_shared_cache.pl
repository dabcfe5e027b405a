# t/010_shared_cache.pl: the response cache shared by every backend of the
# cluster (cache_ttl), and identical requests merged into one.
#
#   sharing     a second backend, and one after a reconnect, sends nothing
#   iam         IAM password authentication: the first query of a new
#               session (which fetches a token first) is served the cache's
#               entries, once, on every read path
#   mappings    another user's mapping of the same server is never served
#               the first one's entries
#   invalidate  ALTER SERVER and ALTER USER MAPPING: old entries unserved
#   ttl         an entry older than the reader's cache_ttl is a miss
#   eviction    rds_task_fdw.cache_size bounds the entries (oldest first)
#   stats/clear rds_task_fdw_cache_stats(); rds_task_fdw_cache_clear() by a
#               non-superuser deletes only their own mapping's entries
#   merging     six backends scanning at once: each page ONE request
#   cancel      a backend waiting for a peer's request is cancelled at once
#   fallback    the fetching backend is cancelled: the waiter fetches itself
#   crash       the fetching backend is SIGKILLed: after the restart the next
#               query works at once (no stuck lock, no half-written entry)
#   images      the cache stores decoded pages: a raw column's pages are
#               entries of their own; an answer that is no page is never
#               stored; an entry in another layout is a miss, a damaged one
#               a clear ERROR
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 120;    # tasks: pages at offsets 0, 50, 100
my $TOKEN = 'tok-cache-0001';

# https, a host:port the superuser allows: bob (no superuser) may use it
my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN, '--https',
	'--user', 'alice:alice-Cache-pw:OTC-DOMAIN-1');
my $node = new_node('cache',
	"rds_task_fdw.allowed_hosts = 'localhost:" . $sim->https_port . "'\n"
	  . "restart_after_crash = on\n");
my $v17 = $node->safe_psql('postgres', 'SHOW server_version_num') >= 170000;
my ($https, $ca) = ($sim->https_url, $sim->ca_file);

$node->safe_psql(
	'postgres', qq{
CREATE SERVER sc FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$https', project_id '$PROJECT', ca_file '$ca', cache_ttl '60');
CREATE USER MAPPING FOR CURRENT_USER SERVER sc OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE sc_tasks (id text, status text) SERVER sc;
CREATE ROLE bob LOGIN;
GRANT USAGE ON FOREIGN SERVER sc TO bob;
GRANT SELECT ON sc_tasks TO bob;
CREATE USER MAPPING FOR bob SERVER sc OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE sc_short (id text, status text) SERVER sc OPTIONS (cache_ttl '1');
CREATE FOREIGN TABLE sc_small (id text) SERVER sc OPTIONS (page_size '5');
GRANT SELECT ON sc_short TO bob;
});

# requests(SQL, [USER]): (result, tasklist requests the simulator received)
sub requests
{
	my ($sql, $user) = @_;
	$sim->clear_log;
	my $out = $node->safe_psql('postgres', $sql,
		defined $user ? (connstr => $node->connstr('postgres') . " user=$user") : ());
	return ($out, scalar @{ $sim->tasklist });
}

sub stats
{
	my $s = $node->safe_psql('postgres',
		'SELECT entries, hits, misses, bytes, merged_waits, evictions FROM rds_task_fdw_cache_stats()');
	my %h;
	@h{qw(entries hits misses bytes merged evictions)} = split /\|/, $s;
	return \%h;
}

my $Q = 'SELECT count(id), count(DISTINCT id) FROM sc_tasks';

# ===================================================================
# one backend fetches, the others (and reconnects) read the cache
# ===================================================================
my ($out, $n) = requests($Q);
is($out, "$N|$N", 'first backend: every task');
is($n, 3, 'first backend: three page requests');
my $sa = RdsTest::Session->new($node);
$sim->clear_log;
is($sa->query($Q), "$N|$N", 'second backend: every task');
is(scalar @{ $sim->tasklist }, 0, 'second backend: no request, served by the shared cache');
like($sa->query("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $Q"),
	qr/HTTP requests: 0 \(retries 0, bytes received 0, cache hits 3\)/,
	'EXPLAIN ANALYZE shows the cache hits');
$sa->quit;
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", 'a new connection: served by the cache');
my $st = stats();
cmp_ok($st->{hits}, '>=', 6, "stats: hits counted ($st->{hits})");
cmp_ok($st->{misses}, '>=', 3, "stats: misses counted ($st->{misses})");
is($st->{entries}, 3, 'stats: three entries');
cmp_ok($st->{bytes}, '>', 1000, "stats: bytes ($st->{bytes})");

# the entries hold the URL and the decoded page, never the token that fetched them
my $dir = $node->data_dir . '/pg_stat_tmp/rds_task_fdw';
my @files = glob("$dir/*");
my @entries = grep { /\.entry$/ } @files;
is(scalar @entries, 3, 'three entry files in pg_stat_tmp/rds_task_fdw');
my @leaky = grep { slurp_file($_) =~ /\Q$TOKEN\E/ } @files;
is("@leaky", '', 'no file of the cache holds the token');

# ===================================================================
# another user mapping is never served the first one's entries
# ===================================================================
($out, $n) = requests($Q, 'bob');
is("$out/$n", "$N|$N/3", "bob's mapping: fetched from the API");
($out, $n) = requests($Q, 'bob');
is("$out/$n", "$N|$N/0", "bob's mapping: then from its own entries");

# ===================================================================
# IAM password authentication: a new session fetches a token first, and
# the requests that waited for it are then served by the cache, each once
# (each answer was appended twice, and the doubled body was reported as
# the API's invalid JSON)
# ===================================================================
$node->safe_psql(
	'postgres', qq{
CREATE SERVER sp FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$https', project_id '$PROJECT', ca_file '$ca', cache_ttl '60');
CREATE USER MAPPING FOR CURRENT_USER SERVER sp
  OPTIONS (user_name 'alice', password 'alice-Cache-pw', domain_name 'OTC-DOMAIN-1');
CREATE FOREIGN TABLE sp_tasks (id text, status text, create_time timestamptz) SERVER sp;
});
my @some = split /\n/, $node->safe_psql('postgres',
	'SELECT id FROM sc_tasks ORDER BY id LIMIT 3');
my $in = join(', ', map { "'$_'" } @some);
my %iam_paths = (
	'scan' => $Q,
	'pushed condition' => "SELECT count(id) FROM sp_tasks WHERE status = 'Completed'",
	'count(*)' => 'SELECT count(*) FROM sp_tasks',
	'grouped counts' => 'SELECT status, count(*) FROM sp_tasks GROUP BY status ORDER BY 1',
	'IN list' => "SELECT id FROM sp_tasks WHERE id IN ($in) ORDER BY id",
	'newest first' => 'SELECT id FROM sp_tasks ORDER BY create_time DESC, id LIMIT 3');
(my $QP = $Q) =~ s/sc_tasks/sp_tasks/;
$iam_paths{scan} = $QP;
for my $path (sort keys %iam_paths)
{
	my $sql = $iam_paths{$path};
	my ($first, $n1) = requests($sql);
	my ($again, $n2) = requests($sql);
	is($again, $first, "IAM password, $path: a new session's first query gives the same rows");
	# the time-window search never reads the cache (README)
	next if $path eq 'newest first';
	is($n2, 0, "IAM password, $path: ... from the cache ($n1 requests before)");
}
my @found = split /\n/, (requests($iam_paths{'IN list'}))[0];
is(scalar @found, 3, 'IAM password: the IN list finds its 3 tasks');
is((requests($QP))[0], "$N|$N", 'IAM password: every task, once');

# ===================================================================
# ALTER SERVER, ALTER USER MAPPING: what was cached is not served again
# ===================================================================
$node->safe_psql('postgres', "ALTER SERVER sc OPTIONS (ADD connect_timeout '9')");
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/3", 'after ALTER SERVER: fetched again');
$node->safe_psql('postgres',
	"ALTER USER MAPPING FOR CURRENT_USER SERVER sc OPTIONS (SET auth_token '$TOKEN')");
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/3", 'after ALTER USER MAPPING: fetched again');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", '... and cached again');

# ===================================================================
# TTL: the reader's cache_ttl applies to the entry's fetch time
# ===================================================================
my $QS = "SELECT count(id) FROM sc_short WHERE status = 'Failed'";
my ($failed) = requests($QS);
($out, $n) = requests($QS);
is("$out/$n", "$failed/0", 'cache_ttl 1: within the second, from the cache');
sleep 1.3;
($out, $n) = requests($QS);
is("$out/$n", "$failed/1", 'cache_ttl 1: after it, fetched again');

# ===================================================================
# clear: bob (no superuser) deletes his mapping's entries only
# ===================================================================
# bob's entries were of the server before ALTER SERVER: dead, not counted
($out, $n) = requests($Q, 'bob');
is("$out/$n", "$N|$N/3", "bob's mapping after ALTER SERVER: fetched again");
my $before = stats()->{entries};
my $cleared = $node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()',
	connstr => $node->connstr('postgres') . ' user=bob');
is($cleared, 3, "bob's clear deletes his three entries");
is(stats()->{entries}, $before - 3, 'the others stay');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", "the superuser's entries still serve");
($out, $n) = requests($Q, 'bob');
is($n, 3, "bob's were gone");
$cleared = $node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
is($cleared, $before, 'the superuser clears everything');
is(stats()->{entries}, 0, 'no entries left');

# ===================================================================
# eviction: rds_task_fdw.cache_size, without a restart
# ===================================================================
$node->safe_psql('postgres',
	"LOAD 'rds_task_fdw'; ALTER SYSTEM SET rds_task_fdw.cache_size = '16kB'; SELECT pg_reload_conf()");
sleep 0.3;
my $ev0 = stats()->{evictions};
($out, $n) = requests('SELECT count(id), count(DISTINCT id) FROM sc_small');
is("$out/$n", "$N|$N/24", 'page_size 5: 24 requests, every task');
$st = stats();
cmp_ok($st->{evictions}, '>', $ev0, "entries were evicted ($st->{evictions})");
cmp_ok($st->{bytes}, '<=', 16 * 1024, "the cache stays within 16kB ($st->{bytes} bytes)");
$node->safe_psql('postgres', "LOAD 'rds_task_fdw'; ALTER SYSTEM RESET rds_task_fdw.cache_size; SELECT pg_reload_conf()");
($out, $n) = requests('SELECT count(id) FROM sc_small');
is($out, $N, 'after eviction: still every task');
cmp_ok($n, '>', 0, "evicted pages fetched again ($n requests)");
cmp_ok($n, '<', 24, 'the newest pages served by the cache');
my @fetched = map { $_->{params}{offset} } @{ $sim->tasklist };
is($fetched[0], '0', 'the first page (fetched first) was evicted');
ok(!grep({ $_ eq '115' } @fetched), 'the last page (fetched last) was not');
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');

# ===================================================================
# merging: six backends at once, one request per page
# ===================================================================
$sim->config(latency_ms => 400);
my @s = map { RdsTest::Session->new($node) } 1 .. 6;
$sim->clear_log;
my $i = 0;
$_->send("$Q;\n\\warn done" . $i++) for @s;
$i = 0;
my $all = 1;
for my $s (@s)
{
	my $t = $s->wait_err(qr/done$i/, 60);
	$all &&= defined $t && $s->stdout =~ /^$N\|$N$/m;
	$i++;
}
ok($all, 'six backends: every one has every task');
my $log = $sim->tasklist;
my %per;
$per{ $_->{params}{offset} }++ for @$log;
is(join(',', map { "$_=$per{$_}" } sort { $a <=> $b } keys %per), '0=1,50=1,100=1',
	'the simulator received ONE request per page');
$st = stats();
cmp_ok($st->{merged}, '>=', 1, "merged waits counted ($st->{merged})");

# ===================================================================
# a waiter is cancelled at once; a cancelled fetcher's waiter fetches
# ===================================================================
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
$sim->config(latency_ms => 0);
my ($f, $w) = @s[0, 1];
my $ctl = $s[2];
my $wpid = $w->pid;
$sim->clear_log;
$sim->faults({ kind => 'hang', seconds => 60, params => { offset => '0' } });
$f->send("$Q;\n\\warn fetched1");
wait_until(sub { $sim->active_faults->[0]{applied} }, 10) or diag 'fault not applied';
$w->send("$Q;\n\\warn waited1");
my $ev = $v17 ? 'Extension/RdsTaskFdwPeerFetch' : 'Extension/Extension';
my $waiting = wait_until(
	sub {
		$ctl->query("SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE pid = $wpid")
		  eq $ev;
	},
	10);
ok($waiting, "the second backend waits for the first one's request ($ev)");
is($sim->stats->{in_flight}, 1, "only the first backend's request went out");
my $t0 = time;
$ctl->query("SELECT pg_cancel_backend($wpid)");
my $t1 = $w->wait_err(qr/canceling statement due to user request/, 10);
ok(defined $t1 && $t1 - $t0 < 1.0,
	sprintf('the waiter is cancelled within a second (%.3f s)', (defined $t1 ? $t1 : 99) - $t0));

# now the fetcher is cancelled while a new waiter waits: it fetches itself
$w->query('SELECT 1');
$w->send("$Q;\n\\warn waited2");
wait_until(
	sub { $ctl->query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $wpid") eq 'Extension' },
	10);
$ctl->query('SELECT pg_cancel_backend(' . $f->pid . ')');
ok(defined $f->wait_err(qr/canceling statement due to user request/, 10), 'the fetcher is cancelled');
ok(defined $w->wait_err(qr/waited2/, 10) && $w->stdout =~ /^$N\|$N$/m,
	'its waiter fetched itself and has every task');
is(scalar @{ $sim->tasklist(offset => '0') }, 2, 'the first page went out again, once');
$_->quit for @s;

# ===================================================================
# the fetching backend is killed: no stuck lock, no torn entry
# ===================================================================
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
$sim->clear_faults;
$sim->faults({ kind => 'slow', chunk => 50, interval_ms => 100, params => { offset => '0' } });
$sim->clear_log;
my $k = RdsTest::Session->new($node);
my $kw = RdsTest::Session->new($node);
$k->send("$Q;\n\\warn killed");
wait_until(sub { $sim->active_faults->[0]{applied} }, 10) or diag 'fault not applied';
$kw->send("$Q;\n\\warn kwaited");
sleep 0.5;    # a part of the body has arrived; the waiter waits
kill 'KILL', $k->pid;
ok(defined $k->wait_err(qr/server closed the connection|terminat/i, 10) || $k->finished,
	'the fetching backend is gone');
$kw->wait_err(qr/terminat|server closed|kwaited/i, 10);
$sim->clear_faults;
my $ok = wait_until(sub { eval { $node->safe_psql('postgres', 'SELECT 1') } }, 30);
ok($ok, 'the cluster is back after the crash');
$t0 = time;
($out, $n) = requests($Q);
my $dt = time - $t0;
is($out, "$N|$N", 'the next query after the crash: every task');
cmp_ok($dt, '<', 3, sprintf('... at once (%.2f s): no lock left behind', $dt));
is($n, 3, '... fetched from the API (nothing half-written was served)');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", '... and cached again');
$k->quit;
$kw->quit;

# ===================================================================
# what is stored is the page decoded (its image, decode.c): a raw column
# needs images that keep each task's JSON, entries of their own
# ===================================================================
$node->safe_psql(
	'postgres', q{
CREATE FOREIGN TABLE sc_raw (id text, raw jsonb) SERVER sc;
CREATE FOREIGN TABLE sc_raw_live (id text, raw jsonb) SERVER sc OPTIONS (cache_ttl '0');
});
my $RQ = "SELECT md5(string_agg(id || ' ' || raw::text, ',' ORDER BY id)), count(*) FROM %s";
(my $live, $n) = requests(sprintf($RQ, 'sc_raw_live'));
is($n, 3, 'raw JSON, uncached: three requests');
like($live, qr/^[0-9a-f]{32}\|$N$/, '... every task');
($out, $n) = requests(sprintf($RQ, 'sc_raw'));
is("$out/$n", "$live/3",
	'raw JSON, cached: fetched (the plain entries hold no raw JSON), the same rows');
($out, $n) = requests(sprintf($RQ, 'sc_raw'));
is("$out/$n", "$live/0", '... then served by its own entries, the same rows');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", 'the plain entries still serve the plain scan');

# an answer that is no page of the API's is not stored: the next query
# asks for that page again (before, its body was stored and served)
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
$sim->faults({ kind => 'malformed', params => { offset => '50' } });
$sim->clear_log;
my ($rc, $o, $e) = $node->psql('postgres', $Q);
like($e, qr/invalid JSON in the response to GET \S+offset=50/, 'a body that is no page: the error');
unlike($e, qr/shared cache's copy/, '... about the answer itself');
$sim->clear_faults;
($out, $n) = requests($Q);
is($out, "$N|$N", 'the next query: every task');
is(scalar @{ $sim->tasklist(offset => '50') }, 1, '... the page that failed asked again: never stored');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/0", '... and now stored');

# an entry file holding another layout (a raw body, as an older version
# stored) is a miss; a damaged image is an ERROR naming the cache's copy
my $pgdata = $node->data_dir;
my @entry_files = glob("$pgdata/pg_stat_tmp/rds_task_fdw/*.entry");
is(scalar @entry_files, 3, 'three entries on disk');
sub rewrite_entries
{
	my ($edit) = @_;
	for my $f (@entry_files)
	{
		open(my $fh, '<:raw', $f) or die "$f: $!";
		local $/;
		my $bytes = <$fh>;
		close $fh;
		$bytes = $edit->($bytes);
		open($fh, '>:raw', $f) or die "$f: $!";
		print $fh $bytes;
		close $fh;
	}
}
# the image starts with its magic, RDS_IMAGE_MAGIC little-endian
my $magic = pack('V', 0x52445002);
rewrite_entries(
	sub {
		my $b = shift;
		my $at = index($b, $magic);
		die "no image in an entry" if $at < 0;
		# the same length, not an image: the magic's bytes changed
		substr($b, $at, 4) = pack('V', 0x52445001);
		return $b;
	});
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/3", 'entries in another layout: misses, fetched again');
@entry_files = glob("$pgdata/pg_stat_tmp/rds_task_fdw/*.entry");
rewrite_entries(
	sub {
		my $b = shift;
		my $at = index($b, $magic);
		# the first slot's offset (after 32 bytes of header) points past the end
		substr($b, $at + 32, 4) = pack('V', 0x7fffffff);
		return $b;
	});
($rc, $o, $e) = $node->psql('postgres', $Q);
like($e, qr/unexpected response to GET \S+ \(the shared cache's copy\): the entry is damaged/,
	'a damaged image: an ERROR naming the cache\'s copy');
like($e, qr/rds_task_fdw_cache_clear/, '... with the way out');
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
($out, $n) = requests($Q);
is("$out/$n", "$N|$N/3", '... which works');

done_testing();
