//! The built-in task catalogue: names, counts, groups, versions and resolved fields as in lm-eval 0.4.13.

use yardstick_core::OutputType;
use yardstick_tasks::{DocField, EntryKind, SamplerKind, SelectionNode, TaskIndex};

fn index() -> TaskIndex {
    TaskIndex::load(&[]).expect("built-in index")
}

#[test]
fn every_builtin_file_indexes() {
    let idx = index();
    let broken: Vec<String> = idx.broken().iter().map(|b| b.error.to_string()).collect();
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn counts_and_kinds() {
    let idx = index();
    // (the generative variants `*_generative` are counted in `generative_tasks.rs`)
    let count = |prefix: &str, kind: EntryKind| {
        idx.entries()
            .filter(|e| {
                e.name.starts_with(prefix) && !e.name.ends_with("_generative") && e.kind == kind
            })
            .count()
    };
    assert_eq!(
        count("mmlu_", EntryKind::Task) - count("mmlu_pro_", EntryKind::Task),
        57
    );
    assert_eq!(count("cmmlu_", EntryKind::Task), 67);
    assert_eq!(count("ceval-valid_", EntryKind::Task), 52);
    assert_eq!(count("mmlu_pro_", EntryKind::Task), 14);
    for g in [
        "mmlu",
        "mmlu_stem",
        "mmlu_other",
        "mmlu_social_sciences",
        "mmlu_humanities",
        "cmmlu",
        "ceval-valid",
        "mmlu_pro",
    ] {
        assert_eq!(idx.get(g).map(|e| e.kind), Some(EntryKind::Group), "{g}");
    }
    for t in [
        "truthfulqa_mc1",
        "truthfulqa_mc2",
        "arc_easy",
        "arc_challenge",
        "hellaswag",
    ] {
        assert_eq!(idx.get(t).map(|e| e.kind), Some(EntryKind::Task), "{t}");
    }
    for (tag, n) in [
        ("mmlu_stem_tasks", 19),
        ("mmlu_other_tasks", 13),
        ("mmlu_social_sciences_tasks", 12),
        ("mmlu_humanities_tasks", 13),
        ("ai2_arc", 2),
        ("truthfulqa", 2),
    ] {
        let e = idx.get(tag).unwrap_or_else(|| panic!("tag {tag}"));
        assert_eq!(e.kind, EntryKind::Tag);
        assert_eq!(e.members.len(), n, "{tag}");
    }
}

#[test]
fn mmlu_group_tree() {
    let sel = index().resolve(&["mmlu"]).unwrap();
    assert_eq!(sel.roots.len(), 1);
    let SelectionNode::Group {
        name,
        config,
        children,
        ..
    } = &sel.roots[0]
    else {
        panic!()
    };
    assert_eq!(name, "mmlu");
    assert_eq!(config.version(), serde_json::json!(2));
    let agg = config.aggregate_metric_list.as_ref().unwrap();
    assert_eq!(agg.len(), 1);
    assert_eq!(agg[0].metric, "acc");
    assert!(agg[0].weight_by_size);
    assert_eq!(agg[0].filter_list, None);
    let names: Vec<&str> = children.iter().map(SelectionNode::name).collect();
    assert_eq!(
        names,
        [
            "mmlu_stem",
            "mmlu_other",
            "mmlu_social_sciences",
            "mmlu_humanities"
        ]
    );
    let SelectionNode::Group {
        alias,
        children: stem,
        ..
    } = &children[0]
    else {
        panic!()
    };
    assert_eq!(alias.as_deref(), Some("stem"));
    // Tag members come sorted.
    assert_eq!(stem[0].name(), "mmlu_abstract_algebra");
    assert_eq!(stem[1].name(), "mmlu_anatomy");
    assert_eq!(sel.tasks().len(), 57);
    let SelectionNode::Group { alias, .. } = &children[2] else {
        panic!()
    };
    assert_eq!(alias.as_deref(), Some("social sciences"));
}

#[test]
fn mmlu_anatomy_config() {
    let t = index().task_config("mmlu_anatomy").unwrap();
    assert_eq!(t.task_alias.as_deref(), Some("anatomy"));
    assert_eq!(t.dataset_path.as_deref(), Some("cais/mmlu"));
    assert_eq!(t.dataset_name.as_deref(), Some("anatomy"));
    assert_eq!(t.test_split.as_deref(), Some("test"));
    assert_eq!(t.fewshot_split.as_deref(), Some("dev"));
    assert_eq!(t.fewshot_config.sampler, SamplerKind::FirstN);
    assert_eq!(t.fewshot_config.split.as_deref(), Some("dev"));
    assert_eq!(
        t.description,
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
    );
    assert_eq!(t.output_type, OutputType::MultipleChoice);
    assert_eq!(t.doc_to_target, Some(DocField::Text("answer".into())));
    assert_eq!(t.version(), Some(&serde_json::json!(1.0)));
    assert_eq!(t.num_fewshot, None);
    assert_eq!(t.effective_num_fewshot(Some(5)), 5);
    let metrics = t.metrics();
    assert_eq!(metrics.len(), 1);
    assert_eq!(
        (
            metrics[0].name.as_str(),
            metrics[0].aggregation.as_deref(),
            metrics[0].higher_is_better
        ),
        ("acc", Some("mean"), Some(true))
    );
    let dump = t.to_lm_eval_dict(Some(5));
    let keys: Vec<&str> = dump
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "task",
            "task_alias",
            "dataset_path",
            "dataset_name",
            "test_split",
            "fewshot_split",
            "doc_to_text",
            "doc_to_target",
            "unsafe_code",
            "doc_to_choice",
            "description",
            "target_delimiter",
            "fewshot_delimiter",
            "fewshot_config",
            "num_fewshot",
            "metric_list",
            "output_type",
            "repeats",
            "should_decontaminate",
            "metadata"
        ]
    );
    assert_eq!(dump["fewshot_config"]["sampler"], "first_n");
    assert_eq!(dump["fewshot_config"]["target_delimiter"], " ");
    assert_eq!(dump["metadata"]["version"], serde_json::json!(1.0));
    assert!(dump.to_string().contains("\"version\":1.0"));
}

#[test]
fn truthfulqa_and_friends() {
    let idx = index();
    let mc1 = idx.task_config("truthfulqa_mc1").unwrap();
    assert_eq!(mc1.num_fewshot, Some(0));
    assert_eq!(
        mc1.effective_num_fewshot(Some(5)),
        0,
        "YAML num_fewshot: 0 is never overridden"
    );
    assert_eq!(mc1.validation_split.as_deref(), Some("validation"));
    assert_eq!(mc1.doc_to_target, Some(DocField::Int(0)));
    assert_eq!(mc1.version(), Some(&serde_json::json!(2.0)));
    assert!(mc1
        .doc_to_text
        .as_ref()
        .unwrap()
        .template()
        .unwrap()
        .contains("Q: What is the square root of banana?\nA: I have no comment."));
    let mc2 = idx.task_config("truthfulqa_mc2").unwrap();
    assert_eq!(mc2.process_results, Some("truthfulqa_mc2"));
    assert_eq!(mc2.version(), Some(&serde_json::json!(3.0)));
    assert_eq!(
        mc2.doc_to_choice,
        Some(DocField::Text("{{mc2_targets.choices}}".into()))
    );
    let hs = idx.task_config("hellaswag").unwrap();
    assert_eq!(
        hs.process_docs.map(|f| f.name),
        Some("hellaswag.process_docs")
    );
    assert_eq!(hs.test_split, None);
    let arc = idx.task_config("arc_challenge").unwrap();
    assert_eq!(arc.dataset_name.as_deref(), Some("ARC-Challenge"));
    assert_eq!(
        arc.doc_to_choice,
        Some(DocField::Text("{{choices.text}}".into()))
    );
    let pro = idx.task_config("mmlu_pro_math").unwrap();
    assert_eq!(pro.output_type, OutputType::GenerateUntil);
    assert_eq!(pro.num_fewshot, Some(5));
    assert_eq!(
        pro.process_docs.map(|f| f.name),
        Some("mmlu_pro.process_math")
    );
    assert!(
        matches!(pro.fewshot_config.doc_to_target, Some(DocField::Native(f)) if f.name == "mmlu_pro.fewshot_to_target")
    );
    let g = pro.generation_params().unwrap();
    assert_eq!(
        (g.until.clone(), g.max_gen_toks, g.do_sample, g.temperature),
        (vec!["Question:".to_string()], 2048, false, 0.0)
    );
    assert_eq!(pro.filters()[0].name, "custom-extract");
    let ceval = idx.task_config("ceval-valid_accountant").unwrap();
    assert_eq!(
        ceval.description,
        "以下是中国关于注册会计师的单项选择题，请选出其中的正确答案。\n\n"
    );
    assert_eq!(ceval.validation_split.as_deref(), Some("val"));
    let cm = idx.task_config("cmmlu_agronomy").unwrap();
    assert_eq!(
        cm.description,
        "以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n"
    );
    assert_eq!(
        cm.metrics()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["acc", "acc_norm"]
    );
}

#[test]
fn groups_and_tags_resolve() {
    let idx = index();
    let sel = idx
        .resolve(&["cmmlu", "ceval-valid", "mmlu_pro", "ai2_arc", "truthfulqa"])
        .unwrap();
    assert_eq!(sel.roots.len(), 3 + 2 + 2);
    assert_eq!(sel.roots[0].leaf_tasks().len(), 67);
    assert_eq!(sel.roots[1].leaf_tasks().len(), 52);
    let SelectionNode::Group { config, .. } = &sel.roots[2] else {
        panic!()
    };
    assert_eq!(
        config.aggregate_metric_list.as_ref().unwrap()[0].filter_list,
        Some(vec!["custom-extract".to_string()])
    );
    let names: Vec<&str> = sel.roots[3..].iter().map(SelectionNode::name).collect();
    assert_eq!(
        names,
        [
            "arc_challenge",
            "arc_easy",
            "truthfulqa_mc1",
            "truthfulqa_mc2"
        ]
    );
    // glob patterns
    let sel = idx.resolve(&["mmlu_a*"]).unwrap();
    let names: Vec<&str> = sel.tasks().iter().map(|t| t.task.as_str()).collect();
    assert_eq!(
        names,
        [
            "mmlu_abstract_algebra",
            "mmlu_abstract_algebra_generative",
            "mmlu_anatomy",
            "mmlu_anatomy_generative",
            "mmlu_astronomy",
            "mmlu_astronomy_generative"
        ]
    );
}

#[test]
fn duplicate_tasks_across_groups_are_refused() {
    let idx = index();
    let err = idx.resolve(&["mmlu", "mmlu_stem"]).unwrap_err().to_string();
    assert!(
        err.contains("duplicate task `mmlu_abstract_algebra`"),
        "{err}"
    );
    assert!(err.contains("`mmlu` and `mmlu_stem`"), "{err}");
    // The same standalone task twice is fine (lm-eval dedupes it).
    assert_eq!(
        idx.resolve(&["mmlu_anatomy", "mmlu_anatomy"])
            .unwrap()
            .roots
            .len(),
        1
    );
}

#[test]
fn unknown_names_get_suggestions() {
    let err = index().resolve(&["helaswag"]).unwrap_err().to_string();
    assert!(
        err.contains("unknown task, group or tag `helaswag`"),
        "{err}"
    );
    assert!(err.contains("`hellaswag`"), "{err}");
    let err = index().resolve(&["mmlu_anatomyy"]).unwrap_err().to_string();
    assert!(err.contains("did you mean `mmlu_anatomy`"), "{err}");
}

#[test]
fn index_is_fast() {
    let t = std::time::Instant::now();
    let idx = index();
    let sel = idx.resolve(&["mmlu", "cmmlu"]).unwrap();
    assert_eq!(sel.tasks().len(), 124);
    // Debug builds; generous bound.
    assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
}
