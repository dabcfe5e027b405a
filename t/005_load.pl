# t/005_load.pl: test/load.sh against a fresh node, as one test.
#
# 32 sessions (RDS_LOAD_CLIENTS) scan and filter for RDS_LOAD_DURATION
# seconds (default 30) over HTTPS while the simulator injects faults;
# load.sh checks every result against a local copy of the data set, that
# every error is a clean ERROR and that no backend crashed (the node's log
# is passed to it).  Its report is shown in the test output.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;

my $duration = $ENV{RDS_LOAD_DURATION} // 30;
my $clients = $ENV{RDS_LOAD_CLIENTS} // 32;

my $node = new_node('load', "max_connections = 60\n");

local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';
delete local $ENV{PGUSER};
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[
		'bash', "$RdsTest::ROOT/test/load.sh",
		'--duration', $duration, '--clients', $clients, '--tls',
		'--server-log', $node->logfile
	],
	'<', \undef, '>', \$stdout, '2>', \$stderr);
diag $stdout;
diag "stderr:\n$stderr" if $stderr ne '';
ok($ok && $stdout =~ /^load: PASS$/m,
	"$clients sessions for $duration s under faults: right results, clean errors, no crash");

$node->stop;
done_testing();
