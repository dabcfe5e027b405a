# t/002_retries.pl: what is retried, how long the scan waits, and what is
# never retried, asserted on the simulator's request log.
#
#   - 429, 500, 502, 503, 504, a request timeout, a dropped connection (FIN
#     and RST) and a truncated body are retried up to max_retries;
#   - without Retry-After, a 429 backs off exponentially from 1 s (the
#     retries span several seconds: throttles here are per minute), a 503
#     from 0.25 s, and no wait exceeds request_timeout (the gaps between
#     attempts in the simulator's log have lower bounds only, the cap an
#     upper bound with 1.5 s of slack);
#   - Retry-After is honoured as delta-seconds and as an HTTP date (the gap
#     between the two requests in the simulator's log is measured); an
#     unusable one falls back to the backoff, a past date means at once;
#   - a refused connection is retried, then a clean error;
#   - a page that keeps failing fails the statement, never a short result,
#     also when earlier rows were already fetched through a cursor;
#   - 401 and 403 are never retried: a bad static token, a bad AK/SK
#     signature and a wrong IAM password each cost exactly one request; a
#     401 with password auth renews the token once, then fails;
#   - an X-Sdk-Date more than 15 minutes off the API's clock gives 401
#     APIGW.0303 (the simulator's clock_offset moves its clock), and is not
#     retried either; 14 minutes off is accepted.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IO::Socket::INET;
use POSIX qw(strftime);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 120;    # tasks: pages at offset 0, 50, 100
my $TOKEN = 'tok-retry-0001';
my $AK = 'AKRETRYEXAMPLE000001';
my $SK = 'SKretryExampleSecretKey00000000000001';

my $sim = RdsTest::Sim->start(
	'--tasks', $N, '--token', $TOKEN,
	'--user', 'alice:alice-Retry-pw1:OTC-DOMAIN-1',
	'--aksk', "$AK:$SK");
my $node = new_node('retries');

create_server($node, 'r', $sim, "max_retries '3'", "auth_token '$TOKEN'");
create_server($node, 'rt', $sim, "max_retries '1', request_timeout '1'",
	"auth_token '$TOKEN'");
create_server($node, 'rt3', $sim, "max_retries '3', request_timeout '1'",
	"auth_token '$TOKEN'");
create_server($node, 'rbad', $sim, "max_retries '3'", "auth_token 'tok-no-such-token'");
create_server($node, 'ak', $sim, "max_retries '3'",
	"access_key '$AK', secret_key '$SK'");
create_server($node, 'akbad', $sim, "max_retries '3'",
	"access_key '$AK', secret_key 'SKwrongSecretKey000000000000000000099'");
create_server($node, 'pw', $sim, "max_retries '3'",
	"user_name 'alice', password 'alice-Retry-pw1', domain_name 'OTC-DOMAIN-1'");
create_server($node, 'pwbad', $sim, "max_retries '3'",
	"user_name 'alice', password 'wrong-Retry-pw2', domain_name 'OTC-DOMAIN-1'");

my $s = RdsTest::Session->new($node);

# scan(TABLE): (stdout, stderr) of a full scan of TABLE, after clearing the
# simulator's log
sub scan
{
	my ($table, $sql) = @_;
	$sim->clear_log;
	return $s->query($sql // "SELECT count(id) FROM $table");
}

# statuses(FILTER): HTTP statuses of the logged tasklist requests matching
# FILTER, in arrival order (0: dropped without answer, 499: client left),
# waiting up to 3 s until at least WANT are logged
sub statuses
{
	my ($want, %filter) = @_;
	my $recs;
	wait_until(sub { $recs = $sim->tasklist(%filter); @$recs >= $want }, 3);
	return join(',', map { $_->{status} } @$recs);
}

sub page2 { return (offset => '50', limit => '50') }

# plan every table once: the planner's size estimate is kept per backend
for my $t (qw(r rt rt3 ak pw))
{
	is($s->query("SELECT count(id) FROM ${t}_tasks"), $N, "$t: first scan");
}

# ===================================================================
# transient failures are retried (Retry-After: 0 keeps this fast; the
# backoff itself is measured below)
# ===================================================================
for my $status (429, 500, 502, 503, 504)
{
	$sim->faults({ kind => 'status', status => $status, retry_after => '0', times => 2,
		params => { page2() } });
	my ($out, $err) = scan('r_tasks');
	is("$out|$err", "$N|", "HTTP $status twice: the scan succeeds");
	is(statuses(3, page2()), "$status,$status,200", "HTTP $status: retried twice");
}

$sim->faults({ kind => 'drop', times => 2, params => { page2() } });
my ($out, $err) = scan('r_tasks');
is("$out|$err", "$N|", 'dropped connection twice: the scan succeeds');
is(statuses(3, page2()), '0,0,200', 'dropped connection: retried');

$sim->faults({ kind => 'drop', rst => JSON::PP::true, times => 1, params => { page2() } });
($out, $err) = scan('r_tasks');
is("$out|$err", "$N|", 'connection reset: the scan succeeds');
like(statuses(2, page2()), qr/^0,(0,)?200$/, 'connection reset: retried');

$sim->faults({ kind => 'truncate', times => 1, params => { page2() } });
($out, $err) = scan('r_tasks');
is("$out|$err", "$N|", 'truncated body: the scan succeeds');
my $recs = $sim->tasklist(page2());
is(join(',', map { $_->{complete} ? 'complete' : 'cut' } @$recs),
	'cut,complete', 'truncated body: retried');

# request_timeout 1: the hanging request is abandoned after ~1 s, retried
$sim->faults({ kind => 'hang', seconds => 10, times => 1, params => { page2() } });
my $t0 = time;
($out, $err) = scan('rt_tasks');
my $took = time - $t0;
is("$out|$err", "$N|", 'request timeout: the scan succeeds');
is(statuses(2, page2()), '499,200', 'request timeout: the request is abandoned and retried');
ok($took >= 0.9 && $took < 3, sprintf('request timeout: the scan took %.2f s (timeout 1 s)', $took));

# a request that always hangs: 1 + max_retries timeouts, then an error
$sim->faults({ kind => 'hang', seconds => 10, times => -1, params => { page2() } });
($out, $err) = scan('rt_tasks');
like($err, qr/ERROR:  HV00N: RDS API request GET \S+ failed: .*time.*\n.*Gave up after 2 attempts/i,
	'request timeout for good: a clean error after 1 + max_retries attempts');
is(statuses(2, page2()), '499,499', 'request timeout for good: both attempts abandoned');
$sim->clear_faults;

# backoff without Retry-After: equal jitter, d/2 + random(0, d/2) with
# d = base * 2^n; base 2 s for 429 (waits 1-2, 2-4, 4-8 s), 0.5 s for 5xx
# (0.25-0.5, 0.5-1, 1-2 s).  Lower bounds only: a loaded machine is slower,
# never faster.
sub gaps
{
	my $recs = $sim->tasklist(page2());
	return map { $recs->[$_]{t} - $recs->[ $_ - 1 ]{t} } 1 .. $#$recs;
}
sub fmt { return join(', ', map { sprintf '%.3f', $_ } @_) }

for my $case ([ 429, [ 1, 2, 4 ] ], [ 503, [ 0.25, 0.5, 1 ] ])
{
	my ($status, $min) = @$case;
	$sim->faults({ kind => 'status', status => $status, times => 3, params => { page2() } });
	$t0 = time;
	($out, $err) = scan('r_tasks');
	$took = time - $t0;
	is("$out|$err", "$N|", "backoff: three ${status}s, then the scan succeeds");
	my @gaps = gaps();
	is(scalar(@gaps), 3, "backoff $status: three retries");
	ok(@gaps == 3 && !grep({ $gaps[$_] < $min->[$_] - 0.02 } 0 .. 2),
		sprintf('backoff %s: gaps %s s, at least %s s (scan %.2f s)',
			$status, fmt(@gaps), join(', ', @$min), $took));
}

# request_timeout 1 caps the wait: a 429's third wait would be 4-8 s
$sim->faults({ kind => 'status', status => 429, times => 3, params => { page2() } });
($out, $err) = scan('rt3_tasks');
is("$out|$err", "$N|", 'backoff capped by request_timeout: the scan succeeds');
my @capped = gaps();
ok(@capped == 3 && !grep({ $_ < 0.95 || $_ > 2.5 } @capped),
	sprintf('backoff capped by request_timeout 1 s: gaps %s s', fmt(@capped)));

$sim->clear_faults;

# ===================================================================
# Retry-After
# ===================================================================
$sim->faults(
	{
		kind => 'status',
		status => 503,
		retry_after => '2',
		times => 1,
		params => { page2() }
	});
($out, $err) = scan('r_tasks');
is("$out|$err", "$N|", 'Retry-After: 2: the scan succeeds');
$recs = $sim->tasklist(page2());
my $gap = @$recs == 2 ? $recs->[1]{t} - $recs->[0]{t} : -1;
ok($gap >= 1.95 && $gap < 3, sprintf('Retry-After: 2: the retry came %.3f s later', $gap));

my $date = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime(int(time) + 3));
$sim->faults(
	{
		kind => 'status',
		status => 429,
		retry_after => $date,
		times => 1,
		params => { page2() }
	});
($out, $err) = scan('r_tasks');
is("$out|$err", "$N|", 'Retry-After: HTTP date: the scan succeeds');
$recs = $sim->tasklist(page2());
$gap = @$recs == 2 ? $recs->[1]{t} - $recs->[0]{t} : -1;
ok($gap >= 1.5 && $gap < 3.5,
	sprintf('Retry-After: %s (3 s ahead): the retry came %.3f s later', $date, $gap));

# an unusable Retry-After falls back to the backoff; a past date means now
for my $ra ('later', 'Thu, 01 Jan 2015 00:00:00 GMT')
{
	$sim->faults(
		{
			kind => 'status',
			status => 503,
			retry_after => $ra,
			times => 1,
			params => { page2() }
		});
	($out, $err) = scan('r_tasks');
	$recs = $sim->tasklist(page2());
	$gap = @$recs == 2 ? $recs->[1]{t} - $recs->[0]{t} : -1;
	# the backoff's first wait for a 503 is 0.25-0.5 s
	my $ok = $ra eq 'later' ? ($gap >= 0.23 && $gap < 2) : ($gap >= 0 && $gap < 0.2);
	ok("$out|$err" eq "$N|" && $ok,
		sprintf('Retry-After: %s: the scan succeeds, the retry came %.3f s later', $ra, $gap));
}

# nothing listens: connection refused is retried, then an error
my $closed_port = do
{
	my $sock = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
	  or die "no socket: $!";
	my $port = $sock->sockport;
	close($sock);
	$port;
};
$node->safe_psql('postgres', qq{
CREATE SERVER nowhere FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'http://127.0.0.1:$closed_port', project_id '$RdsTest::PROJECT',
           max_retries '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER nowhere OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE nowhere_tasks (id text) SERVER nowhere;
});
($out, $err) = $s->query('SELECT count(id) FROM nowhere_tasks');
like($err, qr/ERROR:  HV00N: RDS API request GET \S+ failed: connection refused\n.*Gave up after 3 attempts\. Transport: .+ \(libcurl [^,]+, error 7\)\./,
	'connection refused: retried, then a clean error');

# ===================================================================
# a page that keeps failing fails the statement
# ===================================================================
my $last = { offset => '100', limit => '50' };
$sim->faults({ kind => 'status', status => 503, retry_after => '0', times => -1, params => $last });
($out, $err) = scan('r_tasks');
is($out, '', 'last page 503 for good: no result');
like($err, qr/ERROR:  HV00N: RDS API request GET \/v3\/$RdsTest::PROJECT\/tasklist failed: HTTP 503 APIGW\.0201.*\n.*Gave up after 4 attempts/,
	'last page 503 for good: the error names the status and the attempts');
is(statuses(4, %$last), '503,503,503,503', 'last page 503 for good: 1 + max_retries requests');
$sim->clear_faults;

$sim->faults({ kind => 'drop', times => -1, params => $last });
($out, $err) = scan('r_tasks');
is($out, '', 'last page dropped for good: no result');
like($err, qr/ERROR:  HV00N: RDS API request GET \S+ failed: connection closed without a response\n.*Gave up after 4 attempts\. Transport: .+ \(libcurl [^,]+, error 52\)\./,
	'last page dropped for good: a clean error after 1 + max_retries attempts');
# libcurl itself repeats a request once when a reused connection closes
# before answering (it may have been stale): up to two requests an attempt
my $drops = statuses(4, %$last);
ok($drops =~ /^0(,0){3,7}$/, "last page dropped for good: $drops, 4 to 8 requests");
$sim->clear_faults;

$sim->faults({ kind => 'malformed', times => -1, params => $last });
($out, $err) = scan('r_tasks');
is($out, '', 'last page malformed: no result');
like($err, qr/ERROR:  HV00K: invalid JSON in the response to GET \/v3\/\w+\/tasklist\?offset=100&limit=50: .*\n.*DETAIL:  The body \(\d+ bytes\) is not shown: it is not the API's\./,
	'last page malformed: an error naming the request, the body not shown');
is(statuses(1, %$last), '200', 'last page malformed: not retried');
$sim->clear_faults;

# through a cursor: the rows of good pages come, then the failing page errors
$sim->faults({ kind => 'status', status => 500, retry_after => '0', times => -1, params => $last });
($out, $err) = scan('r_tasks', q{
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM r_tasks;
FETCH 60 FROM c;
FETCH ALL FROM c;
ROLLBACK;});
is(scalar(split /\n/, $out), 60, 'cursor: the first 60 rows arrive');
like($err, qr/ERROR: .*HTTP 500 DBS\.108000/, 'cursor: FETCH ALL fails at the failing page');
$sim->clear_faults;
is($s->query('SELECT count(id) FROM r_tasks'), $N, 'the session scans again');

# ===================================================================
# never retried: 401 and 403
# ===================================================================
($out, $err) = scan('rbad_tasks');
like($err, qr/HTTP 401 APIGW\.0307/, 'bad token: 401 APIGW.0307');
is(statuses(1), '401', 'bad token: exactly one request');

($out, $err) = scan('akbad_tasks');
like($err, qr/HTTP 401 APIGW\.0301/, 'bad AK/SK signature: 401 APIGW.0301');
is(statuses(1), '401', 'bad AK/SK signature: exactly one request');
is($s->query('SELECT count(id) FROM ak_tasks'), $N, 'the right secret key works');

$sim->faults({ kind => 'status', status => 403, error_code => 'DBS.200044',
	error_msg => 'Permission denied.', times => -1 });
($out, $err) = scan('r_tasks');
like($err, qr/HTTP 403 DBS\.200044/, '403: the error');
is(statuses(1), '403', '403: exactly one request');
$sim->clear_faults;

($out, $err) = scan('pwbad_tasks');
like($err, qr/could not obtain an IAM token for user "alice": HTTP 401/,
	'wrong password: IAM says 401');
is($sim->log_text, "POST /v3/auth/tokens?nocatalog=true 401\n",
	'wrong password: exactly one IAM request, no API request');

# password auth: a 401 renews the token once, then it is an error
$sim->faults({ kind => 'status', status => 401, times => -1, params => { offset => '0' } });
($out, $err) = scan('pw_tasks');
like($err, qr/HTTP 401 APIGW\.0307/, 'password auth, 401 for good: the error');
my $text = $sim->log_text;
my $gets = () = $text =~ /^GET \S+offset=0\S* 401$/mg;
my $posts = () = $text =~ /^POST \/v3\/auth\/tokens\S* 201$/mg;
is("$gets GETs, $posts token", '2 GETs, 1 token',
	'password auth, 401 for good: one renewal, one repetition');
$sim->clear_faults;

# an IAM 503 is transient like any other
$node->safe_psql('postgres', 'ALTER USER MAPPING FOR CURRENT_USER SERVER pw OPTIONS (SET domain_name \'OTC-DOMAIN-1\')');
$sim->faults({ kind => 'status', status => 503, path => 'tokens', times => 1 });
($out, $err) = scan('pw_tasks');
is("$out|$err", "$N|", 'IAM 503 once: the scan succeeds');
like($sim->log_text, qr{\APOST /v3/auth/tokens\S* 503\nPOST /v3/auth/tokens\S* 201\n},
	'IAM 503 once: the token request is retried');

# ===================================================================
# X-Sdk-Date and the API's clock
# ===================================================================
for my $offset (1000, -1000)
{
	$sim->config(clock_offset => $offset);
	($out, $err) = scan('ak_tasks');
	like($err, qr/HTTP 401 APIGW\.0303/, "API clock $offset s off: 401 APIGW.0303");
	is(statuses(1), '401', "API clock $offset s off: exactly one request");
}
$sim->config(clock_offset => 840);
($out, $err) = scan('ak_tasks');
is("$out|$err", "$N|", 'API clock 14 minutes off: accepted');
$sim->config(clock_offset => 0);

$s->quit;
$node->stop;
done_testing();
