//! An application's definition as Graph's `synchronizationSchema`, and a schema read back into the definition:
//! per object kind whether it is provisioned, its target object actions (`flowTypes`), its scoping filters
//! (`scope.groups`) and its attribute mappings.

use std::collections::BTreeMap;

use roster_engine::definition::{Actions, Apply, Definition, Mapping, MappingKind, ObjectMapping};
use roster_engine::mapping::{Mapper, MappingError};
use roster_engine::scoping::{Clause, CompiledScoping, Operator, ScopingFilter};
use roster_expr::Expr;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::directories::{self, SOURCE_DIRECTORY};
use super::json::{At, PathError};
use super::operators::OPERATORS;
use super::{Kind, tree};
use crate::applications::display_name;

/// The schema of a definition, with `id`.
pub fn to_schema(definition: &Definition, id: &str) -> Value {
    let target = display_name(definition);
    let rule = json!({
        // The id provisionOnDemand takes as its `ruleId`: a client finds it here, as on Graph.
        "id": crate::ids::synchronization_rule(&definition.name),
        "name": format!("{SOURCE_DIRECTORY} to {target}"),
        "editable": true,
        "priority": 1,
        "sourceDirectoryName": SOURCE_DIRECTORY,
        "targetDirectoryName": target,
        "metadata": [],
        "objectMappings": [
            object_mapping(Kind::User, &definition.users),
            object_mapping(Kind::Group, &definition.groups),
        ],
    });
    let mut schema = json!({
        "id": id,
        "version": "",
        "directories": [directories::source(), directories::target(definition)],
        "synchronizationRules": [rule],
    });
    let digest = Sha256::digest(schema.to_string().as_bytes());
    schema["version"] = json!(format!("sha256:{}", hex::encode(&digest[..12])));
    schema
}

fn object_mapping(kind: Kind, mapping: &ObjectMapping) -> Value {
    let attribute_mappings: Vec<Value> = mapping.mappings.iter().map(attribute_mapping).collect();
    json!({
        "name": format!("Provision {SOURCE_DIRECTORY} {}s", kind.source_name()),
        "enabled": mapping.enabled,
        "flowTypes": flow_types(mapping.actions),
        "sourceObjectName": kind.source_name(),
        "targetObjectName": kind.target_name(),
        "scope": scope(&mapping.scoping_filters),
        "metadata": [],
        "attributeMappings": attribute_mappings,
    })
}

/// `Add, Update, Delete`, or `None`.
fn flow_types(actions: Actions) -> String {
    let names: Vec<&str> = [(actions.create, "Add"), (actions.update, "Update"), (actions.delete, "Delete")]
        .into_iter()
        .filter_map(|(allowed, name)| allowed.then_some(name))
        .collect();
    if names.is_empty() { "None".to_owned() } else { names.join(", ") }
}

fn scope(filters: &[ScopingFilter]) -> Value {
    let groups: Vec<Value> = filters
        .iter()
        .map(|filter| {
            let clauses: Vec<Value> = filter
                .clauses
                .iter()
                .map(|clause| {
                    json!({
                        "sourceOperandName": clause.attribute,
                        "operatorName": clause.operator.as_str(),
                        "targetOperand": {"values": clause.value.iter().collect::<Vec<_>>()},
                    })
                })
                .collect();
            json!({"name": filter.title, "clauses": clauses})
        })
        .collect();
    json!({"groups": groups, "inputFilterGroups": [], "categoryFilterGroups": []})
}

fn attribute_mapping(mapping: &Mapping) -> Value {
    json!({
        "targetAttributeName": mapping.target,
        "source": tree::mapping_source(mapping),
        "defaultValue": mapping.default,
        "flowType": match mapping.apply {
            Apply::Always => "Always",
            Apply::OnCreate => "ObjectAddOnly",
        },
        "flowBehavior": "FlowWhenChanged",
        "matchingPriority": mapping.matching.unwrap_or(0),
        "exportMissingReferences": false,
    })
}

/// Reads a schema into `base`: its users' and groups' mappings, scoping filters, actions and whether each is
/// provisioned; everything else of `base` stays. A mapping whose source evaluates the same syntax tree as
/// `base`'s mapping of that target keeps `base`'s text (so GET then PUT changes nothing). The result is validated;
/// an error names the JSON path.
pub fn from_schema(base: &Definition, schema: &Value) -> Result<Definition, PathError> {
    let root = At::root(schema);
    let rules = root.need("synchronizationRules")?;
    let rule = match rules.items()?.as_slice() {
        [rule] => rule.clone(),
        other => {
            return Err(rules.error(format!(
                "roster has one synchronization rule (the roster directory to the application), found {}",
                other.len()
            )));
        }
    };
    let object_mappings = rule.need("objectMappings")?;
    let mut read: BTreeMap<&'static str, (String, ObjectMapping)> = BTreeMap::new();
    for at in object_mappings.items()? {
        let source = at.need("sourceObjectName")?;
        let name = source.str()?;
        let kind = [Kind::User, Kind::Group]
            .into_iter()
            .find(|kind| kind.source_name().eq_ignore_ascii_case(name))
            .ok_or_else(|| source.error(format!("expected User or Group, found {name:?}")))?;
        if read.contains_key(kind.source_name()) {
            return Err(at.error(format!("a second object mapping of {}s", kind.source_name())));
        }
        let base_mapping = match kind {
            Kind::User => &base.users,
            Kind::Group => &base.groups,
        };
        read.insert(kind.source_name(), (at.path().to_owned(), object_mapping_from(&at, kind, base_mapping)?));
    }
    let mut take = |kind: Kind| {
        read.remove(kind.source_name()).ok_or_else(|| {
            object_mappings.error(format!("no object mapping with sourceObjectName {:?}", kind.source_name()))
        })
    };
    let (users_path, users) = take(Kind::User)?;
    let (_, groups) = take(Kind::Group)?;
    if !users.mappings.iter().any(|mapping| mapping.matching.is_some()) {
        return Err(PathError {
            path: format!("{users_path}.attributeMappings"),
            message: "at least one attribute mapping needs a matchingPriority (1 is tried first)".to_owned(),
        });
    }
    let mut definition = base.clone();
    definition.users = users;
    definition.groups = groups;
    roster_service::provisioning::validate(&definition)
        .map_err(|error| root.error(format!("the definition is not valid: {error:#}")))?;
    Ok(definition)
}

fn object_mapping_from(at: &At<'_>, kind: Kind, base: &ObjectMapping) -> Result<ObjectMapping, PathError> {
    if let Some(target) = at.get("targetObjectName")? {
        let name = target.str()?;
        if !name.eq_ignore_ascii_case(kind.target_name()) && !name.eq_ignore_ascii_case(kind.source_name()) {
            return Err(target.error(format!(
                "{}s are provisioned as {}, not {name:?}",
                kind.source_name(),
                kind.target_name()
            )));
        }
    }
    let enabled = at.opt_bool("enabled")?.unwrap_or(true);
    let actions = match at.get("flowTypes")? {
        Some(flow_types) => actions(&flow_types)?,
        None => Actions::default(),
    };
    let scoping_filters = match at.get("scope")? {
        Some(scope) => scoping_filters(&scope)?,
        None => Vec::new(),
    };
    let mut mappings: Vec<Mapping> = Vec::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for item in at.need("attributeMappings")?.items()? {
        let mapping = attribute_mapping_from(&item, base)?;
        if let Some(other) = written.insert(mapping.target.to_ascii_lowercase(), item.path().to_owned()) {
            return Err(item.error_at("targetAttributeName", format!("{other} writes {:?} too", mapping.target)));
        }
        Mapper::compile(std::slice::from_ref(&mapping)).map_err(|error| match error {
            MappingError::Target(error) => item.error_at("targetAttributeName", error.reason),
            MappingError::MatchingOnCreate(_) => item.error_at(
                "matchingPriority",
                "a matching attribute needs a source and flowType Always, so that every object has it",
            ),
            other => item.error(other.to_string()),
        })?;
        mappings.push(mapping);
    }
    Ok(ObjectMapping { enabled, actions, scoping_filters, mappings })
}

fn actions(at: &At<'_>) -> Result<Actions, PathError> {
    let mut actions = Actions { create: false, update: false, delete: false };
    for part in at.str()?.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let flag = match part.to_ascii_lowercase().as_str() {
            "add" => &mut actions.create,
            "update" => &mut actions.update,
            "delete" => &mut actions.delete,
            "none" => continue,
            _ => return Err(at.error(format!("expected Add, Update and Delete, comma-separated; found {part:?}"))),
        };
        *flag = true;
    }
    Ok(actions)
}

fn scoping_filters(scope: &At<'_>) -> Result<Vec<ScopingFilter>, PathError> {
    for (key, what) in [("inputFilterGroups", "input filters"), ("categoryFilterGroups", "category filters")] {
        if !scope.opt_items(key)?.is_empty() {
            return Err(scope.error_at(key, format!("roster has no {what}: put scoping filters in groups")));
        }
    }
    let mut filters = Vec::new();
    for group in scope.opt_items("groups")? {
        let title = group.opt_str("name")?.filter(|name| !name.is_empty()).map(str::to_owned);
        let mut clauses = Vec::new();
        for at in group.need("clauses")?.items()? {
            let attribute = at.need("sourceOperandName")?.str()?;
            if attribute.is_empty() {
                return Err(at.error_at("sourceOperandName", "name the source attribute"));
            }
            let operator_name = at.need("operatorName")?.str()?;
            let operator = Operator::parse(operator_name).ok_or_else(|| {
                let names: Vec<&str> = OPERATORS.iter().map(|operator| operator.as_str()).collect();
                at.error_at(
                    "operatorName",
                    format!("unknown operator {operator_name:?}; use one of {}", names.join(", ")),
                )
            })?;
            let values = match at.get("targetOperand")? {
                Some(operand) => operand.opt_items("values")?,
                None => Vec::new(),
            };
            let value = match values.as_slice() {
                [] => None,
                [value] => Some(value.str()?.to_owned()),
                more => {
                    return Err(at.error_at(
                        "targetOperand.values",
                        format!("roster compares with one value, found {}", more.len()),
                    ));
                }
            };
            let clause = Clause { attribute: attribute.to_owned(), operator, value };
            CompiledScoping::compile(&[ScopingFilter { title: None, clauses: vec![clause.clone()] }])
                .map_err(|error| at.error(error.to_string()))?;
            clauses.push(clause);
        }
        filters.push(ScopingFilter { title, clauses });
    }
    Ok(filters)
}

const UNSUPPORTED_FLOW_TYPES: [&str; 3] = ["MultiValueAddOnly", "ValueAddOnly", "AttributeAddOnly"];

fn attribute_mapping_from(item: &At<'_>, base: &ObjectMapping) -> Result<Mapping, PathError> {
    let target = item.need("targetAttributeName")?.str()?.to_owned();
    if target.is_empty() {
        return Err(item.error_at("targetAttributeName", "name the target attribute"));
    }
    let default = item.opt_str("defaultValue")?.filter(|text| !text.is_empty()).map(str::to_owned);
    let apply = match item.opt_str("flowType")? {
        None => Apply::Always,
        Some(text) if text.eq_ignore_ascii_case("Always") => Apply::Always,
        Some(text) if text.eq_ignore_ascii_case("ObjectAddOnly") => Apply::OnCreate,
        Some(text) => {
            let why = if UNSUPPORTED_FLOW_TYPES.iter().any(|known| known.eq_ignore_ascii_case(text)) {
                format!("{text} is not supported by roster: use Always or ObjectAddOnly")
            } else {
                format!("expected Always or ObjectAddOnly, found {text:?}")
            };
            return Err(item.error_at("flowType", why));
        }
    };
    if let Some(behavior) = item.opt_str("flowBehavior")?
        && !behavior.eq_ignore_ascii_case("FlowWhenChanged")
    {
        return Err(item.error_at(
            "flowBehavior",
            format!("roster sends a value when it changed (FlowWhenChanged); found {behavior:?}"),
        ));
    }
    let matching = match item.get("matchingPriority")? {
        Some(at) => Some(at.u32()?).filter(|precedence| *precedence > 0),
        None => None,
    };
    let (kind, source) = match item.get("source")? {
        None => (MappingKind::None, None),
        Some(at) => {
            let read = tree::read(&at)?;
            let kept = base.mappings.iter().find(|mapping| mapping.target == target).filter(|mapping| {
                mapping.kind != MappingKind::None
                    && tree::effective(mapping).map(|root| tree::trimmed(&root)) == Some(tree::trimmed(&read.root))
            });
            match (kept, read.root) {
                (Some(mapping), _) => (mapping.kind, mapping.source.clone()),
                (None, Expr::Attribute(name)) => (MappingKind::Direct, Some(name)),
                (None, Expr::String(text)) => (MappingKind::Constant, Some(text)),
                (None, _) => (MappingKind::Expression, Some(read.text)),
            }
        }
    };
    Ok(Mapping { target, kind, source, default, apply, matching })
}
