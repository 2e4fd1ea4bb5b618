//! `yardstick import | models | gap | trend | rate`: the analysis commands. Each parses its options,
//! computes its report in `yardstick-analysis` and hands it to [`crate::output::emit`].

use crate::output::{
    emit, emit_text_or_json, fields_help, parse_date_arg, replicates, AttributionArgs, GroupArgs,
    IntervalArgs, OutputArgs, PlotArgs, RegistryArgs, StoreArgs,
};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use yardstick_analysis::gap::{gap_from_store, Estimand, GapOptions, GapTarget};
use yardstick_analysis::import_summary::ImportSummary;
use yardstick_analysis::models::{ModelDetail, ModelList, OrgList};
use yardstick_analysis::query::Query;
use yardstick_analysis::rate::{rate as rate_battles, read_battles, RateOptions};
use yardstick_analysis::trend::{trend_from_store, TrendOptions};

/// What fills a store the analysis commands read.
const FILL: &str = "yardstick import FILE…";

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files or directories (searched recursively) to import
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
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
    #[command(flatten)]
    pub attribution: AttributionArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct ModelsShowArgs {
    /// Model name (registry name, alias or Hugging Face id, or a name as imported)
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct ModelsOrgsArgs {
    /// Only organizations of this country (ISO code)
    #[arg(long)]
    pub country: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimandArg {
    /// Which of these models are better (item sampling / per-model error only)
    Roster,
    /// Are group-A models in general better (also resamples the models of each group)
    Population,
}

#[derive(Args, Debug)]
#[command(after_help = fields_help())]
pub struct GapArgs {
    #[command(flatten)]
    pub groups: GroupArgs,
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
    /// Only results from this source (epoch-hub, oll-v1, oll-v2, lmarena, lm-eval, yardstick)
    #[arg(long)]
    pub source: Option<String>,
    /// Per-item metric to use (default: the benchmark's usual metric)
    #[arg(long)]
    pub metric: Option<String>,
    /// Bootstrap replicates (100 to 1,000,000)
    #[arg(long, default_value_t = 10_000, value_parser = replicates::<100>())]
    pub replicates: usize,
    #[command(flatten)]
    pub interval: IntervalArgs,
    #[command(flatten)]
    pub plot: PlotArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
#[command(after_help = fields_help())]
pub struct TrendArgs {
    #[command(flatten)]
    pub groups: GroupArgs,
    /// ECI, a benchmark id (e.g. gpqa_diamond), or arena-elo (also arena-elo-vision, arena-elo-image)
    #[arg(long)]
    pub metric: String,
    /// First day of the series (frontiers still include earlier models)
    #[arg(long, value_parser = parse_date_arg)]
    pub since: Option<NaiveDate>,
    /// Last day of the series (default: the latest release or snapshot)
    #[arg(long, value_parser = parse_date_arg)]
    pub until: Option<NaiveDate>,
    /// Only results from this source
    #[arg(long)]
    pub source: Option<String>,
    /// Bootstrap replicates for the frontier-gap band (0 to 1,000,000)
    #[arg(long, default_value_t = 1000, value_parser = replicates::<0>())]
    pub replicates: usize,
    #[command(flatten)]
    pub interval: IntervalArgs,
    #[command(flatten)]
    pub plot: PlotArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct RateArgs {
    /// Battles: JSON array or JSON Lines with model_a, model_b, winner (model_a | model_b | tie | tie (bothbad))
    #[arg(long)]
    pub battles: PathBuf,
    /// Bootstrap intervals with this many replicates (2 to 1,000,000) instead of sandwich intervals
    #[arg(long, value_parser = replicates::<2>())]
    pub bootstrap: Option<usize>,
    /// Ridge penalty λ/2·Σθ² on the log-strengths: keeps ratings finite when a model wins or loses all its
    /// battles (0: the plain maximum-likelihood fit)
    #[arg(long, default_value_t = 0.0, value_parser = parse_ridge)]
    pub ridge: f64,
    #[command(flatten)]
    pub interval: IntervalArgs,
    #[command(flatten)]
    pub plot: PlotArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_ridge(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("must be a number ≥ 0 (e.g. 0.01); got {s}")),
    }
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let reg = args.registry.load()?;
    let store = args.store.open_for_writing()?;
    let summary = ImportSummary::run(&store, &reg, &args.paths, args.show_unattributed)?;
    emit_text_or_json(&summary, args.output)?;
    Ok(ExitCode::SUCCESS)
}

pub fn models(cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelsCommand::List(a) => {
            let reg = a.registry.load()?;
            let query = match &a.query {
                Some(q) => Query::parse(q)?,
                None => Query::all(),
            };
            let store = match a.observed {
                true => Some(a.store.open_read_only(FILL)?),
                false => None,
            };
            let list = ModelList::load(
                &reg,
                &query,
                a.attribution.attribution.into(),
                store.as_ref(),
            )?;
            emit_text_or_json(&list, a.output)?;
        }
        ModelsCommand::Show(a) => {
            let reg = a.registry.load()?;
            let store = match a.store.exists() {
                true => Some(a.store.open_read_only(FILL)?),
                false => None,
            };
            let detail = ModelDetail::load(&reg, &a.name, store.as_ref())?;
            emit_text_or_json(&detail, a.output)?;
        }
        ModelsCommand::Orgs(a) => {
            let reg = a.registry.load()?;
            let orgs = OrgList::load(&reg, a.country.as_deref())?;
            emit_text_or_json(&orgs, a.output)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gap(a: GapArgs) -> anyhow::Result<ExitCode> {
    a.plot.check()?;
    let reg = a.registry.load()?;
    let store = a.store.open_read_only(FILL)?;
    let opts = GapOptions {
        target: GapTarget::from_args(a.dimension.as_deref(), &a.benchmark)?,
        groups: a.groups.spec(a.as_of),
        estimand: match a.estimand {
            EstimandArg::Roster => Estimand::Roster,
            EstimandArg::Population => Estimand::Population,
        },
        source: a.source,
        metric: a.metric,
        replicates: a.replicates,
        seed: a.interval.seed,
        level: a.interval.level,
    };
    let report = gap_from_store(&store, &reg, &opts)?;
    emit(&report, a.output, &a.plot)?;
    Ok(ExitCode::SUCCESS)
}

pub fn trend(a: TrendArgs) -> anyhow::Result<ExitCode> {
    a.plot.check()?;
    let reg = a.registry.load()?;
    let store = a.store.open_read_only(FILL)?;
    let opts = TrendOptions {
        groups: a.groups.spec(None),
        metric: a.metric,
        since: a.since,
        until: a.until,
        source: a.source,
        replicates: a.replicates,
        seed: a.interval.seed,
        level: a.interval.level,
    };
    let report = trend_from_store(&store, &reg, &opts)?;
    emit(&report, a.output, &a.plot)?;
    Ok(ExitCode::SUCCESS)
}

pub fn rate(a: RateArgs) -> anyhow::Result<ExitCode> {
    a.plot.check()?;
    let reg = a.registry.load()?;
    let set = read_battles(&a.battles)?;
    let opts = RateOptions {
        bootstrap: a.bootstrap,
        seed: a.interval.seed,
        level: a.interval.level,
        ridge: a.ridge,
    };
    let report = rate_battles(&reg, &set, &a.battles.display().to_string(), &opts)?;
    emit(&report, a.output, &a.plot)?;
    Ok(ExitCode::SUCCESS)
}
