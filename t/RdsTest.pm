# t/RdsTest.pm: helpers shared by the TAP tests of rds_task_fdw.
#
# RdsTest::Sim      a private API simulator (test/rds_sim.py) on free ports,
#                   with its control API (faults, request log, tokens...)
# RdsTest::Session  a psql session kept open, for statements that run while
#                   the test does something else (cancel, terminate, sample)
# new_node          a PostgreSQL::Test::Cluster with the extension created
#
# Every test starts its own simulator, so that nothing else resets it under
# the test's feet.  Simulators still running when the test ends are stopped.
package RdsTest;

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(new_node create_server wait_until $ROOT $PROJECT);

our $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/..');
our $PROJECT = '0123456789abcdef0123456789abcdef';

# new_node(NAME, CONF): an initialized and started node, its postgresql.conf
# extended by CONF, with CREATE EXTENSION rds_task_fdw done in "postgres".
sub new_node
{
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', $conf) if defined $conf;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION rds_task_fdw');
	return $node;
}

# create_server(NODE, NAME, SIM, SERVER_OPTIONS, MAPPING_OPTIONS, [USER]):
# a server on the simulator's HTTP listener, a user mapping for USER
# (default CURRENT_USER) and a foreign table NAME_tasks with every field.
# Options are given as SQL option lists without the parentheses.
sub create_server
{
	my ($node, $name, $sim, $srvopts, $umopts, $user) = @_;
	$user //= 'CURRENT_USER';
	my $url = $sim->url;
	$srvopts = $srvopts ? ", $srvopts" : '';
	$node->safe_psql(
		'postgres', qq{
CREATE SERVER $name FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PROJECT'$srvopts);
CREATE USER MAPPING FOR $user SERVER $name OPTIONS ($umopts);
CREATE FOREIGN TABLE ${name}_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text
) SERVER $name;
});
	return "${name}_tasks";
}

# wait_until(CODE, TIMEOUT): calls CODE every 20 ms until it returns true;
# returns that value, or undef after TIMEOUT seconds.
sub wait_until
{
	my ($code, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	while (1)
	{
		my $v = $code->();
		return $v if $v;
		return undef if time > $deadline;
		sleep 0.02;
	}
}


package RdsTest::Sim;

use strict;
use warnings;

use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);

my @running;

# RdsTest::Sim->start(ARGS...): a simulator with rds_sim.py options ARGS,
# listening on a free port; dies if it does not come up within 15 s.  With
# '--https' among ARGS it also listens for HTTPS with a throwaway CA
# (test/gen_ca.sh): https_url (host name localhost) and ca_file.
sub start
{
	my ($class, @args) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir('rds_sim');
	my $ready = "$dir/ready.json";
	my $self = bless { dir => $dir, log_file => "$dir/requests.jsonl" }, $class;
	if (grep { $_ eq '--https' } @args)
	{
		@args = grep { $_ ne '--https' } @args;
		system('sh', "$RdsTest::ROOT/test/gen_ca.sh", "$dir/ca") == 0
		  or die "test/gen_ca.sh failed";
		$self->{ca_file} = Cwd::abs_path("$dir/ca/ca.crt");
		push @args, '--https-port', '0', '--tls-cert', "$dir/ca/server.crt",
		  '--tls-key', "$dir/ca/server.key";
	}
	$self->{harness} = IPC::Run::start(
		[
			'python3', "$RdsTest::ROOT/test/rds_sim.py",
			'--bind', '127.0.0.1', '--http-port', '0',
			'--ready-file', $ready, '--log-file', $self->{log_file}, @args
		],
		'<', \undef, '>', "$dir/sim.out", '2>&1');
	my $deadline = time + 15;
	until (-s $ready)
	{
		die "simulator did not start: " . slurp_file("$dir/sim.out")
		  if time > $deadline || !$self->{harness}->pumpable;
		sleep 0.05;
	}
	my $info = decode_json(slurp_file($ready));
	$self->{port} = $info->{http};
	$self->{url} = "http://127.0.0.1:$info->{http}";
	$self->{https_url} = "https://localhost:$info->{https}" if $info->{https};
	$self->{https_port} = $info->{https};
	$self->{http} = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
	push @running, $self;
	return $self;
}

sub url { return $_[0]->{url} }
sub https_url { return $_[0]->{https_url} }
sub https_port { return $_[0]->{https_port} }
sub ca_file { return $_[0]->{ca_file} }
sub port { return $_[0]->{port} }

# ctl(METHOD, PATH, DOC): a control API call (PATH below /_sim/); dies
# unless it answers 200.  Returns the decoded JSON answer (or the text).
sub ctl
{
	my ($self, $method, $path, $doc) = @_;
	my %req;
	if (defined $doc)
	{
		$req{content} = encode_json($doc);
		$req{headers} = { 'Content-Type' => 'application/json' };
	}
	my $res = $self->{http}->request($method, "$self->{url}/_sim/$path", \%req);
	die "simulator control $method $path: $res->{status} $res->{content}"
	  unless $res->{status} == 200;
	return $res->{content}
	  if ($res->{headers}{'content-type'} // '') !~ /json/;
	return decode_json($res->{content});
}

sub reset { my ($self, %doc) = @_; return $self->ctl('POST', 'reset', \%doc) }
sub config { my ($self, %doc) = @_; return $self->ctl('POST', 'config', \%doc) }
sub faults { my ($self, @rules) = @_; return $self->ctl('POST', 'faults', { faults => \@rules }) }
sub clear_faults { return $_[0]->ctl('POST', 'faults/clear', {}) }
sub clear_log { return $_[0]->ctl('POST', 'log/clear', {}) }
sub stats { return $_[0]->ctl('GET', 'stats') }
sub active_faults { return $_[0]->ctl('GET', 'faults')->{faults} }

# log(): the request records (array of hashes), in arrival order, each with
# "t": the arrival time in epoch seconds (from "time", ms resolution).
sub log
{
	my ($self) = @_;
	my $recs = $self->ctl('GET', 'log');
	for my $r (@$recs)
	{
		my ($y, $mo, $d, $h, $mi, $s, $ms) =
		  $r->{time} =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z$/
		  or die "bad log time $r->{time}";
		$r->{t} = timegm($s, $mi, $h, $d, $mo - 1, $y) + $ms / 1000;
	}
	return $recs;
}

# log_text(): "METHOD /path?query STATUS" lines in arrival order.
sub log_text { return $_[0]->ctl('GET', 'log?format=text') }

# tasklist(FILTER): the log records of tasklist requests whose query
# parameters include every KEY => VALUE of FILTER.
sub tasklist
{
	my ($self, %filter) = @_;
	return [
		grep {
			my $r = $_;
			$r->{path} =~ m{/tasklist$}
			  && !grep { ($r->{params}{$_} // "\0") ne $filter{$_} } keys %filter
		} @{ $self->log }
	];
}

sub stop
{
	my ($self) = @_;
	return unless $self->{harness};
	$self->{harness}->signal('TERM');
	eval { $self->{harness}->finish; 1 } or $self->{harness}->kill_kill;
	delete $self->{harness};
	@running = grep { $_ != $self } @running;
	return;
}

END
{
	my $rc = $?;
	$_->stop for @running;
	$? = $rc;
}


package RdsTest::Session;

use strict;
use warnings;

use IPC::Run;
use Time::HiRes qw(time sleep);

# RdsTest::Session->new(NODE, [DBNAME, [USER]]): a psql reading statements
# from a pipe (ON_ERROR_STOP off), connected and ready.  Client messages
# are verbose; stderr collects every ERROR, NOTICE and DEBUG text.
sub new
{
	my ($class, $node, $dbname, $user) = @_;
	my $connstr = $node->connstr($dbname // 'postgres');
	$connstr .= " user=$user" if defined $user;
	my $self = bless { out => '', err => '', in => '', n => 0 }, $class;
	$self->{timer} = IPC::Run::timer(300);
	local %ENV = %ENV;
	delete $ENV{PGOPTIONS};
	$self->{harness} = IPC::Run::start(
		[
			$node->installed_command('psql'), '-X', '-A', '-t', '-q',
			'-v', 'ON_ERROR_STOP=0', '-v', 'VERBOSITY=verbose',
			'-d', $connstr, '-f', '-'
		],
		'<', \$self->{in}, '>', \$self->{out}, '2>', \$self->{err},
		$self->{timer});
	my ($pid) = $self->query('SELECT pg_backend_pid()');
	die "psql did not connect: $self->{err}" unless defined $pid && $pid =~ /^\d+$/;
	$self->{pid} = $pid;
	return $self;
}

sub pid { return $_[0]->{pid} }

# query(SQL, [TIMEOUT]): runs SQL (one or more statements) and waits for
# it; returns (stdout, stderr) of those statements, trailing newline cut.
sub query
{
	my ($self, $sql, $timeout) = @_;
	my $n = ++$self->{n};
	my $banner = "\@\@rds_session_done_$n\@\@";
	$self->{out} = '';
	$self->{err} = '';
	$self->{timer}->start($timeout // 300);
	$self->{in} .= "$sql\n;\n\\echo '$banner'\n\\warn '$banner'\n";
	$self->{harness}->pump
	  until ($self->{out} =~ /\Q$banner\E\n/ && $self->{err} =~ /\Q$banner\E\n/)
	  || $self->{timer}->is_expired;
	die "psql query timed out: $sql" if $self->{timer}->is_expired;
	(my $out = $self->{out}) =~ s/\n?\Q$banner\E\n//;
	(my $err = $self->{err}) =~ s/\Q$banner\E\n//;
	$out =~ s/\n$//;
	$self->{out} = '';
	$self->{err} = '';
	return wantarray ? ($out, $err) : $out;
}

# send(SQL): starts SQL and returns at once; see wait_err.
sub send
{
	my ($self, $sql) = @_;
	$self->{out} = '';
	$self->{err} = '';
	$self->{in} .= "$sql\n";
	$self->{timer}->start(300);
	eval { $self->{harness}->pump_nb; 1 };
	return time;
}

# wait_err(REGEX, TIMEOUT): pumps until stderr matches; returns the time
# it was first seen (epoch seconds, sub-millisecond) or undef on timeout.
# Works also when psql exits meanwhile (a terminated backend).
sub wait_err
{
	my ($self, $re, $timeout) = @_;
	my $deadline = time + $timeout;
	while (1)
	{
		my $alive = eval { $self->{harness}->pump_nb; 1 };
		return time if $self->{err} =~ $re;
		return undef if time > $deadline;
		sleep($alive ? 0.001 : 0.01);
	}
}

sub stderr { return $_[0]->{err} }
sub stdout { return $_[0]->{out} }

# finished(): whether psql has exited (it does when its backend goes away).
sub finished
{
	my ($self) = @_;
	eval { $self->{harness}->pump_nb; 1 };
	return !$self->{harness}->pumpable;
}

sub quit
{
	my ($self) = @_;
	return unless $self->{harness};
	$self->{in} .= "\\q\n";
	eval { $self->{harness}->finish; 1 } or eval { $self->{harness}->kill_kill };
	delete $self->{harness};
	return;
}

1;
