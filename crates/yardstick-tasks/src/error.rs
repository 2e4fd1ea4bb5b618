//! Errors of the task layer. Every message says what was wrong, where (file:line:column and field,
//! template excerpt and doc id, dataset split) and, where there is one, what to do instead.

use crate::data::DataError;

/// Everything that can go wrong between a task YAML and the requests it produces.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The YAML text is not valid YAML (or not a mapping at the top level).
    #[error("{path}:{line}:{column}: malformed YAML{}: {message}", field_note(.field))]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        field: Option<String>,
        message: String,
    },

    /// A field has a value of the wrong type or an invalid value.
    #[error("{path}:{line}:{column}: field `{field}`: {message}")]
    Field {
        path: String,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },

    /// A file could not be read.
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },

    /// An `include` could not be followed.
    #[error("{path}: include `{include}`: {message}")]
    Include {
        path: String,
        include: String,
        message: String,
    },

    /// A requested name is not a task, group or tag.
    #[error("{}", unknown_task_message(.name, .suggestions, .context.as_deref(), .broken))]
    UnknownTask {
        name: String,
        suggestions: Vec<String>,
        /// Where the name was referenced (a group's file), if not on the command line.
        context: Option<String>,
        /// YAML files that could not be indexed (the task may be defined in one of them).
        broken: Vec<String>,
    },

    /// A `!function` tag (a Python function) in a user YAML.
    #[error(
        "{path}:{line}: `{field}: !function {function}`: Python functions are not supported; {suggestion}"
    )]
    PythonFunction {
        path: String,
        line: usize,
        field: String,
        function: String,
        suggestion: String,
    },

    /// A feature of lm-eval's YAML format Yardstick does not implement.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Unsupported {
        path: String,
        line: usize,
        field: String,
        message: String,
    },

    /// A Jinja template failed to compile or render.
    #[error("{}", template_message(.path, .field, .template, .doc_id, .message))]
    Template {
        path: String,
        field: String,
        template: String,
        doc_id: Option<usize>,
        message: String,
    },

    /// A document produced something lm-eval could not use (a non-string prompt, a gold index out of
    /// range for a few-shot answer, …).
    #[error("task `{task}`, doc {doc_id}: {field}: {message}")]
    Doc {
        task: String,
        doc_id: usize,
        field: String,
        message: String,
    },

    /// The task cannot be prepared as configured (no evaluation split, too few few-shot examples, …).
    #[error("task `{task}`: {message}")]
    Task { task: String, message: String },

    /// The same task was requested through two different groups (lm-eval refuses this too).
    #[error(
        "duplicate task `{name}`: found in both `{first}` and `{second}`; request only one of them"
    )]
    DuplicateTask {
        name: String,
        first: String,
        second: String,
    },

    /// Loading a dataset split failed.
    #[error("task `{task}`: split `{split}`: {source}")]
    Data {
        task: String,
        split: String,
        #[source]
        source: Box<DataError>,
    },
}

fn field_note(field: &Option<String>) -> String {
    match field {
        Some(f) => format!(" (in field `{f}`)"),
        None => String::new(),
    }
}

fn unknown_task_message(
    name: &str,
    suggestions: &[String],
    context: Option<&str>,
    broken: &[String],
) -> String {
    let mut s = match context {
        Some(c) => format!("unknown task, group or tag `{name}` (referenced in {c})"),
        None => format!("unknown task, group or tag `{name}`"),
    };
    if !suggestions.is_empty() {
        s.push_str(&format!(
            "; did you mean {}?",
            suggestions
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else {
        s.push_str("; run `yardstick tasks list` to see the available names");
    }
    if !broken.is_empty() {
        s.push_str(&format!(
            "\nnote: {} YAML file(s) could not be indexed and may define it:\n  {}",
            broken.len(),
            broken.join("\n  ")
        ));
    }
    s
}

fn template_message(
    path: &str,
    field: &str,
    template: &str,
    doc_id: &Option<usize>,
    message: &str,
) -> String {
    let excerpt: String = template.chars().take(120).collect();
    let ellipsis = if template.chars().count() > 120 {
        "…"
    } else {
        ""
    };
    match doc_id {
        Some(id) => format!("{path}: field `{field}`, doc {id}: template error: {message}\n  template: {excerpt:?}{ellipsis}"),
        None => format!("{path}: field `{field}`: template error: {message}\n  template: {excerpt:?}{ellipsis}"),
    }
}

pub type Result<T, E = TaskError> = std::result::Result<T, E>;
