pub mod analysis;
pub mod native;
pub mod plan;
pub mod plan_emit;
pub mod plan_watch;
pub mod run;
pub mod runs;
pub mod store;
pub mod tasks;
pub mod tokenizer;
pub mod web;

/// A count given on the command line that may be 0 but not negative (`--num-fewshot`): clap is told to
/// accept `-1` as a value (not take it for a flag) so that this can say what is wrong with it.
pub fn non_negative(s: &str) -> Result<usize, String> {
    let t = s.trim();
    match t.parse::<i128>() {
        Ok(n) if n < 0 => Err(format!(
            "{t} is negative: it must be 0 or more (0 = no examples; leave the flag out for each task's own number)"
        )),
        Ok(n) => usize::try_from(n).map_err(|_| format!("{t} is too large")),
        Err(_) => Err(format!("{t:?} is not a whole number: it must be 0 or more")),
    }
}
