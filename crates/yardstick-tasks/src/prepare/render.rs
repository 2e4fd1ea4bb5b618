//! Evaluating the `doc_to_*` fields of one doc (lm-eval `doc_to_text` / `doc_to_target` /
//! `doc_to_choice` / `resolve_field` / `doc_to_prefix`), and compiling their templates up front.

use std::collections::HashSet;

use minijinja::value::Value as MjValue;
use serde_json::Value;
use yardstick_core::Doc;

use crate::config::{DocField, TaskConfig};
use crate::error::{Result, TaskError};
use crate::jinja::JinjaEnv;
use crate::pyvalue;
use crate::yaml::SourcePath;

pub(super) fn truthy_field(f: &Option<DocField>) -> bool {
    match f {
        None => false,
        Some(DocField::Text(s)) => !s.is_empty(),
        Some(DocField::Int(i)) => *i != 0,
        Some(DocField::List(l)) => !l.is_empty(),
        Some(DocField::Dict(d)) => !d.is_empty(),
        Some(DocField::Native(_)) => true,
    }
}

pub(super) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

pub(super) fn is_int(v: &Value) -> bool {
    matches!(v, Value::Bool(_)) || matches!(v, Value::Number(n) if n.is_i64() || n.is_u64())
}

pub(super) fn compile_templates(
    cfg: &TaskConfig,
    env: &mut JinjaEnv,
    features: &HashSet<String>,
) -> Result<()> {
    let fs = &cfg.fewshot_config;
    let mut fields: Vec<(&str, &str)> = vec![("description", cfg.description.as_str())];
    for (name, f) in [
        ("doc_to_text", &cfg.doc_to_text),
        ("doc_to_target", &cfg.doc_to_target),
        ("doc_to_choice", &cfg.doc_to_choice),
        ("fewshot_config.doc_to_text", &fs.doc_to_text),
        ("fewshot_config.doc_to_target", &fs.doc_to_target),
        ("fewshot_config.doc_to_choice", &fs.doc_to_choice),
    ] {
        if let Some(DocField::Text(t)) = f {
            fields.push((name, t));
        }
    }
    if let Some(g) = &cfg.gen_prefix {
        fields.push(("gen_prefix", g));
    }
    if let Some(g) = &fs.gen_prefix {
        fields.push(("fewshot_config.gen_prefix", g));
    }
    for (field, template) in fields {
        if features.contains(template) {
            continue;
        }
        env.compile(template)
            .map_err(|e| template_error(cfg, field, template, None, &e))?;
    }
    Ok(())
}

fn template_error(
    cfg: &TaskConfig,
    field: &str,
    template: &str,
    doc_id: Option<usize>,
    e: &minijinja::Error,
) -> TaskError {
    let top = field.split('.').next().unwrap_or(field);
    let path = cfg
        .field_origins
        .get(top)
        .map(SourcePath::display)
        .unwrap_or_else(|| cfg.config_source.clone());
    let mut message = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        message.push_str(&format!(": {s}"));
        src = s.source();
    }
    TaskError::Template {
        path,
        field: field.to_string(),
        template: template.to_string(),
        doc_id,
        message,
    }
}

/// Evaluates the `doc_to_*` fields of one task (reference §1.3).
pub(super) struct Renderer<'a> {
    pub(super) cfg: &'a TaskConfig,
    pub(super) env: &'a JinjaEnv,
    /// The eval split's columns (lm-eval `self.features`).
    pub(super) features: &'a HashSet<String>,
}

impl Renderer<'_> {
    fn render(&self, field: &str, template: &str, ctx: &MjValue, doc_id: usize) -> Result<String> {
        self.env
            .render_compiled(template, ctx)
            .map_err(|e| template_error(self.cfg, field, template, Some(doc_id), &e))
    }

    fn column(&self, doc: &Doc, field: &str, name: &str, doc_id: usize) -> Result<Value> {
        doc.get(name).cloned().ok_or_else(|| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("the doc has no column `{name}`"),
        })
    }

    fn native(
        &self,
        doc: &Doc,
        f: &crate::functions::BuiltinFunction,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        f.doc_to(doc).map_err(|m| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("`{}`: {m}", f.name),
        })
    }

    fn literal(&self, field: &str, rendered: &str, doc_id: usize) -> Result<Value> {
        pyvalue::literal_eval(rendered).map_err(|e| TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("ast.literal_eval of the rendered template failed: {e}"),
        })
    }

    fn unsupported(&self, field: &str, doc_id: usize, what: &str) -> TaskError {
        TaskError::Doc {
            task: self.cfg.task.clone(),
            doc_id,
            field: field.to_string(),
            message: format!("{what} is not supported here"),
        }
    }

    pub(super) fn doc_to_text(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        match f {
            None => Err(self.unsupported(field, doc_id, "a missing doc_to_text")),
            Some(DocField::Int(i)) => Ok(Value::from(*i)),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                if yardstick_core::python::text::isdigit(&s) && self.cfg.doc_to_choice.is_some() {
                    self.literal(field, &s, doc_id)
                } else {
                    Ok(Value::String(s))
                }
            }
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id),
            Some(DocField::List(_)) | Some(DocField::Dict(_)) => {
                Err(self.unsupported(field, doc_id, "a list or dict doc_to_text"))
            }
        }
    }

    pub(super) fn doc_to_target(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Value> {
        match f {
            None => Err(self.unsupported(field, doc_id, "a missing doc_to_target")),
            Some(DocField::Int(i)) => Ok(Value::from(*i)),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                if yardstick_core::python::text::isdigit(&s) && self.cfg.doc_to_choice.is_some() {
                    self.literal(field, &s, doc_id)
                } else if s.chars().count() >= 2 && s.starts_with('[') && s.ends_with(']') {
                    Ok(pyvalue::literal_eval(&s).unwrap_or(Value::String(s)))
                } else {
                    Ok(Value::String(s))
                }
            }
            Some(DocField::List(l)) => Ok(Value::Array(l.clone())),
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id),
            Some(DocField::Dict(_)) => Err(self.unsupported(field, doc_id, "a dict doc_to_target")),
        }
    }

    pub(super) fn doc_to_choice(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        f: Option<&DocField>,
        field: &str,
        doc_id: usize,
    ) -> Result<Vec<Value>> {
        let v = match f {
            None => return Err(self.unsupported(field, doc_id, "a missing doc_to_choice")),
            Some(DocField::Text(t)) if self.features.contains(t) => {
                self.column(doc, field, t, doc_id)?
            }
            Some(DocField::Text(t)) => {
                let s = self.render(field, t, ctx, doc_id)?;
                self.literal(field, &s, doc_id)?
            }
            Some(DocField::List(l)) => Value::Array(l.clone()),
            Some(DocField::Dict(d)) => Value::Array(d.values().cloned().collect()),
            Some(DocField::Native(n)) => self.native(doc, n, field, doc_id)?,
            Some(DocField::Int(_)) => {
                return Err(self.unsupported(field, doc_id, "an int doc_to_choice"))
            }
        };
        match v {
            Value::Array(items) => Ok(items),
            other => Err(TaskError::Doc {
                task: self.cfg.task.clone(),
                doc_id,
                field: field.to_string(),
                message: format!(
                    "doc_to_choice must return a list, got {}",
                    pyvalue::repr(&other)
                ),
            }),
        }
    }

    /// lm-eval `resolve_field`: nothing for an empty field, the doc's value if the field names one of
    /// this doc's keys, else the rendered template.
    pub(super) fn resolve_field_in_doc(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        field_value: Option<&String>,
        field: &str,
        doc_id: usize,
    ) -> Result<Option<String>> {
        match field_value {
            None => Ok(None),
            Some(f) if f.is_empty() => Ok(None),
            Some(f) => match doc.get(f) {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Ok(Some(pyvalue::to_str(other))),
                None => self.render(field, f, ctx, doc_id).map(Some),
            },
        }
    }

    /// lm-eval `doc_to_prefix`: the gen_prefix column (by the eval features) or rendered template.
    pub(super) fn doc_to_prefix(
        &self,
        doc: &Doc,
        ctx: &MjValue,
        doc_id: usize,
    ) -> Result<Option<String>> {
        match &self.cfg.gen_prefix {
            None => Ok(None),
            Some(g) if self.features.contains(g) => Ok(Some(pyvalue::to_str(&self.column(
                doc,
                "gen_prefix",
                g,
                doc_id,
            )?))),
            Some(g) if g.is_empty() => Ok(Some(String::new())),
            Some(g) => self.render("gen_prefix", g, ctx, doc_id).map(Some),
        }
    }
}
