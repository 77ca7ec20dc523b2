//! Entra's provisioning tutorial, walked in Chromium against a real `roster serve`, as an admin would: sign in,
//! New application (github-emu), Tenant URL and Secret Token of an enterprise of roster's own service provider
//! (another `roster serve`), Test Connection, Notification Email, Save, the Mappings, Users and groups, Scope,
//! Provisioning Status On, Save; the Overview's progress bar reaches 100% live and its counts match the target's;
//! the logs and one entry's details; Provision on demand; a wrong token and the quarantine banner. Every page is
//! checked with axe-core in light and dark, and each step is a screenshot under `target/test-artefacts/portal/`.
//! The same walk runs with JavaScript off and reaches the same state, reloading instead of live updates.

use std::path::Path;

use serde_json::{Value, json};

use crate::portal_browser::{ADMIN, PASSWORD, create_admin};
use crate::support::browser::{Browser, Options, TIMEOUT};
use crate::support::{Backend, Server, TargetEnterprise, data_dir, run_ok};

/// How long a cycle of the walk's small directory may take on a slow machine.
const CYCLE: std::time::Duration = std::time::Duration::from_secs(60);
const APP: &str = "github";
const CONNECTED: &str = "The supplied credentials are authorized to enable provisioning.";

/// The walk's directory, as the file imported: the group assigned to the app and a user to provision on demand.
struct Directory {
    group: String,
    member_upn: String,
}

/// Generates and imports a directory of 40 users in 4 groups; the group assigned is the largest.
fn directory(data: &Path) -> Directory {
    let file = data.join("directory.json");
    let file_arg = file.to_str().expect("a UTF-8 path");
    let generate = ["directory", "generate", "--users", "40", "--groups", "4", "--members-per-group", "8"];
    run_ok(data, &[&generate[..], &["--out", file_arg]].concat());
    run_ok(data, &["directory", "import", file_arg]);
    let text = std::fs::read_to_string(&file).expect("the generated file");
    let directory: Value = serde_json::from_str(&text).expect("JSON");
    let members = |group: &Value| group["members"].as_array().map_or(0, Vec::len);
    let groups = directory["groups"].as_array().expect("groups");
    let group = groups.iter().max_by_key(|group| members(group)).expect("a group");
    let enabled_member = group["members"].as_array().expect("members").iter().find_map(|id| {
        let users = directory["users"].as_array()?;
        let user = users.iter().find(|user| user["id"] == *id && user["accountEnabled"] == true)?;
        user["userPrincipalName"].as_str().map(str::to_owned)
    });
    Directory {
        group: group["displayName"].as_str().expect("a display name").to_owned(),
        member_upn: enabled_member.expect("an enabled member of the group"),
    }
}

/// How many resources of `kind` (`Users`, `Groups`) the target enterprise holds, by its own SCIM API.
fn target_count(target: &TargetEnterprise, kind: &str) -> u64 {
    let answer: Value = reqwest::blocking::Client::new()
        .get(format!("{}/{kind}?count=1", target.base))
        .bearer_auth(&target.token)
        .send()
        .and_then(reqwest::blocking::Response::json)
        .expect("the target answers");
    answer["totalResults"].as_u64().unwrap_or_else(|| panic!("no totalResults: {answer}"))
}

/// A walk: the browser, the portal's origin, and whether pages run scripts.
struct Walk<'a> {
    browser: &'a Browser,
    origin: &'a str,
    scripts: bool,
}

impl Walk<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn app_url(&self, page: &str) -> String {
        self.url(&format!("/applications/{APP}/{page}"))
    }

    /// A screenshot of the step, and axe-core over the page in light and dark (with scripts: axe-core needs the
    /// page's event loop, which Chrome stops with JavaScript; the pages are the same markup).
    fn check(&self, step: &str) {
        self.browser.screenshot(step);
        if self.scripts {
            self.browser.assert_accessible(step);
        }
    }

    /// Follows a link as a person does: by clicking it.
    fn follow(&self, href: &str) {
        self.browser.click(&format!("a[href=\"{href}\"]"));
    }

    fn sign_in(&self) {
        self.browser.goto(&self.url("/"));
        self.browser.wait_for("form#sign-in", TIMEOUT);
        self.check("sign-in");
        self.browser.fill("#upn", ADMIN);
        self.browser.fill("#password", PASSWORD);
        self.browser.click("form#sign-in button[type=submit]");
        self.browser.wait_until_text("h1", "Dashboard", TIMEOUT);
        self.check("dashboard");
    }

    fn new_application(&self) {
        self.browser.click("nav[aria-label=Portal] a[href=\"/applications\"]");
        self.browser.wait_until_text("h1", "Enterprise applications", TIMEOUT);
        self.check("applications");
        self.follow("/applications/new");
        self.browser.wait_for("form#new-application", TIMEOUT);
        self.browser.click("input[name=template][value=github-emu]");
        self.browser.fill("#name", APP);
        self.check("new-application");
        self.browser.click("form#new-application button[type=submit]");
        self.browser.wait_until_text("h1", "Provisioning", TIMEOUT);
        assert_eq!(self.browser.current_url(), self.app_url("provisioning"));
    }

    /// Admin Credentials, Test Connection, Notification Email, Save (status still Off), then the Mappings.
    fn credentials(&self, target: &TargetEnterprise) {
        self.browser.fill("#tenant_url", &target.base);
        self.browser.fill("#secret_token", &target.token);
        self.browser.click("#test-connection");
        let verdict = self.browser.wait_until_text("#test-result", CONNECTED, TIMEOUT);
        assert!(!verdict.contains(&target.token), "the token is not echoed");
        if self.scripts {
            // Test Connection answered in place: the token typed is still in its field, not sent back.
            assert_eq!(self.browser.property("#secret_token", "value").as_deref(), Some(target.token.as_str()));
        } else {
            // Without scripts the page came back whole, with the token's field empty: type it again to save it.
            assert_eq!(self.browser.property("#secret_token", "value").as_deref(), Some(""));
            self.browser.fill("#secret_token", &target.token);
        }
        self.check("test-connection");
        self.browser.fill("#emails", "it-alerts@contoso.example");
        self.browser.click("#save");
        let saved = self.browser.wait_until_text("#save-result", "Saved.", TIMEOUT);
        assert!(!saved.contains("not"), "the credentials work: {saved}");
        assert!(!self.browser.page_source().contains(&target.token), "the saved token is never shown");
        assert!(self.browser.text("#secret-help").contains("A Secret Token is saved"));
        self.check("saved");
        self.follow(&format!("/applications/{APP}/mappings/users"));
        self.browser.wait_until_text("h1", "Provisioning", TIMEOUT);
        let mappings = self.browser.text("main");
        assert!(mappings.contains("userName") && mappings.contains("userPrincipalName"), "{mappings}");
        self.check("mappings-users");
    }

    /// Users and groups: the group assigned (with the default role); its members are in scope through it.
    fn assign(&self, group: &str) {
        self.browser.goto(&self.app_url("users-and-groups"));
        self.browser.wait_for("#principal", TIMEOUT);
        self.browser.fill("#principal", group);
        self.browser.submit("#principal");
        self.browser.wait_until_text("#assignments", group, TIMEOUT);
        self.check("users-and-groups");
    }

    /// Scope "Sync only assigned users and groups", Provisioning Status On, Save: the cycle starts at once. With
    /// scripts, the Overview is open in another tab first, and its progress bar reaches 100% there without a
    /// reload; without, the Overview is reloaded until the cycle is done.
    fn turn_on(&self, target: &TargetEnterprise) {
        let provisioning = self.scripts.then(|| {
            let provisioning = self.browser.tab();
            self.browser.new_tab();
            self.browser.goto(&self.app_url("overview"));
            self.browser.wait_until_text("#cycle-headline", "Initial cycle not run.", TIMEOUT);
            self.browser.execute("window.rosterNotReloaded = true", vec![]);
            let overview = self.browser.tab();
            self.browser.switch_to(&provisioning);
            overview
        });
        self.browser.goto(&self.app_url("provisioning"));
        self.browser.click("input[name=scope][value=assigned]");
        self.browser.click("input[name=status][value=on]");
        self.browser.click("#save");
        self.browser.wait_until_text("#save-result", "the first cycle begins now", TIMEOUT);
        self.check("provisioning-on");
        let done = |text: &str| text.starts_with("100% complete");
        match provisioning {
            Some(overview) => {
                self.browser.switch_to(&overview);
                self.browser.wait_until("#cycle-progress-text", "100% complete", done, CYCLE);
                let marker = self.browser.execute("return window.rosterNotReloaded === true", vec![]);
                assert_eq!(marker, json!(true), "the Overview was not reloaded");
            }
            None => {
                self.browser.reload_until(&self.app_url("overview"), "#cycle-progress-text", "100%", done, CYCLE);
            }
        }
        assert_eq!(self.browser.attribute("#cycle-progress", "value").as_deref(), Some("100"));
        assert!(self.browser.text("#cycle-headline").contains("completed"), "{}", self.browser.text("#cycle-headline"));
        let (users, groups) = (target_count(target, "Users"), target_count(target, "Groups"));
        assert!(users > 1 && groups == 1, "the target holds the group and its enabled members: {users}, {groups}");
        assert_eq!(self.browser.text("#count-users"), users.to_string());
        assert_eq!(self.browser.text("#count-groups"), groups.to_string());
        self.check("overview-done");
    }

    /// The logs list the cycle's entries; one entry's details show its steps.
    fn logs(&self) {
        self.follow(&format!("/applications/{APP}/logs"));
        self.browser.wait_for("#log-table", TIMEOUT);
        let table = self.browser.text("#log-table");
        assert!(table.contains("Create") && table.contains("Success"), "{table}");
        self.check("logs");
        self.browser.click("#log-table tbody tr:first-child a");
        self.browser.wait_for("#detail", TIMEOUT);
        let detail = self.browser.text("#detail");
        assert!(detail.contains("Steps") || detail.contains("Import"), "{detail}");
        self.check("log-detail");
    }

    /// Provision on demand of one user: its steps, each with its status.
    fn on_demand(&self, upn: &str) {
        self.follow(&format!("/applications/{APP}/provision-on-demand"));
        self.browser.wait_for("#principal", TIMEOUT);
        self.browser.fill("#principal", upn);
        self.browser.click("#provision");
        self.browser.wait_for("#on-demand-result", TIMEOUT);
        let steps =
            self.browser.execute("return document.querySelectorAll('#on-demand-result ol.steps li').length", vec![]);
        let result = self.browser.text("#on-demand-result");
        assert!(steps.as_u64().is_some_and(|steps| steps >= 3), "import, scope, match and action: {steps}: {result}");
        self.check("on-demand");
    }

    /// A wrong token saved (Save says the credentials fail, and stores it), Restart provisioning: the quarantine
    /// banner says why and what to do.
    fn wrong_token(&self) {
        self.browser.goto(&self.app_url("provisioning"));
        self.browser.fill("#secret_token", "not-the-token");
        self.browser.click("#save");
        let saved = self.browser.wait_until_text("#save-result", "Saved.", TIMEOUT);
        assert!(saved.contains("credentials"), "Save says the credentials fail: {saved}");
        self.check("wrong-token-saved");
        self.follow(&format!("/applications/{APP}/overview"));
        self.browser.wait_for("#restart", TIMEOUT);
        self.browser.click("form[action$=\"/restart\"] button[type=submit]");
        let quarantined = |text: &str| text.contains("What to do");
        let banner = if self.scripts {
            self.browser.wait_until("#quarantine", "the banner", quarantined, CYCLE)
        } else {
            self.browser.reload_until(&self.app_url("overview"), "#quarantine", "the banner", quarantined, CYCLE)
        };
        assert!(banner.contains("Quarantine") && banner.contains("Secret Token"), "{banner}");
        self.check("quarantine");
    }
}

/// The whole walk, with or without scripts.
fn walk(options: Options) {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    let directory = directory(data.path());
    create_admin(data.path());
    let server = Server::start(data.path(), &[]);
    let scripts = options.javascript;
    let browser = Browser::start(options);
    let walk = Walk { browser: &browser, origin: &server.origin, scripts };
    walk.sign_in();
    walk.new_application();
    walk.credentials(&target);
    walk.assign(&directory.group);
    walk.turn_on(&target);
    walk.logs();
    walk.on_demand(&directory.member_upn);
    walk.wrong_token();
}

#[test]
fn the_tutorial_in_chromium() {
    walk(Options::default());
}

#[test]
fn the_tutorial_without_javascript() {
    walk(Options::javascript_off());
}
