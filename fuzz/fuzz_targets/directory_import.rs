//! Arbitrary bytes into the three import parsers: none panics, and whatever parses, written in the
//! same format (and, for JSON, also as JSONL) and read again, is the same directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_directory::{export, import};

fuzz_target!(|data: &[u8]| {
    if let Ok(directory) = import::read_json(data) {
        let mut json = Vec::new();
        export::write_json(&directory, &mut json).expect("writing to a Vec succeeds");
        assert_eq!(import::read_json(&json[..]).expect("written JSON reads back"), directory);
        let mut jsonl = Vec::new();
        export::write_jsonl(&directory, &mut jsonl).expect("writing to a Vec succeeds");
        assert_eq!(import::read_jsonl(&jsonl[..]).expect("written JSONL reads back"), directory);
    }
    if let Ok(directory) = import::read_jsonl(data) {
        let mut jsonl = Vec::new();
        export::write_jsonl(&directory, &mut jsonl).expect("writing to a Vec succeeds");
        assert_eq!(import::read_jsonl(&jsonl[..]).expect("written JSONL reads back"), directory);
    }
    if let Ok(directory) = import::read_csv(data) {
        let mut csv = Vec::new();
        export::write_csv(&directory.users, &mut csv).expect("writing to a Vec succeeds");
        assert_eq!(import::read_csv(&csv[..]).expect("written CSV reads back"), directory);
    }
});
