# t/013_combinations.pl: every read path under every combination of the
# things that change how a request is made and answered.
#
#   auth      token (auth_token), IAM password (user_name/password/
#             domain_name, the simulator's IAM), AK/SK (access_key/secret_key)
#   cache     cache_ttl 0 and 300
#   session   a new session (its first query; the cache cleared before it),
#             then a second new session (cache warm), each running the query
#             as its first statement and once more as a later one
#   path      plain scan (status pushed), IN list (one stream per
#             instance_id), a nested-loop join with a local table (one
#             stream per outer row), count(*), count(*) GROUP BY status,
#             count(*) GROUP BY a month bucket (bucket.c), the time-window
#             search, ANALYZE (pg_class.reltuples), a scan of the raw jsonb
#             column (pages that keep each task's JSON: cache entries of
#             their own)
#
# Each run's rows are compared with the same query over a local copy of the
# simulator's data set; its tasklist requests with what the cell should send
# (cache on: an identical request is a hit, so nothing; the search and
# ANALYZE read the API); the requests' shape with the read path intended,
# and EXPLAIN (VERBOSE) of each path with its "Pushed down:" and "Remote
# request:" lines.
use strict;
use warnings;

use File::Spec;
use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RdsTest;
use Test::More;
use Time::HiRes qw(time);

my $N = 500;    # tasks: ten pages of 50
my $PAGES = 10;
my $TOKEN = 'tok-combo-0001';
my ($USER, $PW, $DOMAIN) = ('alice', 'alice-Combo-pw1', 'OTC-DOMAIN-1');
my ($AK, $SK) = ('AKCOMBOEXAMPLE000001', 'SKcomboExampleSecretKey00000000000001');

my $t_start = time;
my $sim = RdsTest::Sim->start(
	'--tasks', $N, '--token', $TOKEN,
	'--user', "$USER:$PW:$DOMAIN",
	'--aksk', "$AK:$SK");
my $node = new_node('combinations');
my $url = $sim->url;

my %auth = (
	token => "auth_token '$TOKEN'",
	iam => "user_name '$USER', password '$PW', domain_name '$DOMAIN'",
	aksk => "access_key '$AK', secret_key '$SK'");
my @auths = qw(token iam aksk);

# per auth method a server (IAM: the simulator's, named explicitly), and
# two tables: cache off (<auth>_tasks) and on (<auth>_cached), each also
# with a raw column (<auth>_tasks_raw, <auth>_cached_raw)
for my $a (@auths)
{
	my $srv = $a eq 'iam' ? "auth_url '$url/v3'" : '';
	create_server($node, $a, $sim, $srv, $auth{$a});
	$node->safe_psql(
		'postgres', qq{
CREATE FOREIGN TABLE ${a}_cached (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text
) SERVER $a OPTIONS (cache_ttl '300');
CREATE FOREIGN TABLE ${a}_tasks_raw (id text, status text, raw jsonb) SERVER $a;
CREATE FOREIGN TABLE ${a}_cached_raw (id text, status text, raw jsonb)
  SERVER $a OPTIONS (cache_ttl '300');
});
}

# the local copy: the simulator's own data set, not read through the FDW
my $csv = $sim->ctl('GET', 'dataset?format=csv');
# (absolute: on 17 and later tempdir() is relative to the test's directory,
# and the server reads the file from its data directory)
my $csv_file = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('combo')) . '/tasks.csv';
open(my $fh, '>', $csv_file) or die "$csv_file: $!";
print $fh $csv;
close $fh;
chmod 0644, $csv_file;
$node->safe_psql(
	'postgres', qq{
CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
COPY local_tasks FROM '$csv_file' WITH (FORMAT csv);
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM local_tasks'), $N, "local copy: $N tasks");

# three instances with a few tasks each, for the IN list
my @inst = split /\n/, $node->safe_psql('postgres', q{
SELECT instance_id FROM local_tasks GROUP BY instance_id
 HAVING count(*) BETWEEN 3 AND 60 ORDER BY count(*) DESC, instance_id LIMIT 3});
is(scalar @inst, 3, 'three instances for the IN list');
my $in = join(', ', map { "'$_'" } @inst);
$node->safe_psql('postgres',
	"CREATE TABLE inventory (instance_id text); INSERT INTO inventory VALUES ("
	  . join('), (', map { "'$_'" } @inst) . '); ANALYZE inventory');

# the requests of an IN list or a join: one stream per instance, no other
my $asks_each_instance = sub {
	my ($log) = @_;
	my %seen;
	$seen{ $_->{params}{instance_id} // '' }++ for @$log;
	return join(',', sort keys %seen) eq join(',', sort @inst);
};

# the days of the list, the bucket path's bounds (without an upper one the
# buckets would reach the month of now)
my ($lower, $upper) = split /\|/, $node->safe_psql('postgres',
	"SELECT date_trunc('day', min(create_time)), date_trunc('day', max(create_time)) + interval '1 day'"
	  . " FROM local_tasks");

# the read paths: the query (TBL replaced by the table), its EXPLAIN
# (VERBOSE) assertions, and a check of the requests of a run that sent some
# the requests of the scan of status 'Completed' (plain or raw): no other
my $asks_completed = sub {
	my ($log) = @_;
	return !grep { ($_->{params}{status} // '') ne 'Completed' } @$log;
};
my %paths = (
	scan => {
		sql => q{SELECT * FROM TBL WHERE status = 'Completed' ORDER BY id},
		explain => [
			qr{Remote request: GET /v3/\w+/tasklist\?status=Completed&offset=0&limit=50$}m
		],
		unexplain => [qr/Pushed down:/, qr/Filter:/],
		log => $asks_completed,
	},
	in => {
		sql => "SELECT * FROM TBL WHERE instance_id IN ($in) ORDER BY id",
		explain => [
			map {
				qr{Remote request: GET /v3/\w+/tasklist\?instance_id=$_&offset=0&limit=50$}m
			} @inst
		],
		unexplain => [qr/Pushed down:/],
		log => $asks_each_instance,
	},
	join => {
		sql => 'SELECT t.* FROM inventory i JOIN TBL t ON t.instance_id = i.instance_id ORDER BY t.id',
		explain => [
			qr/Nested Loop/,
			qr{Remote request: GET /v3/\w+/tasklist\?instance_id=(\$\d+|<run-time>)&offset=0&limit=50$}m
		],
		unexplain => [qr/Pushed down:/],
		log => $asks_each_instance,
	},
	count => {
		sql => 'SELECT count(*) FROM TBL',
		explain => [
			qr/Pushed down: count\(\*\) from total_count$/m,
			qr{Remote request: GET /v3/\w+/tasklist\?offset=0&limit=1$}m
		],
		log => sub {
			my ($log) = @_;
			return @$log == 1 && $log->[0]{params}{limit} eq '1';
		},
	},
	group => {
		sql => 'SELECT status, count(*) FROM TBL GROUP BY status ORDER BY status',
		explain => [
			qr/Pushed down: count\(\*\) GROUP BY status from total_count$/m,
			map { qr{Remote request: GET /v3/\w+/tasklist\?status=$_&offset=0&limit=1 \(group\)$}m }
			  qw(Running Completed Failed)
		],
		log => sub {
			my ($log) = @_;
			my @groups = grep { ($_->{params}{limit} // '') eq '1' && $_->{params}{status} } @$log;
			return @groups == 3 && @$log < $PAGES;
		},
	},
	bucket => {
		# a literal bound: a count's stored result is keyed by its bounds
		sql => "SELECT date_trunc('month', create_time, 'Europe/Berlin') AS m, count(*) FROM TBL"
		  . " WHERE create_time >= '$lower' AND create_time < '$upper' GROUP BY 1 ORDER BY 1",
		explain => [
			qr/Pushed down: count\(\*\) GROUP BY date_trunc\('month', create_time, 'Europe\/Berlin'\) from total_count$/m,
			qr{Remote request: GET /v3/\w+/tasklist\?start_time=<bucket start>&end_time=<bucket end>&offset=0&limit=1 }m
		],
		log => sub {
			my ($log) = @_;
			return (grep { defined $_->{params}{start_time} } @$log) >= 2 && @$log < $PAGES;
		},
	},
	search => {
		sql => 'SELECT id, create_time FROM TBL ORDER BY create_time DESC, id LIMIT 10',
		explain => [qr/Pushed down: ORDER BY create_time DESC LIMIT 10 \(time-window search\)$/m],
		log => sub {
			my ($log) = @_;
			return (grep { defined $_->{params}{start_time} } @$log) && @$log < $PAGES;
		},
	},
	raw => {
		sql => q{SELECT id, raw->>'name', nullif(raw->>'create_time', '')::timestamptz, raw->>'process'}
		  . q{ FROM TBL_raw WHERE status = 'Completed' ORDER BY id},
		local => q{SELECT id, name, create_time, process FROM local_tasks}
		  . q{ WHERE status = 'Completed' ORDER BY id},
		explain => [
			qr{Remote request: GET /v3/\w+/tasklist\?status=Completed&offset=0&limit=50$}m
		],
		unexplain => [qr/Pushed down:/, qr/Filter:/],
		log => $asks_completed,
	},
	analyze => {
		sql => 'ANALYZE TBL',
		check => "SELECT reltuples::bigint FROM pg_class WHERE oid = 'TBL'::regclass",
		expected => $N,
		log => sub {
			my ($log) = @_;
			my @pages = grep { ($_->{params}{limit} // '') eq '50' } @$log;
			return ($log->[0]{params}{limit} // '') eq '1' && @pages == $PAGES;
		},
	},
);
my @paths = qw(scan in join count group bucket search raw analyze);

for my $p (@paths)
{
	(my $local = $paths{$p}{local} // $paths{$p}{sql}) =~ s/TBL/local_tasks/g;
	$paths{$p}{expected} //= $node->safe_psql('postgres', $local);
	$paths{$p}{cacheable} = $p ne 'search' && $p ne 'analyze';
}
like($paths{group}{expected}, qr/^Completed\|\d+\nFailed\|\d+\nRunning\|\d+$/,
	'local copy: three statuses');
cmp_ok(scalar(() = $paths{in}{expected} =~ /\n/g), '>=', 8, 'IN list: several rows');

my $ctl = RdsTest::Session->new($node);

# ===================================================================
# EXPLAIN: each query takes the read path it is meant to test
# ===================================================================
for my $a (@auths)
{
	for my $tbl ("${a}_tasks", "${a}_cached")
	{
		for my $p (grep { $_ ne 'analyze' } @paths)
		{
			(my $sql = $paths{$p}{sql}) =~ s/TBL/$tbl/g;
			my ($plan, $err) = $ctl->query("EXPLAIN (VERBOSE, COSTS OFF) $sql");
			note "$tbl $p:\n$plan" if $a eq 'token';
			my @miss = grep { $plan !~ $_ } @{ $paths{$p}{explain} };
			push @miss, grep { $plan =~ $_ } @{ $paths{$p}{unexplain} // [] };
			ok(!@miss && $err eq '', "$tbl $p: EXPLAIN shows the intended path")
			  or diag "plan:\n$plan\n$err\nmissing or unwanted: @miss";
		}
	}
}

# ===================================================================
# the runs
# ===================================================================

# run(SESSION, SQL, CHECK): (result, stderr, tasklist log, IAM requests)
sub run
{
	my ($s, $sql, $check) = @_;
	$sim->clear_log;
	my ($out, $err) = $s->query($sql);
	my $log = $sim->log;
	($out, my $err2) = $s->query($check) if defined $check && $err eq '';
	$err .= $err2 // '';
	my @tl = grep { $_->{path} =~ m{/tasklist$} } @$log;
	my $iam = grep { $_->{path} =~ m{/auth/tokens$} } @$log;
	return ($out, $err, \@tl, $iam);
}

sub rows { my ($t) = @_; return $t eq '' ? 0 : scalar(() = $t =~ /^/mg) }

# the requests of a run that the cache does not answer: the pages of each
# stream, one limit=1 request for count(*), the first page and a limit=1
# request per status for the groups, 1 + the pages for ANALYZE; the
# search's, as the first run found them (its log check bounds them)
my $pages_of = q{SELECT sum(ceil(c / 50.0))::int FROM (SELECT count(*) AS c FROM local_tasks
 WHERE %s GROUP BY %s) x};
my %cold = (
	scan => $node->safe_psql('postgres',
		sprintf($pages_of, "status = 'Completed'", 'status')),
	raw => $node->safe_psql('postgres',
		sprintf($pages_of, "status = 'Completed'", 'status')),
	in => $node->safe_psql('postgres', sprintf($pages_of, "instance_id IN ($in)", 'instance_id')),
	count => 1,
	group => 4,
	analyze => 1 + $PAGES);
$cold{join} = $cold{in};
my @failed;
for my $a (@auths)
{
	for my $cache (0, 1)
	{
		my $tbl = $cache ? "${a}_cached" : "${a}_tasks";
		for my $p (@paths)
		{
			my $path = $paths{$p};
			(my $sql = $path->{sql}) =~ s/TBL/$tbl/g;
			my $check;
			($check = $path->{check}) =~ s/TBL/$tbl/g if $path->{check};
			$ctl->query('SELECT rds_task_fdw_cache_clear()');
			for my $round (1, 2)
			{
				my $s = RdsTest::Session->new($node);
				for my $pos ('first', 'later')
				{
					my $cell = "$a/cache " . ($cache ? 'on' : 'off') . "/session $round/$pos/$p";
					# ANALYZE must set what it is checked for
					$ctl->query("UPDATE pg_class SET reltuples = -1 WHERE oid = '$tbl'::regclass")
					  if $p eq 'analyze';
					my ($out, $err, $log, $iam) = run($s, $sql, $check);
					my $n = scalar @$log;
					my @ok;
					push @ok, ok($out eq $path->{expected}, "$cell: same rows as the local copy");
					diag 'got ' . rows($out) . ' rows, expected ' . rows($path->{expected})
					  . ($err ne '' ? ", stderr: $err" : '')
					  unless $ok[-1];

					# the requests: cache off or a cold cache: the path's
					# requests; a warm cache: none (the search and ANALYZE
					# always read the API)
					$cold{$p} //= $n;
					my $warm = $cache && $path->{cacheable} && !($round == 1 && $pos eq 'first');
					my $want = $warm ? 0 : $cold{$p};
					push @ok, is($n, $want, "$cell: $want tasklist requests");
					push @ok, ok($path->{log}->($log), "$cell: the requests are the path's")
					  if $n > 0;
					if ($a eq 'iam')
					{
						# a backend fetches its token once, when it first sends
						my $want = $pos eq 'later' ? 0 : $n > 0 ? 1 : undef;
						push @ok,
						  defined $want
						  ? is($iam, $want, "$cell: $want IAM token requests")
						  : cmp_ok($iam, '<=', 1, "$cell: at most one IAM token request");
					}
					my $ok = !grep { !$_ } @ok;
					push @failed, $cell unless $ok;
					note "$cell: requests " . join(' ', map { $_->{query} } @$log)
					  unless $ok;
				}
				$s->quit;
			}
		}
	}
}
cmp_ok($cold{search}, '>', 0, "search: a run sends requests ($cold{search})");
diag 'failed cells: ' . join(', ', @failed) if @failed;
$ctl->quit;

note sprintf('combinations: %.1f s', time - $t_start);
done_testing();
