//! A synthetic directory generator: realistic, reproducible for a seed, with no wall clock.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;

pub use crate::model::Directory;
use crate::model::{ExtensionValue, Group, ObjectId, User, UserPrincipalName};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The number of users.
    pub users: usize,
    /// The number of groups.
    pub groups: usize,
    /// The mean number of user members a group has (capped by `users`). Sizes have a long tail:
    /// a few big groups and many small ones.
    pub members_per_group: usize,
    /// The seed; the same options always give the same directory.
    pub seed: u64,
}

/// The domain of generated user principal names.
pub const DOMAIN: &str = "octo-corp.example";

/// The extension attribute some generated users carry.
pub const COST_CENTER_EXTENSION: &str = "extension_3f2a9c1e5b7d4e8fa0c1d2e3f4a5b6c7_costCenter";

impl Directory {
    /// Generates a directory from a `StdRng` seeded with `options.seed`.
    pub fn generate(options: &GenerateOptions) -> Directory {
        Directory::generate_with(options, &mut StdRng::seed_from_u64(options.seed))
    }

    /// Generates a directory drawing from `rng` (`options.seed` is not used).
    pub fn generate_with(options: &GenerateOptions, rng: &mut impl Rng) -> Directory {
        let users = generate_users(options.users, rng);
        let groups = generate_groups(options, &users, rng);
        Directory { users, groups }
    }
}

const GIVEN_NAMES: &[&str] = &[
    "Zoë",
    "Jürgen",
    "Søren",
    "Ngọc",
    "Amélie",
    "José",
    "Siobhán",
    "Łukasz",
    "Björn",
    "Chloé",
    "Renée",
    "Dvořák",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Sofia",
    "Mateo",
    "Valentina",
    "Diego",
    "Hiroshi",
    "Yuki",
    "Haruto",
    "Sakura",
    "Wei",
    "Mei",
    "Jian",
    "Li",
    "Minh",
    "Thảo",
    "Anh",
    "Priya",
    "Arjun",
    "Ananya",
    "Rahul",
    "Fatima",
    "Omar",
    "Aisha",
    "Youssef",
    "Chidi",
    "Amara",
    "Kwame",
    "Nia",
    "Olga",
    "Dmitri",
    "Ingrid",
    "Lars",
    "Astrid",
    "Mikael",
    "François",
    "Hélène",
    "Gaël",
    "Małgorzata",
    "Zoltán",
    "Ísak",
];

const SURNAMES: &[&str] = &[
    "Müller",
    "Schröder",
    "Jørgensen",
    "Nguyễn",
    "Trần",
    "Lê",
    "García",
    "Martínez",
    "Núñez",
    "O'Brien",
    "Ó Súilleabháin",
    "Kowalski",
    "Wiśniewski",
    "Lindqvist",
    "Åberg",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Wang",
    "Zhang",
    "Chen",
    "Liu",
    "Patel",
    "Sharma",
    "Singh",
    "Gupta",
    "Haddad",
    "Mansour",
    "Okafor",
    "Mensah",
    "Adeyemi",
    "Ivanova",
    "Petrov",
    "Hansen",
    "Andersen",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Bianchi",
    "Kovács",
    "Nagy",
    "van der Berg",
    "De Vries",
    "Papadopoulos",
    "Yılmaz",
    "Öztürk",
    "Çelik",
];

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Support",
    "Operations",
    "Research",
    "Product",
    "Security",
    "Facilities",
];

const JOB_TITLES: &[&str] = &[
    "Software Engineer",
    "Senior Software Engineer",
    "Engineering Manager",
    "Account Executive",
    "Sales Manager",
    "Marketing Specialist",
    "Financial Analyst",
    "HR Business Partner",
    "Counsel",
    "Support Engineer",
    "Operations Analyst",
    "Research Scientist",
    "Product Manager",
    "Security Analyst",
    "Office Manager",
    "Director",
    "Vice President",
];

/// Country (ISO 3166 alpha-2), city, preferred language, phone prefix.
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("US", "Seattle", "en-US", "+1 206"),
    ("US", "New York", "en-US", "+1 212"),
    ("DE", "Berlin", "de-DE", "+49 30"),
    ("DE", "München", "de-DE", "+49 89"),
    ("DK", "København", "da-DK", "+45 3"),
    ("FR", "Paris", "fr-FR", "+33 1"),
    ("GB", "London", "en-GB", "+44 20"),
    ("JP", "Tokyo", "ja-JP", "+81 3"),
    ("VN", "Hà Nội", "vi-VN", "+84 24"),
    ("IN", "Bengaluru", "en-IN", "+91 80"),
    ("BR", "São Paulo", "pt-BR", "+55 11"),
    ("NG", "Lagos", "en-NG", "+234 1"),
    ("PL", "Kraków", "pl-PL", "+48 12"),
    ("SE", "Göteborg", "sv-SE", "+46 31"),
];

const GROUP_KINDS: &[&str] = &["Team", "All", "Project", "Guild", "Admins", "Readers", "On-call"];

const PROJECTS: &[&str] =
    &["Falcon", "Aurora", "Nimbus", "Orion", "Atlas", "Zephyr", "Borealis", "Kestrel", "Lumen", "Quasar"];

fn generate_users(n_users: usize, rng: &mut impl Rng) -> Vec<User> {
    let mut users: Vec<User> = Vec::with_capacity(n_users);
    let mut taken_upns: BTreeSet<String> = BTreeSet::new();
    // Ten years' span starting 2020-01-01T00:00:00Z, for soft-deletion dates.
    let epoch = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_577_836_800);
    for user_index in 0..n_users {
        let given = *GIVEN_NAMES.choose(rng).unwrap_or(&"Alex");
        let surname = *SURNAMES.choose(rng).unwrap_or(&"Doe");
        let base = format!("{}.{}", ascii_fold(given), ascii_fold(surname));
        let mut local = base.clone();
        let mut suffix = 2;
        while taken_upns.contains(&local) {
            local = format!("{base}{suffix}");
            suffix += 1;
        }
        taken_upns.insert(local.clone());
        let upn_text = format!("{local}@{DOMAIN}");
        let Ok(upn) = UserPrincipalName::parse(&upn_text) else {
            unreachable!("generated user principal names are valid: {upn_text}");
        };
        let mut user = User::new(ObjectId::from_u128(random_guid(rng)), upn);
        let (country, city, language, phone_prefix) = *PLACES.choose(rng).unwrap_or(&PLACES[0]);
        user.mail = Some(upn_text);
        user.mail_nickname = Some(local);
        user.display_name = Some(format!("{given} {surname}"));
        user.given_name = Some(given.to_owned());
        user.surname = Some(surname.to_owned());
        user.account_enabled = rng.gen_bool(0.95);
        user.department = DEPARTMENTS.choose(rng).map(|department| (*department).to_owned());
        user.job_title = JOB_TITLES.choose(rng).map(|title| (*title).to_owned());
        user.employee_id = Some(format!("E{:06}", user_index + 1));
        user.company_name = Some("Octo Corp".to_owned());
        user.country = Some(country.to_owned());
        user.city = Some(city.to_owned());
        user.office_location = Some(format!("{city} {}", rng.gen_range(1..=5)));
        user.preferred_language = Some(language.to_owned());
        if rng.gen_bool(0.8) {
            user.mobile_phone = Some(format!("{phone_prefix} {:07}", rng.gen_range(0..10_000_000)));
        }
        for _ in 0..rng.gen_range(0..=2) {
            user.business_phones.push(format!("{phone_prefix} {:07}", rng.gen_range(0..10_000_000)));
        }
        // Each user's manager comes earlier in the list, so managers form a tree rooted at user 0;
        // drawing from the first eighth makes a few managers with many reports.
        if user_index > 0 {
            let manager_index = rng.gen_range(0..user_index.div_ceil(8));
            user.manager = Some(users[manager_index].id().clone());
        }
        if rng.gen_bool(0.01) {
            user.deleted_date_time = Some(epoch + time::Duration::seconds(rng.gen_range(0..315_360_000)));
        }
        if rng.gen_bool(0.3) {
            let cost_center = ExtensionValue::String(format!("CC-{:04}", rng.gen_range(1000..10_000)));
            // The name is a valid extension attribute name.
            let _ = user.insert_extension(COST_CENTER_EXTENSION, cost_center);
        }
        users.push(user);
    }
    users
}

fn generate_groups(options: &GenerateOptions, users: &[User], rng: &mut impl Rng) -> Vec<Group> {
    let sizes = group_sizes(options.groups, options.members_per_group, users.len(), rng);
    let mut groups: Vec<Group> = Vec::with_capacity(options.groups);
    for (group_index, size) in sizes.into_iter().enumerate() {
        let kind = *GROUP_KINDS.choose(rng).unwrap_or(&"Team");
        let display_name = if kind == "Project" {
            format!("Project {} {}", PROJECTS.choose(rng).unwrap_or(&"Atlas"), group_index + 1)
        } else {
            format!("{} {kind} {}", DEPARTMENTS.choose(rng).unwrap_or(&"Engineering"), group_index + 1)
        };
        let Ok(mut group) = Group::new(ObjectId::from_u128(random_guid(rng)), &display_name) else {
            unreachable!("generated display names are not empty");
        };
        group.mail_nickname = Some(
            display_name
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect(),
        );
        group.description = Some(format!("{display_name} ({size} members)"));
        group.security_enabled = Some(rng.gen_bool(0.7));
        let mut member_indexes = rand::seq::index::sample(rng, users.len(), size).into_vec();
        member_indexes.sort_unstable();
        group.members = member_indexes.into_iter().map(|index| users[index].id().clone()).collect();
        // A tenth of the groups nest an earlier group, which keeps nesting free of cycles.
        if group_index > 0 && rng.gen_bool(0.1) {
            let nested = rng.gen_range(0..group_index);
            group.members.push(groups[nested].id().clone());
        }
        groups.push(group);
    }
    groups
}

/// Group sizes with a long tail: Pareto-distributed weights (shape 1.5, capped at 50 times the
/// smallest) scaled so the sizes sum to `n_groups * mean`, each at most `n_users`.
fn group_sizes(n_groups: usize, mean: usize, n_users: usize, rng: &mut impl Rng) -> Vec<usize> {
    if n_groups == 0 {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..n_groups)
        .map(|_| {
            let uniform: f64 = rng.gen_range(f64::EPSILON..1.0);
            uniform.powf(-1.0 / 1.5).min(50.0)
        })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let wanted = n_groups.saturating_mul(mean);
    let mut sizes: Vec<usize> =
        weights.iter().map(|weight| ((weight / total_weight * wanted as f64).floor() as usize).min(n_users)).collect();
    // Hand out what flooring lost, one member at a time, to groups that have room.
    let mut missing = wanted.saturating_sub(sizes.iter().sum());
    let mut group_index = 0;
    let mut full_in_a_row = 0;
    while missing > 0 && full_in_a_row < n_groups {
        if sizes[group_index] < n_users {
            sizes[group_index] += 1;
            missing -= 1;
            full_in_a_row = 0;
        } else {
            full_in_a_row += 1;
        }
        group_index = (group_index + 1) % n_groups;
    }
    sizes
}

fn random_guid(rng: &mut impl Rng) -> u128 {
    // Version 4, variant 1, like the GUIDs Entra issues.
    (rng.r#gen::<u128>() & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
}

/// Folds the letters of the built-in names to ASCII for user principal names, and drops anything
/// else Entra does not allow there.
fn ascii_fold(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars() {
        let replacement = match c {
            'a'..='z' | '0'..='9' | '\'' | '-' => {
                folded.push(c);
                continue;
            }
            'A'..='Z' => {
                folded.push(c.to_ascii_lowercase());
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ắ' | 'Å' | 'Á' | 'À' | 'Ä' => {
                "a"
            }
            'æ' => "ae",
            'ç' | 'č' | 'ć' | 'Ç' | 'Č' => "c",
            'đ' | 'Đ' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ễ' | 'ệ' | 'É' | 'È' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' | 'İ' | 'Í' => "i",
            'ł' | 'Ł' => "l",
            'ñ' | 'ń' | 'Ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ọ' | 'ồ' | 'ố' | 'ơ' | 'Ó' | 'Ö' | 'Ø' => "o",
            'ř' => "r",
            'ś' | 'š' | 'ş' | 'Ś' | 'Š' => "s",
            'ß' => "ss",
            'ù' | 'ú' | 'û' | 'ü' | 'ư' | 'ũ' | 'Ü' | 'Ú' => "u",
            'ý' | 'ÿ' | 'Ý' => "y",
            'ž' | 'ź' | 'ż' | 'Ž' => "z",
            _ => "",
        };
        folded.push_str(replacement);
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_name_folds_to_letters() {
        for name in GIVEN_NAMES.iter().chain(SURNAMES) {
            let folded = ascii_fold(name);
            assert!(!folded.is_empty(), "{name}");
            let upn = format!("{folded}.{folded}@{DOMAIN}");
            assert!(UserPrincipalName::parse(&upn).is_ok(), "{name} -> {upn}");
            let letters = name.chars().filter(|c| c.is_alphabetic()).count();
            assert!(folded.chars().filter(char::is_ascii_alphabetic).count() >= letters, "{name} -> {folded}");
        }
    }

    #[test]
    fn folds() {
        assert_eq!(ascii_fold("Zoë"), "zoe");
        assert_eq!(ascii_fold("Jürgen"), "jurgen");
        assert_eq!(ascii_fold("Søren"), "soren");
        assert_eq!(ascii_fold("Ngọc"), "ngoc");
        assert_eq!(ascii_fold("van der Berg"), "vanderberg");
    }

    #[test]
    fn group_sizes_hit_the_mean_and_cap() {
        let mut rng = StdRng::seed_from_u64(7);
        let sizes = group_sizes(200, 30, 10_000, &mut rng);
        assert_eq!(sizes.iter().sum::<usize>(), 6000);
        let sizes = group_sizes(10, 30, 20, &mut rng);
        assert!(sizes.iter().all(|&size| size <= 20));
        assert!(group_sizes(0, 30, 20, &mut rng).is_empty());
        assert_eq!(group_sizes(3, 5, 0, &mut rng), vec![0, 0, 0]);
    }
}
