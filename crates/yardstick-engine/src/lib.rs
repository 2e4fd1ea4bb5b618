//! Run planning, dispatch through the ledger, and scoring.

pub mod evaluate;
pub mod ledger_writer;
pub mod output;
pub mod schedule;
pub mod scoring;
