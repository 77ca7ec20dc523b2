//! A real browser for the portal's end-to-end tests: Debian's Chromium, driven by Debian's chromedriver over W3C
//! WebDriver (with `fantoccini`), behind a blocking API for the synchronous `#[test]`s.
//!
//! ```ignore
//! let browser = Browser::start(Options::default());       // or Options::javascript_off()
//! browser.goto(&format!("{}/", server.origin));
//! browser.fill("#upn", "admin@contoso.example");
//! browser.click("button[type=submit]");
//! browser.wait_until_text("h1", "Dashboard", TIMEOUT);
//! browser.screenshot("dashboard");                         // target/test-artefacts/portal/<test>/01-dashboard.png
//! browser.assert_accessible("dashboard");                  // axe-core in light and dark
//! ```
//!
//! Every query waits (polling every 50 ms) rather than sleeping, and panics with what it waited for. Chromium and
//! chromedriver come from `scripts/setup-test-deps` (apt), axe-core from `tests/browser` (npm, pinned); nothing
//! is downloaded here. Chromedriver is spoken to over plain HTTP on loopback, so the client needs no TLS.

#![allow(dead_code, reason = "the harness's whole API, of which each test uses a part")]

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::{WebDriverCompatibleCommand, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::{Method, Url};
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a query waits by default.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The pause between two polls of a wait.
const POLL: Duration = Duration::from_millis(50);
/// The least time between two loads of [`Browser::reload_until`].
const RELOAD: Duration = Duration::from_millis(200);
/// The WCAG tags axe-core checks.
const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether pages may run scripts (off: Chrome's content setting blocks every script of every page).
    pub javascript: bool,
    /// The folder of this test's screenshots under `target/test-artefacts/portal/`; by default the test's name.
    pub artefacts: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { javascript: true, artefacts: None }
    }
}

impl Options {
    /// A browser whose pages run no script, as for a person who turned JavaScript off.
    pub fn javascript_off() -> Self {
        Options { javascript: false, ..Options::default() }
    }
}

/// The `prefers-color-scheme` the pages see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorScheme {
    Light,
    Dark,
}

impl ColorScheme {
    fn name(self) -> &'static str {
        match self {
            ColorScheme::Light => "light",
            ColorScheme::Dark => "dark",
        }
    }
}

/// One rule that axe-core found broken, with the CSS selectors of the elements that break it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// The rule, such as `color-contrast`.
    pub id: String,
    pub help: String,
    /// One entry per element; each is axe's selector path (more than one part within frames or shadow roots).
    pub targets: Vec<Value>,
}

/// A Chromium session: killed, with its chromedriver and its profile, when dropped.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    driver_url: String,
    _profile: tempfile::TempDir,
    artefacts: PathBuf,
}

/// chromedriver's command `POST /session/{id}/goog/cdp/execute`: one Chrome DevTools Protocol command.
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, <Url as std::str::FromStr>::Err> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &Url) -> (Method, Option<String>) {
        (Method::POST, Some(self.0.to_string()))
    }
}

/// A free loopback port, as the system hands one out (another process may take it before it is used: retry).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// Polls `probe` until it gives a value or `timeout` passes.
fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        // What a browser test waits for has no event to wait on; the deadline above bounds the polling.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(POLL);
    }
}

/// Starts chromedriver on a free port and waits for its `/status` to say it is ready; `None` if it did not
/// come up (its port was taken, say).
fn start_driver() -> Option<(Child, String)> {
    let port = free_port();
    let mut driver = Command::new(CHROMEDRIVER)
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".to_owned()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(2)).build().expect("a client");
    let ready = poll(Duration::from_secs(10), || {
        if driver.try_wait().ok().flatten().is_some() {
            return Some(false);
        }
        let status: Value = http.get(format!("{url}/status")).send().ok()?.json().ok()?;
        (status["value"]["ready"] == true).then_some(true)
    });
    if ready == Some(true) {
        return Some((driver, url));
    }
    let _ = driver.kill();
    let _ = driver.wait();
    None
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium (its own profile, 1280×900). Panics if Debian's
    /// chromedriver is missing: the browser tests never skip.
    pub fn start(options: Options) -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "{CHROMEDRIVER} or {CHROMIUM} is missing: run scripts/setup-test-deps (or the whole suite with scripts/test)"
        );
        let (driver, driver_url) =
            (0..5).find_map(|_| start_driver()).expect("chromedriver came up and said it is ready");
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut chrome = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-extensions",
                format!("--user-data-dir={}", profile.path().display()), "--window-size=1280,900",
            ],
        });
        if !options.javascript {
            chrome["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), chrome);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let client = runtime
            .block_on(ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&driver_url))
            .expect("chromedriver opens a Chromium session");
        let test = std::thread::current().name().unwrap_or("test").rsplit("::").next().unwrap_or("test").to_owned();
        let artefacts = super::workspace().join("target/test-artefacts/portal").join(options.artefacts.unwrap_or(test));
        // A test's folder is emptied of an earlier run's screenshots by its first browser only.
        static EMPTIED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        let mut emptied = EMPTIED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !emptied.contains(&artefacts) {
            let _ = std::fs::remove_dir_all(&artefacts);
            emptied.push(artefacts.clone());
        }
        std::fs::create_dir_all(&artefacts).expect("the artefacts directory");
        Browser { runtime, client: Some(client), driver, driver_url, _profile: profile, artefacts }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    /// Runs one WebDriver call to its end; panics with `what` if it fails.
    #[track_caller]
    fn call<T, E: Display>(&self, what: impl Display, call: impl Future<Output = Result<T, E>>) -> T {
        match self.runtime.block_on(call) {
            Ok(value) => value,
            Err(error) => panic!("{what}: {error}"),
        }
    }

    /// Opens `url` and waits for its load.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        self.call(format_args!("open {url}"), self.client().goto(url));
    }

    /// The element at `css`, if the page has one now.
    fn try_find(&self, css: &str) -> Option<Element> {
        self.runtime.block_on(self.client().find(Locator::Css(css))).ok()
    }

    /// Whether the page has an element at `css` now (no wait).
    pub fn exists(&self, css: &str) -> bool {
        self.try_find(css).is_some()
    }

    /// The element at `css`, waiting up to [`TIMEOUT`] for it.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        self.wait_for(css, TIMEOUT)
    }

    /// The element at `css`, waiting up to `timeout` for it.
    #[track_caller]
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        poll(timeout, || self.try_find(css))
            .unwrap_or_else(|| self.fail(&format!("no {css} on {} after {timeout:?}", self.current_url())))
    }

    /// Waits up to `timeout` until the element at `css` has a text containing `expected`, and returns it.
    #[track_caller]
    pub fn wait_until_text(&self, css: &str, expected: &str, timeout: Duration) -> String {
        self.wait_until(css, &format!("{expected:?}"), |text| text.contains(expected), timeout)
    }

    /// Waits up to `timeout` until the element at `css` has a text that `accepts` (`wanted` says what, for the
    /// failure message), and returns it.
    #[track_caller]
    pub fn wait_until(&self, css: &str, wanted: &str, accepts: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let mut last = None;
        let text = poll(timeout, || {
            let text = self.runtime.block_on(self.try_find(css)?.text()).ok()?;
            if accepts(&text) {
                return Some(text);
            }
            last = Some(text);
            None
        });
        text.unwrap_or_else(|| {
            self.fail(&format!(
                "{css} on {} never showed {wanted} in {timeout:?}; last text: {last:?}",
                self.current_url()
            ))
        })
    }

    /// Opens `url` again and again (as a person pressing Reload would, at most every 200 ms) until the element at
    /// `css` has a text that `accepts`, and returns it: for pages without live updates.
    #[track_caller]
    pub fn reload_until(
        &self,
        url: &str,
        css: &str,
        wanted: &str,
        accepts: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> String {
        let mut last = None;
        let mut opened: Option<Instant> = None;
        let text = poll(timeout, || {
            if opened.is_some_and(|at| at.elapsed() < RELOAD) {
                return None;
            }
            opened = Some(Instant::now());
            self.goto(url);
            let text = self.runtime.block_on(self.try_find(css)?.text()).ok()?;
            if accepts(&text) {
                return Some(text);
            }
            last = Some(text);
            None
        });
        text.unwrap_or_else(|| {
            self.fail(&format!("{css} on {url} never showed {wanted} in {timeout:?}; last text: {last:?}"))
        })
    }

    /// The rendered text of the element at `css`.
    #[track_caller]
    pub fn text(&self, css: &str) -> String {
        self.call(format_args!("the text of {css}"), self.find(css).text())
    }

    /// An attribute of the element at `css`, if it has it.
    #[track_caller]
    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.call(format_args!("attribute {name} of {css}"), self.find(css).attr(name))
    }

    /// A DOM property of the element at `css` (such as a field's current `value`, where the attribute is the value
    /// it was loaded with).
    #[track_caller]
    pub fn property(&self, css: &str, name: &str) -> Option<String> {
        self.call(format_args!("property {name} of {css}"), self.find(css).prop(name))
    }

    /// Clears the field at `css` and types `value` into it.
    #[track_caller]
    pub fn fill(&self, css: &str, value: &str) {
        let field = self.find(css);
        self.call(format_args!("clear {css}"), field.clear());
        self.call(format_args!("type into {css}"), field.send_keys(value));
    }

    /// Clicks the element at `css`.
    #[track_caller]
    pub fn click(&self, css: &str) {
        self.call(format_args!("click {css}"), self.find(css).click());
    }

    /// Presses Enter in the field at `css`, which submits its form as a person would.
    #[track_caller]
    pub fn submit(&self, css: &str) {
        let enter = char::from(fantoccini::key::Key::Enter).to_string();
        self.call(format_args!("press Enter in {css}"), self.find(css).send_keys(&enter));
    }

    /// Chooses the option of value `value` of the `<select>` at `css`.
    #[track_caller]
    pub fn select_option(&self, css: &str, value: &str) {
        self.call(format_args!("select {value} in {css}"), self.find(css).select_by_value(value));
    }

    /// The address of the page shown.
    #[track_caller]
    pub fn current_url(&self) -> String {
        self.call("the current URL", self.client().current_url()).to_string()
    }

    /// The page's HTML as the browser has it now.
    #[track_caller]
    pub fn page_source(&self) -> String {
        self.call("the page source", self.client().source())
    }

    /// Runs `script` as a function body with `arguments`, and returns what it returns. WebDriver's scripts run
    /// even where the page's Content-Security-Policy or its JavaScript setting forbids the page's own.
    #[track_caller]
    pub fn execute(&self, script: &str, arguments: Vec<Value>) -> Value {
        self.call("execute a script", self.client().execute(script, arguments))
    }

    /// Runs `script` with a callback as its last argument, and returns what that is called with.
    #[track_caller]
    pub fn execute_async(&self, script: &str, arguments: Vec<Value>) -> Value {
        self.call("execute an asynchronous script", self.client().execute_async(script, arguments))
    }

    /// The tab shown now, to come back to with [`Browser::switch_to`].
    #[track_caller]
    pub fn tab(&self) -> WindowHandle {
        self.call("the current tab", self.client().window())
    }

    /// Opens a new, empty tab and shows it; the earlier tab's page stays open (and live) behind it.
    #[track_caller]
    pub fn new_tab(&self) -> WindowHandle {
        let tab = self.call("open a tab", self.client().new_window(true)).handle;
        self.switch_to(&tab);
        tab
    }

    /// Shows `tab`: later commands act on its page.
    #[track_caller]
    pub fn switch_to(&self, tab: &WindowHandle) {
        self.call("switch tabs", self.client().switch_to_window(tab.clone()));
    }

    /// Resizes the window.
    #[track_caller]
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.call("resize the window", self.client().set_window_size(width, height));
    }

    /// Types `keys` into the focused element, as a keyboard does (`fantoccini::key::Key` characters for Tab and
    /// Enter).
    #[track_caller]
    pub fn press(&self, keys: &str) {
        let client = self.client();
        self.call(format_args!("press {keys:?}"), async { client.active_element().await?.send_keys(keys).await });
    }

    /// The focused element, as `id` when it has one, else `TAG:text`.
    #[track_caller]
    pub fn focused(&self) -> String {
        let script = "const e = document.activeElement; \
                      return e ? (e.id || (e.tagName.toLowerCase() + ':' + e.textContent.trim())) : ''";
        self.execute(script, vec![]).as_str().unwrap_or_default().to_owned()
    }

    /// Presses Tab until the focused element is `wanted` (see [`Browser::focused`]), at most `presses` times.
    #[track_caller]
    pub fn tab_to(&self, wanted: &str, presses: usize) {
        let mut seen = Vec::new();
        for _ in 0..presses {
            self.press(&char::from(fantoccini::key::Key::Tab).to_string());
            let focused = self.focused();
            if focused == wanted {
                return;
            }
            seen.push(focused);
        }
        self.fail(&format!("Tab never reached {wanted} in {presses} presses; it went through {seen:?}"))
    }

    /// Fails the test with `message`, a screenshot named `failure` and the text of the page's `main`, so that the
    /// failure says what the page showed.
    #[track_caller]
    pub fn fail(&self, message: &str) -> ! {
        let shot = self.runtime.block_on(self.client().screenshot()).ok().map(|png| {
            let taken = std::fs::read_dir(&self.artefacts).map_or(0, |entries| entries.count());
            let path = self.artefacts.join(format!("{:02}-failure.png", taken + 1));
            let _ = std::fs::write(&path, png);
            path
        });
        let main = self
            .runtime
            .block_on(async { self.client().find(Locator::Css("main")).await?.text().await })
            .unwrap_or_default();
        panic!("{message}\nthe page's main showed: {main}\nscreenshot: {shot:?}")
    }

    /// Saves a PNG of the viewport as `target/test-artefacts/portal/<test>/<NN>-<name>.png`, numbered on from
    /// the test's earlier screenshots (of any of its browsers); returns its path.
    #[track_caller]
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.call(format_args!("screenshot {name}"), self.client().screenshot());
        let taken = std::fs::read_dir(&self.artefacts).map_or(0, |entries| entries.count());
        let path = self.artefacts.join(format!("{:02}-{name}.png", taken + 1));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Makes the pages see `prefers-color-scheme: scheme` (Chrome DevTools' media emulation, which stays for the
    /// session's later pages), checked with `matchMedia`.
    #[track_caller]
    pub fn color_scheme(&self, scheme: ColorScheme) {
        let command = json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": scheme.name()}]},
        });
        self.call("emulate the color scheme", self.client().issue_cmd(Cdp(command)));
        let query = format!("return matchMedia('(prefers-color-scheme: {})').matches", scheme.name());
        assert_eq!(self.execute(&query, vec![]), json!(true), "the page does not see {scheme:?}");
    }

    /// Runs axe-core's WCAG 2.2 A and AA rules over `context` (a CSS selector; the whole document if `None`).
    #[track_caller]
    pub fn axe(&self, context: Option<&str>) -> Vec<Violation> {
        let axe = super::workspace().join("tests/browser/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe)
            .unwrap_or_else(|error| panic!("{}: {error}; run scripts/setup-test-deps", axe.display()));
        self.execute(&format!("if (typeof window.axe === 'undefined') {{ {source} }}"), vec![]);
        let script = "const done = arguments[arguments.length - 1];
            axe.run(arguments[0] === null ? document : arguments[0], {runOnly: {type: 'tag', values: arguments[1]}})
              .then(result => done(result.violations.map(v => ({
                  impact: v.impact, id: v.id, help: v.help, targets: v.nodes.map(node => node.target)}))),
                error => done({error: String(error)}));";
        let result = self.execute_async(script, vec![json!(context), json!(WCAG_TAGS)]);
        assert!(result.get("error").is_none(), "axe-core failed on {}: {result}", self.current_url());
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let violations = result.as_array().expect("axe-core's violations");
        let violations = violations.iter().map(|violation| Violation {
            impact: text(&violation["impact"]),
            id: text(&violation["id"]).unwrap_or_default(),
            help: text(&violation["help"]).unwrap_or_default(),
            targets: violation["targets"].as_array().cloned().unwrap_or_default(),
        });
        violations.collect()
    }

    /// Checks the page in light and in dark (a screenshot of each) and panics listing every serious or critical
    /// axe-core violation; leaves the page light.
    #[track_caller]
    pub fn assert_accessible(&self, page: &str) {
        let failures = self.accessibility_failures(page);
        assert!(failures.is_empty(), "{page} ({}) is not accessible:\n{}", self.current_url(), failures.join("\n"));
    }

    /// The serious and critical axe-core violations of the page in light and in dark, one line each (rule, impact,
    /// scheme, help, elements), with a screenshot in each scheme; leaves the page light.
    #[track_caller]
    pub fn accessibility_failures(&self, page: &str) -> Vec<String> {
        let mut failures = Vec::new();
        for scheme in [ColorScheme::Light, ColorScheme::Dark] {
            self.color_scheme(scheme);
            self.screenshot(&format!("{page}-{}", scheme.name()));
            for violation in self.axe(None) {
                if matches!(violation.impact.as_deref(), Some("serious" | "critical")) {
                    let impact = violation.impact.unwrap_or_default();
                    let targets = violation.targets.iter().map(Value::to_string).collect::<Vec<_>>().join(", ");
                    failures.push(format!(
                        "{} [{impact}, {}] {}: {targets}",
                        violation.id,
                        scheme.name(),
                        violation.help
                    ));
                }
            }
        }
        self.color_scheme(ColorScheme::Light);
        failures
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session quits Chromium; /shutdown then ends chromedriver, which is killed if it lingers.
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), client.close()).await });
        }
        let _ = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map(|http| http.get(format!("{}/shutdown", self.driver_url)).send());
        if poll(Duration::from_secs(2), || self.driver.try_wait().ok().flatten()).is_none() {
            let _ = self.driver.kill();
        }
        let _ = self.driver.wait();
    }
}
