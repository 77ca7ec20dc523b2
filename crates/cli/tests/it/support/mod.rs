//! Running the binary: one-shot commands and a server child process that is killed on drop; and the
//! fault-injecting proxy a test puts in front of the server.

pub mod fault_proxy;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary under test.
pub fn roster(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command.arg("--data").arg(data).env_remove("ROSTER_DATA").env_remove("ROSTER_DATABASE");
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
        let mut child = roster(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("ROSTER_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("roster serve starts");
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
    /// Creates the enterprise (`github-emu` or `scim` profile) and its token, then starts the server.
    pub fn start(slug: &str, shortcode: &str, profile: &str) -> TargetEnterprise {
        let data = tempfile::tempdir().expect("a temporary directory");
        run_ok(data.path(), &["enterprise", "create", slug, "--shortcode", shortcode, "--profile", profile]);
        let token = run_ok(data.path(), &["token", "create", "--enterprise", slug]).trim().to_owned();
        let server = Server::start(data.path(), &[]);
        let base = format!("{}/scim/v2/enterprises/{slug}", server.origin);
        TargetEnterprise { data, server, token, base }
    }
}
