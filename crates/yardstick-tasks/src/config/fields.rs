//! Reading a raw YAML mapping: the file and field of each key, typed reads with "expected …, found …"
//! errors, function tags resolved to native ports.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::types::DocField;
use crate::error::{Result, TaskError};
use crate::functions::{self, BuiltinFunction, FunctionKind};
use crate::yaml::{FunctionTag, RawMap, RawValue, SourcePath, YamlCache};

#[derive(Clone, Debug, Default)]
pub struct RawConfig {
    pub map: RawMap,
    pub origin: IndexMap<String, SourcePath>,
}

impl RawConfig {
    /// Apply overrides (`{**cfg, **overrides}`).
    pub fn apply(&mut self, overrides: &RawConfig) {
        for (k, v) in &overrides.map {
            self.map.insert(k.clone(), v.clone());
            if let Some(o) = overrides.origin.get(k) {
                self.origin.insert(k.clone(), o.clone());
            }
        }
    }
}

pub(crate) struct Builder<'a> {
    pub cache: &'a YamlCache,
    pub raw: &'a RawConfig,
    /// The file of the task itself (for keys without an origin).
    pub source: SourcePath,
}

impl Builder<'_> {
    pub(super) fn origin(&self, key: &str) -> &SourcePath {
        let top = key.split(['.', '[']).next().unwrap_or(key);
        self.raw.origin.get(top).unwrap_or(&self.source)
    }

    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> TaskError {
        self.cache
            .field_error(self.origin(field), field, message.into())
    }

    pub(super) fn get(&self, key: &str) -> Option<&RawValue> {
        self.raw.map.get(key)
    }

    pub(super) fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Str(s)) => Ok(Some(s.clone())),
            Some(RawValue::Int(i)) if key.ends_with("_split") || key == "dataset_name" => {
                Ok(Some(i.to_string()))
            }
            Some(RawValue::Function(f)) => Err(self.function_error(key, f)),
            Some(other) => Err(self.err(
                key,
                format!("expected a string, found {}", other.type_name()),
            )),
        }
    }

    pub(super) fn opt_bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(default),
            Some(RawValue::Bool(b)) => Ok(*b),
            Some(RawValue::Int(i)) => Ok(*i != 0),
            Some(RawValue::Str(s))
                if matches!(s.as_str(), "yes" | "Yes" | "YES" | "on" | "On" | "ON") =>
            {
                Ok(true)
            }
            Some(RawValue::Str(s))
                if matches!(s.as_str(), "no" | "No" | "NO" | "off" | "Off" | "OFF") =>
            {
                Ok(false)
            }
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.type_name()),
            )),
        }
    }

    pub(super) fn json(&self, key: &str, v: &RawValue) -> Result<Value> {
        if let Some(f) = v.find_function() {
            return Err(self.function_error(key, f));
        }
        Ok(v.to_json())
    }

    pub(super) fn opt_map(&self, key: &str) -> Result<Option<Map<String, Value>>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(v @ RawValue::Map(_)) => match self.json(key, v)? {
                Value::Object(m) => Ok(Some(m)),
                _ => Ok(None),
            },
            Some(other) => Err(self.err(
                key,
                format!("expected a mapping, found {}", other.type_name()),
            )),
        }
    }

    /// Resolve a function tag to a native port, or explain why it cannot be used.
    pub(crate) fn native(
        &self,
        field: &str,
        tag: &FunctionTag,
    ) -> Result<&'static BuiltinFunction> {
        if tag.explicit_builtin {
            return functions::lookup(&tag.name).ok_or_else(|| {
                let names: Vec<&str> = functions::BUILTIN_FUNCTIONS
                    .iter()
                    .map(|f| f.name)
                    .collect();
                let suggestions = crate::suggest::closest(&tag.name, names.iter().copied(), 3);
                self.err(
                    field,
                    format!(
                        "unknown native function `{}`{}; available: {}",
                        tag.name,
                        if suggestions.is_empty() {
                            String::new()
                        } else {
                            format!(" (did you mean `{}`?)", suggestions.join("`, `"))
                        },
                        names.join(", ")
                    ),
                )
            });
        }
        if let SourcePath::Builtin(_) = tag.source {
            if let Some(f) = functions::lookup_builtin_reference(&tag.source.dir(), &tag.name) {
                return Ok(f);
            }
        }
        Err(self.function_error(field, tag))
    }

    pub(crate) fn function_error(&self, field: &str, tag: &FunctionTag) -> TaskError {
        let task = self.get("task").and_then(RawValue::as_str);
        let dir_name = match &tag.source {
            SourcePath::File(p) => p
                .parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().to_string()),
            SourcePath::Builtin(p) => p.split('/').next().map(str::to_string),
        };
        let suggestion = match functions::guess_for_user_reference(&tag.name, task, dir_name.as_deref()) {
            Some(f) => format!(
                "use the built-in task `{}` (native port), or reference the native function as `{field}: !builtin {}`, \
                 or materialise the processed docs (e.g. to JSONL) and point `dataset_path`/`dataset_kwargs.data_files` at them",
                f.used_by, f.name
            ),
            None => "materialise what the function computes (e.g. write the processed docs to JSONL and point \
                     `dataset_path`/`dataset_kwargs.data_files` at them), or use a built-in task; native functions \
                     available with `!builtin`: "
                .to_string()
                + &functions::BUILTIN_FUNCTIONS.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
        };
        TaskError::PythonFunction {
            path: tag.source.display(),
            line: self.cache.function_line(tag, field),
            field: field.to_string(),
            function: tag.name.clone(),
            suggestion,
        }
    }

    pub(super) fn doc_field(
        &self,
        key: &str,
        v: &RawValue,
        kind_ok: fn(FunctionKind) -> bool,
    ) -> Result<DocField> {
        Ok(match v {
            RawValue::Str(s) => DocField::Text(s.clone()),
            RawValue::Int(i) => DocField::Int(*i),
            RawValue::Bool(b) => DocField::Int(*b as i64),
            RawValue::Seq(_) => match self.json(key, v)? {
                Value::Array(a) => DocField::List(a),
                _ => unreachable_list(),
            },
            RawValue::Map(_) => match self.json(key, v)? {
                Value::Object(m) => DocField::Dict(m),
                _ => DocField::Dict(Map::new()),
            },
            RawValue::Function(tag) => {
                let f = self.native(key, tag)?;
                if !kind_ok(f.kind) {
                    return Err(self.err(
                        key,
                        format!("native function `{}` cannot be used here", f.name),
                    ));
                }
                DocField::Native(f)
            }
            other => {
                return Err(self.err(
                    key,
                    format!(
                        "expected a column name, template, int or list, found {}",
                        other.type_name()
                    ),
                ))
            }
        })
    }

    pub(super) fn opt_doc_field(&self, key: &str) -> Result<Option<DocField>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(v) => self
                .doc_field(key, v, |k| matches!(k, FunctionKind::DocTo(_)))
                .map(Some),
        }
    }

    pub(super) fn process_docs_fn(
        &self,
        key: &str,
        v: Option<&RawValue>,
    ) -> Result<Option<&'static BuiltinFunction>> {
        match v {
            None | Some(RawValue::Null) => Ok(None),
            Some(RawValue::Function(tag)) => {
                let f = self.native(key, tag)?;
                match f.kind {
                    FunctionKind::ProcessDocs(_) => Ok(Some(f)),
                    _ => Err(self.err(
                        key,
                        format!(
                            "native function `{}` is not a process_docs function",
                            f.name
                        ),
                    )),
                }
            }
            Some(other) => Err(self.err(
                key,
                format!(
                    "expected `!function` (a Python function), found {}",
                    other.type_name()
                ),
            )),
        }
    }

    pub(super) fn unsupported(&self, field: &str, message: &str) -> TaskError {
        let origin = self.origin(field);
        let line = self
            .cache
            .text(origin)
            .map(|t| crate::yaml::locate_key(&t, field).0)
            .unwrap_or(1);
        TaskError::Unsupported {
            path: origin.display(),
            line,
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

fn unreachable_list() -> DocField {
    DocField::List(Vec::new())
}
