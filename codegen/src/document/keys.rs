//! Finding mapping keys by position: the reader that reports two keys of one mapping which are
//! the same once read as JSON (`200:` and `'200':` in YAML, a key repeated in JSON) with the
//! line and column of both.
//!
//! Neither serde_json's nor serde_yaml_ng's value keeps positions, but both attach the current
//! position to an error raised while a key is read. So a second reading walks the text with a
//! visitor that tracks the JSON pointer and fails on purpose at the key it is looking for; the
//! error's position is the key's.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Syntax;
use crate::Error;
use crate::json_pointer;

/// The message of the error raised on purpose; any other error means "not found". (The text
/// has already been read once, so no other error is expected.)
const FOUND: &str = "the walk stops at the key it searches for";

/// The error for key `key` given twice in the mapping at `pointer`, the second time at
/// `second` (line and column, `(0, 0)` when unknown).
pub(super) fn duplicate(
    file: &str,
    syntax: Syntax,
    text: &str,
    pointer: &str,
    key: &str,
    second: Option<Position>,
) -> Error {
    let (line, column) = second.unwrap_or((0, 0));
    let (first_line, first_column) = locate(syntax, text, pointer, key, 1).unwrap_or((0, 0));
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
) -> Option<Position> {
    let search = Search {
        goal: Goal::Find {
            pointer,
            key,
            occurrence,
        },
        seen: RefCell::new(0),
        duplicate: RefCell::new(None),
    };
    walk(syntax, text, &search).map(|(position, _)| position)
}

/// Line and column, 1-based.
type Position = (usize, usize);

/// A key that repeats an earlier key of its mapping.
pub(super) struct Duplicate {
    /// JSON pointer of the mapping.
    pub(super) pointer: String,
    /// The key, as a JSON key.
    pub(super) key: String,
    /// Where the repeated key is.
    pub(super) at: Position,
}

/// The first key of a JSON `text` that repeats an earlier key of its object.
pub(super) fn first_duplicate_json(text: &str) -> Option<Duplicate> {
    let search = Search {
        goal: Goal::Duplicate,
        seen: RefCell::new(0),
        duplicate: RefCell::new(None),
    };
    let (at, found) = walk(Syntax::Json, text, &search)?;
    let (pointer, key) = found?;
    Some(Duplicate { pointer, key, at })
}

/// Walks `text`; when the search stops on purpose, its position and the duplicate it found
/// (mapping pointer and key).
fn walk(
    syntax: Syntax,
    text: &str,
    search: &Search<'_>,
) -> Option<(Position, Option<(String, String)>)> {
    let start = Walk {
        search,
        pointer: String::new(),
    };
    let position = match syntax {
        Syntax::Json => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let error = start.deserialize(&mut deserializer).err()?;
            (error.to_string().contains(FOUND)).then(|| (error.line(), error.column()))?
        }
        Syntax::Yaml => {
            let deserializer = serde_yaml_ng::Deserializer::from_str(text);
            let error = start.deserialize(deserializer).err()?;
            let location = error.location();
            (error.to_string().contains(FOUND))
                .then(|| location.map_or((0, 0), |at| (at.line(), at.column())))?
        }
    };
    Some((position, search.duplicate.borrow_mut().take()))
}

/// What the walk looks for.
enum Goal<'a> {
    /// The first key that repeats an earlier key of its mapping.
    Duplicate,
    /// The `occurrence`-th key `key` of the mapping at `pointer`.
    Find {
        pointer: &'a str,
        key: &'a str,
        occurrence: usize,
    },
}

struct Search<'a> {
    goal: Goal<'a>,
    /// How many keys `key` the mapping at `pointer` has shown so far.
    seen: RefCell<usize>,
    /// The duplicate found: mapping pointer and key.
    duplicate: RefCell<Option<(String, String)>>,
}

/// Visits any value, tracking its JSON pointer.
struct Walk<'s, 'a> {
    search: &'s Search<'a>,
    pointer: String,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
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
        let mut keys = BTreeSet::new();
        while let Some(key) = entries.next_key_seed(Key {
            walk: &self,
            keys: &mut keys,
        })? {
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
    keys: &'w mut BTreeSet<String>,
}

impl Key<'_, '_, '_> {
    fn check<E: de::Error>(self, key: String) -> Result<Option<String>, E> {
        let search = self.walk.search;
        match search.goal {
            Goal::Duplicate => {
                if !self.keys.insert(key.clone()) {
                    *search.duplicate.borrow_mut() = Some((self.walk.pointer.clone(), key));
                    return Err(E::custom(FOUND));
                }
            }
            Goal::Find {
                pointer,
                key: wanted,
                occurrence,
            } => {
                if self.walk.pointer == pointer && key == wanted {
                    let mut seen = search.seen.borrow_mut();
                    *seen += 1;
                    if *seen == occurrence {
                        return Err(E::custom(FOUND));
                    }
                }
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
