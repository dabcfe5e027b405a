// test/drivers/JdbcTest.java: rds_tasks through pgJDBC, the way JDBC tools
// (DBeaver, Metabase, Superset's JDBC siblings, Java services) query it.
//
// Compiled and run by test/drivers/run.sh:
//   javac -cp /usr/share/java/postgresql.jar -d DIR JdbcTest.java
//   java -Duser.timezone=ZONE -cp DIR:/usr/share/java/postgresql.jar JdbcTest
// Needs PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (a database set up by
// run.sh: rds_tasks and its local copy local_tasks) and RDS_SIM_HTTP.
//
// Every case runs its query over rds_tasks with the simulator's request log
// cleared first, then the same query (same driver, same parameter binding)
// over local_tasks, and asserts (a) the same rows and (b) the number of HTTP
// requests the simulator logged, from EXPECTED below.  It prints
// "ok N - ..." / "not ok N - ..." lines and "# requests CASE@ZONE = N".
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.*;
import java.time.*;
import java.util.*;

public class JdbcTest {
    // Expected HTTP requests per case: "case" for every session time zone,
    // "case@Zone" for one zone only (looked up first).  The data: 2000 tasks
    // at pages of 50, so 40 requests read the whole list; 'Running' is 1
    // page, 'Failed' 3, 'Completed' 38.  Every time value is pushed as
    // start_time/end_time: a timestamptz (setTimestamp, sent untyped, and
    // OffsetDateTime) as it is, a timestamp (LocalDateTime) or date
    // (LocalDate) converted in the session's TimeZone when the scan starts.
    static final Map<String, Integer> EXPECTED = new LinkedHashMap<>();
    static {
        EXPECTED.put("plain_statement", 3);              // status = 'Failed'
        EXPECTED.put("prepared_status=Running", 1);      // 12 executions of status = ?
        EXPECTED.put("prepared_status=Failed", 3);
        EXPECTED.put("prepared_status=Completed", 38);
        EXPECTED.put("generic_status=Running", 1);       // the same, force_generic_plan
        EXPECTED.put("generic_status=Failed", 3);
        EXPECTED.put("generic_status=Completed", 38);
        EXPECTED.put("any_array", 4);                    // status = ANY(?): Failed 3 + Running 1
        EXPECTED.put("metadata", 0);                     // DatabaseMetaData: the catalogs only
        EXPECTED.put("setTimestamp_ge", 29);             // pushed: start_time
        EXPECTED.put("LocalDateTime_lt", 28);            // timestamp: pushed
        EXPECTED.put("LocalDate_between", 16);           // date: pushed
        EXPECTED.put("OffsetDateTime_between", 17);      // pushed: start_time, end_time
        EXPECTED.put("LocalDateTime_dst_hour", 1);       // timestamp: pushed, one page
        EXPECTED.put("simple/setTimestamp_ge", 29);      // the same, preferQueryMode=simple
        EXPECTED.put("simple/LocalDateTime_lt", 28);
        EXPECTED.put("simple/LocalDate_between", 16);
        EXPECTED.put("simple/OffsetDateTime_between", 17);
        EXPECTED.put("simple/LocalDateTime_dst_hour", 1);
        EXPECTED.put("OffsetDateTime_prepared", 3);      // 7 executions, 2-day windows
        // the next three with parallel_requests 1: how far the default 4
        // read ahead when the scan stops depends on timing
        EXPECTED.put("fetchsize_first_fetch", 2);        // after the first 100 rows
        EXPECTED.put("fetchsize_all", 40);
        EXPECTED.put("maxrows", 3);                      // setMaxRows(120): pages 1-3
        EXPECTED.put("cursor_cancel", 9);                // pages 1-5, the 6th hangs, 3 more in flight
        EXPECTED.put("after_cursor_cancel", 3);
        EXPECTED.put("query_timeout", 1);                // the hanging request
        EXPECTED.put("after_query_timeout", 3);
        EXPECTED.put("cancel", 1);
        EXPECTED.put("after_cancel", 3);
    }

    static int n = 0, failed = 0;
    static String zone = ZoneId.systemDefault().getId();
    static final String SIM = System.getenv("RDS_SIM_HTTP");
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static boolean ok(boolean cond, String desc) {
        n++;
        if (!cond) failed++;
        System.out.println((cond ? "ok " : "not ok ") + n + " - jdbc " + zone + ": " + desc);
        return cond;
    }

    // -- the simulator's control API
    static String sim(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(SIM + path));
        if (method.equals("POST"))
            b.header("Content-Type", "application/json")
             .POST(HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200)
            throw new RuntimeException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }
    static void clearLog() throws Exception { sim("POST", "/_sim/log/clear", "{}"); }
    static List<String> log() throws Exception {
        List<String> l = new ArrayList<>();
        for (String s : sim("GET", "/_sim/log?format=text", null).split("\n"))
            if (!s.isBlank()) l.add(s);
        return l;
    }
    static void fault(String rule) throws Exception {
        sim("POST", "/_sim/faults", "{\"faults\": [" + rule + "]}");
    }
    static void clearFaults() throws Exception { sim("POST", "/_sim/faults/clear", "{}"); }

    // the request count of a case, asserted against EXPECTED
    static void requests(String name, int got, List<String> lines) {
        Integer want = EXPECTED.containsKey(name + "@" + zone) ? EXPECTED.get(name + "@" + zone)
                                                              : EXPECTED.get(name);
        System.out.println("# requests " + name + "@" + zone + " = " + got);
        if (!ok(want != null && want == got,
                name + ": " + got + " HTTP requests (expected " + want + ")"))
            for (String s : lines) System.out.println("#   " + s);
    }

    interface Binder { void bind(PreparedStatement ps) throws SQLException; }

    static List<String> rows(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        int cols = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 1; i <= cols; i++) sb.append(i > 1 ? "|" : "").append(rs.getString(i));
            out.add(sb.toString());
        }
        return out;
    }
    static List<String> tables(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next()) out.add(rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
        rs.close();
        Collections.sort(out);
        return out;
    }
    static List<String> query(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            List<String> r = rows(rs);
            Collections.sort(r);
            return r;
        }
    }
    static List<String> query(Connection c, String sql, Binder b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            b.bind(ps);
            return query(ps);
        }
    }

    // the plan's "Remote request:" line and Filter, for the log
    static void explain(Connection c, String sql, Binder b) {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN (VERBOSE, COSTS OFF) " + sql)) {
            b.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String l = rs.getString(1).trim();
                    if (l.startsWith("Remote request") || l.startsWith("Filter"))
                        System.out.println("#   " + l);
                }
            }
        } catch (SQLException e) {
            System.out.println("#   EXPLAIN failed: " + e.getMessage());
        }
    }

    // one case: rds_tasks vs local_tasks, and the request count
    static void check(Connection c, String name, String sql, Binder b) throws Exception {
        System.out.println("# " + name + ": " + sql);
        explain(c, sql, b);
        try {
            clearLog();
            List<String> got = query(c, sql, b);
            List<String> lines = log();
            List<String> want = query(c, sql.replace("rds_tasks", "local_tasks"), b);
            ok(got.equals(want), name + ": " + got.size() + " rows, same as local_tasks ("
               + want.size() + ")");
            requests(name, lines.size(), lines);
        } catch (SQLException e) {
            ok(false, name + ": " + e);
            ok(false, name + ": requests not counted");
        }
    }

    static Connection connect() throws SQLException {
        return connect(new Properties());
    }
    static Connection connect(Properties p) throws SQLException {
        String url = "jdbc:postgresql://" + env("PGHOST", "localhost") + ":" + env("PGPORT", "5432")
                + "/" + env("PGDATABASE", "postgres");
        p.setProperty("user", env("PGUSER", System.getProperty("user.name")));
        if (System.getenv("PGPASSWORD") != null) p.setProperty("password", System.getenv("PGPASSWORD"));
        p.setProperty("ApplicationName", "rds_task_fdw JdbcTest");
        return DriverManager.getConnection(url, p);
    }
    static String env(String k, String d) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() || v.startsWith("/") && k.equals("PGHOST") ? d : v;
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
    static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = connect()) {
            System.out.println("# " + c.getMetaData().getDriverName() + " "
                               + c.getMetaData().getDriverVersion() + ", Java " + System.getProperty("java.version"));
            ok(scalar(c, "SHOW TimeZone").equals(zone), "session TimeZone is the JVM's ("
               + scalar(c, "SHOW TimeZone") + ")");
            // the planner's one size-estimate request, outside the cases
            scalar(c, "EXPLAIN SELECT * FROM rds_tasks");
            clearFaults();

            // time bounds from the data: instants at the 30% and 70% marks
            Instant lo, hi;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT percentile_disc(0.3) WITHIN GROUP (ORDER BY create_time), "
                    + "percentile_disc(0.7) WITHIN GROUP (ORDER BY create_time) FROM local_tasks")) {
                rs.next();
                lo = rs.getObject(1, OffsetDateTime.class).toInstant();
                hi = rs.getObject(2, OffsetDateTime.class).toInstant();
            }
            System.out.println("# bounds " + lo + " .. " + hi);
            ZoneId z = ZoneId.systemDefault();

            // 1. a plain Statement
            System.out.println("# plain_statement");
            clearLog();
            List<String> got, want;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name, status, create_time FROM rds_tasks WHERE status = 'Failed'")) {
                got = rows(rs);
            }
            List<String> lines = log();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name, status, create_time FROM local_tasks WHERE status = 'Failed'")) {
                want = rows(rs);
            }
            Collections.sort(got);
            Collections.sort(want);
            ok(got.equals(want) && !got.isEmpty(), "plain_statement: " + got.size() + " rows, same as local_tasks");
            requests("plain_statement", lines.size(), lines);

            // 2. one PreparedStatement executed 12 times: pgJDBC switches to a
            // named server-side statement at the 5th execution
            // (prepareThreshold), PostgreSQL may choose its generic plan after
            // 5 custom ones; the parameter changes every time
            String[] values = {"Running", "Failed", "Completed"};
            String sql = "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ?";
            for (String mode : new String[] {"prepared", "generic"}) {
                if (mode.equals("generic"))
                    try (Statement st = c.createStatement()) {
                        st.execute("SET plan_cache_mode = force_generic_plan");
                    }
                System.out.println("# " + mode + "_status: " + sql);
                try (PreparedStatement fdw = c.prepareStatement(sql);
                     PreparedStatement loc = c.prepareStatement(sql.replace("rds_tasks", "local_tasks"))) {
                    for (int i = 1; i <= 12; i++) {
                        String v = values[i % 3];
                        fdw.setString(1, v);
                        loc.setString(1, v);
                        clearLog();
                        got = query(fdw);
                        lines = log();
                        want = query(loc);
                        ok(got.equals(want) && !got.isEmpty(), mode + "_status execution " + i + " ('" + v
                           + "'): " + got.size() + " rows, same as local_tasks");
                        requests(mode + "_status=" + v, lines.size(), lines);
                    }
                }
                if (mode.equals("generic"))
                    try (Statement st = c.createStatement()) {
                        st.execute("RESET plan_cache_mode");
                    }
            }

            // an array parameter: one request stream per value
            check(c, "any_array", "SELECT id, name, status FROM rds_tasks WHERE status = ANY(?)",
                  ps -> ps.setArray(1, c.createArrayOf("text", new String[] {"Failed", "Running"})));

            // what a JDBC tool's schema browser sees: getTables with the
            // types TABLE and VIEW leaves foreign tables out; the view
            // "tasks" (run.sh) is the way in
            System.out.println("# metadata: DatabaseMetaData.getTables/getColumns");
            clearLog();
            DatabaseMetaData md = c.getMetaData();
            List<String> tv = tables(md.getTables(null, "public", "%tasks", new String[] {"TABLE", "VIEW"}));
            List<String> all = tables(md.getTables(null, "public", "rds_tasks", null));
            int ncols = 0;
            try (ResultSet rs = md.getColumns(null, "public", "rds_tasks", null)) {
                while (rs.next()) ncols++;
            }
            lines = log();
            ok(tv.equals(List.of("local_tasks TABLE", "tasks VIEW")),
               "metadata: getTables(TABLE, VIEW) gives " + tv + ": no rds_tasks, the view tasks");
            ok(all.equals(List.of("rds_tasks FOREIGN TABLE")), "metadata: getTables(all types) gives " + all);
            ok(ncols == 11, "metadata: getColumns(rds_tasks) gives " + ncols + " columns");
            requests("metadata", lines.size(), lines);

            // 3. time parameters: the same instants as java.sql.Timestamp
            // (sent with an unspecified type), LocalDateTime (timestamp),
            // LocalDate (date), OffsetDateTime (timestamptz)
            // ... also with preferQueryMode=simple (pgbouncer setups, some
            // tools), where pgJDBC writes the values into the query text
            final Instant flo = lo, fhi = hi;
            Properties sp = new Properties();
            sp.setProperty("preferQueryMode", "simple");
            try (Connection simple = connect(sp)) {
                scalar(simple, "EXPLAIN SELECT * FROM rds_tasks");
                for (Connection cc : new Connection[] {c, simple}) {
                    String pre = cc == c ? "" : "simple/";
                    check(cc, pre + "setTimestamp_ge",
                          "SELECT id, status, create_time FROM rds_tasks WHERE create_time >= ?",
                          ps -> ps.setTimestamp(1, Timestamp.from(flo)));
                    check(cc, pre + "LocalDateTime_lt",
                          "SELECT id, status, create_time FROM rds_tasks WHERE create_time < ?",
                          ps -> ps.setObject(1, LocalDateTime.ofInstant(fhi, z)));
                    check(cc, pre + "LocalDate_between",
                          "SELECT id, status, create_time FROM rds_tasks WHERE create_time BETWEEN ? AND ?",
                          ps -> {
                              ps.setObject(1, LocalDate.ofInstant(flo, z));
                              ps.setObject(2, LocalDate.ofInstant(fhi, z));
                          });
                    check(cc, pre + "OffsetDateTime_between",
                          "SELECT id, status, create_time FROM rds_tasks WHERE create_time BETWEEN ? AND ?",
                          ps -> {
                              ps.setObject(1, flo.atOffset(ZoneOffset.UTC));
                              ps.setObject(2, fhi.atOffset(ZoneOffset.ofHoursMinutes(5, 30)));
                          });
                    // the hour 02:00-03:00 of 2025-10-26 happens twice in Europe/Berlin
                    check(cc, pre + "LocalDateTime_dst_hour",
                          "SELECT id, status, create_time FROM rds_tasks WHERE create_time >= ? AND create_time < ?",
                          ps -> {
                              ps.setObject(1, LocalDateTime.of(2025, 10, 26, 0, 30));
                              ps.setObject(2, LocalDateTime.of(2025, 10, 26, 3, 30));
                          });
                }
            }

            // a time window moving with each execution of one statement
            sql = "SELECT id, status, create_time FROM rds_tasks WHERE create_time >= ? AND create_time < ?";
            System.out.println("# OffsetDateTime_prepared: " + sql);
            try (PreparedStatement fdw = c.prepareStatement(sql);
                 PreparedStatement loc = c.prepareStatement(sql.replace("rds_tasks", "local_tasks"))) {
                for (int i = 1; i <= 7; i++) {
                    OffsetDateTime a = lo.plus(Duration.ofHours(12L * i)).atOffset(ZoneOffset.ofHours(1));
                    OffsetDateTime b = a.plusDays(2);
                    fdw.setObject(1, a); fdw.setObject(2, b);
                    loc.setObject(1, a); loc.setObject(2, b);
                    clearLog();
                    got = query(fdw);
                    lines = log();
                    want = query(loc);
                    ok(got.equals(want) && !got.isEmpty(), "OffsetDateTime_prepared execution " + i + ": "
                       + got.size() + " rows, same as local_tasks");
                    requests("OffsetDateTime_prepared", lines.size(), lines);
                }
            }

            // 4. setFetchSize with autocommit off: a cursor, read in fetches of 100
            System.out.println("# fetchsize: SELECT * FROM rds_tasks, fetch size 100, parallel_requests 1");
            execute(c, "ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD parallel_requests '1')");
            c.setAutoCommit(false);
            int fetches = 0;
            try (Statement st = c.createStatement()) {
                st.setFetchSize(100);
                clearLog();
                got = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("SELECT * FROM rds_tasks")) {
                    int cols = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        if (got.size() % 100 == 0) fetches++;
                        StringBuilder sb = new StringBuilder();
                        for (int i = 1; i <= cols; i++) sb.append(i > 1 ? "|" : "").append(rs.getString(i));
                        got.add(sb.toString());
                        if (got.size() == 100) {        // the first fetch only: pages are read lazily
                            lines = log();
                            requests("fetchsize_first_fetch", lines.size(), lines);
                        }
                    }
                }
                lines = log();
                try (ResultSet rs = st.executeQuery("SELECT * FROM local_tasks")) {
                    want = rows(rs);
                }
            }
            c.commit();
            c.setAutoCommit(true);
            ok(got.equals(want) && got.size() > 1000, "fetchsize: " + got.size() + " rows in "
               + fetches + " fetches, same as local_tasks in the same order");
            requests("fetchsize_all", lines.size(), lines);

            // setMaxRows, as DBeaver's and other tools' result limits: the
            // driver asks for no more rows, the scan stops reading pages
            System.out.println("# maxrows: SELECT * FROM rds_tasks, setMaxRows(120), parallel_requests 1");
            try (Statement st = c.createStatement()) {
                st.setMaxRows(120);
                clearLog();
                try (ResultSet rs = st.executeQuery("SELECT * FROM rds_tasks")) {
                    got = rows(rs);
                }
                lines = log();
                try (ResultSet rs = st.executeQuery("SELECT * FROM local_tasks")) {
                    want = rows(rs);
                }
            }
            ok(got.equals(want) && got.size() == 120, "maxrows: " + got.size()
               + " rows, the first 120 of local_tasks in the same order");
            requests("maxrows", lines.size(), lines);
            execute(c, "ALTER FOREIGN TABLE rds_tasks OPTIONS (DROP parallel_requests)");

            // a cancel while a cursor's FETCH waits for a page: the 6th page
            // (offset 250; pages are requested in parallel, so not
            // necessarily the 6th request to arrive) hangs, the canceled transaction rolls back.  pgJDBC's
            // Statement.cancel() does nothing while ResultSet.next() fetches
            // (the statement counts as idle then): PGConnection.cancelQuery()
            System.out.println("# cursor_cancel: fetch size 100, the 6th page request hangs");
            clearFaults();
            fault("{\"kind\": \"hang\", \"seconds\": 30, \"params\": {\"offset\": \"250\"}}");
            c.setAutoCommit(false);
            String cstate = null;
            int read = 0;
            long ct0 = 0;
            try (Statement st = c.createStatement()) {
                st.setFetchSize(100);
                clearLog();
                Thread canceller = null;
                try (ResultSet rs = st.executeQuery("SELECT * FROM rds_tasks")) {
                    while (rs.next()) {
                        if (++read == 200) {            // the next fetch needs page 5 and 6
                            ct0 = System.nanoTime();
                            canceller = new Thread(() -> {
                                try {
                                    Thread.sleep(1000);
                                    c.unwrap(org.postgresql.PGConnection.class).cancelQuery();
                                } catch (Exception e) {
                                    System.out.println("# cancel failed: " + e);
                                }
                            });
                            canceller.start();
                        }
                    }
                } catch (SQLException e) {
                    cstate = e.getSQLState();
                    System.out.println("# cursor_cancel: " + e.getMessage() + " after " + read + " rows");
                }
                if (canceller != null) canceller.join();
            }
            double csecs = (System.nanoTime() - ct0) / 1e9;
            c.rollback();
            c.setAutoCommit(true);
            ok("57014".equals(cstate) && read < 2000, "cursor_cancel: the fetch was canceled (SQLSTATE "
               + cstate + ") after " + read + " rows");
            ok(ct0 != 0 && csecs < 3.0, String.format("cursor_cancel: it ended %.2f s after the last fetch began", csecs));
            Thread.sleep(300);
            lines = log();
            requests("cursor_cancel", lines.size(), lines);
            clearFaults();
            check(c, "after_cursor_cancel",
                  "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ?",
                  ps -> ps.setString(1, "Failed"));

            // 5. setQueryTimeout and Statement.cancel() while the simulator hangs
            for (String how : new String[] {"query_timeout", "cancel"}) {
                System.out.println("# " + how + ": the first request hangs");
                clearFaults();
                fault("{\"kind\": \"hang\", \"seconds\": 30}");
                clearLog();
                long t0 = System.nanoTime();
                String state = null;
                try (Statement st = c.createStatement()) {
                    Thread canceller = null;
                    if (how.equals("query_timeout")) {
                        st.setQueryTimeout(1);
                    } else {
                        canceller = new Thread(() -> {
                            try {
                                Thread.sleep(1000);
                                st.cancel();
                            } catch (Exception e) {
                                System.out.println("# cancel failed: " + e);
                            }
                        });
                        canceller.start();
                    }
                    try (ResultSet rs = st.executeQuery("SELECT id, name, status, create_time FROM rds_tasks WHERE status = 'Failed'")) {
                        rows(rs);
                    } catch (SQLException e) {
                        state = e.getSQLState();
                        System.out.println("# " + how + ": " + e.getMessage());
                    }
                    if (canceller != null) canceller.join();
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                ok("57014".equals(state), how + ": the query was canceled (SQLSTATE " + state + ")");
                ok(secs < 3.0, how + String.format(": it ended %.2f s after it started (1 s timeout/cancel)", secs));
                Thread.sleep(300);              // the simulator notices the closed connection
                lines = log();
                requests(how, lines.size(), lines);
                clearFaults();
                ok("1".equals(scalar(c, "SELECT 1")), how + ": the connection is usable afterwards");
                check(c, "after_" + how,
                      "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ?",
                      ps -> ps.setString(1, "Failed"));
            }
        }
        System.out.println("# jdbc " + zone + ": " + (n - failed) + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
