//! One table per function family, built from the examples of Microsoft's "Reference for writing
//! expressions for attribute mappings in Microsoft Entra ID" (and edge cases it states in prose).

use roster_expr::Value;

use crate::{check, check_taken, list, roles, s};

/// Expression, attributes, expected rendering.
type Case<'a> = (&'a str, &'a [(&'a str, Value)], &'a str);
type OwnedCase<'a> = (&'a str, Vec<(&'a str, Value)>, &'a str);

#[test]
fn strings() {
    let upn = [("userPrincipalName", s("John.Doe@contoso.com"))];
    let cases: &[Case<'_>] = &[
        // Append
        (r#"Append([userPrincipalName], ".test")"#, &upn, "John.Doe@contoso.com.test"),
        (r#"Append([userPrincipalName], ".test")"#, &[], "<null>"),
        (r#"Append("a", [missing])"#, &[], "a"),
        // Join
        (r#"Join(", ", "", [surname], [givenName])"#, &[("givenName", s("John")), ("surname", s("Doe"))], "Doe, John"),
        (r#"Join(";", [proxyAddresses], "x")"#, &[("proxyAddresses", list(&["a", "b"]))], "a;b;x"),
        (r#"Join("", [a], [b])"#, &[], ""),
        // Left
        (r#"Left("John Doe", 3)"#, &[], "Joh"),
        (r#"Left("John Doe", 0)"#, &[], ""),
        (r#"Left("John Doe", -1)"#, &[], "John Doe"),
        (r#"Left([missing], 3)"#, &[], ""),
        (r#"Left("Jo", 30)"#, &[], "Jo"),
        // Mid
        (
            r#"Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))"#,
            &[("givenName", s("John")), ("surname", s("Doe"))],
            "JohDoe",
        ),
        (r#"Mid("abcdef", 3, 2)"#, &[], "cd"),
        (r#"Mid("abcdef", 9, 2)"#, &[], ""),
        (r#"Mid("abcdef", 0, 2)"#, &[], "error: Mid: start must be 1 or more, found 0"),
        // NormalizeDiacritics
        (r#"NormalizeDiacritics([givenName])"#, &[("givenName", s("Zoë"))], "Zoe"),
        (r#"NormalizeDiacritics("Jéssica Æsir Øre ß ā́ a̱ İ ł")"#, &[], "Jessica AEsir OEre ss a a I l"),
        // PCase
        (r#"PCase([firstName])"#, &[("firstName", s("PABLO GONSALVES (SECOND)"))], "Pablo Gonsalves (Second)"),
        (r#"PCase([lastName]," '-")"#, &[("lastName", s("PINTO-DE'SILVA"))], "Pinto-De'Silva"),
        (
            r#"PCase(Join(" ",[firstName],[lastName]))"#,
            &[("firstName", s("GREGORY")), ("lastName", s("JAMES"))],
            "Gregory James",
        ),
        // StripSpaces
        (r#"StripSpaces(" a b\tc ")"#, &[], r"ab\tc"),
        // ToLower / ToUpper
        (
            r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))"#,
            &[("PreferredFirstName", s("John")), ("PreferredLastName", s("Smith"))],
            "john.smith@contoso.com",
        ),
        (r#"ToUpper("abc", "en-US")"#, &[], "ABC"),
        (r#"ToLower([missing])"#, &[], "<null>"),
        // Word
        (r#"Word("The quick brown fox",3," ")"#, &[], "brown"),
        (r#"Word("This,string!has&many separators",3,",!&#")"#, &[], "has"),
        (r#"Word("The quick", 0, " ")"#, &[], ""),
        (r#"Word("The quick", 5, " ")"#, &[], ""),
        (r#"Word([missing], 1, " ")"#, &[], ""),
        // InStr
        (r#"InStr("The quick brown fox","quick")"#, &[], "5"),
        (r#"InStr("repEated","e",3,vbBinaryCompare)"#, &[], "7"),
        (r#"InStr("repEated","e",3,vbTextCompare)"#, &[], "4"),
        (r#"InStr("abc","z")"#, &[], "0"),
        // Split
        (
            r#"Split([extensionAttribute5], ",")"#,
            &[("extensionAttribute5", s("PermissionSetOne, PermissionSetTwo"))],
            r#"["PermissionSetOne","PermissionSetTwo"]"#,
        ),
        // ConvertToBase64 / ConvertToUTF8Hex
        (r#"ConvertToBase64("Hello world!")"#, &[], "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
        (r#"ConvertToUTF8Hex("Hello world!")"#, &[], "48656C6C6F20776F726C6421"),
        // CStr
        (r#"CStr([dn])"#, &[("dn", s("cn=Joe,dc=contoso,dc=com"))], "cn=Joe,dc=contoso,dc=com"),
        (r#"CStr(BitAnd(6, 3))"#, &[], "2"),
        (r#"CStr([enabled])"#, &[("enabled", Value::Boolean(true))], "True"),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, attributes, expected);
    }
}

#[test]
fn replace() {
    let cases: &[Case<'_>] = &[
        // Example 1: oldValue and replacementValue.
        (
            r#"Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )"#,
            &[("BusinessTitle", s("Product Developer"))],
            "Software Engineer",
        ),
        // "Strip known domain name".
        (r#"Replace([mail], "@contoso.com", , ,"", ,)"#, &[("mail", s("john.doe@contoso.com"))], "john.doe"),
        // Example 2: oldValue and template.
        (
            r#"Replace([UserID],"<username>", , , , , "<username>@contoso.com")"#,
            &[("UserID", s("jsmith"))],
            "jsmith@contoso.com",
        ),
        // Example 3: regexPattern and replacementValue.
        (
            r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
            &[("telephoneNumber", s("+91 9998887777"))],
            "9998887777",
        ),
        (r#"Replace([mobile], , "[()\\s-]+", , "", , )"#, &[("mobile", s("+1 (999) 888-7777"))], "+19998887777"),
        // Example 4: regexPattern, regexGroupName and replacementValue.
        (
            r#"Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )"#,
            &[("AddressLineData", s("545 Tremont Street"))],
            "888 Tremont Street",
        ),
        (
            r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#,
            &[("userPrincipalName", s("jsmith@contoso.com"))],
            "jsmith",
        ),
        // Example 5: regexPattern, regexGroupName and replacementAttributeName.
        (
            r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#,
            &[("telephoneNumber", s("")), ("mobile", s("+91 8887779999"))],
            "8887779999",
        ),
        (
            r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#,
            &[("telephoneNumber", s("+1 5550001111")), ("mobile", s("+91 8887779999"))],
            "+1 5550001111",
        ),
        // Example 6: remove characters that match.
        (r#"Replace([mailNickname], , "[a-zA-Z_]*", , "", , )"#, &[("mailNickname", s("john_doe72"))], "72"),
        // "Generate an ID ... based on their object ID" (the documented output belongs to another object id).
        (
            r#"Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))"#,
            &[("objectId", s("00aa00aa-bb11-cc22-dd33-44ee44ee44ee"))],
            "100030306161303061612626231312636332322646433332343465653434656534346565",
        ),
        // .NET's (?P<name>) spelling is accepted too.
        (r#"Replace("ab12", , "(?P<digits>\\d+)", , "[${digits}]", , )"#, &[], "ab[12]"),
        (r#"Replace([missing], "a", , , "b", , )"#, &[], "<null>"),
        (
            r#"Replace("abc", , "(", , "", , )"#,
            &[],
            "error: Replace: invalid regular expression \"(\": regex parse error:\n    (\n    ^\nerror: unclosed group",
        ),
        (r#"Replace("abc", , "(?<x>a)", "y", "", , )"#, &[], "error: Replace: the pattern has no group named \"y\""),
        (r#"Replace("abc", , , , "", , )"#, &[], "error: Replace: give oldValue or regexPattern"),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, attributes, expected);
    }
}

#[test]
fn conditions() {
    let usa = [("country", s("USA")), ("department", s("Sales")), ("state", s("WA"))];
    let de = [("country", s("DE")), ("department", s("Sales")), ("state", s("CA"))];
    let cases: &[Case<'_>] = &[
        // IIF
        (r#"IIF([country]="USA",[country],[department])"#, &usa, "USA"),
        (r#"IIF([country]="USA",[country],[department])"#, &de, "Sales"),
        (r#"IIF([country]="USA",IIF([state]="CA","True","False"),"False")"#, &usa, "False"),
        (r#"IIF([country]="USA","True",IIF([state]="CA","True","False"))"#, &de, "True"),
        (r#"IIF([country]="",[country],"Other")"#, &[], "error: IIF: the condition uses a null or absent value"),
        (
            r#"IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))"#,
            &[("companyName", s("Company B"))],
            "B",
        ),
        (r#"IIF(3 >= 2, "yes", "no")"#, &[], "yes"),
        (r#"IIF([n] < 10, "small", "big")"#, &[("n", s("9"))], "small"),
        (r#"IIF("b" <> "a", "yes", "no")"#, &[], "yes"),
        // CBool, Not
        (r#"CBool([attribute1] = [attribute2])"#, &[("attribute1", s("x")), ("attribute2", s("x"))], "True"),
        (r#"CBool([attribute1] = [attribute2])"#, &[("attribute1", s("x")), ("attribute2", s("y"))], "False"),
        (r#"CBool(0)"#, &[], "False"),
        (r#"CBool("7")"#, &[], "True"),
        (r#"CBool("maybe")"#, &[], "error: CBool: expected a boolean or number, found \"maybe\""),
        (r#"Not([IsSoftDeleted])"#, &[("IsSoftDeleted", Value::Boolean(false))], "True"),
        (r#"Not("True")"#, &[], "False"),
        (r#"Not("anything")"#, &[], "True"),
        // Switch
        (
            r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#,
            &[("state", s("QLD"))],
            "Australia/Brisbane",
        ),
        (
            r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#,
            &[("state", s("VIC"))],
            "Australia/Sydney",
        ),
        (r#"Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")"#, &[("statusFlag", s("TRUE"))], "1"),
        (r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, &[("statusFlag", s(""))], "0"),
        (r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, &[], "0"),
        (r#"Switch([country],[country],"","Other")"#, &[("country", s("DE"))], "DE"),
        (r#"Switch([country],[country],"","Other")"#, &[], "Other"),
        (
            r#"Switch([companyName], "External", "Company A", "A", "Company B", "B")"#,
            &[("companyName", s("Company A"))],
            "A",
        ),
        (r#"Switch(IsPresent([jobTitle]), "DefaultValue", "True", [jobTitle])"#, &[], "DefaultValue"),
        (r#"Switch(IsPresent([jobTitle]), "DefaultValue", "True", [jobTitle])"#, &[("jobTitle", s("CEO"))], "CEO"),
        (
            r#"Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])"#,
            &[("directManager", s("m1")), ("skiplevelManager", s("m2"))],
            "m2",
        ),
        // Coalesce
        (
            r#"Coalesce([mail],[userPrincipalName])"#,
            &[("userPrincipalName", s("John.Doe@contoso.com"))],
            "John.Doe@contoso.com",
        ),
        (
            r#"Coalesce([mail],[userPrincipalName])"#,
            &[("mail", s("j@contoso.com")), ("userPrincipalName", s("John.Doe@contoso.com"))],
            "j@contoso.com",
        ),
        (r#"Coalesce([mail],[userPrincipalName])"#, &[], "<null>"),
        (r#"Coalesce([mail], "")"#, &[], ""),
        // IsNull family
        (r#"IsNull([displayName])"#, &[], "True"),
        (r#"IsNull([displayName])"#, &[("displayName", s(""))], "False"),
        (r#"IsNullOrEmpty([displayName])"#, &[("displayName", s(""))], "True"),
        (r#"IsNullOrEmpty([displayName])"#, &[("displayName", s("x"))], "False"),
        (r#"IsPresent([displayName])"#, &[("displayName", s("x"))], "True"),
        (r#"IsString([displayName])"#, &[("displayName", s("x"))], "True"),
        (r#"IsString(BitAnd(1, 1))"#, &[], "False"),
        // IgnoreFlowIfNullOrEmpty
        (r#"IgnoreFlowIfNullOrEmpty([department])"#, &[], "<ignore>"),
        (r#"IgnoreFlowIfNullOrEmpty([department])"#, &[("department", s(""))], "<ignore>"),
        (r#"IgnoreFlowIfNullOrEmpty([department])"#, &[("department", s("Sales"))], "Sales"),
        (
            r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#,
            &[("prefix", s("9"))],
            "<ignore>",
        ),
        (
            r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#,
            &[("prefix", s("3444"))],
            "Prof.",
        ),
        // Direct and constant mappings
        (r#"[displayName]"#, &[("displayName", s("John"))], "John"),
        (r#"[displayName]"#, &[], "<null>"),
        (r#""Contoso""#, &[], "Contoso"),
        (r#""Company name: \"Contoso\"""#, &[], r#"Company name: "Contoso""#),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, attributes, expected);
    }
}

#[test]
fn numbers_and_lists() {
    let proxies = [("proxyAddresses", list(&["SMTP:a@x", "smtp:b@x", "SMTP:a@x"]))];
    let cases: &[Case<'_>] = &[
        (r#"BitAnd(&HF, &HF7)"#, &[], "7"),
        (r#"BitAnd(6, "3")"#, &[], "2"),
        (r#"BitAnd([flags], 2)"#, &[], "error: BitAnd: value1 is required"),
        (r#"Count([proxyAddresses])"#, &proxies, "3"),
        (r#"Count([missing])"#, &[], "0"),
        (r#"Item([proxyAddresses], 1)"#, &proxies, "SMTP:a@x"),
        (r#"Item([proxyAddresses], 0)"#, &proxies, "<null>"),
        (r#"Item([proxyAddresses], 4)"#, &proxies, "<null>"),
        (r#"RemoveDuplicates([proxyAddresses])"#, &proxies, r#"["SMTP:a@x","smtp:b@x"]"#),
        (r#"ToLower([proxyAddresses])"#, &proxies, r#"["smtp:a@x","smtp:b@x","smtp:a@x"]"#),
        (
            r#"Left([proxyAddresses], 1)"#,
            &proxies,
            "error: Left: expected a single value, found a multi-valued attribute",
        ),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, attributes, expected);
    }
}

#[test]
fn dates() {
    let hire = |date: &str| vec![("StatusHireDate", s(date))];
    let cases: Vec<OwnedCase<'_>> = vec![
        // CDate
        (r#"CDate([StatusHireDate])"#, hire("2020-03-16-07:00"), "3/16/2020 7:00:00 AM"),
        (r#"CDate("2021-06-30+08:00")"#, vec![], "6/29/2021 4:00:00 PM"),
        (r#"CDate("2009-06-15T01:45:30-07:00")"#, vec![], "6/15/2009 8:45:30 AM"),
        (r#"CDate("not a date")"#, vec![], "error: CDate: expected a date, found \"not a date\""),
        // DateAdd, example 1's table
        (r#"DateAdd("d", 7, CDate([StatusHireDate]))"#, hire("2012-03-16-07:00"), "3/23/2012 7:00:00 AM"),
        (r#"DateAdd("d", -10, CDate([StatusHireDate]))"#, hire("2012-03-16-07:00"), "3/6/2012 7:00:00 AM"),
        (r#"DateAdd("ww", 2, CDate([StatusHireDate]))"#, hire("2012-03-16-07:00"), "3/30/2012 7:00:00 AM"),
        (r#"DateAdd("m", 10, CDate([StatusHireDate]))"#, hire("2012-03-16-07:00"), "1/16/2013 7:00:00 AM"),
        (r#"DateAdd("yyyy", 2, CDate([StatusHireDate]))"#, hire("2012-03-16-07:00"), "3/16/2014 7:00:00 AM"),
        (r#"DateAdd("m", 1, CDate("2021-01-31"))"#, vec![], "2/28/2021 12:00:00 AM"),
        (
            r#"DateAdd("q", 1, Now())"#,
            vec![],
            "error: DateAdd: interval must be one of yyyy, m, d, ww, h, n, s; found \"q\"",
        ),
        // DateDiff, example 1's table
        (r#"DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))"#, vec![], "13"),
        (r#"DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#, vec![], "-3449"),
        (r#"DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#, vec![], "-493"),
        (r#"DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#, vec![], "-113"),
        (r#"DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))"#, vec![], "-9"),
        (r#"DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))"#, vec![], "0"),
        (r#"DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))"#, vec![], "24"),
        (r#"DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))"#, vec![], "1440"),
        (r#"DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))"#, vec![], "86400"),
        (r#"DateDiff("d", Now(), CDate([StatusHireDate]))"#, hire("2021-07-05"), "3"),
        // DateDiff, example 2 (now is 2021-07-02)
        (
            r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#,
            vec![("Active", s("1")), ("StatusHireDate", s("2021-07-05"))],
            "True",
        ),
        (
            r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#,
            vec![("Active", s("1")), ("StatusHireDate", s("2021-08-01"))],
            "False",
        ),
        (
            r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#,
            vec![("Active", s("0"))],
            "False",
        ),
        (
            r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#,
            vec![("Active", s("2"))],
            "<null>",
        ),
        // DateFromNum, NumFromDate
        (r#"DateFromNum(129699324000000000)"#, vec![], "1/1/2012 11:00:00 PM"),
        (
            r#"DateFromNum([lastLogonTimestamp])"#,
            vec![("lastLogonTimestamp", Value::Number(129699324000000000))],
            "1/1/2012 11:00:00 PM",
        ),
        (
            r#"NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))"#,
            vec![("ContractEndDate", s("2020-12-31-08:00"))],
            "132539615990000000",
        ),
        (
            r#"NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))"#,
            vec![("endDate", s("12/31/2020 12:00:00 AM"))],
            "132539615990000000",
        ),
        (r#"NumFromDate(DateFromNum(129699324000000000))"#, vec![], "129699324000000000"),
        // FormatDateTime
        (
            r#"FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")"#,
            vec![("extensionAttribute1", s("20150123105347.1Z"))],
            "2015-01-23",
        ),
        (r#"FormatDateTime([d], , "yyyy-MM-dd", "M/d/yyyy")"#, vec![("d", s("2015-01-03"))], "1/3/2015"),
        (
            r#"FormatDateTime([d], "AdjustToUniversal", "yyyy-MM-dd", "dd-MM-yyyy")"#,
            vec![("d", s("2015-01-03"))],
            "03-01-2015",
        ),
        (r#"FormatDateTime([d], "yyyy-MM-dd", "dd-MM-yyyy")"#, vec![("d", s("2015-01-03"))], "03-01-2015"),
        (
            r#"FormatDateTime([d], , "M/d/yyyy h:mm:ss tt", "yyyy-MM-ddTHH:mm:ssK")"#,
            vec![("d", s(" 7/2/2021 3:33:38 PM "))],
            "2021-07-02T15:33:38Z",
        ),
        (
            r#"FormatDateTime([d], , "yyyy-MM-dd", "yyyy")"#,
            vec![("d", s("03-01-2015"))],
            "error: FormatDateTime: \"03-01-2015\" does not match the date format \"yyyy-MM-dd\"",
        ),
        (r#"FormatDateTime(Now(), , , "yyyy-MM-dd HH:mm")"#, vec![], "2021-07-02 15:33"),
        (r#"FormatDateTime([missing], , "yyyy", "yyyy")"#, vec![], "<null>"),
        // Now
        (r#"Now()"#, vec![], "7/2/2021 3:33:38 PM"),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, &attributes, expected);
    }
}

#[test]
fn world_and_secrets() {
    let upn_rule = r#"SelectUniqueValue(
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )"#;
    let john = [("PreferredFirstName", s("John")), ("PreferredLastName", s("Smith"))];
    check_taken(upn_rule, &john, &[], "John.Smith@contoso.com");
    check_taken(upn_rule, &john, &["John.Smith@contoso.com"], "J.Smith@contoso.com");
    check_taken(upn_rule, &john, &["John.Smith@contoso.com", "J.Smith@contoso.com"], "Jo.Smith@contoso.com");
    check_taken(
        upn_rule,
        &john,
        &["John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com"],
        "error: SelectUniqueValue: none of the 3 rules gave a unique value",
    );
    let jessica = [("PreferredFirstName", s("Jéssica")), ("PreferredLastName", s("Smith"))];
    check_taken(upn_rule, &jessica, &[], "Jessica.Smith@contoso.com");

    let cases: &[Case<'_>] = &[
        (r#"Guid()"#, &[], "a2242722-6377-4c86-bd51-ad3f130af08a"),
        (r#"RandomString(6,3,0,0,3)"#, &[], "2eu9c9"),
        (r#"RandomString(10,2,2,2,1,"?,")"#, &[], "9a2vUCn}2{"),
        // The sample strings are the seeded generator's; the documented "1a73qt" and "1@!2BaRg53" only show the shape.
        (r#"RandomString(300,0,0,0,0)"#, &[], "error: RandomString: Length must be between 0 and 256, found 300"),
        (r#"RandomString(2,2,2,0,0)"#, &[], "error: RandomString: the minimums add up to 4, more than the length 2"),
        (r#"Redact([userPrincipalName])"#, &[("userPrincipalName", s("a@b"))], "[Redact] a@b"),
        (r#"Redact("StringToBeRedacted")"#, &[], "[Redact] StringToBeRedacted"),
        (r#"Redact(RandomString(6,3,0,0,3))"#, &[], "[Redact] 2eu9c9"),
        (r#"Join("-", Redact("x"), "y")"#, &[], "[Redact] x-y"),
        // App roles
        (
            r#"SingleAppRoleAssignment([appRoleAssignments])"#,
            &[("appRoleAssignments", roles(&[("Admin", "Administrator")]))],
            "Admin",
        ),
        (r#"SingleAppRoleAssignment([appRoleAssignments])"#, &[("appRoleAssignments", roles(&[]))], "<null>"),
        (
            r#"AppRoleAssignmentsComplex([appRoleAssignments])"#,
            &[("appRoleAssignments", roles(&[("Admin", "Admin"), ("User", "Users")]))],
            r#"[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Admin","value":"Admin"},{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Users","value":"User"}]"#,
        ),
        (r#"AppRoleAssignmentsComplex([appRoleAssignments])"#, &[], "<null>"),
        (
            r#"Count([appRoleAssignments])"#,
            &[("appRoleAssignments", roles(&[("Admin", "Admin"), ("User", "Users")]))],
            "2",
        ),
        (
            r#"SingleAppRoleAssignment([mail])"#,
            &[("mail", s("x"))],
            "error: SingleAppRoleAssignment: expected [appRoleAssignments], found a string",
        ),
    ];
    for (expression, attributes, expected) in cases {
        check(expression, attributes, expected);
    }
}

#[test]
fn runaway_growth_is_an_error() {
    let mut doubling = "[x]".to_owned();
    for _ in 0..30 {
        doubling = format!("ConvertToUTF8Hex({doubling})");
    }
    check(&doubling, &[("x", s("abcdefgh"))], "error: ConvertToUTF8Hex: the result is larger than 1048576 bytes");
    check(
        r#"Replace(Replace(Replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a", , , "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", , ), "a", , , "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", , ), "a", , , "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", , )"#,
        &[],
        "error: Replace: the result is larger than 1048576 bytes",
    );
}
