//! A JSON object writer for the SIEM events, which are most of what a SIEM feed writes: the members every event
//! shares are written as the bytes they always are, and only the source's values go through serde_json's string
//! escaping. Derived `Serialize` structs escaped every key and constant again for each event, which made an ECS or
//! OCSF line cost several times an NDJSON one.

use std::fmt;

use chrono::{DateTime, Datelike as _, SecondsFormat, Timelike as _, Utc};
use serde::{Serialize, Serializer as _};

/// One JSON object being written: members are separated as they come, and [`end`](Self::end) closes it.
pub(super) struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

/// What writing a value can fail with (nothing, into a `Vec`; a `Display` that fails).
pub(super) type Written = serde_json::Result<()>;

impl<'o> Object<'o> {
    /// Opens an object at the end of `out`.
    pub(super) fn begin(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Closes the object.
    pub(super) fn end(self) {
        self.out.push(b'}');
    }

    /// Starts a member: the separator and `"key":`. Keys are the standards' names, which need no escaping.
    fn key(&mut self, key: &str) {
        debug_assert!(is_plain(key), "{key:?} would need escaping");
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn separate(&mut self) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
    }

    /// Members already written as JSON (`"kind":"event","outcome":"success"`), written as they are.
    pub(super) fn raw(&mut self, members: &str) {
        self.separate();
        self.out.extend_from_slice(members.as_bytes());
    }

    /// A member whose value is one of the standards' names (`"Close"`), which needs no escaping.
    pub(super) fn name(&mut self, key: &str, value: &str) {
        debug_assert!(is_plain(value), "{value:?} would need escaping");
        self.key(key);
        self.out.push(b'"');
        self.out.extend_from_slice(value.as_bytes());
        self.out.push(b'"');
    }

    /// A member holding `value`, escaped (text from the server or the user).
    pub(super) fn text(&mut self, key: &str, value: &str) -> Written {
        self.key(key);
        self.string(value)
    }

    /// A member holding `value` when there is one.
    pub(super) fn text_if(&mut self, key: &str, value: Option<&str>) -> Written {
        value.map_or(Ok(()), |value| self.text(key, value))
    }

    /// A member holding `value`'s `Display`, escaped, without an intermediate string.
    pub(super) fn shown(&mut self, key: &str, value: &dyn fmt::Display) -> Written {
        self.key(key);
        serde_json::Serializer::new(&mut *self.out).collect_str(value)
    }

    /// A member holding a number, a boolean or another serialisable value.
    pub(super) fn value_of(&mut self, key: &str, value: &impl Serialize) -> Written {
        self.key(key);
        self.value(value)
    }

    /// A member holding `value` when there is one.
    pub(super) fn value_if(&mut self, key: &str, value: Option<impl Serialize>) -> Written {
        value.map_or(Ok(()), |value| self.value_of(key, &value))
    }

    /// A member holding an object that `members` writes.
    pub(super) fn object(
        &mut self,
        key: &str,
        members: impl FnOnce(&mut Object<'_>) -> Written,
    ) -> Written {
        self.key(key);
        let mut inner = Object::begin(self.out);
        members(&mut inner)?;
        inner.end();
        Ok(())
    }

    /// A member holding `time` as RFC 3339 in UTC with milliseconds (`2024-01-31T00:00:00.000Z`), written from a
    /// stack buffer; years outside 0 to 9999 and leap seconds as chrono writes them.
    pub(super) fn time(&mut self, key: &str, time: &DateTime<Utc>) -> Written {
        let nanos = time.nanosecond();
        let Ok(year) = u32::try_from(time.year()) else {
            return self.text(key, &time.to_rfc3339_opts(SecondsFormat::Millis, true));
        };
        if year > 9999 || nanos >= 1_000_000_000 {
            return self.text(key, &time.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let mut text = *b"\"0000-00-00T00:00:00.000Z\"";
        let mut digits = |at: usize, width: usize, mut value: u32| {
            for place in (at..at + width).rev() {
                // A digit: `value % 10` is below 10.
                text[place] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        digits(1, 4, year);
        digits(6, 2, time.month());
        digits(9, 2, time.day());
        digits(12, 2, time.hour());
        digits(15, 2, time.minute());
        digits(18, 2, time.second());
        digits(21, 3, nanos / 1_000_000);
        self.key(key);
        self.out.extend_from_slice(&text);
        Ok(())
    }

    /// A member holding a one-element array of the object `members` writes.
    pub(super) fn object_list(
        &mut self,
        key: &str,
        members: impl FnOnce(&mut Object<'_>) -> Written,
    ) -> Written {
        self.key(key);
        self.out.push(b'[');
        let mut inner = Object::begin(self.out);
        members(&mut inner)?;
        inner.end();
        self.out.push(b']');
        Ok(())
    }

    /// A member holding a one-element array of `value`, escaped.
    pub(super) fn text_list(&mut self, key: &str, value: &str) -> Written {
        self.key(key);
        self.out.push(b'[');
        self.string(value)?;
        self.out.push(b']');
        Ok(())
    }

    /// `value` as a JSON string: copied between quotes when nothing in it needs escaping (ids, names, URLs: nearly
    /// always), else escaped by serde_json. The bytes are the same either way.
    fn string(&mut self, value: &str) -> Written {
        if is_plain(value) {
            self.out.reserve(value.len() + 2);
            self.out.push(b'"');
            self.out.extend_from_slice(value.as_bytes());
            self.out.push(b'"');
            Ok(())
        } else {
            self.value(value)
        }
    }

    fn value(&mut self, value: &(impl Serialize + ?Sized)) -> Written {
        value.serialize(&mut serde_json::Serializer::new(&mut *self.out))
    }
}

/// Whether `text` can be written between quotes as it is: no control character, quote or backslash, which are
/// what JSON (and serde_json) escapes. A fold without an early exit, which the compiler vectorises.
fn is_plain(text: &str) -> bool {
    !text.bytes().fold(false, |escape, byte| {
        escape | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

#[cfg(test)]
mod tests {
    use super::Object;

    /// Members are separated, text is escaped, nested objects close, and what is absent is left out.
    #[test]
    fn writes_one_valid_object() {
        let mut out = Vec::new();
        let mut object = Object::begin(&mut out);
        object.raw(r#""kind":"event""#);
        object
            .text("message", "a \"quoted\"\nline\u{1b}")
            .expect("written");
        object.text_if("absent", None).expect("written");
        object
            .object("user", |user| {
                user.name("name", "system");
                user.value_of("id", &7)
            })
            .expect("written");
        object.text_list("related", "x").expect("written");
        object
            .shown("shown", &format_args!("{}-{}", 1, "two"))
            .expect("written");
        object.value_if("nothing", None::<bool>).expect("written");
        object.end();
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(
            text,
            r#"{"kind":"event","message":"a \"quoted\"\nline\u001b","user":{"name":"system","id":7},"related":["x"],"shown":"1-two"}"#
        );
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["message"], "a \"quoted\"\nline\u{1b}");
    }
}

#[cfg(test)]
mod string_tests {
    use proptest::prelude::*;

    use super::Object;

    proptest! {
        /// Any text is written as serde_json writes it, whether it takes the copy or the escaping path.
        #[test]
        fn text_is_written_as_serde_json_writes_it(text in any::<String>(), plain in "[a-z0-9:./-]{0,40}") {
            for value in [text.as_str(), plain.as_str()] {
                let mut out = Vec::new();
                let mut object = Object::begin(&mut out);
                object.text("t", value).expect("written");
                object.end();
                let expected = format!("{{\"t\":{}}}", serde_json::to_string(value).expect("a string"));
                prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
            }
        }
    }
}

#[cfg(test)]
mod time_tests {
    use chrono::{DateTime, SecondsFormat, TimeZone as _, Utc};

    use super::Object;

    fn written(time: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        let mut object = Object::begin(&mut out);
        object.time("t", time).expect("written");
        object.end();
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        value["t"].as_str().expect("a string").to_owned()
    }

    /// Times are written as chrono's RFC 3339 writer writes them, at the edges of the fast path and beyond.
    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let times = [
            Utc.timestamp_opt(0, 0).single(),
            Utc.timestamp_opt(1_704_859_027, 379_999_999).single(),
            Utc.timestamp_opt(-62_167_219_200, 1_000_000).single(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(-1, 6, 15, 12, 30, 45).single(),
            Utc.timestamp_opt(1_483_228_799, 1_500_000_000).single(),
        ];
        for time in times.into_iter().map(|time| time.expect("a time")) {
            assert_eq!(
                written(&time),
                time.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{time:?}"
            );
        }
    }
}
