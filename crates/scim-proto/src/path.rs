//! Attribute paths (RFC 7644 §3.10) and PATCH paths (RFC 7644 §3.5.2).
//!
//! The grammar, from RFC 7644 §3.4.2.2 and §3.5.2:
//!
//! ```text
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ATTRNAME  = ALPHA *(nameChar)
//! nameChar  = "-" / "_" / DIGIT / ALPHA
//! subAttr   = "." ATTRNAME
//! PATH      = attrPath / valuePath [subAttr]
//! valuePath = attrPath "[" valFilter "]"
//! ```
//!
//! Two additions: `$ref` is accepted as a name (RFC 7643 uses it as a sub-attribute of `groups`, `members` and
//! `manager`), and surrounding whitespace is ignored. A URN prefix is split from the name at the *last* `:`, so
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` has the URN
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, the name `manager` and the sub-attribute `value`.

use std::fmt;

use crate::error::ScimError;
use crate::filter::Filter;
use crate::filter::parse::Parser;

/// An attribute path: `[URN ":"] attrName ["." subAttr]`, as used in filters, `attributes`,
/// `excludedAttributes` and `sortBy`. Names keep the case the client wrote; lookups are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, when the path is fully qualified.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name.
    pub sub_attr: Option<String>,
}

/// A PATCH operation's path: an attribute path, or a value path (`attr[filter]`) with an optional sub-attribute
/// after the closing bracket.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute. Its `sub_attr` is set only for the form without a filter (`name.familyName`).
    pub attr: AttrPath,
    /// The value filter of `attr[filter]`; its paths are relative to the multi-valued attribute's elements.
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`, as in `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// Parses an attribute path such as `userName`, `name.familyName` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
    ///
    /// Surrounding whitespace is ignored. Errors are 400 `invalidPath` and name the column of the problem.
    ///
    /// ```
    /// use roster_scim_proto::path::AttrPath;
    /// let path = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
    /// assert_eq!(path.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    /// assert_eq!((path.name.as_str(), path.sub_attr.as_deref()), ("manager", Some("value")));
    /// ```
    pub fn parse(input: &str) -> Result<AttrPath, ScimError> {
        let trimmed = input.trim_start();
        let leading = input.len() - trimmed.len();
        let text = trimmed.trim_end();
        parse_attr_path_text(text).map_err(|error| {
            let column = input.get(..leading + error.offset).map_or(1, |before| before.chars().count() + 1);
            ScimError::invalid_path(format!(
                "invalid attribute path '{}': at column {column}: {}",
                abbreviate(input),
                error.message
            ))
        })
    }

    /// The whole path read as one schema URN, when it may be one: the URN prefix, `:` and the name, provided there
    /// is a prefix and no sub-attribute.
    ///
    /// PATCH clients send a schema URN as a path to address a whole extension, as in `"path":
    /// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`. The grammar reads that as the URN
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0` and the attribute name `User`; this joins the two
    /// back. Whether the result really is a schema is for the resource type to say, with
    /// [`ResourceType::schema`](crate::schema::ResourceType::schema).
    ///
    /// ```
    /// use roster_scim_proto::{path::AttrPath, schema::USER};
    /// let path = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
    /// let urn = path.full_urn().unwrap();
    /// assert_eq!(urn, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    /// assert!(USER.schema(&urn).is_some());
    /// assert_eq!(AttrPath::parse("userName").unwrap().full_urn(), None);
    /// ```
    pub fn full_urn(&self) -> Option<String> {
        match (&self.urn, &self.sub_attr) {
            (Some(urn), None) => Some(format!("{urn}:{}", self.name)),
            _ => None,
        }
    }
}

impl PatchPath {
    /// Parses a PATCH path: `attrPath`, or `attrPath "[" valFilter "]" ["." subAttr]`, each optionally
    /// URN-qualified, as in `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`.
    ///
    /// A value filter may not follow a sub-attribute (`name.givenName[...]`), and may not contain another value
    /// filter. Errors are 400 `invalidPath` and name the column of the problem.
    ///
    /// ```
    /// use roster_scim_proto::path::PatchPath;
    /// let path = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
    /// assert_eq!(path.attr.name, "emails");
    /// assert_eq!(path.sub_attr.as_deref(), Some("value"));
    /// assert_eq!(path.to_string(), r#"emails[type eq "work"].value"#);
    /// ```
    pub fn parse(input: &str) -> Result<PatchPath, ScimError> {
        Parser::new(input)
            .patch_path()
            .map_err(|error| ScimError::invalid_path(format!("invalid path '{}': {error}", abbreviate(input))))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

/// A problem in the text of an attribute path, at a byte offset into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathTextError {
    /// The byte offset of the problem in the text given to [`parse_attr_path_text`].
    pub(crate) offset: usize,
    /// What is wrong, as a sentence fragment without the column.
    pub(crate) message: String,
}

/// Parses the complete text of an attribute path, with no surrounding whitespace. The filter parser calls this
/// on each word that stands where an attribute path must be.
pub(crate) fn parse_attr_path_text(text: &str) -> Result<AttrPath, PathTextError> {
    if text.is_empty() {
        return Err(PathTextError { offset: 0, message: "expected an attribute path, found nothing".into() });
    }
    let (urn, rest, rest_offset) = match text.rfind(':') {
        Some(colon) => (text.get(..colon), text.get(colon + 1..).unwrap_or(""), colon + 1),
        None => (None, text, 0),
    };
    if let Some(urn) = urn {
        check_urn(urn)?;
        if rest.is_empty() {
            return Err(PathTextError {
                offset: rest_offset,
                message: format!("expected an attribute name after the schema URN '{urn}:'"),
            });
        }
    }
    let (name, sub_attr) = match rest.find('.') {
        Some(dot) => (rest.get(..dot).unwrap_or(""), Some((rest.get(dot + 1..).unwrap_or(""), rest_offset + dot + 1))),
        None => (rest, None),
    };
    check_name(name, rest_offset)?;
    if let Some((sub_attr, sub_offset)) = sub_attr {
        if sub_attr.is_empty() {
            return Err(PathTextError {
                offset: sub_offset,
                message: format!("expected a sub-attribute name after '{name}.'"),
            });
        }
        check_name(sub_attr, sub_offset)?;
    }
    Ok(AttrPath {
        urn: urn.map(str::to_owned),
        name: name.to_owned(),
        sub_attr: sub_attr.map(|(sub_attr, _)| sub_attr.to_owned()),
    })
}

/// Checks an attribute or sub-attribute name that starts at `offset` in the path text.
fn check_name(name: &str, offset: usize) -> Result<(), PathTextError> {
    if name.eq_ignore_ascii_case("$ref") {
        return Ok(());
    }
    let mut chars = name.char_indices();
    match chars.next() {
        None => {
            return Err(PathTextError { offset, message: "expected an attribute name, found nothing".into() });
        }
        Some((_, first)) if !first.is_ascii_alphabetic() => {
            return Err(PathTextError {
                offset,
                message: format!("attribute names start with a letter, but '{name}' starts with '{first}'"),
            });
        }
        Some(_) => {}
    }
    for (index, c) in chars {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            continue;
        }
        let message = if c == '.' {
            "an attribute path has at most one sub-attribute ('name.sub'), but this one has a second '.'".to_owned()
        } else {
            format!("invalid character '{c}' in attribute name; names contain only letters, digits, '-' and '_'")
        };
        return Err(PathTextError { offset: offset + index, message });
    }
    Ok(())
}

/// Checks the URI before the last `:` of a qualified path. It must start with a letter (a URI scheme) and hold
/// only characters that URNs and URIs use outside brackets and quotes.
fn check_urn(urn: &str) -> Result<(), PathTextError> {
    let mut chars = urn.char_indices();
    match chars.next() {
        None => return Err(PathTextError { offset: 0, message: "expected a schema URN before ':'".into() }),
        Some((_, first)) if !first.is_ascii_alphabetic() => {
            return Err(PathTextError {
                offset: 0,
                message: format!("a schema URN starts with a letter, as in 'urn:', but this one starts with '{first}'"),
            });
        }
        Some(_) => {}
    }
    for (index, c) in chars {
        if c.is_ascii_alphanumeric() || "-._~!$&*+,;=:@/%".contains(c) {
            continue;
        }
        return Err(PathTextError { offset: index, message: format!("invalid character '{c}' in schema URN") });
    }
    Ok(())
}

/// The input, cut to at most 80 characters, for quoting in an error message.
pub(crate) fn abbreviate(input: &str) -> String {
    const LIMIT: usize = 80;
    match input.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", input.get(..cut).unwrap_or("")),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses an attribute path and compares its debug form, or its error detail.
    fn check_attr(input: &str, expected: &str) {
        let actual = match AttrPath::parse(input) {
            Ok(path) => {
                let printed = path.to_string();
                assert_eq!(AttrPath::parse(&printed).as_ref(), Ok(&path), "round trip of {printed}");
                format!(
                    "{} | {} | {}",
                    path.urn.as_deref().unwrap_or("-"),
                    path.name,
                    path.sub_attr.as_deref().unwrap_or("-")
                )
            }
            Err(error) => {
                assert_eq!(error.scim_type, Some(crate::ScimType::InvalidPath));
                format!("error: {}", error.detail)
            }
        };
        assert_eq!(actual, expected, "input: {input}");
    }

    #[test]
    fn attr_paths() {
        check_attr("userName", "- | userName | -");
        check_attr("  userName\t", "- | userName | -");
        check_attr("name.familyName", "- | name | familyName");
        check_attr("groups.$ref", "- | groups | $ref");
        check_attr("x-y_z9", "- | x-y_z9 | -");
        check_attr(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            "urn:ietf:params:scim:schemas:core:2.0:User | userName | -",
        );
        check_attr(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User | manager | value",
        );
        check_attr(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0 | User | -",
        );
    }

    #[test]
    fn attr_path_errors() {
        check_attr("", "error: invalid attribute path '': at column 1: expected an attribute path, found nothing");
        check_attr(
            "1userName",
            "error: invalid attribute path '1userName': at column 1: attribute names start with a letter, \
             but '1userName' starts with '1'",
        );
        check_attr(
            "user name",
            "error: invalid attribute path 'user name': at column 5: invalid character ' ' in attribute name; \
             names contain only letters, digits, '-' and '_'",
        );
        check_attr(
            "name.familyName.x",
            "error: invalid attribute path 'name.familyName.x': at column 16: an attribute path has at most one \
             sub-attribute ('name.sub'), but this one has a second '.'",
        );
        check_attr(
            "name.",
            "error: invalid attribute path 'name.': at column 6: expected a sub-attribute name after 'name.'",
        );
        check_attr(
            "urn:x:",
            "error: invalid attribute path 'urn:x:': at column 7: expected an attribute name after the schema URN 'urn:x:'",
        );
        check_attr(
            ":userName",
            "error: invalid attribute path ':userName': at column 1: expected a schema URN before ':'",
        );
        check_attr(
            "urn:x[1]:userName",
            "error: invalid attribute path 'urn:x[1]:userName': at column 6: invalid character '[' in schema URN",
        );
        check_attr(
            "émails",
            "error: invalid attribute path 'émails': at column 1: attribute names start with a letter, \
             but 'émails' starts with 'é'",
        );
        check_attr(
            "ém:ails.ü",
            "error: invalid attribute path 'ém:ails.ü': at column 1: a schema URN starts with a letter, as in 'urn:', \
             but this one starts with 'é'",
        );
    }

    #[test]
    fn full_urn() {
        let check = |input: &str, expected: Option<&str>| {
            let path = AttrPath::parse(input).unwrap();
            assert_eq!(path.full_urn().as_deref(), expected, "input: {input}");
        };
        check("urn:ietf:params:scim:schemas:core:2.0:User", Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        check("urn:a:b.c", None);
        check("userName", None);
    }

    /// Parses a PATCH path and compares its printed form (and a summary of its parts), or its error detail.
    fn check_patch(input: &str, expected: &str) {
        let actual = match PatchPath::parse(input) {
            Ok(path) => {
                let printed = path.to_string();
                assert_eq!(PatchPath::parse(&printed).as_ref(), Ok(&path), "round trip of {printed}");
                format!(
                    "{printed} | attr={} filter={} sub={}",
                    path.attr,
                    path.filter.is_some(),
                    path.sub_attr.as_deref().unwrap_or("-")
                )
            }
            Err(error) => {
                assert_eq!(error.scim_type, Some(crate::ScimType::InvalidPath));
                format!("error: {}", error.detail)
            }
        };
        assert_eq!(actual, expected, "input: {input}");
    }

    #[test]
    fn patch_paths() {
        check_patch("userName", "userName | attr=userName filter=false sub=-");
        check_patch(" name.givenName ", "name.givenName | attr=name.givenName filter=false sub=-");
        check_patch(r#"emails[type eq "work"]"#, r#"emails[type eq "work"] | attr=emails filter=true sub=-"#);
        check_patch(
            r#"emails[type eq "work" and primary eq true].value"#,
            r#"emails[type eq "work" and primary eq true].value | attr=emails filter=true sub=value"#,
        );
        check_patch(
            r#"members[value EQ "2819c223-7f76-453a-919d-413861904646"]"#,
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"] | attr=members filter=true sub=-"#,
        );
        check_patch(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq 'work'].value"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value | attr=urn:ietf:params:scim:schemas:core:2.0:User:emails filter=true sub=value"#,
        );
        check_patch(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref | \
             attr=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref filter=false sub=-",
        );
        check_patch(
            r#"addresses[type eq "work" or not (primary eq false)].streetAddress"#,
            r#"addresses[type eq "work" or not (primary eq false)].streetAddress | attr=addresses filter=true sub=streetAddress"#,
        );
    }

    #[test]
    fn patch_path_errors() {
        check_patch("", "error: invalid path '': at column 1: expected an attribute path, found end of input");
        check_patch(
            r#"emails[type eq "work""#,
            r#"error: invalid path 'emails[type eq "work"': at column 22: expected ']' to close the '[' at column 7, found end of input"#,
        );
        check_patch(
            r#"emails[type eq "work"]value"#,
            r#"error: invalid path 'emails[type eq "work"]value': at column 23: expected '.' and a sub-attribute name or the end of the path after ']', found 'value'"#,
        );
        check_patch(
            r#"emails[type eq "work"]."#,
            r#"error: invalid path 'emails[type eq "work"].': at column 24: expected a sub-attribute name after '].', found end of input"#,
        );
        check_patch(
            r#"emails[type eq "work"].value.x"#,
            r#"error: invalid path 'emails[type eq "work"].value.x': at column 29: an attribute path has at most one sub-attribute ('name.sub'), but this one has a second '.'"#,
        );
        check_patch(
            r#"name.givenName[value eq "x"]"#,
            r#"error: invalid path 'name.givenName[value eq "x"]': at column 15: a value filter follows an attribute, not a sub-attribute: write 'name[...]', not 'name.givenName[...]'"#,
        );
        check_patch(
            r#"emails[addresses[type eq "x"] pr]"#,
            r#"error: invalid path 'emails[addresses[type eq "x"] pr]': at column 17: value filters cannot be nested: found '[' inside the value filter of 'emails'"#,
        );
        check_patch(
            "emails[]",
            "error: invalid path 'emails[]': at column 8: expected an attribute path, '(' or 'not (', found ']'",
        );
        check_patch(
            "userName eq",
            "error: invalid path 'userName eq': at column 10: expected '[' or the end of the path after 'userName', found 'eq'",
        );
    }
}
