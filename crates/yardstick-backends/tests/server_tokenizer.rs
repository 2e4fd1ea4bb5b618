//! The grouped multiple-choice path without a local tokenizer (`--tokenizer server`), on the real
//! SmolLM2-135M-Instruct through the reference server (mmlu 5-shot): token names are asked of the server, the first
//! questions are checked choice by choice, and afterwards a question costs one request — with results
//! bit-identical to one request per choice.

use yardstick_backends::{
    Backend, EchoSupport, OpenAiBackend, OpenAiOptions, ScoringPath, TokenizerChoice, TokenizerSpec,
};
use yardstick_testkit::{require_shared_data, smollm2_gguf, RefServer};

fn rows(path: &std::path::Path, n: usize) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rdr.records()
        .take(n)
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn mc(row: &[String]) -> String {
    format!(
        "{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:",
        row[0], row[1], row[2], row[3], row[4]
    )
}

/// MMLU 5-shot prompts as lm-eval writes them (dev rows as examples), 3 subjects × 4 validation questions.
fn mmlu_questions(shared: &std::path::Path) -> Vec<String> {
    let mmlu = shared.join("benchmarks/mmlu");
    let mut out = Vec::new();
    for subject in ["astronomy", "college_biology", "high_school_geography"] {
        let shots: String = rows(&mmlu.join(format!("dev/{subject}_dev.csv")), 5)
            .iter()
            .map(|r| format!("{} {}\n\n", mc(r), r[5]))
            .collect();
        let header = format!(
            "The following are multiple choice questions (with answers) about {}.\n\n",
            subject.replace('_', " ")
        );
        for q in rows(&mmlu.join(format!("val/{subject}_val.csv")), 4) {
            out.push(format!("{header}{shots}{}", mc(&q)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_path_reads_the_servers_token_names_on_smollm2() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(model) = smollm2_gguf() else {
        return;
    };
    let Some(server) = RefServer::start(&model) else {
        return;
    };
    let b = OpenAiBackend::connect(
        &server.url(),
        OpenAiOptions {
            tokenizer: TokenizerChoice::Spec(TokenizerSpec::Server),
            concurrency: 2,
            ..OpenAiOptions::default()
        },
    )
    .await
    .expect("connect");
    let p = b.probe().await.expect("probe");
    eprintln!("{}", p.render());
    assert_eq!(p.echo, EchoSupport::TokenIds);
    assert!(
        p.grouped_single_token,
        "the grouped path is offered without a local tokenizer"
    );
    let tok = b.tokenizer().expect("server tokenizer").clone();
    assert!(!tok.is_local());

    let questions = mmlu_questions(&shared);
    assert_eq!(questions.len(), 12);
    let mut one_request = 0;
    for q in &questions {
        let mut conts = Vec::new();
        let mut ctx = Vec::new();
        for c in ["A", "B", "C", "D"] {
            let e = tok
                .encode_pair(q, &format!(" {c}"), false)
                .await
                .expect("pair");
            ctx = e.context.to_vec();
            conts.push(e.continuation.to_vec());
        }
        assert!(conts.iter().all(|c| c.len() == 1), "{conts:?}");
        let before = b.counters().http_calls;
        let g = b.loglikelihood_group(&ctx, &conts).await.expect("group");
        let calls = b.counters().http_calls - before;
        if calls == 1 && g.iter().all(|o| o.path == ScoringPath::Grouped) {
            one_request += 1;
        }
        for (gi, c) in g.iter().zip(&conts) {
            let s = b.loglikelihood(&ctx, c).await.expect("single");
            assert_eq!(
                gi.result.logprob.to_bits(),
                s.result.logprob.to_bits(),
                "{q:?}: grouped reading == own request"
            );
            assert_eq!(gi.result.is_greedy, s.result.is_greedy, "{q:?}");
            assert_eq!(gi.sent, s.sent);
        }
    }
    let c = b.counters();
    eprintln!("counters: {c:?}; questions from one request: {one_request}/12");
    assert_eq!(c.grouped_questions, 12, "{c:?}");
    assert!(
        c.piece_checks > 0 && c.piece_checks <= 3 * 8,
        "the first 8 questions are checked choice by choice: {c:?}"
    );
    // 5-shot, SmolLM2 ranks " A".." D" in its top 10: after the check, one request per question (a choice
    // equal to the visible maximum of a dict that lost names to sharing would get its own request).
    assert!(c.grouped_choices_read >= 24, "{c:?}");
    assert!(
        one_request >= 3,
        "{one_request}/12 (4 after the 8 checked), {c:?}"
    );
}
