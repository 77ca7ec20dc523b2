//! The portal in a real browser: Debian's Chromium over WebDriver (see `support::browser`), against `roster serve`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;

use serde_json::json;

use crate::support::browser::{Browser, Options, TIMEOUT};
use crate::support::{Backend, Server, data_dir, roster};

pub const ADMIN: &str = "admin@contoso.example";
pub const PASSWORD: &str = "a long enough secret";

/// Makes the first admin on the command line, as a person installing roster does.
pub fn create_admin(data: &Path) {
    let mut child = roster(data)
        .args(["admin", "create", "--upn", ADMIN, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("roster runs");
    child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("the password");
    assert!(child.wait().expect("roster ends").success(), "roster admin create failed");
}

/// Signed out, the portal's home sends to sign-in; a wrong password says so there; the right one opens the
/// dashboard. Every page is checked with axe-core in light and dark, and signing in works with scripts off too.
#[test]
fn signing_in_shows_the_dashboard() {
    let data = data_dir(Backend::Sqlite);
    create_admin(data.path());
    let server = Server::start(data.path(), &[]);
    let browser = Browser::start(Options::default());
    browser.goto(&format!("{}/", server.origin));
    browser.wait_for("form#sign-in", TIMEOUT);
    let sign_in = format!("{}/sign-in", server.origin);
    assert!(browser.current_url().starts_with(&sign_in), "{}", browser.current_url());
    assert_eq!(browser.text("h1"), "Sign in to roster");
    browser.screenshot("sign-in");
    browser.assert_accessible("sign-in");

    browser.fill("#upn", ADMIN);
    browser.fill("#password", "not the password");
    browser.click("form#sign-in button[type=submit]");
    browser.wait_for("#form-error", TIMEOUT);
    assert!(browser.current_url().starts_with(&sign_in), "{}", browser.current_url());
    assert_eq!(browser.attribute("#upn", "value").as_deref(), Some(ADMIN), "the user name is kept");
    assert!(browser.exists("form#sign-in") && !browser.exists("nav[aria-label=Portal]"));
    browser.screenshot("wrong-password");
    browser.assert_accessible("wrong-password");

    browser.fill("#password", PASSWORD);
    browser.submit("#password");
    browser.wait_until_text("h1", "Dashboard", TIMEOUT);
    assert_eq!(browser.current_url(), format!("{}/", server.origin));
    assert_eq!(browser.text("header .who"), ADMIN);
    browser.screenshot("dashboard");
    browser.assert_accessible("dashboard");
    browser.set_window_size(400, 800);
    browser.screenshot("dashboard-narrow");
    drop(browser);

    let scriptless = Browser::start(Options::javascript_off());
    scriptless.goto(&format!("{}/", server.origin));
    scriptless.fill("#upn", ADMIN);
    scriptless.fill("#password", PASSWORD);
    scriptless.click("form#sign-in button[type=submit]");
    scriptless.wait_until_text("h1", "Dashboard", TIMEOUT);
    assert_eq!(scriptless.execute("return typeof htmx", vec![]), json!("undefined"), "no page script ran");
    scriptless.screenshot("dashboard-without-scripts");
}

/// A loopback site of fixed pages served with a strict Content-Security-Policy: `(path, content type, body)`.
fn strict_site(pages: &'static [(&'static str, &'static str, &'static str)]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|read| read > 2) {
                header.clear();
            }
            let path = request.split(' ').nth(1).unwrap_or("/");
            let (status, kind, body) = pages
                .iter()
                .find(|page| page.0 == path)
                .map_or(("404 Not Found", "text/plain", "not found"), |page| ("200 OK", page.1, page.2));
            let _ = write!(
                &stream,
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\
                 Content-Security-Policy: default-src 'self'; script-src 'self'\r\n\r\n{body}",
                body.len()
            );
        }
    });
    origin
}

const PAGE: &str = "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>plain</title>\
    <link rel=stylesheet href=/page.css><script src=/page.js></script></head><body><main><h1>A page</h1>\
    <p id=inline>inline script did not run</p><script>document.getElementById('inline').textContent='ran'</script>\
    <p id=low>low contrast</p></main></body></html>";

/// The harness's own promises: scripts really off when asked; axe-core runs despite a CSP that blocks the page's
/// inline scripts; the dark scheme is seen by the page's scripts.
#[test]
fn the_harness_turns_scripts_off_and_runs_axe_under_a_strict_csp() {
    static PAGES: [(&str, &str, &str); 3] = [
        ("/", "text/html", PAGE),
        ("/page.js", "text/javascript", "document.title = 'scripted';"),
        ("/page.css", "text/css", "#low { color: #bbb; background: #fff }"),
    ];
    let origin = strict_site(&PAGES);

    let browser = Browser::start(Options::default());
    browser.goto(&format!("{origin}/"));
    assert_eq!(browser.execute("return document.title", vec![]), json!("scripted"), "same-origin script runs");
    assert_eq!(browser.text("#inline"), "inline script did not run", "the CSP blocks inline scripts");
    let violations = browser.axe(None);
    let contrast = violations.iter().find(|violation| violation.id == "color-contrast").expect("color-contrast");
    assert_eq!(contrast.impact.as_deref(), Some("serious"));
    assert_eq!(contrast.targets, vec![json!(["#low"])]);
    let failures = browser.accessibility_failures("strict");
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].starts_with("color-contrast [serious, light]") && failures[0].ends_with(r##"["#low"]"##));
    assert!(failures[1].starts_with("color-contrast [serious, dark]"), "{failures:?}");
    drop(browser);

    let scriptless = Browser::start(Options::javascript_off());
    scriptless.goto(&format!("{origin}/"));
    assert_eq!(scriptless.execute("return document.title", vec![]), json!("plain"), "page scripts are off");
    assert_eq!(scriptless.text("h1"), "A page");
    scriptless.screenshot("scripts-off");
    let shots = std::fs::read_dir(scriptless.screenshot("scripts-off-again").parent().expect("a folder"));
    assert_eq!(shots.expect("the artefacts").count(), 4, "two of each browser, numbered on");
}

/// The keyboard alone: the sign-in page opens in the user name, Tab goes to the password, Enter signs in, every focused control shows a
/// focus ring, the skip link moves the focus to the page's content, and the navigation opens a section.
#[test]
fn the_portal_is_usable_with_the_keyboard_alone() {
    let data = data_dir(Backend::Sqlite);
    create_admin(data.path());
    let server = Server::start(data.path(), &[]);
    let browser = Browser::start(Options::default());
    let enter = char::from(fantoccini::key::Key::Enter).to_string();
    let outline = "return getComputedStyle(document.activeElement).outlineStyle";
    browser.goto(&format!("{}/sign-in", server.origin));
    browser.wait_for("form#sign-in", TIMEOUT);
    assert_eq!(browser.focused(), "upn", "the sign-in page opens with the focus in the user name");
    assert_ne!(browser.execute(outline, vec![]), json!("none"), "the focused field shows where the focus is");
    browser.press(ADMIN);
    browser.tab_to("password", 1);
    browser.press(PASSWORD);
    browser.press(&enter);
    browser.wait_until_text("h1", "Dashboard", TIMEOUT);
    browser.tab_to("a:Skip to content", 1);
    assert_ne!(browser.execute(outline, vec![]), json!("none"), "the skip link shows its focus");
    browser.press(&enter);
    assert_eq!(browser.focused(), "main", "the skip link moves the focus to the content");
    browser.goto(&format!("{}/", server.origin));
    browser.wait_until_text("h1", "Dashboard", TIMEOUT);
    browser.tab_to("a:Enterprise applications", 6);
    browser.press(&enter);
    browser.wait_until_text("h1", "Enterprise applications", TIMEOUT);
    assert_eq!(browser.current_url(), format!("{}/applications", server.origin));
    browser.screenshot("keyboard-applications");
}
