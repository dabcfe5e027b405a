# t/004_resources.pl: one backend runs thousands of scans, succeeding and
# failing in every way we know, and its memory and file descriptors do not
# grow.
#
# A round is one batch of statements in the same session: successful scans
# (full, count(*) pushdown, IN-list, LIMIT, a cursor closed early, the raw
# jsonb column, the actions resource, password and AK/SK auth) and failing
# ones (HTTP 500, a non-JSON body, HTML, wrong types, a too deeply nested
# body, a truncated body, a dropped connection, an error caught in a
# PL/pgSQL exception block; every 3rd round statement_timeout cancels a
# hanging and a trickling request, every 10th a body over the size limit,
# every 25th a request times out; every 5th an ALTER SERVER makes the
# backend drop and rebuild its connection).  The faults are permanent simulator
# rules keyed by the pushed "name" filter, so no round needs the simulator
# to be reconfigured.
#
# After the warm-up rounds and at the end the test samples the backend:
# the total of pg_backend_memory_contexts, VmRSS, VmHWM and RssAnon from
# /proc/PID/status and the number of entries in /proc/PID/fd, and asserts
# that none grew by more than its bound.  Every round must give the same
# rows and the same number of errors, and every failure must be an ERROR.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time);

my $WARMUP = 20;
my $ROUNDS = $ENV{RDS_RESOURCE_ROUNDS} // 200;
my $MEM_BOUND = 2 * 1024 * 1024;    # bytes
my $CXT_BOUND = 256 * 1024;    # bytes of memory contexts
my $FD_SLACK = 2;    # cached HTTP connections may come and go

my $N = 120;
my $AK = 'AKRESOURCES00000001';
my $SK = 'SKresourcesExampleSecretKey000000001';

my $sim = RdsTest::Sim->start(
	'--tasks', $N, '--token', 'tok-res-0001',
	'--user', 'alice:alice-res-pw:OTC-DOMAIN-1',
	'--aksk', "$AK:$SK", '--log-max', '1000');
my $node = new_node('resources');

my $srv = "max_retries '0', request_timeout '1'";
create_server($node, 'm', $sim, $srv, "auth_token 'tok-res-0001'");
create_server($node, 'mp', $sim, $srv,
	"user_name 'alice', password 'alice-res-pw', domain_name 'OTC-DOMAIN-1'");
create_server($node, 'ma', $sim, $srv, "access_key '$AK', secret_key '$SK'");
$node->safe_psql(
	'postgres', q{
CREATE FOREIGN TABLE m_raw (id text, raw jsonb) SERVER m;
CREATE FOREIGN TABLE m_actions (name text) SERVER m OPTIONS (resource 'actions');
});

# permanent faults, each keyed by a name filter (pages only, not the
# planner's limit=1 estimate)
my %fault = (
	Err500 => { kind => 'status', status => 500 },
	Malformed => { kind => 'malformed' },
	Html => { kind => 'html' },
	WrongTypes => { kind => 'wrong_types', variant => 'tasks_object' },
	Deep => { kind => 'deep', depth => 5000 },
	Truncate => { kind => 'truncate' },
	Drop => { kind => 'drop' },
	Big => { kind => 'big', size => 9 * 1024 * 1024 },
	Hang => { kind => 'hang', seconds => 30 },
	Slow => { kind => 'slow', chunk => 10, interval_ms => 50 },);
$sim->faults(
	map { { %{ $fault{$_} }, times => -1, params => { name => $_, limit => '50' } } }
	  sort keys %fault);

sub failing { return "SELECT count(id) FROM m_tasks WHERE name = '$_[0]';" }

my $ok_batch = q{
SELECT count(id) FROM m_tasks;
SELECT count(*) FROM m_tasks WHERE status = 'Failed';
SELECT count(*) FROM m_tasks WHERE status IN ('Failed', 'Running');
SELECT id FROM m_tasks LIMIT 3;
BEGIN;
DECLARE c CURSOR FOR SELECT id, instance_name, create_time FROM m_tasks;
FETCH 2 FROM c;
CLOSE c;
COMMIT;
SELECT md5(string_agg(raw::text, ',' ORDER BY id)) FROM m_raw;
SELECT count(*) FROM m_actions;
SELECT count(id) FROM mp_tasks;
SELECT count(id) FROM ma_tasks;
};
my $fail_batch = join("\n", map { failing($_) } qw(Err500 Malformed Html WrongTypes Deep Truncate Drop)) . q{
DO $$
BEGIN
  PERFORM count(id) FROM m_tasks WHERE name = 'Malformed';
  RAISE EXCEPTION 'not reached';
EXCEPTION WHEN OTHERS THEN
  IF SQLERRM = 'not reached' THEN RAISE; END IF;
END $$;
};
my $nfail_always = 7;    # the DO block catches its own error

# one round: (SQL, expected number of ERRORs, number of scans)
sub round_sql
{
	my ($i) = @_;
	my $sql = $ok_batch . $fail_batch;
	my $errors = $nfail_always;
	my $scans = 18;
	if ($i % 3 == 0)
	{
		$sql .= "SET statement_timeout = 150;\n" . failing('Hang') . failing('Slow')
		  . "RESET statement_timeout;\n";
		$errors += 2;
		$scans += 2;
	}
	if ($i % 5 == 0)
	{
		# a changed server drops its cached connection: a new one is built
		$sql .= $i % 10
		  ? "ALTER SERVER m OPTIONS (ADD connect_timeout '9');\n"
		  : "ALTER SERVER m OPTIONS (DROP connect_timeout);\n";
	}
	if ($i % 10 == 0)
	{
		$sql .= failing('Big');
		$errors++;
		$scans++;
	}
	if ($i % 25 == 0)
	{
		$sql .= failing('Hang');    # request_timeout 1
		$errors++;
		$scans++;
	}
	return ($sql, $errors, $scans);
}

my $s = RdsTest::Session->new($node);
my $pid = $s->pid;

# sample(): what the backend uses now
sub sample
{
	my %m;
	$m{contexts} = $s->query('SELECT sum(total_bytes) FROM pg_backend_memory_contexts');
	my $status = slurp_file("/proc/$pid/status");
	for my $k (qw(VmRSS VmHWM RssAnon))
	{
		($m{$k}) = $status =~ /^$k:\s+(\d+) kB/m;
		$m{$k} *= 1024;
	}
	opendir(my $dh, "/proc/$pid/fd") or die "cannot read /proc/$pid/fd: $!";
	$m{fds} = scalar(grep { !/^\.\.?$/ } readdir($dh));
	closedir($dh);
	return \%m;
}

my ($reference_out, %kinds, $bad_rounds, $total_scans, $total_errors);
$bad_rounds = 0;
my $before;
my $t0 = time;
for my $i (1 .. $WARMUP + $ROUNDS)
{
	my ($sql, $want_errors, $scans) = round_sql($i);
	my ($out, $err) = $s->query($sql);
	my @errors = $err =~ /^psql:<stdin>:\d+: (ERROR|FATAL|PANIC|WARNING):  (\w+): (.*)$/mg;
	my $nerr = 0;
	while (my ($level, $code, $msg) = splice(@errors, 0, 3))
	{
		$nerr++;
		$kinds{"$level $code"}++;
	}
	$reference_out //= $out;
	if ($out ne $reference_out || $nerr != $want_errors || $err =~ /FATAL|PANIC|server closed/)
	{
		$bad_rounds++;
		diag "round $i: $nerr errors (want $want_errors)\n$out\n$err" if $bad_rounds <= 3;
	}
	$total_scans += $scans;
	$total_errors += $nerr;
	$before = sample() if $i == $WARMUP;
}
my $took = time - $t0;
my $after = sample();

is($bad_rounds, 0,
	"$total_scans scans in " . ($WARMUP + $ROUNDS) . " rounds: every round the same rows and errors");
like($reference_out, qr/^$N\n\d+\n\d+\n[0-9a-f]{32}\n/, 'the rows are the right ones');
is(join(',', sort grep { !/^ERROR / } keys %kinds), '', 'every failure is an ERROR');

for my $k (qw(contexts VmRSS VmHWM RssAnon))
{
	my $bound = $k eq 'contexts' ? $CXT_BOUND : $MEM_BOUND;
	my $growth = $after->{$k} - $before->{$k};
	cmp_ok($growth, '<', $bound,
		sprintf('%s: %.1f kB after warm-up, %.1f kB at the end (%+.1f kB, bound %d kB)',
			$k, $before->{$k} / 1024, $after->{$k} / 1024, $growth / 1024, $bound / 1024));
}
cmp_ok($after->{fds}, '<=', $before->{fds} + $FD_SLACK,
	"open files: $before->{fds} after warm-up, $after->{fds} at the end");

# the session still works, and the simulator sees no request left behind
is($s->query('SELECT count(id) FROM m_tasks'), $N, 'the session still scans');
ok(wait_until(sub { $sim->stats->{in_flight} == 0 }, 5), 'no request left in flight');

diag sprintf('%d scans (%d failing) in %.1f s; errors by SQLSTATE: %s',
	$total_scans, $total_errors, $took, join(', ', map { "$_ x$kinds{$_}" } sort keys %kinds));
diag sprintf('%s: %d -> %d', $_, $before->{$_}, $after->{$_})
  for qw(contexts VmRSS VmHWM RssAnon fds);

$s->quit;
$node->stop;
done_testing();
