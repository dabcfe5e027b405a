# t/009_dump.pl: dumps of databases that use rds_task_fdw restore, also
# with --single-transaction and --exit-on-error, whoever made them.
#
# A database "ops" holds the extension, a server on the simulator, user
# mappings for the superuser and for "bi" (a role with USAGE on the wrapper
# and the server, not superuser), and bi's schema of imported tables.
#  - The superuser's dump has every mapping with its options: it restores,
#    and the restored tables answer.
#  - bi's dump has bi's own mapping with options but the superuser's without
#    (pg_dump may not read them): "CREATE USER MAPPING FOR ... SERVER sim;".
#    It restores; a scan through the incomplete mapping is a clear error
#    saying what to set; once set, the tables answer.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;

my $N = 75;
my $TOKEN = 'dump-test-token-0001';
my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN);
my $url = $sim->url;

my $node = new_node('dump');
$node->safe_psql('postgres', 'CREATE DATABASE ops');
$node->safe_psql(
	'ops', qq{
CREATE EXTENSION rds_task_fdw;
CREATE ROLE bi LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER rds_task_fdw TO bi;
CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$RdsTest::PROJECT', max_retries '0');
GRANT USAGE ON FOREIGN SERVER sim TO bi;
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token '$TOKEN');
CREATE USER MAPPING FOR bi SERVER sim OPTIONS (auth_token 'bi-$TOKEN');
CREATE SCHEMA tasks AUTHORIZATION bi;
});
# bi imports its own tables
$node->safe_psql('ops', 'SET ROLE bi; IMPORT FOREIGN SCHEMA otc FROM SERVER sim INTO tasks');
is($node->safe_psql('ops', 'SELECT count(id) FROM tasks.rds_tasks'), $N, 'the superuser scans');

my $dir = PostgreSQL::Test::Utils::tempdir('dump');
my ($out, $err);

# restore(FILE, DB): pg_restore into a new database, in one transaction,
# stopping at the first error; returns (exit status, stderr)
sub restore
{
	my ($file, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my ($rout, $rerr);
	my $rc = IPC::Run::run(
		[
			'pg_restore', '--single-transaction', '--exit-on-error',
			'-h', $node->host, '-p', $node->port, '-U', $node->{_pg_user} // 'postgres',
			'-d', $db, $file
		],
		'>', \$rout, '2>', \$rerr);
	return ($rc ? 0 : 1, $rerr);
}

# ===================================================================
# the superuser's dump
# ===================================================================
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'ops', '-f', "$dir/super.dump" ],
	'superuser: pg_dump');
my $script = `pg_restore -f - $dir/super.dump`;
like($script, qr/CREATE USER MAPPING FOR bi SERVER sim OPTIONS \(\s*auth_token 'bi-$TOKEN'\s*\)/,
	'superuser dump: bi\'s mapping with its options');
my ($rc, $rerr) = restore("$dir/super.dump", 'from_super');
is("$rc|$rerr", '0|', 'superuser dump: restores in one transaction, no error');
is($node->safe_psql('from_super', 'SELECT count(id) FROM tasks.rds_tasks'), $N,
	'superuser dump: the restored table answers');

# ===================================================================
# bi's dump: the superuser's mapping without options
# ===================================================================
my ($pout, $perr);
my $ok = IPC::Run::run(
	[ 'pg_dump', '-Fc', '-h', $node->host, '-p', $node->port, '-U', 'bi', '-d', 'ops',
	  '-f', "$dir/bi.dump" ],
	'>', \$pout, '2>', \$perr);
ok($ok, "bi: pg_dump ($perr)");
$script = `pg_restore -f - $dir/bi.dump`;
like($script, qr/CREATE USER MAPPING FOR bi SERVER sim OPTIONS \(\s*auth_token 'bi-$TOKEN'\s*\)/,
	'bi dump: bi\'s own mapping with its options');
like($script, qr/CREATE USER MAPPING FOR \w+ SERVER sim;/,
	'bi dump: the superuser\'s mapping without options');
unlike($script, qr/auth_token '\Q$TOKEN\E'/, 'bi dump: the superuser\'s token is not in it');
($rc, $rerr) = restore("$dir/bi.dump", 'from_bi');
is("$rc|$rerr", '0|', 'bi dump: restores in one transaction, no error');

# a scan through the incomplete mapping says what to set
($rc, $out, $err) = $node->psql('from_bi', 'SELECT count(id) FROM tasks.rds_tasks');
like($err, qr/ERROR:  the user mapping for user "\w+" on server "sim" names no way to authenticate/,
	'bi dump: a scan through the mapping without options is a clear error');
like($err, qr/HINT:  .*auth_token/, 'bi dump: the hint says what to set');
$node->safe_psql('from_bi', "ALTER USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (ADD auth_token '$TOKEN')");
is($node->safe_psql('from_bi', 'SELECT count(id) FROM tasks.rds_tasks'), $N,
	'bi dump: with the token set, the restored table answers');

# contradictory mappings are still refused
($rc, $out, $err) = $node->psql('ops',
	"CREATE USER MAPPING FOR public SERVER sim OPTIONS (auth_token 'a', access_key 'b', secret_key 'c')");
like($err, qr/must name at most one way to authenticate/, 'two ways to authenticate: refused');
($rc, $out, $err) = $node->psql('ops',
	"CREATE USER MAPPING FOR public SERVER sim OPTIONS (user_name 'alice')");
like($err, qr/ERROR:  password authentication needs user_name, password and domain_name/,
	'half a way to authenticate: refused');

$node->stop;
done_testing();
