//! A real PostgreSQL server for tests, started by the tests themselves: one server per test binary
//! ([`TestServer::shared`]), a fresh database per test ([`TestServer::database`], [`TestServer::store`]).
//!
//! How it runs: the server binaries (`initdb`, `pg_ctl`, `postgres`) are looked up in `ROSTER_PG_BIN`, on `PATH` and in
//! `/usr/lib/postgresql/*/bin` (the newest version); `scripts/setup-test-deps` installs them when missing. initdb
//! refuses to run as root, so as root the server runs as the unprivileged system user `roster-pg` (created with
//! `useradd --system` when missing) through `setpriv` (or `runuser`). The cluster lives in a fresh directory under
//! the temporary directory, with trust authentication, listening on 127.0.0.1 on a free port and on a Unix socket
//! in its own directory only, `fsync` off (benchmarks use [`TestServer::start_durable`], with it on). A small shell (the guardian) starts it with `pg_ctl start -w`, says when
//! it accepts connections, and waits on its standard input, a pipe from the test process: when the test process ends, however it ends, the pipe closes and the
//! guardian stops the server (fast shutdown) and removes the directory. So a server kept in a `static` is stopped
//! too, though statics are never dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::PgStore;

/// The unprivileged user the server runs as when the tests run as root.
const USER: &str = "roster-pg";
/// What the guardian runs: `$1` the directory of the server binaries, `$2` the cluster's directory (the data
/// directory is its `data`), `$3` the port, `$4` more server options ([`FAST`] or [`DURABLE`]). It starts the server and waits until it accepts connections
/// (`pg_ctl start -w`), says `ready` (or why not) on its standard output, then waits for its standard input to
/// close, stops the server and removes the directory.
const GUARDIAN: &str = r#"
options="-p $3 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$2 -c max_connections=300 $4"
if ! "$1/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 60 -o "$options" start >/dev/null 2>&1; then
  echo "failed"; cat "$2/server.log"; rm -rf "$2"; exit 1
fi
echo ready
read -r line
"$1/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$2"
"#;

/// The tests' settings: nothing is written durably (a test's data dies with the test), small buffers.
const FAST: &str = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB";
/// Benchmarks' settings: PostgreSQL's durable defaults (every commit flushed), buffers of a small production server.
const DURABLE: &str = "-c shared_buffers=512MB -c max_wal_size=4GB";

/// A running PostgreSQL cluster for tests. Dropping it stops the server and removes its directory.
pub struct TestServer {
    port: u16,
    directory: PathBuf,
    /// The guardian's standard input: closing it stops the server.
    stdin: Mutex<Option<ChildStdin>>,
    guardian: Mutex<Child>,
    /// The number of the next database.
    next: AtomicUsize,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("port", &self.port).field("directory", &self.directory).finish()
    }
}

impl TestServer {
    /// The server of this test binary, started on first use. Panics, saying what to do, when it cannot start.
    pub fn shared() -> &'static TestServer {
        static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
        match SERVER.get_or_init(TestServer::start) {
            Ok(server) => server,
            Err(message) => panic!("cannot start the PostgreSQL test server: {message}"),
        }
    }

    /// Starts a new cluster for tests: initdb in a fresh directory, then the server on a free loopback port, waiting
    /// until it accepts connections; nothing is written durably (`fsync` off).
    pub fn start() -> Result<TestServer, String> {
        TestServer::start_with(FAST)
    }

    /// [`TestServer::start`] with PostgreSQL's durable defaults (`fsync` on, every commit flushed): for
    /// benchmarks, whose numbers must be those of a real deployment.
    pub fn start_durable() -> Result<TestServer, String> {
        TestServer::start_with(DURABLE)
    }

    fn start_with(settings: &str) -> Result<TestServer, String> {
        let bin = binaries()?;
        let owner = if running_as_root()? { Some(unprivileged_user()?) } else { None };
        // As root, under /tmp: a TMPDIR inside root's home would not be reachable by the unprivileged user.
        let base = if owner.is_some() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let directory = base.join(format!(
            "roster-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos())
        ));
        std::fs::create_dir(&directory).map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&directory, Some(uid), Some(gid))
                .map_err(|error| format!("cannot give {} to {USER}: {error}", directory.display()))?;
        }
        let data = directory.join("data");
        // Both run in the cluster's directory: the tests' own may not be reachable by the unprivileged user.
        let initdb = as_owner(owner, &bin.join("initdb"))
            .current_dir(&directory)
            .args(["-D", &data.to_string_lossy(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N"])
            .output()
            .map_err(|error| format!("cannot run initdb: {error}"))?;
        if !initdb.status.success() {
            let _ = std::fs::remove_dir_all(&directory);
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&initdb.stderr)));
        }
        let port = free_port()?;
        let mut guardian = as_owner(owner, Path::new("sh"))
            .current_dir(&directory)
            .args(["-c", GUARDIAN, "sh", &bin.to_string_lossy(), &directory.to_string_lossy()])
            .arg(port.to_string())
            .arg(settings)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start postgres: {error}"))?;
        let (stdin, stdout) = (guardian.stdin.take(), guardian.stdout.take());
        let server = TestServer {
            port,
            directory,
            stdin: Mutex::new(stdin),
            guardian: Mutex::new(guardian),
            next: AtomicUsize::new(1),
        };
        let stdout = stdout.ok_or("the guardian has no standard output")?;
        server.wait_until_ready(stdout)?;
        Ok(server)
    }

    /// Waits for the guardian to say that the server accepts connections.
    fn wait_until_ready(&self, stdout: ChildStdout) -> Result<(), String> {
        let mut said = String::new();
        let mut stdout = BufReader::new(stdout);
        let read = stdout.read_line(&mut said);
        if read.is_ok() && said.trim() == "ready" {
            return Ok(());
        }
        let _ = stdout.read_to_string(&mut said);
        Err(format!("the server did not start on port {}: {said}", self.port))
    }

    /// The port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of a database of this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a fresh, empty database and answers its URL.
    pub async fn database(&self) -> String {
        let name = format!("test_{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (client, connection) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to the test server on port {}: {error}", self.port));
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create the database {name}: {error}"));
        drop(client);
        let _ = connection.await;
        self.url(&name)
    }

    /// A store on a fresh database of this server, migrated.
    pub async fn store(&self) -> PgStore {
        let url = self.database().await;
        PgStore::connect(&url).await.unwrap_or_else(|error| panic!("cannot connect to {url}: {error}"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Closing the guardian's input stops the server; waiting for it leaves nothing behind.
        drop(self.stdin.lock().unwrap_or_else(PoisonError::into_inner).take());
        let _ = self.guardian.lock().unwrap_or_else(PoisonError::into_inner).wait();
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn binaries() -> Result<PathBuf, String> {
    let has_both = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|name| dir.join(name).is_file());
    if let Some(dir) = std::env::var_os("ROSTER_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_both(&dir) {
            Ok(dir)
        } else {
            Err(format!("ROSTER_PG_BIN={} lacks initdb, pg_ctl or postgres", dir.display()))
        };
    }
    let on_path = std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    if let Some(dir) = on_path.unwrap_or_default().into_iter().find(|dir| has_both(dir)) {
        return Ok(dir);
    }
    // /usr/lib/postgresql/VERSION/bin, the newest version first.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, dir)| has_both(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are neither on PATH nor in /usr/lib/postgresql/*/bin; run \
         scripts/setup-test-deps (or set ROSTER_PG_BIN to their directory)"
            .to_owned()
    })
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
fn running_as_root() -> Result<bool, String> {
    let metadata = std::fs::metadata("/proc/self").map_err(|error| format!("cannot read /proc/self: {error}"))?;
    Ok(metadata.uid() == 0)
}

/// The uid and gid of [`USER`], created as a system user when missing.
fn unprivileged_user() -> Result<(u32, u32), String> {
    let id = |flag: &str| {
        let output = Command::new("id").args([flag, USER]).output().ok()?;
        if !output.status.success() {
            return None;
        }
        String::from_utf8_lossy(&output.stdout).trim().parse::<u32>().ok()
    };
    if id("-u").is_none() {
        let created = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER])
            .output()
            .map_err(|error| format!("cannot run useradd: {error}"))?;
        // Another test binary may have created it meanwhile.
        if !created.status.success() && id("-u").is_none() {
            return Err(format!("cannot create the user {USER}: {}", String::from_utf8_lossy(&created.stderr)));
        }
    }
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok((uid, gid)),
        _ => Err(format!("cannot read the uid and gid of {USER}")),
    }
}

/// A command running `program` as the owner (the unprivileged user), or as this process's user.
fn as_owner(owner: Option<(u32, u32)>, program: &Path) -> Command {
    let Some((uid, gid)) = owner else { return Command::new(program) };
    if Path::new("/usr/bin/setpriv").is_file() {
        let mut command = Command::new("/usr/bin/setpriv");
        command.args([format!("--reuid={uid}"), format!("--regid={gid}"), "--clear-groups".to_owned()]);
        command.arg("--").arg(program).env("HOME", "/");
        command
    } else {
        let mut command = Command::new("runuser");
        command.args(["-u", USER, "--"]).arg(program);
        command
    }
}

/// A port nobody listens on now (the server binds it a moment later).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|error| format!("no free port: {error}"))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| format!("no free port: {error}"))
}
