# t/012_pgbouncer.pl: the shared cache and merged requests through
# pgbouncer in transaction pooling, as dashboards (Grafana, Metabase,
# Superset) connect.  Which backend serves a client's statement is
# pgbouncer's choice; the cache belongs to the cluster, so it must not
# matter.
#
#   pinned      a client holding a transaction pins one server connection;
#               another client, served by another backend, reads the first
#               one's entries (no request)
#   reconnect   new client connections, DISCARD ALL: still no request
#   merging     two clients on two backends at once: one request per page
#   mapping     a client connected as another user (its own mapping) is
#               never served the first user's entries
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $bouncer_bin = '/usr/sbin/pgbouncer';
# test/install_deps.sh installs it: a missing pgbouncer is a failure, not a skip
BAIL_OUT("$bouncer_bin is missing (test/install_deps.sh installs pgbouncer)")
  unless -x $bouncer_bin;

my $N = 120;    # tasks: pages at offsets 0, 50, 100
my $TOKEN = 'tok-bouncer-0001';
my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN);
my $node = new_node('bouncer');
create_server($node, 'pb', $sim, "cache_ttl '60'", "auth_token '$TOKEN'");
my $me = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql(
	'postgres', qq{
CREATE ROLE carol LOGIN SUPERUSER;  -- the simulator is plain http
CREATE USER MAPPING FOR carol SERVER pb OPTIONS (auth_token '$TOKEN');
});

# pgbouncer: transaction pooling, 4 server connections at most
my $dir = tempdir(CLEANUP => 1);
my $bport = PostgreSQL::Test::Cluster::get_free_port();
my ($host, $port) = ($node->host, $node->port);
open(my $fh, '>', "$dir/users.txt") or die;
print $fh qq{"$me" ""\n"carol" ""\n};
close $fh;
open($fh, '>', "$dir/pgbouncer.ini") or die;
print $fh <<"EOF";
[databases]
postgres = host=$host port=$port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 50
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
close $fh;
my ($bout, $berr) = ('', '');
my $bouncer = IPC::Run::start([ $bouncer_bin, "$dir/pgbouncer.ini" ],
	'>', \$bout, '2>', \$berr);
# stopped also when the test dies
END { eval { $bouncer->kill_kill if $bouncer && $bouncer->pumpable; 1 } }
ok( wait_until(
		sub {
			my $rc = system($node->installed_command('psql'), '-X', '-q', '-h', '127.0.0.1', '-p', $bport,
				'-d', 'postgres', '-c', 'SELECT 1', '-o', '/dev/null');
			return $rc == 0;
		},
		20),
	'pgbouncer accepts connections');

# a client of pgbouncer: what RdsTest::Session needs of a node
{

	package Bouncer;
	sub new { my ($c, %a) = @_; return bless {%a}, $c }
	sub connstr { return "host=127.0.0.1 port=$_[0]->{port} dbname=$_[1]" }
	sub installed_command { return $_[0]->{node}->installed_command($_[1]) }
}
my $via = Bouncer->new(port => $bport, node => $node);

# through(SQL, [USER]): SQL in a new client connection of pgbouncer
sub through
{
	my ($sql, $user) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[
			$node->installed_command('psql'), '-X', '-A', '-t', '-q', '-h', '127.0.0.1', '-p', $bport,
			'-d', 'postgres', ($user ? ('-U', $user) : ()), '-c', $sql
		],
		'>', \$out, '2>', \$err);
	chomp $out;
	die "psql through pgbouncer: $err" if $err =~ /ERROR|FATAL/;
	return $out;
}

sub tasklist_requests
{
	return scalar grep { $_->{path} =~ m{/tasklist$} } @{ $sim->log };
}

my $count_sql = 'SELECT pg_backend_pid(), count(id) FROM pb_tasks';

# ===================================================================
# pinned: another backend reads the entries of the first
# ===================================================================
$sim->clear_log;
my $a = RdsTest::Session->new($via);
my $first = $a->query("BEGIN;\n$count_sql");
my ($pid_a, $count_a) = split /\|/, $first;
is($count_a, $N, 'client A (in a transaction) counts every task');
is(tasklist_requests(), 3, 'client A: one request per page');

$sim->clear_log;
my $b = RdsTest::Session->new($via);
my ($pid_b, $count_b) = split /\|/, $b->query($count_sql);
isnt($pid_b, $pid_a, 'client B is served by another backend (A pins its own)');
is($count_b, $N, 'client B: the same count');
is(tasklist_requests(), 0, 'client B: no request, the cache is the cluster\'s');
$a->query('COMMIT');

# ===================================================================
# reconnect: new client connections, DISCARD ALL
# ===================================================================
$sim->clear_log;
my %pids;
for my $i (1 .. 5)
{
	my ($pid, $count) = split /\|/, through($count_sql);
	is($count, $N, "new client connection $i: every task");
	$pids{$pid} = 1;
}
through('DISCARD ALL');
my (undef, $after_discard) = split /\|/, through($count_sql);
is($after_discard, $N, 'after DISCARD ALL: every task');
is(tasklist_requests(), 0, 'five new client connections and DISCARD ALL: no request');

# ===================================================================
# merging: two clients on two backends at once, one request per page
# ===================================================================
$a->query('SELECT rds_task_fdw_cache_clear()');
$sim->config(latency_ms => 400);
$sim->clear_log;
$a->query('BEGIN; SELECT 1');    # pins a backend, so B gets another one
my ($pa) = $a->query('SELECT pg_backend_pid()');
$b->query('BEGIN; SELECT 1');
my ($pb) = $b->query('SELECT pg_backend_pid()');
isnt($pa, $pb, 'the two clients hold two backends');
$a->send('SELECT count(id) FROM pb_tasks;');
$b->send('SELECT count(id) FROM pb_tasks;');
my %done;
ok( wait_until(
		sub {
			for my $s ([ 'a', $a ], [ 'b', $b ])
			{
				eval { $s->[1]{harness}->pump_nb; 1 };
				$done{ $s->[0] } = 1 if $s->[1]->stdout =~ /^\Q$N\E$/m;
			}
			return keys %done == 2;
		},
		30),
	'both clients counted every task');
is(tasklist_requests(), 3, 'two backends at once: one request per page (merged)');
$sim->config(latency_ms => 0);
$a->query('COMMIT');
$b->query('COMMIT');

# ===================================================================
# mapping: another user through the same pool is never served the
# first user's entries
# ===================================================================
$sim->clear_log;
is(through('SELECT count(id) FROM pb_tasks', 'carol'), $N, 'carol counts every task');
is(tasklist_requests(), 3, 'carol (her own mapping): her own requests');
$sim->clear_log;
is(through('SELECT count(id) FROM pb_tasks', 'carol'), $N, 'carol again');
is(tasklist_requests(), 0, 'carol again: from her own entries');

$a->quit;
$b->quit;
$bouncer->signal('INT');
eval { $bouncer->finish; 1 } or $bouncer->kill_kill;
$node->stop;
$sim->stop;
done_testing();
