//! Running the binary: one-shot commands and a server child process that is killed on drop; and the
//! fault-injecting proxy a test puts in front of the server.

pub mod admin;
pub mod browser;
pub mod fault_proxy;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use roster_store::suite::postgres::TestServer;

/// Where a test's roster keeps its data: the data directory's SQLite file, or a fresh database of the test
/// binary's PostgreSQL server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The file of a test's data directory that names its PostgreSQL database: [`roster`] passes it as `--database`.
/// A convention of these tests only; roster itself knows nothing of it.
const DATABASE_FILE: &str = "test-database-url";

/// A fresh data directory on this backend (for PostgreSQL, naming a fresh database of the shared test server).
pub fn data_dir(backend: Backend) -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("a temporary directory");
    if backend == Backend::Postgres {
        std::fs::write(data.path().join(DATABASE_FILE), postgres_database()).expect("write the database URL");
    }
    data
}

/// The URL of a fresh, empty database of the test binary's PostgreSQL server (started on first use, stopped when
/// the test binary exits).
pub fn postgres_database() -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(TestServer::shared().database())
}

/// The binary under test, on the data directory (and its database, see [`data_dir`]).
pub fn roster(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command.arg("--data").arg(data).env_remove("ROSTER_DATA").env_remove("ROSTER_DATABASE");
    if let Ok(url) = std::fs::read_to_string(data.join(DATABASE_FILE)) {
        command.arg("--database").arg(url.trim());
    }
    command
}

/// Runs a command to completion.
pub fn run(data: &Path, arguments: &[&str]) -> Output {
    roster(data).args(arguments).output().expect("roster runs")
}

/// Runs a command that must succeed and returns its stdout.
#[track_caller]
pub fn run_ok(data: &Path, arguments: &[&str]) -> String {
    let output = run(data, arguments);
    assert!(output.status.success(), "{arguments:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}

/// A `roster serve` child process on a free loopback port.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:{port}`.
    pub origin: String,
}

impl Server {
    /// Starts `roster serve --listen 127.0.0.1:0` and waits for the line that says where it listens.
    pub fn start(data: &Path, extra: &[&str]) -> Self {
        let child = roster(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("ROSTER_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("roster serve starts");
        Self::started(child)
    }

    /// Waits for the started server's line that says where it listens.
    fn started(mut child: Child) -> Self {
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let origin = loop {
            let line = lines.next().expect("roster serve printed its address").expect("a line");
            if let Some(address) = line.strip_prefix("roster listening on ") {
                break address.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, origin }
    }
}

impl Server {
    /// [`Server::start`], with the server's log (at `info` for roster's own events) sent to `logs`, line by line.
    pub fn start_logged(data: &Path, extra: &[&str], logs: &Logs) -> Self {
        let mut child = roster(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("ROSTER_LOG", "warn,roster_app=info,roster_service=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("roster serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let sender = logs.sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Self::started(child)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The log lines of several servers, in the order they came.
pub struct Logs {
    sender: std::sync::mpsc::Sender<String>,
    receiver: std::sync::mpsc::Receiver<String>,
}

impl Logs {
    pub fn new() -> Logs {
        let (sender, receiver) = std::sync::mpsc::channel();
        Logs { sender, receiver }
    }

    /// The next line that contains `text`, waiting at most `timeout` for it; lines before it are skipped.
    pub fn wait_for(&self, text: &str, timeout: std::time::Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            let line = self.receiver.recv_timeout(left).ok()?;
            if line.contains(text) {
                return Some(line);
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python interpreter with the conformance tools: `ROSTER_TEST_PYTHON`, else the workspace's `.venv`.
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("ROSTER_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = workspace.join(".venv/bin/python");
    assert!(
        python.exists(),
        "the conformance tools are missing: run scripts/setup-test-deps (or the whole suite with scripts/test)"
    );
    python
}

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An enterprise of a real `roster serve` on a loopback port, with a token: the target of provisioning tests, run
/// from its own data directory as a separate company would run it.
pub struct TargetEnterprise {
    /// The server's data directory (kept while the value lives).
    pub data: tempfile::TempDir,
    /// The server.
    pub server: Server,
    /// A `scim:enterprise` token of the enterprise.
    pub token: String,
    /// The enterprise's SCIM base URL: `{origin}/scim/v2/enterprises/{slug}`.
    pub base: String,
}

impl TargetEnterprise {
    /// Creates the enterprise (`github-emu` or `scim` profile) and its token, then starts the server, on SQLite.
    pub fn start(slug: &str, shortcode: &str, profile: &str) -> TargetEnterprise {
        TargetEnterprise::start_on(Backend::Sqlite, slug, shortcode, profile)
    }

    /// [`TargetEnterprise::start`] on a backend.
    pub fn start_on(backend: Backend, slug: &str, shortcode: &str, profile: &str) -> TargetEnterprise {
        let data = data_dir(backend);
        run_ok(data.path(), &["enterprise", "create", slug, "--shortcode", shortcode, "--profile", profile]);
        let token = run_ok(data.path(), &["token", "create", "--enterprise", slug]).trim().to_owned();
        let server = Server::start(data.path(), &[]);
        let base = format!("{}/scim/v2/enterprises/{slug}", server.origin);
        TargetEnterprise { data, server, token, base }
    }
}

/// Runs each named test function (`fn NAME(backend: Backend)`) on both backends: as the tests `sqlite::NAME` and
/// `postgres::NAME` of the calling module.
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Backend::Sqlite);
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Backend::Postgres);
                }
            )+
        }
    };
}
pub(crate) use on_each_backend;
