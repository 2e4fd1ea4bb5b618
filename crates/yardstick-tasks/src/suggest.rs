//! "Did you mean" suggestions for unknown names.

/// Up to `n` names closest to `query`: names containing it (or contained in it) first, then by
/// Jaro–Winkler similarity above a threshold.
pub fn closest<'a>(query: &str, names: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<String> {
    let q = query.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let l = name.to_lowercase();
            let sim = strsim::jaro_winkler(&q, &l);
            let lev = strsim::normalized_damerau_levenshtein(&q, &l);
            let contains = q.len() >= 3 && l.contains(&q);
            let score = if contains { 1.0 + sim } else { sim.max(lev) };
            (score >= 0.8 || contains).then_some((score, name))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(b.1))
    });
    scored
        .into_iter()
        .take(n)
        .map(|(_, s)| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let names = [
            "mmlu",
            "mmlu_anatomy",
            "cmmlu",
            "hellaswag",
            "arc_easy",
            "arc_challenge",
        ];
        assert_eq!(closest("helaswag", names, 3), vec!["hellaswag"]);
        assert_eq!(closest("mmlu_anatomyy", names, 1), vec!["mmlu_anatomy"]);
        assert!(closest("zzzzzz", names, 3).is_empty());
        assert_eq!(closest("arc_chalenge", names, 1), vec!["arc_challenge"]);
    }
}
