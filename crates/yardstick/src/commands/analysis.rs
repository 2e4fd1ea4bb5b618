//! `yardstick import | models | gap | trend | rate`: the analysis commands (thin wiring over
//! `yardstick-analysis`).

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::catalog::Dimension;
use yardstick_analysis::dataset::Dataset;
use yardstick_analysis::gap::{Estimand, GapOptions, GapTarget};
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::query::{Query, FIELDS};
use yardstick_analysis::registry::Registry;
use yardstick_analysis::trend::TrendOptions;
use yardstick_analysis::{
    gap as gapmod, import as importmod, items, plot, rate as ratemod, trend as trendmod,
};
use yardstick_store::Store;

/// Options every analysis command shares.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// The store (SQLite file)
    #[arg(long, env = "YARDSTICK_STORE", default_value = "yardstick.db")]
    pub store: PathBuf,
    /// A model registry TOML merged over the built-in one (organizations, countries, models)
    #[arg(long, env = "YARDSTICK_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files or directories (searched recursively) to import
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// List every row that could not be attributed to an organization/country
    #[arg(long)]
    pub show_unattributed: bool,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Models of the registry (and, with --observed, those found in imported data), filtered by a query
    List(ModelsListArgs),
    /// Everything known about one model: registry entry, imported facts, attribution
    Show(ModelsShowArgs),
    /// Organizations of the registry with their country, aliases and Hugging Face ids
    Orgs(ModelsOrgsArgs),
}

#[derive(Args, Debug)]
pub struct ModelsListArgs {
    /// A group query, e.g. "country=CN & open_weights & params<40"
    pub query: Option<String>,
    /// Also list models discovered in the store's imported data
    #[arg(long)]
    pub observed: bool,
    #[arg(long, value_enum, default_value_t = AttributionArg::Developer)]
    pub attribution: AttributionArg,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct ModelsShowArgs {
    /// Model name (registry name, alias or Hugging Face id, or a name as imported)
    pub name: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct ModelsOrgsArgs {
    /// Only organizations of this country (ISO code)
    #[arg(long)]
    pub country: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributionArg {
    /// The organization that published the model
    Developer,
    /// The developer of the base model at the root of a fine-tune's lineage
    Base,
}

impl From<AttributionArg> for AttributionMode {
    fn from(a: AttributionArg) -> Self {
        match a {
            AttributionArg::Developer => AttributionMode::Developer,
            AttributionArg::Base => AttributionMode::Base,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimandArg {
    /// Which of these models are better (item sampling / per-model error only)
    Roster,
    /// Are group-A models in general better (also resamples the models of each group)
    Population,
}

fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    yardstick_analysis::country::parse_date(s)
        .ok_or_else(|| format!("cannot parse date '{s}'; write YYYY-MM-DD (or YYYY-MM)"))
}

fn parse_query(s: &str) -> Result<Query, String> {
    Query::parse(s).map_err(|e| e.to_string())
}

fn fields_help() -> String {
    FIELDS
        .iter()
        .map(|(f, d)| format!("  {f:<14} {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Args, Debug)]
#[command(after_help = format!("Query fields (combine with &):\n{}", fields_help()))]
pub struct GapArgs {
    /// Group A, e.g. "country=US"
    #[arg(long, value_parser = parse_query)]
    pub between: Query,
    /// Group B, e.g. "country=CN & open_weights"
    #[arg(long = "and", value_parser = parse_query)]
    pub and: Query,
    /// One dimension (knowledge, reasoning, math, coding, chinese, instruction_following, truthfulness, overall)
    #[arg(long, conflicts_with = "benchmark")]
    pub dimension: Option<String>,
    /// Benchmark id(s), comma-separated (e.g. ifeval,bbh,math_lvl5,gpqa,musr,mmlu_pro), or `all`
    #[arg(long, value_delimiter = ',')]
    pub benchmark: Vec<String>,
    /// Only models released on or before this date (arena: the latest snapshot on or before it)
    #[arg(long, value_parser = parse_date_arg)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = EstimandArg::Population)]
    pub estimand: EstimandArg,
    #[arg(long, value_enum, default_value_t = AttributionArg::Developer)]
    pub attribution: AttributionArg,
    /// Only models published by their developer (Open LLM Leaderboard's official-provider flag)
    #[arg(long)]
    pub official_only: bool,
    /// Only results from this source (epoch-hub, oll-v1, oll-v2, lmarena, lm-eval, yardstick)
    #[arg(long)]
    pub source: Option<String>,
    /// Per-item metric to use (default: the benchmark's usual metric)
    #[arg(long)]
    pub metric: Option<String>,
    /// Bootstrap replicates
    #[arg(long, default_value_t = 10_000)]
    pub replicates: usize,
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
    /// Confidence level
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Write a forest plot (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
#[command(after_help = format!("Query fields (combine with &):\n{}", fields_help()))]
pub struct TrendArgs {
    /// Group A (the reference), e.g. "country=US"
    #[arg(long, value_parser = parse_query)]
    pub between: Query,
    /// Group B (whose lag behind A is measured), e.g. "country=CN"
    #[arg(long = "and", value_parser = parse_query)]
    pub and: Query,
    /// ECI, a benchmark id (e.g. gpqa_diamond), or arena-elo (also arena-elo-vision, arena-elo-image)
    #[arg(long)]
    pub metric: String,
    /// First day of the series (frontiers still include earlier models)
    #[arg(long, value_parser = parse_date_arg)]
    pub since: Option<NaiveDate>,
    /// Last day of the series (default: the latest release or snapshot)
    #[arg(long, value_parser = parse_date_arg)]
    pub until: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = AttributionArg::Developer)]
    pub attribution: AttributionArg,
    #[arg(long)]
    pub official_only: bool,
    /// Only results from this source
    #[arg(long)]
    pub source: Option<String>,
    /// Bootstrap replicates for the frontier-gap band
    #[arg(long, default_value_t = 1000)]
    pub replicates: usize,
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Write the frontiers, gap and lag plot (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct RateArgs {
    /// Battles: JSON array or JSON Lines with model_a, model_b, winner (model_a | model_b | tie | tie (bothbad))
    #[arg(long)]
    pub battles: PathBuf,
    /// Bootstrap intervals with this many replicates instead of sandwich intervals
    #[arg(long)]
    pub bootstrap: Option<usize>,
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Write a forest plot of the ratings (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// A model registry TOML merged over the built-in one
    #[arg(long, env = "YARDSTICK_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

fn registry(path: &Option<PathBuf>) -> anyhow::Result<Registry> {
    Ok(Registry::with_user_file(path.as_deref())?)
}

fn open_existing(path: &Path) -> anyhow::Result<Store> {
    if !path.exists() {
        bail!(
            "no store at {} — run `yardstick import FILE…` first, or pass --store PATH (env YARDSTICK_STORE)",
            path.display()
        );
    }
    Store::open(path).with_context(|| format!("opening store {}", path.display()))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn print_text(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    Ok(())
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&args.common.registry)?;
    let store = Store::open(&args.common.store)
        .with_context(|| format!("opening store {}", args.common.store.display()))?;
    let started = std::time::Instant::now();
    let report = importmod::import_paths(&store, &reg, &args.paths)?;
    if args.common.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    for f in &report.files {
        if f.imported {
            o.push_str(&format!(
                "imported {} ({}): {} rows, {} scores added{}, {} items added{}, {} new models, {} unattributed{}\n",
                f.path,
                f.format.name(),
                f.rows_read,
                f.scores_added,
                if f.scores_duplicate > 0 {
                    format!(" ({} already stored from another file)", f.scores_duplicate)
                } else {
                    String::new()
                },
                f.items_added,
                if f.items_duplicate > 0 { format!(" ({} already stored)", f.items_duplicate) } else { String::new() },
                f.models_added,
                f.unattributed_count,
                if f.rows_without_score > 0 {
                    format!(", {} rows without a score", f.rows_without_score)
                } else {
                    String::new()
                },
            ));
        } else {
            o.push_str(&format!(
                "already imported {} ({}) on {} as {} (same sha256 {}…): nothing added\n",
                f.path,
                f.format.name(),
                f.previously_imported_at.as_deref().unwrap_or("?"),
                f.previously_imported_as.as_deref().unwrap_or("?"),
                &f.sha256[..12]
            ));
        }
    }
    for s in &report.skipped {
        o.push_str(&format!("skipped {}: {}\n", s.path, s.reason));
    }
    if args.show_unattributed {
        for f in &report.files {
            for u in &f.unattributed {
                o.push_str(&format!(
                    "unattributed {}:{}  {}{}  — {}\n",
                    f.path,
                    u.line,
                    u.model,
                    u.organization
                        .as_ref()
                        .map(|x| format!(" (organization '{x}')"))
                        .unwrap_or_default(),
                    u.reason
                ));
            }
        }
    }
    let added: u64 = report.files.iter().map(|f| f.scores_added).sum();
    let items_added: u64 = report.files.iter().map(|f| f.items_added).sum();
    let imported = report.files.iter().filter(|f| f.imported).count();
    o.push_str(&format!(
        "{} file(s) imported, {} already present, {} skipped; {} scores and {} items added in {:.2} s\n",
        imported,
        report.files.len() - imported,
        report.skipped.len(),
        added,
        items_added,
        started.elapsed().as_secs_f64()
    ));
    o.push_str(&format!(
        "Unattributed rows (no organization/country under developer attribution): {}{}\n",
        report.unattributed_total(),
        if args.show_unattributed || report.unattributed_total() == 0 {
            String::new()
        } else {
            " — list them with --show-unattributed".into()
        }
    ));
    print_text(&o)?;
    Ok(ExitCode::SUCCESS)
}

pub fn models(cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelsCommand::List(a) => models_list(a),
        ModelsCommand::Show(a) => models_show(a),
        ModelsCommand::Orgs(a) => models_orgs(a),
    }
}

fn registry_rows(reg: &Registry) -> Vec<yardstick_store::observations::ModelRow> {
    reg.models
        .iter()
        .map(|m| yardstick_store::observations::ModelRow {
            source: "registry".into(),
            model: m.hf.clone().unwrap_or_else(|| m.name.clone()),
            release_date: m.released.map(|d| d.to_string()),
            params_b: m.params_b,
            active_params_b: m.active_params_b,
            open_weights: m.open_weights,
            license: m.license.clone(),
            base_model: m.base.clone(),
            official: Some(true),
            ..Default::default()
        })
        .collect()
}

fn models_list(a: ModelsListArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.common.registry)?;
    let query = match &a.query {
        Some(q) => Query::parse(q)?,
        None => Query::all(),
    };
    let mode: AttributionMode = a.attribution.into();
    let mut rows = registry_rows(&reg);
    let mut scores = Vec::new();
    if a.observed {
        let store = open_existing(&a.common.store)?;
        let d = Dataset::load(&store, &reg)?;
        scores = d.scores;
        rows.extend(yardstick_store::observations::load_models(&store)?);
    }
    let data = Dataset::from_rows(&reg, rows, scores);
    let matched: Vec<&yardstick_analysis::dataset::ModelInfo> = data
        .models
        .iter()
        .filter(|m| query.matches(&reg, m, mode))
        .collect();
    if a.common.json {
        print_json(&matched)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = format!(
        "{:<46} {:<10} {:<18} {:<7} {:<10} {:>8} {:>7} {:<5}\n",
        "model", "source", "org", "country", "released", "params", "active", "open"
    );
    for m in &matched {
        let dev = m.attributed(mode);
        o.push_str(&format!(
            "{:<46} {:<10} {:<18} {:<7} {:<10} {:>8} {:>7} {:<5}\n",
            gapmod::truncate(&m.name, 46),
            m.source,
            gapmod::truncate(dev.org.as_deref().unwrap_or("—"), 18),
            dev.country.as_deref().unwrap_or("—"),
            m.release_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".into()),
            m.params_b
                .map(|p| format!("{p}"))
                .unwrap_or_else(|| "—".into()),
            m.active_params_b
                .map(|p| format!("{p}"))
                .unwrap_or_else(|| "—".into()),
            match m.open_weights {
                Some(true) => "yes",
                Some(false) => "no",
                None => "—",
            }
        ));
    }
    o.push_str(&format!(
        "{} model(s) match '{}' (attribution: {}; registry {})\n",
        matched.len(),
        query.text,
        mode.id(),
        reg.version
    ));
    print_text(&o)?;
    Ok(ExitCode::SUCCESS)
}

fn models_show(a: ModelsShowArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.common.registry)?;
    let entry = reg.model(&a.name).cloned();
    let mut observed = Vec::new();
    if a.common.store.exists() {
        let store = Store::open(&a.common.store)?;
        let data = Dataset::load(&store, &reg)?;
        let key = yardstick_analysis::registry::norm_model(&a.name);
        for m in data.models.into_iter().filter(|m| {
            yardstick_analysis::registry::norm_model(&m.name) == key
                || entry
                    .as_ref()
                    .is_some_and(|e| m.registry_model.as_deref() == Some(e.name.as_str()))
        }) {
            let scores: Vec<_> = data
                .scores
                .iter()
                .filter(|s| s.source == m.source && s.model == m.name)
                .cloned()
                .collect();
            observed.push((m, scores));
        }
    }
    if entry.is_none() && observed.is_empty() {
        let where_ = if a.common.store.exists() {
            " or the store"
        } else {
            ""
        };
        bail!(
            "no model named '{}' in the registry{where_}; try `yardstick models list --observed \"model~{}\"`",
            a.name,
            a.name
        );
    }
    let org = entry.as_ref().and_then(|e| reg.org(&e.org)).cloned();
    if a.common.json {
        let obs: Vec<serde_json::Value> = observed
            .iter()
            .map(|(m, s)| {
                serde_json::json!({
                    "model": m,
                    "scores": s.iter().map(score_json).collect::<Vec<_>>()
                })
            })
            .collect();
        print_json(&serde_json::json!({"registry": entry, "organization": org, "observed": obs}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    if let Some(e) = &entry {
        o.push_str(&format!("{} (registry, {})\n", e.name, e.origin));
        if let Some(org) = &org {
            o.push_str(&format!(
                "  developer: {} [{}], {}  — source {}\n",
                org.name,
                org.id,
                Registry::country_label(&org.country),
                org.source
            ));
        }
        for (k, v) in [
            ("family", e.family.clone()),
            ("released", e.released.map(|d| d.to_string())),
            ("params (B)", e.params_b.map(|p| p.to_string())),
            (
                "active params (B)",
                e.active_params_b.map(|p| p.to_string()),
            ),
            ("open weights", e.open_weights.map(|b| b.to_string())),
            ("licence", e.license.clone()),
            ("base model", e.base.clone()),
            ("Hugging Face id", e.hf.clone()),
        ] {
            if let Some(v) = v {
                o.push_str(&format!("  {k}: {v}\n"));
            }
        }
        if !e.aliases.is_empty() {
            o.push_str(&format!("  aliases: {}\n", e.aliases.join(", ")));
        }
        o.push_str(&format!("  source: {}\n", e.source));
    }
    for (m, scores) in &observed {
        o.push_str(&format!("\n{} as imported from {}\n", m.name, m.source));
        for (mode, label) in [
            (AttributionMode::Developer, "developer"),
            (AttributionMode::Base, "base"),
        ] {
            let d = m.attributed(mode);
            o.push_str(&format!(
                "  attribution ({label}): {} / {} via {}\n",
                d.org_name.as_deref().unwrap_or("—"),
                d.country.as_deref().unwrap_or("—"),
                serde_json::to_string(&d.attribution).unwrap_or_default()
            ));
        }
        if m.lineage.chain.len() > 1 {
            o.push_str(&format!("  lineage: {}\n", m.lineage.chain.join(" → ")));
        }
        if let Some(d) = m.release_date {
            o.push_str(&format!(
                "  released: {d} ({})\n",
                m.release_basis.as_deref().unwrap_or("?")
            ));
        }
        for s in scores.iter().take(40) {
            o.push_str(&format!(
                "  {:<22} {:>10.4}{}{}\n",
                s.benchmark,
                s.score,
                s.stderr.map(|e| format!(" ± {e:.4}")).unwrap_or_default(),
                if s.snapshot.is_empty() {
                    String::new()
                } else {
                    format!("  (snapshot {})", s.snapshot)
                }
            ));
        }
        if scores.len() > 40 {
            o.push_str(&format!(
                "  … {} more scores (--json shows all)\n",
                scores.len() - 40
            ));
        }
    }
    print_text(&o)?;
    Ok(ExitCode::SUCCESS)
}

fn score_json(x: &yardstick_store::observations::ScoreRow) -> serde_json::Value {
    serde_json::json!({
        "benchmark": x.benchmark,
        "score": x.score,
        "stderr": x.stderr,
        "snapshot": x.snapshot,
        "variant": x.variant,
        "file_sha256": x.file_sha256,
        "row": x.row_number,
        "column": x.column_name,
    })
}

fn models_orgs(a: ModelsOrgsArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.common.registry)?;
    let want = match &a.country {
        Some(c) => Some(
            yardstick_analysis::country::country_code(c)
                .with_context(|| format!("unknown country '{c}'"))?,
        ),
        None => None,
    };
    let orgs: Vec<_> = reg
        .orgs
        .iter()
        .filter(|o| want.is_none_or(|w| o.country == w))
        .collect();
    if a.common.json {
        print_json(&orgs)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    for org in &orgs {
        o.push_str(&format!(
            "{:<18} {:<3} {:<42} hf: {:<32} aliases: {}\n",
            org.id,
            org.country,
            gapmod::truncate(&org.name, 42),
            org.hf.join(","),
            org.aliases.join(", ")
        ));
    }
    o.push_str(&format!(
        "{} organization(s); registry {}\n",
        orgs.len(),
        reg.version
    ));
    print_text(&o)?;
    Ok(ExitCode::SUCCESS)
}

pub fn gap(a: GapArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.common.registry)?;
    let store = open_existing(&a.common.store)?;
    let target = if let Some(d) = &a.dimension {
        GapTarget::Dimension(Dimension::parse(d).with_context(|| {
            format!(
                "unknown dimension '{d}'; choose one of {}",
                Dimension::ALL
                    .iter()
                    .map(|d| d.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?)
    } else if !a.benchmark.is_empty() {
        GapTarget::Benchmarks(
            a.benchmark
                .iter()
                .map(|b| b.trim().to_lowercase())
                .filter(|b| !b.is_empty())
                .collect(),
        )
    } else {
        GapTarget::AllDimensions
    };
    if !(a.level > 0.0 && a.level < 1.0) {
        bail!("--level must be between 0 and 1, got {}", a.level);
    }
    if a.replicates < 100 {
        bail!("--replicates must be at least 100, got {}", a.replicates);
    }
    let data = Dataset::load(&store, &reg)?;
    let wanted: Box<dyn Fn(&str) -> bool> = match &target {
        GapTarget::Benchmarks(list) if !list.iter().any(|b| b == "all") => {
            let list = list.clone();
            Box::new(move |b: &str| list.iter().any(|x| x == b))
        }
        GapTarget::Dimension(d) => {
            let ids: Vec<&str> = yardstick_analysis::catalog::benchmarks_of(*d)
                .iter()
                .map(|b| b.id)
                .collect();
            Box::new(move |b: &str| ids.contains(&b))
        }
        _ => Box::new(|_: &str| true),
    };
    let tables = items::load_item_tables(
        &store,
        a.source.as_deref(),
        wanted.as_ref(),
        a.metric.as_deref(),
    )?;
    let opts = GapOptions {
        groups: GroupSpec {
            a: a.between,
            b: a.and,
            attribution: a.attribution.into(),
            official_only: a.official_only,
            as_of: a.as_of,
        },
        target,
        estimand: match a.estimand {
            EstimandArg::Roster => Estimand::Roster,
            EstimandArg::Population => Estimand::Population,
        },
        source: a.source,
        metric: a.metric,
        replicates: a.replicates,
        seed: a.seed,
        level: a.level,
    };
    let report = gapmod::gap(&reg, &data, &tables, &opts)?;
    if let Some(p) = &a.plot {
        plot::plot_gap(p, &report)?;
    }
    if a.common.json {
        print_json(&report)?;
    } else {
        print_text(&report.render_text())?;
        if let Some(p) = &a.plot {
            print_text(&format!("plot written to {}\n", p.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn trend(a: TrendArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.common.registry)?;
    let store = open_existing(&a.common.store)?;
    if !(a.level > 0.0 && a.level < 1.0) {
        bail!("--level must be between 0 and 1, got {}", a.level);
    }
    if let (Some(s), Some(u)) = (a.since, a.until) {
        if u < s {
            bail!("--until {u} is before --since {s}");
        }
    }
    let data = Dataset::load(&store, &reg)?;
    let opts = TrendOptions {
        groups: GroupSpec {
            a: a.between,
            b: a.and,
            attribution: a.attribution.into(),
            official_only: a.official_only,
            as_of: None,
        },
        metric: a.metric,
        since: a.since,
        until: a.until,
        source: a.source,
        replicates: a.replicates,
        seed: a.seed,
        level: a.level,
    };
    if trendmod::is_arena_metric(&opts.metric) {
        let report = trendmod::arena_trend(&reg, &data, &opts)?;
        if let Some(p) = &a.plot {
            plot::plot_arena_trend(p, &report)?;
        }
        if a.common.json {
            print_json(&report)?;
        } else {
            print_text(&report.render_text())?;
        }
    } else {
        let report = trendmod::trend(&reg, &data, &opts)?;
        if let Some(p) = &a.plot {
            plot::plot_trend(p, &report)?;
        }
        if a.common.json {
            print_json(&report)?;
        } else {
            print_text(&report.render_text())?;
        }
    }
    if let (Some(p), false) = (&a.plot, a.common.json) {
        print_text(&format!("plot written to {}\n", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rate(a: RateArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&a.registry)?;
    if !(a.level > 0.0 && a.level < 1.0) {
        bail!("--level must be between 0 and 1, got {}", a.level);
    }
    let set = ratemod::read_battles(&a.battles)?;
    let report = ratemod::rate(
        &reg,
        &set,
        &a.battles.display().to_string(),
        a.bootstrap,
        a.seed,
        a.level,
    )?;
    if let Some(p) = &a.plot {
        plot::plot_ratings(p, &report)?;
    }
    if a.json {
        print_json(&report)?;
    } else {
        print_text(&report.render_text())?;
        if let Some(p) = &a.plot {
            print_text(&format!("plot written to {}\n", p.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
