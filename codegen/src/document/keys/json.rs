//! The key walk of a JSON text, iterative: its stack of open objects and arrays lives on the
//! heap, so a document nested to any depth is walked to its end. serde's visitors recurse, and
//! serde_json stops them at 128 levels; upstream's whole document is read as raw text, which
//! has no such limit, so a walk that stopped there would leave every later key unchecked.
//!
//! The text has been read once already (as JSON), so the walk expects valid JSON; anything else
//! is a [`Failure`] naming where it stopped, never "no duplicate".

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use super::{Failure, Position};
use crate::json_pointer;

/// One object key met by the walk.
pub(super) struct Key<'a> {
    /// JSON pointer of the object.
    pub(super) object: &'a str,
    /// The key, unescaped.
    pub(super) key: &'a str,
    /// Where its closing quote is (as serde_json reports a key's position).
    pub(super) at: Position,
    /// Whether the object has shown this key before.
    pub(super) repeated: bool,
}

/// An object or array the walk is inside.
enum Frame {
    /// An object: the length of its pointer and the keys it has shown.
    Object { base: usize, keys: BTreeSet<String> },
    /// An array: the length of its pointer and the index of the current item.
    Array { base: usize, index: usize },
}

/// Calls `visit` with every object key of `text` in document order, until it breaks.
pub(super) fn walk(
    text: &str,
    mut visit: impl FnMut(&Key<'_>) -> ControlFlow<()>,
) -> Result<(), Failure> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        text,
        at: 0,
        line: 1,
        line_start: 0,
    };
    // The pointer of the value about to be read.
    let mut pointer = String::new();
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        // A value at `pointer`.
        cursor.skip_whitespace();
        match cursor.peek() {
            Some(b'{') => {
                cursor.at += 1;
                stack.push(Frame::Object {
                    base: pointer.len(),
                    keys: BTreeSet::new(),
                });
                cursor.skip_whitespace();
                if cursor.peek() == Some(b'}') {
                    cursor.at += 1;
                    stack.pop();
                } else if next_key(&mut cursor, &mut stack, &mut pointer, &mut visit)?.is_break() {
                    return Ok(());
                } else {
                    continue;
                }
            }
            Some(b'[') => {
                cursor.at += 1;
                stack.push(Frame::Array {
                    base: pointer.len(),
                    index: 0,
                });
                cursor.skip_whitespace();
                if cursor.peek() == Some(b']') {
                    cursor.at += 1;
                    stack.pop();
                } else {
                    pointer.push_str("/0");
                    continue;
                }
            }
            Some(b'"') => {
                cursor.string(&pointer)?;
            }
            Some(_) => cursor.scalar(&pointer)?,
            None => return Err(cursor.failure(&pointer, "the text ends where a value should be")),
        }
        // After a value: the next member or item, or the end of the enclosing ones.
        loop {
            cursor.skip_whitespace();
            let Some(frame) = stack.last_mut() else {
                return Ok(());
            };
            match (cursor.peek(), frame) {
                (Some(b','), Frame::Object { .. }) => {
                    cursor.at += 1;
                    if next_key(&mut cursor, &mut stack, &mut pointer, &mut visit)?.is_break() {
                        return Ok(());
                    }
                    break;
                }
                (Some(b','), Frame::Array { base, index }) => {
                    cursor.at += 1;
                    *index += 1;
                    pointer.truncate(*base);
                    pointer.push_str(&format!("/{index}"));
                    break;
                }
                (Some(b'}'), Frame::Object { base, .. })
                | (Some(b']'), Frame::Array { base, .. }) => {
                    cursor.at += 1;
                    pointer.truncate(*base);
                    stack.pop();
                }
                _ => {
                    return Err(
                        cursor.failure(&pointer, "expected `,` or the end of the object or array")
                    );
                }
            }
        }
    }
}

/// Reads the next key of the object on top of `stack` and its `:`, shows it to `visit`, and
/// points `pointer` at its value.
fn next_key(
    cursor: &mut Cursor<'_>,
    stack: &mut [Frame],
    pointer: &mut String,
    visit: &mut impl FnMut(&Key<'_>) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, Failure> {
    let Some(Frame::Object { base, keys }) = stack.last_mut() else {
        return Err(cursor.failure(pointer, "a key outside an object"));
    };
    pointer.truncate(*base);
    cursor.skip_whitespace();
    if cursor.peek() != Some(b'"') {
        return Err(cursor.failure(pointer, "expected a key"));
    }
    let key = cursor.string(pointer)?;
    let at = cursor.position(cursor.at - 1);
    cursor.skip_whitespace();
    if cursor.peek() != Some(b':') {
        return Err(cursor.failure(pointer, "expected `:` after a key"));
    }
    cursor.at += 1;
    let repeated = !keys.insert(key.clone());
    let flow = visit(&Key {
        object: pointer,
        key: &key,
        at,
        repeated,
    });
    pointer.push('/');
    pointer.push_str(&json_pointer::escape(&key));
    Ok(flow)
}

/// A place in the text, with its line counted.
struct Cursor<'t> {
    bytes: &'t [u8],
    text: &'t str,
    /// Byte offset of the next byte.
    at: usize,
    /// 1-based line of `at`.
    line: usize,
    /// Byte offset where that line starts.
    line_start: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(byte @ (b' ' | b'\t' | b'\n' | b'\r')) = self.peek() {
            self.at += 1;
            if byte == b'\n' {
                self.line += 1;
                self.line_start = self.at;
            }
        }
    }

    /// Line and 1-based column (in bytes, as serde_json counts) of byte `offset` of the
    /// current line.
    fn position(&self, offset: usize) -> Position {
        (self.line, offset.saturating_sub(self.line_start) + 1)
    }

    /// Reads the string that starts at the cursor (a `"`) and returns its text.
    fn string(&mut self, pointer: &str) -> Result<String, Failure> {
        let open = self.at;
        let mut escaped = false;
        let mut at = open + 1;
        loop {
            match self.bytes.get(at) {
                None | Some(b'\n') => return Err(self.failure(pointer, "a string is not closed")),
                Some(b'\\') => {
                    escaped = true;
                    at += 2;
                }
                Some(b'"') => break,
                Some(_) => at += 1,
            }
        }
        self.at = at + 1;
        let Some(quoted) = self.text.get(open..=at) else {
            return Err(self.failure(pointer, "a string is not valid UTF-8"));
        };
        if !escaped {
            return Ok(quoted[1..quoted.len() - 1].to_owned());
        }
        serde_json::from_str(quoted)
            .map_err(|error| self.failure(pointer, &format!("a string cannot be read: {error}")))
    }

    /// Skips a number, `true`, `false` or `null`.
    fn scalar(&mut self, pointer: &str) -> Result<(), Failure> {
        let start = self.at;
        while let Some(byte) = self.peek() {
            if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.at += 1;
        }
        if self.at == start {
            return Err(self.failure(pointer, "expected a value"));
        }
        Ok(())
    }

    /// A failure at the cursor, in the value at `pointer`.
    fn failure(&self, pointer: &str, message: &str) -> Failure {
        let (line, column) = self.position(self.at);
        Failure {
            pointer: json_pointer::display(pointer),
            line,
            column,
            message: message.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use super::walk;

    /// Every key, as `object key line:column` with `!` when repeated.
    fn keys(text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        walk(text, |key| {
            let mark = if key.repeated { "!" } else { "" };
            let object = crate::json_pointer::display(key.object);
            seen.push(format!(
                "{object} {}{mark} {}:{}",
                key.key, key.at.0, key.at.1
            ));
            ControlFlow::Continue(())
        })
        .expect("JSON");
        seen
    }

    /// Positions are the closing quote's, in bytes, as serde_json reports a key's.
    #[test]
    fn keys_come_in_document_order_with_their_objects() {
        let text =
            "{\"a\": [1, {\"b\": \"x,}\"}, [], {}],\n \"c~/\": {\"d\\u0041\": null, \"dA\": true}}";
        assert_eq!(
            keys(text),
            [
                "/ a 1:4",
                "/a/1 b 1:14",
                "/ c~/ 2:6",
                "/c~0~1 dA 2:18",
                "/c~0~1 dA! 2:30"
            ]
        );
    }

    #[test]
    fn nesting_deeper_than_serde_json_allows_is_walked() {
        let text = format!(
            "{}{{\"k\": 1, \"k\": 2}}{}",
            "[".repeat(1000),
            "]".repeat(1000)
        );
        let found = keys(&text);
        assert_eq!(found.len(), 2);
        assert!(
            found[1].starts_with(&format!("{} k! ", "/0".repeat(1000))),
            "{found:?}"
        );
    }

    #[test]
    fn text_that_is_not_json_fails_where_it_stops() {
        for (text, pointer, message) in [
            ("{\"a\" 1}", "/", "expected `:` after a key"),
            (
                "{\"a\": [1 2]}",
                "/a/0",
                "expected `,` or the end of the object or array",
            ),
            (
                "{\"a\": {\"b\": ",
                "/a/b",
                "the text ends where a value should be",
            ),
            ("{\"a\": \"b}", "/a", "a string is not closed"),
            ("{\"a\\x\": 1}", "/", "a string cannot be read"),
        ] {
            match walk(text, |_| ControlFlow::Continue(())) {
                Err(failure) => {
                    assert_eq!(failure.pointer, pointer, "{text}");
                    assert!(
                        failure.message.starts_with(message),
                        "{text}: {}",
                        failure.message
                    );
                }
                Ok(()) => panic!("{text}: walked to the end"),
            }
        }
    }
}
