//! The benchmark catalog: canonical benchmark ids, the versioned mapping benchmark → dimension, random
//! baselines for normalisation, item counts (for the binomial standard error of a score that comes without
//! one) and which lm-eval tasks and metrics belong to each benchmark.
//!
//! Normalisation (used only when benchmarks are combined into a dimension): (raw − b)/(1 − b) with b the
//! expected score of random guessing; not clipped at 0 (the clip biases low scores upward). For a benchmark
//! scored as one accuracy over subtasks with different numbers of choices (BBH, MuSR), b is the item-weighted
//! mean of the subtask baselines, i.e. the expected raw aggregate of a random guesser. Raw scores are what
//! per-benchmark gaps use.

use serde::Serialize;

/// Version of the benchmark → dimension mapping; printed with every dimension result.
pub const DIMENSIONS_VERSION: &str = "dimensions-2026.04.1";

/// Capability dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Overall,
    Knowledge,
    Reasoning,
    Math,
    Coding,
    Chinese,
    InstructionFollowing,
    Truthfulness,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Overall,
        Dimension::Knowledge,
        Dimension::Reasoning,
        Dimension::Math,
        Dimension::Coding,
        Dimension::Chinese,
        Dimension::InstructionFollowing,
        Dimension::Truthfulness,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Dimension::Overall => "overall",
            Dimension::Knowledge => "knowledge",
            Dimension::Reasoning => "reasoning",
            Dimension::Math => "math",
            Dimension::Coding => "coding",
            Dimension::Chinese => "chinese",
            Dimension::InstructionFollowing => "instruction_following",
            Dimension::Truthfulness => "truthfulness",
        }
    }

    /// Parse a dimension name (`instruction-following`, `if` and `instruction_following` all work).
    pub fn parse(s: &str) -> Option<Dimension> {
        let k = s.trim().to_lowercase().replace(['-', ' '], "_");
        match k.as_str() {
            "if" | "ifollow" => Some(Dimension::InstructionFollowing),
            "eci" => Some(Dimension::Overall),
            _ => Dimension::ALL.into_iter().find(|d| d.id() == k),
        }
    }
}

/// What the score of a benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// A proportion in [0, 1] (accuracy, pass rate).
    Proportion,
    /// An index or rating on its own scale (Epoch Capabilities Index, Elo).
    Index,
}

/// One subtask of a benchmark scored as a single accuracy: (name, items, answer choices; 0 = generative).
pub type Subtask = (&'static str, u32, u32);

/// BIG-Bench Hard: 27 tasks as published (Suzgun et al. 2022; 6,511 items, counts read from the task files in
/// `shared/data/benchmarks/bbh`); the Open LLM Leaderboard v2 uses the 24 multiple-choice tasks (5,761 items)
/// with the `num_choices` listed on huggingface.co/docs/leaderboards/open_llm_leaderboard/about.
pub const BBH_SUBTASKS: &[Subtask] = &[
    ("boolean_expressions", 250, 2),
    ("causal_judgement", 187, 2),
    ("date_understanding", 250, 6),
    ("disambiguation_qa", 250, 3),
    ("formal_fallacies", 250, 2),
    ("geometric_shapes", 250, 11),
    ("hyperbaton", 250, 2),
    ("logical_deduction_five_objects", 250, 5),
    ("logical_deduction_seven_objects", 250, 7),
    ("logical_deduction_three_objects", 250, 3),
    ("movie_recommendation", 250, 6),
    ("navigate", 250, 2),
    ("object_counting", 250, 19),
    ("penguins_in_a_table", 146, 5),
    ("reasoning_about_colored_objects", 250, 18),
    ("ruin_names", 250, 6),
    ("salient_translation_error_detection", 250, 6),
    ("snarks", 178, 2),
    ("sports_understanding", 250, 2),
    ("temporal_sequences", 250, 4),
    ("tracking_shuffled_objects_five_objects", 250, 5),
    ("tracking_shuffled_objects_seven_objects", 250, 7),
    ("tracking_shuffled_objects_three_objects", 250, 3),
    ("web_of_lies", 250, 2),
    // Generative in the original release; not part of the Open LLM Leaderboard's BBH.
    ("dyck_languages", 250, 0),
    ("multistep_arithmetic_two", 250, 0),
    ("word_sorting", 250, 0),
];

/// MuSR (Sprague et al. 2023) as run by the Open LLM Leaderboard: 250 murder mysteries (2 choices), 256 object
/// placements (5), 250 team allocations (3) = 756 items.
pub const MUSR_SUBTASKS: &[Subtask] = &[
    ("murder_mysteries", 250, 2),
    ("object_placements", 256, 5),
    ("team_allocation", 250, 3),
];

/// Expected raw score of random guessing over subtasks, weighted by items.
pub fn weighted_baseline(subtasks: &[Subtask]) -> f64 {
    let n: u32 = subtasks.iter().map(|s| s.1).sum();
    let expected: f64 = subtasks
        .iter()
        .map(|&(_, k, c)| if c > 0 { k as f64 / c as f64 } else { 0.0 })
        .sum();
    expected / n as f64
}

/// A benchmark in the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Benchmark {
    pub id: &'static str,
    pub name: &'static str,
    pub dimensions: &'static [Dimension],
    pub scale: Scale,
    /// Random-guess baseline for normalisation (Proportion benchmarks).
    pub baseline: f64,
    /// Items in the evaluated set, when fixed and known.
    pub items: Option<u32>,
    /// Where the item count and baseline come from.
    pub reference: &'static str,
    /// Per-item metric names to use, in order of preference.
    pub metrics: &'static [&'static str],
}

const fn bench(
    id: &'static str,
    name: &'static str,
    dimensions: &'static [Dimension],
    baseline: f64,
    items: Option<u32>,
    reference: &'static str,
    metrics: &'static [&'static str],
) -> Benchmark {
    Benchmark {
        id,
        name,
        dimensions,
        scale: Scale::Proportion,
        baseline,
        items,
        reference,
        metrics,
    }
}

use Dimension::*;

/// The catalog. Benchmarks not listed here are still imported and usable with `--benchmark ID`; they are
/// only absent from dimensions.
pub fn catalog() -> Vec<Benchmark> {
    vec![
        Benchmark {
            id: "eci",
            name: "Epoch Capabilities Index",
            dimensions: &[Overall],
            scale: Scale::Index,
            baseline: 0.0,
            items: None,
            reference: "epoch.ai/benchmarks (ECI); an index stitched from many benchmarks, no item count",
            metrics: &[],
        },
        bench("mmlu", "MMLU", &[Knowledge], 0.25, Some(14042), "Hendrycks et al. 2021, test split (57 subjects, 4 choices); shared/data/benchmarks/mmlu", &["acc"]),
        bench("mmlu_pro", "MMLU-Pro", &[Knowledge], 0.1, Some(12032), "Wang et al. 2024 (arXiv:2406.01574), test split, 10 choices; OLL num_choices=10", &["acc"]),
        bench("cmmlu", "CMMLU", &[Knowledge, Chinese], 0.25, Some(11582), "Li et al. 2023, test split (67 subjects, 4 choices); shared/data/benchmarks/cmmlu", &["acc", "acc_norm"]),
        bench("ceval", "C-Eval (validation)", &[Knowledge, Chinese], 0.25, Some(1346), "Huang et al. 2023, validation split as run by lm-eval ceval-valid, 4 choices", &["acc", "acc_norm"]),
        bench("arc_challenge", "ARC-Challenge", &[Reasoning], 0.25, Some(1172), "Clark et al. 2018, test split; (almost all) 4 choices", &["acc_norm", "acc"]),
        bench("hellaswag", "HellaSwag", &[Reasoning], 0.25, Some(10042), "Zellers et al. 2019, validation split as run by lm-eval, 4 endings", &["acc_norm", "acc"]),
        bench("winogrande", "WinoGrande", &[Reasoning], 0.5, Some(1267), "Sakaguchi et al. 2019, validation split (xl) as run by lm-eval, 2 options", &["acc"]),
        bench("bbh", "BIG-Bench Hard", &[Reasoning], weighted_baseline(BBH_SUBTASKS), Some(6511), "Suzgun et al. 2022: 27 tasks, 6,511 items (OLL v2: 24 tasks, 5,761 items)", &["acc_norm", "exact_match", "acc"]),
        bench("musr", "MuSR", &[Reasoning], weighted_baseline(MUSR_SUBTASKS), Some(756), "Sprague et al. 2023; OLL subtasks 250/256/250 items with 2/5/3 choices", &["acc_norm", "acc"]),
        bench("gpqa", "GPQA (main+extended+diamond)", &[Reasoning], 0.25, Some(1192), "Rein et al. 2023: main 448 + extended 546 + diamond 198, as run by the OLL; 4 choices", &["acc_norm", "acc"]),
        bench("gpqa_diamond", "GPQA Diamond", &[Reasoning], 0.25, Some(198), "Rein et al. 2023, diamond subset, 4 choices", &["acc", "acc_norm", "exact_match"]),
        bench("gsm8k", "GSM8K", &[Math], 0.0, Some(1319), "Cobbe et al. 2021, test split; shared/data/benchmarks/gsm8k", &["exact_match"]),
        bench("math_lvl5", "MATH Level 5", &[Math], 0.0, Some(1324), "Hendrycks et al. 2021, level-5 problems of the test split (OLL leaderboard_math_hard)", &["exact_match", "math_verify"]),
        bench("math500", "MATH-500", &[Math], 0.0, Some(500), "Lightman et al. 2023; shared/data/benchmarks/math500", &["exact_match", "math_verify"]),
        bench("otis_mock_aime_2024_2025", "OTIS Mock AIME 2024-2025", &[Math], 0.0, None, "Epoch AI Benchmarking Hub (scores carry their own stderr)", &[]),
        bench("frontiermath", "FrontierMath", &[Math], 0.0, None, "Epoch AI Benchmarking Hub (scores carry their own stderr)", &[]),
        bench("humaneval", "HumanEval", &[Coding], 0.0, Some(164), "Chen et al. 2021; shared/data/benchmarks/humaneval", &["pass@1", "pass_at_1"]),
        bench("mbpp", "MBPP", &[Coding], 0.0, Some(500), "Austin et al. 2021, test split (task ids 11-510)", &["pass@1", "pass_at_1"]),
        bench("swe_bench_verified", "SWE-bench Verified", &[Coding], 0.0, Some(500), "OpenAI 2024, 500 human-validated tasks", &[]),
        bench("aider_polyglot", "Aider Polyglot", &[Coding], 0.0, Some(225), "aider.chat polyglot benchmark, 225 Exercism exercises", &[]),
        bench("ifeval", "IFEval", &[InstructionFollowing], 0.0, Some(541), "Zhou et al. 2023, 541 prompts; shared/data/benchmarks/ifeval", &["prompt_level_strict_acc", "inst_level_strict_acc"]),
        bench("truthfulqa_mc2", "TruthfulQA MC2", &[Truthfulness], 0.0, Some(817), "Lin et al. 2021, 817 questions (mc2: probability mass on true answers; not baseline-normalised)", &["acc", "mc2"]),
        bench("simpleqa_verified", "SimpleQA Verified", &[Truthfulness], 0.0, None, "Epoch AI Benchmarking Hub (scores carry their own stderr)", &[]),
    ]
}

/// The catalog entry of a benchmark id.
pub fn benchmark(id: &str) -> Option<Benchmark> {
    catalog().into_iter().find(|b| b.id == id)
}

/// Item count of a benchmark as a given source ran it.
pub fn items_for(benchmark_id: &str, source: &str) -> Option<u32> {
    match (benchmark_id, source) {
        ("bbh", "oll-v2") => Some(BBH_SUBTASKS.iter().filter(|s| s.2 > 0).map(|s| s.1).sum()),
        _ => benchmark(benchmark_id).and_then(|b| b.items),
    }
}

/// Random baseline of a benchmark as a given source ran it.
pub fn baseline_for(benchmark_id: &str, source: &str) -> f64 {
    match (benchmark_id, source) {
        ("bbh", "oll-v2") => {
            let mc: Vec<Subtask> = BBH_SUBTASKS.iter().copied().filter(|s| s.2 > 0).collect();
            weighted_baseline(&mc)
        }
        _ => benchmark(benchmark_id).map(|b| b.baseline).unwrap_or(0.0),
    }
}

/// Benchmarks of a dimension.
pub fn benchmarks_of(dimension: Dimension) -> Vec<Benchmark> {
    catalog()
        .into_iter()
        .filter(|b| b.dimensions.contains(&dimension))
        .collect()
}

/// The canonical benchmark an lm-eval task belongs to (e.g. `mmlu_anatomy` → `mmlu`,
/// `leaderboard_bbh_navigate` → `bbh`). Unknown tasks are their own benchmark.
pub fn benchmark_of_task(task: &str) -> String {
    let lower = task.to_lowercase();
    if let Some(rest) = lower.strip_prefix("leaderboard_") {
        // The Open LLM Leaderboard's task group: its GPQA is all three subsets, its MATH is level 5.
        if rest.starts_with("gpqa") {
            return "gpqa".into();
        }
        if rest.starts_with("math") {
            return "math_lvl5".into();
        }
    }
    let t = lower.strip_prefix("leaderboard_").unwrap_or(&lower);
    let rules: &[(&str, &str)] = &[
        ("mmlu_pro", "mmlu_pro"),
        ("mmlu", "mmlu"),
        ("cmmlu", "cmmlu"),
        ("ceval", "ceval"),
        ("arc_challenge", "arc_challenge"),
        ("hellaswag", "hellaswag"),
        ("winogrande", "winogrande"),
        ("bbh", "bbh"),
        ("musr", "musr"),
        ("gpqa_diamond", "gpqa_diamond"),
        ("gpqa", "gpqa"),
        ("gsm8k", "gsm8k"),
        ("math500", "math500"),
        ("humaneval", "humaneval"),
        ("mbpp", "mbpp"),
        ("ifeval", "ifeval"),
        ("truthfulqa_mc2", "truthfulqa_mc2"),
    ];
    for (prefix, id) in rules {
        if t == *prefix || t.starts_with(prefix) {
            return (*id).to_string();
        }
    }
    t.to_string()
}

/// Normalise a raw proportion to the random baseline: (raw − b)/(1 − b).
pub fn normalise(raw: f64, baseline: f64) -> f64 {
    (raw - baseline) / (1.0 - baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbh_and_musr_counts_and_baselines() {
        assert_eq!(BBH_SUBTASKS.iter().map(|s| s.1).sum::<u32>(), 6511);
        assert_eq!(items_for("bbh", "oll-v2"), Some(5761));
        assert_eq!(items_for("bbh", "epoch-hub"), Some(6511));
        assert_eq!(MUSR_SUBTASKS.iter().map(|s| s.1).sum::<u32>(), 756);
        // MuSR: (250/2 + 256/5 + 250/3) / 756
        let b = (125.0 + 51.2 + 250.0 / 3.0) / 756.0;
        assert!((baseline_for("musr", "oll-v2") - b).abs() < 1e-12);
        assert!(baseline_for("bbh", "oll-v2") > baseline_for("bbh", "epoch-hub"));
        assert_eq!(baseline_for("mmlu_pro", "oll-v2"), 0.1);
        assert!((normalise(0.625, 0.25) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn tasks_map_to_benchmarks() {
        assert_eq!(benchmark_of_task("mmlu_anatomy"), "mmlu");
        assert_eq!(benchmark_of_task("leaderboard_mmlu_pro"), "mmlu_pro");
        assert_eq!(benchmark_of_task("leaderboard_bbh_navigate"), "bbh");
        assert_eq!(
            benchmark_of_task("leaderboard_math_algebra_hard"),
            "math_lvl5"
        );
        assert_eq!(benchmark_of_task("leaderboard_gpqa_diamond"), "gpqa");
        assert_eq!(benchmark_of_task("gpqa_diamond_zeroshot"), "gpqa_diamond");
        assert_eq!(benchmark_of_task("my_task"), "my_task");
        assert_eq!(
            Dimension::parse("instruction-following"),
            Some(Dimension::InstructionFollowing)
        );
        assert_eq!(Dimension::parse("vibes"), None);
        assert!(benchmarks_of(Dimension::Chinese)
            .iter()
            .any(|b| b.id == "cmmlu"));
    }
}
