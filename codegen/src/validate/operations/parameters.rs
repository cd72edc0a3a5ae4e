//! Path parameters: required, and one to one with the names of the path template (progenitor
//! panics on a template name with no parameter and on a parameter not in the template).

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Parameter, ReferenceOr};

use super::{Places, Unsupported, resolve_at};
use crate::problems::{Fix, Kind, Target};

/// Path parameters must be required and match the names in the path template one to one
/// (progenitor panics on a template name with no parameter and on a parameter not in the
/// template). Operation parameters override path-item parameters of the same name and place.
pub(super) fn check_path_parameters(
    api: &OpenAPI,
    path: &str,
    item_parameters: &[ReferenceOr<Parameter>],
    operation_parameters: &[ReferenceOr<Parameter>],
    places: &Places<'_>,
    out: &mut Vec<Unsupported>,
) {
    let components = &|name: &str| api.components.as_ref()?.parameters.get(name);
    // Name -> (required, where the parameter is defined, its entry in a `parameters` list).
    let mut declared: BTreeMap<String, (bool, Target, Target)> = BTreeMap::new();
    let lists = [
        (item_parameters, places.path),
        (operation_parameters, places.operation),
    ];
    for (parameters, owner) in lists {
        let list = owner.key("parameters");
        for (index, parameter) in parameters.iter().enumerate() {
            let entry = list.index(index);
            if let Some((defined, Parameter::Path { parameter_data, .. })) =
                resolve_at("parameters", components, parameter, &entry)
            {
                let entry = match parameter {
                    ReferenceOr::Reference { reference } => list.element_where("$ref", reference),
                    ReferenceOr::Item(_) => list.element_where("name", &parameter_data.name),
                };
                declared.insert(
                    parameter_data.name.clone(),
                    (parameter_data.required, defined, entry),
                );
            }
        }
    }
    let in_template: BTreeSet<String> = template_names(path);
    for (name, (_, defined, _)) in declared.iter().filter(|(_, (required, ..))| !*required) {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!(
                "path parameter `{name}` is not `required: true`; OpenAPI requires path \
                 parameters to be required"
            ),
            Fix::Update {
                target: defined.clone().into(),
                update: serde_json::json!({"required": true}),
            },
        ));
    }
    for name in in_template
        .iter()
        .filter(|name| !declared.contains_key(*name))
    {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!(
                "path template `{path}` names `{{{name}}}`, but no path parameter `{name}` is \
                 declared"
            ),
            Fix::Update {
                target: places.operation.clone().into(),
                update: serde_json::json!({"parameters": [{
                    "name": name, "in": "path", "required": true, "schema": {"type": "string"}
                }]}),
            },
        ));
    }
    for (name, (_, _, entry)) in declared
        .iter()
        .filter(|(name, _)| !in_template.contains(*name))
    {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!("path parameter `{name}` does not appear in the path template `{path}`"),
            Fix::Remove {
                targets: vec![entry.clone().into()],
                keeps: None,
            },
        ));
    }
}

/// The `{name}` segments of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.insert(after[..close].to_owned());
        rest = &after[close + 1..];
    }
    names
}
