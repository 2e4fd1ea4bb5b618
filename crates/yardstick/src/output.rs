//! The one output path of the reporting commands, and the options they share.
//!
//! A command computes a [`Report`] (in `yardstick-analysis`) and hands it to [`emit`] with its
//! [`OutputArgs`] and [`PlotArgs`]: JSON on stdout with `--json`, the text rendering otherwise, and the
//! chart with `--plot FILE`.

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::query::{Query, FIELDS};
use yardstick_analysis::registry::Registry;
use yardstick_analysis::{Report, MAX_REPLICATES};
use yardstick_store::Store;

/// `--store`: the store every command reads or writes — a SQLite file, or a PostgreSQL database.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// The store: a SQLite file, or a PostgreSQL database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    #[arg(long, env = "YARDSTICK_STORE", default_value = "yardstick.db")]
    pub store: String,
}

impl StoreArgs {
    /// Open the store for reading only; `fill` says which command fills a store, for the message when
    /// there is none.
    pub fn open_read_only(&self, fill: &str) -> anyhow::Result<Store> {
        if !self.exists() {
            bail!(
                "no store at {} — run `{fill}` first, or pass --store PATH (env YARDSTICK_STORE)",
                self.shown()
            );
        }
        // Every store error names the file (or the server, without the password).
        Ok(Store::open_location_read_only(&self.store)?)
    }

    /// Open (creating if needed) the store for writing.
    pub fn open_for_writing(&self) -> anyhow::Result<Store> {
        Store::open_location(&self.store).with_context(|| format!("opening store {}", self.shown()))
    }

    /// Whether the store may exist: a SQLite file that exists, or any PostgreSQL URL (opening it tells).
    pub fn exists(&self) -> bool {
        yardstick_store::is_postgres_url(&self.store) || std::path::Path::new(&self.store).exists()
    }

    /// The store as messages show it (a URL without its password).
    pub fn shown(&self) -> String {
        yardstick_store::display_location(&self.store)
    }
}

/// `--registry`: a model registry TOML merged over the built-in one.
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// A model registry TOML merged over the built-in one (organizations, countries, models)
    #[arg(long, env = "YARDSTICK_REGISTRY")]
    pub registry: Option<PathBuf>,
}

impl RegistryArgs {
    pub fn load(&self) -> anyhow::Result<Registry> {
        Ok(Registry::with_user_file(self.registry.as_deref())?)
    }
}

/// `--json`.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--plot FILE [--force]`.
#[derive(Args, Debug, Clone)]
pub struct PlotArgs {
    /// Write the chart (.svg or .png): a forest plot for gap and rate; frontiers, gap and lag for trend
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Overwrite an existing --plot file
    #[arg(long, requires = "plot")]
    pub force: bool,
}

impl PlotArgs {
    /// Checked before any work is done: a .svg or .png path in an existing directory, and no existing file
    /// unless --force.
    pub fn check(&self) -> anyhow::Result<()> {
        let Some(p) = &self.plot else {
            return Ok(());
        };
        yardstick_analysis::plot::check_path(p)?;
        if p.exists() && !self.force {
            bail!(
                "--plot {}: the file exists; pass --force to overwrite it, or choose another path",
                p.display()
            );
        }
        Ok(())
    }
}

pub fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    yardstick_analysis::country::parse_date(s)
        .ok_or_else(|| format!("cannot parse date '{s}'; write YYYY-MM-DD (or YYYY-MM)"))
}

fn parse_query(s: &str) -> Result<Query, String> {
    Query::parse(s).map_err(|e| e.to_string())
}

fn parse_level(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(l) if l > 0.0 && l < 1.0 => Ok(l),
        _ => Err(format!(
            "must be between 0 and 1 (exclusive), e.g. 0.95; got {s}"
        )),
    }
}

/// Bootstrap replicates: at least `MIN`, at most [`MAX_REPLICATES`].
pub fn replicates<const MIN: u64>() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(MIN..=MAX_REPLICATES as u64)
}

/// The query fields, for `--help`.
pub fn fields_help() -> String {
    let fields = FIELDS
        .iter()
        .map(|(f, d)| format!("  {f:<14} {d}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("Query fields (combine with &):\n{fields}")
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
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

/// `--attribution`.
#[derive(Args, Debug, Clone, Copy)]
pub struct AttributionArgs {
    /// Whom a model counts for
    #[arg(long, value_enum, default_value_t = AttributionArg::Developer)]
    pub attribution: AttributionArg,
}

/// The two groups compared: `--between A --and B` and how models are attributed to them.
#[derive(Args, Debug, Clone)]
pub struct GroupArgs {
    /// Group A (the reference), e.g. "country=US"
    #[arg(long, value_parser = parse_query)]
    pub between: Query,
    /// Group B, e.g. "country=CN & open_weights"
    #[arg(long = "and", value_parser = parse_query)]
    pub and: Query,
    #[command(flatten)]
    pub attribution: AttributionArgs,
    /// Only models published by their developer (Open LLM Leaderboard's official-provider flag)
    #[arg(long)]
    pub official_only: bool,
}

impl GroupArgs {
    pub fn spec(self, as_of: Option<NaiveDate>) -> GroupSpec {
        GroupSpec {
            a: self.between,
            b: self.and,
            attribution: self.attribution.attribution.into(),
            official_only: self.official_only,
            as_of,
        }
    }
}

/// `--seed` and `--level` of the intervals.
#[derive(Args, Debug, Clone, Copy)]
pub struct IntervalArgs {
    /// Seed of the bootstrap
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
    /// Confidence level
    #[arg(long, default_value_t = 0.95, value_parser = parse_level)]
    pub level: f64,
}

/// Print `report` as JSON or text on stdout, and write its chart when asked.
pub fn emit<R: Report>(report: &R, output: OutputArgs, plot: &PlotArgs) -> anyhow::Result<()> {
    if let Some(p) = &plot.plot {
        plot.check()?;
        report.plot(p)?;
    }
    let mut out = std::io::stdout().lock();
    if output.json {
        let mut text = serde_json::to_vec_pretty(report)?;
        text.push(b'\n');
        out.write_all(&text)?;
    } else {
        report.write_text(&mut out)?;
        if let Some(p) = &plot.plot {
            writeln!(out, "plot written to {}", p.display())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// [`emit`] for a report without a chart.
pub fn emit_text_or_json<R: Report>(report: &R, output: OutputArgs) -> anyhow::Result<()> {
    emit(
        report,
        output,
        &PlotArgs {
            plot: None,
            force: false,
        },
    )
}
