//! The generator: determinism, shape, and generate -> write -> read.

use std::collections::BTreeSet;

use proptest::prelude::*;
use roster_directory::generate::{Directory, GenerateOptions};
use roster_directory::{ObjectId, export, import};

fn options(users: usize, groups: usize, members_per_group: usize, seed: u64) -> GenerateOptions {
    GenerateOptions { users, groups, members_per_group, seed }
}

fn json_bytes(directory: &Directory) -> Vec<u8> {
    let mut bytes = Vec::new();
    export::write_json(directory, &mut bytes).unwrap();
    bytes
}

#[test]
fn same_seed_same_bytes() {
    let first = json_bytes(&Directory::generate(&options(300, 20, 15, 42)));
    let second = json_bytes(&Directory::generate(&options(300, 20, 15, 42)));
    assert_eq!(first, second);
    let other = json_bytes(&Directory::generate(&options(300, 20, 15, 43)));
    assert_ne!(first, other);
}

#[test]
fn shape() {
    let directory = Directory::generate(&options(2000, 200, 25, 7));
    assert_eq!(directory.users.len(), 2000);
    assert_eq!(directory.groups.len(), 200);

    let ids: BTreeSet<&ObjectId> =
        directory.users.iter().map(|user| user.id()).chain(directory.groups.iter().map(|group| group.id())).collect();
    assert_eq!(ids.len(), 2200, "ids are unique");
    let upns: BTreeSet<String> =
        directory.users.iter().map(|user| user.user_principal_name().as_str().to_lowercase()).collect();
    assert_eq!(upns.len(), 2000, "user principal names are unique");
    assert!(upns.iter().any(|upn| upn.starts_with("zoe.")), "non-ASCII names are folded");
    assert!(directory.users.iter().any(|user| user.given_name.as_deref() == Some("Zoë")));

    // Managers form a tree rooted at the first user: each manager comes earlier in the list.
    let position: std::collections::BTreeMap<&ObjectId, usize> =
        directory.users.iter().enumerate().map(|(index, user)| (user.id(), index)).collect();
    assert!(directory.users[0].manager.is_none());
    for (index, user) in directory.users.iter().enumerate().skip(1) {
        let manager = user.manager.as_ref().expect("everyone but the root has a manager");
        assert!(position[manager] < index);
    }

    // Group sizes: mean close to members_per_group, a long tail.
    let mut sizes: Vec<usize> = directory
        .groups
        .iter()
        .map(|group| group.members.iter().filter(|member| position.contains_key(member)).count())
        .collect();
    sizes.sort_unstable();
    let total: usize = sizes.iter().sum();
    assert_eq!(total, 200 * 25, "the mean is exactly members_per_group when no group is capped");
    let median = sizes[sizes.len() / 2];
    let largest = sizes[sizes.len() - 1];
    assert!(median < 25, "most groups are smaller than the mean: median {median}");
    assert!(largest > 4 * 25, "a few groups are big: largest {largest}");
    for group in &directory.groups {
        let members: BTreeSet<&ObjectId> = group.members.iter().collect();
        assert_eq!(members.len(), group.members.len(), "no member twice");
        assert!(group.members.iter().all(|member| ids.contains(member)));
    }
}

#[test]
fn sizes_are_capped_by_the_user_count() {
    let directory = Directory::generate(&options(10, 5, 50, 1));
    assert!(directory.groups.iter().all(|group| group.members.len() <= 11));
    let empty = Directory::generate(&options(0, 3, 5, 1));
    assert!(empty.users.is_empty());
    assert!(empty.groups.iter().all(|group| group.members.len() <= 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn generated_directories_round_trip(users in 0usize..80, groups in 0usize..10, members in 0usize..20, seed in any::<u64>()) {
        let directory = Directory::generate(&options(users, groups, members, seed));

        prop_assert_eq!(&import::read_json(&json_bytes(&directory)[..]).unwrap(), &directory);

        let mut jsonl = Vec::new();
        export::write_jsonl(&directory, &mut jsonl).unwrap();
        prop_assert_eq!(&import::read_jsonl(&jsonl[..]).unwrap(), &directory);

        let mut csv = Vec::new();
        export::write_csv(&directory.users, &mut csv).unwrap();
        prop_assert_eq!(import::read_csv(&csv[..]).unwrap().users, directory.users);
    }
}
