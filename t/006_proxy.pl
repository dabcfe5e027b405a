# t/006_proxy.pl: the proxy variables of the postmaster's environment are
# ignored; the server option proxy is used when set.
#
# The cluster starts with http_proxy, https_proxy, HTTPS_PROXY, all_proxy and
# ALL_PROXY pointing at a loopback listener that records each request line
# and answers 502 (libcurl would otherwise send every request there).  A scan
# must reach the simulator directly and the listener must see nothing.  With
# the option proxy set to that listener, the request goes there (and fails);
# with the option dropped, the scan goes direct again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;

my $N = 30;
my $TOKEN = 'proxy-test-token-0001';

my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN);

# the recording "proxy": a child process, one request line per connection
my $record = PostgreSQL::Test::Utils::tempdir('proxy') . '/requests.txt';
my $listener = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen => 16,
	ReuseAddr => 1) or die "cannot listen: $!";
my $pport = $listener->sockport;
my $child = fork();
die "fork: $!" unless defined $child;
if ($child == 0)
{
	while (my $c = $listener->accept)
	{
		my $line = <$c>;
		if (open(my $fh, '>>', $record))
		{
			print $fh (defined $line ? $line : "(nothing)\n");
			close $fh;
		}
		print $c "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		close $c;
	}
	exit 0;
}
close $listener;

sub recorded
{
	return '' unless -e $record;
	return slurp_file($record);
}

# the postmaster inherits the proxy variables (the test's own HTTP::Tiny
# calls to the simulator must not, so they are set only around the start)
my $node;
{
	my $proxy = "http://127.0.0.1:$pport";
	local $ENV{http_proxy} = $proxy;
	local $ENV{https_proxy} = $proxy;
	local $ENV{HTTPS_PROXY} = $proxy;
	local $ENV{all_proxy} = $proxy;
	local $ENV{ALL_PROXY} = $proxy;
	local $ENV{no_proxy} = '';
	local $ENV{NO_PROXY} = '';
	$node = new_node('proxy');
}
my $pmpid = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
like(slurp_file("/proc/$pmpid/environ"), qr/(^|\0)http_proxy=http:\/\/127\.0\.0\.1:$pport\0/,
	'the postmaster has http_proxy in its environment');

create_server($node, 'envp', $sim, "max_retries '0'", "auth_token '$TOKEN'");

# ===================================================================
# the environment's proxy is ignored
# ===================================================================
$sim->clear_log;
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(id) FROM envp_tasks');
is($out, $N, 'the scan reads every task');
is(recorded(), '', 'the proxy from the environment saw no request');
ok(scalar(grep { $_->{path} =~ m{/tasklist} } @{ $sim->log }) > 0,
	'the simulator got the requests directly');

# ===================================================================
# the option proxy is used
# ===================================================================
$node->safe_psql('postgres', "ALTER SERVER envp OPTIONS (ADD proxy 'http://127.0.0.1:$pport')");
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(id) FROM envp_tasks');
like($err, qr/HTTP 502/, 'through the proxy option, the scan gets the proxy\'s 502');
like(recorded(), qr{^GET http://127\.0\.0\.1:\Q${\ $sim->port }\E/v3/\Q$RdsTest::PROJECT\E/tasklist},
	'the proxy option received the request');

$node->safe_psql('postgres', 'ALTER SERVER envp OPTIONS (DROP proxy)');
unlink $record;
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(id) FROM envp_tasks');
is($out, $N, 'without the option, the scan goes direct again');
is(recorded(), '', 'and the proxy saw nothing');

kill 'TERM', $child;
waitpid($child, 0);
$node->stop;
done_testing();
