//! Prompts rendered from the real benchmark data in `../shared/data/benchmarks` (skipped with a
//! `SKIP:` line when it is absent), checked against lm-eval 0.4.13's own fixtures
//! (`tests/test_prompt.py`: the mmlu_anatomy 0-shot and 5-shot prompts).

use std::path::PathBuf;

use yardstick_core::{RequestArgs, Target};
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, TaskIndex};

fn data_dir() -> Option<PathBuf> {
    yardstick_testkit::require_shared_data_with("benchmarks").map(|d| d.join("benchmarks"))
}

fn opts(dir: PathBuf) -> DataOptions {
    DataOptions {
        data_dir: Some(dir),
        hf_home: Some(PathBuf::from("/nonexistent-hf-home")),
        offline: true,
    }
}

const ANATOMY_Q: &str = "A lesion causing compression of the facial nerve at the stylomastoid foramen will cause ipsilateral
A. paralysis of the facial muscles.
B. paralysis of the facial muscles and loss of taste.
C. paralysis of the facial muscles, loss of taste and lacrimation.
D. paralysis of the facial muscles, loss of taste, lacrimation and decreased salivation.
Answer:";

const ANATOMY_SHOTS: &str = "What is the embryological origin of the hyoid bone?
A. The first pharyngeal arch
B. The first and second pharyngeal arches
C. The second pharyngeal arch
D. The second and third pharyngeal arches
Answer: D

Which of these branches of the trigeminal nerve contain somatic motor processes?
A. The supraorbital nerve
B. The infraorbital nerve
C. The mental nerve
D. None of the above
Answer: D

The pleura
A. have no sensory innervation.
B. are separated by a 2 mm space.
C. extend into the neck.
D. are composed of respiratory epithelium.
Answer: C

In Angle's Class II Div 2 occlusion there is
A. excess overbite of the upper lateral incisors.
B. negative overjet of the upper central incisors.
C. excess overjet of the upper lateral incisors.
D. excess overjet of the upper central incisors.
Answer: C

Which of the following is the body cavity that contains the pituitary gland?
A. Abdominal
B. Cranial
C. Pleural
D. Spinal
Answer: B

";

const HEADER: &str =
    "The following are multiple choice questions (with answers) about anatomy.\n\n";

#[test]
fn mmlu_anatomy_zero_and_five_shot_match_lm_eval_fixture() {
    let Some(dir) = data_dir() else { return };
    let idx = TaskIndex::load(&[]).unwrap();
    let cfg = idx.task_config("mmlu_anatomy").unwrap();
    let p0 = PreparedTask::prepare(
        &cfg,
        &opts(dir.clone()),
        None,
        1234,
        Some("1".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(p0.n_docs_total(), 135);
    assert_eq!(p0.n_docs(), 1);
    let d = p0.docs().next().unwrap().unwrap();
    assert_eq!(d.context, format!("{HEADER}{ANATOMY_Q}"));
    let conts: Vec<(&str, &str)> = d
        .instances
        .iter()
        .map(|i| match &i.args {
            RequestArgs::Loglikelihood {
                context,
                continuation,
            } => (context.as_str(), continuation.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(conts.len(), 4);
    for (i, (ctx, cont)) in conts.iter().enumerate() {
        assert_eq!(*ctx, d.context);
        assert_eq!(*cont, [" A", " B", " C", " D"][i]);
    }
    assert_eq!(d.target, Target::Index(0));
    assert_eq!(d.target_string, "0");
    assert!(d.fewshot_ids.is_empty());

    let p5 =
        PreparedTask::prepare(&cfg, &opts(dir), Some(5), 1234, Some("1".parse().unwrap())).unwrap();
    let d = p5.docs().next().unwrap().unwrap();
    assert_eq!(d.context, format!("{HEADER}{ANATOMY_SHOTS}{ANATOMY_Q}"));
    assert_eq!(d.fewshot_ids, vec![0, 1, 2, 3, 4]);
    assert_eq!(p5.fewshot_split(), Some("dev"));
}

#[test]
fn mmlu_5shot_every_subject_renders() {
    let Some(dir) = data_dir() else { return };
    let idx = TaskIndex::load(&[]).unwrap();
    let sel = idx.resolve(&["mmlu"]).unwrap();
    let opts = opts(dir);
    let mut total = 0;
    for t in sel.tasks() {
        let p = PreparedTask::prepare(t, &opts, Some(5), 1234, Some("3".parse().unwrap())).unwrap();
        total += p.n_docs_total();
        for d in p.docs() {
            let d = d.unwrap();
            assert!(d.context.starts_with(&t.description), "{}", t.task);
            assert_eq!(d.context.matches("\nAnswer:").count(), 6, "{}", t.task);
            assert_eq!(d.instances.len(), 4);
        }
    }
    assert_eq!(total, 14042);
}

#[test]
fn truthfulqa_prompts() {
    let Some(dir) = data_dir() else { return };
    let idx = TaskIndex::load(&[]).unwrap();
    let opts = opts(dir);
    let mc1 = PreparedTask::prepare(
        &idx.task_config("truthfulqa_mc1").unwrap(),
        &opts,
        Some(5),
        1234,
        None,
    )
    .unwrap();
    assert_eq!(mc1.num_fewshot(), 0);
    assert_eq!(mc1.n_docs_total(), 817);
    let d = mc1.docs().next().unwrap().unwrap();
    let q = d.doc["question"].as_str().unwrap();
    assert!(d.context.starts_with("Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\n"));
    assert!(d.context.ends_with(&format!(
        "A: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: {q}\nA:"
    )));
    let choices = d.choices.clone().unwrap();
    assert_eq!(d.instances.len(), choices.len());
    match &d.instances[0].args {
        RequestArgs::Loglikelihood { continuation, .. } => {
            assert_eq!(continuation, &format!(" {}", choices[0]))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.target, Target::Index(0));
    let mc2 = PreparedTask::prepare(
        &idx.task_config("truthfulqa_mc2").unwrap(),
        &opts,
        None,
        1234,
        Some("2".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(mc2.process_results(), Some("truthfulqa_mc2"));
    let d = mc2.docs().next().unwrap().unwrap();
    let labels = d.doc["mc2_targets"]["labels"].as_array().unwrap().len();
    assert_eq!(d.instances.len(), labels);
}

#[test]
fn cmmlu_prompt_shape() {
    let Some(dir) = data_dir() else { return };
    let idx = TaskIndex::load(&[]).unwrap();
    let cfg = idx.task_config("cmmlu_agronomy").unwrap();
    let p =
        PreparedTask::prepare(&cfg, &opts(dir), Some(5), 1234, Some("2".parse().unwrap())).unwrap();
    let d = p.docs().next().unwrap().unwrap();
    assert!(d
        .context
        .starts_with("以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n"));
    assert!(d.context.ends_with("\n答案："));
    assert_eq!(d.context.matches("\n答案：").count(), 6);
    let answer = d.doc["Answer"].as_str().unwrap();
    let gold = ["A", "B", "C", "D"]
        .iter()
        .position(|x| *x == answer)
        .unwrap() as i64;
    assert_eq!(d.target, Target::Index(gold));
    assert_eq!(d.target_value, serde_json::json!(gold));
}

#[test]
fn mmlu_anatomy_gen_prefix_variants_match_lm_eval_fixture() {
    let Some(dir) = data_dir() else { return };
    let idx = TaskIndex::load(&[]).unwrap();
    let mut cfg = idx.task_config("mmlu_anatomy").unwrap();
    cfg.gen_prefix = Some("The answer is:".into());
    cfg.fewshot_config.gen_prefix = Some("The answer is:".into());
    let one = Some("1".parse().unwrap());
    let p0 = PreparedTask::prepare(&cfg, &opts(dir.clone()), None, 1234, one).unwrap();
    let d = p0.docs().next().unwrap().unwrap();
    assert_eq!(d.context, format!("{HEADER}{ANATOMY_Q} The answer is:"));
    let p5 = PreparedTask::prepare(&cfg, &opts(dir), Some(5), 1234, one).unwrap();
    let d = p5.docs().next().unwrap().unwrap();
    let shots = ANATOMY_SHOTS.replace("Answer: ", "Answer: The answer is: ");
    assert_eq!(
        d.context,
        format!("{HEADER}{shots}{ANATOMY_Q} The answer is:")
    );
}
