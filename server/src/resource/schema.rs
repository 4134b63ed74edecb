//! JSON-schema validation (§10.3 SCHEMA-SYNTAX, SCHEMA-RECORD, SCHEMA-META, SCHEMA-ERRORS).
//!
//! [`check_schema`] checks a schema field against the Draft 7 meta-schema; [`validate`] (records) and
//! [`validate_meta`] (collections and groups against a bucket's `collection:schema` / `group:schema`)
//! validate an object the way Kinto 26.5.0 does with Python's `jsonschema`: same field removals,
//! same dialect selection, and the first error rendered with Python's wording and Kinto's odd
//! detail-name rule. Compiled validators are cached by the schema's serialized text.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::{Location, LocationSegment};
use jsonschema::{Draft, Keyword, ValidationError, Validator};
use serde_json::{Map, Value};

use crate::error::{ApiError, Detail};
use crate::pyfmt::{py_repr, py_str, py_str_repr, truthy};

/// How many compiled validators are kept (the cache is emptied when full).
const CACHE_SIZE: usize = 64;

/// Custom keyword standing for a `$ref` that Python would fail to resolve when reaching it.
const UNRESOLVABLE: &str = "x-kintoun-unresolvable-ref";

/// The Draft 7 meta-schema, as shipped by Python's `jsonschema_specifications`.
const DRAFT7_META: &str = r##"{"$schema":"http://json-schema.org/draft-07/schema#","$id":"http://json-schema.org/draft-07/schema#","title":"Core schema meta-schema","definitions":{"schemaArray":{"type":"array","minItems":1,"items":{"$ref":"#"}},"nonNegativeInteger":{"type":"integer","minimum":0},"nonNegativeIntegerDefault0":{"allOf":[{"$ref":"#/definitions/nonNegativeInteger"},{"default":0}]},"simpleTypes":{"enum":["array","boolean","integer","null","number","object","string"]},"stringArray":{"type":"array","items":{"type":"string"},"uniqueItems":true,"default":[]}},"type":["object","boolean"],"properties":{"$id":{"type":"string","format":"uri-reference"},"$schema":{"type":"string","format":"uri"},"$ref":{"type":"string","format":"uri-reference"},"$comment":{"type":"string"},"title":{"type":"string"},"description":{"type":"string"},"default":true,"readOnly":{"type":"boolean","default":false},"examples":{"type":"array","items":true},"multipleOf":{"type":"number","exclusiveMinimum":0},"maximum":{"type":"number"},"exclusiveMaximum":{"type":"number"},"minimum":{"type":"number"},"exclusiveMinimum":{"type":"number"},"maxLength":{"$ref":"#/definitions/nonNegativeInteger"},"minLength":{"$ref":"#/definitions/nonNegativeIntegerDefault0"},"pattern":{"type":"string","format":"regex"},"additionalItems":{"$ref":"#"},"items":{"anyOf":[{"$ref":"#"},{"$ref":"#/definitions/schemaArray"}],"default":true},"maxItems":{"$ref":"#/definitions/nonNegativeInteger"},"minItems":{"$ref":"#/definitions/nonNegativeIntegerDefault0"},"uniqueItems":{"type":"boolean","default":false},"contains":{"$ref":"#"},"maxProperties":{"$ref":"#/definitions/nonNegativeInteger"},"minProperties":{"$ref":"#/definitions/nonNegativeIntegerDefault0"},"required":{"$ref":"#/definitions/stringArray"},"additionalProperties":{"$ref":"#"},"definitions":{"type":"object","additionalProperties":{"$ref":"#"},"default":{}},"properties":{"type":"object","additionalProperties":{"$ref":"#"},"default":{}},"patternProperties":{"type":"object","additionalProperties":{"$ref":"#"},"propertyNames":{"format":"regex"},"default":{}},"dependencies":{"type":"object","additionalProperties":{"anyOf":[{"$ref":"#"},{"$ref":"#/definitions/stringArray"}]}},"propertyNames":{"$ref":"#"},"const":true,"enum":{"type":"array","items":true},"type":{"anyOf":[{"$ref":"#/definitions/simpleTypes"},{"type":"array","items":{"$ref":"#/definitions/simpleTypes"},"minItems":1,"uniqueItems":true}]},"format":{"type":"string"},"contentMediaType":{"type":"string"},"contentEncoding":{"type":"string"},"if":{"$ref":"#"},"then":{"$ref":"#"},"else":{"$ref":"#"},"allOf":{"$ref":"#/definitions/schemaArray"},"anyOf":{"$ref":"#/definitions/schemaArray"},"oneOf":{"$ref":"#/definitions/schemaArray"},"not":{"$ref":"#"}},"default":true}"##;

/// The Draft 7 meta-schema's `properties`, in the order Python iterates them.
const DRAFT7_PROPERTIES: &[&str] = &[
    "$id",
    "$schema",
    "$ref",
    "$comment",
    "title",
    "description",
    "default",
    "readOnly",
    "examples",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "additionalItems",
    "items",
    "maxItems",
    "minItems",
    "uniqueItems",
    "contains",
    "maxProperties",
    "minProperties",
    "required",
    "additionalProperties",
    "definitions",
    "properties",
    "patternProperties",
    "dependencies",
    "propertyNames",
    "const",
    "enum",
    "type",
    "format",
    "contentMediaType",
    "contentEncoding",
    "if",
    "then",
    "else",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
];

/// Keyword order inside the meta-schema's own subschemas (they all agree with this order).
const DRAFT7_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "exclusiveMinimum",
    "minimum",
    "minItems",
    "items",
    "uniqueItems",
    "properties",
    "additionalProperties",
    "propertyNames",
    "allOf",
    "anyOf",
    "enum",
    "format",
];

// ---------------------------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------------------------

/// SCHEMA-SYNTAX: `value` (the `schema` field of a collection, or a bucket's `record:schema` /
/// `collection:schema` / `group:schema`) must be an object that is a valid JSON Schema under the
/// Draft 7 meta-schema. `name` is the detail name, e.g. "data.schema" or "data.record:schema".
pub fn check_schema(name: &str, value: &Value) -> Result<(), ApiError> {
    if !value.is_object() {
        return Err(invalid(
            name,
            format!("\"{}\" is not a mapping type: Does not implement dict-like functionality.", py_str(value)),
        ));
    }
    let meta = meta_validator()?;
    let mut errors: Vec<ValidationError<'_>> = meta.validator.iter_errors(value).collect();
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by_cached_key(meta_order_key);
    let error = &errors[0];
    // Kinto: `str(e.path.pop()) + e.message` (an empty path would be an IndexError).
    let Some(last) = error.instance_path().iter().last() else {
        return Err(ApiError::Internal(format!("schema check failed at the root: {error}")));
    };
    let message = python_message(&meta.schema, Draft::Draft7, error, value);
    Err(invalid(name, format!("{last}{message}")))
}

/// SCHEMA-RECORD / SCHEMA-META: validates `object` (the full stored object incl. id, last_modified)
/// against `schema`, after removing `last_modified`, `schema` and `id` from the object (id kept only
/// if the schema's `properties` mentions it) and the same names from the schema's `required` list.
/// Dialect: the schema's `$schema`, default Draft 2020-12. Errors: SCHEMA-ERRORS exactly.
///
/// This is the record variant (Kinto ignores the record's `schema` stamp). Note that on POST the
/// reference validates the record *before* its id is generated: pass the object without `id` there.
pub fn validate(schema: &Value, object: &Map<String, Value>) -> Result<(), ApiError> {
    validate_ignoring(schema, object, &["last_modified", "schema"])
}

/// SCHEMA-META for collections and groups (bucket `collection:schema` / `group:schema`): like
/// [`validate`] but only `last_modified` (and `id` unless mentioned) are removed — a collection's
/// own `schema` field *is* validated by the reference.
pub fn validate_meta(schema: &Value, object: &Map<String, Value>) -> Result<(), ApiError> {
    validate_ignoring(schema, object, &["last_modified"])
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

fn invalid(name: &str, description: impl Into<String>) -> ApiError {
    ApiError::Invalid(vec![Detail::body(name, description)])
}

/// A compiled schema and the (prepared) schema text its error locations point into.
struct Compiled {
    validator: Validator,
    schema: Value,
    draft: Draft,
}

fn validate_ignoring(schema: &Value, object: &Map<String, Value>, ignored: &[&str]) -> Result<(), ApiError> {
    let Value::Object(schema_map) = schema else {
        return Ok(());
    };
    let mut ignore: Vec<&str> = ignored.to_vec();
    // Only ignore the `id` field if the schema does not explicitly mention it.
    let mentions_id = match schema_map.get("properties") {
        Some(Value::Object(properties)) => properties.contains_key("id"),
        _ => false,
    };
    if !mentions_id {
        ignore.push("id");
    }
    let mut cleaned = schema_map.clone();
    let required: Vec<Value> = match schema_map.get("required") {
        Some(Value::Array(items)) => {
            items.iter().filter(|f| !matches!(f, Value::String(s) if ignore.contains(&s.as_str()))).cloned().collect()
        }
        _ => Vec::new(),
    };
    if required.is_empty() {
        cleaned.remove("required");
    } else {
        cleaned.insert("required".into(), Value::Array(required));
    }
    let data: Map<String, Value> =
        object.iter().filter(|(k, _)| !ignore.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let compiled = compiled(Value::Object(cleaned))?;
    run(&compiled, &Value::Object(data))
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Compiled>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn compiled(schema: Value) -> Result<Arc<Compiled>, ApiError> {
    let key = schema.to_string();
    if let Ok(map) = cache().lock()
        && let Some(found) = map.get(&key)
    {
        return Ok(found.clone());
    }
    let built = Arc::new(build(schema)?);
    if let Ok(mut map) = cache().lock() {
        if map.len() >= CACHE_SIZE {
            map.clear();
        }
        map.insert(key, built.clone());
    }
    Ok(built)
}

/// Python's `validator_for`: the `$schema` (empty fragment ignored), else the latest draft.
fn dialect(schema: &Value) -> Draft {
    let Some(Value::String(uri)) = schema.get("$schema") else {
        return Draft::Draft202012;
    };
    match uri.strip_suffix('#').unwrap_or(uri) {
        "http://json-schema.org/draft-03/schema" | "http://json-schema.org/draft-04/schema" => Draft::Draft4,
        "http://json-schema.org/draft-06/schema" => Draft::Draft6,
        "http://json-schema.org/draft-07/schema" => Draft::Draft7,
        "https://json-schema.org/draft/2019-09/schema" => Draft::Draft201909,
        _ => Draft::Draft202012,
    }
}

fn is_known_meta(uri: &str) -> bool {
    matches!(
        uri.strip_suffix('#').unwrap_or(uri),
        "http://json-schema.org/draft-04/schema"
            | "http://json-schema.org/draft-06/schema"
            | "http://json-schema.org/draft-07/schema"
            | "https://json-schema.org/draft/2019-09/schema"
            | "https://json-schema.org/draft/2020-12/schema"
    )
}

fn build(schema: Value) -> Result<Compiled, ApiError> {
    let draft = dialect(&schema);
    let mut prepared = schema.clone();
    if let Value::Object(map) = &mut prepared {
        // An unknown `$schema` means "latest draft" to Python; the crate would try to fetch it.
        if matches!(map.get("$schema"), Some(Value::String(uri)) if !is_known_meta(uri)) {
            map.remove("$schema");
        }
    }
    replace_unresolvable_refs(&schema, &mut prepared, draft);
    let validator = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(false)
        .with_keyword(UNRESOLVABLE, |_, value, _| {
            Ok(Box::new(UnresolvableRef(value.as_str().unwrap_or_default().to_owned())))
        })
        .build(&prepared)
        .map_err(|error| match error.kind() {
            ValidationErrorKind::Referencing(inner) => invalid("schema", format!("Unresolvable: {inner}")),
            _ => ApiError::Internal(format!("invalid schema: {error}")),
        })?;
    Ok(Compiled { validator, schema: prepared, draft })
}

fn run(compiled: &Compiled, instance: &Value) -> Result<(), ApiError> {
    REF_FAILURE.with(|failure| failure.borrow_mut().take());
    let mut errors: Vec<ValidationError<'_>> =
        compiled.validator.iter_errors(instance).filter(is_python_error).collect();
    if let Some(message) = REF_FAILURE.with(|failure| failure.borrow_mut().take()) {
        return Err(invalid("schema", message));
    }
    if errors.is_empty() {
        return Ok(());
    }
    // Python raises the first error of a depth-first walk in schema key order.
    errors.sort_by_cached_key(|e| (segments(e.evaluation_path()), segments(e.instance_path())));
    let error = &errors[0];
    let name = python_name(&compiled.schema, compiled.draft, error)?;
    let description = python_message(&compiled.schema, compiled.draft, error, instance);
    Err(invalid(&name, description))
}

/// Errors Python's validators never raise (no format checker, no content validation).
fn is_python_error(error: &ValidationError<'_>) -> bool {
    !matches!(
        error.kind(),
        ValidationErrorKind::Format { .. }
            | ValidationErrorKind::ContentEncoding { .. }
            | ValidationErrorKind::ContentMediaType { .. }
            | ValidationErrorKind::FromUtf8 { .. }
    )
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Index(usize),
    Prop(String),
}

fn segments(location: &Location) -> Vec<Seg> {
    location
        .iter()
        .map(|segment| match segment {
            LocationSegment::Index(i) => Seg::Index(i),
            LocationSegment::Property(p) => Seg::Prop(p.into_owned()),
        })
        .collect()
}

/// Sort key of a meta-schema error: Python walks the meta-schema in its own key order.
fn meta_order_key(error: &ValidationError<'_>) -> (Vec<(usize, Seg)>, Vec<Seg>) {
    let mut key = Vec::new();
    let mut after_properties = false;
    for segment in segments(error.evaluation_path()) {
        let rank = match &segment {
            Seg::Prop(p) if after_properties => DRAFT7_PROPERTIES.iter().position(|k| k == p),
            Seg::Prop(p) => DRAFT7_KEYWORDS.iter().position(|k| k == p),
            Seg::Index(_) => Some(0),
        }
        .unwrap_or(usize::MAX);
        after_properties = !after_properties && segment == Seg::Prop("properties".into());
        key.push((rank, segment));
    }
    (key, segments(error.instance_path()))
}

// ---------------------------------------------------------------------------------------------
// Unresolvable references
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// The message of the first unresolvable `$ref` reached during the current validation.
    static REF_FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Python resolves `$ref` lazily and raises when one is reached: this keyword replaces the
/// references that cannot resolve and records the failure when evaluated.
struct UnresolvableRef(String);

impl UnresolvableRef {
    fn note(&self) {
        REF_FAILURE.with(|failure| {
            let mut failure = failure.borrow_mut();
            if failure.is_none() {
                *failure = Some(self.0.clone());
            }
        });
    }
}

impl<'i> Keyword<'i> for UnresolvableRef {
    fn validate(&self, _instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.note();
        Err(ValidationError::custom(self.0.clone()))
    }

    fn is_valid(&self, _instance: &'i Value) -> bool {
        self.note();
        false
    }
}

/// Keys whose values are data, not subschemas.
const DATA_KEYWORDS: &[&str] = &["enum", "const", "default", "examples"];

fn replace_unresolvable_refs(root: &Value, node: &mut Value, draft: Draft) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref")
                && let Some(message) = unresolvable(root, reference)
            {
                if matches!(draft, Draft::Draft4 | Draft::Draft6 | Draft::Draft7) {
                    // `$ref` overrides its siblings up to Draft 7.
                    map.clear();
                } else {
                    map.remove("$ref");
                }
                map.insert(UNRESOLVABLE.into(), Value::String(message));
            }
            for (key, value) in map.iter_mut() {
                if key != UNRESOLVABLE && !DATA_KEYWORDS.contains(&key.as_str()) {
                    replace_unresolvable_refs(root, value, draft);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| replace_unresolvable_refs(root, item, draft)),
        _ => {}
    }
}

/// The message Python's `referencing` raises for `reference`, if it cannot resolve.
fn unresolvable(root: &Value, reference: &str) -> Option<String> {
    let (base, fragment) = match reference.split_once('#') {
        Some((base, fragment)) => (base, fragment),
        None => (reference, ""),
    };
    if !base.is_empty() {
        if is_known_meta(base) || has_id(root, base) {
            return None;
        }
        return Some(format!("Unresolvable: {reference}"));
    }
    if fragment.is_empty() {
        return None;
    }
    if let Some(pointer) = fragment.strip_prefix('/') {
        if resolve_pointer(root, pointer).is_some() {
            return None;
        }
        return Some(format!("PointerToNowhere: {} does not exist within {}", py_str_repr(fragment), py_repr(root)));
    }
    if has_anchor(root, fragment) {
        return None;
    }
    Some(format!("NoSuchAnchor: {} does not exist within {}", py_str_repr(fragment), py_repr(root)))
}

fn resolve_pointer<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let decoded = percent_decode(pointer);
    let mut current = root;
    for raw in decoded.split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Object(map) => map.get(&segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn any_node(node: &Value, found: &dyn Fn(&Map<String, Value>) -> bool) -> bool {
    match node {
        Value::Object(map) => found(map) || map.values().any(|value| any_node(value, found)),
        Value::Array(items) => items.iter().any(|item| any_node(item, found)),
        _ => false,
    }
}

fn has_id(root: &Value, base: &str) -> bool {
    any_node(root, &|map| {
        matches!(map.get("$id").or_else(|| map.get("id")), Some(Value::String(id))
            if id.strip_suffix('#').unwrap_or(id) == base || id.ends_with(&format!("/{base}")))
    })
}

fn has_anchor(root: &Value, anchor: &str) -> bool {
    let legacy = format!("#{anchor}");
    any_node(root, &|map| {
        matches!(map.get("$anchor"), Some(Value::String(a)) if a == anchor)
            || matches!(map.get("$dynamicAnchor"), Some(Value::String(a)) if a == anchor)
            || matches!(map.get("$id"), Some(Value::String(id)) if *id == legacy)
    })
}

// ---------------------------------------------------------------------------------------------
// Python's error names and messages
// ---------------------------------------------------------------------------------------------

/// The schema value at `location` (a JSON pointer into `schema`), if it can be followed.
fn schema_at<'a>(schema: &'a Value, location: &Location) -> Option<&'a Value> {
    let mut current = schema;
    for segment in location.iter() {
        current = match (current, segment) {
            (Value::Object(map), LocationSegment::Property(p)) => map.get(p.as_ref())?,
            (Value::Object(map), LocationSegment::Index(i)) => map.get(&i.to_string())?,
            (Value::Array(items), LocationSegment::Index(i)) => items.get(i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The schema object holding the failing keyword.
fn parent_schema<'a>(schema: &'a Value, location: &Location) -> Option<&'a Map<String, Value>> {
    let segments: Vec<LocationSegment<'_>> = location.iter().collect();
    let (_, parents) = segments.split_last()?;
    let mut current = schema;
    for segment in parents {
        current = match (current, segment) {
            (Value::Object(map), LocationSegment::Property(p)) => map.get(p.as_ref())?,
            (Value::Object(map), LocationSegment::Index(i)) => map.get(&i.to_string())?,
            (Value::Array(items), LocationSegment::Index(i)) => items.get(*i)?,
            _ => return None,
        };
    }
    current.as_object()
}

/// Kinto's `e.path[-1]`, else `e.validator_value[-1]`, else `e.schema_path[-1]`.
fn python_name(schema: &Value, draft: Draft, error: &ValidationError<'_>) -> Result<String, ApiError> {
    if let ValidationErrorKind::PropertyNames { error: inner } = error.kind() {
        // Python descends into the property name without extending the path.
        if let Some(last) = error.instance_path().iter().last() {
            return Ok(last.to_string());
        }
        return python_name(schema, draft, inner);
    }
    if is_items_false(schema, draft, error) {
        // Python reports `items: false` once, on the array itself.
        let path: Vec<LocationSegment<'_>> = error.instance_path().iter().collect();
        return Ok(path.iter().rev().nth(1).map_or_else(|| "items".to_owned(), ToString::to_string));
    }
    if let Some(last) = error.instance_path().iter().last() {
        return Ok(last.to_string());
    }
    let keyword =
        error.schema_path().iter().last().map_or_else(|| error.kind().keyword().to_owned(), |s| s.to_string());
    let value = schema_at(schema, error.schema_path()).cloned().or_else(|| kind_value(error.kind()));
    match value {
        Some(value) if truthy(&value) => match value {
            Value::Array(items) => Ok(items.last().map(py_str).unwrap_or_default()),
            Value::String(s) => Ok(s.chars().last().map(String::from).unwrap_or_default()),
            other => Err(ApiError::Internal(format!(
                "Kinto cannot name a schema error whose {keyword} value is {}",
                py_repr(&other)
            ))),
        },
        _ => Ok(keyword),
    }
}

/// A Draft 2020-12 `items: false` error (the crate reports one per extra item).
fn is_items_false(schema: &Value, draft: Draft, error: &ValidationError<'_>) -> bool {
    matches!(error.kind(), ValidationErrorKind::FalseSchema)
        && matches!(draft, Draft::Draft202012)
        && matches!(error.schema_path().iter().last(), Some(LocationSegment::Property(p)) if p == "items")
        && matches!(schema_at(schema, error.schema_path()), Some(Value::Bool(false)))
}

/// The instance value at `path`, minus its last `strip` segments.
fn instance_at<'a>(root: &'a Value, path: &Location, strip: usize) -> Option<&'a Value> {
    let segments: Vec<LocationSegment<'_>> = path.iter().collect();
    let keep = segments.len().checked_sub(strip)?;
    let mut current = root;
    for segment in &segments[..keep] {
        current = match (current, segment) {
            (Value::Object(map), LocationSegment::Property(p)) => map.get(p.as_ref())?,
            (Value::Object(map), LocationSegment::Index(i)) => map.get(&i.to_string())?,
            (Value::Array(items), LocationSegment::Index(i)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The keyword value when the schema location cannot be followed (e.g. across resources).
fn kind_value(kind: &ValidationErrorKind) -> Option<Value> {
    match kind {
        ValidationErrorKind::Required { property } => Some(Value::Array(vec![property.clone()])),
        ValidationErrorKind::AdditionalProperties { .. } | ValidationErrorKind::UnevaluatedProperties { .. } => {
            Some(Value::Bool(false))
        }
        ValidationErrorKind::Enum { options } => Some(options.as_ref().clone()),
        ValidationErrorKind::Constant { expected_value } => Some(expected_value.as_ref().clone()),
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Some(limit.clone()),
        _ => None,
    }
}

fn instance_of(error: &ValidationError<'_>) -> Value {
    error.instance().as_ref().clone()
}

fn extras_msg<T: AsRef<str>>(extras: &[T]) -> String {
    let verb = if extras.len() == 1 { "was" } else { "were" };
    let listed: Vec<String> = extras.iter().map(|e| py_str_repr(e.as_ref())).collect();
    format!("{} {verb}", listed.join(", "))
}

fn values_msg(extras: &[Value]) -> String {
    let verb = if extras.len() == 1 { "was" } else { "were" };
    let listed: Vec<String> = extras.iter().map(py_repr).collect();
    format!("{} {verb}", listed.join(", "))
}

fn type_name(schema: &Value, error: &ValidationError<'_>, kind: &TypeKind) -> String {
    match schema_at(schema, error.schema_path()) {
        Some(Value::String(t)) => py_str_repr(t),
        Some(Value::Array(types)) => types.iter().map(py_repr).collect::<Vec<_>>().join(", "),
        _ => match kind {
            TypeKind::Single(t) => py_str_repr(&t.to_string()),
            TypeKind::Multiple(types) => {
                types.iter().map(|t| py_str_repr(&t.to_string())).collect::<Vec<_>>().join(", ")
            }
        },
    }
}

/// Python `jsonschema`'s message for `error`.
fn python_message(schema: &Value, draft: Draft, error: &ValidationError<'_>, root: &Value) -> String {
    let instance = || py_repr(&instance_of(error));
    let legacy = matches!(draft, Draft::Draft4 | Draft::Draft6 | Draft::Draft7);
    if is_items_false(schema, draft, error) {
        let items = instance_at(root, error.instance_path(), 1).and_then(Value::as_array).cloned().unwrap_or_default();
        let prefix = parent_schema(schema, error.schema_path())
            .and_then(|p| p.get("prefixItems"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let rest: Vec<Value> = items.iter().skip(prefix).cloned().collect();
        let item = if prefix == 1 { "item" } else { "items" };
        let shown = match rest.as_slice() {
            [single] => py_repr(single),
            _ => py_repr(&Value::Array(rest.clone())),
        };
        return format!("Expected at most {prefix} {item} but found {} extra: {shown}", rest.len());
    }
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let keyword = error.schema_path().iter().last().map(|s| s.to_string()).unwrap_or_default();
            if keyword == "dependentRequired" || keyword == "dependencies" {
                // Python: `'b' is a dependency of 'a'`; find the present property that needs `b`.
                let present = instance_of(error);
                let trigger = schema_at(schema, error.schema_path())
                    .and_then(Value::as_object)
                    .and_then(|deps| {
                        deps.iter().find(|(p, needs)| {
                            present.get(p.as_str()).is_some()
                                && needs.as_array().is_some_and(|needs| needs.contains(property))
                        })
                    })
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default();
                format!("{} is a dependency of {}", py_repr(property), py_str_repr(&trigger))
            } else {
                format!("{} is a required property", py_repr(property))
            }
        }
        ValidationErrorKind::Type { kind } => {
            format!("{} is not of type {}", instance(), type_name(schema, error, kind))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{} is less than the minimum of {}", instance(), py_repr(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{} is greater than the maximum of {}", instance(), py_repr(limit))
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{} is less than or equal to the minimum of {}", instance(), py_repr(limit))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{} is greater than or equal to the maximum of {}", instance(), py_repr(limit))
        }
        ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MinItems { limit } => {
            format!("{} {}", instance(), if *limit == 1 { "should be non-empty" } else { "is too short" })
        }
        ValidationErrorKind::MaxLength { limit } | ValidationErrorKind::MaxItems { limit } => {
            format!("{} {}", instance(), if *limit == 0 { "is expected to be empty" } else { "is too long" })
        }
        ValidationErrorKind::MinProperties { limit } => format!(
            "{} {}",
            instance(),
            if *limit == 1 { "should be non-empty" } else { "does not have enough properties" }
        ),
        ValidationErrorKind::MaxProperties { limit } => format!(
            "{} {}",
            instance(),
            if *limit == 0 { "is expected to be empty" } else { "has too many properties" }
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not match {}", instance(), py_str_repr(pattern))
        }
        ValidationErrorKind::Enum { options } => format!("{} is not one of {}", instance(), py_repr(options)),
        ValidationErrorKind::Constant { expected_value } => format!("{} was expected", py_repr(expected_value)),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("{} is not a multiple of {}", instance(), py_repr(multiple_of))
        }
        ValidationErrorKind::UniqueItems => format!("{} has non-unique elements", instance()),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let mut extras = unexpected.clone();
            extras.sort();
            let patterns = parent_schema(schema, error.schema_path()).and_then(|p| p.get("patternProperties"));
            match patterns {
                Some(Value::Object(patterns)) => {
                    let verb = if extras.len() == 1 { "does" } else { "do" };
                    let joined: Vec<String> = extras.iter().map(|e| py_str_repr(e)).collect();
                    let mut keys: Vec<&String> = patterns.keys().collect();
                    keys.sort();
                    let listed: Vec<String> = keys.iter().map(|k| py_str_repr(k)).collect();
                    format!("{} {verb} not match any of the regexes: {}", joined.join(", "), listed.join(", "))
                }
                _ => format!("Additional properties are not allowed ({} unexpected)", extras_msg(&extras)),
            }
        }
        ValidationErrorKind::AdditionalItems { limit } => {
            let items = instance_of(error).as_array().cloned().unwrap_or_default();
            let rest: Vec<Value> = items.iter().skip(*limit).cloned().collect();
            if legacy || matches!(draft, Draft::Draft201909) {
                format!("Additional items are not allowed ({} unexpected)", values_msg(&rest))
            } else {
                let item = if *limit == 1 { "item" } else { "items" };
                let shown = match rest.as_slice() {
                    [single] => py_repr(single),
                    _ => py_repr(&Value::Array(rest.clone())),
                };
                format!("Expected at most {limit} {item} but found {} extra: {shown}", rest.len())
            }
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            format!("{} is not valid under any of the given schemas", instance())
        }
        ValidationErrorKind::OneOfMultipleValid { context } => {
            let subschemas = schema_at(schema, error.schema_path()).and_then(Value::as_array);
            let valid: Vec<usize> = context.iter().enumerate().filter(|(_, e)| e.is_empty()).map(|(i, _)| i).collect();
            match (subschemas, valid.split_first()) {
                (Some(subschemas), Some((first, more))) => {
                    let order = more.iter().chain(std::iter::once(first));
                    let reprs: Vec<String> = order.filter_map(|i| subschemas.get(*i)).map(py_repr).collect();
                    format!("{} is valid under each of {}", instance(), reprs.join(", "))
                }
                _ => error.to_string(),
            }
        }
        ValidationErrorKind::Not { schema: not_schema } => {
            format!("{} should not be valid under {}", instance(), py_repr(not_schema))
        }
        ValidationErrorKind::Contains => {
            if legacy {
                format!("None of {} are valid under the given schema", instance())
            } else {
                format!("{} does not contain items matching the given schema", instance())
            }
        }
        ValidationErrorKind::FalseSchema => format!("False schema does not allow {}", instance()),
        ValidationErrorKind::PropertyNames { error: inner } => python_message(schema, draft, inner, root),
        ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let mut extras = unexpected.clone();
            match schema_at(schema, error.schema_path()) {
                Some(Value::Bool(false)) | None => {
                    extras.sort();
                    format!("Unevaluated properties are not allowed ({} unexpected)", extras_msg(&extras))
                }
                Some(_) => format!(
                    "Unevaluated properties are not valid under the given schema ({} unevaluated and invalid)",
                    extras_msg(&extras)
                ),
            }
        }
        ValidationErrorKind::UnevaluatedItems { unexpected } => {
            // The crate lists the items' JSON texts; Python their values.
            let values: Vec<Value> = unexpected
                .iter()
                .map(|u| serde_json::from_str(u).unwrap_or_else(|_| Value::String(u.clone())))
                .collect();
            format!("Unevaluated items are not allowed ({} unexpected)", values_msg(&values))
        }
        ValidationErrorKind::Format { format } => format!("{} is not a {}", instance(), py_str_repr(format)),
        ValidationErrorKind::Custom { message, .. } => message.clone(),
        _ => error.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Meta-schema
// ---------------------------------------------------------------------------------------------

struct Meta {
    validator: Validator,
    schema: Value,
}

fn meta_validator() -> Result<&'static Meta, ApiError> {
    static META: OnceLock<Result<Meta, String>> = OnceLock::new();
    META.get_or_init(|| {
        let schema: Value = serde_json::from_str(DRAFT7_META).map_err(|e| e.to_string())?;
        // Python checks only the `regex` format here (`uri` needs the absent rfc3987 package).
        let validator = jsonschema::draft7::options()
            .should_validate_formats(true)
            .with_format("uri", |_: &str| true)
            .with_format("uri-reference", |_: &str| true)
            .build(&schema)
            .map_err(|e| e.to_string())?;
        Ok(Meta { validator, schema })
    })
    .as_ref()
    .map_err(|e| ApiError::Internal(format!("Draft 7 meta-schema: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyfmt::py_float;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    /// (name, description) of the single detail, or None when valid.
    fn record_error(schema: Value, record: Value) -> Option<(String, String)> {
        match validate(&schema, &obj(record)) {
            Ok(()) => None,
            Err(ApiError::Invalid(details)) => {
                assert_eq!(details.len(), 1);
                Some((details[0].name.clone().unwrap_or_default(), details[0].description.clone()))
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    fn expect(schema: Value, record: Value, name: &str, description: &str) {
        assert_eq!(record_error(schema, record), Some((name.to_owned(), description.to_owned())));
    }

    fn schema_error(value: Value) -> String {
        match check_schema("data.schema", &value) {
            Err(ApiError::Invalid(details)) => {
                assert_eq!(details[0].name.as_deref(), Some("data.schema"));
                details[0].description.clone()
            }
            other => panic!("unexpected {other:?} for {value}"),
        }
    }

    /// The collection schema used by most reference probes.
    fn big() -> Value {
        json!({"type": "object", "properties": {
            "title": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^a"},
            "n": {"type": "integer", "minimum": 0, "maximum": 10},
            "e": {"exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "en": {"enum": ["x", 1, null, true]},
            "k": {"const": "kk"},
            "arr": {"type": "array", "minItems": 2, "maxItems": 3, "uniqueItems": true, "items": {"type": "integer"}},
            "f": {"format": "email"},
            "t2": {"type": ["integer", "null"]},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}}
        }, "required": ["title", "id", "last_modified", "body"]})
    }

    fn ok_with(extra: Value) -> Value {
        let mut record = json!({"title": "ab", "body": 1, "id": "r1", "last_modified": 123, "schema": 5});
        for (k, v) in obj(extra) {
            record[k] = v;
        }
        record
    }

    #[test]
    fn required_names_the_last_required_field() {
        // Kinto names `e.validator_value[-1]`: the *last* cleaned required entry, not the missing one.
        expect(big(), json!({"body": 1}), "body", "'title' is a required property");
        expect(big(), json!({"title": "ab"}), "body", "'body' is a required property");
        expect(json!({"required": ["x"]}), json!({}), "x", "'x' is a required property");
    }

    #[test]
    fn required_is_cleaned_of_ignored_fields() {
        let schema = json!({"required": ["id", "last_modified", "schema"]});
        assert_eq!(record_error(schema, json!({"x": 1})), None);
        let schema = json!({"properties": {"a": {"type": "string"}}, "required": ["a", "id"]});
        expect(schema, json!({"id": "r1"}), "a", "'a' is a required property");
    }

    #[test]
    fn id_is_removed_unless_mentioned() {
        assert_eq!(
            record_error(json!({"additionalProperties": false}), json!({"id": "abc", "last_modified": 1})),
            None
        );
        let schema = json!({"required": ["id"], "properties": {"id": {"type": "integer"}}});
        expect(schema.clone(), json!({"id": "abc"}), "id", "'abc' is not of type 'integer'");
        // On POST the reference validates before the id exists.
        expect(schema, json!({"x": 1}), "id", "'id' is a required property");
        let schema = json!({"properties": {"id": {"type": "string", "maxLength": 2}}, "additionalProperties": false});
        expect(schema, json!({"id": "abc"}), "id", "'abc' is too long");
    }

    #[test]
    fn schema_and_last_modified_are_removed_from_records() {
        let schema = json!({"properties": {"schema": {"type": "string"}, "last_modified": {"type": "string"}}, "required": ["schema"]});
        assert_eq!(record_error(schema, json!({"schema": 5, "last_modified": 1, "id": "a"})), None);
    }

    #[test]
    fn meta_validation_keeps_the_schema_field() {
        let schema = json!({"additionalProperties": false, "properties": {"title": {}}});
        let err = validate_meta(&schema, &obj(json!({"schema": {}, "id": "c", "last_modified": 1})));
        let Err(ApiError::Invalid(details)) = err else { panic!("expected an error") };
        assert_eq!(details[0].name.as_deref(), Some("additionalProperties"));
        assert_eq!(details[0].description, "Additional properties are not allowed ('schema' was unexpected)");
        assert!(validate_meta(&schema, &obj(json!({"title": "x", "id": "c", "last_modified": 1}))).is_ok());
    }

    #[test]
    fn additional_properties() {
        let schema = json!({"type": "object", "additionalProperties": false, "properties": {"x": {}}});
        expect(
            schema.clone(),
            json!({"x": 1, "zzz": 1}),
            "additionalProperties",
            "Additional properties are not allowed ('zzz' was unexpected)",
        );
        expect(
            schema,
            json!({"x": 1, "zzz": 1, "aaa": 2}),
            "additionalProperties",
            "Additional properties are not allowed ('aaa', 'zzz' were unexpected)",
        );
        let schema = json!({"properties": {"p": {"patternProperties": {"^x": {}}, "additionalProperties": false}}});
        expect(schema, json!({"p": {"xa": 1, "b": 2}}), "p", "'b' does not match any of the regexes: '^x'");
    }

    #[test]
    fn string_keywords() {
        expect(big(), ok_with(json!({"title": "a"})), "title", "'a' is too short");
        expect(big(), ok_with(json!({"title": "abcde"})), "title", "'abcde' is too long");
        expect(big(), ok_with(json!({"title": "bb"})), "title", "'bb' does not match '^a'");
        let one = json!({"properties": {"s": {"minLength": 1}, "t": {"maxLength": 0}}});
        expect(one.clone(), json!({"s": ""}), "s", "'' should be non-empty");
        expect(one, json!({"t": "x"}), "t", "'x' is expected to be empty");
    }

    #[test]
    fn numeric_keywords() {
        expect(big(), ok_with(json!({"n": -1})), "n", "-1 is less than the minimum of 0");
        expect(big(), ok_with(json!({"n": 11})), "n", "11 is greater than the maximum of 10");
        expect(big(), ok_with(json!({"e": 0})), "e", "0 is less than or equal to the minimum of 0");
        expect(big(), ok_with(json!({"e": 10})), "e", "10 is greater than or equal to the maximum of 10");
        let schema = json!({"properties": {"x": {"multipleOf": 3}, "f": {"maximum": 1e-5}, "g": {"minimum": 1e20}}});
        expect(schema.clone(), json!({"x": 4}), "x", "4 is not a multiple of 3");
        expect(schema.clone(), json!({"x": 4.5}), "x", "4.5 is not a multiple of 3");
        expect(schema.clone(), json!({"f": 2}), "f", "2 is greater than the maximum of 1e-05");
        expect(schema, json!({"g": 3.5}), "g", "3.5 is less than the minimum of 1e+20");
    }

    #[test]
    fn type_keyword() {
        expect(big(), ok_with(json!({"n": 1.5})), "n", "1.5 is not of type 'integer'");
        let two: Value = serde_json::from_str("{\"title\": \"ab\", \"body\": 1, \"n\": 2.0}").expect("json");
        assert_eq!(record_error(big(), two), None);
        expect(big(), ok_with(json!({"t2": "s"})), "t2", "'s' is not of type 'integer', 'null'");
        expect(big(), ok_with(json!({"a": 5})), "a", "5 is not of type 'object'");
        // At the root, the name is `"array"[-1]`.
        expect(json!({"type": "array"}), json!({"x": 1}), "y", "{'x': 1} is not of type 'array'");
        expect(
            json!({"type": ["array", "string"]}),
            json!({"x": 1}),
            "string",
            "{'x': 1} is not of type 'array', 'string'",
        );
    }

    #[test]
    fn nested_properties_name_the_last_path_element() {
        expect(big(), ok_with(json!({"a": {"b": 5}})), "b", "5 is not of type 'string'");
        // Array items are named by their index (an integer in the reference's JSON).
        expect(big(), ok_with(json!({"arr": [1, "x"]})), "1", "'x' is not of type 'integer'");
    }

    #[test]
    fn enum_and_const() {
        expect(big(), ok_with(json!({"en": "y"})), "en", "'y' is not one of ['x', 1, None, True]");
        expect(big(), ok_with(json!({"k": "y"})), "k", "'kk' was expected");
        let schema = json!({"properties": {"s": {"const": "it's"}, "h": {"enum": [1.0, 2.5e-7]}}});
        expect(schema.clone(), json!({"s": "x"}), "s", "\"it's\" was expected");
        expect(schema, json!({"h": "a\"b\nc"}), "h", "'a\"b\\nc' is not one of [1.0, 2.5e-07]");
        expect(json!({"enum": [{"a": 1}]}), json!({"x": 1}), "{'a': 1}", "{'x': 1} is not one of [{'a': 1}]");
    }

    #[test]
    fn array_keywords() {
        expect(big(), ok_with(json!({"arr": [1]})), "arr", "[1] is too short");
        expect(big(), ok_with(json!({"arr": [1, 2, 3, 4]})), "arr", "[1, 2, 3, 4] is too long");
        expect(big(), ok_with(json!({"arr": [1, 1]})), "arr", "[1, 1] has non-unique elements");
        let schema = json!({"properties": {
            "w": {"prefixItems": [{}], "items": false},
            "v": {"unevaluatedItems": false, "prefixItems": [{}]},
            "c": {"contains": {"type": "string"}}
        }});
        expect(schema.clone(), json!({"w": [1, 2, 3]}), "w", "Expected at most 1 item but found 2 extra: [2, 3]");
        expect(schema.clone(), json!({"w": [1, 2]}), "w", "Expected at most 1 item but found 1 extra: 2");
        expect(
            schema.clone(),
            json!({"v": [1, "x", 3]}),
            "v",
            "Unevaluated items are not allowed ('x', 3 were unexpected)",
        );
        expect(schema, json!({"c": [1]}), "c", "[1] does not contain items matching the given schema");
    }

    #[test]
    fn format_is_not_checked() {
        assert_eq!(record_error(big(), ok_with(json!({"f": "notanemail"}))), None);
    }

    #[test]
    fn combinators() {
        let schema = json!({"properties": {
            "y": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "z": {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
            "w": {"not": {"type": "string"}},
            "v": {"allOf": [{"type": "integer"}, {"minimum": 5}]}
        }});
        expect(schema.clone(), json!({"y": []}), "y", "[] is not valid under any of the given schemas");
        expect(schema.clone(), json!({"z": 1}), "z", "1 is valid under each of {'minimum': 0}, {'type': 'integer'}");
        expect(schema.clone(), json!({"z": -1.5}), "z", "-1.5 is not valid under any of the given schemas");
        expect(schema.clone(), json!({"w": "s"}), "w", "'s' should not be valid under {'type': 'string'}");
        expect(schema, json!({"v": 3}), "v", "3 is less than the minimum of 5");
        // At the root the name is the last subschema (a JSON object in the reference).
        expect(
            json!({"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}),
            json!({"c": 1}),
            "{'required': ['b']}",
            "{'c': 1} is not valid under any of the given schemas",
        );
    }

    #[test]
    fn object_keywords() {
        let schema = json!({"properties": {
            "y": {"dependentRequired": {"a": ["b"]}},
            "z": {"propertyNames": {"maxLength": 2}},
            "u": {"unevaluatedProperties": false, "properties": {"k": {}}}
        }});
        expect(schema.clone(), json!({"y": {"a": 1}}), "y", "'b' is a dependency of 'a'");
        expect(schema.clone(), json!({"z": {"abc": 1}}), "z", "'abc' is too long");
        expect(
            schema,
            json!({"u": {"k": 1, "m": 2}}),
            "u",
            "Unevaluated properties are not allowed ('m' was unexpected)",
        );
    }

    #[test]
    fn root_errors_kinto_cannot_name_are_500() {
        // `e.validator_value[-1]` on an int or a dict raises in the reference.
        let schema = json!({"properties": {"x": {"type": "integer"}}, "minProperties": 2});
        assert!(matches!(validate(&schema, &obj(json!({"x": 1}))), Err(ApiError::Internal(_))));
        let schema = json!({"propertyNames": {"maxLength": 2}});
        assert!(matches!(validate(&schema, &obj(json!({"abc": 1}))), Err(ApiError::Internal(_))));
        let schema = json!({"not": {"required": ["a"]}});
        assert!(matches!(validate(&schema, &obj(json!({"a": 1}))), Err(ApiError::Internal(_))));
    }

    #[test]
    fn schema_invalid_for_its_own_dialect_is_500() {
        // Draft 7 accepts it (SCHEMA-SYNTAX), the 2020-12 `check_schema` at validation time raises.
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": 5});
        assert!(check_schema("data.schema", &schema).is_ok());
        assert!(matches!(validate(&schema, &obj(json!({"x": 1}))), Err(ApiError::Internal(_))));
    }

    #[test]
    fn default_dialect_is_2020_12() {
        // `$ref` siblings apply in 2020-12 (and with an unknown `$schema`) but not in Draft 7.
        let schema =
            json!({"$defs": {"p": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/p", "minLength": 3}}});
        expect(schema, json!({"x": "ab"}), "x", "'ab' is too short");
        let schema = json!({"$schema": "http://example.com/unknown", "$defs": {"p": {"type": "string"}},
            "properties": {"x": {"$ref": "#/$defs/p", "minLength": 3}}});
        expect(schema, json!({"x": "ab"}), "x", "'ab' is too short");
    }

    #[test]
    fn explicit_draft_07() {
        let schema = json!({"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"p": {"type": "string"}},
            "properties": {"x": {"$ref": "#/definitions/p", "minLength": 3}}});
        assert_eq!(record_error(schema.clone(), json!({"x": "ab"})), None);
        expect(schema, json!({"x": 1}), "x", "1 is not of type 'string'");
        let schema = json!({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {
            "w": {"items": [{}], "additionalItems": false},
            "c": {"contains": {"type": "string"}},
            "d": {"dependencies": {"a": ["b"]}}
        }});
        expect(schema.clone(), json!({"w": [1, 2, 3]}), "w", "Additional items are not allowed (2, 3 were unexpected)");
        expect(schema.clone(), json!({"c": [1]}), "c", "None of [1] are valid under the given schema");
        expect(schema, json!({"d": {"a": 1}}), "d", "'b' is a dependency of 'a'");
    }

    #[test]
    fn unresolvable_refs() {
        let schema = json!({"properties": {"x": {"$ref": "#/definitions/nope"}}});
        expect(
            schema.clone(),
            json!({"x": 1}),
            "schema",
            "PointerToNowhere: '/definitions/nope' does not exist within {'properties': {'x': {'$ref': '#/definitions/nope'}}}",
        );
        // Python only fails when the reference is reached.
        assert_eq!(record_error(schema, json!({"y": 1})), None);
        expect(
            json!({"properties": {"x": {"$ref": "http://example.com/foo.json"}}}),
            json!({"x": 1}),
            "schema",
            "Unresolvable: http://example.com/foo.json",
        );
        expect(
            json!({"$ref": "#/definitions/nope"}),
            json!({"x": 1}),
            "schema",
            "PointerToNowhere: '/definitions/nope' does not exist within {'$ref': '#/definitions/nope'}",
        );
        expect(
            json!({"properties": {"x": {"$ref": "#foo"}}}),
            json!({"x": 1}),
            "schema",
            "NoSuchAnchor: 'foo' does not exist within {'properties': {'x': {'$ref': '#foo'}}}",
        );
        let schema =
            json!({"definitions": {"p": {"type": "string"}}, "properties": {"x": {"$ref": "#/definitions/p"}}});
        expect(schema, json!({"x": 1}), "x", "1 is not of type 'string'");
    }

    #[test]
    fn bad_schemas() {
        for (schema, message) in [
            (json!({"type": "blah"}), "type'blah' is not valid under any of the given schemas"),
            (json!({"type": 5}), "type5 is not valid under any of the given schemas"),
            (json!({"minimum": "x"}), "minimum'x' is not of type 'number'"),
            (json!({"required": "x"}), "required'x' is not of type 'array'"),
            (json!({"required": [1]}), "01 is not of type 'string'"),
            (json!({"required": ["a", "a"]}), "required['a', 'a'] has non-unique elements"),
            (json!({"properties": {"a": 5}}), "a5 is not of type 'object', 'boolean'"),
            (json!({"additionalProperties": 5}), "additionalProperties5 is not of type 'object', 'boolean'"),
            (json!({"minLength": -1}), "minLength-1 is less than the minimum of 0"),
            (json!({"minLength": 1.5}), "minLength1.5 is not of type 'integer'"),
            (json!({"pattern": "("}), "pattern'(' is not a 'regex'"),
            (json!({"enum": 5}), "enum5 is not of type 'array'"),
            (
                json!({"type": ["string", "string"]}),
                "type['string', 'string'] is not valid under any of the given schemas",
            ),
            (json!({"properties": {"a": {"type": "bad"}}}), "type'bad' is not valid under any of the given schemas"),
            (json!({"items": [5]}), "items[5] is not valid under any of the given schemas"),
            (json!({"$schema": 5}), "$schema5 is not of type 'string'"),
            (json!({"$ref": 5}), "$ref5 is not of type 'string'"),
            (json!({"type": "blah", "minimum": "x"}), "minimum'x' is not of type 'number'"),
            (json!({"dependencies": {"a": 5}}), "a5 is not valid under any of the given schemas"),
            (json!({"const": 5, "title": 5}), "title5 is not of type 'string'"),
        ] {
            assert_eq!(schema_error(schema.clone()), message, "for {schema}");
        }
    }

    #[test]
    fn good_schemas() {
        assert!(check_schema("data.schema", &json!({"pattern": "\\d+(?=a)"})).is_ok());
        assert!(
            check_schema(
                "data.schema",
                &json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": 5})
            )
            .is_ok()
        );
        assert!(check_schema("data.schema", &big()).is_ok());
        assert!(check_schema("data.schema", &json!({})).is_ok());
    }

    #[test]
    fn non_object_schemas() {
        for (value, shown) in [
            (json!("hello"), "hello"),
            (json!(5), "5"),
            (json!([1]), "[1]"),
            (json!(null), "None"),
            (json!(true), "True"),
        ] {
            assert_eq!(
                schema_error(value),
                format!("\"{shown}\" is not a mapping type: Does not implement dict-like functionality.")
            );
        }
        let Err(ApiError::Invalid(details)) = check_schema("data.record:schema", &json!("x")) else { panic!() };
        assert_eq!(details[0].name.as_deref(), Some("data.record:schema"));
    }

    #[test]
    fn python_printing() {
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(1e20), "1e+20");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(1234567890123456.0), "1234567890123456.0");
        assert_eq!(py_float(0.0001), "0.0001");
        assert_eq!(py_float(2.5e-7), "2.5e-07");
        assert_eq!(py_float(-1.5), "-1.5");
        assert_eq!(py_float(100.0), "100.0");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_str_repr("\u{1}é"), "'\\x01é'");
    }

    #[test]
    fn validators_are_cached() {
        let schema = json!({"properties": {"cached": {"type": "string"}}});
        for _ in 0..3 {
            expect(schema.clone(), json!({"cached": 1}), "cached", "1 is not of type 'string'");
        }
        let key = json!({"properties": {"cached": {"type": "string"}}}).to_string();
        assert!(cache().lock().map(|map| map.contains_key(&key) || map.is_empty()).unwrap_or(false));
    }
}
