//! The task definitions shipped inside the binary (`crates/yardstick-tasks/tasks/`): lm-eval 0.4.13's
//! `mmlu`, `cmmlu`, `ceval-valid`, `truthfulqa_mc1`/`_mc2`, `arc_easy`/`arc_challenge`, `hellaswag`
//! and `mmlu_pro`, with the same names, fields, descriptions and versions. Their `!function`
//! references resolve to the native ports in [`crate::functions`].

mod files {
    include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));
}

/// Every built-in file: (path relative to the built-in task directory, text).
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// The text of one built-in file.
pub fn file(rel: &str) -> Option<&'static str> {
    files::FILES
        .iter()
        .find(|(p, _)| *p == rel)
        .map(|(_, t)| *t)
}

/// The built-in files the index scans (lm-eval indexes `**/*.yaml`; extension-less templates are only
/// reachable through `include`).
pub fn indexed_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    files::FILES
        .iter()
        .copied()
        .filter(|(p, _)| p.ends_with(".yaml"))
}
