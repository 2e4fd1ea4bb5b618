//! Group semantics (lm-eval 0.4.13 `TaskFactory`): overrides, inline tasks and groups, tags, the
//! CLI num_fewshot rule, aggregation defaults, include paths overriding built-ins.

use std::path::PathBuf;

use yardstick_tasks::{SelectionNode, TaskIndex};

fn index_with(files: &[(&str, &str)]) -> (tempfile::TempDir, TaskIndex) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let idx = TaskIndex::load(&[PathBuf::from(dir.path())]).unwrap();
    assert!(idx.broken().is_empty(), "{:?}", idx.broken());
    (dir, idx)
}

const BASE: &str = "dataset_path: cais/mmlu\ndataset_name: anatomy\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{question}}\"\ndoc_to_choice: [A, B, C, D]\ndoc_to_target: answer\n";

#[test]
fn group_overrides_and_the_num_fewshot_rule() {
    let t1 = format!("task: t1\ntag: [tg]\n{BASE}");
    let t2 = format!("task: t2\ntag: tg\nnum_fewshot: 3\n{BASE}");
    let (_d, idx) = index_with(&[
        ("t1.yaml", &t1),
        ("t2.yaml", &t2),
        ("inner.yaml", "group: inner\ntask: [t2]\nnum_fewshot: 4\ntarget_delimiter: \"|\"\n"),
        (
            "outer.yaml",
            "group: outer\ntask:\n  - task: t1\n    num_fewshot: 7\n  - inner\n  - group: inline_g\n    task: [tg]\n    description: \"D \"\nnum_fewshot: 0\naggregate_metric_list:\n  - metric: acc\n  - metric: acc_norm\n    weight_by_size: 0\n    filter_list: none\n",
        ),
    ]);
    let sel = idx.resolve(&["outer"]).unwrap();
    let SelectionNode::Group {
        config, children, ..
    } = &sel.roots[0]
    else {
        panic!()
    };
    let agg = config.aggregate_metric_list.as_ref().unwrap();
    assert!(agg[0].weight_by_size);
    assert_eq!(agg[0].filter_list, None);
    assert!(!agg[1].weight_by_size);
    assert_eq!(agg[1].filter_list, Some(vec!["none".to_string()]));
    let names: Vec<&str> = children.iter().map(SelectionNode::name).collect();
    assert_eq!(names, ["t1", "inner", "outer::inline_g"]);
    // dict item override beats the group's own override
    let SelectionNode::Task(t1) = &children[0] else {
        panic!()
    };
    assert_eq!(t1.num_fewshot, Some(7));
    assert_eq!(t1.effective_num_fewshot(Some(5)), 5);
    // the caller's (outer) override beats the child group's own (inner) override; inner's other keys stay
    let SelectionNode::Group {
        children: inner, ..
    } = &children[1]
    else {
        panic!()
    };
    let SelectionNode::Task(t2) = &inner[0] else {
        panic!()
    };
    assert_eq!(t2.num_fewshot, Some(0));
    assert_eq!(
        t2.effective_num_fewshot(Some(5)),
        0,
        "an explicit 0 is never overridden by the CLI"
    );
    assert_eq!(t2.target_delimiter, "|");
    // inline group: namespaced, its tag expanded in sorted order, with its own overrides
    let SelectionNode::Group {
        children: inl,
        config: inl_cfg,
        ..
    } = &children[2]
    else {
        panic!()
    };
    assert!(!inl_cfg.has_aggregation());
    assert_eq!(
        inl.iter().map(SelectionNode::name).collect::<Vec<_>>(),
        ["t1", "t2"]
    );
    for c in inl {
        let SelectionNode::Task(t) = c else { panic!() };
        assert_eq!(t.description, "D ");
        assert_eq!(t.num_fewshot, Some(0));
    }
    // `t1` appears twice under `outer` (once directly, once via the inline group): allowed within one item.
    assert_eq!(sel.tasks().len(), 2);
    assert_eq!(sel.groups().len(), 3);
}

#[test]
fn inline_tasks_are_namespaced() {
    let (_d, idx) = index_with(&[(
        "g.yaml",
        &format!(
            "group: g\ntask:\n  - task: local\n{}",
            BASE.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        ),
    )]);
    let sel = idx.resolve(&["g"]).unwrap();
    let tasks = sel.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task, "g::local");
    assert_eq!(tasks[0].config_source, "inline");
}

#[test]
fn include_paths_override_builtins_and_keep_tags() {
    let anatomy = "task: mmlu_anatomy\ntag: mmlu_stem_tasks\ndataset_path: cais/mmlu\ndataset_name: anatomy\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{question}}?\"\ndoc_to_choice: [A, B, C, D]\ndoc_to_target: answer\n";
    let (_d, idx) = index_with(&[("mmlu_anatomy.yaml", anatomy)]);
    let t = idx.task_config("mmlu_anatomy").unwrap();
    assert_eq!(t.description, "");
    assert!(t.config_source.ends_with("mmlu_anatomy.yaml"));
    assert!(!t.config_source.starts_with("builtin:"));
    let sel = idx.resolve(&["mmlu_stem"]).unwrap();
    assert_eq!(sel.tasks().len(), 19);
    let a = sel
        .tasks()
        .into_iter()
        .find(|t| t.task == "mmlu_anatomy")
        .unwrap();
    assert_eq!(
        a.doc_to_text.as_ref().unwrap().template(),
        Some("{{question}}?")
    );
}

#[test]
fn user_yaml_can_include_builtin_templates() {
    let (_d, idx) = index_with(&[(
        "my_mmlu.yaml",
        "include: builtin:mmlu/_default_template_yaml\ntask: my_mmlu_virology\ndataset_name: virology\ndescription: \"Virology:\\n\\n\"\n",
    )]);
    let t = idx.task_config("my_mmlu_virology").unwrap();
    assert_eq!(t.dataset_path.as_deref(), Some("cais/mmlu"));
    assert_eq!(t.fewshot_split.as_deref(), Some("dev"));
    assert_eq!(t.description, "Virology:\n\n");
    assert!(t.field_origins["dataset_path"].is_builtin());
}

#[test]
fn metadata_is_merged_into_tasks_and_groups() {
    let mut idx = TaskIndex::load(&[]).unwrap();
    let mut meta = serde_json::Map::new();
    meta.insert("pretrained".into(), serde_json::json!("tiny"));
    idx.set_metadata(meta);
    let sel = idx.resolve(&["mmlu_humanities"]).unwrap();
    let SelectionNode::Group { config, .. } = &sel.roots[0] else {
        panic!()
    };
    assert_eq!(config.metadata["pretrained"], "tiny");
    assert_eq!(config.metadata["version"], 2);
    let t = sel.tasks()[0];
    assert_eq!(t.metadata["pretrained"], "tiny");
    assert_eq!(t.metadata["version"], 1.0);
}
