//! The function table: names, signatures and argument counts of the 43 documented functions.

use std::fmt;

/// One of the documented functions. Names are case-sensitive, as in Entra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Function {
    Append,
    AppRoleAssignmentsComplex,
    BitAnd,
    CBool,
    CDate,
    Coalesce,
    ConvertToBase64,
    ConvertToUtf8Hex,
    Count,
    CStr,
    DateAdd,
    DateDiff,
    DateFromNum,
    FormatDateTime,
    Guid,
    IgnoreFlowIfNullOrEmpty,
    Iif,
    InStr,
    IsNull,
    IsNullOrEmpty,
    IsPresent,
    IsString,
    Item,
    Join,
    Left,
    Mid,
    NormalizeDiacritics,
    Not,
    Now,
    NumFromDate,
    PCase,
    RandomString,
    Redact,
    RemoveDuplicates,
    Replace,
    SelectUniqueValue,
    SingleAppRoleAssignment,
    Split,
    StripSpaces,
    Switch,
    ToLower,
    ToUpper,
    Word,
}

/// How many arguments a function takes: at least `min`, at most `max` (`None`: no upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arity {
    /// Fewest arguments.
    pub min: usize,
    /// Most arguments, `None` when the last one repeats.
    pub max: Option<usize>,
}

struct Spec {
    function: Function,
    name: &'static str,
    signature: &'static str,
    min: usize,
    max: Option<usize>,
}

const fn spec(function: Function, name: &'static str, signature: &'static str, min: usize, max: Option<usize>) -> Spec {
    Spec { function, name, signature, min, max }
}

use Function as F;

/// Every function, in the documentation's alphabetical order.
static SPECS: &[Spec] = &[
    spec(F::Append, "Append", "Append(source, suffix)", 2, Some(2)),
    spec(
        F::AppRoleAssignmentsComplex,
        "AppRoleAssignmentsComplex",
        "AppRoleAssignmentsComplex([appRoleAssignments])",
        1,
        Some(1),
    ),
    spec(F::BitAnd, "BitAnd", "BitAnd(value1, value2)", 2, Some(2)),
    spec(F::CBool, "CBool", "CBool(Expression)", 1, Some(1)),
    spec(F::CDate, "CDate", "CDate(expression)", 1, Some(1)),
    spec(F::Coalesce, "Coalesce", "Coalesce(source1, source2, ..., defaultValue)", 1, None),
    spec(F::ConvertToBase64, "ConvertToBase64", "ConvertToBase64(source)", 1, Some(1)),
    spec(F::ConvertToUtf8Hex, "ConvertToUTF8Hex", "ConvertToUTF8Hex(source)", 1, Some(1)),
    spec(F::Count, "Count", "Count(attribute)", 1, Some(1)),
    spec(F::CStr, "CStr", "CStr(value)", 1, Some(1)),
    spec(F::DateAdd, "DateAdd", "DateAdd(interval, value, dateTime)", 3, Some(3)),
    spec(F::DateDiff, "DateDiff", "DateDiff(interval, date1, date2)", 3, Some(3)),
    spec(F::DateFromNum, "DateFromNum", "DateFromNum(value)", 1, Some(1)),
    spec(
        F::FormatDateTime,
        "FormatDateTime",
        "FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)",
        3,
        Some(4),
    ),
    spec(F::Guid, "Guid", "Guid()", 0, Some(0)),
    spec(F::IgnoreFlowIfNullOrEmpty, "IgnoreFlowIfNullOrEmpty", "IgnoreFlowIfNullOrEmpty(expression)", 1, Some(1)),
    spec(F::Iif, "IIF", "IIF(condition, valueIfTrue, valueIfFalse)", 3, Some(3)),
    spec(F::InStr, "InStr", "InStr(value1, value2, start, compareType)", 2, Some(4)),
    spec(F::IsNull, "IsNull", "IsNull(Expression)", 1, Some(1)),
    spec(F::IsNullOrEmpty, "IsNullOrEmpty", "IsNullOrEmpty(Expression)", 1, Some(1)),
    spec(F::IsPresent, "IsPresent", "IsPresent(Expression)", 1, Some(1)),
    spec(F::IsString, "IsString", "IsString(Expression)", 1, Some(1)),
    spec(F::Item, "Item", "Item(attribute, index)", 2, Some(2)),
    spec(F::Join, "Join", "Join(separator, source1, source2, ...)", 2, None),
    spec(F::Left, "Left", "Left(String, NumChars)", 2, Some(2)),
    spec(F::Mid, "Mid", "Mid(source, start, length)", 3, Some(3)),
    spec(F::NormalizeDiacritics, "NormalizeDiacritics", "NormalizeDiacritics(source)", 1, Some(1)),
    spec(F::Not, "Not", "Not(source)", 1, Some(1)),
    spec(F::Now, "Now", "Now()", 0, Some(0)),
    spec(F::NumFromDate, "NumFromDate", "NumFromDate(value)", 1, Some(1)),
    spec(F::PCase, "PCase", "PCase(source, wordSeparators)", 1, Some(2)),
    spec(
        F::RandomString,
        "RandomString",
        "RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, CharactersToAvoid)",
        5,
        Some(6),
    ),
    spec(F::Redact, "Redact", "Redact(attribute/value)", 1, Some(1)),
    spec(F::RemoveDuplicates, "RemoveDuplicates", "RemoveDuplicates(attribute)", 1, Some(1)),
    spec(
        F::Replace,
        "Replace",
        "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
        3,
        Some(7),
    ),
    spec(
        F::SelectUniqueValue,
        "SelectUniqueValue",
        "SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, ...)",
        2,
        None,
    ),
    spec(
        F::SingleAppRoleAssignment,
        "SingleAppRoleAssignment",
        "SingleAppRoleAssignment([appRoleAssignments])",
        1,
        Some(1),
    ),
    spec(F::Split, "Split", "Split(source, delimiter)", 2, Some(2)),
    spec(F::StripSpaces, "StripSpaces", "StripSpaces(source)", 1, Some(1)),
    spec(F::Switch, "Switch", "Switch(source, defaultValue, key1, value1, key2, value2, ...)", 2, None),
    spec(F::ToLower, "ToLower", "ToLower(source, culture)", 1, Some(2)),
    spec(F::ToUpper, "ToUpper", "ToUpper(source, culture)", 1, Some(2)),
    spec(F::Word, "Word", "Word(String, WordNumber, Delimiters)", 3, Some(3)),
];

impl Function {
    /// Every function, in alphabetical order of its documented name.
    pub fn all() -> impl Iterator<Item = Function> {
        SPECS.iter().map(|spec| spec.function)
    }

    /// Looks a function up by its exact, case-sensitive name.
    pub fn from_name(name: &str) -> Option<Function> {
        SPECS.iter().find(|spec| spec.name == name).map(|spec| spec.function)
    }

    /// The documented name, e.g. `ConvertToUTF8Hex`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The documented signature, e.g. `Left(String, NumChars)`.
    pub fn signature(self) -> &'static str {
        self.spec().signature
    }

    /// How many arguments the function accepts.
    pub fn arity(self) -> Arity {
        let spec = self.spec();
        Arity { min: spec.min, max: spec.max }
    }

    /// Whether `count` arguments are acceptable (Switch also needs an even count).
    pub fn accepts(self, count: usize) -> bool {
        let arity = self.arity();
        let in_range = count >= arity.min && arity.max.is_none_or(|max| count <= max);
        in_range && (self != Function::Switch || count.is_multiple_of(2))
    }

    fn spec(self) -> &'static Spec {
        // The table has one row per variant, in declaration order.
        &SPECS[self as usize]
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_declaration_order_and_has_every_documented_function() {
        // The documentation lists 43 functions (the count "44" quoted elsewhere is a miscount).
        assert_eq!(SPECS.len(), 43);
        for (index, spec) in SPECS.iter().enumerate() {
            assert_eq!(spec.function as usize, index, "{}", spec.name);
            assert!(spec.signature.starts_with(spec.name));
        }
    }
}
