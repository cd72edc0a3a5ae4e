//! JSON pointers (RFC 6901), the one way every module of the generator, and xtask, writes,
//! reads, shows and orders them: the locations of its error messages are pointers, so they
//! must escape, unescape and sort alike everywhere.

/// Escapes one token (`~` as `~0`, `/` as `~1`).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The text of one escaped token (`~1` as `/`, `~0` as `~`, in that order).
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Shows the document root as `/` rather than as an empty string.
pub fn display(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".to_owned()
    } else {
        pointer.to_owned()
    }
}

/// The pointer of a serde path (the location `serde_path_to_error` reports), shown with
/// [`display`].
pub fn of_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    display(&pointer)
}

/// Orders pointers token by token, numbers (array indices, status codes) before names and as
/// numbers (`/a/9` before `/a/10`).
pub fn sort_key(pointer: &str) -> Vec<(u8, u64, String)> {
    pointer
        .split('/')
        .map(|token| match token.parse::<u64>() {
            Ok(number) => (0, number, String::new()),
            Err(_) => (1, 0, token.to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_escaping() {
        // `~1` in a name must not turn into `/` and back into something else.
        for token in ["a/b", "~1", "~/~0", "plain", ""] {
            assert_eq!(unescape(&escape(token)), token);
        }
        assert_eq!(escape("~/"), "~0~1");
    }

    #[test]
    fn indices_sort_as_numbers_before_names() {
        // `/a/9` before `/a/10`, and an index before a member name.
        let mut pointers = vec!["/a/x", "/a/10", "/a/9"];
        pointers.sort_by_key(|pointer| sort_key(pointer));
        assert_eq!(pointers, ["/a/9", "/a/10", "/a/x"]);
    }
}
