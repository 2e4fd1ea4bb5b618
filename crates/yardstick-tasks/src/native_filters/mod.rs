//! The Python filter classes that built-in tasks name with `!function` inside a `filter_list` step: the
//! four classes of lm-eval 0.4.13's `bbh/zeroshot/utils.py` and `bbh/cot_zeroshot/utils.py` (the two
//! files are identical).
//!
//! A built-in YAML's `function: !function utils.MultiChoiceRegexFilter` resolves (through
//! [`crate::functions`]) to a [`FilterStep`](crate::FilterStep) whose `function` is the native name
//! (`bbh.MultiChoiceRegexFilter`); a user YAML can name it with `function: !builtin bbh.MultiChoiceRegexFilter`.
//! The filters themselves are implemented by the run engine's filter pipelines
//! (`yardstick_engine::scoring::filters`, checked against lm-eval's classes by its oracle test); this
//! crate only knows their names.
//!
//! | name | lm-eval class | what it does |
//! |---|---|---|
//! | `bbh.MultiChoiceRegexFilter` | `MultiChoiceRegexFilter` | `regex_pattern`, else a choice text of the doc's `(A) …` list, else `: X` → `(X)` |
//! | `bbh.MapRegexFilter` | `MapRegexFilter` | the first of `regex_pattern_to_value`'s patterns to match → its value |
//! | `bbh.NumberParseRegexFilter` | `NumberParseRegexFilter` | `regex_pattern`, else English number words → digits (`word2number`) |
//! | `bbh.WordSortFilter` | `WordSortFilter` | the doc's words in the order of their last mention |

/// Which filter class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeFilterKind {
    /// `MultiChoiceRegexFilter` (an `ExtendedRegexFilter`).
    BbhMultiChoiceRegex,
    /// `MapRegexFilter`.
    BbhMapRegex,
    /// `NumberParseRegexFilter`.
    BbhNumberParseRegex,
    /// `WordSortFilter`.
    BbhWordSort,
    /// `humaneval/utils.py::build_predictions` (a `custom` filter's `filter_fn`): each response prefixed
    /// with the doc's `prompt`, every response of the instance kept (a list).
    HumanevalBuildPredictions,
    /// `humaneval/utils.py::build_predictions_instruct`: as above, the response cut at its first
    /// code fence.
    HumanevalBuildPredictionsInstruct,
    /// `mbpp/utils.py::build_predictions`: the first fenced code block of each response (the response
    /// read as if it started with a fence), `""` when there is none.
    MbppBuildPredictions,
}

impl NativeFilterKind {
    /// Whether lm-eval's YAML names it as a `custom` step's `filter_fn` (a plain function) rather than as a
    /// filter class.
    pub fn is_custom_filter_fn(self) -> bool {
        matches!(
            self,
            NativeFilterKind::HumanevalBuildPredictions
                | NativeFilterKind::HumanevalBuildPredictionsInstruct
                | NativeFilterKind::MbppBuildPredictions
        )
    }
}
