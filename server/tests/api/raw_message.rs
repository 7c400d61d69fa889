//! Reads the header section of a message as the SMTP harness received it.

use base64::{Engine, engine::general_purpose::STANDARD};

/// Returns the header fields of `raw` in order, with folded lines joined.
pub fn header_fields(raw: &str) -> Vec<(String, String)> {
    let header_section = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in header_section.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut().expect("a folded line follows a field");
            value.push_str(line);
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header field: {line:?}"));
        fields.push((name.to_owned(), value.trim_start().to_owned()));
    }
    fields
}

/// Returns the value of the only field called `name`, and fails when there is none or several.
pub fn single_field(raw: &str, name: &str) -> String {
    let values: Vec<String> = header_fields(raw)
        .into_iter()
        .filter(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .collect();
    assert_eq!(values.len(), 1, "{name} fields in {raw}");
    values.into_iter().next().unwrap()
}

/// Splits a mailbox `display name <address>` into the decoded display name and the address.
///
/// The name may be a quoted string or a run of RFC 2047 encoded words in the `b` or `q`
/// encoding, which is how lettre writes names.
pub fn decode_mailbox(value: &str) -> (String, String) {
    let value = value.trim();
    let Some((name, address)) = value.rsplit_once('<') else {
        return (String::new(), value.to_owned());
    };
    let address = address.strip_suffix('>').expect("the address ends with >").to_owned();
    let name = name.trim();

    if let Some(quoted) = name.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) {
        return (unescape_quoted(quoted), address);
    }
    (decode_encoded_words(name), address)
}

fn unescape_quoted(quoted: &str) -> String {
    let mut text = String::new();
    let mut characters = quoted.chars();
    while let Some(c) = characters.next() {
        match c {
            '\\' => text.extend(characters.next()),
            c => text.push(c),
        }
    }
    text
}

/// Decodes a run of encoded words. White space between two encoded words is dropped, as
/// RFC 2047 section 6.2 requires, and other words are kept as they are.
fn decode_encoded_words(text: &str) -> String {
    let mut decoded = String::new();
    let mut previous_was_encoded = false;
    for word in text.split_whitespace() {
        match decode_encoded_word(word) {
            Some(part) => {
                if !decoded.is_empty() && !previous_was_encoded {
                    decoded.push(' ');
                }
                decoded.push_str(&part);
                previous_was_encoded = true;
            }
            None => {
                if !decoded.is_empty() {
                    decoded.push(' ');
                }
                decoded.push_str(word);
                previous_was_encoded = false;
            }
        }
    }
    decoded
}

fn decode_encoded_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next()?;
    let encoding = parts.next()?;
    let payload = parts.next()?;
    assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset} in {word}");

    let bytes = match encoding {
        "b" | "B" => STANDARD.decode(payload).expect("valid base64"),
        "q" | "Q" => decode_q(payload),
        other => panic!("unknown encoding {other} in {word}"),
    };
    Some(String::from_utf8(bytes).expect("UTF-8 in an encoded word"))
}

fn decode_q(payload: &str) -> Vec<u8> {
    let bytes = payload.as_bytes();
    let mut decoded = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'_' => decoded.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                decoded.push(u8::from_str_radix(hex, 16).expect("two hex digits after ="));
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    decoded
}

/// Checks that every occurrence of `text` in `page` lies outside a tag, so it was rendered as
/// text and not inside an attribute or a tag name.
pub fn occurs_only_as_text(page: &str, text: &str) -> bool {
    page.match_indices(text).all(|(start, _)| {
        let before = &page[..start];
        before.rfind('>') >= before.rfind('<')
    })
}
