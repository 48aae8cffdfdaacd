//! A tolerant content-stream tokenizer: operands and operators, nothing
//! else. Written by hand rather than using `lopdf::content::Content::decode`
//! because that one allocates an `Object` per operand and gives up on the
//! whole stream at the first syntax error, where viewers (and pdftotext)
//! skip the bad token and carry on.

/// One operand of a content-stream operator.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Number(f32),
    /// A literal or hex string, decoded to bytes.
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    /// A dictionary (marked-content properties): its entries in order.
    Dict(Vec<(Vec<u8>, Operand)>),
    /// Booleans, null, and containers past the nesting limit: present but
    /// not interpreted.
    Other,
}

impl Operand {
    pub(super) fn number(&self) -> Option<f32> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Nesting depth of arrays and dictionaries inside a content stream.
const MAX_NESTING: usize = 32;
/// Operands kept for one operator; the rest are dropped (real operators
/// take at most a handful, `TJ` takes one array).
const MAX_OPERANDS: usize = 64;
/// Elements kept in one array operand.
const MAX_ARRAY: usize = 1 << 16;

/// Iterates over `(operator, operands)` of a content stream.
pub(super) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    operands: Vec<Operand>,
    max_operands: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            operands: Vec::new(),
            max_operands: MAX_OPERANDS,
        }
    }

    /// A lexer for CMaps, whose `endbfchar`-style keywords take up to a few
    /// hundred operands.
    pub(super) fn for_cmap(data: &'a [u8]) -> Self {
        Self {
            max_operands: 1 << 12,
            ..Self::new(data)
        }
    }

    /// The next operator and its operands, or `None` at the end.
    pub(super) fn next_op(&mut self) -> Option<(&'a [u8], Vec<Operand>)> {
        self.operands.clear();
        loop {
            self.skip_space();
            let &c = self.data.get(self.pos)?;
            match c {
                b'a'..=b'z' | b'A'..=b'Z' | b'\'' | b'"' | b'*' => {
                    let start = self.pos;
                    while self
                        .data
                        .get(self.pos)
                        .is_some_and(|&b| !is_space(b) && !is_delim(b))
                    {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        self.pos += 1;
                    }
                    let op = &self.data[start..self.pos];
                    match op {
                        b"true" | b"false" | b"null" => self.push(Operand::Other),
                        b"ID" => {
                            self.skip_inline_image();
                            return Some((b"EI", std::mem::take(&mut self.operands)));
                        }
                        _ => return Some((op, std::mem::take(&mut self.operands))),
                    }
                }
                _ => {
                    if let Some(operand) = self.operand(0) {
                        self.push(operand);
                    }
                }
            }
        }
    }

    fn push(&mut self, operand: Operand) {
        if self.operands.len() < self.max_operands {
            self.operands.push(operand);
        }
    }

    /// Parses one operand at the cursor; `None` (after skipping a byte)
    /// for garbage.
    fn operand(&mut self, depth: usize) -> Option<Operand> {
        let c = *self.data.get(self.pos)?;
        match c {
            b'(' => Some(Operand::Str(self.literal_string())),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                if depth >= MAX_NESTING {
                    self.skip_container(b'>', depth);
                    return Some(Operand::Other);
                }
                Some(Operand::Dict(self.dictionary(depth)))
            }
            b'<' => Some(Operand::Str(self.hex_string())),
            b'/' => {
                self.pos += 1;
                let start = self.pos;
                while self
                    .data
                    .get(self.pos)
                    .is_some_and(|&b| !is_space(b) && !is_delim(b))
                {
                    self.pos += 1;
                }
                Some(Operand::Name(self.data[start..self.pos].to_vec()))
            }
            b'[' => {
                self.pos += 1;
                if depth >= MAX_NESTING {
                    self.skip_container(b']', depth);
                    return Some(Operand::Other);
                }
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.data.get(self.pos) {
                        None => break,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b'a'..=b'z' | b'A'..=b'Z') => {
                            // An operator inside an array: the array is broken.
                            break;
                        }
                        Some(_) => {
                            if let Some(item) = self.operand(depth + 1)
                                && items.len() < MAX_ARRAY
                            {
                                items.push(item);
                            }
                        }
                    }
                }
                Some(Operand::Array(items))
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => Some(Operand::Number(self.number())),
            _ => {
                self.pos += 1;
                None
            }
        }
    }

    /// The entries of a dictionary whose `<<` was just read, up to its
    /// `>>` (or an operator, where the dictionary is broken).
    fn dictionary(&mut self, depth: usize) -> Vec<(Vec<u8>, Operand)> {
        let mut entries = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            self.skip_space();
            match self.data.get(self.pos) {
                None => break,
                Some(b'>') => {
                    self.pos += 1;
                    if self.data.get(self.pos) == Some(&b'>') {
                        self.pos += 1;
                    }
                    break;
                }
                Some(b'a'..=b'z' | b'A'..=b'Z') => {
                    let start = self.pos;
                    while self
                        .data
                        .get(self.pos)
                        .is_some_and(|&b| !is_space(b) && !is_delim(b))
                    {
                        self.pos += 1;
                    }
                    if !matches!(&self.data[start..self.pos], b"true" | b"false" | b"null") {
                        // An operator inside a dictionary: it is broken.
                        self.pos = start;
                        break;
                    }
                    if let Some(k) = key.take()
                        && entries.len() < MAX_ARRAY
                    {
                        entries.push((k, Operand::Other));
                    }
                }
                Some(_) => match (key.take(), self.operand(depth + 1)) {
                    (None, Some(Operand::Name(name))) => key = Some(name),
                    (Some(k), Some(value)) if entries.len() < MAX_ARRAY => {
                        entries.push((k, value));
                    }
                    _ => {}
                },
            }
        }
        entries
    }

    fn number(&mut self) -> f32 {
        let start = self.pos;
        while self
            .data
            .get(self.pos)
            .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))
        {
            self.pos += 1;
        }
        parse_number(&self.data[start..self.pos])
    }

    fn literal_string(&mut self) -> Vec<u8> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut level = 1usize;
        while let Some(&c) = self.data.get(self.pos) {
            self.pos += 1;
            match c {
                b'(' => {
                    level += 1;
                    out.push(c);
                }
                b')' => {
                    level -= 1;
                    if level == 0 {
                        break;
                    }
                    out.push(c);
                }
                b'\\' => {
                    let Some(&e) = self.data.get(self.pos) else {
                        break;
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut value = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.data.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((value & 0xFF) as u8);
                        }
                        b'\r' => {
                            if self.data.get(self.pos) == Some(&b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
        out
    }

    fn hex_string(&mut self) -> Vec<u8> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(&c) = self.data.get(self.pos) {
            self.pos += 1;
            if c == b'>' {
                break;
            }
            let Some(v) = (c as char).to_digit(16) else {
                continue;
            };
            let v = v as u8;
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    /// Skips to the matching close of a dictionary (`>>`) or array (`]`),
    /// stepping over strings so their brackets do not count.
    fn skip_container(&mut self, close: u8, depth: usize) {
        let mut level = 1usize;
        while let Some(&c) = self.data.get(self.pos) {
            match c {
                b'(' => {
                    self.literal_string();
                }
                b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                    level += 1;
                    self.pos += 2;
                }
                b'<' => {
                    self.hex_string();
                }
                b'[' => {
                    level += 1;
                    self.pos += 1;
                }
                b'>' if close == b'>' && self.data.get(self.pos + 1) == Some(&b'>') => {
                    level -= 1;
                    self.pos += 2;
                }
                b']' if close == b']' => {
                    level -= 1;
                    self.pos += 1;
                }
                b'>' | b']' => {
                    level = level.saturating_sub(1);
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
            if level == 0 || depth + level > MAX_NESTING * 4 {
                return;
            }
        }
    }

    /// Skips inline image data after `ID` up to and including `EI`.
    fn skip_inline_image(&mut self) {
        self.pos += 1;
        let data = self.data;
        let mut i = self.pos;
        while i + 2 <= data.len() {
            if &data[i..i + 2] == b"EI"
                && i > 0
                && is_space(data[i - 1])
                && data.get(i + 2).is_none_or(|&b| is_space(b) || is_delim(b))
            {
                self.pos = i + 2;
                return;
            }
            i += 1;
        }
        self.pos = data.len();
    }

    fn skip_space(&mut self) {
        while let Some(&c) = self.data.get(self.pos) {
            if is_space(c) {
                self.pos += 1;
            } else if c == b'%' {
                while self
                    .data
                    .get(self.pos)
                    .is_some_and(|&b| b != b'\n' && b != b'\r')
                {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }
}

/// Parses a PDF number leniently (`--5`, `1.2.3` and `.` do occur).
pub(super) fn parse_number(text: &[u8]) -> f32 {
    let mut negative = false;
    let mut i = 0;
    while i < text.len() && matches!(text[i], b'+' | b'-') {
        negative ^= text[i] == b'-';
        i += 1;
    }
    let mut value = 0f64;
    let mut scale = 0f64;
    for &b in &text[i..] {
        match b {
            b'0'..=b'9' => {
                let d = f64::from(b - b'0');
                if scale == 0.0 {
                    value = value * 10.0 + d;
                } else {
                    value += d * scale;
                    scale /= 10.0;
                }
            }
            b'.' if scale == 0.0 => scale = 0.1,
            _ => break,
        }
    }
    let value = if negative { -value } else { value };
    if value.is_finite() {
        value.clamp(-1e9, 1e9) as f32
    } else {
        0.0
    }
}

pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

pub(super) fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(data: &[u8]) -> Vec<(String, Vec<Operand>)> {
        let mut lexer = Lexer::new(data);
        let mut out = Vec::new();
        while let Some((op, operands)) = lexer.next_op() {
            out.push((String::from_utf8_lossy(op).into_owned(), operands));
        }
        out
    }

    #[test]
    fn marked_content_properties_are_dictionaries() {
        let got = ops(
            b"/Span <</ActualText (fi) /Lang (en) /Nested <</A [1 2] /B true>> /E null>> BDC EMC /P <<bad 1 Tj",
        );
        let names: Vec<&str> = got.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["BDC", "EMC", "bad", "Tj"]);
        assert_eq!(
            got[0].1,
            vec![
                Operand::Name(b"Span".to_vec()),
                Operand::Dict(vec![
                    (b"ActualText".to_vec(), Operand::Str(b"fi".to_vec())),
                    (b"Lang".to_vec(), Operand::Str(b"en".to_vec())),
                    (
                        b"Nested".to_vec(),
                        Operand::Dict(vec![
                            (
                                b"A".to_vec(),
                                Operand::Array(vec![Operand::Number(1.0), Operand::Number(2.0)])
                            ),
                            (b"B".to_vec(), Operand::Other),
                        ])
                    ),
                    (b"E".to_vec(), Operand::Other),
                ]),
            ]
        );
        // A dictionary cut short by an operator is what was read of it.
        assert_eq!(
            got[2].1,
            vec![Operand::Name(b"P".to_vec()), Operand::Dict(Vec::new())]
        );
    }

    #[test]
    fn tokenizes_text_operators() {
        let got =
            ops(b"BT /F1 12 Tf 1 0 0 1 72 700 Tm (a\\(b\\) \\101) Tj [(x) -250 <4142>] TJ ET");
        let names: Vec<&str> = got.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["BT", "Tf", "Tm", "Tj", "TJ", "ET"]);
        assert_eq!(
            got[1].1,
            vec![Operand::Name(b"F1".to_vec()), Operand::Number(12.0)]
        );
        assert_eq!(got[3].1, vec![Operand::Str(b"a(b) A".to_vec())]);
        assert_eq!(
            got[4].1,
            vec![Operand::Array(vec![
                Operand::Str(b"x".to_vec()),
                Operand::Number(-250.0),
                Operand::Str(b"AB".to_vec()),
            ])]
        );
    }

    #[test]
    fn skips_inline_images_and_garbage() {
        let got = ops(b"q BI /W 2 /H 2 ID \x00EI\xff\x01 EI Q } 3 Td");
        let names: Vec<&str> = got.iter().map(|(op, _)| op.as_str()).collect();
        assert_eq!(names, ["q", "BI", "EI", "Q", "Td"]);
    }

    #[test]
    fn numbers_are_lenient() {
        assert_eq!(parse_number(b"-.5"), -0.5);
        assert_eq!(parse_number(b"--3"), 3.0);
        assert_eq!(parse_number(b"1.2.3"), 1.2);
        assert_eq!(parse_number(b"."), 0.0);
    }
}
