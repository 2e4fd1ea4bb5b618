//! Chat templates rendered by Yardstick against Hugging Face transformers' `apply_chat_template(tokenize=False)`
//! (the peers' virtualenv, as lm-eval calls it for `--apply_chat_template` on a completions endpoint): the
//! template styles real models ship (ChatML, Llama 3 headers, a Gemma-like one that folds the system message
//! into the first user turn, one using `tojson`, loop controls and Python string methods), with and without a
//! generation prompt, and with an assistant prefill continued (`continue_final_message`).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use yardstick_tasks::chat_template::ChatTemplate;
use yardstick_tasks::{ChatMessage, Role};

const TEMPLATES: &[(&str, &str)] = &[
    (
        "chatml",
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
    ),
    (
        "llama3",
        "{{- bos_token }}\n{%- for message in messages %}\n    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n",
    ),
    (
        "gemma-like",
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set first = messages[0]['content'] + '\n\n' %}{% set loop_messages = messages[1:] %}{% else %}{% set first = '' %}{% set loop_messages = messages %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + (first if loop.first else '') + message['content'].strip() + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
    ),
    (
        "tojson-loopcontrols",
        "{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}[{{ m.role | upper }}] {{ m | tojson }}\n{% if m.content.startswith('STOP') %}{% break %}{% endif %}{% endfor %}{% if add_generation_prompt %}[ASSISTANT]{% endif %}",
    ),
];

fn conversations() -> Vec<(Vec<ChatMessage>, bool)> {
    let m = |role, content: &str| ChatMessage {
        role,
        content: content.to_string(),
    };
    vec![
        (vec![m(Role::User, "What is 2+2?")], true),
        (
            vec![
                m(Role::System, "The following are questions about math.\n\n"),
                m(Role::User, "Q: 1+1?\nA:"),
                m(Role::Assistant, "2"),
                m(Role::User, "Q: 2+3?\nA:"),
            ],
            true,
        ),
        // continue_final_message: an assistant prefill (a task's gen_prefix), with and without trailing space
        (
            vec![
                m(Role::User, "Q: 6*7?"),
                m(Role::Assistant, "The answer is"),
            ],
            false,
        ),
        (
            vec![m(Role::User, "  padded  "), m(Role::Assistant, "Answer: ")],
            false,
        ),
        (
            vec![
                m(Role::User, "naïve “quotes” 中文 <tag> \"q\""),
                m(Role::Assistant, "STOP here"),
                m(Role::User, "after"),
            ],
            true,
        ),
        // two user turns in a row: the Gemma-like template raises, the others render
        (vec![m(Role::User, "one"), m(Role::User, "two")], true),
    ]
}

const ORACLE: &str = r#"
import json, sys, tempfile, os
from transformers import PreTrainedTokenizerFast
cases = json.load(sys.stdin)
out = []
for c in cases:
    tok = PreTrainedTokenizerFast(tokenizer_object=None, tokenizer_file=c["tokenizer_file"],
                                  bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    tok.chat_template = c["template"]
    try:
        r = tok.apply_chat_template(c["messages"], tokenize=False,
                                    add_generation_prompt=c["gen"], continue_final_message=not c["gen"])
        out.append({"ok": r})
    except Exception as e:
        out.append({"err": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
"#;

#[test]
fn chat_templates_render_like_transformers() {
    let Some(py) = yardstick_testkit::require_peer_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tok_file = dir.path().join("tokenizer.json");
    std::fs::write(&tok_file, yardstick_testkit::toy_tokenizer_json()).unwrap();
    let mut specials = BTreeMap::new();
    specials.insert("bos_token".to_string(), "<s>".to_string());
    specials.insert("eos_token".to_string(), "</s>".to_string());
    specials.insert("unk_token".to_string(), "<unk>".to_string());
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (name, src) in TEMPLATES {
        let t = ChatTemplate::new(src, name, specials.clone()).expect("compiles");
        for (messages, gen) in conversations() {
            cases.push(json!({
                "tokenizer_file": tok_file.display().to_string(),
                "template": src,
                "messages": messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect::<Vec<_>>(),
                "gen": gen,
            }));
            ours.push((name, t.render(&messages, gen)));
        }
    }
    let out = yardstick_testkit::python::run_python(
        py.to_str().unwrap(),
        ORACLE,
        &serde_json::to_string(&cases).unwrap(),
    )
    .expect("python runs");
    let theirs: Vec<Value> = serde_json::from_str(out.trim()).expect("oracle JSON");
    assert_eq!(theirs.len(), ours.len());
    let (mut same, mut errors_both) = (0, 0);
    for (i, ((name, mine), t)) in ours.iter().zip(&theirs).enumerate() {
        match (mine, t.get("ok").and_then(Value::as_str)) {
            (Ok(a), Some(b)) => {
                assert_eq!(a, b, "case {i} ({name}): rendered text differs");
                same += 1;
            }
            (Err(_), None) => errors_both += 1,
            (a, _) => panic!("case {i} ({name}): yardstick {a:?}, transformers {t}"),
        }
    }
    // the Gemma-like template refuses a conversation that does not alternate; everything else renders
    assert_eq!((same, errors_both), (23, 1));
    println!("{same} renders identical to transformers, {errors_both} refused by both");
}
