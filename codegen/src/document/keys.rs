//! Finding mapping keys by position: the reader that reports two keys of one mapping which are
//! the same once read as JSON (`200:` and `'200':` in YAML, a key repeated in JSON) with the
//! line and column of both.
//!
//! Neither serde_json's nor serde_yaml_ng's value keeps positions. A JSON text is walked again
//! by [`json`], which tracks positions itself and keeps its stack on the heap, so no depth of
//! nesting ends the walk early. A YAML text is walked with a serde visitor that tracks the JSON
//! pointer and fails on purpose at the key it is looking for (serde_yaml_ng attaches the
//! position to an error raised while a key is read); its depth is bounded by the first
//! reading, which serde_yaml_ng stops at 128 levels. A walk that stops for any other reason is
//! a [`Failure`], never "not found": a key repeated after that place would go unseen.

use std::cell::RefCell;
use std::fmt;
use std::ops::ControlFlow;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Syntax;
use crate::Error;
use crate::json_pointer;

mod json;

/// The message of the error raised on purpose to stop the YAML walk at the key it searches.
const FOUND: &str = "the walk stops at the key it searches for";

/// Line and column, 1-based.
type Position = (usize, usize);

/// Why a walk stopped before the end of the text without finding what it searched for.
#[derive(Debug)]
pub(super) struct Failure {
    /// JSON pointer of the value it was in, shown with [`json_pointer::display`].
    pointer: String,
    /// 1-based line, 0 when unknown.
    line: usize,
    /// 1-based column, 0 when unknown.
    column: usize,
    /// What stopped it.
    message: String,
}

impl Failure {
    /// The error refusing `file`, whose keys cannot all be checked.
    pub(super) fn into_error(self, file: &str) -> Error {
        Error::KeyCheck {
            file: file.to_owned(),
            line: self.line,
            column: self.column,
            pointer: self.pointer,
            message: self.message,
        }
    }
}

/// The error for key `key` given twice in the mapping at `pointer`, the second time at
/// `second` (line and column, `(0, 0)` when unknown); the walk's error when the first one
/// cannot be located.
pub(super) fn duplicate(
    file: &str,
    syntax: Syntax,
    text: &str,
    pointer: &str,
    key: &str,
    second: Option<Position>,
) -> Error {
    let (line, column) = second.unwrap_or((0, 0));
    let (first_line, first_column) = match locate(syntax, text, pointer, key, 1) {
        Ok(first) => first.unwrap_or((0, 0)),
        Err(failure) => return failure.into_error(file),
    };
    Error::DuplicateKey {
        file: file.to_owned(),
        line,
        column,
        first_line,
        first_column,
        pointer: format!("{pointer}/{}", json_pointer::escape(key)),
        key: key.to_owned(),
    }
}

/// Line and column of the `occurrence`-th (1-based) key `key` of the mapping at `pointer`.
pub(super) fn locate(
    syntax: Syntax,
    text: &str,
    pointer: &str,
    key: &str,
    occurrence: usize,
) -> Result<Option<Position>, Failure> {
    match syntax {
        Syntax::Json => {
            let mut seen = 0;
            let mut found = None;
            json::walk(text, |met| {
                if met.object == pointer && met.key == key {
                    seen += 1;
                    if seen == occurrence {
                        found = Some(met.at);
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            })?;
            Ok(found)
        }
        Syntax::Yaml => locate_yaml(text, pointer, key, occurrence),
    }
}

/// A key that repeats an earlier key of its mapping.
pub(super) struct Duplicate {
    /// JSON pointer of the mapping.
    pub(super) pointer: String,
    /// The key, as a JSON key.
    pub(super) key: String,
    /// Where the repeated key is.
    pub(super) at: Position,
}

/// The first key of a JSON `text` that repeats an earlier key of its object, at any depth.
pub(super) fn first_duplicate_json(text: &str) -> Result<Option<Duplicate>, Failure> {
    let mut found = None;
    json::walk(text, |met| {
        if !met.repeated {
            return ControlFlow::Continue(());
        }
        found = Some(Duplicate {
            pointer: met.object.to_owned(),
            key: met.key.to_owned(),
            at: met.at,
        });
        ControlFlow::Break(())
    })?;
    Ok(found)
}

/// [`locate`] in a YAML text: walks it until the search stops on purpose.
fn locate_yaml(
    text: &str,
    pointer: &str,
    key: &str,
    occurrence: usize,
) -> Result<Option<Position>, Failure> {
    let search = Search {
        pointer,
        key,
        occurrence,
        seen: RefCell::new(0),
        stopped_in: RefCell::new(None),
    };
    let start = Walk {
        search: &search,
        pointer: String::new(),
    };
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let Err(error) = start.deserialize(deserializer) else {
        return Ok(None);
    };
    let (line, column) = error
        .location()
        .map_or((0, 0), |at| (at.line(), at.column()));
    if error.to_string().contains(FOUND) {
        return Ok(Some((line, column)));
    }
    Err(Failure {
        pointer: json_pointer::display(&search.stopped_in.take().unwrap_or_default()),
        line,
        column,
        message: super::strip_position(&error.to_string()),
    })
}

/// What the YAML walk looks for: the `occurrence`-th key `key` of the mapping at `pointer`.
struct Search<'a> {
    pointer: &'a str,
    key: &'a str,
    occurrence: usize,
    /// How many keys `key` the mapping at `pointer` has shown so far.
    seen: RefCell<usize>,
    /// The pointer of the innermost value whose reading failed, for a failure's message.
    stopped_in: RefCell<Option<String>>,
}

/// Visits any value, tracking its JSON pointer.
struct Walk<'s, 'a> {
    search: &'s Search<'a>,
    pointer: String,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let search = self.search;
        let pointer = self.pointer.clone();
        deserializer.deserialize_any(self).inspect_err(|_| {
            // The innermost value fails first; outer ones keep its pointer.
            search.stopped_in.borrow_mut().get_or_insert(pointer);
        })
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A YAML tag; refused elsewhere, not searched here.
        IgnoredAny.visit_enum(data).map(|_| ())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while items
            .next_element_seed(Walk {
                search: self.search,
                pointer: format!("{}/{index}", self.pointer),
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        while let Some(key) = entries.next_key_seed(Key { walk: &self })? {
            let pointer = match key {
                Some(key) => format!("{}/{}", self.pointer, json_pointer::escape(&key)),
                None => format!("{}/?", self.pointer),
            };
            entries.next_value_seed(Walk {
                search: self.search,
                pointer,
            })?;
        }
        Ok(())
    }
}

/// Reads one mapping key as the JSON key it becomes (`None` for a key that is not a scalar),
/// and stops the walk when it is the one searched for.
struct Key<'w, 's, 'a> {
    walk: &'w Walk<'s, 'a>,
}

impl Key<'_, '_, '_> {
    fn check<E: de::Error>(self, key: String) -> Result<Option<String>, E> {
        let search = self.walk.search;
        if self.walk.pointer == search.pointer && key == search.key {
            let mut seen = search.seen.borrow_mut();
            *seen += 1;
            if *seen == search.occurrence {
                return Err(E::custom(FOUND));
            }
        }
        Ok(Some(key))
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_, '_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_, '_> {
    type Value = Option<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<String>, E> {
        self.check(key.to_owned())
    }

    fn visit_bool<E: de::Error>(self, key: bool) -> Result<Option<String>, E> {
        self.check(key.to_string())
    }

    fn visit_i64<E: de::Error>(self, key: i64) -> Result<Option<String>, E> {
        self.check(serde_yaml_ng::Number::from(key).to_string())
    }

    fn visit_u64<E: de::Error>(self, key: u64) -> Result<Option<String>, E> {
        self.check(serde_yaml_ng::Number::from(key).to_string())
    }

    fn visit_f64<E: de::Error>(self, key: f64) -> Result<Option<String>, E> {
        self.check(serde_yaml_ng::Number::from(key).to_string())
    }

    fn visit_unit<E>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<Option<String>, A::Error> {
        IgnoredAny.visit_seq(items).map(|_| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Option<String>, A::Error> {
        IgnoredAny.visit_map(entries).map(|_| None)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Option<String>, A::Error> {
        IgnoredAny.visit_enum(data).map(|_| None)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Error, Source, document::parse};

    fn refused(name: &str, text: &str) -> String {
        match parse(Source::new(name, text)) {
            Err(error @ Error::DuplicateKey { .. }) => error.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yaml_keys_equal_as_json_are_refused_with_both_places() {
        let text = "responses:\n  200: {description: a}\n  '200': {description: b}\n";
        assert_eq!(
            refused("s.yaml", text),
            "s.yaml:3:3: /responses/200: key \"200\" is given twice in one mapping (first at \
             line 2 column 3); as JSON keys they are the same, so one would silently replace \
             the other (in YAML, 200 and '200' are the same key)"
        );
        // Booleans and flow style too, deeper in the document.
        let text = "a:\n- {x: {true: 1, \"true\": 2}}\n";
        assert!(refused("s.yaml", text).starts_with("s.yaml:2:17: /a/0/x/true: key \"true\""));
    }

    #[test]
    fn json_keys_given_twice_are_refused_with_both_places() {
        let text = "{\"paths\": {\"/a\": {},\n \"/a\": {}}}";
        let message = refused("s.json", text);
        assert!(
            message.starts_with("s.json:2:5: /paths/~1a: key \"/a\" is given twice in one mapping (first at line 1 column 15)"),
            "{message}"
        );
    }

    #[test]
    fn keys_that_differ_stay_apart() {
        let value = parse(Source::new(
            "s.yaml",
            "a: {200: x, '201': y, 2000: z}\nb: {200: w}\n",
        ))
        .expect("parses");
        assert_eq!(value["a"].as_object().map(|map| map.len()), Some(3));
        parse(Source::new(
            "s.json",
            "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}",
        ))
        .expect("parses");
    }
}
