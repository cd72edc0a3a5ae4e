//! Reading a spec or overlay text (YAML or JSON, detected) into a JSON value, and putting it in
//! canonical form so that key order and syntax never change the generated code.

use serde_json::{Map, Value};

use crate::{Error, Source};

mod keys;

/// Whether a text is JSON or YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// Starts with `{` or `[` after white space.
    Json,
    /// Anything else.
    Yaml,
}

impl Syntax {
    /// Detects the syntax from the first significant character.
    pub fn detect(text: &str) -> Self {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next()
        {
            Some('{' | '[') => Self::Json,
            _ => Self::Yaml,
        }
    }
}

/// Parses `source` as JSON or YAML, whichever it is.
pub fn parse(source: Source<'_>) -> Result<Value, Error> {
    let text = source.text.trim_start_matches('\u{feff}');
    match Syntax::detect(text) {
        Syntax::Json => {
            let value = serde_json::from_str(text)
                .map_err(|error| json_syntax_error(source.name, &error))?;
            refuse_duplicate_json_keys(source.name, text)?;
            Ok(value)
        }
        Syntax::Yaml => {
            let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|error| {
                let (line, column) = error
                    .location()
                    .map_or((0, 0), |at| (at.line(), at.column()));
                Error::Syntax {
                    file: source.name.to_owned(),
                    syntax: "YAML",
                    line,
                    column,
                    message: strip_position(&error.to_string()),
                }
            })?;
            yaml_to_json(source, text, yaml, &mut String::new())
        }
    }
}

/// The error for JSON text of `file` that serde_json refused.
pub(crate) fn json_syntax_error(file: &str, error: &serde_json::Error) -> Error {
    Error::Syntax {
        file: file.to_owned(),
        syntax: "JSON",
        line: error.line(),
        column: error.column(),
        message: strip_position(&error.to_string()),
    }
}

/// Refuses a key given twice in one object of the JSON `text` (valid JSON), at any depth:
/// serde_json keeps the last of two equal keys, so they are found with a second reading. A
/// second reading that cannot finish refuses the text too, naming where it stopped.
pub(crate) fn refuse_duplicate_json_keys(file: &str, text: &str) -> Result<(), Error> {
    match keys::first_duplicate_json(text).map_err(|failure| failure.into_error(file))? {
        Some(repeated) => Err(keys::duplicate(
            file,
            Syntax::Json,
            text,
            &repeated.pointer,
            &repeated.key,
            Some(repeated.at),
        )),
        None => Ok(()),
    }
}

/// Drops the " at line X column Y" suffix parsers append, since the error prints it already.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Converts a YAML value (of `text`, for locating errors) to JSON; mapping keys become strings,
/// and two keys that become the same string are an error naming both.
fn yaml_to_json(
    source: Source<'_>,
    text: &str,
    yaml: serde_yaml_ng::Value,
    pointer: &mut String,
) -> Result<Value, Error> {
    use serde_yaml_ng::Value as Yaml;
    let file = source.name;
    let not_json = |pointer: &str, message: String| Error::NotJson {
        file: file.to_owned(),
        pointer: crate::json_pointer::display(pointer),
        message,
    };
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => {
            if let Some(int) = number.as_i64() {
                Value::from(int)
            } else if let Some(int) = number.as_u64() {
                Value::from(int)
            } else {
                let float = number.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(float)
                    .map(Value::Number)
                    .ok_or_else(|| not_json(pointer, format!("number {number} has no JSON form")))?
            }
        }
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                out.push(yaml_to_json(source, text, item, pointer)?);
                pointer.truncate(len);
            }
            Value::Array(out)
        }
        Yaml::Mapping(entries) => {
            let mut out = Map::new();
            for (key, item) in entries {
                let key = match key {
                    Yaml::String(text) => text,
                    Yaml::Number(number) => number.to_string(),
                    Yaml::Bool(flag) => flag.to_string(),
                    other => {
                        return Err(not_json(
                            pointer,
                            format!("mapping key {other:?} is not a string"),
                        ));
                    }
                };
                if out.contains_key(&key) {
                    // e.g. `200:` and `'200':`, which YAML keeps apart and JSON cannot.
                    let second = keys::locate(Syntax::Yaml, text, pointer, &key, 2)
                        .map_err(|failure| failure.into_error(file))?;
                    return Err(keys::duplicate(
                        file,
                        Syntax::Yaml,
                        text,
                        pointer,
                        &key,
                        second,
                    ));
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&crate::json_pointer::escape(&key));
                let value = yaml_to_json(source, text, item, pointer)?;
                pointer.truncate(len);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            return Err(not_json(
                pointer,
                format!("YAML tag `{}` is not supported", tagged.tag),
            ));
        }
    })
}

/// Sorts every object's keys, recursively, so that the document no longer depends on the order
/// its source happened to list them in.
pub fn canonicalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            for (key, mut item) in entries {
                canonicalize(&mut item);
                map.insert(key, item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}
