//! Parse errors: the column they point at and what they say; and canonical printing.

use roster_expr::Expression;

#[track_caller]
fn check_error(input: &str, column: usize, message: &str) {
    match Expression::parse(input) {
        Ok(expression) => panic!("{input:?} parsed as {expression}"),
        Err(error) => {
            assert_eq!((error.column, error.message.as_str()), (column, message), "{input:?}");
        }
    }
}

#[track_caller]
fn check_canonical(input: &str, canonical: &str) {
    let expression = Expression::parse(input).unwrap_or_else(|error| panic!("{input:?}: {error}"));
    assert_eq!(expression.to_string(), canonical);
    assert_eq!(Expression::parse(canonical).as_ref(), Ok(&expression));
}

#[test]
fn errors_point_at_the_column() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "expected a function, `[attribute]`, `\"string\"` or number, found the end of the expression"),
        ("join(\",\", [a], [b])", 1, "unknown function `join`; did you mean `Join`? (names are case-sensitive)"),
        ("Frobnicate([a])", 1, "unknown function `Frobnicate`"),
        ("Append([a])", 1, "Append takes 2 arguments: Append(source, suffix); found 1"),
        ("ToLower([a], \"en-US\", 3)", 1, "ToLower takes 1 to 2 arguments: ToLower(source, culture); found 3"),
        ("Join(\",\")", 1, "Join takes at least 2 arguments: Join(separator, source1, source2, ...); found 1"),
        (
            "Switch([a], \"d\", \"k\")",
            1,
            "Switch takes at least 2 arguments (an even number): Switch(source, defaultValue, key1, value1, key2, value2, ...); found 3",
        ),
        ("Append([a] \"x\")", 12, "expected `,` or `)`, found a string constant"),
        ("Append([a], \"x\"", 16, "expected `,` or `)`, found the end of the expression"),
        ("Append([a], \"x\"))", 17, "expected the end of the expression, found `)`"),
        ("Append([a, \"x\")", 8, "unterminated attribute name: expected `]`, found the end of the expression"),
        ("Append([a], \"x)", 13, "unterminated string constant: expected `\"`, found the end of the expression"),
        ("Left([a], 3.5)", 12, "expected a function, `[attribute]`, `\"string\"` or number, found '.'"),
        ("Left([], 3)", 6, "expected an attribute name, found `[]`"),
        ("BitAnd(&G1, 1)", 9, "expected `H` after `&` (a hex literal like `&HF7`), found 'G'"),
        ("BitAnd(&H, 1)", 10, "expected hex digits after `&H`, found ','"),
        ("Left([a], 99999999999999999999)", 11, "number `99999999999999999999` does not fit in 64 bits"),
        ("Left([a], -)", 12, "expected a digit after `-`, found ')'"),
        (
            "Guid",
            1,
            "expected `(` after function name `Guid` (or one of the constants vbBinaryCompare, vbTextCompare), found the end of the expression",
        ),
        ("IIF([a] = [b] = [c], 1, 2)", 15, "expected `,` or `)`, found `=`"),
        (
            "Join(\",\", SelectUniqueValue([a], [b]))",
            11,
            "SelectUniqueValue must be the whole expression; it can't be nested",
        ),
        ("  Append(\n[a]\n)", 3, "Append takes 2 arguments: Append(source, suffix); found 1"),
        ("Append([a], $)", 13, "expected a function, `[attribute]`, `\"string\"` or number, found '$'"),
        ("Append([a\n], \"x\")", 10, "expected an attribute name character or `]`, found '\\n'"),
    ];
    for (input, column, message) in cases {
        check_error(input, *column, message);
    }
}

#[test]
fn length_and_depth_limits() {
    let long = format!("\"{}\"", "a".repeat(10_000));
    check_error(&long, 10_001, "expressions are limited to 10000 characters, found 10002");
    let just_fits = format!("\"{}\"", "a".repeat(9_998));
    assert!(Expression::parse(&just_fits).is_ok());
    let deep = format!("{}[a]{}", "ToLower(".repeat(101), ")".repeat(101));
    check_error(&deep, 801, "function calls are nested deeper than 100 levels");
    let fits = format!("{}[a]{}", "ToLower(".repeat(100), ")".repeat(100));
    assert!(Expression::parse(&fits).is_ok());
}

#[test]
fn canonical_form() {
    let cases: &[(&str, &str)] = &[
        (
            r#"Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )"#,
            r#"Replace([BusinessTitle], "Product Developer",,, "Software Engineer",,)"#,
        ),
        (r#"IIF([country]="USA",[country],[department])"#, r#"IIF([country] = "USA", [country], [department])"#),
        (r#"BitAnd(&HF, &HF7)"#, r#"BitAnd(15, 247)"#),
        (r#"InStr("repEated","e",3,vbBinaryCompare)"#, r#"InStr("repEated", "e", 3, vbBinaryCompare)"#),
        (
            "[extension_9d98ed114c4840d298fad781915f27e4_employeeType]",
            "[extension_9d98ed114c4840d298fad781915f27e4_employeeType]",
        ),
        (
            "[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employee Number]",
            "[urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employee Number]",
        ),
        (r#""a \\ b \" c \d""#, r#""a \\ b \" c \\d""#),
        ("Guid( )", "Guid()"),
        ("Switch([Active], , \"1\", \"x\")", "Switch([Active],, \"1\", \"x\")"),
        ("-10", "-10"),
    ];
    for (input, canonical) in cases {
        check_canonical(input, canonical);
    }
}
