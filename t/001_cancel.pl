# t/001_cancel.pl: query cancel, statement_timeout and pg_terminate_backend
# end a scan within one second, wherever the scan is waiting:
#
#   hang     the request is sent and the API does not answer
#   slow     the answer trickles in, 20 bytes every 100 ms
#   backoff  the API said 429 with Retry-After: 30 and the scan sleeps
#            before its retry (max_retries 1)
#   iam      password authentication: the IAM token request hangs
#
# For each, the test measures the time from the cancel (for
# statement_timeout: from the moment the timeout is due) to the error the
# client receives, and asserts it is under one second: the bound comes from
# our own wait loop (100 ms polls with CHECK_FOR_INTERRUPTS), not from the
# machine's speed.  Afterwards the same session scans correctly (after a
# terminate: a new session), the abandoned transfer is gone from the
# simulator and the postmaster never restarted.  Last, a savepoint rolled
# back while a cursor's prefetch is in flight stops that transfer and the
# cursor still returns every row once.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $NTASKS = 200;
my $BOUND = 1.0;    # seconds from cancel to error
my $TIMEOUT_MS = 1500;    # statement_timeout of the timeout runs

my $sim = RdsTest::Sim->start('--tasks', $NTASKS, '--token', 'tok-cancel-0001',
	'--user', 'alice:alice-Cancel-pw:OTC-DOMAIN-1');
my $node = new_node('cancel');

# c0: no retries (hang, slow); c1: one retry (the backoff case)
create_server($node, 'c0', $sim, "max_retries '0'", "auth_token 'tok-cancel-0001'");
create_server($node, 'c1', $sim, "max_retries '1'", "auth_token 'tok-cancel-0001'");
create_server($node, 'c2', $sim, "max_retries '0', parallel_requests '2'",
	"auth_token 'tok-cancel-0001'");
create_server($node, 'c3', $sim, "max_retries '0'",
	"user_name 'alice', password 'alice-Cancel-pw', domain_name 'OTC-DOMAIN-1'");

my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Where the scan waits: the fault on its first page, and the table to scan.
my %scenario = (
	hang => {
		table => 'c0_tasks',
		fault => { kind => 'hang', seconds => 60 }
	},
	slow => {
		table => 'c0_tasks',
		fault => { kind => 'slow', chunk => 20, interval_ms => 100 }
	},
	backoff => {
		table => 'c1_tasks',
		fault => { kind => 'status', status => 429, retry_after => '30' }
	},
	iam => {
		table => 'c3_tasks',
		fault => { kind => 'hang', seconds => 60, path => 'tokens' }
	},);
my @scenarios = qw(hang slow backoff iam);

my %how = (
	cancel => qr/canceling statement due to user request/,
	timeout => qr/canceling statement due to statement timeout/,
	terminate => qr/terminating connection due to administrator command/,);

my $ctl = RdsTest::Session->new($node);
my %latency;

# start_waiting(SESSION, SCENARIO): starts the scan with the scenario's
# fault on its first page and returns once the backend is waiting there
# (the fault was applied and pg_stat_activity shows an Extension wait);
# returns the time the statement was sent.
sub start_waiting
{
	my ($victim, $name) = @_;
	my $sc = $scenario{$name};
	$sim->clear_faults;
	if ($name eq 'iam')
	{
		# a changed user mapping makes the backend fetch a new token
		$ctl->query('ALTER USER MAPPING FOR CURRENT_USER SERVER c3 '
			  . "OPTIONS (SET domain_name 'OTC-DOMAIN-1')");
		$sim->faults($sc->{fault});
	}
	else
	{
		$sim->faults({ %{ $sc->{fault} }, params => { offset => '0', limit => '50' } });
	}
	my $sent = $victim->send("SELECT count(id) FROM $sc->{table};");
	my $applied = wait_until(sub { $sim->active_faults->[0]{applied} }, 10);
	my $pid = $victim->pid;
	my $waiting = wait_until(
		sub {
			$ctl->query(
				"SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid")
			  eq 'Extension';
		},
		10);
	note "$name: fault applied, backend $pid waiting in the FDW"
	  if $applied && $waiting;
	sleep 0.3 if $name eq 'slow';    # let a few chunks arrive first
	return $sent;
}

# check_abandoned(SCENARIO, LABEL): the abandoned request is gone from the
# simulator: it saw the client close the connection (hang: the request ends
# as 499, client gone; slow: the body stops part-way), or the retry after
# the backoff was never sent.
sub check_abandoned
{
	my ($name, $label) = @_;
	if ($name eq 'backoff')
	{
		sleep 0.3;
		my $first = $sim->tasklist(offset => '0', limit => '50');
		is(scalar(@$first), 1, "$label: the retry after the backoff was never sent");
		return;
	}
	my $kind = $scenario{$name}{fault}{kind};
	my $rec;
	my $closed = wait_until(
		sub {
			($rec) = grep { ($_->{fault} // '') eq $kind } @{ $sim->log };
			return 0 unless $rec;
			return $rec->{status} == 499 if $kind eq 'hang';
			return $rec->{bytes} > 0 && !$rec->{complete};
		},
		3);
	ok($closed && $sim->stats->{in_flight} == 0,
		"$label: the simulator saw the client close the connection"
		  . ($name eq 'slow' && $rec ? " after $rec->{bytes} bytes" : ''));
	return;
}

my $victim = RdsTest::Session->new($node);
is($victim->query("SELECT count(id) FROM c0_tasks"), $NTASKS, 'warm-up scan');
is($victim->query("SELECT count(id) FROM c1_tasks"), $NTASKS, 'warm-up scan, c1');
is($victim->query("SELECT count(id) FROM c3_tasks"), $NTASKS, 'warm-up scan, c3');

# ===================================================================
# pg_cancel_backend and statement_timeout: the same session goes on
# ===================================================================
for my $way (qw(cancel timeout))
{
	for my $name (@scenarios)
	{
		my $label = "$way while $name";
		my $pid = $victim->pid;
		$sim->clear_log;
		$victim->query("SET statement_timeout = $TIMEOUT_MS") if $way eq 'timeout';
		my $sent = start_waiting($victim, $name);
		my $t0;
		if ($way eq 'cancel')
		{
			$t0 = time;
			$ctl->query("SELECT pg_cancel_backend($pid)");
		}
		else
		{
			$t0 = $sent + $TIMEOUT_MS / 1000;
		}
		my $t1 = $victim->wait_err($how{$way}, 30);
		ok(defined $t1, "$label: the statement ends with the expected error")
		  or diag "stderr: " . $victim->stderr;
		my $lat = defined $t1 ? $t1 - $t0 : 999;
		$latency{$label} = $lat;
		cmp_ok($lat, "<", $BOUND,
			sprintf("$label: error %.3f s after the %s", $lat,
				$way eq "cancel" ? "cancel" : "timeout was due"));
		check_abandoned($name, $label);
		$sim->clear_faults;
		my ($out, $err) = $victim->query(
			"RESET statement_timeout; SELECT count(id) FROM $scenario{$name}{table}");
		is("$out|$err", "$NTASKS|", "$label: the same session scans correctly afterwards");
	}
}

# ===================================================================
# pg_terminate_backend: the backend exits, a new session works
# ===================================================================
for my $name (@scenarios)
{
	my $label = "terminate while $name";
	my $v = RdsTest::Session->new($node);
	my $pid = $v->pid;
	$v->query("SELECT count(id) FROM $scenario{$name}{table}");    # plan once
	$sim->clear_log;
	start_waiting($v, $name);
	my $t0 = time;
	$ctl->query("SELECT pg_terminate_backend($pid)");
	my $t1 = $v->wait_err($how{terminate}, 30);
	ok(defined $t1, "$label: the client is told the connection ends")
	  or diag "stderr: " . $v->stderr;
	my $lat = defined $t1 ? $t1 - $t0 : 999;
	$latency{$label} = $lat;
	cmp_ok($lat, '<', $BOUND, sprintf("$label: error %.3f s after the terminate", $lat));
	ok( wait_until(
			sub {
				$ctl->query("SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")
				  eq '0';
			},
			$BOUND),
		"$label: the backend is gone");
	ok(wait_until(sub { $v->finished }, 5), "$label: psql saw the connection close");
	$v->quit;
	check_abandoned($name, $label);
	$sim->clear_faults;
	my $fresh = RdsTest::Session->new($node);
	my ($out, $err) = $fresh->query("SELECT count(id) FROM $scenario{$name}{table}");
	is("$out|$err", "$NTASKS|", "$label: a new session scans correctly");
	$fresh->quit;
}

# ===================================================================
# a savepoint rolled back while a cursor's prefetch is in flight: the
# transfer the subtransaction started is stopped, and started again when
# the cursor (opened before the savepoint) reads on
# ===================================================================
$sim->clear_log;
$sim->clear_faults;
$sim->faults({ kind => 'delay', ms => 800, times => 2, params => { offset => '100' } });
my ($rows, $err) = $victim->query(q{
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM c2_tasks;
FETCH 10 FROM c;
SAVEPOINT s;
FETCH 50 FROM c;
SELECT 1/0;
ROLLBACK TO s;
FETCH ALL FROM c;
COMMIT;});
my %seen = map { $_ => 1 } split /\n/, $rows;
is(scalar(split /\n/, $rows) . ' rows, ' . scalar(keys %seen) . ' distinct',
	"$NTASKS rows, $NTASKS distinct", 'savepoint: the cursor returns every row once');
like($err, qr/division by zero/, 'savepoint: the error rolled back');
# the log is in the order the answers ended: both waited 800 ms, and on a
# loaded machine the simulator may end the second one first
my $third = join(',', sort map { $_->{status} } @{ $sim->tasklist(offset => '100') });
is($third, '200,499', 'savepoint: the prefetch in flight was stopped (499), then sent again (200)');
$sim->clear_faults;

# ===================================================================
# nothing crashed
# ===================================================================
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the postmaster never restarted');
my $log = slurp_file($node->logfile);
unlike($log,
	qr/terminated by signal|terminating any other active server processes|all server processes terminated/,
	'no backend died abnormally');

note sprintf("latency %-24s %.3f s", $_, $latency{$_}) for sort keys %latency;
my @l = sort { $a <=> $b } values %latency;
diag sprintf("cancel latencies: %d runs, min %.3f s, max %.3f s",
	scalar(@l), $l[0], $l[-1]);

$victim->quit;
$ctl->quit;
$node->stop;
done_testing();
