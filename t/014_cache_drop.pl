# t/014_cache_drop.pl: the shared cache forgets what was dropped.
#
#   drop database   after DROP DATABASE its entries are neither counted by
#                   rds_task_fdw_cache_stats() nor kept on disk: gone at the
#                   next store (in another database) or the next stats call
#   oid reuse       a database created with the OID of a dropped one (from
#                   the same template: same server and mapping rows) is never
#                   served the dropped one's entries
#   drop extension  DROP EXTENSION ... CASCADE: gone at the next stats call in
#                   that database (after CREATE EXTENSION again)
#   drop server     DROP SERVER, DROP USER MAPPING, ALTER SERVER: the entries
#                   no request can reach are not counted, and deleted
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $N = 120;    # tasks: pages at offsets 0, 50, 100
my $TOKEN = 'tok-drop-0001';
my $SWEEP_INTERVAL = 10;    # RDS_CACHE_SWEEP_INTERVAL_S in cache.c

my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN);
my $node = new_node('cachedrop');
my $url = $sim->url;
my $dir = $node->data_dir . '/pg_stat_tmp/rds_task_fdw';
my $Q = 'SELECT count(id), count(DISTINCT id) FROM t_tasks';

# setup(DB): the extension, a server with cache_ttl, a mapping and t_tasks
sub setup
{
	my ($db, $create_ext) = @_;
	$node->safe_psql($db, 'CREATE EXTENSION rds_task_fdw') if $create_ext // 1;
	$node->safe_psql(
		$db, qq{
CREATE SERVER s FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PROJECT', cache_ttl '600');
CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (auth_token '$TOKEN');
CREATE FOREIGN TABLE t_tasks (id text, status text) SERVER s;
});
}

# requests(DB, SQL): (result, tasklist requests the simulator received)
sub requests
{
	my ($db, $sql) = @_;
	$sim->clear_log;
	my $out = $node->safe_psql($db, $sql);
	return ($out, scalar @{ $sim->tasklist });
}

sub entries
{
	my ($db) = @_;
	return $node->safe_psql($db // 'postgres',
		'SELECT entries FROM rds_task_fdw_cache_stats()');
}

sub db_oid
{
	return $node->safe_psql('postgres',
		"SELECT oid FROM pg_database WHERE datname = '$_[0]'");
}

# files(OID): the entry files on disk whose key names database OID
sub files
{
	my ($oid) = @_;
	return scalar grep { slurp_file($_) =~ /db=$oid[\/ ]/ } glob("$dir/*.entry");
}

setup('postgres', 0);

# ===================================================================
# DROP DATABASE: gone at the next store in another database
# ===================================================================
$node->safe_psql('postgres', 'CREATE DATABASE d1');
setup('d1');
my $d1 = db_oid('d1');
my ($out, $n) = requests('d1', $Q);
is("$out/$n", "$N|$N/3", 'd1: three pages fetched');
is(files($d1), 3, "d1: three entry files");
is(entries(), 3, 'stats: three entries');
my $t_store = time;
$node->safe_psql('postgres', 'DROP DATABASE d1');
# a store starts the sweep for dead entries at most every $SWEEP_INTERVAL s
sleep($SWEEP_INTERVAL + 0.5 - (time - $t_store)) if time - $t_store < $SWEEP_INTERVAL + 0.5;
($out, $n) = requests('postgres', $Q);
is("$out/$n", "$N|$N/3", 'postgres: three pages fetched and stored');
is(files($d1), 0, "after DROP DATABASE and a store: the dropped database's files are gone");
is(entries(), 3, "stats: only postgres's three entries");

# ===================================================================
# DROP DATABASE: gone at the next stats call, at once
# ===================================================================
$node->safe_psql('postgres', 'CREATE DATABASE d2');
setup('d2');
my $d2 = db_oid('d2');
($out, $n) = requests('d2', $Q);
is("$out/$n", "$N|$N/3", 'd2: three pages fetched');
is(entries(), 6, 'stats: d2 and postgres, six entries');
$node->safe_psql('postgres', 'DROP DATABASE d2');
is(entries(), 3, 'after DROP DATABASE d2: stats count three entries at once');
is(files($d2), 0, "... and d2's files are gone");

# ===================================================================
# a new database with a dropped one's OID is not served its entries
# ===================================================================
$node->safe_psql('postgres', 'CREATE DATABASE tmpl');
setup('tmpl');
$node->safe_psql('postgres', 'CREATE DATABASE r1 OID 50000 TEMPLATE tmpl');
($out, $n) = requests('r1', $Q);
is("$out/$n", "$N|$N/3", 'r1 (OID 50000): fetched');
($out, $n) = requests('r1', $Q);
is("$out/$n", "$N|$N/0", 'r1: then from the cache');
$node->safe_psql('postgres', 'DROP DATABASE r1');
$node->safe_psql('postgres', 'CREATE DATABASE r2 OID 50000 TEMPLATE tmpl');
($out, $n) = requests('r2', $Q);
is("$out/$n", "$N|$N/3",
	'r2 (OID 50000 again, same server and mapping rows): fetched, never served r1\'s entries');
($out, $n) = requests('r2', $Q);
is("$out/$n", "$N|$N/0", 'r2: then from its own entries');
is(entries(), 6, "stats: r2's and postgres's six entries, not r1's");
is(files(50000), 3, "OID 50000: r2's three entry files left, r1's deleted");
$node->safe_psql('postgres', 'DROP DATABASE r2');
is(entries(), 3, 'after DROP DATABASE r2: three entries (postgres)');

# ===================================================================
# DROP EXTENSION ... CASCADE
# ===================================================================
$node->safe_psql('postgres', 'CREATE DATABASE d3');
setup('d3');
my $d3 = db_oid('d3');
($out, $n) = requests('d3', $Q);
is("$out/$n", "$N|$N/3", 'd3: three pages fetched');
is(entries('d3'), 6, 'stats: d3 and postgres, six entries');
$node->safe_psql('d3', 'DROP EXTENSION rds_task_fdw CASCADE');
setup('d3');
is(entries('d3'), 3, 'after DROP EXTENSION CASCADE (and CREATE again): only postgres\'s three entries');
is(files($d3), 0, "... d3's old files are gone");
($out, $n) = requests('d3', $Q);
is("$out/$n", "$N|$N/3", 'd3: the new server fetches');

# ===================================================================
# DROP SERVER, DROP USER MAPPING, ALTER SERVER in the current database
# ===================================================================
is(entries('d3'), 6, 'stats: six entries');
$node->safe_psql('d3', 'DROP USER MAPPING FOR CURRENT_USER SERVER s');
is(entries('d3'), 3, 'after DROP USER MAPPING: its three entries are not counted');
is(files($d3), 0, '... and deleted');
$node->safe_psql('postgres', "ALTER SERVER s OPTIONS (ADD connect_timeout '9')");
is(entries(), 0, 'after ALTER SERVER: the old version\'s entries are not counted');
($out, $n) = requests('postgres', $Q);
is("$out/$n", "$N|$N/3", 'postgres: fetched again');
is(entries(), 3, 'stats: the new three');
$node->safe_psql('postgres', 'DROP SERVER s CASCADE');
is(entries(), 0, 'after DROP SERVER CASCADE: none');
is(scalar(() = glob("$dir/*.entry")), 0, 'no entry file left');

done_testing();
