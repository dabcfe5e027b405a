# t/011_concurrency.pl: max_concurrent_requests caps the requests in flight
# to one server across all backends of the cluster.
#
#   32 sessions, parallel_requests 4, each scanning 10 pages with 100 ms of
#   API latency: without a limit the simulator sees far more than N
#   requests at once; with max_concurrent_requests N never more than N,
#   and every session still gets every task.  A session waiting for a slot
#   shows the extension's wait event and is cancelled within a second.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 500;    # tasks: 10 pages
my $SESSIONS = 32;
my $LIMIT = 3;
my $TOKEN = 'tok-limit-0001';

my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN, '--latency-ms', 100);
my $node = new_node('limit', "max_connections = 60\n");
my $v17 = $node->safe_psql('postgres', 'SHOW server_version_num') >= 170000;

create_server($node, 'free', $sim, "parallel_requests '4'", "auth_token '$TOKEN'");
create_server($node, 'capped', $sim, "parallel_requests '4', max_concurrent_requests '$LIMIT'",
	"auth_token '$TOKEN'");

my @s = map { RdsTest::Session->new($node) } 1 .. $SESSIONS;
my $ctl = RdsTest::Session->new($node);

# run_all(TABLE): every session scans TABLE at once; returns (sessions with
# every task, seconds, the simulator's peak of requests in flight, the
# wait events seen meanwhile)
sub run_all
{
	my ($table) = @_;
	$sim->ctl('POST', 'stats/clear', {});
	my $i = 0;
	my $t0 = time;
	$_->send("SELECT count(id), count(DISTINCT id) FROM $table;\n\\warn end" . $i++) for @s;
	my %events;
	my $pids = join(',', map { $_->pid } @s);
	for (1 .. 5)
	{
		$events{$_}++ for split /\n/, $ctl->query(
			"SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity "
			  . "WHERE pid IN ($pids) AND wait_event IS NOT NULL");
		sleep 0.1;
	}
	my $good = 0;
	$i = 0;
	for my $s (@s)
	{
		my $t = $s->wait_err(qr/end$i/, 120);
		$good++ if defined $t && $s->stdout =~ /^$N\|$N$/m;
		$i++;
	}
	return ($good, time - $t0, $sim->stats->{max_in_flight}, \%events);
}

my ($good, $secs, $peak, $ev) = run_all('free_tasks');
is($good, $SESSIONS, "unlimited: $SESSIONS sessions have every task");
cmp_ok($peak, '>', $LIMIT, "unlimited: the API sees $peak requests at once");
note sprintf('%d scans, no limit: %.2f s, peak %d requests in flight', $SESSIONS, $secs, $peak);

($good, $secs, $peak, $ev) = run_all('capped_tasks');
is($good, $SESSIONS, "max_concurrent_requests $LIMIT: $SESSIONS sessions have every task");
cmp_ok($peak, '<=', $LIMIT, "max_concurrent_requests $LIMIT: never more at once (peak $peak)");
cmp_ok($peak, '>=', 1, 'requests did go out');
note sprintf('%d scans, max_concurrent_requests %d: %.2f s, peak %d requests in flight',
	$SESSIONS, $LIMIT, $secs, $peak);
note 'wait events: ' . join(', ', map { "$_ x$ev->{$_}" } sort keys %$ev);
my $slot_event = $v17 ? 'Extension/RdsTaskFdwRequestSlot' : 'Extension/Extension';
ok($ev->{$slot_event}, "sessions waiting for a slot show $slot_event");

# ===================================================================
# a session waiting for a slot is cancelled at once
# ===================================================================
$node->safe_psql('postgres', "ALTER SERVER capped OPTIONS (SET max_concurrent_requests '1')");
$sim->config(latency_ms => 0);
$sim->faults({ kind => 'hang', seconds => 60, params => { offset => '0' } });
my ($holder, $waiter) = @s[0, 1];
$holder->send("SELECT count(id) FROM capped_tasks;\n\\warn held");
wait_until(sub { $sim->active_faults->[0]{applied} }, 10) or diag 'fault not applied';
$waiter->send("SELECT count(id) FROM capped_tasks;\n\\warn waited");
my $wpid = $waiter->pid;
ok(wait_until(
		sub {
			$ctl->query("SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE pid = $wpid")
			  eq $slot_event;
		},
		10),
	'the second session waits for the slot');
my $t0 = time;
$ctl->query("SELECT pg_cancel_backend($wpid)");
my $t1 = $waiter->wait_err(qr/canceling statement due to user request/, 10);
ok(defined $t1 && $t1 - $t0 < 1.0,
	sprintf('cancelled within a second (%.3f s)', (defined $t1 ? $t1 : 99) - $t0));
# the holder ends: its slot is free, the next session runs at once
$ctl->query('SELECT pg_cancel_backend(' . $holder->pid . ')');
$holder->wait_err(qr/canceling statement/, 10);
$t0 = time;
is($waiter->query('SELECT count(id) FROM capped_tasks'), $N, 'then the waiter scans');
cmp_ok(time - $t0, '<', 5, 'without waiting for a slot left behind');
$sim->clear_faults;

# ===================================================================
# an idle cursor lends its slots and merge locks
# ===================================================================
# (before: the cursor's requests in flight kept their slots for as long as
# the cursor stayed open, and every other session went one slot short)
$node->safe_psql('postgres', qq{
ALTER SERVER capped OPTIONS (SET max_concurrent_requests '$LIMIT');
CREATE SERVER cached FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '@{[ $sim->url ]}', project_id '$PROJECT', parallel_requests '4', cache_ttl '60');
CREATE USER MAPPING FOR CURRENT_USER SERVER cached OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE cached_tasks (id text) SERVER cached;
});
$sim->config(latency_ms => 300);
my $idle = $s[2];
for my $table (qw(capped_tasks cached_tasks))
{
	$idle->query("BEGIN; DECLARE c CURSOR FOR SELECT id FROM $table");
	my @rows = split /\n/, $idle->query('FETCH 60 FROM c');
	is(scalar @rows, 60, "$table: the cursor fetched 60 rows, then its client idles");
	sleep 1.5;    # the requests it has in flight are answered meanwhile
	$sim->ctl('POST', 'stats/clear', {});
	my ($plan, $err) = $ctl->query("SET statement_timeout = '60s'; "
		  . "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(id) FROM $table");
	is($err, '', "$table: another session scans while the cursor idles");
	if ($table eq 'capped_tasks')
	{
		is($sim->stats->{max_in_flight}, $LIMIT,
			"max_concurrent_requests $LIMIT: it gets every slot (none kept by the idle cursor)");
	}
	else
	{
		unlike($plan, qr/merged waits [1-9]/,
			'cache_ttl: it fetches what the idle cursor had in flight, without waiting for it');
	}
	@rows = split /\n/, $idle->query('FETCH ALL FROM c');
	is(scalar @rows, $N - 60, "$table: the cursor, back, reads the rest");
	$idle->query('COMMIT');
}
$sim->config(latency_ms => 0);

$_->quit for @s, $ctl;
done_testing();
