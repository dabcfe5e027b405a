# t/016_federation.pl: a central reporting database that reaches the ops
# database, where rds_task_fdw runs, through postgres_fdw (README, "BI tools
# and drivers", "Through postgres_fdw").
#
#   ops        rds_task_fdw and the simulator (2,000 tasks up to now); the
#              recipe's views in schema reporting: tasks (every task),
#              tasks_7d and tasks_24h (the window inside the view)
#   central    postgres_fdw: server ops_plain (the defaults) and server ops
#              (the recipe: use_remote_estimate 'true', fetch_size '50'),
#              each with schema reporting imported; a small inventory table;
#              server ops_bigfetch (fetch_size '10000') for the fetch_size case
#
# For each query of the recipe: its rows through postgres_fdw equal the same
# question asked on the ops database directly, and its requests (the
# simulator's log) are at most the direct query's.  The same question without
# the recipe (the window written on the central side, where postgres_fdw
# cannot ship now(); the join through the server without remote estimates)
# is printed as a note.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;

my $N = 2000;    # 40 pages
my $TOKEN = 'tok-federation-0001';

my $pg_share = `pg_config --sharedir`;
chomp $pg_share;
plan skip_all => "postgres_fdw is not installed ($pg_share/extension)"
  unless -f "$pg_share/extension/postgres_fdw.control";

my $sim = RdsTest::Sim->start('--tasks', $N, '--token', $TOKEN, '--base-time', 'now');
my $ops = new_node('ops');
my $url = $sim->url;

# ===================================================================
# the ops side: rds_tasks, and the views of the recipe
# ===================================================================
$ops->safe_psql(
	'postgres', qq{
CREATE SERVER otc FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$url', project_id '$PROJECT');
CREATE USER MAPPING FOR CURRENT_USER SERVER otc OPTIONS (auth_token '$TOKEN');
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER otc INTO public;
CREATE SCHEMA reporting;
CREATE VIEW reporting.tasks AS SELECT * FROM public.rds_tasks;
CREATE VIEW reporting.tasks_7d AS
  SELECT * FROM public.rds_tasks WHERE create_time > now() - interval '7 days';
CREATE VIEW reporting.tasks_24h AS
  SELECT * FROM public.rds_tasks WHERE create_time > now() - interval '24 hours';
});

# three instances with a few tasks each: the inventory (on both sides, so
# that the direct query is the same join)
my @inst = split /\n/, $ops->safe_psql(
	'postgres', q{
SELECT instance_id FROM rds_tasks GROUP BY instance_id
 HAVING count(*) BETWEEN 3 AND 60 ORDER BY count(*) DESC, instance_id LIMIT 3});
is(scalar @inst, 3, 'three instances for the inventory');
my $inventory = qq{
CREATE TABLE inventory (instance_id text PRIMARY KEY, team text);
INSERT INTO inventory VALUES }
  . join(', ', map { "('$inst[$_]', 'team-" . ($_ % 2) . "')" } 0 .. $#inst) . q{;
ANALYZE inventory;
};
$ops->safe_psql('postgres', $inventory);

# ===================================================================
# the central side: postgres_fdw, without and with the recipe
# ===================================================================
my $central = PostgreSQL::Test::Cluster->new('central');
$central->init;
$central->start;
my ($host, $port) = ($ops->host, $ops->port);
$central->safe_psql(
	'postgres', qq{
CREATE EXTENSION postgres_fdw;
CREATE SERVER ops_plain FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '$host', port '$port', dbname 'postgres');
CREATE SERVER ops FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '$host', port '$port', dbname 'postgres',
           use_remote_estimate 'true', fetch_size '50');
CREATE USER MAPPING FOR CURRENT_USER SERVER ops_plain;
CREATE USER MAPPING FOR CURRENT_USER SERVER ops;
CREATE SCHEMA ops_plain;
CREATE SCHEMA ops;
IMPORT FOREIGN SCHEMA reporting FROM SERVER ops_plain INTO ops_plain;
IMPORT FOREIGN SCHEMA reporting FROM SERVER ops INTO ops;
$inventory
});
is( $central->safe_psql('postgres',
		"SELECT string_agg(foreign_table_name, ',' ORDER BY 1) FROM information_schema.foreign_tables"
		  . " WHERE foreign_table_schema = 'ops'"),
	'tasks,tasks_24h,tasks_7d',
	'central: the ops views imported');

# requests(NODE, SQL): (result, tasklist requests the simulator received)
sub requests
{
	my ($node, $sql) = @_;
	$sim->clear_log;
	my $out = $node->safe_psql('postgres', $sql);
	return ($out, scalar @{ $sim->tasklist });
}

# check(NAME, DIRECT, RECIPE, WITHOUT): DIRECT on ops, RECIPE and WITHOUT
# on central; rows equal, RECIPE's requests <= DIRECT's
sub check
{
	my ($name, $direct, $recipe, $without) = @_;
	my ($want, $nd) = requests($ops, $direct);
	my ($got, $nr) = requests($central, $recipe);
	my ($plain, $nw) = requests($central, $without);
	my $rows = () = $want =~ /\n/g;
	isnt($want, '', "$name: the direct query returns rows");
	is($got, $want, "$name: rows through postgres_fdw equal the direct query's (" . ($rows + 1) . ' rows)');
	is($plain, $want, "$name: rows without the recipe equal them too");
	cmp_ok($nr, '<=', $nd, "$name: with the recipe $nr requests, direct $nd");
	diag sprintf('federation: %-34s direct %3d, recipe %3d, without the recipe %3d',
		$name, $nd, $nr, $nw);
	return;
}

# ===================================================================
# the window inside the ops view: postgres_fdw ships no now()
# ===================================================================
check(
	'count, last 7 days',
	q{SELECT count(*) FROM rds_tasks WHERE create_time > now() - interval '7 days'},
	q{SELECT count(*) FROM ops.tasks_7d},
	q{SELECT count(*) FROM ops_plain.tasks WHERE create_time > now() - interval '7 days'});

check(
	'tasks per status, last 7 days',
	q{SELECT status, count(*) FROM rds_tasks WHERE create_time > now() - interval '7 days'
	   GROUP BY status ORDER BY status},
	q{SELECT status, count(*) FROM ops.tasks_7d GROUP BY status ORDER BY status},
	q{SELECT status, count(*) FROM ops_plain.tasks WHERE create_time > now() - interval '7 days'
	   GROUP BY status ORDER BY status});

check(
	'failed tasks, last 24 hours',
	q{SELECT id, name, instance_name, fail_reason, create_time FROM rds_tasks
	   WHERE create_time > now() - interval '24 hours' AND status = 'Failed' ORDER BY id},
	q{SELECT id, name, instance_name, fail_reason, create_time FROM ops.tasks_24h
	   WHERE status = 'Failed' ORDER BY id},
	q{SELECT id, name, instance_name, fail_reason, create_time FROM ops_plain.tasks
	   WHERE create_time > now() - interval '24 hours' AND status = 'Failed' ORDER BY id});

# a constant window is shipped either way (the central side's literal)
my $since = $ops->safe_psql('postgres', q{SELECT (now() - interval '7 days')::text});
check(
	'tasks since a literal time',
	qq{SELECT id, status FROM rds_tasks WHERE create_time > '$since' ORDER BY id},
	qq{SELECT id, status FROM ops.tasks WHERE create_time > '$since' ORDER BY id},
	qq{SELECT id, status FROM ops_plain.tasks WHERE create_time > '$since' ORDER BY id});

# ===================================================================
# a join with a small table on the central side: with remote estimates
# postgres_fdw plans a nested loop, one remote query per inventory row
# ===================================================================
like(
	$central->safe_psql('postgres', q{EXPLAIN (VERBOSE, COSTS OFF)
SELECT i.team, t.id, t.status FROM inventory i JOIN ops.tasks t ON t.instance_id = i.instance_id}),
	qr/Nested Loop.*Remote SQL: .*WHERE \(\((\$1::text = instance_id|instance_id = \$1::text)\)\)/s,
	'join: a parameterized remote scan with use_remote_estimate');
check(
	'join with the inventory',
	q{SELECT i.team, t.id, t.status FROM inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id
	   ORDER BY t.id},
	q{SELECT i.team, t.id, t.status FROM inventory i JOIN ops.tasks t ON t.instance_id = i.instance_id
	   ORDER BY t.id},
	q{SELECT i.team, t.id, t.status FROM inventory i JOIN ops_plain.tasks t ON t.instance_id = i.instance_id
	   ORDER BY t.id});

# ===================================================================
# fetch_size: a LIMIT postgres_fdw cannot ship (a condition only the
# central side can evaluate: a PL/pgSQL function, which is not inlined)
# reads as many rows as one fetch asks for
# ===================================================================
$central->safe_psql('postgres', q{
CREATE FUNCTION central_only(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN $1 < '8'; END $$;
CREATE SERVER ops_bigfetch FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '} . $host . q{', port '} . $port . q{', dbname 'postgres', fetch_size '10000');
CREATE USER MAPPING FOR CURRENT_USER SERVER ops_bigfetch;
CREATE SCHEMA ops_bigfetch;
IMPORT FOREIGN SCHEMA reporting LIMIT TO (tasks) FROM SERVER ops_bigfetch INTO ops_bigfetch;
});
$ops->safe_psql('postgres',
	q{CREATE FUNCTION central_only(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN $1 < '8'; END $$});
# the first five rows in the list's order whose id passes the local check
# (compared as counts: which five depends on the order rows arrive in)
check(
	'five rows, a condition not shipped',
	q{SELECT count(*) FROM (SELECT id FROM rds_tasks WHERE central_only(id) LIMIT 5) s},
	q{SELECT count(*) FROM (SELECT id FROM ops.tasks WHERE central_only(id) LIMIT 5) s},
	q{SELECT count(*) FROM (SELECT id FROM ops_bigfetch.tasks WHERE central_only(id) LIMIT 5) s});

done_testing();
