//! The syntax tree, the lexer, the parser and the canonical printer.

use std::fmt;

use crate::functions::Function;

/// Longest accepted expression, in characters (Entra's documented limit).
pub const MAX_LENGTH: usize = 10_000;

/// Deepest accepted nesting of function calls.
pub const MAX_DEPTH: usize = 100;

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `[attributeName]`: a source attribute, null when absent.
    Attribute(String),
    /// `"text"`: a string constant.
    String(String),
    /// `42`, `-10`, `&HF7`: an integer constant.
    Number(i64),
    /// `vbBinaryCompare` or `vbTextCompare`, the VBA constants InStr takes.
    Name(VbConstant),
    /// `FunctionName(arg, , arg)`: a call; `None` is an omitted argument.
    Call {
        /// The function called.
        function: Function,
        /// The arguments; an omitted one (`Replace([x], "a", , , "b", , )`) is `None`.
        args: Vec<Option<Expr>>,
    },
    /// `left op right`, as IIF's condition takes it.
    Compare {
        /// The operator.
        op: CompareOp,
        /// Left operand (never itself a comparison).
        left: Box<Expr>,
        /// Right operand (never itself a comparison).
        right: Box<Expr>,
    },
}

/// The named constants of VBA that the language accepts as bare words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VbConstant {
    /// `vbBinaryCompare`, 0: ordinal, case-sensitive comparison.
    BinaryCompare,
    /// `vbTextCompare`, 1: case-insensitive comparison.
    TextCompare,
}

impl VbConstant {
    /// The constant's name as written.
    pub fn name(self) -> &'static str {
        match self {
            VbConstant::BinaryCompare => "vbBinaryCompare",
            VbConstant::TextCompare => "vbTextCompare",
        }
    }

    fn from_name(name: &str) -> Option<VbConstant> {
        match name {
            "vbBinaryCompare" => Some(VbConstant::BinaryCompare),
            "vbTextCompare" => Some(VbConstant::TextCompare),
            _ => None,
        }
    }
}

/// A comparison operator: `=`, `<>`, `<`, `<=`, `>`, `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl CompareOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "=",
            CompareOp::NotEqual => "<>",
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
        }
    }
}

/// Why an expression did not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column, counted in characters from the start of the expression (a line break counts as one).
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

pub(crate) fn parse(input: &str) -> Result<Expr, ParseError> {
    let length = input.chars().count();
    if length > MAX_LENGTH {
        return Err(ParseError {
            column: MAX_LENGTH + 1,
            message: format!("expressions are limited to {MAX_LENGTH} characters, found {length}"),
        });
    }
    let tokens = lex(input)?;
    let mut parser = Parser { tokens, position: 0 };
    let expr = parser.comparison(0)?;
    let token = parser.peek();
    if token.kind != TokenKind::End {
        return Err(parser.unexpected(&token, "the end of the expression"));
    }
    Ok(expr)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    Attribute(String),
    String(String),
    Number(i64),
    Word(String),
    Open,
    Close,
    Comma,
    Op(CompareOp),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    column: usize,
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Attribute(name) => format!("attribute `[{name}]`"),
            TokenKind::String(_) => "a string constant".to_owned(),
            TokenKind::Number(n) => format!("number `{n}`"),
            TokenKind::Word(word) => format!("`{word}`"),
            TokenKind::Open => "`(`".to_owned(),
            TokenKind::Close => "`)`".to_owned(),
            TokenKind::Comma => "`,`".to_owned(),
            TokenKind::Op(op) => format!("`{}`", op.symbol()),
            TokenKind::End => "the end of the expression".to_owned(),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    let error = |index: usize, message: String| ParseError { column: index + 1, message };
    while index < chars.len() {
        let start = index;
        let c = chars[index];
        let kind = match c {
            ' ' | '\t' | '\r' | '\n' => {
                index += 1;
                continue;
            }
            '(' => {
                index += 1;
                TokenKind::Open
            }
            ')' => {
                index += 1;
                TokenKind::Close
            }
            ',' => {
                index += 1;
                TokenKind::Comma
            }
            '=' => {
                index += 1;
                TokenKind::Op(CompareOp::Equal)
            }
            '<' | '>' => {
                index += 1;
                let next = chars.get(index).copied();
                let op = match (c, next) {
                    ('<', Some('>')) => Some(CompareOp::NotEqual),
                    ('<', Some('=')) => Some(CompareOp::LessOrEqual),
                    ('>', Some('=')) => Some(CompareOp::GreaterOrEqual),
                    _ => None,
                };
                match op {
                    Some(op) => {
                        index += 1;
                        TokenKind::Op(op)
                    }
                    None if c == '<' => TokenKind::Op(CompareOp::Less),
                    None => TokenKind::Op(CompareOp::Greater),
                }
            }
            '[' => {
                index += 1;
                let mut name = String::new();
                loop {
                    match chars.get(index) {
                        None => {
                            return Err(error(
                                start,
                                "unterminated attribute name: expected `]`, found the end of the expression".to_owned(),
                            ));
                        }
                        Some(']') => break,
                        Some(&bad) if bad == '[' || bad.is_control() => {
                            return Err(error(
                                index,
                                format!("expected an attribute name character or `]`, found {bad:?}"),
                            ));
                        }
                        Some(&ch) => name.push(ch),
                    }
                    index += 1;
                }
                index += 1;
                if name.is_empty() {
                    return Err(error(start, "expected an attribute name, found `[]`".to_owned()));
                }
                TokenKind::Attribute(name)
            }
            '"' => {
                index += 1;
                let mut text = String::new();
                loop {
                    match chars.get(index) {
                        None => {
                            return Err(error(
                                start,
                                "unterminated string constant: expected `\"`, found the end of the expression"
                                    .to_owned(),
                            ));
                        }
                        Some('"') => break,
                        Some('\\') => match chars.get(index + 1) {
                            Some(&escaped @ ('"' | '\\')) => {
                                text.push(escaped);
                                index += 1;
                            }
                            // Any other backslash is kept as written, so regex patterns like
                            // "\d" work without doubling.
                            Some(_) => text.push('\\'),
                            None => {
                                return Err(error(
                                    start,
                                    "unterminated string constant: expected `\"`, found the end of the expression"
                                        .to_owned(),
                                ));
                            }
                        },
                        Some(&ch) => text.push(ch),
                    }
                    index += 1;
                }
                index += 1;
                TokenKind::String(text)
            }
            '&' => {
                index += 1;
                if !matches!(chars.get(index), Some('H' | 'h')) {
                    return Err(error(
                        index,
                        format!(
                            "expected `H` after `&` (a hex literal like `&HF7`), found {}",
                            describe_char(chars.get(index))
                        ),
                    ));
                }
                index += 1;
                let digits_start = index;
                while chars.get(index).is_some_and(char::is_ascii_hexdigit) {
                    index += 1;
                }
                let digits: String = chars[digits_start..index].iter().collect();
                if digits.is_empty() {
                    return Err(error(
                        index,
                        format!("expected hex digits after `&H`, found {}", describe_char(chars.get(index))),
                    ));
                }
                let value = u64::from_str_radix(&digits, 16)
                    .map_err(|_| error(start, format!("hex literal `&H{digits}` does not fit in 64 bits")))?;
                // VBA hex literals are two's complement: &HFFFFFFFFFFFFFFFF is -1.
                TokenKind::Number(value as i64)
            }
            '-' | '0'..='9' => {
                index += 1;
                if c == '-' && !chars.get(index).is_some_and(char::is_ascii_digit) {
                    return Err(error(
                        index,
                        format!("expected a digit after `-`, found {}", describe_char(chars.get(index))),
                    ));
                }
                while chars.get(index).is_some_and(char::is_ascii_digit) {
                    index += 1;
                }
                let digits: String = chars[start..index].iter().collect();
                let value = digits
                    .parse::<i64>()
                    .map_err(|_| error(start, format!("number `{digits}` does not fit in 64 bits")))?;
                TokenKind::Number(value)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while chars.get(index).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    index += 1;
                }
                TokenKind::Word(chars[start..index].iter().collect())
            }
            other => {
                return Err(error(
                    start,
                    format!("expected a function, `[attribute]`, `\"string\"` or number, found {other:?}"),
                ));
            }
        };
        tokens.push(Token { kind, column: start + 1 });
    }
    tokens.push(Token { kind: TokenKind::End, column: chars.len() + 1 });
    Ok(tokens)
}

fn describe_char(c: Option<&char>) -> String {
    match c {
        Some(c) => format!("{c:?}"),
        None => "the end of the expression".to_owned(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens[self.position.min(last)].clone()
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if self.position < self.tokens.len() {
            self.position += 1;
        }
        token
    }

    fn unexpected(&self, token: &Token, expected: &str) -> ParseError {
        ParseError { column: token.column, message: format!("expected {expected}, found {}", token.kind.describe()) }
    }

    fn comparison(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let left = self.operand(depth)?;
        let TokenKind::Op(op) = self.peek().kind else {
            return Ok(left);
        };
        self.bump();
        let right = self.operand(depth)?;
        Ok(Expr::Compare { op, left: Box::new(left), right: Box::new(right) })
    }

    fn operand(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let token = self.bump();
        match token.kind {
            TokenKind::Attribute(name) => Ok(Expr::Attribute(name)),
            TokenKind::String(text) => Ok(Expr::String(text)),
            TokenKind::Number(n) => Ok(Expr::Number(n)),
            TokenKind::Word(word) => {
                if self.peek().kind != TokenKind::Open {
                    return match VbConstant::from_name(&word) {
                        Some(constant) => Ok(Expr::Name(constant)),
                        None => Err(ParseError {
                            column: token.column,
                            message: format!(
                                "expected `(` after function name `{word}` (or one of the constants vbBinaryCompare, vbTextCompare), found {}",
                                self.peek().kind.describe()
                            ),
                        }),
                    };
                }
                let Some(function) = Function::from_name(&word) else {
                    return Err(unknown_function(&word, token.column));
                };
                if function == Function::SelectUniqueValue && depth > 0 {
                    return Err(ParseError {
                        column: token.column,
                        message: "SelectUniqueValue must be the whole expression; it can't be nested".to_owned(),
                    });
                }
                if depth >= MAX_DEPTH {
                    return Err(ParseError {
                        column: token.column,
                        message: format!("function calls are nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                self.bump();
                let args = self.arguments(depth + 1)?;
                if !function.accepts(args.len()) {
                    let arity = function.arity();
                    let expected = match arity.max {
                        Some(max) if max == arity.min => format!("{max}"),
                        Some(max) => format!("{} to {max}", arity.min),
                        None => format!("at least {}", arity.min),
                    };
                    let parity = if function == Function::Switch { " (an even number)" } else { "" };
                    return Err(ParseError {
                        column: token.column,
                        message: format!(
                            "{function} takes {expected} arguments{parity}: {}; found {}",
                            function.signature(),
                            args.len()
                        ),
                    });
                }
                Ok(Expr::Call { function, args })
            }
            _ => Err(self.unexpected(&token, "a function, `[attribute]`, `\"string\"` or number")),
        }
    }

    /// Parses the arguments after `(` up to and including `)`.
    fn arguments(&mut self, depth: usize) -> Result<Vec<Option<Expr>>, ParseError> {
        let mut args = Vec::new();
        if self.peek().kind == TokenKind::Close {
            self.bump();
            return Ok(args);
        }
        loop {
            let token = self.peek();
            if matches!(token.kind, TokenKind::Comma | TokenKind::Close) {
                args.push(None);
            } else {
                args.push(Some(self.comparison(depth)?));
            }
            let token = self.bump();
            match token.kind {
                TokenKind::Comma => {}
                TokenKind::Close => return Ok(args),
                _ => return Err(self.unexpected(&token, "`,` or `)`")),
            }
        }
    }
}

fn unknown_function(word: &str, column: usize) -> ParseError {
    let suggestion = Function::all()
        .find(|function| function.name().eq_ignore_ascii_case(word))
        .map(|function| format!("; did you mean `{}`? (names are case-sensitive)", function.name()))
        .unwrap_or_default();
    ParseError { column, message: format!("unknown function `{word}`{suggestion}") }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Attribute(name) => write!(f, "[{name}]"),
            Expr::String(text) => {
                f.write_str("\"")?;
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Name(constant) => f.write_str(constant.name()),
            Expr::Call { function, args } => {
                write!(f, "{function}(")?;
                for (index, arg) in args.iter().enumerate() {
                    if index > 0 {
                        f.write_str(if arg.is_some() { ", " } else { "," })?;
                    }
                    if let Some(arg) = arg {
                        write!(f, "{arg}")?;
                    }
                }
                f.write_str(")")
            }
            Expr::Compare { op, left, right } => write!(f, "{left} {} {right}", op.symbol()),
        }
    }
}
