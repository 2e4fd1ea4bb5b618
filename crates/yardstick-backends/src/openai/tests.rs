//! Backend tests against the in-process fake completions server (`yardstick_testkit::MockLm`), which
//! reproduces ref_server.py's response shapes and other servers' habits.

use super::*;
use crate::probe::TokenizerCheck;
use crate::tokenizer::tests::toy;
use std::time::Instant;
use yardstick_testkit::{BosMode, EchoMode, FaultConfig, FaultProxy, MockConfig, MockLm, Scripted};

fn mock_config(t: &Tokenizer, bos_mode: BosMode) -> MockConfig {
    let pieces = t.pieces().expect("local tokenizer");
    let strings: Vec<String> = (0..pieces.len() as u32)
        .map(|i| pieces.piece(i).unwrap_or("").to_string())
        .collect();
    let hf = t.hf().expect("hf").clone();
    let mut c = MockConfig::synthetic(strings.len());
    c.pieces = strings;
    c.bos = 1;
    c.eos = 2;
    c.bos_mode = bos_mode;
    c.tokenize = Some(Arc::new(move |s: &str, special: bool| {
        hf.encode(s, special)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default()
    }));
    c
}

fn opts(t: &Arc<Tokenizer>) -> OpenAiOptions {
    OpenAiOptions {
        tokenizer: TokenizerChoice::Loaded(Arc::clone(t)),
        max_retries: 5,
        timeout: Duration::from_secs(20),
        ..OpenAiOptions::default()
    }
}

async fn question(t: &Tokenizer, ctx: &str) -> (Vec<u32>, Vec<Vec<u32>>) {
    let mut conts = Vec::new();
    let mut context = Vec::new();
    for c in ["A", "B", "C", "D"] {
        let p = t
            .encode_pair(ctx, &format!(" {c}"), false)
            .await
            .expect("pair");
        context = p.context.to_vec();
        conts.push(p.continuation);
    }
    (context, conts)
}

#[tokio::test]
async fn probe_reports_what_a_ref_server_like_server_can_do() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let p = b.probe().await.expect("probe");
    assert_eq!(p.model_id, "mock-model");
    assert_eq!(p.echo, EchoSupport::TokenIds);
    assert_eq!(p.bos.plain_offset, 0);
    assert_eq!(
        p.bos.bos_first_offset, -1,
        "ref_server hides a BOS that was sent"
    );
    assert!(p.prompt_batching);
    assert_eq!(p.max_logprobs, 100);
    assert!(p.grouped_single_token);
    assert_eq!(p.server_context_length, Some(4096));
    assert!(
        matches!(p.tokenizer, TokenizerCheck::Agrees { .. }),
        "{:?}",
        p.tokenizer
    );
    assert!(p
        .unsupported_reason(yardstick_core::RequestKind::Loglikelihood)
        .is_none());
    assert!(p.render().contains("prompt log-probs over token ids: yes"));
    // the fingerprint is stable across connections and does not include volatile fields
    let b2 = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    assert_eq!(b.fingerprint(), b2.fingerprint());
    assert_eq!(b.fingerprint().len(), 64);
}

#[tokio::test]
async fn payload_is_lm_eval_s_and_single_requests_score() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let (ctx, conts) = question(&t, "answer: ").await;
    let before = mock.completions();
    let r = b.loglikelihood(&ctx, &conts[0]).await.expect("ll");
    assert_eq!(mock.completions(), before + 1);
    let body = mock
        .stats
        .bodies
        .lock()
        .expect("lock")
        .back()
        .cloned()
        .expect("body");
    let keys: Vec<&str> = body
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "model",
            "prompt",
            "temperature",
            "max_tokens",
            "logprobs",
            "seed",
            "echo"
        ]
    );
    assert_eq!(body["logprobs"], 1);
    assert_eq!(body["echo"], true);
    assert_eq!(body["seed"], 1234);
    let sent: Vec<u32> = ctx.iter().chain(&conts[0]).copied().collect();
    assert_eq!(body["prompt"], json!(sent));
    assert_eq!(&*r.sent, &sent[..]);
    assert_eq!(r.ctxlen, ctx.len());
    assert_eq!(
        b.loglikelihood_request_payload(&ctx, &conts[0])
            .expect("payload"),
        body
    );
    assert!(r.result.logprob < 0.0);
    assert_eq!(r.path, ScoringPath::Single);
    assert_eq!(r.stats.retries, 0);
    assert_eq!(r.stats.prompt_tokens as usize, sent.len());
}

#[tokio::test]
async fn grouped_single_token_choices_are_bit_identical_to_per_choice_requests() {
    let t = Arc::new(toy());
    let plain = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let mut c = mock_config(&t, BosMode::PrependHidden);
    let hf = t.hf().expect("hf");
    c.boost = ["▁A", "▁B", "▁C", "▁D"]
        .iter()
        .filter_map(|p| hf.token_to_id(p))
        .collect();
    let boosted = MockLm::start(c).expect("mock");
    for (mock, all_in_top) in [(&plain, false), (&boosted, true)] {
        // The toy vocabulary is mostly byte tokens whose pieces collide ("A" = <0x41>, "\u{FFFD}"): a top-10
        // would hold ambiguous keys and be refused; the boosted letters fill a top-4 exactly.
        let top_k = if all_in_top { Some(4) } else { None };
        let b = OpenAiBackend::connect(
            &mock.url(),
            OpenAiOptions {
                group_top_k: top_k,
                ..opts(&t)
            },
        )
        .await
        .expect("connect");
        b.probe().await.expect("probe");
        for ctx_text in ["answer:", "we answer:", "ans wer:", "a"] {
            let (ctx, conts) = question(&t, ctx_text).await;
            assert!(conts.iter().all(|c| c.len() == 1), "{conts:?}");
            let before = mock.completions();
            let grouped = b.loglikelihood_group(&ctx, &conts).await.expect("group");
            let group_requests = mock.completions() - before;
            let mut single = Vec::new();
            for c in &conts {
                single.push(b.loglikelihood(&ctx, c).await.expect("single"));
            }
            for (g, s) in grouped.iter().zip(&single) {
                assert_eq!(
                    g.result.logprob.to_bits(),
                    s.result.logprob.to_bits(),
                    "{ctx_text:?}: bit-identical"
                );
                assert_eq!(g.result.is_greedy, s.result.is_greedy);
                assert_eq!(g.sent, s.sent);
                assert_eq!(g.ctxlen, s.ctxlen);
            }
            if all_in_top {
                assert_eq!(group_requests, 1, "every choice read from one response");
                assert!(grouped.iter().all(|g| g.path == ScoringPath::Grouped));
            } else {
                assert!((1..=4).contains(&group_requests));
            }
        }
        let c = b.counters();
        assert!(c.grouped_questions >= 4, "{c:?}");
        if all_in_top {
            assert_eq!(c.grouped_fallbacks, 0);
        } else {
            assert!(
                c.grouped_fallbacks > 0,
                "a random model rarely ranks every choice in the top 4: {c:?}"
            );
        }
    }
}

#[tokio::test]
async fn multi_token_choices_batched_equal_single_requests() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let mut conts = Vec::new();
    let mut ctx = Vec::new();
    for c in [" answer", " we A", " ans B C"] {
        let p = t.encode_pair("answer:", c, false).await.expect("pair");
        ctx = p.context.to_vec();
        conts.push(p.continuation);
    }
    let before = mock.completions();
    let g = b.loglikelihood_group(&ctx, &conts).await.expect("group");
    assert_eq!(mock.completions() - before, 1, "one batched request");
    for (g, c) in g.iter().zip(&conts) {
        let s = b.loglikelihood(&ctx, c).await.expect("single");
        assert_eq!(g.path, ScoringPath::Batched);
        assert_eq!(g.result, s.result);
    }
}

#[tokio::test]
async fn servers_that_report_or_hide_bos_give_the_same_results() {
    let t = Arc::new(toy());
    let hidden = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let reported = MockLm::start(mock_config(&t, BosMode::PrependReported)).expect("mock");
    let bh = OpenAiBackend::connect(&hidden.url(), opts(&t))
        .await
        .expect("connect");
    let br = OpenAiBackend::connect(&reported.url(), opts(&t))
        .await
        .expect("connect");
    let pr = br.probe().await.expect("probe");
    assert_eq!(pr.bos.plain_offset, 1);
    assert_eq!(pr.bos.bos_first_offset, 0);
    let (ctx, conts) = question(&t, "we answer:").await;
    for c in &conts {
        let a = bh.loglikelihood(&ctx, c).await.expect("hidden");
        let r = br.loglikelihood(&ctx, c).await.expect("reported");
        assert_eq!(a.result, r.result);
        assert!(
            r.lm_eval_slice.is_some(),
            "lm-eval's literal slice is misaligned on this server"
        );
    }
    let ga = bh.loglikelihood_group(&ctx, &conts).await.expect("group");
    let gr = br.loglikelihood_group(&ctx, &conts).await.expect("group");
    for (a, r) in ga.iter().zip(&gr) {
        assert_eq!(a.result, r.result);
    }
    // empty context: [BOS] + continuation; the hidden-BOS server cannot score the first continuation token
    let e = t.encode_pair("", "answer", false).await.expect("pair");
    assert_eq!(&*e.context, &[1]);
    let a = bh
        .loglikelihood(&e.context, &e.continuation)
        .await
        .expect("hidden");
    let r = br
        .loglikelihood(&e.context, &e.continuation)
        .await
        .expect("reported");
    assert!(a.result.logprob > r.result.logprob || e.continuation.len() == 1);
}

#[tokio::test]
async fn a_server_that_refuses_echo_is_named_and_tasks_are_refused() {
    let t = Arc::new(toy());
    let mut c = mock_config(&t, BosMode::PrependHidden);
    c.echo = EchoMode::RejectLikeLlamaCpp;
    let mock = MockLm::start(c).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let p = b.probe().await.expect("probe");
    assert!(
        matches!(&p.echo, EchoSupport::Unsupported { reason } if reason.contains("Only no echo is supported")),
        "{:?}",
        p.echo
    );
    let why = p
        .unsupported_reason(yardstick_core::RequestKind::Loglikelihood)
        .expect("refused");
    assert!(why.contains("echo"), "{why}");
    assert!(p
        .unsupported_reason(yardstick_core::RequestKind::GenerateUntil)
        .is_none());
    let (ctx, conts) = question(&t, "answer: ").await;
    let err = b.loglikelihood(&ctx, &conts[0]).await.expect_err("no echo");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot score log-likelihoods") && msg.contains("llama-server"),
        "{msg}"
    );

    let mut c = mock_config(&t, BosMode::PrependHidden);
    c.echo = EchoMode::NoPromptLogprobs;
    let mock = MockLm::start(c).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let p = b.probe().await.expect("probe");
    assert!(
        matches!(&p.echo, EchoSupport::Unsupported { reason } if reason.contains("no log-probabilities")),
        "{:?}",
        p.echo
    );
}

#[tokio::test]
async fn a_tokenizer_that_disagrees_with_the_server_is_an_error() {
    let t = Arc::new(toy());
    let mut c = mock_config(&t, BosMode::PrependHidden);
    let hf = t.hf().expect("hf").clone();
    // The server's tokenizer knows no merges beyond single characters for "answer".
    c.tokenize = Some(Arc::new(move |s: &str, special: bool| {
        let ids = hf
            .encode(s, special)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default();
        let answer = hf.token_to_id("▁answer");
        ids.into_iter()
            .flat_map(|i| {
                if Some(i) == answer {
                    vec![3 + b'a' as u32, 3 + b'n' as u32]
                } else {
                    vec![i]
                }
            })
            .collect()
    }));
    let mock = MockLm::start(c).expect("mock");
    let b = OpenAiBackend::connect(
        &mock.url(),
        OpenAiOptions {
            probe_texts: vec!["answer: A".into()],
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    let err = b.probe().await.expect_err("mismatch");
    let msg = err.to_string();
    assert!(
        matches!(err, BackendError::TokenizerMismatch { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("does not agree") && msg.contains("answer"),
        "{msg}"
    );
    // later requests fail the same way instead of being silently misaligned
    let (ctx, conts) = question(&t, "answer: ").await;
    assert!(b.loglikelihood(&ctx, &conts[0]).await.is_err());
}

#[tokio::test]
async fn text_only_servers_are_scored_by_offsets() {
    let t = Arc::new(toy());
    let tokens = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let mut c = mock_config(&t, BosMode::PrependHidden);
    c.token_prompts = false;
    let text = MockLm::start(c).expect("mock");
    let bt = OpenAiBackend::connect(&tokens.url(), opts(&t))
        .await
        .expect("connect");
    let bx = OpenAiBackend::connect(&text.url(), opts(&t))
        .await
        .expect("connect");
    let p = bx.probe().await.expect("probe");
    assert!(
        matches!(p.echo, EchoSupport::TextOnly { .. }),
        "{:?}",
        p.echo
    );
    let (ctx, conts) = question(&t, "we answer:").await;
    for c in &conts {
        let a = bt.loglikelihood(&ctx, c).await.expect("tokens");
        let x = bx.loglikelihood(&ctx, c).await.expect("text");
        assert_eq!(x.path, ScoringPath::TextOffsets);
        assert_eq!(a.result, x.result);
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_the_limiter_backs_off() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let (ctx, conts) = question(&t, "answer: ").await;
    let clean = b.loglikelihood(&ctx, &conts[0]).await.expect("clean");
    mock.push_script([
        Scripted {
            status: 429,
            retry_after: Some("1".into()),
            body: r#"{"error":"slow down"}"#.into(),
        },
        Scripted {
            status: 503,
            retry_after: None,
            body: "busy".into(),
        },
    ]);
    let t0 = Instant::now();
    let r = b.loglikelihood(&ctx, &conts[0]).await.expect("retried");
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 honoured ({:?})",
        t0.elapsed()
    );
    assert_eq!(r.stats.retries, 2);
    assert_eq!(r.result, clean.result);
    let (limit, decreases) = b.concurrency_now();
    assert!(
        decreases >= 1 && limit < 8,
        "limit {limit}, decreases {decreases}"
    );
    // HTTP-date form
    let when = std::time::SystemTime::now() + Duration::from_secs(2);
    let secs = when
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    mock.push_script([Scripted {
        status: 429,
        retry_after: Some(http_date(secs)),
        body: String::new(),
    }]);
    let t0 = Instant::now();
    b.loglikelihood(&ctx, &conts[0]).await.expect("retried");
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
}

/// Issue 8: `Retry-After: 100000` paused new requests for ~28 h (the retry sleep was capped, the limiter's
/// pause was not). Both are now capped by --timeout (here 1 s).
#[tokio::test]
async fn a_huge_retry_after_pauses_at_most_the_timeout() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let mut o = opts(&t);
    o.timeout = Duration::from_secs(1);
    let b = OpenAiBackend::connect(&mock.url(), o)
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let (ctx, conts) = question(&t, "answer: ").await;
    mock.push_script([Scripted {
        status: 429,
        retry_after: Some("100000".into()),
        body: r#"{"error":"daily quota exceeded"}"#.into(),
    }]);
    let t0 = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(15), b.loglikelihood(&ctx, &conts[0])).await;
    let elapsed = t0.elapsed();
    let r = r.unwrap_or_else(|_| panic!("Retry-After: 100000 still waited after {elapsed:?}"));
    assert_eq!(r.expect("retried").stats.retries, 1);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // the next request is not held by a long pause either
    let t0 = Instant::now();
    tokio::time::timeout(Duration::from_secs(15), b.loglikelihood(&ctx, &conts[1]))
        .await
        .expect("not paused")
        .expect("answer");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

/// Issue 8: `Retry-After: 1e30` (Duration::from_secs_f64) and `18446744073709551615` (Instant + Duration)
/// panicked.
#[tokio::test]
async fn absurd_retry_after_values_neither_panic_nor_hang() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let mut o = opts(&t);
    o.timeout = Duration::from_secs(1);
    let b = OpenAiBackend::connect(&mock.url(), o)
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let (ctx, conts) = question(&t, "answer: ").await;
    for ra in [
        "1e30",
        "18446744073709551615",
        "99999999999999999999999999",
        "-5",
        "NaN",
        "inf",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Sat, 01 Jan 0001 00:00:00 GMT",
        "soon",
    ] {
        mock.push_script([Scripted {
            status: 503,
            retry_after: Some(ra.into()),
            body: "overloaded".into(),
        }]);
        let t0 = Instant::now();
        let r =
            tokio::time::timeout(Duration::from_secs(15), b.loglikelihood(&ctx, &conts[0])).await;
        let elapsed = t0.elapsed();
        let r = r.unwrap_or_else(|_| panic!("Retry-After: {ra:?} still waited after {elapsed:?}"));
        r.unwrap_or_else(|e| panic!("Retry-After: {ra:?}: {e}"));
        assert!(elapsed < Duration::from_secs(5), "{ra:?}: {elapsed:?}");
    }
}

/// Issue 8: `--model http://user:pass@host/v1` stored and printed the password. The model reference has
/// none; the server still gets the credentials (as Basic authentication).
#[tokio::test]
async fn credentials_in_the_url_are_used_but_never_shown() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let url = mock.url().replacen("http://", "http://alice:s3cr%40t@", 1);
    let b = OpenAiBackend::connect(&url, opts(&t))
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    let m = b.model_ref();
    assert_eq!(m.location, mock.url());
    for shown in [
        format!("{m:?}"),
        format!("{:?}", b.probe().await.expect("probe")),
        b.probe().await.expect("probe").render(),
    ] {
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(!shown.contains("alice"), "{shown}");
    }
}

fn http_date(secs: u64) -> String {
    let days = secs / 86400;
    let rem = secs % 86400;
    // civil from days (Howard Hinnant)
    let z = days as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn client_errors_are_not_retried_and_quote_the_body() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    b.probe().await.expect("probe");
    mock.push_script([Scripted {
        status: 400,
        retry_after: None,
        body: r#"{"error":{"message":"prompt too long for this model"}}"#.into(),
    }]);
    let before = mock.completions();
    let (ctx, conts) = question(&t, "answer: ").await;
    let err = b.loglikelihood(&ctx, &conts[0]).await.expect_err("400");
    assert_eq!(mock.completions() - before, 1, "not retried");
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 400")
            && msg.contains("prompt too long for this model")
            && msg.contains("/v1/completions"),
        "{msg}"
    );
    assert_eq!(err.status(), Some(400));
    // 5xx are retried until the budget is spent
    let b = OpenAiBackend::connect(
        &mock.url(),
        OpenAiOptions {
            max_retries: 2,
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    b.probe().await.expect("probe");
    let s500 = Scripted {
        status: 500,
        retry_after: None,
        body: "boom".into(),
    };
    mock.push_script([s500.clone(), s500.clone(), s500]);
    let err = b.loglikelihood(&ctx, &conts[0]).await.expect_err("500s");
    assert!(
        matches!(err, BackendError::RetriesExhausted { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("boom"));
}

#[tokio::test]
async fn an_unreachable_server_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let t = Arc::new(toy());
    let err = OpenAiBackend::connect(&format!("http://127.0.0.1:{port}/v1"), opts(&t))
        .await
        .expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, BackendError::Unreachable { .. }), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}"))
            && msg.to_lowercase().contains("refused")
            && msg.contains("Is the server running?"),
        "{msg}"
    );
}

#[tokio::test]
async fn slow_responses_time_out() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(
        &mock.url(),
        OpenAiOptions {
            timeout: Duration::from_millis(300),
            max_retries: 1,
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    b.probe().await.expect("probe");
    mock.set_latency(Duration::from_secs(2));
    let (ctx, conts) = question(&t, "answer: ").await;
    let err = b.loglikelihood(&ctx, &conts[0]).await.expect_err("timeout");
    assert!(err.to_string().contains("did not answer within"), "{err}");
}

#[tokio::test]
async fn faults_injected_by_a_proxy_do_not_change_results() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let proxy = FaultProxy::start(
        &format!("http://{}", mock.addr()),
        FaultConfig {
            p_500: 0.2,
            p_drop: 0.1,
            p_slow: 0.05,
            slow: Duration::from_millis(100),
            seed: 11,
            max_in_flight: 32,
        },
    )
    .expect("proxy");
    let direct = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let faulty = OpenAiBackend::connect(
        &format!("{}/v1", proxy.url()),
        OpenAiOptions {
            max_retries: 10,
            concurrency: 4,
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    let mut contexts = Vec::new();
    for i in 0..12 {
        contexts.push(question(&t, &format!("we answer {i}:")).await);
    }
    for (ctx, conts) in &contexts {
        let d = direct
            .loglikelihood_group(ctx, conts)
            .await
            .expect("direct");
        let f = faulty
            .loglikelihood_group(ctx, conts)
            .await
            .expect("through faults");
        for (a, b) in d.iter().zip(&f) {
            assert_eq!(a.result.logprob.to_bits(), b.result.logprob.to_bits());
            assert_eq!(a.result.is_greedy, b.result.is_greedy);
        }
    }
    let s = proxy.summary();
    assert!(
        s.injected_500 > 0 && s.dropped_before + s.dropped_mid_response > 0,
        "{s:?}"
    );
    assert!(faulty.counters().retries > 0);
}

#[tokio::test]
async fn generation_sends_lm_eval_s_payload() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    let b = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let params = GenerationParams {
        until: vec!["\n\n".into()],
        max_gen_toks: 5,
        temperature: 0.0,
        do_sample: false,
        extra: Default::default(),
    };
    let g = b
        .generate(&GenPrompt::Text("answer:".into()), &params)
        .await
        .expect("generate");
    let body = mock
        .stats
        .bodies
        .lock()
        .expect("lock")
        .back()
        .cloned()
        .expect("body");
    let keys: Vec<&str> = body
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "prompt",
            "model",
            "max_tokens",
            "temperature",
            "stop",
            "seed"
        ]
    );
    assert_eq!(body["stop"], json!(["\n\n", "</s>"]));
    assert!(g.finish_reason.is_some());
    // the same prompt gives the same text (greedy)
    let g2 = b
        .generate(&GenPrompt::Text("answer:".into()), &params)
        .await
        .expect("generate");
    assert_eq!(g.text, g2.text);
}

#[tokio::test]
async fn an_empty_context_group_is_scored_per_choice_without_disabling_the_fast_path() {
    let t = Arc::new(toy());
    let mut c = mock_config(&t, BosMode::PrependHidden);
    let hf = t.hf().expect("hf");
    c.boost = ["▁A", "▁B", "▁C", "▁D"]
        .iter()
        .filter_map(|p| hf.token_to_id(p))
        .collect();
    let mock = MockLm::start(c).expect("mock");
    let b = OpenAiBackend::connect(
        &mock.url(),
        OpenAiOptions {
            group_top_k: Some(4),
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    b.probe().await.expect("probe");
    let mut conts = Vec::new();
    let mut ctx = Vec::new();
    for l in ["A", "B", "C", "D"] {
        let e = t.encode_pair("", l, false).await.expect("pair");
        ctx = e.context.to_vec();
        conts.push(e.continuation);
    }
    assert_eq!(ctx, vec![1], "empty context → [BOS]");
    assert!(conts.iter().all(|c| c.len() == 1));
    let g = b.loglikelihood_group(&ctx, &conts).await.expect("group");
    for (g, c) in g.iter().zip(&conts) {
        let s = b.loglikelihood(&ctx, c).await.expect("single");
        assert_eq!(g.result, s.result);
    }
    // the next ordinary question still takes the one-request path
    let (ctx, conts) = question(&t, "answer:").await;
    let before = mock.completions();
    let g = b.loglikelihood_group(&ctx, &conts).await.expect("group");
    assert_eq!(mock.completions() - before, 1);
    assert!(g.iter().all(|o| o.path == ScoringPath::Grouped));
}

#[tokio::test]
async fn literal_slicing_mode_reproduces_lm_eval_on_a_server_that_reports_bos() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependReported)).expect("mock");
    let aligned = OpenAiBackend::connect(&mock.url(), opts(&t))
        .await
        .expect("connect");
    let literal = OpenAiBackend::connect(
        &mock.url(),
        OpenAiOptions {
            lm_eval_literal_slicing: true,
            ..opts(&t)
        },
    )
    .await
    .expect("connect");
    assert!(!literal.probe().await.expect("probe").grouped_single_token);
    let (ctx, conts) = question(&t, "we answer:").await;
    let a = aligned
        .loglikelihood(&ctx, &conts[0])
        .await
        .expect("aligned");
    let l = literal
        .loglikelihood(&ctx, &conts[0])
        .await
        .expect("literal");
    assert_eq!(Some(l.result), a.lm_eval_slice);
    assert_eq!(l.lm_eval_slice, Some(a.result));
}

#[test]
fn the_backend_is_shareable_and_object_safe() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<OpenAiBackend>();
    send_sync::<Tokenizer>();
    let _upcast: fn(Arc<OpenAiBackend>) -> Arc<dyn Backend> = |b| b;
}

#[tokio::test]
async fn the_reason_one_request_per_choice_was_used_is_kept() {
    let t = Arc::new(toy());
    let mock = MockLm::start(mock_config(&t, BosMode::PrependHidden)).expect("mock");
    // A random model whose letters are rarely in the top 4: the trial turns the grouped path off and says
    // why; a backend told not to group says that instead; no multiple-choice question, no reason.
    for (grouped, top_k) in [(true, Some(4)), (false, None)] {
        let b = OpenAiBackend::connect(
            &mock.url(),
            OpenAiOptions {
                grouped,
                group_top_k: top_k,
                ..opts(&t)
            },
        )
        .await
        .expect("connect");
        b.probe().await.expect("probe");
        assert_eq!(b.grouping_off(), None, "no question yet");
        for i in 0..(GROUP_TRIAL_QUESTIONS + 4) {
            let (ctx, conts) = question(&t, &format!("question {i} answer:")).await;
            b.loglikelihood_group(&ctx, &conts).await.expect("group");
        }
        let c = b.counters();
        assert_eq!(c.single_token_questions, GROUP_TRIAL_QUESTIONS + 4, "{c:?}");
        let why = b.grouping_off().expect("a reason");
        if grouped {
            assert!(
                matches!(
                    why,
                    GroupingOff::ChoicesOutsideTopK { top_k: 4, .. }
                        | GroupingOff::AmbiguousTopNames { .. }
                ),
                "{why:?}"
            );
        } else {
            assert_eq!(why, GroupingOff::Disabled);
            assert!(why.to_string().contains("--no-grouping"), "{why}");
        }
    }
}
