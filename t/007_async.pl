# t/007_async.pl: an asynchronous Append over two servers, where one
# partition has to wait (a Retry-After backoff, a slow page whose
# predecessor's rows the local filter all drops) and the other does not.
# The waiting partition must not hold up the other: a LIMIT that the other
# partition alone can satisfy is answered long before the wait is over, and
# a full scan still returns every row of both once the wait is over.
#
# Then a hundred servers (one per project, all on one simulator) in one
# asynchronous Append, at the default max_files_per_process: every row of
# every project, compared with the simulator's own pages, and no error
# (each server used to keep its own epoll set, timer and sockets, and 64
# of them ran out of descriptors).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Digest::MD5 qw(md5_hex);
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time);

my $PA = '0123456789abcdef0123456789abcdef';
my $PB = 'fedcba9876543210fedcba9876543210';
my $N = 300;    # tasks per project: 6 pages each
my $TOKEN = 'tok-async-0001';

my $sim = RdsTest::Sim->start(
	'--tasks', $N, '--token', $TOKEN,
	'--user', 'alice:alice-Async-pw1:OTC-DOMAIN-1',
	'--project', $PA, '--project', $PB);
my $node = new_node('async');
my $url = $sim->url;

$node->safe_psql(
	'postgres', qq{
CREATE SERVER pa FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PA', max_retries '3');
CREATE SERVER pb FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PB', max_retries '3');
CREATE USER MAPPING FOR CURRENT_USER SERVER pa OPTIONS (auth_token '$TOKEN');
CREATE USER MAPPING FOR CURRENT_USER SERVER pb OPTIONS (auth_token '$TOKEN');
SELECT * FROM rds_task_fdw_create_partitioned('both_tasks', ARRAY['pa', 'pb']);
CREATE SERVER pwa FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PA', max_retries '3');
CREATE USER MAPPING FOR CURRENT_USER SERVER pwa
  OPTIONS (user_name 'alice', password 'alice-Async-pw1', domain_name 'OTC-DOMAIN-1');
SELECT * FROM rds_task_fdw_create_partitioned('pw_tasks', ARRAY['pwa', 'pb']);
});

like(
	$node->safe_psql('postgres', 'EXPLAIN (COSTS OFF) SELECT id FROM both_tasks'),
	qr/Async Foreign Scan.*Async Foreign Scan/s,
	'both partitions are scanned asynchronously');

# timed(SQL): (stdout, seconds)
sub timed
{
	my ($sql) = @_;
	my $t0 = time;
	my $out = $node->safe_psql('postgres', $sql);
	return ($out, time - $t0);
}

# backoff_a(SECONDS): partition A's second page answers 503 once, with
# Retry-After: SECONDS
sub backoff_a
{
	my ($seconds) = @_;
	$sim->faults(
		{
			kind => 'status',
			status => 503,
			retry_after => "$seconds",
			project => $PA,
			params => { offset => '50' },
			times => 1
		});
}

# ---------------------------------------------------------------------------
# partition A's second page answers 503 with Retry-After: 5
# ---------------------------------------------------------------------------
$sim->clear_log;
backoff_a(5);
my ($out, $secs) = timed(
	"SELECT count(*), count(*) FILTER (WHERE project_id = '$PB')
	   FROM (SELECT project_id FROM both_tasks LIMIT 250) s");
my ($n, $nb) = split /\|/, $out;
is($n, 250, 'LIMIT 250 over A (in backoff) and B: 250 rows');
cmp_ok($nb, '>=', 200, "B's rows arrived while A waited ($nb of them)");
cmp_ok($secs, '<', 2, sprintf('answered in %.2f s, not after A\'s 5 s backoff', $secs));
like($sim->log_text, qr{offset=50\S* 503}, "A's second page did get the 503");

# the whole list still comes, A's after its backoff
backoff_a(3);
($out, $secs) = timed(
	"SELECT project_id, count(*), count(DISTINCT id) FROM both_tasks GROUP BY 1 ORDER BY 1");
is($out, "$PA|$N|$N\n$PB|$N|$N", 'a full scan returns every row of both partitions');
cmp_ok($secs, '>=', 2.9, sprintf('after A\'s backoff (%.2f s)', $secs));

# ---------------------------------------------------------------------------
# a cursor: B's rows are fetched while A is in backoff
# ---------------------------------------------------------------------------
backoff_a(5);
my $s = RdsTest::Session->new($node);
$s->query('BEGIN; DECLARE c CURSOR FOR SELECT project_id FROM both_tasks;');
my $t0 = time;
my $rows = $s->query('FETCH 300 FROM c;');
my $fetched = time - $t0;
my @rows = split /\n/, $rows;
is(scalar(@rows), 300, 'FETCH 300 while A is in backoff');
cmp_ok($fetched, '<', 2, sprintf('fetched in %.2f s', $fetched));
$s->query('COMMIT;');
$s->quit;

# ---------------------------------------------------------------------------
# A's first page is dropped by the local filter and its second page is slow
# ---------------------------------------------------------------------------
$sim->faults(
	{
		kind => 'delay',
		ms => 5000,
		project => $PA,
		params => { offset => '50' },
		times => 1
	});
($out, $secs) = timed(
	"SELECT count(*) FROM (SELECT id FROM both_tasks
	   WHERE (project_id || '') = '$PB' LIMIT 200) s");
is($out, 200, "LIMIT 200 of B's rows, A's rows all filtered locally");
cmp_ok($secs, '<', 2, sprintf('answered in %.2f s, not after A\'s slow page', $secs));

# ---------------------------------------------------------------------------
# partition A (password authentication) renews its IAM token, and IAM
# takes 5 s to answer
# ---------------------------------------------------------------------------
$sim->clear_faults;
my $s2 = RdsTest::Session->new($node);
is($s2->query('SELECT count(*) FROM pw_tasks;'), 2 * $N, 'password partition: warm-up');
$sim->ctl('POST', 'revoke', { all => JSON::PP::true });
$sim->faults({ path => 'tokens', kind => 'delay', ms => 5000, times => 1 });
$t0 = time;
$out = $s2->query(
	"SELECT count(*), count(*) FILTER (WHERE project_id = '$PB')
	   FROM (SELECT project_id FROM pw_tasks LIMIT 250) s;");
$secs = time - $t0;
($n, $nb) = split /\|/, $out;
is($n, 250, 'LIMIT 250 while A waits for its IAM token');
cmp_ok($nb, '>=', 200, "B's rows arrived meanwhile ($nb of them)");
cmp_ok($secs, '<', 2, sprintf('answered in %.2f s, not after the 5 s token request', $secs));
is($s2->query('SELECT count(*) FROM pw_tasks;'), 2 * $N,
	'then the whole list, with the renewed token');
$s2->quit;

# the next statement works and finds both partitions complete
$sim->clear_faults;
is( $node->safe_psql('postgres', 'SELECT count(*) FROM both_tasks'),
	2 * $N, 'the next statement reads both partitions');

# ---------------------------------------------------------------------------
# a hundred servers in one asynchronous Append, default max_files_per_process
# ---------------------------------------------------------------------------
my $NS = 100;
my $NT = 500;    # tasks per project: 10 pages, 4 at a time per server
my @projects = map { sprintf('many%03d%025d', $_, 0) } 1 .. $NS;
my $many = RdsTest::Sim->start('--https', '--tasks', $NT, '--token', $TOKEN, '--latency-ms', 20,
	map { ('--project', $_) } @projects);
my $murl = $many->url;
my $ddl = '';
for my $i (1 .. $NS)
{
	$ddl .= "CREATE SERVER m$i FOREIGN DATA WRAPPER rds_task_fdw
	  OPTIONS (endpoint '$murl', project_id '$projects[$i - 1]', max_retries '0');
	CREATE USER MAPPING FOR CURRENT_USER SERVER m$i OPTIONS (auth_token '$TOKEN');\n";
}
$ddl .= "SELECT count(*) FROM rds_task_fdw_create_partitioned('many_tasks', ARRAY["
  . join(', ', map { "'m$_'" } 1 .. $NS) . "]);";
$node->safe_psql('postgres', $ddl);
is($node->safe_psql('postgres', 'SHOW max_files_per_process'),
	'1000', 'max_files_per_process is the default');
my $plan = $node->safe_psql('postgres', 'EXPLAIN (COSTS OFF) SELECT id FROM many_tasks');
my $nasync = () = $plan =~ /Async Foreign Scan/g;
is($nasync, $NS, "$NS partitions, each scanned asynchronously");

# the simulator's own pages, read directly: "project:id:status:name" lines
my $http = HTTP::Tiny->new(timeout => 30);
my @expect;
for my $p (@projects)
{
	for (my $off = 0; $off < $NT; $off += 50)
	{
		my $res = $http->get("$murl/v3/$p/tasklist?offset=$off&limit=50",
			{ headers => { 'X-Auth-Token' => $TOKEN } });
		die "simulator: $res->{status}" unless $res->{status} == 200;
		push @expect, "$p:$_->{id}:$_->{status}:$_->{name}"
		  for @{ decode_json($res->{content})->{tasks} };
	}
}
my @sorted = sort @expect;
my $want = scalar(@sorted) . '|' . md5_hex(join(',', @sorted));
is(scalar(@sorted), $NS * $NT, "the simulator holds $NS x $NT tasks");

# the query, while the backend's sockets are counted
my $checksum_sql =
  "SELECT count(*), md5(string_agg(project_id || ':' || id || ':' || status || ':' || name,
	   ',' ORDER BY project_id || ':' || id || ':' || status || ':' || name COLLATE \"C\"))
	   FROM many_tasks;";
$many->clear_log;
my $s3 = RdsTest::Session->new($node);
my $pid3 = $s3->pid;
$s3->send("$checksum_sql\n\\warn \@\@many_done\@\@\n");
my $peak = 0;
my $deadline = time + 240;
while (time < $deadline)
{
	my $n = grep { (readlink($_) // '') =~ /^socket:/ } glob("/proc/$pid3/fd/*");
	$peak = $n if $n > $peak;
	last if $s3->wait_err(qr/\@\@many_done\@\@/, 0);
	Time::HiRes::sleep(0.01);
}
(my $err = $s3->stderr) =~ s/\@\@many_done\@\@\n//;
(my $got = $s3->stdout) =~ s/\n$//;
is($err, '', "$NS servers in one query: no error");
is($got, $want, "$NS servers: every row of every project, as the simulator has them");
cmp_ok($peak, '<=', 1000 / 3,
	"sockets within the external descriptor budget (peak $peak)");

# all partitions fetched at the same time: the first $NS requests to
# arrive name many projects (measured: 100, and 74 on a loaded machine),
# where one partition after the other would name 10, each project's ten
# pages in turn
my @log = grep { $_->{path} =~ m{/tasklist$} } @{ $many->log };
my %first = map { ($_->{path} =~ m{^/v3/([^/]+)/})[0] => 1 } @log[0 .. $NS - 1];
cmp_ok(scalar(keys %first), '>=', $NS / 4,
	sprintf('the first %d requests name %d projects', $NS, scalar(keys %first)));
is(scalar(@log), $NS * ($NT / 50), 'one request per page, no retry');

# and again in the same session (connections and the wait set reused)
($got, $err) = $s3->query($checksum_sql);
is($err . $got, $want, 'a second time in the same session');

# servers on one host share its connections only with the same TLS
# settings: a server whose ca_file does not hold the simulator's CA must
# fail verification, even right after another server's scan left a
# verified connection to the same host open
my $https = $many->https_url;
my $ca = $many->ca_file;
$s3->query(
	"CREATE SERVER tls_ok FOREIGN DATA WRAPPER rds_task_fdw
	   OPTIONS (endpoint '$https', project_id '$projects[0]', ca_file '$ca');
	 CREATE SERVER tls_other FOREIGN DATA WRAPPER rds_task_fdw
	   OPTIONS (endpoint '$https', project_id '$projects[0]', max_retries '0',
	            ca_file '/etc/ssl/certs/ca-certificates.crt');
	 CREATE USER MAPPING FOR CURRENT_USER SERVER tls_ok OPTIONS (auth_token '$TOKEN');
	 CREATE USER MAPPING FOR CURRENT_USER SERVER tls_other OPTIONS (auth_token '$TOKEN');
	 CREATE FOREIGN TABLE tls_ok_tasks (id text) SERVER tls_ok;
	 CREATE FOREIGN TABLE tls_other_tasks (id text) SERVER tls_other;");
($got, $err) = $s3->query('SELECT count(id) FROM tls_ok_tasks;');
is($err . $got, $NT, 'HTTPS with the right ca_file');
($got, $err) = $s3->query('SELECT count(id) FROM tls_other_tasks;');
like($err, qr/TLS certificate verification failed/,
	'another ca_file does not reuse that connection: verification fails');
($got, $err) = $s3->query('SELECT count(id) FROM tls_ok_tasks;');
is($err . $got, $NT, 'and the first server still works');
$s3->quit;
$many->stop;

$node->stop;
$sim->stop;
done_testing();
