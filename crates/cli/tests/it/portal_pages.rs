//! Every page of the portal in Chromium against a real `roster serve`, as an admin reaches it: axe-core finds no
//! serious or critical violation in light or in dark, a directory user and group whose display names are markup
//! are shown as text (no element is made of them) wherever they are listed, and at a phone's width no page is
//! wider than the screen.

use std::path::Path;

use serde_json::json;

use crate::portal_browser::{ADMIN, PASSWORD, create_admin};
use crate::support::browser::{Browser, Options, TIMEOUT};
use crate::support::{Backend, Server, data_dir, run_ok};

const MARKUP: &str = "<img src=x onerror=alert(1)>";
const USER_ID: &str = "00000000-0000-0000-0000-0000000000a1";
const GROUP_ID: &str = "00000000-0000-0000-0000-0000000000b1";

/// A directory with a user and a group named with markup, the user a member of the group; an application
/// (provisioning off, its target unreachable) with the group assigned; an enterprise of the service provider.
fn prepare(data: &Path) {
    let file = data.join("directory.json");
    let directory = json!({
        "users": [
            {"id": USER_ID, "userPrincipalName": "mallory@contoso.example", "displayName": MARKUP,
             "department": MARKUP, "accountEnabled": true},
            {"id": "00000000-0000-0000-0000-0000000000a2", "userPrincipalName": "bob@contoso.example",
             "displayName": "Bob", "accountEnabled": true},
        ],
        "groups": [{"id": GROUP_ID, "displayName": format!("{MARKUP} group"), "members": [USER_ID]}],
    });
    std::fs::write(&file, directory.to_string()).expect("write the directory");
    run_ok(data, &["directory", "import", file.to_str().expect("a UTF-8 path")]);
    let url = "http://127.0.0.1:9/scim/v2/enterprises/nowhere";
    run_ok(data, &["app", "create", "github", "--template", "github-emu", "--tenant-url", url, "--secret-token", "x"]);
    run_ok(data, &["app", "pause", "github"]);
    run_ok(data, &["app", "assign", "github", "--group", GROUP_ID]);
    run_ok(data, &["enterprise", "create", "acme", "--shortcode", "acme"]);
}

/// The pages: (name for the artefacts, path).
const PAGES: &[(&str, &str)] = &[
    ("dashboard", "/"),
    ("applications", "/applications"),
    ("new-application", "/applications/new"),
    ("overview", "/applications/github/overview"),
    ("provisioning", "/applications/github/provisioning"),
    ("mapping-users", "/applications/github/mappings/users"),
    ("mapping-groups", "/applications/github/mappings/groups"),
    ("edit-attribute", "/applications/github/mappings/users/attribute?target=userName"),
    ("add-mapping", "/applications/github/mappings/users/attribute"),
    ("scoping", "/applications/github/scoping/users"),
    (
        "expression-builder",
        "/applications/github/expression-builder?expression=Join(%22%20%22%2C%20%5BdisplayName%5D%2C%20%5Bdepartment%5D)&user=mallory%40contoso.example",
    ),
    ("expression-error", "/applications/github/expression-builder?expression=Join(%22-%22%2C"),
    ("users-and-groups", "/applications/github/users-and-groups"),
    ("logs", "/applications/github/logs"),
    ("provision-on-demand", "/applications/github/provision-on-demand"),
    ("users", "/users"),
    ("users-search", "/users?search=mall"),
    ("user", "/users/00000000-0000-0000-0000-0000000000a1"),
    ("user-edit", "/users/00000000-0000-0000-0000-0000000000a1/edit"),
    ("new-user", "/users/new"),
    ("import", "/users/import"),
    ("groups", "/groups"),
    ("group", "/groups/00000000-0000-0000-0000-0000000000b1"),
    ("new-group", "/groups/new"),
    ("plans", "/applications/github/plans"),
    ("service-provider", "/service-provider"),
    ("enterprise", "/service-provider/acme"),
    ("audit", "/audit"),
    ("audit-filtered", "/audit?category=ApplicationManagement"),
    ("admins", "/admins"),
    ("admin-tokens", "/admins/tokens"),
    ("definition", "/applications/github/definition"),
    ("unmanaged-target-down", "/applications/github/unmanaged"),
];

/// Pages that list the user or the group named with markup, and must show it as text.
const LISTING_MARKUP: &[&str] =
    &["users", "users-search", "user", "groups", "group", "users-and-groups", "expression-builder"];

#[test]
fn every_page_is_accessible_in_light_and_dark_fits_a_phone_and_shows_markup_as_text() {
    let data = data_dir(Backend::Sqlite);
    create_admin(data.path());
    prepare(data.path());
    let server = Server::start(data.path(), &[]);
    let browser = Browser::start(Options::default());
    browser.goto(&format!("{}/sign-in", server.origin));
    browser.fill("#upn", ADMIN);
    browser.fill("#password", PASSWORD);
    browser.click("form#sign-in button[type=submit]");
    browser.wait_until_text("h1", "Dashboard", TIMEOUT);
    let mut failures = Vec::new();
    for (name, path) in PAGES {
        browser.goto(&format!("{}{path}", server.origin));
        browser.wait_for("main h1", TIMEOUT);
        failures.extend(browser.accessibility_failures(name));
        let injected =
            browser.execute("return document.querySelectorAll('img[src=\"x\"], img[onerror]').length", vec![]);
        assert_eq!(injected, json!(0), "{name}: the markup became an element");
        if LISTING_MARKUP.contains(name) {
            let text = browser.text("main");
            assert!(text.contains(MARKUP), "{name} shows the markup as text: {text}");
        }
    }
    // At a phone's width every page still fits: nothing wider than the window but what scrolls inside a table's box.
    browser.set_window_size(390, 844);
    let overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    for (name, path) in PAGES {
        browser.goto(&format!("{}{path}", server.origin));
        browser.wait_for("main h1", TIMEOUT);
        let wider = browser.execute(overflow, vec![]);
        assert_eq!(wider, json!(0), "{name} is wider than a phone's screen by {wider} px");
    }
    browser.screenshot("overview-phone");
    assert!(failures.is_empty(), "pages that are not accessible:\n{}", failures.join("\n"));
}
