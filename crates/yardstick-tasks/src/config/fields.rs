//! Reading a raw YAML mapping: the file and field of each key, typed reads with "expected …, found …"
//! errors, function tags resolved to native ports.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::types::DocField;
use crate::error::{Result, TaskError};
use crate::functions::{self, BuiltinFunction, FunctionKind};
use crate::yaml::{FunctionTag, RawMap, RawValue, SourcePath, YamlCache};

/// A raw mapping with the file each key came from.
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

/// Reads one task's (or group's) raw mapping into typed values; every error names the file and field.
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

    // -- Typed reads. Each takes the field's name (`key`, as messages show it: `fewshot_config.split`,
    // `metric_list[2]`) and its value, and returns the value or "expected {what}, found {type}" at the
    // file and line of the field.

    /// The error for a value of the wrong type: "expected {what}, found {type}".
    pub(super) fn expected(&self, key: &str, what: &str, found: &RawValue) -> TaskError {
        self.err(key, format!("expected {what}, found {}", found.type_name()))
    }

    /// `read` applied to `key`'s value; `None` when the key is absent or null.
    pub(super) fn opt<'s, T>(
        &'s self,
        key: &str,
        read: impl FnOnce(&'s RawValue) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.get(key) {
            None | Some(RawValue::Null) => Ok(None),
            Some(v) => read(v).map(Some),
        }
    }

    /// A string.
    pub(super) fn string(&self, key: &str, v: &RawValue, what: &str) -> Result<String> {
        match v {
            RawValue::Str(s) => Ok(s.clone()),
            other => Err(self.expected(key, what, other)),
        }
    }

    /// An integer of at least `min`.
    pub(super) fn int_at_least(
        &self,
        key: &str,
        v: &RawValue,
        min: i64,
        what: &str,
    ) -> Result<i64> {
        match v {
            RawValue::Int(i) if *i >= min => Ok(*i),
            other => Err(self.expected(key, what, other)),
        }
    }

    /// A list.
    pub(super) fn seq<'v>(&self, key: &str, v: &'v RawValue, what: &str) -> Result<&'v [RawValue]> {
        match v {
            RawValue::Seq(items) => Ok(items),
            other => Err(self.expected(key, what, other)),
        }
    }

    /// A mapping.
    pub(super) fn mapping<'v>(&self, key: &str, v: &'v RawValue, what: &str) -> Result<&'v RawMap> {
        match v {
            RawValue::Map(m) => Ok(m),
            other => Err(self.expected(key, what, other)),
        }
    }

    /// A `!function` tag.
    pub(super) fn function<'v>(
        &self,
        key: &str,
        v: &'v RawValue,
        what: &str,
    ) -> Result<&'v FunctionTag> {
        match v {
            RawValue::Function(tag) => Ok(tag),
            other => Err(self.expected(key, what, other)),
        }
    }

    /// An optional string field; a `*_split` or `dataset_name` may be written as an integer.
    pub(super) fn opt_str(&self, key: &str) -> Result<Option<String>> {
        self.opt(key, |v| match v {
            RawValue::Int(i) if key.ends_with("_split") || key == "dataset_name" => {
                Ok(i.to_string())
            }
            RawValue::Function(f) => Err(self.function_error(key, f)),
            v => self.string(key, v, "a string"),
        })
    }

    /// An optional boolean (YAML 1.1 `yes`/`no`/`on`/`off` and integers accepted, as PyYAML does).
    pub(super) fn opt_bool(&self, key: &str, default: bool) -> Result<bool> {
        let value = self.opt(key, |v| match v {
            RawValue::Bool(b) => Ok(*b),
            RawValue::Int(i) => Ok(*i != 0),
            RawValue::Str(s)
                if matches!(s.as_str(), "yes" | "Yes" | "YES" | "on" | "On" | "ON") =>
            {
                Ok(true)
            }
            RawValue::Str(s)
                if matches!(s.as_str(), "no" | "No" | "NO" | "off" | "Off" | "OFF") =>
            {
                Ok(false)
            }
            other => Err(self.expected(key, "true or false", other)),
        })?;
        Ok(value.unwrap_or(default))
    }

    /// An optional mapping, as JSON.
    pub(super) fn opt_map(&self, key: &str) -> Result<Option<Map<String, Value>>> {
        self.opt(key, |v| {
            self.mapping(key, v, "a mapping")?;
            self.json_object(key, v)
        })
    }

    /// A mapping value as a JSON object (refusing `!function` tags inside it).
    pub(super) fn json_object(&self, key: &str, v: &RawValue) -> Result<Map<String, Value>> {
        Ok(match self.json(key, v)? {
            Value::Object(m) => m,
            _ => Map::new(),
        })
    }

    pub(super) fn json(&self, key: &str, v: &RawValue) -> Result<Value> {
        if let Some(f) = v.find_function() {
            return Err(self.function_error(key, f));
        }
        Ok(v.to_json())
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

    /// A `doc_to_*` value: a column name or template, a constant, or a native function.
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
                _ => DocField::List(Vec::new()),
            },
            RawValue::Map(_) => DocField::Dict(self.json_object(key, v)?),
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
                return Err(self.expected(key, "a column name, template, int or list", other));
            }
        })
    }

    /// An optional `doc_to_*` field of the task.
    pub(super) fn opt_doc_field(&self, key: &str) -> Result<Option<DocField>> {
        self.opt(key, |v| {
            self.doc_field(key, v, |k| matches!(k, FunctionKind::DocTo(_)))
        })
    }

    /// A `process_docs` value (`None` when absent or null): a native `process_docs` function.
    pub(super) fn process_docs_fn(
        &self,
        key: &str,
        v: Option<&RawValue>,
    ) -> Result<Option<&'static BuiltinFunction>> {
        let Some(v) = v.filter(|v| **v != RawValue::Null) else {
            return Ok(None);
        };
        let f = self.native(
            key,
            self.function(key, v, "`!function` (a Python function)")?,
        )?;
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

    /// `process_results`: the name of a native scoring routine.
    pub(super) fn process_results_fn(&self) -> Result<Option<&'static str>> {
        const KEY: &str = "process_results";
        self.opt(KEY, |v| {
            let f = self.native(KEY, self.function(KEY, v, "`!function`")?)?;
            match f.kind {
                FunctionKind::ProcessResults(name) => Ok(name),
                _ => Err(self.err(
                    KEY,
                    format!(
                        "native function `{}` is not a process_results function",
                        f.name
                    ),
                )),
            }
        })
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
