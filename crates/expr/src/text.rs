//! String helpers: NormalizeDiacritics' table, PCase's word rules, RandomString's character classes.

use rand::RngCore;

/// The documented NormalizeDiacritics table, by precomposed character. Combining marks (U+0300 to U+036F)
/// are dropped separately, which covers the table's multi-character entries such as `ā́` and `a̱`.
const DIACRITICS: &[(&str, &str)] = &[
    ("äàâãåáąăāǟǡ", "a"),
    ("ÄÀÂÃÅÁĄĂĀǞǠ", "A"),
    ("æǣ", "ae"),
    ("ÆǢ", "AE"),
    ("çčć", "c"),
    ("ÇČĆ", "C"),
    ("ďḏ", "d"),
    ("ĎḎ", "D"),
    ("ëèéêęěėēḗḕ", "e"),
    ("ËÈÉÊĘĚĖĒḖḔ", "E"),
    ("ğḡ", "g"),
    ("ĞḠ", "G"),
    ("ïîìíıī", "i"),
    ("ÏÎÌÍİĪ", "I"),
    ("ľłḹḻ", "l"),
    ("ŁĽḸḺ", "L"),
    ("ñńňṉ", "n"),
    ("ÑŃŇṈ", "N"),
    ("öòőõôóōṓṑȫǭȭȱ", "o"),
    ("ÖÒŐÕÔÓŌṒṐȪǬȬȰ", "O"),
    ("øœ", "oe"),
    ("ØŒ", "OE"),
    ("řṟṝ", "r"),
    ("ŘṞṜ", "R"),
    ("ß", "ss"),
    ("šśșş", "s"),
    ("ŠŚȘŞ", "S"),
    ("ťțṯ", "t"),
    ("ŤȚṮ", "T"),
    ("üùûúůűūǖṻṳ", "u"),
    ("ÜÙÛÚŮŰŪǕṺṲ", "U"),
    ("ÿýȳ", "y"),
    ("ŸÝȲ", "Y"),
    ("źžżẕ", "z"),
    ("ŹŽŻẔ", "Z"),
];

pub(crate) fn normalize_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ('\u{0300}'..='\u{036F}').contains(&c) {
            continue;
        }
        match DIACRITICS.iter().find(|(from, _)| from.contains(c)) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
    out
}

/// PCase: the first character of each word upper case, the rest lower case. Without `separators`, any
/// character that is not a letter or digit separates words (the Unicode categories .NET's ToTitleCase
/// treats as separators); with them, only those characters do.
pub(crate) fn proper_case(text: &str, separators: Option<&str>) -> String {
    let is_separator = |c: char| match separators {
        Some(separators) => separators.contains(c),
        None => !c.is_alphanumeric(),
    };
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if is_separator(c) {
            out.push(c);
            at_word_start = true;
        } else if at_word_start {
            out.extend(c.to_uppercase());
            at_word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

const DIGITS: &str = "0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
/// The special characters of Windows' password complexity rules.
const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

/// Longest RandomString, as documented.
pub(crate) const MAX_RANDOM_LENGTH: i64 = 256;

pub(crate) struct RandomSpec<'a> {
    pub(crate) length: usize,
    pub(crate) numbers: usize,
    pub(crate) special: usize,
    pub(crate) capital: usize,
    pub(crate) lower: usize,
    pub(crate) avoid: &'a str,
}

/// RandomString: the minimum of each class first, the rest from all classes, then shuffled.
pub(crate) fn random_string(spec: &RandomSpec<'_>, rng: &mut dyn RngCore) -> Result<String, String> {
    let allowed = |class: &str| -> Vec<char> { class.chars().filter(|c| !spec.avoid.contains(*c)).collect() };
    let classes = [
        (allowed(DIGITS), spec.numbers, "numbers"),
        (allowed(SPECIAL), spec.special, "special characters"),
        (allowed(UPPER), spec.capital, "capital letters"),
        (allowed(LOWER), spec.lower, "lower case letters"),
    ];
    let minimum: usize = classes.iter().map(|(_, count, _)| count).sum();
    if minimum > spec.length {
        return Err(format!("the minimums add up to {minimum}, more than the length {}", spec.length));
    }
    let mut out = Vec::with_capacity(spec.length);
    for (chars, count, name) in &classes {
        if *count > 0 && chars.is_empty() {
            return Err(format!("CharactersToAvoid excludes all {name}"));
        }
        for _ in 0..*count {
            out.push(pick(chars, rng));
        }
    }
    let everything: Vec<char> = classes.iter().flat_map(|(chars, _, _)| chars.iter().copied()).collect();
    if out.len() < spec.length && everything.is_empty() {
        return Err("CharactersToAvoid excludes every character".to_owned());
    }
    while out.len() < spec.length {
        out.push(pick(&everything, rng));
    }
    for index in (1..out.len()).rev() {
        let other = below(index + 1, rng);
        out.swap(index, other);
    }
    Ok(out.into_iter().collect())
}

fn pick(chars: &[char], rng: &mut dyn RngCore) -> char {
    chars[below(chars.len(), rng)]
}

/// A uniform index below `bound` (> 0).
fn below(bound: usize, rng: &mut dyn RngCore) -> usize {
    let bound = bound as u64;
    let zone = u64::MAX - u64::MAX % bound;
    loop {
        let candidate = rng.next_u64();
        if candidate < zone {
            return (candidate % bound) as usize;
        }
    }
}

/// A random (version 4) GUID, lower case and hyphenated.
pub(crate) fn guid(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
