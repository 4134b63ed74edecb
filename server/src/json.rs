//! JSON output exactly as Kinto writes it (GEN-JSON): compact, every non-ASCII character
//! escaped as `\uXXXX` with upper-case hex (surrogate pairs beyond the BMP), `/` unescaped.
//! Numbers keep their original text (serde_json's `arbitrary_precision`), so big integers
//! round-trip unchanged.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// A compact formatter that escapes non-ASCII characters like Kinto's serializer.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{:04X}", unit)?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W>(&mut self, writer: &mut W, escape: serde_json::ser::CharEscape) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        CompactFormatter.write_char_escape(writer, escape)
    }
}

/// Serializes `value` as Kinto would.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    // Serializing a `serde_json::Value` or plain data into a Vec cannot fail.
    if value.serialize(&mut serializer).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out
}

/// Serializes `value` as Kinto would, into a `String` (the output is pure ASCII).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    String::from_utf8(to_vec(value)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_non_ascii_upper_case_and_keeps_slash() {
        let value = json!({"x": "é/😀\u{1}"});
        assert_eq!(to_string(&value), r#"{"x":"\u00E9/\uD83D\uDE00\u0001"}"#);
    }

    #[test]
    fn big_integers_round_trip() {
        let value: serde_json::Value = serde_json::from_str(r#"{"n":12345678901234567890123}"#).unwrap_or_default();
        assert_eq!(to_string(&value), r#"{"n":12345678901234567890123}"#);
    }

    /// List answers send stored objects' text unchanged (`storage::RawObject`): that is only
    /// right if serializing what was parsed from this serializer's output gives the same bytes.
    #[test]
    fn output_parsed_and_written_again_is_unchanged() {
        let inputs = [
            r#"{"b":1,"a":"é/😀\n\"q\"","c":[1.0,1e5,-0.0,2.50,{"z":null,"y":true}]}"#,
            r#"{"n":12345678901234567890123,"f":0.1,"s":"\u0000\u001f\t","e":{},"l":[]}"#,
            r#"{"id":"r1","last_modified":1700000000000,"deleted":true}"#,
        ];
        for input in inputs {
            let parsed: serde_json::Value = serde_json::from_str(input).unwrap_or_default();
            let written = to_string(&parsed);
            let again: serde_json::Value = serde_json::from_str(&written).unwrap_or_default();
            assert_eq!(to_string(&again), written, "{input}");
        }
    }
}
