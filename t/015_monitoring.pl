# t/015_monitoring.pl: what a DBA watches (issue 21).
#
#   counts      rds_task_fdw_server_stats after several sessions that ended,
#               and six that scanned at once:
#               requests equal the simulator's request log, per server
#   faults      429s (throttled, retries), an error after max_retries (errors,
#               last_error, last_error_at)
#   latency     mean_ms, p95_ms, max_ms against the simulator's latency
#   visibility  a non-superuser sees only this database's servers they have
#               USAGE on; a superuser every database's
#   reset       rds_task_fdw_server_stats_reset: superuser or granted
#   restart     the figures survive a clean restart; a damaged file starts
#               afresh (no garbage rows)
#   log         rds_task_fdw.log_requests = retries / all: the LOG lines,
#               and no secret in the server log
#   waits       the wait event of a request on the wire
#   cache       rds_task_fdw_cache_stats_by_database; a database's owner
#               clears its entries
use strict;
use warnings;

use File::Spec;
use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 120;    # tasks per project: three pages of 50
my $P1 = '11111111111111111111111111111111';
my $P2 = '22222222222222222222222222222222';
my $P3 = '33333333333333333333333333333333';
my $P4 = '44444444444444444444444444444444';
my $TOKEN = 'tok-monitor-secret-0001';
my $PW = 'alice-Monitor-pw';

my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN,
	'--project', $P1, '--project', $P2, '--project', $P3, '--project', $P4,
	'--user', "alice:$PW:OTC-DOMAIN-1");
my $node = new_node('monitor');
my $url = $sim->url;
my $v17 = $node->safe_psql('postgres', 'SHOW server_version_num') >= 170000;

$node->safe_psql(
	'postgres', qq{
CREATE SERVER m1 FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P1', max_retries '2');
CREATE SERVER m2 FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P2');
CREATE SERVER mc FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P3', cache_ttl '60');
CREATE SERVER mp FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P3', auth_url '$url/v3');
CREATE SERVER mx FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P4', page_size '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER mx OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE mx_tasks (id text, status text) SERVER mx;
CREATE USER MAPPING FOR CURRENT_USER SERVER m1 OPTIONS (auth_token '$TOKEN');
CREATE USER MAPPING FOR CURRENT_USER SERVER m2 OPTIONS (auth_token '$TOKEN');
CREATE USER MAPPING FOR CURRENT_USER SERVER mc OPTIONS (auth_token '$TOKEN');
CREATE USER MAPPING FOR CURRENT_USER SERVER mp
  OPTIONS (user_name 'alice', password '$PW', domain_name 'OTC-DOMAIN-1');
CREATE FOREIGN TABLE m1_tasks (id text, status text) SERVER m1;
CREATE FOREIGN TABLE m2_tasks (id text, status text) SERVER m2;
CREATE FOREIGN TABLE mc_tasks (id text, status text) SERVER mc;
CREATE FOREIGN TABLE mp_tasks (id text, status text) SERVER mp;
CREATE ROLE bob LOGIN;
GRANT USAGE ON FOREIGN SERVER m1 TO bob;
CREATE DATABASE other;
});
$node->safe_psql(
	'other', qq{
CREATE EXTENSION rds_task_fdw;
CREATE SERVER mo FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$P3', cache_ttl '60');
CREATE USER MAPPING FOR CURRENT_USER SERVER mo OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE mo_tasks (id text, status text) SERVER mo;
});

# log_statement = all logs the setup's secrets; what is logged later must not
my $setup_end = -s $node->logfile;

my $Q1 = 'SELECT count(id) FROM m1_tasks';
my $Q2 = 'SELECT count(id) FROM m2_tasks';

# stats(SERVER, [DB], [USER]): the server's row of the view as a hash
# (undef if not shown), read in DB (postgres) as USER (the superuser).
my @COLS = qw(dbname server requests retries throttled errors bytes_received
  cache_hits merged_waits mean_ms p95_ms max_ms last_error last_error_at
  stats_since);
sub stats
{
	my ($server, $db, $user) = @_;
	my $rows = $node->safe_psql(
		$db // 'postgres',
		"SELECT " . join(', ', map { "coalesce($_\::text, '')" } @COLS)
		  . " FROM rds_task_fdw_server_stats WHERE server = '$server'",
		defined $user
		? (connstr => $node->connstr($db // 'postgres') . " user=$user")
		: ());
	return undef if $rows eq '';
	my %h;
	@h{@COLS} = split /\|/, $rows, -1;
	return \%h;
}

# sim_requests(PROJECT): exchanges the simulator logged for that project
sub sim_requests
{
	my ($project) = @_;
	return scalar grep { ($_->{project} // '') eq $project } @{ $sim->log };
}

# ===================================================================
# counts: several sessions that ended before the read
# ===================================================================
$node->safe_psql('postgres', 'SELECT rds_task_fdw_server_stats_reset()');
$sim->clear_log;
is($node->safe_psql('postgres', $Q1), $N, "session $_: m1 scanned") for 1 .. 3;
is($node->safe_psql('postgres', $Q2), $N, 'm2 scanned');
my $s1 = stats('m1');
my $s2 = stats('m2');
is($s1->{requests}, sim_requests($P1), "m1: requests equal the simulator's log ($s1->{requests})");
is($s1->{requests}, 9, 'm1: three sessions, three pages each');
is($s2->{requests}, sim_requests($P2), "m2: requests equal the simulator's log ($s2->{requests})");
is("$s1->{retries}/$s1->{throttled}/$s1->{errors}", '0/0/0', 'm1: no retry, 429 or error yet');
is($s1->{dbname}, 'postgres', 'dbname');
cmp_ok($s1->{bytes_received}, '>', 3 * 1000, "m1: bytes received ($s1->{bytes_received})");
is($s1->{last_error}, '', 'm1: no last error');
like($s1->{stats_since}, qr/^\d{4}-/, 'stats_since set');

# six backends counting at once, then ending: no exchange lost
my @sessions = map { RdsTest::Session->new($node) } 1 .. 6;
$_->send('SELECT count(id) FROM mx_tasks;') for @sessions;
for my $sess (@sessions)
{
	$sess->query('SELECT 1');    # waits for the scan before it
	$sess->quit;
}
my $sx = stats('mx');
is($sx->{requests}, sim_requests($P4), "six concurrent backends: requests equal the simulator's log ($sx->{requests})");
is($sx->{requests}, 6 * 12, 'six concurrent backends: twelve pages each');

# ===================================================================
# faults: 429s retried, then an error after max_retries
# ===================================================================
$sim->faults({ kind => 'status', status => 429, retry_after => '0',
	params => { offset => '0' }, times => 2 });
is($node->safe_psql('postgres', $Q1), $N, 'two 429s retried: every task');
$sim->faults({ kind => 'status', status => 503, retry_after => '0',
	error_msg => 'backend overloaded', params => { offset => '50' }, times => -1 });
my ($rc, $out, $err) = $node->psql('postgres', $Q1);
like($err, qr/HTTP 503/, 'a 503 after max_retries is an ERROR');
$sim->clear_faults;
$s1 = stats('m1');
is($s1->{requests}, sim_requests($P1), "m1: requests still equal the simulator's log ($s1->{requests})");
is($s1->{throttled}, 2, 'm1: two 429 answers counted as throttled');
is($s1->{retries}, 4, 'm1: retries: two after 429, two after 503');
is($s1->{errors}, 1, 'm1: one request ended in an ERROR');
like($s1->{last_error}, qr{^RDS API request GET /v3/$P1/tasklist failed: HTTP 503 .*backend overloaded},
	'm1: last_error is the error message');
unlike($s1->{last_error}, qr/\Q$TOKEN\E/, 'm1: last_error holds no token');
like($s1->{last_error_at}, qr/^\d{4}-/, 'm1: last_error_at set');

# an answer that is not a page: the server's error too
$sim->faults({ kind => 'malformed', params => { offset => '0' }, times => 1 });
($rc, $out, $err) = $node->psql('postgres', $Q1);
like($err, qr/invalid JSON/, 'a body that is not JSON is an ERROR');
$s1 = stats('m1');
is($s1->{errors}, 2, 'm1: the undecodable answer counted as an error');
like($s1->{last_error}, qr{^invalid JSON in the response to GET /v3/$P1/tasklist},
	'm1: last_error names the undecodable answer');
is($s1->{requests}, sim_requests($P1), "m1: requests equal the simulator's log ($s1->{requests})");

# ===================================================================
# latency
# ===================================================================
$sim->config(latency_ms => 200);
is($node->safe_psql('postgres', $Q2), $N, 'm2 scanned with 200 ms latency');
$sim->config(latency_ms => 0);
$s2 = stats('m2');
# three fast exchanges before, three slow ones now
cmp_ok($s2->{max_ms}, '>=', 195, "m2: max_ms >= the latency ($s2->{max_ms})");
cmp_ok($s2->{max_ms}, '<', 3000, 'm2: max_ms plausible');
cmp_ok($s2->{mean_ms}, '>=', 95, "m2: mean_ms about half the latency ($s2->{mean_ms})");
cmp_ok($s2->{mean_ms}, '<', 1500, 'm2: mean_ms plausible');
cmp_ok($s2->{p95_ms}, '>=', 160, "m2: p95_ms near the latency ($s2->{p95_ms})");
cmp_ok($s2->{p95_ms}, '<=', $s2->{max_ms}, 'm2: p95_ms <= max_ms');

# ===================================================================
# visibility: USAGE, and other databases
# ===================================================================
is($node->safe_psql('other', 'SELECT count(id) FROM mo_tasks'), $N, 'other database: scanned');
ok(defined stats('mo'), 'superuser: sees the other database\'s server');
is(stats('mo')->{dbname}, 'other', 'superuser: its dbname');
ok(defined stats('m1', 'postgres', 'bob'), 'bob: sees m1 (USAGE)');
ok(!defined stats('m2', 'postgres', 'bob'), 'bob: does not see m2 (no USAGE)');
ok(!defined stats('mo', 'postgres', 'bob'), 'bob: does not see another database\'s server');
is($node->safe_psql('postgres', 'SELECT count(*) FROM rds_task_fdw_server_stats',
	connstr => $node->connstr('postgres') . ' user=bob'), 1, 'bob: one row');

# ===================================================================
# reset: superuser, or granted
# ===================================================================
($rc, $out, $err) = $node->psql('postgres', 'SELECT rds_task_fdw_server_stats_reset()',
	connstr => $node->connstr('postgres') . ' user=bob');
like($err, qr/permission denied/, 'bob may not reset');
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION rds_task_fdw_server_stats_reset() TO bob');
my $since = stats('m1')->{stats_since};
sleep 0.01;
$node->safe_psql('postgres', 'SELECT rds_task_fdw_server_stats_reset()',
	connstr => $node->connstr('postgres') . ' user=bob');
$s1 = stats('m1');
is(join('/', @$s1{qw(requests retries throttled errors bytes_received cache_hits merged_waits mean_ms last_error)}),
	'0/0/0/0/0/0/0//', 'reset (granted): every figure zero, no last error');
isnt($s1->{stats_since}, $since, 'reset: stats_since moves');
is(stats('mo')->{requests}, 0, 'reset: the whole cluster');

# ===================================================================
# restart: kept; a damaged file starts afresh
# ===================================================================
$node->safe_psql('postgres', $Q1);
$node->restart;
is(stats('m1')->{requests}, 3, 'the figures survive a clean restart');
my $file = $node->data_dir . '/pg_stat_tmp/rds_task_fdw/server_stats';
ok(-s $file, 'the statistics file exists');
cmp_ok(-s $file, '<', 2 * 1024 * 1024, 'the statistics file is bounded (' . (-s $file) . ' bytes)');
$node->stop;
open(my $fh, '+<', $file) or die "open $file: $!";
binmode $fh;
print $fh "garbage!" x 64;
close $fh;
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM rds_task_fdw_server_stats'), 0,
	'a damaged file: no garbage rows, counting starts afresh');
$node->safe_psql('postgres', $Q1);
is(stats('m1')->{requests}, 3, 'and counts again');

# ===================================================================
# log_requests: retries, all; never a secret
# ===================================================================
sub set_log_requests
{
	my ($v) = @_;
	$node->safe_psql('postgres',
		"SELECT rds_task_fdw_version(); ALTER SYSTEM SET rds_task_fdw.log_requests = '$v'; SELECT pg_reload_conf()");
	wait_until(sub { $node->safe_psql('postgres', 'SHOW rds_task_fdw.log_requests') eq $v }, 10)
	  or diag "log_requests did not become $v";
}

my ($set, $cnt) = $node->psql('postgres', "LOAD 'rds_task_fdw'; SET rds_task_fdw.log_requests = 'all'");
isnt($set, 0, 'log_requests cannot be SET in a session (SIGHUP)');

my $log_at = -s $node->logfile;
$node->safe_psql('postgres', $Q1);
unlike(slurp_file($node->logfile, $log_at), qr/rds_task_fdw: server/,
	'log_requests = errors (default): no exchange logged');

set_log_requests('retries');
$log_at = -s $node->logfile;
$sim->faults({ kind => 'status', status => 429, retry_after => '0',
	params => { offset => '50' }, times => 1 });
$node->safe_psql('postgres', $Q1);
$sim->clear_faults;
my $log = slurp_file($node->logfile, $log_at);
like($log, qr{LOG:  rds_task_fdw: server "m1": GET /v3/$P1/tasklist\?offset=50&limit=50: HTTP 429, [\d.]+ ms, \d+ bytes, attempt 1; retry in 0 ms \(HTTP 429, Retry-After: 0\)},
	'retries: the retried exchange, its status, time, bytes, attempt and reason');
is(scalar(() = $log =~ /rds_task_fdw: server/g), 1, 'retries: only the retried exchange');

set_log_requests('all');
$log_at = -s $node->logfile;
$sim->clear_log;
$node->safe_psql('postgres', $Q2 . '; SELECT count(id) FROM mp_tasks');
$log = slurp_file($node->logfile, $log_at);
my @lines = $log =~ /(rds_task_fdw: server "[^"]+": .*)/g;
is(scalar @lines, scalar @{ $sim->log }, 'all: one line per exchange (' . scalar(@lines) . ')');
like($log, qr{rds_task_fdw: server "m2": GET /v3/$P2/tasklist\?offset=100&limit=50: HTTP 200, [\d.]+ ms, \d+ bytes, attempt 1\n},
	'all: a successful exchange');
like($log, qr{rds_task_fdw: server "mp": POST /v3/auth/tokens\?nocatalog=true: HTTP 201},
	'all: the IAM token request');
my $secrets = $sim->ctl('GET', 'tokens');
my @tokens = ($TOKEN, $PW, map { $_->{token} } @{ $secrets->{issued} });
my $whole = slurp_file($node->logfile, $setup_end);
is(join(',', grep { length($_) >= 8 && index($whole, $_) >= 0 } @tokens), '',
	'the server log (after the setup statements) holds no token or password (' . scalar(@tokens) . ' secrets checked)');
set_log_requests('errors');

# ===================================================================
# waits: a request on the wire
# ===================================================================
$sim->faults({ kind => 'hang', seconds => 30, params => { offset => '0' } });
my $sess = RdsTest::Session->new($node);
$sess->send("$Q2;");
my $we = wait_until(sub {
	$node->safe_psql('postgres',
		"SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE pid = " . $sess->pid
		  . " AND wait_event_type = 'Extension'") }, 10);
is($we, $v17 ? 'Extension/RdsTaskFdwWire' : 'Extension/Extension',
	'a request on the wire: its wait event');
$node->safe_psql('postgres', 'SELECT pg_cancel_backend(' . $sess->pid . ')');
$sess->wait_err(qr/cancel/, 10);
$sess->quit;
$sim->clear_faults;

# ===================================================================
# the cache per database and server; a database's owner clears its own
# ===================================================================
# (a new pg_database row, as ALTER DATABASE makes, ends its entries: first)
$node->safe_psql('postgres', 'ALTER DATABASE other OWNER TO bob');
$node->safe_psql('postgres', 'SELECT rds_task_fdw_cache_clear()');
$node->safe_psql('postgres', 'SELECT count(id) FROM mc_tasks') for 1 .. 2;
$node->safe_psql('other', 'SELECT count(id) FROM mo_tasks');
is(stats('mc')->{cache_hits}, 3, 'server_stats: cache hits of mc');
my $BYDB = "SELECT dbname, coalesce(server::text, '-'), entries FROM rds_task_fdw_cache_stats_by_database() ORDER BY 1, 2";
is($node->safe_psql('postgres', $BYDB), "other|-|3\npostgres|mc|3",
	'cache by database: superuser sees both databases (another database\'s server unnamed)');
is($node->safe_psql('other', $BYDB), "other|mo|3\npostgres|-|3", 'and from the other database');
is($node->safe_psql('postgres', $BYDB, connstr => $node->connstr('postgres') . ' user=bob'),
	'postgres|mc|3', 'bob: this database only');
is($node->safe_psql('other', 'SELECT rds_task_fdw_cache_clear()',
	connstr => $node->connstr('other') . ' user=bob'), 3,
	"the database's owner clears its entries (the superuser's mapping)");
is($node->safe_psql('postgres', $BYDB), 'postgres|mc|3', 'the other database\'s entries are kept');

$node->stop;
done_testing();
