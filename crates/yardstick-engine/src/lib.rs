//! Run planning, dispatch through the ledger, and scoring.

pub mod ledger_writer;
pub mod evaluate;
pub mod schedule;
pub mod output;
pub mod scoring;
