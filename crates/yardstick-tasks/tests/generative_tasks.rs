//! The generative built-ins (gsm8k*, bbh*, mgsm*, mmlu_generative, and Yardstick's cmath and
//! cmmlu_generative): every name resolves through the `TaskIndex`, and with `shared/data` every task with
//! data renders its first docs. Byte parity with lm-eval is `lm_eval_parity.rs`.

use std::path::PathBuf;

use yardstick_core::{OutputType, RequestArgs};
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::functions::native_filter;
use yardstick_tasks::{EntryKind, PreparedTask, TaskIndex};

const BBH: [&str; 27] = [
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
];
const MGSM: [&str; 11] = [
    "bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh",
];

fn all_new_tasks() -> Vec<String> {
    let mut v: Vec<String> = [
        "gsm8k",
        "gsm8k_cot",
        "gsm8k_cot_zeroshot",
        "gsm8k_cot_llama",
        "gsm8k_cot_self_consistency",
        "cmath",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for fam in [
        "bbh_cot_fewshot",
        "bbh_cot_zeroshot",
        "bbh_fewshot",
        "bbh_zeroshot",
    ] {
        v.extend(BBH.iter().map(|t| format!("{fam}_{t}")));
    }
    for mode in ["direct", "native_cot", "en_cot"] {
        v.extend(MGSM.iter().map(|l| format!("mgsm_{mode}_{l}")));
    }
    v
}

#[test]
fn every_new_name_resolves() {
    let idx = TaskIndex::load(&[]).unwrap();
    for t in all_new_tasks() {
        assert_eq!(idx.get(&t).map(|e| e.kind), Some(EntryKind::Task), "{t}");
    }
    for g in [
        "bbh",
        "bbh_cot_fewshot",
        "bbh_cot_zeroshot",
        "bbh_fewshot",
        "bbh_zeroshot",
        "mmlu_generative",
        "cmmlu_generative",
    ] {
        assert_eq!(idx.get(g).map(|e| e.kind), Some(EntryKind::Group), "{g}");
    }
    for tag in [
        "mgsm_direct",
        "mgsm_cot_native",
        "math_word_problems",
        "chain_of_thought",
        "self_consistency",
        "math_word_problems_zh",
        "mmlu_stem_generative",
    ] {
        assert_eq!(idx.get(tag).map(|e| e.kind), Some(EntryKind::Tag), "{tag}");
    }
    let count = |suffix: &str, prefix: &str| {
        idx.entries()
            .filter(|e| {
                e.kind == EntryKind::Task && e.name.starts_with(prefix) && e.name.ends_with(suffix)
            })
            .count()
    };
    assert_eq!(count("_generative", "mmlu_"), 57);
    assert_eq!(count("_generative", "cmmlu_"), 67);
    // groups resolve to all their tasks; mmlu_generative through its four inline subgroups
    let sel = idx
        .resolve(&["bbh_zeroshot", "mmlu_generative", "cmmlu_generative"])
        .unwrap();
    assert_eq!(sel.tasks().len(), 27 + 57 + 67);
}

#[test]
fn bbh_zeroshot_filter_classes_resolve_to_native_filters() {
    let idx = TaskIndex::load(&[]).unwrap();
    let sel = idx.resolve(&["bbh_zeroshot", "bbh_cot_zeroshot"]).unwrap();
    let mut natives = 0;
    for t in sel.tasks() {
        for p in t.filter_list.iter().flatten() {
            for st in &p.steps {
                if st.function.starts_with("bbh.") {
                    assert!(
                        native_filter(&st.function).is_some(),
                        "{} {}",
                        t.task,
                        st.function
                    );
                    natives += 1;
                }
            }
        }
    }
    // lm-eval's YAMLs name a class in 22 of the 27 subtasks of each family (not in boolean_expressions,
    // causal_judgement, dyck_languages, formal_fallacies, navigate).
    assert_eq!(natives, 44);
    let t = sel
        .tasks()
        .into_iter()
        .find(|t| t.task == "bbh_zeroshot_word_sorting")
        .unwrap();
    let step = &t.filter_list.as_ref().unwrap()[1].steps[0];
    assert_eq!(step.function, "bbh.WordSortFilter");
    let dumped = t.to_lm_eval_dict(None);
    assert_eq!(
        dumped["filter_list"][1]["filter"][0]["function"],
        "!builtin bbh.WordSortFilter"
    );
}

#[test]
fn tasks_with_data_render() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/mgsm") else {
        return;
    };
    let opts = DataOptions {
        data_dir: Some(data.join("benchmarks")),
        hf_home: Some(PathBuf::from("/nonexistent/yardstick-test-hf")),
        offline: true,
    };
    let idx = TaskIndex::load(&[]).unwrap();
    let mut names: Vec<String> = all_new_tasks()
        .into_iter()
        .filter(|t| !t.starts_with("mgsm_") || t.ends_with("_zh") || t.ends_with("_en"))
        .collect();
    names.extend([
        "mmlu_anatomy_generative".to_string(),
        "cmmlu_agronomy_generative".to_string(),
    ]);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let sel = idx.resolve(&refs).unwrap();
    for t in sel.tasks() {
        let p = PreparedTask::prepare(t, &opts, None, 1234, Some("2".parse().unwrap()))
            .unwrap_or_else(|e| panic!("{}: {e}", t.task));
        assert_eq!(t.output_type, OutputType::GenerateUntil, "{}", t.task);
        let docs = p.all_docs().unwrap_or_else(|e| panic!("{}: {e}", t.task));
        assert_eq!(docs.len(), 2, "{}", t.task);
        for d in docs {
            let RequestArgs::GenerateUntil { context, .. } = &d.instances[0].args else {
                panic!("{}: not generate_until", t.task)
            };
            assert!(!context.is_empty(), "{}", t.task);
        }
    }
    // a language whose data is absent fails with the data layer's not-found error
    let sel = idx.resolve(&["mgsm_direct_de"]).unwrap();
    let Err(err) = PreparedTask::prepare(sel.tasks()[0], &opts, None, 1234, None) else {
        panic!("mgsm_direct_de prepared without its data")
    };
    assert!(err.to_string().contains("mgsm_de.tsv"), "{err}");
}
