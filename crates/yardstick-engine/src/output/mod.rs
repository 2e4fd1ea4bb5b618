//! lm-evaluation-harness-compatible output: `results_<date>.json` ([`results`]), `samples_<task>_<date>.jsonl`
//! ([`samples`]) and the terminal table ([`table`]), serialised byte for byte as lm-eval 0.4.13 writes
//! them ([`yardstick_core::python::json`] emulates CPython's `json.dumps`, [`pyrepr`] its `str()`/`repr()` and numpy's array
//! printing).

pub mod headline;
pub mod pyrepr;
pub mod results;
pub mod samples;
pub mod table;

pub use headline::headline;
pub use results::{
    build_results, compute_groups, config_block, write_lines, OutputError, OutputPaths, RunMeta,
    TaskOutput, YardstickMeta,
};
pub use samples::{
    doc_hash, prompt_hash, target_hash, FilteredResp, RequestArgTuple, Resp, SampleHashes,
    SampleRecord,
};
pub use table::make_table;
pub use yardstick_core::python::json::PyJson;
