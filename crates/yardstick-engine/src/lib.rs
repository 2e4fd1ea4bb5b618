//! Run planning, dispatch through the ledger, and scoring. Knows the [`yardstick_backends::Backend`] trait and
//! the task format, never a particular backend or task.

pub mod ledger_writer;
pub mod output;
pub mod run;
pub mod schedule;
pub mod scoring;
pub mod workload;

pub use run::{evaluate, prepare, score_task, EvalError, EvalOptions, PreparedRun, RunOutcome};
