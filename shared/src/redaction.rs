//! Keeps secret header values out of logs, verdicts and invocation results.
//!
//! Secrets are redacted at the source (the request's `Debug` never prints them)
//! and again on every text that goes out, since a service may echo a request
//! header in its body, a header or an error, and seldom byte for byte: PHP
//! writes `/` as `\/`, Go writes `&` as `\u0026`, a form or a URL
//! percent-encodes, HTML escapes `<`. So a text is matched twice: as it is,
//! and decoded (JSON and `\x` escapes, percent-encoding, HTML entities, `+`
//! for a space, up to three layers deep) with every match mapped back to the
//! bytes it came from. Base64 and hex renderings of a secret are matched as
//! they are. An encoding none of these undo (a hash, a reversed string) is not
//! the secret; a check that sends secrets never has its raw body echoed at all
//! (see `assertion`).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use base64::Engine as _;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Header names whose values are always secret, whatever the spec says.
pub const ALWAYS_SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// Layers of encoding undone, e.g. a percent-encoded value inside JSON.
const DECODE_ROUNDS: usize = 3;
/// Shortest base64 or hex rendering matched: shorter ones would match by
/// chance.
const MIN_ENCODED_NEEDLE: usize = 12;
/// The longest an escape makes one character (`\u00XX`, `%XX%XX%XX%XX` is
/// 12 for 4 bytes, 3 per byte).
const ESCAPE_GROWTH: usize = 6;

/// Replaces every known secret value in a text, in any of the encodings a
/// service may echo it in.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Needles>,
}

#[derive(Default)]
struct Needles {
    /// The secrets as they are, and JSON-escaped: replaced as they stand.
    literal: Vec<String>,
    /// Base64 and hex renderings: replaced as they stand.
    encoded: Vec<String>,
    /// The secrets as characters after [`canonical`]: matched in decoded text.
    decoded: Vec<Vec<char>>,
    /// The longest secret, in characters.
    longest: usize,
    /// How many secrets.
    count: usize,
    /// The secrets as given, for a redactor that knows more.
    given: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.inner.count)
    }
}

impl Redactor {
    /// A redactor for these secret values (empty ones are ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut needles = Needles::default();
        for secret in values.into_iter().filter(|s| !s.is_empty()) {
            needles.count += 1;
            needles.given.push(secret.clone());
            // As it appears inside JSON text too (quotes and backslashes escaped).
            let escaped = serde_json::to_string(&secret).unwrap_or_default();
            let escaped = escaped.trim_matches('"');
            if escaped != secret {
                needles.literal.push(escaped.to_owned());
            }
            needles
                .encoded
                .extend(encoded_renderings(secret.as_bytes()));
            let plain: Vec<char> = secret.chars().map(canonical).collect();
            let decoded: Vec<char> = decode(&units(&secret)).iter().map(|u| u.c).collect();
            let decoded: Vec<char> = decoded.into_iter().map(canonical).collect();
            needles.longest = needles.longest.max(plain.len());
            if decoded != plain && !decoded.is_empty() {
                needles.decoded.push(decoded);
            }
            needles.decoded.push(plain);
            needles.literal.push(secret);
        }
        // Longest first, so that a secret containing another is replaced whole.
        needles.literal.sort_by_key(|s| std::cmp::Reverse(s.len()));
        needles.literal.dedup();
        needles.encoded.sort_by_key(|s| std::cmp::Reverse(s.len()));
        needles.encoded.dedup();
        needles.decoded.sort_by_key(|s| std::cmp::Reverse(s.len()));
        needles.decoded.dedup();
        Redactor {
            inner: Arc::new(needles),
        }
    }

    /// A redactor that knows these secrets as well (values captured while
    /// a flow runs).
    pub fn with(&self, more: impl IntoIterator<Item = String>) -> Self {
        let mut more = more.into_iter().peekable();
        if more.peek().is_none() {
            return self.clone();
        }
        Redactor::new(self.inner.given.iter().cloned().chain(more))
    }

    /// Whether there is any secret to redact.
    pub fn is_empty(&self) -> bool {
        self.inner.literal.is_empty()
    }

    /// Characters to keep past a display cut before redacting, so that a
    /// secret starting in the part shown is still whole, however escaped.
    pub fn room_chars(&self) -> usize {
        self.inner.longest * ESCAPE_GROWTH * 4 + 64
    }

    /// The text with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let needles = &*self.inner;
        if needles.literal.is_empty() {
            return text.to_owned();
        }
        let mut out = text.to_owned();
        for needle in needles.literal.iter().chain(&needles.encoded) {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        let found = needles.find_decoded(&out);
        if found.is_empty() {
            return out;
        }
        let mut redacted = String::with_capacity(out.len());
        let mut at = 0;
        for range in found {
            redacted.push_str(&out[at..range.start]);
            redacted.push_str(REDACTED);
            at = range.end;
        }
        redacted.push_str(&out[at..]);
        redacted
    }
}

impl Needles {
    /// Byte ranges of `text` that decode to a secret, merged and in order.
    fn find_decoded(&self, text: &str) -> Vec<Range<usize>> {
        // Only text that could hold an escape needs decoding.
        if !text.contains(['\\', '%', '&', '+', ' ']) {
            return Vec::new();
        }
        let mut layer = units(text);
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for _ in 0..DECODE_ROUNDS {
            let next = decode(&layer);
            let changed = next.len() != layer.len();
            layer = next;
            let chars: Vec<char> = layer.iter().map(|u| canonical(u.c)).collect();
            for needle in &self.decoded {
                for start in find_all(&chars, needle) {
                    let end = start + needle.len() - 1;
                    ranges.push(layer[start].span.start..layer[end].span.end);
                }
            }
            if !changed {
                break;
            }
        }
        merge(ranges)
    }
}

/// One character of decoded text and the bytes of the original it came from.
#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    span: Span,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

fn units(text: &str) -> Vec<Unit> {
    text.char_indices()
        .map(|(at, c)| Unit {
            c,
            span: Span {
                start: at,
                end: at + c.len_utf8(),
            },
        })
        .collect()
}

/// What a character is compared as: a space and a `+` are the same (a form
/// encodes one as the other).
fn canonical(c: char) -> char {
    if c == ' ' { '+' } else { c }
}

/// One layer of escapes undone: JSON (`\uXXXX`, `\/`, `\"`…) and `\xHH`,
/// percent-encoding (UTF-8 sequences included) and HTML entities.
fn decode(input: &[Unit]) -> Vec<Unit> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let (c, used) = match input[i].c {
            '\\' => backslash(&input[i..]),
            '%' => percent(&input[i..]),
            '&' => entity(&input[i..]),
            other => (other, 1),
        };
        let last = i + used - 1;
        out.push(Unit {
            c,
            span: Span {
                start: input[i].span.start,
                end: input[last].span.end,
            },
        });
        i += used;
    }
    out
}

/// The character an escape stands for and how many units it spans; a lone
/// backslash stands for itself.
fn backslash(input: &[Unit]) -> (char, usize) {
    let Some(next) = input.get(1).map(|u| u.c) else {
        return ('\\', 1);
    };
    let simple = match next {
        '/' | '\\' | '"' | '\'' => Some(next),
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        _ => None,
    };
    if let Some(c) = simple {
        return (c, 2);
    }
    match next {
        'u' => match hex_value(input, 2, 4) {
            Some(high @ 0xD800..=0xDBFF) => {
                let low = (input.get(6).map(|u| u.c) == Some('\\')
                    && input.get(7).map(|u| u.c) == Some('u'))
                .then(|| hex_value(input, 8, 4))
                .flatten()
                .filter(|low| (0xDC00..=0xDFFF).contains(low));
                match low {
                    Some(low) => {
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code).unwrap_or('\u{FFFD}'), 12)
                    }
                    None => ('\u{FFFD}', 6),
                }
            }
            Some(code) => (char::from_u32(code).unwrap_or('\u{FFFD}'), 6),
            None => ('\\', 1),
        },
        'x' => match hex_value(input, 2, 2) {
            Some(code) => (char::from_u32(code).unwrap_or('\u{FFFD}'), 4),
            None => ('\\', 1),
        },
        _ => ('\\', 1),
    }
}

/// `%HH`, or a run of them that is one UTF-8 character.
fn percent(input: &[Unit]) -> (char, usize) {
    let byte = |k: usize| {
        (input.get(3 * k).map(|u| u.c) == Some('%'))
            .then(|| hex_value(input, 3 * k + 1, 2))
            .flatten()
    };
    let Some(lead) = byte(0) else {
        return ('%', 1);
    };
    let len = match lead {
        0x00..=0x7F => return (char::from_u32(lead).unwrap_or('\u{FFFD}'), 3),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return ('\u{FFFD}', 3),
    };
    let mut bytes = Vec::with_capacity(len);
    for k in 0..len {
        match byte(k).and_then(|b| u8::try_from(b).ok()) {
            Some(b) => bytes.push(b),
            None => return ('\u{FFFD}', 3),
        }
    }
    match std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => (c, 3 * len),
        None => ('\u{FFFD}', 3),
    }
}

/// `&amp;`, `&lt;`, `&#47;`, `&#x2F;`…
fn entity(input: &[Unit]) -> (char, usize) {
    let Some(semicolon) = input.iter().take(12).position(|u| u.c == ';') else {
        return ('&', 1);
    };
    let name: String = input[1..semicolon].iter().map(|u| u.c).collect();
    let c = match name.as_str() {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "sol" => Some('/'),
        "plus" => Some('+'),
        "equals" => Some('='),
        _ => name.strip_prefix('#').and_then(|number| {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => number.parse::<u32>().ok(),
            };
            code.and_then(char::from_u32)
        }),
    };
    match c {
        Some(c) => (c, semicolon + 1),
        None => ('&', 1),
    }
}

/// The value of `digits` hex digits starting at `from`.
fn hex_value(input: &[Unit], from: usize, digits: usize) -> Option<u32> {
    let slice = input.get(from..from + digits)?;
    slice
        .iter()
        .try_fold(0_u32, |value, u| Some(value * 16 + u.c.to_digit(16)?))
}

/// Where `needle` starts in `hay`, every occurrence (Knuth–Morris–Pratt:
/// linear, whatever the text).
fn find_all(hay: &[char], needle: &[char]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    let mut fallback = vec![0_usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = fallback[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        fallback[i] = k;
    }
    let mut found = Vec::new();
    let mut k = 0;
    for (i, c) in hay.iter().enumerate() {
        while k > 0 && *c != needle[k] {
            k = fallback[k - 1];
        }
        if *c == needle[k] {
            k += 1;
        }
        if k == needle.len() {
            found.push(i + 1 - k);
            k = fallback[k - 1];
        }
    }
    found
}

/// Ranges sorted, overlapping ones joined.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start < last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The secret in base64 (standard and URL-safe alphabets, at each of the
/// three alignments it can have inside a longer encoded text, without the
/// characters its neighbours share) and in hex.
fn encoded_renderings(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for offset in 0..3_usize {
            let mut bytes = vec![0_u8; offset];
            bytes.extend_from_slice(secret);
            let text = engine.encode(&bytes);
            let start = (8 * offset).div_ceil(6);
            let end = 8 * (offset + secret.len()) / 6;
            if let Some(core) = text.get(start..end) {
                out.push(core.to_owned());
            }
        }
    }
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    out.push(hex.to_ascii_uppercase());
    out.push(hex);
    out.retain(|needle| needle.len() >= MIN_ENCODED_NEEDLE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str = "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMIK7MDENGbPxRfiCY";
    const AMP: &str = "k3y&s3cr3t<value>0123456789abcdef+XYZ==";
    const BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0/abc+def";

    fn redactor() -> Redactor {
        Redactor::new([KEYS.to_owned(), AMP.to_owned(), BEARER.to_owned()])
    }

    #[test]
    fn replaces_every_occurrence_of_every_secret() {
        // GIVEN two secrets, one inside the other
        let redactor = Redactor::new(["tok".to_owned(), "Bearer tok123".to_owned()]);
        // WHEN a text echoing them is redacted
        let text = redactor.redact("auth=Bearer tok123; again tok and tok");
        // THEN none of them is left
        assert_eq!(text, "auth=<redacted>; again <redacted> and <redacted>");
    }

    #[test]
    fn finds_secrets_escaped_inside_json_text() {
        let redactor = Redactor::new([r#"a"b\c"#.to_owned()]);
        let json = serde_json::to_string(&serde_json::json!({"echo": r#"a"b\c"#})).unwrap();
        assert_eq!(redactor.redact(&json), r#"{"echo":"<redacted>"}"#);
    }

    #[test]
    fn finds_secrets_in_every_escaping_a_service_may_echo_them_in() {
        // GIVEN secrets with `/`, `&`, `<`, `+`, `=` and a space
        let redactor = redactor();
        let renderings = [
            // PHP's json_encode
            (KEYS.replace('/', "\\/"), "php json"),
            // Go's encoding/json
            (
                AMP.replace('&', "\\u0026")
                    .replace('<', "\\u003c")
                    .replace('>', "\\u003e"),
                "go json",
            ),
            // percent-encoding, upper and lower case, and a form's `+`
            (
                AMP.replace('&', "%26")
                    .replace('<', "%3C")
                    .replace('>', "%3e")
                    .replace('+', "%2B")
                    .replace('=', "%3D"),
                "percent",
            ),
            (
                BEARER
                    .replace(' ', "+")
                    .replace('/', "%2F")
                    .replace('+', "%2B"),
                "form",
            ),
            (BEARER.replace(' ', "%20").replace('/', "\\/"), "mixed"),
            // HTML
            (
                AMP.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&#62;"),
                "html",
            ),
            // JSON escapes of every character
            (
                KEYS.chars()
                    .map(|c| format!("\\u{:04x}", c as u32))
                    .collect(),
                "all escaped",
            ),
            // a percent-encoded value inside JSON, escaped once more
            (
                AMP.replace('&', "%26").replace('%', "\\u0025"),
                "two layers",
            ),
            (
                base64::engine::general_purpose::STANDARD.encode(format!("user:{KEYS}")),
                "base64",
            ),
            (KEYS.bytes().map(|b| format!("{b:02X}")).collect(), "hex"),
        ];
        for (rendering, how) in renderings {
            // WHEN green echoes one inside other text
            let text = format!("{{\"seen\":\"{rendering}\",\"status\":\"ok\"}}");
            let redacted = redactor.redact(&text);
            // THEN nothing of it is left, and the rest is untouched
            assert!(redacted.contains(REDACTED), "{how}: {redacted}");
            assert!(
                redacted.ends_with(",\"status\":\"ok\"}"),
                "{how}: {redacted}"
            );
            for part in [&rendering[..12], &rendering[rendering.len() - 12..]] {
                assert!(!redacted.contains(part), "{how}: {part} in {redacted}");
            }
        }
    }

    #[test]
    fn a_space_and_a_plus_are_the_same_character() {
        let redactor = Redactor::new(["Bearer abcdefgh".to_owned()]);
        assert_eq!(redactor.redact("x=Bearer+abcdefgh&y=1"), "x=<redacted>&y=1");
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        let redactor = Redactor::new([String::new()]);
        assert_eq!(redactor.redact("plain"), "plain");
        let redactor = redactor_with("s3cr3t-value");
        let text = r#"{"a":"\/path\u0026more%20x&amp;y"}"#;
        assert_eq!(redactor.redact(text), text);
    }

    #[test]
    fn malformed_escapes_are_kept_as_they_are() {
        let redactor = redactor_with("s3cr3t-value");
        for text in [
            "\\u12",
            "%4",
            "%ZZ",
            "&unknown;",
            "&#xZZ;",
            "\\",
            "%C3%",
            "\\uD800x",
        ] {
            assert_eq!(redactor.redact(text), text);
        }
    }

    #[test]
    fn decoding_is_linear_on_hostile_text() {
        // GIVEN a text that would make a naive search quadratic
        let redactor = redactor_with(&format!("{}b", "a".repeat(200)));
        let text = "a".repeat(100_000) + "%61";
        // WHEN it is redacted, THEN it is returned unchanged (no secret)
        assert_eq!(redactor.redact(&text).len(), text.len());
    }

    #[test]
    fn room_covers_the_longest_escaped_secret() {
        let redactor = redactor();
        let escaped: String = KEYS
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        assert!(redactor.room_chars() >= escaped.chars().count());
    }

    #[test]
    fn debug_does_not_print_secrets() {
        let redactor = Redactor::new(["s3cr3t".to_owned()]);
        assert_eq!(format!("{redactor:?}"), "Redactor(1 secrets)");
    }

    fn redactor_with(secret: &str) -> Redactor {
        Redactor::new([secret.to_owned()])
    }
}
