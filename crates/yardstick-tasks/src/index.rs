//! The task index (lm-eval's `TaskManager`): every task, group and tag defined by the built-in
//! YAMLs and the `--include-path` directories, and the resolution of requested names into a forest of
//! groups and tasks with group overrides applied.
//!
//! Indexing reads each `**/*.yaml` once (sorted by path; include paths after the built-ins, overriding
//! them by name) and follows `include`s only as far as needed to learn names and tags; configs are
//! built only for what is requested. A file that does not parse does not stop the index: it is
//! listed by [`TaskIndex::broken`], and a request that may concern it reports its error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::config::{
    build_group_config, Builder, GroupConfig, RawConfig, TaskConfig, GROUP_FIELDS,
};
use crate::error::{Result, TaskError};
use crate::yaml::{RawValue, SourcePath, YamlCache};

/// What a name in the index stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Task,
    Group,
    /// A tag: a set of tasks, with no aggregation.
    Tag,
    /// A Python `class:` task (indexed so the error is clear; not runnable).
    PythonTask,
}

/// One indexed name.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    /// The defining YAML (`None` for tags).
    #[serde(serialize_with = "ser_source")]
    pub source: Option<SourcePath>,
    /// For a tag: its tasks (sorted). Empty otherwise.
    pub members: BTreeSet<String>,
    /// The tags a task declares.
    pub tags: Vec<String>,
}

fn ser_source<S: serde::Serializer>(
    s: &Option<SourcePath>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    match s {
        Some(p) => ser.serialize_str(&p.display()),
        None => ser.serialize_none(),
    }
}

/// A YAML file that could not be indexed.
#[derive(Debug)]
pub struct BrokenFile {
    pub source: SourcePath,
    pub error: TaskError,
}

/// The index of every task, group and tag.
#[derive(Debug)]
pub struct TaskIndex {
    entries: BTreeMap<String, Entry>,
    cache: YamlCache,
    broken: Vec<BrokenFile>,
    metadata: Map<String, Value>,
}

/// A node of a resolved selection.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectionNode {
    Group {
        name: String,
        /// `group_alias`, shown instead of the name.
        alias: Option<String>,
        config: Box<GroupConfig>,
        children: Vec<SelectionNode>,
    },
    Task(Box<TaskConfig>),
}

impl SelectionNode {
    pub fn name(&self) -> &str {
        match self {
            SelectionNode::Group { name, .. } => name,
            SelectionNode::Task(t) => &t.task,
        }
    }

    /// All leaf tasks under this node, depth first (lm-eval `Group.get_all_tasks()`).
    pub fn leaf_tasks(&self) -> Vec<&TaskConfig> {
        let mut out = Vec::new();
        self.collect_tasks(&mut out);
        out
    }

    fn collect_tasks<'a>(&'a self, out: &mut Vec<&'a TaskConfig>) {
        match self {
            SelectionNode::Task(t) => out.push(t),
            SelectionNode::Group { children, .. } => {
                children.iter().for_each(|c| c.collect_tasks(out))
            }
        }
    }

    fn collect_tasks_mut<'a>(&'a mut self, out: &mut Vec<&'a mut TaskConfig>) {
        match self {
            SelectionNode::Task(t) => out.push(t),
            SelectionNode::Group { children, .. } => {
                children.iter_mut().for_each(|c| c.collect_tasks_mut(out))
            }
        }
    }

    /// Names of the direct children (lm-eval `group_subtasks`).
    pub fn child_names(&self) -> Vec<String> {
        match self {
            SelectionNode::Group { children, .. } => {
                children.iter().map(|c| c.name().to_string()).collect()
            }
            SelectionNode::Task(_) => Vec::new(),
        }
    }
}

/// What `resolve` returns: the requested items in order (groups with their children; a tag becomes its
/// tasks).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub roots: Vec<SelectionNode>,
}

impl Selection {
    /// Every leaf task once, in order (lm-eval's flat `tasks` dict).
    pub fn tasks(&self) -> Vec<&TaskConfig> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in &self.roots {
            for t in r.leaf_tasks() {
                if seen.insert(t.task.clone()) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// Mutable access to every leaf (e.g. to merge `--gen_kwargs`).
    pub fn tasks_mut(&mut self) -> Vec<&mut TaskConfig> {
        let mut out = Vec::new();
        for r in &mut self.roots {
            r.collect_tasks_mut(&mut out);
        }
        out
    }

    /// Every group node, parents before children.
    pub fn groups(&self) -> Vec<&SelectionNode> {
        fn walk<'a>(n: &'a SelectionNode, out: &mut Vec<&'a SelectionNode>) {
            if let SelectionNode::Group { children, .. } = n {
                out.push(n);
                children.iter().for_each(|c| walk(c, out));
            }
        }
        let mut out = Vec::new();
        self.roots.iter().for_each(|r| walk(r, &mut out));
        out
    }
}

const IGNORED_DIRS: &[&str] = &["__pycache__", ".ipynb_checkpoints"];

fn walk_yaml(root: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if !IGNORED_DIRS.contains(&name.as_str()) {
                walk_yaml(&path, out)?;
            }
        } else if name.ends_with(".yaml") {
            out.push(path);
        }
    }
    Ok(())
}

fn tags_of(v: Option<&RawValue>) -> Vec<String> {
    match v {
        Some(RawValue::Str(s)) => vec![s.clone()],
        Some(RawValue::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn raw_of(loaded: crate::yaml::LoadedYaml) -> RawConfig {
    RawConfig {
        map: loaded.map,
        origin: loaded.origin,
    }
}

impl TaskIndex {
    /// Index the built-in tasks and every `**/*.yaml` under `include_paths` (each overriding earlier
    /// definitions of the same name).
    pub fn load(include_paths: &[PathBuf]) -> Result<TaskIndex> {
        let mut roots: Vec<Vec<SourcePath>> = Vec::new();
        roots.push(
            crate::builtin::indexed_files()
                .map(|(p, _)| SourcePath::Builtin(p.to_string()))
                .collect(),
        );
        for dir in include_paths {
            if dir.is_file() {
                roots.push(vec![SourcePath::File(dir.clone())]);
                continue;
            }
            let mut files = Vec::new();
            walk_yaml(dir, &mut files).map_err(|e| TaskError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            files.sort_by_key(|p| p.to_string_lossy().replace('\\', "/"));
            roots.push(files.into_iter().map(SourcePath::File).collect());
        }
        let mut index = TaskIndex {
            entries: BTreeMap::new(),
            cache: YamlCache::new(),
            broken: Vec::new(),
            metadata: Map::new(),
        };
        for sources in roots {
            let mut local: BTreeMap<String, Entry> = BTreeMap::new();
            for source in sources {
                match index.cache.load(&source) {
                    Ok(loaded) => Self::register(&mut local, &source, &loaded.map),
                    Err(error) => index.broken.push(BrokenFile { source, error }),
                }
            }
            for (name, entry) in local {
                match index.entries.get_mut(&name) {
                    Some(existing)
                        if existing.kind == EntryKind::Tag && entry.kind == EntryKind::Tag =>
                    {
                        existing.members.extend(entry.members);
                    }
                    _ => {
                        if let Some(old) = index.entries.get(&name) {
                            tracing::debug!(
                                "task `{name}` from {} overrides the one from {}",
                                entry
                                    .source
                                    .as_ref()
                                    .map(SourcePath::display)
                                    .unwrap_or_default(),
                                old.source
                                    .as_ref()
                                    .map(SourcePath::display)
                                    .unwrap_or_default()
                            );
                        }
                        index.entries.insert(name, entry);
                    }
                }
            }
        }
        Ok(index)
    }

    fn register(
        local: &mut BTreeMap<String, Entry>,
        source: &SourcePath,
        map: &crate::yaml::RawMap,
    ) {
        let (name, kind) =
            if let Some(RawValue::Str(t)) = map.get("task").filter(|_| map.contains_key("class")) {
                (t.clone(), EntryKind::PythonTask)
            } else if let Some(g) = map.get("group") {
                match g {
                    RawValue::Str(g) => (g.clone(), EntryKind::Group),
                    _ => return,
                }
            } else if let Some(RawValue::Str(t)) = map.get("task") {
                (t.clone(), EntryKind::Task)
            } else {
                return;
            };
        if local.contains_key(&name) {
            tracing::warn!(
                "duplicate name `{name}` in {}; keeping the first definition",
                source.display()
            );
            return;
        }
        let tags = tags_of(map.get("tag"));
        if matches!(kind, EntryKind::Task | EntryKind::PythonTask) {
            for tag in &tags {
                local
                    .entry(tag.clone())
                    .or_insert_with(|| Entry {
                        name: tag.clone(),
                        kind: EntryKind::Tag,
                        source: None,
                        members: BTreeSet::new(),
                        tags: Vec::new(),
                    })
                    .members
                    .insert(name.clone());
            }
        }
        local.insert(
            name.clone(),
            Entry {
                name,
                kind,
                source: Some(source.clone()),
                members: BTreeSet::new(),
                tags,
            },
        );
    }

    /// Metadata merged into every task's and group's `metadata` (lm-eval's `TaskManager(metadata=…)`,
    /// CLI `--metadata`).
    pub fn set_metadata(&mut self, metadata: Map<String, Value>) {
        self.metadata = metadata;
    }

    /// Every name (tasks, groups, tags), sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// Every entry, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The entries whose names match a glob pattern (`mmlu_*`), or all of them.
    pub fn matching(&self, pattern: Option<&str>) -> Result<Vec<&Entry>> {
        let Some(pattern) = pattern else {
            return Ok(self.entries.values().collect());
        };
        let p = glob::Pattern::new(pattern).map_err(|e| TaskError::Task {
            task: pattern.to_string(),
            message: format!("invalid pattern: {e}"),
        })?;
        Ok(self
            .entries
            .values()
            .filter(|e| p.matches(&e.name))
            .collect())
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// YAML files that could not be indexed, with why.
    pub fn broken(&self) -> &[BrokenFile] {
        &self.broken
    }

    /// The names closest to `name`.
    pub fn suggest(&self, name: &str) -> Vec<String> {
        crate::suggest::closest(name, self.entries.keys().map(String::as_str), 5)
    }

    /// The shared YAML cache (positions for error messages).
    pub fn yaml_cache(&self) -> &YamlCache {
        &self.cache
    }

    fn unknown(&self, name: &str, context: Option<String>) -> TaskError {
        // A broken file that mentions the name is the likely culprit: report its error.
        let stem_match = self.broken.iter().position(|b| match &b.source {
            SourcePath::File(p) => p.file_stem().is_some_and(|s| s.to_string_lossy() == name),
            SourcePath::Builtin(p) => p.ends_with(&format!("/{name}.yaml")),
        });
        TaskError::UnknownTask {
            name: name.to_string(),
            suggestions: self.suggest(name),
            context,
            broken: self
                .broken
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    Some(*i) == stem_match
                        || self.cache.text(&b.source).is_ok_and(|t| t.contains(name))
                })
                .map(|(_, b)| b.error.to_string())
                .collect(),
        }
    }

    /// The full config of one indexed task (no group overrides).
    pub fn task_config(&self, name: &str) -> Result<TaskConfig> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| self.unknown(name, None))?;
        match (entry.kind, &entry.source) {
            (EntryKind::Task | EntryKind::PythonTask, Some(source)) => {
                self.build_task(Some(source), None, &RawConfig::default())
            }
            _ => Err(TaskError::Task {
                task: name.to_string(),
                message: format!("`{name}` is a {:?}, not a task", entry.kind),
            }),
        }
    }

    /// The output type a task's YAML declares (after includes), without building it.
    pub fn output_type(&self, name: &str) -> Option<String> {
        let entry = self.entries.get(name)?;
        let loaded = self.cache.load(entry.source.as_ref()?).ok()?;
        match loaded.map.get("output_type") {
            Some(RawValue::Str(s)) => Some(s.clone()),
            None => Some("generate_until".into()),
            _ => None,
        }
    }

    /// Resolve requested names (tasks, groups, tags, glob patterns such as `mmlu_*`, or paths to YAML
    /// files) into a selection, applying group overrides to children and refusing a task requested
    /// through two different items.
    pub fn resolve<S: AsRef<str>>(&self, names: &[S]) -> Result<Selection> {
        let mut roots: Vec<SelectionNode> = Vec::new();
        for requested in names {
            let requested = requested.as_ref().trim();
            if requested.is_empty() {
                continue;
            }
            for name in self.expand(requested)? {
                for node in self.build_top(&name)? {
                    let dup_standalone = matches!(&node, SelectionNode::Task(t)
                        if roots.iter().any(|r| matches!(r, SelectionNode::Task(o) if o.task == t.task)));
                    if !dup_standalone {
                        roots.push(node);
                    }
                }
            }
        }
        // lm-eval `_check_duplicates`: a task may appear under one top-level item only.
        let mut seen: IndexMap<String, String> = IndexMap::new();
        for root in &roots {
            let source = root.name().to_string();
            for t in root.leaf_tasks() {
                if let Some(first) = seen.get(&t.task) {
                    if *first != source {
                        return Err(TaskError::DuplicateTask {
                            name: t.task.clone(),
                            first: first.clone(),
                            second: source,
                        });
                    }
                }
                seen.insert(t.task.clone(), source.clone());
            }
        }
        Ok(Selection { roots })
    }

    fn expand(&self, requested: &str) -> Result<Vec<String>> {
        if self.entries.contains_key(requested) {
            return Ok(vec![requested.to_string()]);
        }
        if requested.contains(['*', '?', '[']) {
            if let Ok(pattern) = glob::Pattern::new(requested) {
                let matched: Vec<String> = self
                    .entries
                    .keys()
                    .filter(|n| pattern.matches(n))
                    .cloned()
                    .collect();
                if !matched.is_empty() {
                    return Ok(matched);
                }
            }
        }
        Ok(vec![requested.to_string()])
    }

    fn build_top(&self, name: &str) -> Result<Vec<SelectionNode>> {
        let Some(entry) = self.entries.get(name) else {
            let path = Path::new(name);
            if (name.ends_with(".yaml") || name.ends_with(".yml")) && path.is_file() {
                return self.build_from_path(path);
            }
            return Err(self.unknown(name, None));
        };
        let mut stack = Vec::new();
        match entry.kind {
            EntryKind::Tag => entry
                .members
                .iter()
                .map(|m| {
                    self.build_named_task(m, &RawConfig::default(), None)
                        .map(|t| SelectionNode::Task(Box::new(t)))
                })
                .collect(),
            EntryKind::Group => {
                let source = entry
                    .source
                    .clone()
                    .ok_or_else(|| self.unknown(name, None))?;
                let raw = raw_of(self.cache.load(&source)?);
                Ok(vec![self.build_group(
                    name,
                    raw,
                    Some(&source),
                    &RawConfig::default(),
                    &mut stack,
                )?])
            }
            EntryKind::Task | EntryKind::PythonTask => Ok(vec![SelectionNode::Task(Box::new(
                self.build_named_task(name, &RawConfig::default(), None)?,
            ))]),
        }
    }

    fn build_from_path(&self, path: &Path) -> Result<Vec<SelectionNode>> {
        let source = SourcePath::File(path.to_path_buf());
        let raw = raw_of(self.cache.load(&source)?);
        if let Some(RawValue::Str(g)) = raw.map.get("group") {
            let g = g.clone();
            return Ok(vec![self.build_group(
                &g,
                raw,
                Some(&source),
                &RawConfig::default(),
                &mut Vec::new(),
            )?]);
        }
        Ok(vec![SelectionNode::Task(Box::new(self.build_task(
            Some(&source),
            Some(raw),
            &RawConfig::default(),
        )?))])
    }

    fn build_named_task(
        &self,
        name: &str,
        overrides: &RawConfig,
        context: Option<&SourcePath>,
    ) -> Result<TaskConfig> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| self.unknown(name, context.map(SourcePath::display)))?;
        let source = entry
            .source
            .as_ref()
            .ok_or_else(|| self.unknown(name, None))?;
        let mut ov = overrides.clone();
        ov.map
            .shift_insert(0, "task".into(), RawValue::Str(name.to_string()));
        self.build_task(Some(source), None, &ov)
    }

    /// Build one task: its YAML (with includes) or an inline base, then overrides, then lm-eval's
    /// metadata merge.
    fn build_task(
        &self,
        source: Option<&SourcePath>,
        base: Option<RawConfig>,
        overrides: &RawConfig,
    ) -> Result<TaskConfig> {
        let mut raw = match (base, source) {
            (Some(b), _) => b,
            (None, Some(s)) => raw_of(self.cache.load(s)?),
            (None, None) => RawConfig::default(),
        };
        raw.apply(overrides);
        for key in ["tag", "group", "task_list"] {
            raw.map.shift_remove(key);
        }
        let mut metadata = match raw.map.get("metadata") {
            Some(RawValue::Map(m)) => m.clone(),
            None | Some(RawValue::Null) => Default::default(),
            Some(other) => [("_metadata".to_string(), other.clone())]
                .into_iter()
                .collect(),
        };
        for (k, v) in &self.metadata {
            metadata.insert(k.clone(), RawValue::from_json(v));
        }
        raw.map.insert("metadata".into(), RawValue::Map(metadata));
        let task_source = source
            .cloned()
            .unwrap_or_else(|| SourcePath::File("inline".into()));
        let builder = Builder {
            cache: &self.cache,
            raw: &raw,
            source: task_source,
        };
        let config_source = source
            .map(SourcePath::display)
            .unwrap_or_else(|| "inline".to_string());
        builder.build(config_source)
    }

    fn build_group(
        &self,
        name: &str,
        raw: RawConfig,
        source: Option<&SourcePath>,
        overrides: &RawConfig,
        stack: &mut Vec<String>,
    ) -> Result<SelectionNode> {
        if stack.iter().any(|g| g == name) {
            let chain = stack
                .iter()
                .cloned()
                .chain(std::iter::once(name.to_string()))
                .collect::<Vec<_>>()
                .join(" -> ");
            return Err(TaskError::Task {
                task: name.to_string(),
                message: format!("group cycle: {chain}"),
            });
        }
        let group_source = source
            .cloned()
            .unwrap_or_else(|| SourcePath::File("inline".into()));
        let mut own = RawConfig::default();
        let mut task_overrides = RawConfig::default();
        for (k, v) in &raw.map {
            let target = if GROUP_FIELDS.contains(&k.as_str()) {
                &mut own
            } else {
                &mut task_overrides
            };
            target.map.insert(k.clone(), v.clone());
            target.origin.insert(
                k.clone(),
                raw.origin
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| group_source.clone()),
            );
        }
        let mut config = {
            let b = Builder {
                cache: &self.cache,
                raw: &own,
                source: group_source.clone(),
            };
            build_group_config(
                &b,
                name,
                source
                    .map(SourcePath::display)
                    .unwrap_or_else(|| "inline".into()),
            )?
        };
        for (k, v) in &self.metadata {
            config.metadata.insert(k.clone(), v.clone());
        }
        // Group-level defaults < caller's overrides.
        let mut merged = task_overrides;
        merged.apply(overrides);

        let members: Vec<RawValue> = match raw.map.get("task") {
            Some(RawValue::Seq(items)) => items.clone(),
            Some(s @ RawValue::Str(_)) => vec![s.clone()],
            None | Some(RawValue::Null) => Vec::new(),
            Some(other) => {
                return Err(self.cache.field_error(
                    &group_source,
                    "task",
                    format!("expected a list of task names, found {}", other.type_name()),
                ))
            }
        };
        stack.push(name.to_string());
        let mut children: IndexMap<String, SelectionNode> = IndexMap::new();
        for (i, item) in members.iter().enumerate() {
            let field = format!("task[{i}]");
            for node in self.build_member(name, item, &merged, &group_source, &field, stack)? {
                children.insert(node.name().to_string(), node);
            }
        }
        stack.pop();
        Ok(SelectionNode::Group {
            name: name.to_string(),
            alias: config.group_alias.clone(),
            config: Box::new(config),
            children: children.into_values().collect(),
        })
    }

    fn build_member(
        &self,
        group: &str,
        item: &RawValue,
        overrides: &RawConfig,
        group_source: &SourcePath,
        field: &str,
        stack: &mut Vec<String>,
    ) -> Result<Vec<SelectionNode>> {
        let item_raw = |m: &crate::yaml::RawMap, skip: Option<&str>| {
            let mut r = RawConfig::default();
            for (k, v) in m {
                if Some(k.as_str()) == skip {
                    continue;
                }
                r.map.insert(k.clone(), v.clone());
                r.origin.insert(k.clone(), group_source.clone());
            }
            r
        };
        let (base, item_overrides) = match item {
            RawValue::Str(s) => (s.clone(), overrides.clone()),
            RawValue::Map(m) if m.contains_key("group") => {
                let Some(RawValue::Str(gname)) = m.get("group") else {
                    return Err(self.cache.field_error(
                        group_source,
                        field,
                        "`group` must be a name".into(),
                    ));
                };
                if let Some(entry) = self.entries.get(gname) {
                    let mut merged = overrides.clone();
                    merged.apply(&item_raw(m, Some("group")));
                    return match (entry.kind, &entry.source) {
                        (EntryKind::Group, Some(src)) => {
                            let raw = raw_of(self.cache.load(src)?);
                            Ok(vec![self.build_group(
                                gname,
                                raw,
                                Some(src),
                                &merged,
                                stack,
                            )?])
                        }
                        _ => self.build_member(
                            group,
                            &RawValue::Str(gname.clone()),
                            &merged,
                            group_source,
                            field,
                            stack,
                        ),
                    };
                }
                let inline_name = format!("{group}::{gname}");
                return Ok(vec![self.build_group(
                    &inline_name,
                    item_raw(m, None),
                    Some(group_source),
                    overrides,
                    stack,
                )?]);
            }
            RawValue::Map(m) => {
                let base = match m.get("task") {
                    Some(RawValue::Str(s)) => s.clone(),
                    _ => {
                        return Err(self.cache.field_error(
                            group_source,
                            field,
                            format!("a mapping entry in group `{group}` must have a `task` (name) or `group` key"),
                        ))
                    }
                };
                let mut merged = overrides.clone();
                merged.apply(&item_raw(m, None));
                if !self.entries.contains_key(&base) {
                    // An inline task defined inside the group, namespaced `group::task`.
                    let mut ov = merged;
                    ov.map
                        .insert("task".into(), RawValue::Str(format!("{group}::{base}")));
                    ov.origin.insert("task".into(), group_source.clone());
                    return Ok(vec![SelectionNode::Task(Box::new(self.build_task(
                        None,
                        Some(ov),
                        &RawConfig::default(),
                    )?))]);
                }
                (base, merged)
            }
            other => {
                return Err(self.cache.field_error(
                    group_source,
                    field,
                    format!(
                        "expected a task/group/tag name or a mapping, found {}",
                        other.type_name()
                    ),
                ))
            }
        };
        let entry = self.entries.get(&base).ok_or_else(|| {
            self.unknown(
                &base,
                Some(format!("group `{group}` ({})", group_source.display())),
            )
        })?;
        match entry.kind {
            EntryKind::Group => {
                let src = entry
                    .source
                    .clone()
                    .ok_or_else(|| self.unknown(&base, None))?;
                let raw = raw_of(self.cache.load(&src)?);
                Ok(vec![self.build_group(
                    &base,
                    raw,
                    Some(&src),
                    &item_overrides,
                    stack,
                )?])
            }
            EntryKind::Tag => entry
                .members
                .iter()
                .map(|m| {
                    self.build_named_task(m, &item_overrides, Some(group_source))
                        .map(|t| SelectionNode::Task(Box::new(t)))
                })
                .collect(),
            EntryKind::Task | EntryKind::PythonTask => Ok(vec![SelectionNode::Task(Box::new(
                self.build_named_task(&base, &item_overrides, Some(group_source))?,
            ))]),
        }
    }
}
