//! A validating JSON scanner that keeps text as it is.
//!
//! The parser never builds a tree: it checks that bytes are exactly one JSON
//! value (RFC 8259, as `JSON.parse` reads it: lone surrogate escapes are
//! allowed), bounds the nesting depth with an explicit stack instead of
//! recursion, and reports byte spans, so arguments can be handed on as
//! slices of the message they came in. Work is linear in the input; memory
//! is one byte of stack per open container plus the spans asked for.

use std::borrow::Cow;
use std::ops::Range;

use bytes::BufMut;

/// Why bytes are not an acceptable JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonFault {
    /// Not JSON: the offset of the first byte that cannot be there (the
    /// input length if it ends too early).
    Syntax(usize),
    /// One complete value, then something other than whitespace at this
    /// offset.
    Trailing(usize),
    /// Arrays and objects nested deeper than the limit.
    TooDeep,
    /// An object with `"_placeholder": true` that is not exactly
    /// `{"_placeholder":true,"num":N}` with `N` a non-negative integer.
    PlaceholderShape,
    /// A placeholder whose `num` is not below the number of attachments.
    PlaceholderRange(u64),
}

/// One token. Strings and keys span their quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    ArrayStart,
    ArrayEnd,
    ObjectStart,
    ObjectEnd,
    /// An object key (the `:` after it is consumed with it).
    Key {
        escaped: bool,
    },
    Str {
        escaped: bool,
    },
    Number,
    True,
    False,
    Null,
}

/// A token and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value is expected (document start, after `:` or after `,` in an
    /// array).
    Value,
    /// Just after `[`: a value or `]`.
    ArrayFirst,
    /// Just after `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a value inside a container: `,` or the closing bracket.
    After,
    /// The top-level value is complete.
    Done,
}

/// A pull tokenizer over one JSON document.
pub(crate) struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
    /// One entry per open container: `true` for an object.
    stack: Vec<bool>,
    max_depth: usize,
    state: State,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(buf: &'a [u8], max_depth: usize) -> Self {
        Self {
            buf,
            pos: 0,
            stack: Vec::new(),
            max_depth,
            state: State::Value,
        }
    }

    /// The next token, or `None` once the top-level value is complete (call
    /// [`Lexer::finish`] then).
    pub(crate) fn next_token(&mut self) -> Result<Option<Token>, JsonFault> {
        loop {
            self.skip_ws();
            match self.state {
                State::Done => return Ok(None),
                State::Value => return self.value().map(Some),
                State::ArrayFirst => {
                    if self.peek() == Some(b']') {
                        return Ok(Some(self.close(Tok::ArrayEnd)));
                    }
                    return self.value().map(Some);
                }
                State::ObjectFirst => {
                    if self.peek() == Some(b'}') {
                        return Ok(Some(self.close(Tok::ObjectEnd)));
                    }
                    return self.key().map(Some);
                }
                State::Key => return self.key().map(Some),
                State::After => {
                    let in_object = self.stack.last().copied().unwrap_or(false);
                    match (self.peek(), in_object) {
                        (Some(b','), false) => {
                            self.pos += 1;
                            self.state = State::Value;
                        }
                        (Some(b','), true) => {
                            self.pos += 1;
                            self.state = State::Key;
                        }
                        (Some(b']'), false) => return Ok(Some(self.close(Tok::ArrayEnd))),
                        (Some(b'}'), true) => return Ok(Some(self.close(Tok::ObjectEnd))),
                        _ => return Err(JsonFault::Syntax(self.pos)),
                    }
                }
            }
        }
    }

    /// Checks that only whitespace follows the complete value.
    pub(crate) fn finish(&mut self) -> Result<(), JsonFault> {
        self.skip_ws();
        if self.state != State::Done {
            return Err(JsonFault::Syntax(self.pos));
        }
        if self.pos != self.buf.len() {
            return Err(JsonFault::Trailing(self.pos));
        }
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn after_value(&mut self) {
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::After
        };
    }

    fn close(&mut self, tok: Tok) -> Token {
        let start = self.pos;
        self.pos += 1;
        self.stack.pop();
        self.after_value();
        Token {
            tok,
            start,
            end: self.pos,
        }
    }

    fn open(&mut self, object: bool) -> Result<Token, JsonFault> {
        if self.stack.len() >= self.max_depth {
            return Err(JsonFault::TooDeep);
        }
        let start = self.pos;
        self.pos += 1;
        self.stack.push(object);
        self.state = if object {
            State::ObjectFirst
        } else {
            State::ArrayFirst
        };
        let tok = if object {
            Tok::ObjectStart
        } else {
            Tok::ArrayStart
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn value(&mut self) -> Result<Token, JsonFault> {
        let start = self.pos;
        let tok = match self.peek() {
            Some(b'[') => return self.open(false),
            Some(b'{') => return self.open(true),
            Some(b'"') => Tok::Str {
                escaped: self.string()?,
            },
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Tok::Number
            }
            Some(b't') => self.literal(b"true", Tok::True)?,
            Some(b'f') => self.literal(b"false", Tok::False)?,
            Some(b'n') => self.literal(b"null", Tok::Null)?,
            _ => return Err(JsonFault::Syntax(self.pos)),
        };
        self.after_value();
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn key(&mut self) -> Result<Token, JsonFault> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(JsonFault::Syntax(self.pos));
        }
        let escaped = self.string()?;
        let end = self.pos;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(JsonFault::Syntax(self.pos));
        }
        self.pos += 1;
        self.state = State::Value;
        Ok(Token {
            tok: Tok::Key { escaped },
            start,
            end,
        })
    }

    fn literal(&mut self, word: &[u8], tok: Tok) -> Result<Tok, JsonFault> {
        let rest = &self.buf[self.pos..];
        match rest.iter().zip(word).position(|(a, b)| a != b) {
            Some(i) => Err(JsonFault::Syntax(self.pos + i)),
            None if rest.len() < word.len() => Err(JsonFault::Syntax(self.buf.len())),
            None => {
                self.pos += word.len();
                Ok(tok)
            }
        }
    }

    /// Scans a string from its opening quote; returns whether it holds an
    /// escape.
    fn string(&mut self) -> Result<bool, JsonFault> {
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            let Some(&b) = self.buf.get(i) else {
                return Err(JsonFault::Syntax(i));
            };
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match self.buf.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            for k in i + 2..i + 6 {
                                match self.buf.get(k) {
                                    Some(h) if h.is_ascii_hexdigit() => {}
                                    _ => return Err(JsonFault::Syntax(k)),
                                }
                            }
                            i += 6;
                        }
                        _ => return Err(JsonFault::Syntax(i + 1)),
                    }
                }
                0..=0x1f => return Err(JsonFault::Syntax(i)),
                _ => i += 1,
            }
        }
    }

    fn digits(&self, mut i: usize) -> usize {
        while let Some(b'0'..=b'9') = self.buf.get(i) {
            i += 1;
        }
        i
    }

    fn number(&mut self) -> Result<(), JsonFault> {
        let mut i = self.pos;
        if self.buf.get(i) == Some(&b'-') {
            i += 1;
        }
        match self.buf.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = self.digits(i + 1),
            _ => return Err(JsonFault::Syntax(i)),
        }
        if self.buf.get(i) == Some(&b'.') {
            let end = self.digits(i + 1);
            if end == i + 1 {
                return Err(JsonFault::Syntax(end));
            }
            i = end;
        }
        if let Some(b'e' | b'E') = self.buf.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = self.buf.get(i) {
                i += 1;
            }
            let end = self.digits(i);
            if end == i {
                return Err(JsonFault::Syntax(end));
            }
            i = end;
        }
        self.pos = i;
        Ok(())
    }
}

/// What kind of value a JSON text is, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonKind {
    /// The kind of the value starting with `b` (a valid value's first byte).
    pub(crate) fn of_first_byte(b: u8) -> Self {
        match b {
            b'n' => Self::Null,
            b't' | b'f' => Self::Bool,
            b'"' => Self::String,
            b'[' => Self::Array,
            b'{' => Self::Object,
            _ => Self::Number,
        }
    }
}

/// What [`analyze`] looks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) max_depth: usize,
    /// Record the spans of a top-level array's elements.
    pub(crate) split: bool,
    /// Check placeholders against this many attachments (`None`: objects
    /// shaped like placeholders are plain data).
    pub(crate) attachments: Option<usize>,
}

/// A checked JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// The value, without the whitespace around it.
    pub(crate) span: Range<usize>,
    pub(crate) kind: JsonKind,
    /// A top-level array's elements, if asked for.
    pub(crate) elements: Vec<Range<usize>>,
    /// The `num` of the value itself when it is a placeholder (only when
    /// placeholders are checked).
    pub(crate) placeholder: Option<u64>,
}

/// What a key of an object means for placeholder detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRole {
    None,
    Placeholder,
    Num,
    Other,
}

/// Placeholder bookkeeping for one open object.
#[derive(Debug, Clone, Copy)]
struct ObjState {
    pending: KeyRole,
    placeholder_keys: u8,
    placeholder_true: bool,
    num_keys: u8,
    num: Option<u64>,
    other_keys: bool,
}

impl ObjState {
    const fn new() -> Self {
        Self {
            pending: KeyRole::None,
            placeholder_keys: 0,
            placeholder_true: false,
            num_keys: 0,
            num: None,
            other_keys: false,
        }
    }

    /// Records the value (its first token) of the pending key.
    fn value(&mut self, token: &Token, buf: &[u8]) {
        match self.pending {
            KeyRole::Placeholder => self.placeholder_true |= token.tok == Tok::True,
            KeyRole::Num => {
                self.num = match token.tok {
                    Tok::Number => parse_u64(&buf[token.start..token.end]),
                    _ => None,
                }
            }
            KeyRole::None | KeyRole::Other => {}
        }
        self.pending = KeyRole::None;
    }

    fn key(&mut self, role: KeyRole) {
        match role {
            KeyRole::Placeholder => self.placeholder_keys = self.placeholder_keys.saturating_add(1),
            KeyRole::Num => self.num_keys = self.num_keys.saturating_add(1),
            KeyRole::Other | KeyRole::None => self.other_keys = true,
        }
        self.pending = role;
    }

    /// Checks the object once closed: `Ok(Some(num))` for a placeholder.
    fn check(&self) -> Result<Option<u64>, JsonFault> {
        if !self.placeholder_true {
            return Ok(None);
        }
        match self.num {
            Some(num) if self.placeholder_keys == 1 && self.num_keys == 1 && !self.other_keys => {
                Ok(Some(num))
            }
            _ => Err(JsonFault::PlaceholderShape),
        }
    }
}

/// Parses plain decimal digits (no sign, fraction or exponent) that fit a
/// `u64`.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The role of an object key, from its bytes with quotes.
fn key_role(raw: &[u8], escaped: bool) -> KeyRole {
    let inner = &raw[1..raw.len() - 1];
    let matches = |name: &str| {
        if escaped {
            // An escape is at most six bytes for one character.
            inner.len() <= 6 * name.len() && unescape(inner) == name
        } else {
            inner == name.as_bytes()
        }
    };
    if matches("_placeholder") {
        KeyRole::Placeholder
    } else if matches("num") {
        KeyRole::Num
    } else {
        KeyRole::Other
    }
}

/// Checks that `buf` is exactly one JSON value, possibly surrounded by
/// whitespace, and reports what `opts` asks for.
pub(crate) fn analyze(buf: &[u8], opts: &Options) -> Result<Analysis, JsonFault> {
    let mut lexer = Lexer::new(buf, opts.max_depth);
    let mut depth = 0usize;
    let mut first: Option<Token> = None;
    let mut last_end = 0;
    let mut elements = Vec::new();
    let mut element_start = 0;
    let mut placeholder = None;
    // Per open container: `Some` for objects, when placeholders are checked.
    let mut objects: Vec<Option<ObjState>> = Vec::new();

    while let Some(token) = lexer.next_token()? {
        let first = *first.get_or_insert(token);
        let split = opts.split && first.tok == Tok::ArrayStart;
        last_end = token.end;
        let is_value_start = !matches!(token.tok, Tok::ArrayEnd | Tok::ObjectEnd | Tok::Key { .. });
        if opts.attachments.is_some()
            && is_value_start
            && let Some(Some(state)) = objects.last_mut()
        {
            state.value(&token, buf);
        }
        match token.tok {
            Tok::ArrayStart | Tok::ObjectStart => {
                if split && depth == 1 {
                    element_start = token.start;
                }
                depth += 1;
                if opts.attachments.is_some() {
                    objects.push((token.tok == Tok::ObjectStart).then(ObjState::new));
                }
            }
            Tok::ArrayEnd | Tok::ObjectEnd => {
                depth -= 1;
                if split && depth == 1 {
                    elements.push(element_start..token.end);
                }
                if let Some(attachments) = opts.attachments
                    && let Some(Some(state)) = objects.pop()
                    && let Some(num) = state.check()?
                {
                    if usize::try_from(num).map_or(true, |n| n >= attachments) {
                        return Err(JsonFault::PlaceholderRange(num));
                    }
                    if depth == 0 {
                        placeholder = Some(num);
                    }
                }
            }
            Tok::Key { escaped } => {
                if opts.attachments.is_some()
                    && let Some(Some(state)) = objects.last_mut()
                {
                    state.key(key_role(&buf[token.start..token.end], escaped));
                }
            }
            Tok::Str { .. } | Tok::Number | Tok::True | Tok::False | Tok::Null => {
                if split && depth == 1 {
                    elements.push(token.start..token.end);
                }
            }
        }
    }
    lexer.finish()?;
    let Some(first) = first else {
        // `finish` fails on input without a value.
        return Err(JsonFault::Syntax(buf.len()));
    };
    Ok(Analysis {
        span: first.start..last_end,
        kind: JsonKind::of_first_byte(buf[first.start]),
        elements,
        placeholder,
    })
}

/// One array or object of a JSON text, for writing it in a format that
/// puts lengths first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Container {
    /// Elements of an array, entries of an object.
    pub(crate) count: usize,
    /// The `num` of an object that is a placeholder (when asked for).
    pub(crate) placeholder: Option<u64>,
}

/// The arrays and objects of `buf` (one valid JSON value), in the order
/// they open. With `placeholders`, objects shaped like placeholders are
/// recognized (a broken one is an error).
pub(crate) fn containers(buf: &[u8], placeholders: bool) -> Result<Vec<Container>, JsonFault> {
    let mut lexer = Lexer::new(buf, usize::MAX);
    let mut out: Vec<Container> = Vec::new();
    // Per open container: its index in `out`, and its placeholder state.
    let mut open: Vec<(usize, Option<ObjState>)> = Vec::new();
    while let Some(token) = lexer.next_token()? {
        let in_array = open.last().is_some_and(|(_, s)| s.is_none());
        let counts = matches!(token.tok, Tok::Key { .. })
            || (in_array && !matches!(token.tok, Tok::ArrayEnd | Tok::ObjectEnd));
        if counts && let Some(&(index, _)) = open.last() {
            out[index].count += 1;
        }
        let is_value_start = !matches!(token.tok, Tok::ArrayEnd | Tok::ObjectEnd | Tok::Key { .. });
        if is_value_start && let Some((_, Some(state))) = open.last_mut() {
            state.value(&token, buf);
        }
        match token.tok {
            Tok::ArrayStart | Tok::ObjectStart => {
                open.push((
                    out.len(),
                    (token.tok == Tok::ObjectStart).then(ObjState::new),
                ));
                out.push(Container {
                    count: 0,
                    placeholder: None,
                });
            }
            Tok::ArrayEnd | Tok::ObjectEnd => {
                if let Some((index, Some(state))) = open.pop()
                    && placeholders
                {
                    out[index].placeholder = state.check()?;
                }
            }
            Tok::Key { escaped } => {
                if let Some((_, Some(state))) = open.last_mut() {
                    state.key(key_role(&buf[token.start..token.end], escaped));
                }
            }
            _ => {}
        }
    }
    lexer.finish()?;
    Ok(out)
}

/// The text of a JSON string's content (the bytes between its quotes, of a
/// string the lexer accepted). Lone surrogate escapes become U+FFFD, as
/// they do when JavaScript encodes the string to UTF-8.
pub(crate) fn unescape(inner: &[u8]) -> Cow<'_, str> {
    if !inner.contains(&b'\\') {
        return String::from_utf8_lossy(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = inner.get(i + 1) else { break };
        i += 2;
        let c = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(inner, i);
                i += 4;
                if (0xd800..0xdc00).contains(&hi)
                    && inner.get(i) == Some(&b'\\')
                    && inner.get(i + 1) == Some(&b'u')
                {
                    let lo = hex4(inner, i + 2);
                    if (0xdc00..0xe000).contains(&lo) {
                        i += 6;
                        let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        char::from_u32(c).unwrap_or('\u{fffd}')
                    } else {
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            other => char::from(other),
        };
        let mut tmp = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Four hex digits at `at` (0 where there are none: the lexer checked them).
fn hex4(buf: &[u8], at: usize) -> u32 {
    (at..at + 4).fold(0, |acc, k| {
        let d = buf
            .get(k)
            .and_then(|&h| char::from(h).to_digit(16))
            .unwrap_or(0);
        (acc << 4) | d
    })
}

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does:
/// `"` and `\`, the short escapes for backspace, tab, line feed, form feed
/// and carriage return, `\u00xx` for the other control characters.
pub(crate) fn write_string<B: BufMut>(out: &mut B, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put_u8(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0..=0x1f => 0,
            _ => continue,
        };
        out.put_slice(&bytes[run..i]);
        run = i + 1;
        if short == 0 {
            out.put_slice(b"\\u00");
            out.put_u8(HEX[usize::from(b >> 4)]);
            out.put_u8(HEX[usize::from(b & 0xf)]);
        } else {
            out.put_u8(b'\\');
            out.put_u8(short);
        }
    }
    out.put_slice(&bytes[run..]);
    out.put_u8(b'"');
}

/// The length of [`write_string`]'s output.
pub(crate) fn string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opts() -> Options {
        Options {
            max_depth: 128,
            split: true,
            attachments: None,
        }
    }

    fn check(s: &str) -> Result<Analysis, JsonFault> {
        analyze(s.as_bytes(), &opts())
    }

    #[test]
    fn accepts_json_as_json_parse_does() {
        for s in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1.5",
            "-1.5e-7",
            "1E+2",
            "1.5e400",
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00""#,
            r#""\ud800 lone surrogates are allowed""#,
            "[]",
            "{}",
            " [ 1 , \"x\" , { \"a\" : [ ] } ] ",
            "\t\r\n{}\n",
            r#"{"a":1,"a":2}"#,
            "\"é😀\"",
        ] {
            assert!(check(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_what_json_parse_rejects() {
        for (s, fault) in [
            ("", JsonFault::Syntax(0)),
            (" ", JsonFault::Syntax(1)),
            ("[", JsonFault::Syntax(1)),
            ("[1,]", JsonFault::Syntax(3)),
            ("[,1]", JsonFault::Syntax(1)),
            ("{\"a\"}", JsonFault::Syntax(4)),
            ("{\"a\":1,}", JsonFault::Syntax(7)),
            ("{1:2}", JsonFault::Syntax(1)),
            ("01", JsonFault::Trailing(1)),
            ("1.", JsonFault::Syntax(2)),
            (".5", JsonFault::Syntax(0)),
            ("+1", JsonFault::Syntax(0)),
            ("1e", JsonFault::Syntax(2)),
            ("-", JsonFault::Syntax(1)),
            ("tru", JsonFault::Syntax(3)),
            ("nul1", JsonFault::Syntax(3)),
            ("\"a", JsonFault::Syntax(2)),
            ("\"\\x\"", JsonFault::Syntax(2)),
            ("\"\\u12g4\"", JsonFault::Syntax(5)),
            ("\"a\nb\"", JsonFault::Syntax(2)),
            ("[1] [2]", JsonFault::Trailing(4)),
            ("[1]x", JsonFault::Trailing(3)),
            ("NaN", JsonFault::Syntax(0)),
            ("'a'", JsonFault::Syntax(0)),
            ("[1}", JsonFault::Syntax(2)),
            ("{\"a\":1]", JsonFault::Syntax(6)),
        ] {
            assert_eq!(check(s), Err(fault), "{s:?}");
        }
    }

    #[test]
    fn splits_a_top_level_array() {
        let s = r#" ["a", 1 ,{"b":[2]}, [], null] "#;
        let a = check(s).unwrap();
        assert_eq!(a.kind, JsonKind::Array);
        assert_eq!(&s[a.span.clone()], r#"["a", 1 ,{"b":[2]}, [], null]"#);
        let parts: Vec<&str> = a.elements.iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(parts, ["\"a\"", "1", r#"{"b":[2]}"#, "[]", "null"]);
        // Objects are not split.
        assert!(check(r#"{"a":1}"#).unwrap().elements.is_empty());
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let at_limit = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check(&at_limit).is_ok());
        let over = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(check(&over), Err(JsonFault::TooDeep));
        // Far deeper than any stack would take, and unterminated.
        let deep = "[{\"a\":".repeat(100_000);
        assert_eq!(check(&deep), Err(JsonFault::TooDeep));
    }

    #[test]
    fn placeholders_are_checked_only_when_asked() {
        let with = |n| Options {
            attachments: Some(n),
            ..opts()
        };
        let ok = r#"["x",{"_placeholder":true,"num":0},{"a":[{"num":1,"_placeholder":true}]}]"#;
        assert!(analyze(ok.as_bytes(), &with(2)).is_ok());
        assert_eq!(
            analyze(ok.as_bytes(), &with(1)),
            Err(JsonFault::PlaceholderRange(1))
        );
        // Escaped keys are the same keys.
        let escaped = r#"[{"\u005fplaceholder":true,"n\u0075m":0}]"#;
        assert!(analyze(escaped.as_bytes(), &with(1)).is_ok());
        for bad in [
            r#"[{"_placeholder":true,"num":"splice"}]"#,
            r#"[{"_placeholder":true,"num":-1}]"#,
            r#"[{"_placeholder":true,"num":0.5}]"#,
            r#"[{"_placeholder":true,"num":1e0}]"#,
            r#"[{"_placeholder":true}]"#,
            r#"[{"_placeholder":true,"num":0,"x":1}]"#,
            r#"[{"_placeholder":true,"num":0,"num":0}]"#,
            r#"[{"_placeholder":true,"_placeholder":true,"num":0}]"#,
            r#"[{"_placeholder":true,"num":[0]}]"#,
        ] {
            assert_eq!(
                analyze(bad.as_bytes(), &with(3)),
                Err(JsonFault::PlaceholderShape),
                "{bad}"
            );
        }
        // Not a placeholder unless `_placeholder` is true.
        for plain in [
            r#"[{"_placeholder":false,"num":"x"}]"#,
            r#"[{"_placeholder":"true","num":9}]"#,
            r#"[{"placeholder":true,"num":9}]"#,
        ] {
            assert!(analyze(plain.as_bytes(), &with(0)).is_ok(), "{plain}");
        }
        // Without checking, the shape is data.
        let bogus = r#"[{"_placeholder":true,"num":7}]"#;
        assert!(analyze(bogus.as_bytes(), &opts()).is_ok());
    }

    #[test]
    fn unescapes_like_json_parse() {
        assert_eq!(unescape(br"plain"), "plain");
        assert_eq!(
            unescape(br#"a\"b\\c\/d\b\f\n\r\t"#),
            "a\"b\\c/d\u{8}\u{c}\n\r\t"
        );
        assert_eq!(unescape(br"\u00e9\uD83D\uDE00"), "é😀");
        assert_eq!(unescape(br"\ud800x"), "\u{fffd}x");
        assert_eq!(unescape(br"\udc00\ud800\u0041"), "\u{fffd}\u{fffd}A");
    }

    #[test]
    fn escapes_like_json_stringify() {
        let s = "a\"b\\c/\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é😀";
        let mut out = Vec::new();
        write_string(&mut out, s);
        assert_eq!(
            out,
            "\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é😀\"".as_bytes()
        );
        assert_eq!(out.len(), string_len(s));
        // serde_json agrees.
        assert_eq!(out, serde_json::to_vec(s).unwrap());
    }

    /// JSON-ish text from a small alphabet, so that near-misses are common.
    fn jsonish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("["),
                Just("]"),
                Just("{"),
                Just("}"),
                Just(","),
                Just(":"),
                Just("\""),
                Just("\"a\""),
                Just("\\"),
                Just("\\u00e9"),
                Just("1"),
                Just("-"),
                Just("0"),
                Just("."),
                Just("e"),
                Just("true"),
                Just("nul"),
                Just("null"),
                Just(" "),
                Just("\n"),
                Just("x"),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn agrees_with_serde_json(s in jsonish()) {
            let ours = check(&s).is_ok();
            let theirs = serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok();
            prop_assert_eq!(ours, theirs, "{:?}", s);
        }

        #[test]
        fn string_round_trip(s in any::<String>()) {
            let mut out = Vec::new();
            write_string(&mut out, &s);
            let a = analyze(&out, &opts()).unwrap();
            prop_assert_eq!(a.kind, JsonKind::String);
            prop_assert_eq!(unescape(&out[1..out.len() - 1]), s.as_str());
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = analyze(&bytes, &Options { attachments: Some(2), ..opts() });
        }
    }
}
