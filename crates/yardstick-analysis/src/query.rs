//! Group queries over models: `country=CN`, `org=deepseek-ai`, `open_weights`, `params<40`,
//! `released>=2024-01`, combined with `&`. A condition on a value a model does not have (unknown parameter
//! count, unknown release date) is false for that model.

use crate::attribution::AttributionMode;
use crate::country::{country_code, known_codes, parse_period};
use crate::dataset::ModelInfo;
use crate::error::{AnalysisError, Result};
use crate::registry::Registry;
use chrono::NaiveDate;
use serde::Serialize;

/// Fields a query can test, with what they mean (shown in errors and `--help`).
pub const FIELDS: &[(&str, &str)] = &[
    ("country", "developer's country (ISO code or name; a list a,b means any of them); follows --attribution"),
    ("org", "developer: registry id, name, alias or Hugging Face org; follows --attribution"),
    ("model", "model name (exact, case-insensitive; model~text for a substring)"),
    ("family", "model family from the registry"),
    ("source", "where the result comes from: epoch-hub, oll-v1, oll-v2, lmarena, lm-eval, yardstick"),
    ("open_weights", "weights are downloadable (flag: open_weights, !open_weights, open_weights=false)"),
    ("official", "published by its developer, not a community fine-tune (flag)"),
    ("derived", "a fine-tune or merge with a known base model (flag)"),
    ("params", "total parameters in billions (<, <=, >, >=, =)"),
    ("active_params", "active parameters in billions (total for dense models)"),
    ("released", "release date: YYYY, YYYY-MM or YYYY-MM-DD with =, <, <=, >, >="),
    ("license", "licence identifier (license~text for a substring)"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
enum Cond {
    Country {
        codes: Vec<String>,
        negate: bool,
    },
    Org {
        values: Vec<String>,
        negate: bool,
    },
    Text {
        field: &'static str,
        op: Op,
        values: Vec<String>,
    },
    Flag {
        field: &'static str,
        value: bool,
    },
    Number {
        field: &'static str,
        op: Op,
        value: f64,
    },
    Released {
        op: Op,
        first: NaiveDate,
        last: NaiveDate,
    },
}

/// A parsed group query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    pub text: String,
    #[serde(skip)]
    conds: Vec<Cond>,
}

fn field_names() -> String {
    FIELDS
        .iter()
        .map(|(f, _)| *f)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Query {
    /// Parse a query. Errors name the offending term and list the valid fields.
    pub fn parse(text: &str) -> Result<Query> {
        let err = |message: String| AnalysisError::Query {
            query: text.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(err(format!(
                "empty query; write conditions such as country=CN & open_weights (fields: {})",
                field_names()
            )));
        }
        let mut conds = Vec::new();
        for term in text.split('&').map(str::trim) {
            if term.is_empty() {
                return Err(err("empty condition between '&'".into()));
            }
            conds.push(parse_term(term).map_err(err)?);
        }
        Ok(Query {
            text: text.trim().to_string(),
            conds,
        })
    }

    /// A query matching every model.
    pub fn all() -> Query {
        Query {
            text: "(all)".into(),
            conds: Vec::new(),
        }
    }

    /// Does the model satisfy every condition (organization/country under `mode`)?
    pub fn matches(&self, registry: &Registry, m: &ModelInfo, mode: AttributionMode) -> bool {
        self.conds
            .iter()
            .all(|c| cond_matches(c, registry, m, mode))
    }
}

fn split_op(term: &str) -> Option<(&str, Op, &str)> {
    // Longest operators first.
    for (tok, op) in [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("~", Op::Contains),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if let Some(i) = term.find(tok) {
            return Some((term[..i].trim(), op, term[i + tok.len()..].trim()));
        }
    }
    None
}

fn canonical_field(name: &str) -> std::result::Result<&'static str, String> {
    let n = name.trim().to_lowercase().replace('-', "_");
    let alias = match n.as_str() {
        "origin" | "country_code" => "country",
        "organization" | "developer" => "org",
        "name" => "model",
        "open" | "openweights" => "open_weights",
        "params_b" | "size" => "params",
        "active" | "active_params_b" => "active_params",
        "release" | "release_date" | "date" => "released",
        "licence" => "license",
        other => other,
    };
    if let Some((f, _)) = FIELDS.iter().find(|(f, _)| *f == alias) {
        return Ok(f);
    }
    let suggestion = FIELDS
        .iter()
        .map(|(f, _)| (*f, strsim::jaro_winkler(f, &n)))
        .filter(|(_, s)| *s > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(f, _)| format!(" (did you mean '{f}'?)"))
        .unwrap_or_default();
    Err(format!(
        "unknown field '{name}'{suggestion}; valid fields: {}",
        field_names()
    ))
}

fn parse_bool(field: &str, v: &str) -> std::result::Result<bool, String> {
    match v.to_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(format!("{field}: expected true or false, got '{v}'")),
    }
}

fn parse_term(term: &str) -> std::result::Result<Cond, String> {
    let Some((name, op, value)) = split_op(term) else {
        // A bare flag: `open_weights` or `!open_weights`.
        let (negate, name) = match term.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, term),
        };
        let field = canonical_field(name)?;
        return match field {
            "open_weights" | "official" | "derived" => Ok(Cond::Flag {
                field,
                value: !negate,
            }),
            other => Err(format!(
                "'{term}': {other} needs a value, e.g. {}",
                example(other)
            )),
        };
    };
    if name.is_empty() {
        return Err(format!("'{term}': missing field name before the operator"));
    }
    let field = canonical_field(name)?;
    if value.is_empty() {
        return Err(format!(
            "'{term}': missing value after the operator, e.g. {}",
            example(field)
        ));
    }
    let list = || {
        value
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
    };
    match field {
        "country" => {
            let negate = match op {
                Op::Eq => false,
                Op::Ne => true,
                _ => return Err(format!("'{term}': country takes = or !=")),
            };
            let mut codes = Vec::new();
            for v in list() {
                let c = country_code(&v).ok_or_else(|| {
                    format!("'{term}': unknown country '{v}'; use an ISO 3166-1 alpha-2 code such as {}", known_codes().join(", "))
                })?;
                codes.push(c.to_string());
            }
            Ok(Cond::Country { codes, negate })
        }
        "org" => match op {
            Op::Eq | Op::Ne => Ok(Cond::Org {
                values: list().into_iter().map(|v| v.to_lowercase()).collect(),
                negate: op == Op::Ne,
            }),
            _ => Err(format!("'{term}': org takes = or !=")),
        },
        "model" | "family" | "source" | "license" => match op {
            Op::Eq | Op::Ne | Op::Contains => Ok(Cond::Text {
                field,
                op,
                values: list().into_iter().map(|v| v.to_lowercase()).collect(),
            }),
            _ => Err(format!("'{term}': {field} takes =, != or ~")),
        },
        "open_weights" | "official" | "derived" => match op {
            Op::Eq => Ok(Cond::Flag {
                field,
                value: parse_bool(field, value)?,
            }),
            Op::Ne => Ok(Cond::Flag {
                field,
                value: !parse_bool(field, value)?,
            }),
            _ => Err(format!(
                "'{term}': {field} is a flag; write {field}, !{field} or {field}=false"
            )),
        },
        "params" | "active_params" => {
            if op == Op::Contains {
                return Err(format!("'{term}': {field} takes =, !=, <, <=, > or >="));
            }
            let v = value.trim_end_matches(['b', 'B']).trim();
            let n: f64 = v.parse().ok().filter(|x: &f64| x.is_finite() && *x >= 0.0).ok_or_else(|| {
                format!("'{term}': '{value}' is not a number of billions of parameters (e.g. {field}<40)")
            })?;
            Ok(Cond::Number {
                field,
                op,
                value: n,
            })
        }
        "released" => {
            if op == Op::Contains {
                return Err(format!("'{term}': released takes =, !=, <, <=, > or >="));
            }
            let (first, last) = parse_period(value).ok_or_else(|| {
                format!("'{term}': cannot parse date '{value}'; write YYYY, YYYY-MM or YYYY-MM-DD")
            })?;
            Ok(Cond::Released { op, first, last })
        }
        other => Err(format!("'{term}': field {other} is not supported here")),
    }
}

fn example(field: &str) -> &'static str {
    match field {
        "country" => "country=CN",
        "org" => "org=deepseek-ai",
        "params" => "params<40",
        "active_params" => "active_params<=20",
        "released" => "released>=2024-01",
        "source" => "source=oll-v2",
        _ => "model~qwen",
    }
}

fn cmp_num(op: Op, x: f64, v: f64) -> bool {
    match op {
        Op::Eq => x == v,
        Op::Ne => x != v,
        Op::Lt => x < v,
        Op::Le => x <= v,
        Op::Gt => x > v,
        Op::Ge => x >= v,
        Op::Contains => false,
    }
}

fn cond_matches(c: &Cond, registry: &Registry, m: &ModelInfo, mode: AttributionMode) -> bool {
    let dev = m.attributed(mode);
    match c {
        Cond::Country { codes, negate } => match &dev.country {
            Some(cc) => codes.iter().any(|c| c == cc) != *negate,
            None => false,
        },
        Cond::Org { values, negate } => {
            let Some(org) = &dev.org else { return false };
            let hit = values.iter().any(|v| {
                if dev.in_registry {
                    registry.org(org).is_some_and(|o| {
                        o.id.to_lowercase() == *v
                            || o.name.to_lowercase() == *v
                            || o.aliases.iter().any(|a| a.to_lowercase() == *v)
                            || o.hf.iter().any(|h| h.to_lowercase() == *v)
                    }) || registry
                        .org_by_name(v)
                        .is_some_and(|o| o.parent.as_deref() == Some(org.as_str()))
                } else {
                    org.to_lowercase() == *v
                }
            });
            hit != *negate
        }
        Cond::Text { field, op, values } => {
            let value = match *field {
                "model" => Some(m.name.to_lowercase()),
                "family" => m.family.as_ref().map(|f| f.to_lowercase()),
                "source" => Some(m.source.to_lowercase()),
                "license" => m.license.as_ref().map(|l| l.to_lowercase()),
                _ => None,
            };
            let Some(value) = value else { return false };
            match op {
                Op::Eq => values.contains(&value),
                Op::Ne => values.iter().all(|v| *v != value),
                Op::Contains => values.iter().any(|v| value.contains(v.as_str())),
                _ => false,
            }
        }
        Cond::Flag { field, value } => {
            let actual = match *field {
                "open_weights" => m.open_weights,
                "official" => m.official,
                "derived" => Some(m.is_derived()),
                _ => None,
            };
            actual == Some(*value)
        }
        Cond::Number { field, op, value } => {
            let x = match *field {
                "params" => m.params_b,
                _ => m.active_params_b.or(m.params_b),
            };
            x.is_some_and(|x| cmp_num(*op, x, *value))
        }
        Cond::Released { op, first, last } => {
            let Some(d) = m.release_date else {
                return false;
            };
            match op {
                Op::Eq => d >= *first && d <= *last,
                Op::Ne => d < *first || d > *last,
                Op::Lt => d < *first,
                Op::Le => d <= *last,
                Op::Gt => d > *last,
                Op::Ge => d >= *first,
                Op::Contains => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use yardstick_store::observations::ModelRow;

    fn data() -> (Registry, Dataset) {
        let r = Registry::builtin().unwrap();
        let rows = vec![
            ModelRow {
                source: "oll-v2".into(),
                model: "Qwen/Qwen2.5-7B-Instruct".into(),
                params_b: Some(7.6),
                open_weights: Some(true),
                official: Some(true),
                release_date: Some("2024-09-19".into()),
                ..Default::default()
            },
            ModelRow {
                source: "oll-v2".into(),
                model: "meta-llama/Llama-3.1-70B-Instruct".into(),
                params_b: Some(70.6),
                open_weights: Some(true),
                official: Some(true),
                ..Default::default()
            },
            ModelRow {
                source: "oll-v2".into(),
                model: "user/qwen-tune".into(),
                base_model: Some("Qwen/Qwen2.5-7B-Instruct".into()),
                params_b: Some(7.6),
                official: Some(false),
                ..Default::default()
            },
            ModelRow {
                source: "epoch-hub".into(),
                model: "deepseek-v3".into(),
                organization: Some("DeepSeek".into()),
                country: Some("China".into()),
                release_date: Some("2024-12-26".into()),
                ..Default::default()
            },
        ];
        let d = Dataset::from_rows(&r, rows, vec![]);
        (r, d)
    }

    fn names(q: &str, mode: AttributionMode) -> Vec<String> {
        let (r, d) = data();
        let q = Query::parse(q).unwrap();
        d.models
            .iter()
            .filter(|m| q.matches(&r, m, mode))
            .map(|m| m.name.clone())
            .collect()
    }

    #[test]
    fn conditions() {
        use AttributionMode::*;
        assert_eq!(
            names("country=CN", Developer),
            vec!["Qwen/Qwen2.5-7B-Instruct", "deepseek-v3"]
        );
        assert_eq!(
            names("country=CN", Base),
            vec!["Qwen/Qwen2.5-7B-Instruct", "user/qwen-tune", "deepseek-v3"]
        );
        assert_eq!(
            names("country=CN & params<40", Developer),
            vec!["Qwen/Qwen2.5-7B-Instruct"]
        );
        assert_eq!(names("org=deepseek-ai", Developer), vec!["deepseek-v3"]);
        assert_eq!(
            names("org=Meta AI", Developer),
            vec!["meta-llama/Llama-3.1-70B-Instruct"]
        );
        assert_eq!(
            names("country=US,CN & released>=2024-10", Developer),
            vec!["deepseek-v3"]
        );
        // The registry supplies Llama 3.1's release date.
        assert_eq!(
            names("released=2024-07", Developer),
            vec!["meta-llama/Llama-3.1-70B-Instruct"]
        );
        assert_eq!(
            names("!official & derived", Developer),
            vec!["user/qwen-tune"]
        );
        // The registry supplies DeepSeek-V3's size (671B) and open weights.
        assert_eq!(
            names("open_weights & params>=70", Developer),
            vec!["meta-llama/Llama-3.1-70B-Instruct", "deepseek-v3"]
        );
        assert_eq!(
            names("active_params<40 & params>100", Developer),
            vec!["deepseek-v3"]
        );
        assert_eq!(names("model~tune", Developer), vec!["user/qwen-tune"]);
        assert_eq!(
            names("country!=CN", Developer),
            vec!["meta-llama/Llama-3.1-70B-Instruct"]
        );
    }

    #[test]
    fn errors_are_clear() {
        let e = Query::parse("contry=CN").unwrap_err().to_string();
        assert!(
            e.contains("unknown field 'contry'")
                && e.contains("did you mean 'country'")
                && e.contains("released"),
            "{e}"
        );
        let e = Query::parse("country=Atlantis").unwrap_err().to_string();
        assert!(e.contains("unknown country 'Atlantis'"), "{e}");
        let e = Query::parse("params<forty").unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        let e = Query::parse("released>=2024-13").unwrap_err().to_string();
        assert!(e.contains("cannot parse date '2024-13'"), "{e}");
        assert!(Query::parse("country=CN &").is_err());
        assert!(Query::parse("open_weights=maybe")
            .unwrap_err()
            .to_string()
            .contains("true or false"));
        assert!(Query::parse("country<CN")
            .unwrap_err()
            .to_string()
            .contains("= or !="));
    }
}
