//! lm-eval task YAML: parsing (with the `!function` tag kept as data), `include` resolution and the
//! source positions that error messages need.
//!
//! Loading follows `lm_eval/tasks/_yaml_loader.py`: `include` is a file or a list of files, relative to
//! the including file; each is loaded recursively and merged with a shallow `dict.update` (includes in
//! list order, then the local keys win; nested dicts are replaced, not merged); `task_list` is not
//! inherited. Unlike lm-eval, a file included twice through different branches (a diamond) is not
//! mistaken for a cycle; a real cycle is an error naming the chain.
//!
//! Built-in task files live inside the binary and are addressed as `builtin:<relative path>`; a user
//! YAML may include them by that name (`include: builtin:mmlu/default/_default_template_yaml`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;

use crate::error::{Result, TaskError};

/// Where a YAML text comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourcePath {
    /// A file shipped inside the binary (path relative to the built-in task directory).
    Builtin(String),
    /// A file on disk.
    File(PathBuf),
}

pub const BUILTIN_PREFIX: &str = "builtin:";

impl SourcePath {
    /// How the path is shown in messages (`builtin:mmlu/default/mmlu_anatomy.yaml` or the file path).
    pub fn display(&self) -> String {
        match self {
            SourcePath::Builtin(p) => format!("{BUILTIN_PREFIX}{p}"),
            SourcePath::File(p) => p.display().to_string(),
        }
    }

    /// The directory `!function` references resolve against (lm-eval: the YAML's directory).
    pub fn dir(&self) -> String {
        match self {
            SourcePath::Builtin(p) => match p.rfind('/') {
                Some(i) => p[..i].to_string(),
                None => String::new(),
            },
            SourcePath::File(p) => p
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    /// The directory on disk holding the file (for relative `data_files`); `None` for built-ins.
    pub fn base_dir(&self) -> Option<PathBuf> {
        match self {
            SourcePath::Builtin(_) => None,
            SourcePath::File(p) => p.parent().map(Path::to_path_buf),
        }
    }

    pub fn is_builtin(&self) -> bool {
        matches!(self, SourcePath::Builtin(_))
    }

    /// The path an `include:` value names, relative to this file.
    pub fn resolve_include(&self, include: &str) -> SourcePath {
        if let Some(rest) = include.strip_prefix(BUILTIN_PREFIX) {
            return SourcePath::Builtin(normalise_rel(rest));
        }
        match self {
            SourcePath::Builtin(p) => {
                let dir = match p.rfind('/') {
                    Some(i) => &p[..i],
                    None => "",
                };
                if dir.is_empty() {
                    SourcePath::Builtin(normalise_rel(include))
                } else {
                    SourcePath::Builtin(normalise_rel(&format!("{dir}/{include}")))
                }
            }
            SourcePath::File(p) => {
                let inc = Path::new(include);
                if inc.is_absolute() {
                    SourcePath::File(inc.to_path_buf())
                } else {
                    SourcePath::File(p.parent().unwrap_or(Path::new(".")).join(inc))
                }
            }
        }
    }

    /// The file's text.
    pub fn read(&self) -> Result<Arc<str>> {
        match self {
            SourcePath::Builtin(p) => {
                crate::builtin::file(p)
                    .map(Arc::from)
                    .ok_or_else(|| TaskError::Io {
                        path: self.display(),
                        message: "no such built-in file".into(),
                    })
            }
            SourcePath::File(p) => {
                std::fs::read_to_string(p)
                    .map(Arc::from)
                    .map_err(|e| TaskError::Io {
                        path: self.display(),
                        message: e.to_string(),
                    })
            }
        }
    }

    /// A stable identity for cycle detection (canonical path on disk when possible).
    fn identity(&self) -> SourcePath {
        match self {
            SourcePath::File(p) => {
                SourcePath::File(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            }
            other => other.clone(),
        }
    }
}

fn normalise_rel(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// A `!function module.fn` (or Yardstick's `!builtin name`) tag, with the file it appeared in.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionTag {
    /// The tag's text, e.g. `utils.process_docs`.
    pub name: String,
    /// `true` for `!builtin NAME` (a native function named directly), `false` for `!function`.
    pub explicit_builtin: bool,
    /// The YAML file that contained the tag.
    pub source: SourcePath,
}

/// A YAML value as lm-eval's loader sees it (PyYAML types), with functions kept as tags.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<RawValue>),
    Map(RawMap),
    Function(FunctionTag),
}

pub type RawMap = IndexMap<String, RawValue>;

impl RawValue {
    /// Python truthiness (`weight_by_size: truez` is true).
    pub fn truthy(&self) -> bool {
        match self {
            RawValue::Null => false,
            RawValue::Bool(b) => *b,
            RawValue::Int(i) => *i != 0,
            RawValue::Float(f) => *f != 0.0,
            RawValue::Str(s) => !s.is_empty(),
            RawValue::Seq(v) => !v.is_empty(),
            RawValue::Map(m) => !m.is_empty(),
            RawValue::Function(_) => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            RawValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            RawValue::Null => "null",
            RawValue::Bool(_) => "a boolean",
            RawValue::Int(_) => "an integer",
            RawValue::Float(_) => "a float",
            RawValue::Str(_) => "a string",
            RawValue::Seq(_) => "a list",
            RawValue::Map(_) => "a mapping",
            RawValue::Function(_) => "a !function",
        }
    }

    /// The first `!function` tag inside this value, if any.
    pub fn find_function(&self) -> Option<&FunctionTag> {
        match self {
            RawValue::Function(f) => Some(f),
            RawValue::Seq(v) => v.iter().find_map(RawValue::find_function),
            RawValue::Map(m) => m.values().find_map(RawValue::find_function),
            _ => None,
        }
    }

    /// As JSON (functions become the string `!function NAME`); use [`RawValue::find_function`] first
    /// where functions must be refused.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(*b),
            RawValue::Int(i) => Value::from(*i),
            RawValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            RawValue::Str(s) => Value::String(s.clone()),
            RawValue::Seq(v) => Value::Array(v.iter().map(RawValue::to_json).collect()),
            RawValue::Map(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            RawValue::Function(f) => Value::String(format!(
                "{} {}",
                if f.explicit_builtin {
                    "!builtin"
                } else {
                    "!function"
                },
                f.name
            )),
        }
    }

    /// From JSON (for overrides given programmatically).
    pub fn from_json(v: &serde_json::Value) -> RawValue {
        use serde_json::Value;
        match v {
            Value::Null => RawValue::Null,
            Value::Bool(b) => RawValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => RawValue::Int(i),
                None => RawValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => RawValue::Str(s.clone()),
            Value::Array(a) => RawValue::Seq(a.iter().map(RawValue::from_json).collect()),
            Value::Object(m) => RawValue::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), RawValue::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A YAML mapping after includes, with the file each top-level key came from.
#[derive(Clone, Debug, Default)]
pub struct LoadedYaml {
    pub map: RawMap,
    pub origin: IndexMap<String, SourcePath>,
}

impl LoadedYaml {
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.map.get(key)
    }
}

/// Parse one YAML text (no include resolution). The top level must be a mapping.
pub fn parse_text(source: &SourcePath, text: &str) -> Result<RawMap> {
    let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let (message, context_line) = split_yaml_message(&e.to_string());
        TaskError::Yaml {
            path: source.display(),
            line,
            column,
            field: enclosing_top_level_key(text, context_line.unwrap_or(line)),
            message,
        }
    })?;
    match convert(value, source)? {
        RawValue::Map(m) => Ok(m),
        other => Err(TaskError::Yaml {
            path: source.display(),
            line: 1,
            column: 1,
            field: None,
            message: format!(
                "expected a mapping of task fields at the top level, found {}",
                other.type_name()
            ),
        }),
    }
}

/// serde_norway's message is "problem at line L column C[, context at line L2 column C2]". The problem
/// position is printed in front instead; a context position (where the broken construct started,
/// e.g. an unterminated quote) is kept and used to find the field.
fn split_yaml_message(msg: &str) -> (String, Option<usize>) {
    static LOC: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = LOC
        .get_or_init(|| regex::Regex::new(r" at line (\d+) column (\d+)").expect("static regex"));
    let locs: Vec<regex::Captures> = re.captures_iter(msg).collect();
    match locs.len() {
        0 => (msg.to_string(), None),
        1 => (re.replace(msg, "").to_string(), None),
        _ => {
            let context_line = locs[1].get(1).and_then(|m| m.as_str().parse().ok());
            let first = locs[0].get(0).map(|m| m.range()).unwrap_or(0..0);
            let mut out = String::from(&msg[..first.start]);
            out.push_str(&msg[first.end..]);
            (out, context_line)
        }
    }
}

fn convert(v: serde_norway::Value, source: &SourcePath) -> Result<RawValue> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => RawValue::Null,
        Y::Bool(b) => RawValue::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                RawValue::Int(i)
            } else {
                RawValue::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Y::String(s) => RawValue::Str(s),
        Y::Sequence(items) => RawValue::Seq(
            items
                .into_iter()
                .map(|x| convert(x, source))
                .collect::<Result<_>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = RawMap::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => if b { "True" } else { "False" }.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "None".to_string(),
                    other => format!("{other:?}"),
                };
                out.insert(key, convert(v, source)?);
            }
            RawValue::Map(out)
        }
        Y::Tagged(t) => {
            let explicit_builtin = t.tag == "builtin";
            if t.tag == "function" || explicit_builtin {
                let name = match t.value {
                    Y::String(s) => s,
                    other => format!("{other:?}"),
                };
                RawValue::Function(FunctionTag {
                    name: name.trim().to_string(),
                    explicit_builtin,
                    source: source.clone(),
                })
            } else {
                return Err(TaskError::Yaml {
                    path: source.display(),
                    line: 1,
                    column: 1,
                    field: None,
                    message: format!(
                        "unsupported YAML tag `{}` (only `!function` is understood)",
                        t.tag
                    ),
                });
            }
        }
    })
}

/// The 1-based line and column of a top-level key in a YAML text (`key:`, `"key":` or `'key':` at
/// column 1), or `(1, 1)` when it cannot be found.
pub fn locate_key(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if top_level_key_of_line(line).as_deref() == Some(key) {
            return (i + 1, 1);
        }
    }
    (1, 1)
}

/// The line (1-based) of the first line mentioning `needle`, or of `key`.
pub fn locate_text(text: &str, needle: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| locate_key(text, key).0)
}

fn top_level_key_of_line(line: &str) -> Option<String> {
    let first = line.chars().next()?;
    if first.is_whitespace() || first == '#' || first == '-' {
        return None;
    }
    let (key, rest) = if first == '"' || first == '\'' {
        let end = line[1..].find(first)? + 1;
        (&line[1..end], &line[end + 1..])
    } else {
        let colon = line.find(':')?;
        (line[..colon].trim_end(), &line[colon..])
    };
    if rest.trim_start().starts_with(':') {
        Some(key.to_string())
    } else {
        None
    }
}

/// The top-level key whose block contains `line` (1-based).
fn enclosing_top_level_key(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(top_level_key_of_line)
        .last()
}

/// Parsed YAML files, shared by the index and every config build (each file is read and parsed once).
#[derive(Debug, Default)]
pub struct YamlCache {
    parsed: Mutex<HashMap<SourcePath, Arc<RawMap>>>,
    texts: Mutex<HashMap<SourcePath, Arc<str>>>,
}

impl YamlCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The file's text (cached).
    pub fn text(&self, source: &SourcePath) -> Result<Arc<str>> {
        if let Some(t) = self
            .texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(source)
        {
            return Ok(Arc::clone(t));
        }
        let t = source.read()?;
        self.texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source.clone(), Arc::clone(&t));
        Ok(t)
    }

    /// The file's own keys, without include resolution (cached).
    pub fn parse(&self, source: &SourcePath) -> Result<Arc<RawMap>> {
        if let Some(m) = self
            .parsed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(source)
        {
            return Ok(Arc::clone(m));
        }
        let text = self.text(source)?;
        let map = Arc::new(parse_text(source, &text)?);
        self.parsed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source.clone(), Arc::clone(&map));
        Ok(map)
    }

    /// The file with its includes merged (lm-eval `load_yaml(recursive=True)`).
    pub fn load(&self, source: &SourcePath) -> Result<LoadedYaml> {
        let mut stack = Vec::new();
        self.load_inner(source, &mut stack)
    }

    fn load_inner(&self, source: &SourcePath, stack: &mut Vec<SourcePath>) -> Result<LoadedYaml> {
        let id = source.identity();
        if let Some(pos) = stack.iter().position(|s| *s == id) {
            let chain: Vec<String> = stack[pos..]
                .iter()
                .chain(std::iter::once(&id))
                .map(SourcePath::display)
                .collect();
            return Err(TaskError::Include {
                path: source.display(),
                include: source.display(),
                message: format!("include cycle: {}", chain.join(" -> ")),
            });
        }
        let local = self.parse(source)?;
        let Some(includes) = local.get("include") else {
            let origin = local.keys().map(|k| (k.clone(), source.clone())).collect();
            return Ok(LoadedYaml {
                map: (*local).clone(),
                origin,
            });
        };
        let names: Vec<String> = match includes {
            RawValue::Str(s) => vec![s.clone()],
            RawValue::Seq(items) => items
                .iter()
                .map(|i| match i {
                    RawValue::Str(s) => Ok(s.clone()),
                    other => Err(self.field_error(
                        source,
                        "include",
                        format!("expected a file name, found {}", other.type_name()),
                    )),
                })
                .collect::<Result<_>>()?,
            other => {
                return Err(self.field_error(
                    source,
                    "include",
                    format!(
                        "expected a file name or a list of file names, found {}",
                        other.type_name()
                    ),
                ))
            }
        };
        stack.push(id);
        let mut merged = LoadedYaml::default();
        for name in names {
            let inc = source.resolve_include(&name);
            let loaded = self.load_inner(&inc, stack).map_err(|e| match e {
                TaskError::Io { message, .. } => TaskError::Include {
                    path: source.display(),
                    include: name.clone(),
                    message: format!("{} ({message})", inc.display()),
                },
                other => other,
            })?;
            for (k, v) in loaded.map {
                if k == "task_list" {
                    continue;
                }
                let o = loaded
                    .origin
                    .get(&k)
                    .cloned()
                    .unwrap_or_else(|| inc.clone());
                merged.map.insert(k.clone(), v);
                merged.origin.insert(k, o);
            }
        }
        stack.pop();
        for (k, v) in local.iter() {
            if k == "include" {
                continue;
            }
            merged.map.insert(k.clone(), v.clone());
            merged.origin.insert(k.clone(), source.clone());
        }
        Ok(merged)
    }

    /// A [`TaskError::Field`] positioned at `field` in `source`.
    pub fn field_error(&self, source: &SourcePath, field: &str, message: String) -> TaskError {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        let (line, column) = self
            .text(source)
            .map(|t| locate_key(&t, top))
            .unwrap_or((1, 1));
        TaskError::Field {
            path: source.display(),
            line,
            column,
            field: field.to_string(),
            message,
        }
    }

    /// The line of a `!function` tag in its file.
    pub fn function_line(&self, tag: &FunctionTag, field: &str) -> usize {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        self.text(&tag.source)
            .map(|t| locate_text(&t, &tag.name, top))
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> SourcePath {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        SourcePath::File(p)
    }

    #[test]
    fn include_merge_is_shallow_and_local_wins() {
        let dir = tempfile::tempdir().unwrap();
        file(
            dir.path(),
            "base.yaml",
            "a: 1\nb: {x: 1, y: 2}\ntask_list: [q]\nc: base\n",
        );
        file(
            dir.path(),
            "mid.yaml",
            "include: base.yaml\nc: mid\nd: [1]\n",
        );
        let top = file(
            dir.path(),
            "top.yaml",
            "include: [mid.yaml]\nb: {x: 9}\ntask: t\n",
        );
        let cache = YamlCache::new();
        let y = cache.load(&top).unwrap();
        let keys: Vec<&str> = y.map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "task"]);
        assert_eq!(
            y.map["b"],
            RawValue::Map([("x".to_string(), RawValue::Int(9))].into_iter().collect())
        );
        assert_eq!(y.map["c"], RawValue::Str("mid".into()));
        assert!(!y.map.contains_key("task_list"));
        assert!(matches!(&y.origin["a"], SourcePath::File(p) if p.ends_with("base.yaml")));
        assert!(matches!(&y.origin["task"], SourcePath::File(p) if p.ends_with("top.yaml")));
    }

    #[test]
    fn include_cycle_is_an_error_but_diamond_is_not() {
        let dir = tempfile::tempdir().unwrap();
        file(dir.path(), "a.yaml", "include: b.yaml\nx: 1\n");
        let b = file(dir.path(), "b.yaml", "include: a.yaml\ny: 1\n");
        let err = YamlCache::new().load(&b).unwrap_err().to_string();
        assert!(err.contains("include cycle"), "{err}");
        file(dir.path(), "d.yaml", "z: 1\n");
        file(dir.path(), "l.yaml", "include: d.yaml\n");
        file(dir.path(), "r.yaml", "include: d.yaml\n");
        let top = file(
            dir.path(),
            "top.yaml",
            "include: [l.yaml, r.yaml]\ntask: t\n",
        );
        assert!(YamlCache::new().load(&top).is_ok());
    }

    #[test]
    fn missing_include_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let top = file(dir.path(), "top.yaml", "include: nope.yaml\ntask: t\n");
        let err = YamlCache::new().load(&top).unwrap_err().to_string();
        assert!(err.contains("top.yaml: include `nope.yaml`"), "{err}");
    }

    #[test]
    fn malformed_yaml_has_position_and_field() {
        let src = SourcePath::File("t.yaml".into());
        let err = parse_text(
            &src,
            "task: x\ndoc_to_text: \"unterminated\noutput_type: multiple_choice\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("t.yaml:4:1: malformed YAML (in field `doc_to_text`)"),
            "{msg}"
        );
        assert!(msg.contains("quoted scalar at line 2 column 14"), "{msg}");
        match err {
            TaskError::Yaml { line, field, .. } => {
                assert!(line >= 2, "{line}");
                assert_eq!(field.as_deref(), Some("doc_to_text"));
            }
            other => panic!("{other:?}"),
        }
        let err =
            parse_text(&src, "task: x\nmetric_list:\n  - metric: acc\n   bad: [\n").unwrap_err();
        assert!(
            matches!(err, TaskError::Yaml { ref field, .. } if field.as_deref() == Some("metric_list")),
            "{err}"
        );
    }

    #[test]
    fn function_tags_are_kept() {
        let src = SourcePath::File("dir/t.yaml".into());
        let m = parse_text(
            &src,
            "process_docs: !function utils.process_docs\nx: !builtin hellaswag.process_docs\n",
        )
        .unwrap();
        match &m["process_docs"] {
            RawValue::Function(f) => {
                assert_eq!(f.name, "utils.process_docs");
                assert!(!f.explicit_builtin);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&m["x"], RawValue::Function(f) if f.explicit_builtin));
        assert!(parse_text(&src, "a: !weird x\n").is_err());
        assert!(parse_text(&src, "- a\n- b\n").is_err());
    }

    #[test]
    fn multiline_double_quoted_strings_fold_like_pyyaml() {
        let src = SourcePath::File("t.yaml".into());
        let text = "\"description\": \"The following are multiple choice questions (with answers) about abstract\\\n  \\ algebra.\\n\\n\"\n";
        let m = parse_text(&src, text).unwrap();
        assert_eq!(
            m["description"],
            RawValue::Str("The following are multiple choice questions (with answers) about abstract algebra.\n\n".into())
        );
    }

    #[test]
    fn locate_keys() {
        let t = "# c\ntask: x\n\"dataset_name\": y\nmetric_list:\n  - metric: acc\n";
        assert_eq!(locate_key(t, "task"), (2, 1));
        assert_eq!(locate_key(t, "dataset_name"), (3, 1));
        assert_eq!(locate_key(t, "metric"), (1, 1));
        assert_eq!(
            enclosing_top_level_key(t, 5).as_deref(),
            Some("metric_list")
        );
    }
}
