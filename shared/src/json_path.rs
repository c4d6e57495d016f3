//! JSONPaths bounded before they are parsed, and by what they may cost on a
//! large body. The parser recurses per bracket, so nesting is bounded first;
//! descendant segments and unions multiply the nodes a query finds (and the
//! memory to hold them), so their number is bounded too. Bounds on the text,
//! not a parse: string literals count, which only errs on the safe side.

use serde_json_path::JsonPath;

/// Longest JSONPath accepted.
pub const MAX_JSON_PATH_BYTES: usize = 1024;
/// Deepest nesting of brackets and parentheses in a JSONPath.
pub const MAX_JSON_PATH_NESTING: usize = 32;
/// Most descendant segments (`..`) in a JSONPath. One visits every node of
/// the body; each further one multiplies that by the nodes found before it,
/// up to the whole document again per node.
pub const MAX_JSON_PATH_DESCENDANTS: usize = 1;
/// Most times unions may multiply the nodes found, in all: the product of
/// the selectors of every bracket (`$[0,1]['a','b']` is 4), since a union
/// lists a node once per selector that finds it.
pub const MAX_JSON_PATH_FANOUT: usize = 4;

/// What a JSONPath can make of a large body: its descendant segments, and the
/// product of its unions' sizes (outside string literals; a bound, not a
/// parse).
fn path_work(text: &str) -> (usize, usize) {
    let (mut descendants, mut fanout) = (0_usize, 1_usize);
    let mut brackets: Vec<Option<usize>> = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            match c {
                '\\' => {
                    chars.next();
                }
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '.' if chars.peek() == Some(&'.') => {
                chars.next();
                descendants += 1;
            }
            '[' => brackets.push(Some(1)),
            '(' => brackets.push(None),
            ',' => {
                if let Some(Some(selectors)) = brackets.last_mut() {
                    *selectors += 1;
                }
            }
            ']' | ')' => {
                if let Some(Some(selectors)) = brackets.pop() {
                    fanout = fanout.saturating_mul(selectors);
                }
            }
            _ => {}
        }
    }
    (descendants, fanout)
}

/// The deepest nesting of `(` and `[` in `text` (string literals included:
/// a bound, not a parse).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0_usize, 0_usize);
    for c in text.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The path parsed, or why it is refused.
pub fn parse_bounded(text: &str) -> Result<JsonPath, String> {
    let depth = nesting(text);
    let (descendants, fanout) = path_work(text);
    if text.len() > MAX_JSON_PATH_BYTES || depth > MAX_JSON_PATH_NESTING {
        Err(format!(
            "expected at most {MAX_JSON_PATH_BYTES} bytes and {MAX_JSON_PATH_NESTING} nested brackets, got {} bytes and {depth}",
            text.len()
        ))
    } else if descendants > MAX_JSON_PATH_DESCENDANTS {
        Err(format!(
            "expected at most {MAX_JSON_PATH_DESCENDANTS} descendant segment (..), got {descendants}: each one more can multiply the work on a large body by its size"
        ))
    } else if fanout > MAX_JSON_PATH_FANOUT {
        Err(format!(
            "expected unions that multiply the nodes found by at most {MAX_JSON_PATH_FANOUT} in all (the product of the selectors per bracket), got {fanout}"
        ))
    } else {
        JsonPath::parse(text).map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_descendants_and_unions_outside_string_literals() {
        assert_eq!(path_work("$..a"), (1, 1));
        assert_eq!(path_work("$..a..b"), (2, 1));
        assert_eq!(path_work("$[0,1,2]['a','b']"), (0, 6));
        assert_eq!(path_work("$[?@.a == 'x..y,z']"), (0, 1));
        assert_eq!(path_work("$[?search(@.a, 'b')]"), (0, 1));
        assert_eq!(path_work(r#"$["a\"..,b"]"#), (0, 1));
    }
}
