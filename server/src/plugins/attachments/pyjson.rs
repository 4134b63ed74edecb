//! Python's `json.loads` error messages, so that `body: data is not valid JSON (<reason>)`
//! reads exactly as kinto-attachment's (e.g. `Expecting value: line 1 column 6 (char 5)`).
//!
//! [`parse`] decodes with serde_json; only when that fails does a small scanner, mirroring
//! CPython 3.11's C scanner, locate the first error and phrase it as Python does. Positions
//! count characters (code points), as Python's do.

use serde_json::Value;

/// Parses `text` as JSON; on failure returns Python's error message.
pub fn parse(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => Ok(value),
        Err(err) => Err(python_error(text).unwrap_or_else(|| err.to_string())),
    }
}

/// Python's message for the first error in `text`, or `None` when Python would accept it
/// (e.g. `NaN`, which serde_json rejects).
pub fn python_error(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let err = if chars.first() == Some(&'\u{feff}') {
        Some(("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0))
    } else {
        let scanner = Scanner { s: &chars };
        let start = scanner.skip_ws(0);
        match scanner.value(start) {
            Err(err) => Some(err),
            Ok(end) => {
                let end = scanner.skip_ws(end);
                (end != chars.len()).then_some(("Extra data", end))
            }
        }
    };
    err.map(|(message, pos)| format_error(&chars, message, pos))
}

/// `"<msg>: line L column C (char N)"` as `json.JSONDecodeError` renders it.
fn format_error(chars: &[char], message: &str, pos: usize) -> String {
    let before = &chars[..pos.min(chars.len())];
    let line = before.iter().filter(|c| **c == '\n').count() + 1;
    let column = match before.iter().rposition(|c| *c == '\n') {
        Some(newline) => pos - newline,
        None => pos + 1,
    };
    format!("{message}: line {line} column {column} (char {pos})")
}

type ScanResult = Result<usize, (&'static str, usize)>;

struct Scanner<'a> {
    s: &'a [char],
}

impl Scanner<'_> {
    fn at(&self, idx: usize) -> Option<char> {
        self.s.get(idx).copied()
    }

    fn skip_ws(&self, mut idx: usize) -> usize {
        while matches!(self.at(idx), Some(' ' | '\t' | '\n' | '\r')) {
            idx += 1;
        }
        idx
    }

    fn starts_with(&self, idx: usize, word: &str) -> bool {
        word.chars().enumerate().all(|(i, c)| self.at(idx + i) == Some(c))
    }

    /// One value starting exactly at `idx`; returns the index after it.
    fn value(&self, idx: usize) -> ScanResult {
        match self.at(idx) {
            Some('"') => self.string(idx + 1),
            Some('{') => self.object(idx + 1),
            Some('[') => self.array(idx + 1),
            _ => {
                for word in ["null", "true", "false", "NaN", "Infinity", "-Infinity"] {
                    if self.starts_with(idx, word) {
                        return Ok(idx + word.chars().count());
                    }
                }
                self.number(idx).ok_or(("Expecting value", idx))
            }
        }
    }

    /// `-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`
    fn number(&self, idx: usize) -> Option<usize> {
        let digits = |from: usize| {
            let mut end = from;
            while self.at(end).is_some_and(|c| c.is_ascii_digit()) {
                end += 1;
            }
            end
        };
        let mut i = idx;
        if self.at(i) == Some('-') {
            i += 1;
        }
        match self.at(i) {
            Some('0') => i += 1,
            Some('1'..='9') => i = digits(i),
            _ => return None,
        }
        if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i = digits(i + 1);
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.at(i + 1), Some('+' | '-')));
            if self.at(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                i = digits(i + 1 + sign);
            }
        }
        Some(i)
    }

    /// The rest of a string whose opening quote is at `idx - 1`.
    fn string(&self, idx: usize) -> ScanResult {
        let begin = idx - 1;
        let mut i = idx;
        loop {
            match self.at(i) {
                None => return Err(("Unterminated string starting at", begin)),
                Some('"') => return Ok(i + 1),
                Some(c) if (c as u32) < 0x20 => return Err(("Invalid control character at", i)),
                Some('\\') => match self.at(i + 1) {
                    None => return Err(("Unterminated string starting at", begin)),
                    Some('u') => {
                        let hex = (i + 2..i + 6).all(|j| self.at(j).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !hex {
                            return Err(("Invalid \\uXXXX escape", i + 1));
                        }
                        i += 6;
                    }
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => i += 2,
                    Some(_) => return Err(("Invalid \\escape", i)),
                },
                Some(_) => i += 1,
            }
        }
    }

    /// The rest of an object whose `{` is at `idx - 1`.
    fn object(&self, idx: usize) -> ScanResult {
        let mut i = self.skip_ws(idx);
        if self.at(i) == Some('}') {
            return Ok(i + 1);
        }
        loop {
            if self.at(i) != Some('"') {
                return Err(("Expecting property name enclosed in double quotes", i));
            }
            i = self.skip_ws(self.string(i + 1)?);
            if self.at(i) != Some(':') {
                return Err(("Expecting ':' delimiter", i));
            }
            i = self.skip_ws(self.value(self.skip_ws(i + 1))?);
            match self.at(i) {
                Some('}') => return Ok(i + 1),
                Some(',') => i = self.skip_ws(i + 1),
                _ => return Err(("Expecting ',' delimiter", i)),
            }
        }
    }

    /// The rest of an array whose `[` is at `idx - 1`.
    fn array(&self, idx: usize) -> ScanResult {
        let mut i = self.skip_ws(idx);
        if self.at(i) == Some(']') {
            return Ok(i + 1);
        }
        loop {
            i = self.skip_ws(self.value(i)?);
            match self.at(i) {
                Some(']') => return Ok(i + 1),
                Some(',') => i = self.skip_ws(i + 1),
                _ => return Err(("Expecting ',' delimiter", i)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages produced by CPython 3.11's `json.loads` (the reference's interpreter).
    #[test]
    fn messages_match_python() {
        let cases = [
            ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            ("{\"a\"", "Expecting ':' delimiter: line 1 column 5 (char 4)"),
            ("{\"a\":1", "Expecting ',' delimiter: line 1 column 7 (char 6)"),
            ("{\"a\":", "Expecting value: line 1 column 6 (char 5)"),
            ("{\"a\":1,}", "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
            ("\"abc", "Unterminated string starting at: line 1 column 1 (char 0)"),
            ("\"a\nb\"", "Invalid control character at: line 1 column 3 (char 2)"),
            ("\"\\q\"", "Invalid \\escape: line 1 column 2 (char 1)"),
            ("\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
            ("\"\\u12zz\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
            ("01", "Extra data: line 1 column 2 (char 1)"),
            ("1.", "Extra data: line 1 column 2 (char 1)"),
            ("1e", "Extra data: line 1 column 2 (char 1)"),
            ("-", "Expecting value: line 1 column 1 (char 0)"),
            ("tru", "Expecting value: line 1 column 1 (char 0)"),
            ("\u{feff}{}", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"),
            ("\n\n  {x", "Expecting property name enclosed in double quotes: line 3 column 4 (char 5)"),
            ("{\"a\":1} x", "Extra data: line 1 column 9 (char 8)"),
            ("{} x", "Extra data: line 1 column 4 (char 3)"),
            ("[", "Expecting value: line 1 column 2 (char 1)"),
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("  ", "Expecting value: line 1 column 3 (char 2)"),
            ("\"\\", "Unterminated string starting at: line 1 column 1 (char 0)"),
            ("{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)"),
            ("[-]", "Expecting value: line 1 column 2 (char 1)"),
            ("\"é\\x\"", "Invalid \\escape: line 1 column 3 (char 2)"),
            ("{1:2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
            ("nope", "Expecting value: line 1 column 1 (char 0)"),
            ("-Inf", "Expecting value: line 1 column 1 (char 0)"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).err().as_deref(), Some(expected), "for {text:?}");
        }
    }

    #[test]
    fn accepted_documents_parse() {
        assert_eq!(parse(" {\"a\": [1, \"\\u00e9\"]} ").ok(), Some(serde_json::json!({"a": [1, "é"]})));
        assert_eq!(python_error("\"\u{7f}\""), None);
        // Python accepts NaN (kinto-attachment then fails with a 500); serde_json does not.
        assert_eq!(python_error("{\"a\": NaN}"), None);
        assert!(parse("{\"a\": NaN}").is_err());
    }
}
