# t/003_secrets.pl: no secret ever shows, and user mappings stay private.
#
# Scans run with every way to authenticate (auth_token; user_name/password/
# domain_name; access_key/secret_key, also with security_token), succeeding
# and failing (bad or revoked token, wrong password, wrong secret key, wrong
# security token, clock skew, 401/403/500 from the API, 500 and a hang from
# IAM, a hang cancelled mid-request), with log_min_messages = debug5 and
# client_min_messages = debug5, log_error_verbosity = verbose, and
# log_min_error_statement = panic, log_statement = none (the only thing
# excluded is statement text the user typed: the CREATE USER MAPPINGs).
#
# Then the whole server log, every message and result the clients saw (EXPLAIN
# (ANALYZE, VERBOSE) included) and pg_stat_activity snapshots taken while
# requests were in flight are searched for every secret: passwords, secret
# keys, security tokens, static tokens, each token the simulator's IAM issued
# (GET /_sim/tokens) and each AK/SK signature it received (GET
# /_sim/signatures); long values also by their first 20 characters.
#
# Also: a non-superuser (here the owner of servers a superuser made and handed
# over) sees no options of another user's mapping in pg_user_mappings, cannot
# read pg_user_mapping, cannot set ca_file or proxy, cannot call
# rds_task_fdw_sign, cannot make requests go anywhere but https on a host:port
# in rds_task_fdw.allowed_hosts (by CREATE/ALTER SERVER, auth_url, table
# options, IMPORT, or a lab server handed over) and cannot inject a header.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 60;

sub hex_id { return join('', map { sprintf '%04x', int(rand(65536)) } 1 .. $_[0] / 4) }

# every secret, random for this run, so that a hit cannot be a coincidence
my %secret = (
	static_token => 'tokstatic' . hex_id(24),
	revoked_token => 'tokrevoked' . hex_id(24),
	bad_token => 'tokbad' . hex_id(24),
	password => 'pw' . hex_id(20),
	wrong_password => 'pwwrong' . hex_id(20),
	secret_key => 'sk' . hex_id(32),
	temp_secret_key => 'sktemp' . hex_id(32),
	wrong_secret_key => 'skwrong' . hex_id(32),
	security_token => 'sectok' . hex_id(40),
	wrong_security_token => 'sectokwrong' . hex_id(40),);
my $AK = 'AKSECRETSTEST000001';
my $AKT = 'AKSECRETSTEMP000002';

my $sim = RdsTest::Sim->start(
	'--tasks', $N,
	'--token', $secret{static_token}, '--token', $secret{revoked_token},
	'--user', "alice:$secret{password}:OTC-DOMAIN-1",
	'--aksk', "$AK:$secret{secret_key}",
	'--aksk', "$AKT:$secret{temp_secret_key}:$secret{security_token}",
	'--aksk-lockout', '0', '--https');

my $node = new_node(
	'secrets', q{
log_min_messages = debug5
log_min_error_statement = panic
log_statement = none
log_error_verbosity = verbose
log_connections = on
log_disconnections = on
});

my $pwopts = "user_name 'alice', domain_name 'OTC-DOMAIN-1'";
my %servers = (
	tok => "auth_token '$secret{static_token}'",
	tokbad => "auth_token '$secret{bad_token}'",
	tokrevoked => "auth_token '$secret{revoked_token}'",
	pw => "$pwopts, password '$secret{password}'",
	pwiam => "$pwopts, password '$secret{password}'",
	pwbad => "$pwopts, password '$secret{wrong_password}'",
	ak => "access_key '$AK', secret_key '$secret{secret_key}'",
	akbad => "access_key '$AK', secret_key '$secret{wrong_secret_key}'",
	akt => "access_key '$AKT', secret_key '$secret{temp_secret_key}', "
	  . "security_token '$secret{security_token}'",
	aktbad => "access_key '$AKT', secret_key '$secret{temp_secret_key}', "
	  . "security_token '$secret{wrong_security_token}'",);
create_server($node, $_, $sim, "max_retries '1', parallel_requests '2'", $servers{$_})
  for sort keys %servers;

# what the clients saw, and pg_stat_activity snapshots
my @client;
my @activity;

my $su = RdsTest::Session->new($node);
my $mon = RdsTest::Session->new($node);

# run(SESSION, SQL): runs SQL, keeping what the client saw
sub run
{
	my ($sess, $sql) = @_;
	my ($out, $err) = $sess->query($sql);
	push @client, $out, $err;
	return ($out, $err);
}

# scan(SESSION, SERVER, EXPECT): a scan that succeeds (EXPECT undef) or
# fails with an error matching EXPECT
sub scan
{
	my ($sess, $srv, $expect, $label) = @_;
	my ($out, $err) = run($sess, "SELECT count(id) FROM ${srv}_tasks");
	if (defined $expect)
	{
		like($err, $expect, "$label: fails as expected");
	}
	else
	{
		is($out, $N, "$label: scans");
	}
	return;
}

run($su, 'SET client_min_messages = debug5');

# ===================================================================
# every way to authenticate, succeeding
# ===================================================================
for my $srv (qw(tok pw ak akt))
{
	scan($su, $srv, undef, $srv);
	my ($out) = run($su,
		"EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) SELECT id, status FROM ${srv}_tasks WHERE status = 'Failed'");
	like($out, qr/Remote request: GET .*status=Failed.*\n(.*\n)*.*HTTP requests: [1-9]/,
		"$srv: EXPLAIN (ANALYZE, VERBOSE) shows the request");
}

# ===================================================================
# ... and failing
# ===================================================================
scan($su, 'tokbad', qr/HTTP 401 APIGW\.0307/, 'unknown token');
$sim->ctl('POST', 'revoke', { token => $secret{revoked_token} });
scan($su, 'tokrevoked', qr/HTTP 401 APIGW\.0307/, 'revoked static token');
scan($su, 'pwbad', qr/could not obtain an IAM token for user "alice": HTTP 401/,
	'wrong password');
scan($su, 'akbad', qr/HTTP 401 APIGW\.0301/, 'wrong secret key');
scan($su, 'aktbad', qr/HTTP 401 APIGW\.0301/, 'wrong security token');

# an issued token revoked: renewed once, the scan succeeds
$sim->ctl('POST', 'revoke', { all => JSON::PP::true });
scan($su, 'pw', undef, 'revoked IAM token, renewed');

# IAM fails: 500 for good, and a hang cancelled by statement_timeout
$sim->faults({ kind => 'status', status => 500, path => 'tokens', times => -1 });
scan($su, 'pwiam', qr/could not obtain an IAM token for user "alice": HTTP 500/, 'IAM 500');
$sim->clear_faults;
$sim->faults({ kind => 'hang', seconds => 30, path => 'tokens', times => 1 });
run($su, 'SET statement_timeout = 1000');
scan($su, 'pwiam', qr/canceling statement due to statement timeout/, 'IAM hangs');
run($su, 'RESET statement_timeout');
$sim->clear_faults;
scan($su, 'pwiam', undef, 'IAM back');

# the API fails: 401, 403 and 500 for good, with every method
for my $srv (qw(tok pw ak akt))
{
	for my $status (401, 403, 500)
	{
		$sim->faults({ kind => 'status', status => $status, times => -1 });
		scan($su, $srv, qr/HTTP $status /, "$srv, API $status");
		$sim->clear_faults;
	}
}

# X-Sdk-Date off by more than 15 minutes
$sim->config(clock_offset => 1200);
scan($su, 'ak', qr/HTTP 401 APIGW\.0303/, 'clock skew');
$sim->config(clock_offset => 0);

# a hang cancelled mid-request, with pg_stat_activity seen meanwhile
for my $srv (qw(tok pw ak akt))
{
	$sim->faults({ kind => 'hang', seconds => 30, times => 1 });
	my $pid = $su->pid;
	$su->send("SELECT count(id) FROM ${srv}_tasks;");
	wait_until(sub { $sim->stats->{in_flight} > 0 }, 10);
	my $snap;
	my $waiting = wait_until(
		sub {
			($snap) = $mon->query('SELECT row_to_json(a) FROM pg_stat_activity a');
			push @activity, $snap;
			return $snap =~ /"pid":$pid,.*"wait_event_type":"Extension"/;
		},
		10);
	ok($waiting, "$srv: pg_stat_activity seen while the request hangs");
	$mon->query("SELECT pg_cancel_backend($pid)");
	ok($su->wait_err(qr/canceling statement due to user request/, 10),
		"$srv: cancelled mid-request");
	push @client, $su->stdout, $su->stderr;
	$sim->clear_faults;
}

# ===================================================================
# a non-superuser: the server's owner, with a mapping of its own
# ===================================================================
# A superuser makes bob's server (https with the test CA, a host:port the
# superuser allows) and hands it over; a lab server on plain http too.
my $url = $sim->url;
my $https = $sim->https_url;
my $ca = $sim->ca_file;
my $hostport = 'localhost:' . $sim->https_port;
$node->append_conf('postgresql.conf', "rds_task_fdw.allowed_hosts = '$hostport'");
$node->reload;
$node->safe_psql(
	'postgres', qq{
CREATE ROLE bob LOGIN;
CREATE ROLE carol LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER rds_task_fdw TO bob;
GRANT CREATE ON SCHEMA public TO bob;
CREATE SERVER bobsrv FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$https', project_id '$RdsTest::PROJECT', ca_file '$ca');
ALTER SERVER bobsrv OWNER TO bob;
CREATE SERVER labsrv FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$RdsTest::PROJECT', max_retries '0');
ALTER SERVER labsrv OWNER TO bob;
CREATE SCHEMA bobs AUTHORIZATION bob;
SET ROLE bob;
ALTER SERVER bobsrv OPTIONS (ADD max_retries '0');
CREATE USER MAPPING FOR bob SERVER bobsrv OPTIONS (auth_token '$secret{static_token}');
CREATE USER MAPPING FOR bob SERVER labsrv OPTIONS (auth_token '$secret{static_token}');
CREATE FOREIGN TABLE bob_tasks (id text, status text) SERVER bobsrv;
RESET ROLE;
CREATE USER MAPPING FOR carol SERVER bobsrv
  OPTIONS ($pwopts, password '$secret{password}');
});
# a placeholder bob sets before the library is loaded is not taken over
my $bob = RdsTest::Session->new($node, 'postgres', 'bob');
my ($out, $err) = run($bob, "SET rds_task_fdw.allowed_hosts = 'rds.example.com'");
($out, $err) = run($bob,
	"CREATE SERVER x FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://rds.example.com', project_id 'p1')");
like($err, qr/only a superuser may set option "endpoint" to/,
	'refused: allowed_hosts set by bob before the library was loaded');
run($bob, 'SET client_min_messages = debug5');
($out, $err) = run($bob,
	"SELECT count(*), bool_and(umoptions IS NULL) FROM pg_user_mappings WHERE usename = 'carol'");
is($out, '1|t', "the server's owner sees carol's mapping, but not its options");
($out) = run($bob,
	"SELECT umoptions IS NOT NULL FROM pg_user_mappings WHERE usename = 'bob' AND srvname = 'bobsrv'");
is($out, 't', 'bob sees the options of his own mapping');
($out, $err) = run($bob, 'SELECT umoptions FROM pg_user_mapping');
like($err, qr/permission denied for table pg_user_mapping/, 'pg_user_mapping is not readable');
($out, $err) = run($bob, "ALTER SERVER bobsrv OPTIONS (SET ca_file '/etc/ssl/certs/ca-certificates.crt')");
like($err, qr/only a superuser may set option "ca_file"/, 'bob cannot set ca_file on his server');
($out, $err) = run($bob,
	"CREATE SERVER bobsrv2 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint '$https', "
	  . "project_id '$RdsTest::PROJECT', ca_file '/etc/ssl/certs/ca-certificates.crt')");
like($err, qr/only a superuser may set option "ca_file"/, 'bob cannot create a server with ca_file');
($out, $err) = run($bob,
	"SELECT rds_task_fdw_sign('bobsrv', 'GET', 'https://h/p', ARRAY['X-Sdk-Date: 20260101T000000Z'])");
like($err, qr/permission denied for function rds_task_fdw_sign/, 'bob cannot call the signer');

# every route to an endpoint or auth_url of bob's choosing (values no server
# of bob's has: he may keep or copy those, and requests check them again)
my $sim_port = $sim->port;
my %routes = (
	'CREATE SERVER, http to the simulator' =>
	  "CREATE SERVER x1 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint '$url/v9', project_id 'p1')",
	'CREATE SERVER, http loopback, other port and path' =>
	  "CREATE SERVER x2 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://127.0.0.1:5432/x', project_id 'p1')",
	'CREATE SERVER, https by IP address' =>
	  "CREATE SERVER x3 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://127.0.0.1:"
	  . $sim->https_port . "', project_id 'p1')",
	'CREATE SERVER, allowed host, other port' =>
	  "CREATE SERVER x4 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://localhost:1', project_id 'p1')",
	'CREATE SERVER, other host' =>
	  "CREATE SERVER x5 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://rds.example.com', project_id 'p1')",
	'CREATE SERVER, auth_url http' =>
	  "CREATE SERVER x6 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint '$https', project_id 'p1', auth_url '$url/v3')",
	'ALTER SERVER, endpoint' => "ALTER SERVER bobsrv OPTIONS (SET endpoint '$url/v9')",
	'ALTER SERVER, auth_url' => "ALTER SERVER bobsrv OPTIONS (ADD auth_url 'https://localhost:$sim_port/v3')",
	'ALTER SERVER, keeps ca_file, new endpoint' =>
	  "ALTER SERVER bobsrv OPTIONS (SET endpoint 'https://127.0.0.1:" . $sim->https_port . "')",);
for my $route (sort keys %routes)
{
	($out, $err) = run($bob, $routes{$route});
	like($err, qr/only a superuser may set option "(endpoint|auth_url)" to/, "refused: $route");
}
($out, $err) = run($bob, "CREATE FOREIGN TABLE x (id text) SERVER bobsrv OPTIONS (endpoint '$url')");
like($err, qr/invalid option "endpoint" for a foreign table/, 'refused: endpoint as a table option');
($out, $err) = run($bob, "ALTER SERVER bobsrv OPTIONS (ADD proxy 'http://127.0.0.1:$sim_port')");
like($err, qr/only a superuser may set option "proxy"/, 'refused: proxy');
($out, $err) = run($bob,
	"ALTER USER MAPPING FOR bob SERVER bobsrv OPTIONS (SET auth_token E'tok\\r\\nX-Injected: yes')");
like($err, qr/invalid value for option "auth_token": control characters are not allowed/,
	'refused: a header injected through auth_token');
unlike($err, qr/X-Injected/, 'the refused value is not repeated');

# the lab server a superuser handed over: bob may keep its endpoint, but
# requests through bob's mapping are refused, by table and by IMPORT, and
# none reaches the simulator
($out, $err) = run($bob, "ALTER SERVER labsrv OPTIONS (SET max_retries '1')");
unlike($err, qr/ERROR/, 'bob may alter other options of the lab server');
$sim->clear_log;
run($bob, 'CREATE FOREIGN TABLE lab_tasks (id text) SERVER labsrv');
($out, $err) = run($bob, 'SELECT count(id) FROM lab_tasks');
like($err, qr/the endpoint of server "labsrv" may not be used by non-superuser "bob"/,
	'refused: a scan through the handed-over lab server');
run($bob, 'IMPORT FOREIGN SCHEMA otc FROM SERVER labsrv INTO bobs');
($out, $err) = run($bob, 'SELECT count(id) FROM bobs.rds_tasks');
like($err, qr/the endpoint of server "labsrv" may not be used by non-superuser "bob"/,
	'refused: a scan of an imported table');
is(scalar(@{ $sim->log }), 0, 'no request reached the simulator');

($out, $err) = run($bob, 'SELECT count(id) FROM bob_tasks');
is($out, $N, "bob scans through his mapping");
$sim->faults({ kind => 'status', status => 401, times => -1 });
($out, $err) = run($bob, 'SELECT count(id) FROM bob_tasks');
like($err, qr/HTTP 401/, 'bob sees the 401');
$sim->clear_faults;
($out) = $bob->query('SELECT row_to_json(a) FROM pg_stat_activity a');
push @activity, $out;
$bob->quit;

# ===================================================================
# look for the secrets everywhere
# ===================================================================
$su->quit;
$mon->quit;
$node->stop;

my $tokens = $sim->ctl('GET', 'tokens');
my @issued = map { $_->{token} } @{ $tokens->{issued} };
my @sigs = @{ $sim->ctl('GET', 'signatures')->{signatures} };
cmp_ok(scalar(@issued), '>=', 4, scalar(@issued) . ' tokens were issued by IAM');
# (planning sends no request: every signature is a scan's)
cmp_ok(scalar(@sigs), '>=', 15, scalar(@sigs) . ' AK/SK signatures were received');

my %classes = (
	'passwords' => [ @secret{qw(password wrong_password)} ],
	'secret keys' => [ @secret{qw(secret_key temp_secret_key wrong_secret_key)} ],
	'security tokens' => [ @secret{qw(security_token wrong_security_token)} ],
	'static tokens' => [ @secret{qw(static_token revoked_token bad_token)} ],
	'issued tokens' => \@issued,
	'signatures' => \@sigs,);

my $server_log = slurp_file($node->logfile);
my %sources = (
	'the server log' => $server_log,
	'what the clients saw' => join("\n", @client),
	'pg_stat_activity' => join("\n", @activity),);

# sanity: the texts searched hold what they should
like($server_log, qr/DEBUG: .*\n(.*\n)*.*ERROR: .*HTTP 401 APIGW\.0301/,
	'the server log has debug output and the errors');
like($sources{'what the clients saw'}, qr/DEBUG: (.*\n)*.*HTTP 403 /,
	'the clients saw debug messages and errors');

for my $src (sort keys %sources)
{
	for my $class (sort keys %classes)
	{
		my @found;
		for my $value (@{ $classes{$class} })
		{
			my @needles = ($value);
			push @needles, substr($value, 0, 20) if length($value) >= 32;
			push @found, $value if grep { index($sources{$src}, $_) >= 0 } @needles;
		}
		ok(!@found, "$src shows no $class (" . scalar(@{ $classes{$class} }) . ' checked)')
		  or diag "found in $src: @found";
	}
}

done_testing();
