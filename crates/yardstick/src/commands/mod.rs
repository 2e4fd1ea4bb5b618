pub mod analysis;
pub mod run;
pub mod runs;
pub mod tasks;
pub mod tokenizer;
