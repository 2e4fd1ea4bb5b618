//! What an OpenAI-compatible backend sent: counters for progress lines, run summaries and benchmarks.

/// Counters of what the backend sent (for progress and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackendCounters {
    /// HTTP calls that returned a result (retries not counted).
    pub http_calls: u64,
    pub retries: u64,
    /// Single-token questions scored through the grouped path.
    pub grouped_questions: u64,
    /// Choices read from `top_logprobs` (beyond the one whose token was sent).
    pub grouped_choices_read: u64,
    /// Choices of grouped questions missing from the top-k, scored by their own request.
    pub grouped_fallbacks: u64,
    /// Choices read from `top_logprobs` by the server's token names and also scored by their own request
    /// to check those names (the first questions of a run without a local tokenizer).
    pub piece_checks: u64,
    /// Multiple-choice questions whose choices are single tokens (grouped or not).
    pub single_token_questions: u64,
}

impl std::ops::Add for BackendCounters {
    type Output = BackendCounters;

    /// The counters of two backends together (the endpoints of one model).
    fn add(self, o: BackendCounters) -> BackendCounters {
        BackendCounters {
            http_calls: self.http_calls + o.http_calls,
            retries: self.retries + o.retries,
            grouped_questions: self.grouped_questions + o.grouped_questions,
            grouped_choices_read: self.grouped_choices_read + o.grouped_choices_read,
            grouped_fallbacks: self.grouped_fallbacks + o.grouped_fallbacks,
            piece_checks: self.piece_checks + o.piece_checks,
            single_token_questions: self.single_token_questions + o.single_token_questions,
        }
    }
}
