//! Deterministic synthetic responses for the IFEval oracle: for each `google/IFEval` row, texts built to
//! follow (or nearly follow) its instructions, and generic ones (the prompt, case changes, JSON, quotes,
//! paragraphs, sections, bullets) that exercise every checker on both sides of its threshold.

use serde_json::Value;

/// Short texts in the languages `language:response_language` asks for (and English).
const LANG_TEXTS: &[(&str, &str)] = &[
    (
        "en",
        "The weather was pleasant today, so we walked to the market and bought fresh bread.",
    ),
    (
        "ar",
        "كان الطقس جميلا اليوم، لذلك ذهبنا إلى السوق واشترينا خبزا طازجا.",
    ),
    (
        "bg",
        "Времето днес беше приятно, затова отидохме на пазара и купихме пресен хляб.",
    ),
    ("bn", "আজ আবহাওয়া খুব সুন্দর ছিল, তাই আমরা বাজারে গিয়ে তাজা রুটি কিনলাম।"),
    (
        "de",
        "Das Wetter war heute angenehm, also gingen wir zum Markt und kauften frisches Brot.",
    ),
    (
        "fa",
        "امروز هوا خوب بود، پس به بازار رفتیم و نان تازه خریدیم.",
    ),
    (
        "fi",
        "Sää oli tänään mukava, joten kävelimme torille ja ostimme tuoretta leipää.",
    ),
    (
        "gu",
        "આજે હવામાન સુંદર હતું, તેથી અમે બજારમાં ગયા અને તાજી રોટલી ખરીદી.",
    ),
    (
        "hi",
        "आज मौसम बहुत अच्छा था, इसलिए हम बाज़ार गए और ताज़ी रोटी खरीदी।",
    ),
    (
        "it",
        "Oggi il tempo era bello, quindi siamo andati al mercato e abbiamo comprato pane fresco.",
    ),
    (
        "kn",
        "ಇಂದು ಹವಾಮಾನ ಚೆನ್ನಾಗಿತ್ತು, ಆದ್ದರಿಂದ ನಾವು ಮಾರುಕಟ್ಟೆಗೆ ಹೋಗಿ ತಾಜಾ ರೊಟ್ಟಿ ಖರೀದಿಸಿದೆವು.",
    ),
    (
        "ko",
        "오늘은 날씨가 좋아서 우리는 시장에 가서 신선한 빵을 샀습니다.",
    ),
    (
        "mr",
        "आज हवामान छान होते, म्हणून आम्ही बाजारात गेलो आणि ताजी भाकरी विकत घेतली.",
    ),
    (
        "ne",
        "आज मौसम राम्रो थियो, त्यसैले हामी बजार गयौं र ताजा रोटी किन्यौं।",
    ),
    (
        "pa",
        "ਅੱਜ ਮੌਸਮ ਬਹੁਤ ਵਧੀਆ ਸੀ, ਇਸ ਲਈ ਅਸੀਂ ਬਾਜ਼ਾਰ ਗਏ ਅਤੇ ਤਾਜ਼ੀ ਰੋਟੀ ਖਰੀਦੀ।",
    ),
    (
        "pt",
        "O tempo estava agradável hoje, então fomos ao mercado e compramos pão fresco.",
    ),
    (
        "ru",
        "Сегодня была хорошая погода, поэтому мы пошли на рынок и купили свежий хлеб.",
    ),
    (
        "sw",
        "Hali ya hewa ilikuwa nzuri leo, kwa hiyo tulienda sokoni na kununua mkate mpya.",
    ),
    (
        "ta",
        "இன்று வானிலை நன்றாக இருந்தது, எனவே நாங்கள் சந்தைக்குச் சென்று புதிய ரொட்டி வாங்கினோம்.",
    ),
    (
        "te",
        "ఈ రోజు వాతావరణం బాగుంది, అందుకే మేము మార్కెట్‌కు వెళ్లి తాజా రొట్టె కొన్నాము.",
    ),
    ("th", "วันนี้อากาศดี เราจึงไปตลาดและซื้อขนมปังสด"),
    (
        "ur",
        "آج موسم اچھا تھا، اس لیے ہم بازار گئے اور تازہ روٹی خریدی۔",
    ),
    (
        "vi",
        "Hôm nay thời tiết đẹp, vì vậy chúng tôi đi chợ và mua bánh mì tươi.",
    ),
];

fn lang_text(code: &str) -> &'static str {
    LANG_TEXTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(LANG_TEXTS[0].1, |(_, t)| t)
}

fn int(kw: &Value, key: &str) -> usize {
    kw.get(key).and_then(Value::as_u64).unwrap_or(1) as usize
}

fn text(kw: &Value, key: &str) -> String {
    kw.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn at_least(kw: &Value, key: &str) -> bool {
    kw.get(key).and_then(Value::as_str) != Some("less than")
}

/// Sentences of filler prose (numbered so that two responses differ).
fn filler(n: usize, seed: usize) -> String {
    (0..n)
        .map(|i| format!("Point {} of the plan is simple and clear.", i + seed))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A response that tries to follow every instruction of the row; `bias` shifts counts by one
/// (0: on target, 1: one over) so that thresholds are hit from both sides.
fn attempt(row: &Value, bias: usize) -> String {
    let ids = row["instruction_id_list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kws = row["kwargs"].as_array().cloned().unwrap_or_default();
    let (mut head, mut body, mut tail) = (String::new(), Vec::<String>::new(), String::new());
    let mut post: Vec<&str> = Vec::new();
    for (id, kw) in ids.iter().zip(&kws) {
        let id = id.as_str().unwrap_or("");
        match id {
            "combination:repeat_prompt" => head = text(kw, "prompt_to_repeat") + "\n",
            "detectable_format:title" => body.push("<<A Fitting Title>>".into()),
            "keywords:existence" => body.push(
                kw["keywords"].as_array().map_or(String::new(), |k| {
                    k.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" and ")
                }) + " matter.",
            ),
            "keywords:frequency" => {
                let n = int(kw, "frequency") + bias;
                let n = if at_least(kw, "relation") {
                    n
                } else {
                    n.saturating_sub(1)
                };
                body.push(vec![text(kw, "keyword"); n].join(" ") + ".");
            }
            "keywords:letter_frequency" => {
                body.push(text(kw, "letter").repeat(int(kw, "let_frequency") + bias))
            }
            "language:response_language" => body.push(lang_text(&text(kw, "language")).into()),
            "length_constraints:number_sentences" => {
                body.push(filler(int(kw, "num_sentences") + bias, 1))
            }
            "length_constraints:number_words" => {
                body.push(vec!["word"; int(kw, "num_words") + bias].join(" "))
            }
            "length_constraints:number_paragraphs" => body.push(
                (0..int(kw, "num_paragraphs") + bias)
                    .map(|i| filler(2, i * 10))
                    .collect::<Vec<_>>()
                    .join("\n\n***\n\n"),
            ),
            "length_constraints:nth_paragraph_first_word" => {
                let nth = int(kw, "nth_paragraph");
                let paras: Vec<String> = (1..=int(kw, "num_paragraphs") + bias)
                    .map(|i| {
                        if i == nth {
                            format!("{} {}", text(kw, "first_word"), filler(1, i))
                        } else {
                            filler(2, i)
                        }
                    })
                    .collect();
                body.push(paras.join("\n\n"));
            }
            "detectable_content:number_placeholders" => body.push(
                (0..int(kw, "num_placeholders") + bias)
                    .map(|i| format!("[field{i}]"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            "detectable_content:postscript" => {
                post.push(if text(kw, "postscript_marker") == "P.P.S" {
                    "P.P.S"
                } else {
                    "P.S."
                })
            }
            "detectable_format:number_bullet_lists" => body.push(
                (0..int(kw, "num_bullets") + bias)
                    .map(|i| format!("* bullet {i}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            "detectable_format:constrained_response" => body.push("My answer is yes.".into()),
            "detectable_format:number_highlighted_sections" => body.push(
                (0..int(kw, "num_highlights") + bias)
                    .map(|i| format!("*part {i}*"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            "detectable_format:multiple_sections" => body.push(
                (1..=int(kw, "num_sections") + bias)
                    .map(|i| format!("{} {i}\n{}", text(kw, "section_spliter"), filler(1, i)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            "change_case:capital_word_frequency" => {
                body.push(vec!["IMPORTANT"; int(kw, "capital_frequency") + bias].join(" ") + ".")
            }
            "startend:end_checker" => tail = text(kw, "end_phrase"),
            _ => {}
        }
    }
    let mut out = head + &body.join("\n\n");
    for p in post {
        out += &format!("\n\n{p} Thank you for reading.");
    }
    if !tail.is_empty() {
        out += &format!("\n{tail}");
    }
    finish(&ids, out)
}

/// Whole-response instructions applied last: two responses, case, commas, quotes, JSON.
fn finish(ids: &[Value], mut out: String) -> String {
    let has = |id: &str| ids.iter().any(|i| i.as_str() == Some(id));
    if has("combination:two_responses") {
        out = format!("{out}\n******\nA second, different answer.");
    }
    if has("change_case:english_capital") {
        out = out.to_uppercase();
    }
    if has("change_case:english_lowercase") {
        out = out.to_lowercase();
    }
    if has("punctuation:no_comma") {
        out = out.replace(',', "");
    }
    if has("startend:quotation") {
        out = format!("\"{out}\"");
    }
    if has("detectable_format:json_format") {
        out = format!("```json\n{}\n```", serde_json::json!({ "response": out }));
    }
    out
}

/// All synthetic responses for one row.
pub fn responses(row: &Value) -> Vec<String> {
    let prompt = row["prompt"].as_str().unwrap_or("").to_string();
    let first_line = prompt.lines().next().unwrap_or("").to_string();
    vec![
        prompt.clone(),
        prompt.to_uppercase(),
        prompt.to_lowercase(),
        attempt(row, 0),
        attempt(row, 1),
        format!(
            "Sure! Here is my answer:\n{}\nI hope this helps.",
            attempt(row, 0)
        ),
        format!(
            "**{}**\n\n{}",
            first_line,
            attempt(row, 0).replace("\n\n", "\n\n* ")
        ),
        format!("\"{}\"", prompt.replace('\n', " ")),
        format!("```json\n{}\n```", serde_json::json!({ "answer": prompt })),
        prompt.split(". ").collect::<Vec<_>>().join(".\n\n***\n\n"),
    ]
}

/// Texts for the tokenizer and language comparisons alone.
pub fn extra_texts() -> Vec<String> {
    let mut v: Vec<String> = LANG_TEXTS.iter().map(|(_, t)| t.to_string()).collect();
    v.extend(
        [
            "Dr. Watson met Mr. J. R. R. Tolkien at 5 p.m. on Jan. 3. They talked.",
            "He said \"Stop.\" Then he left! Did she follow? (She did.) The end...",
            "Prices rose 3.5% in the U.S. last year. The U.K. saw 2.1%. Really?",
            "I'M SO EXCITED!!! WE WON'T STOP. GONNA PARTY, Y'ALL. 'TIS THE SEASON.",
            "e.g. this, i.e. that; etc. Ph.D. students at St. Mary's Inc. agree.",
            "Item 1.\nItem 2.\n\nNew paragraph here. Another one... and more.",
            "“Curly quotes.” ‘Single ones.’ «Guillemets.» — dashes – and — more.",
            "NASA's CEO, Dr. SMITH (USA), said: \"WE CANNOT WAIT\"; it's OK.",
        ]
        .map(str::to_string),
    );
    v
}

/// Pieces that stress Punkt and the Treebank tokenizer: abbreviations, initials, numbers, ellipses,
/// quotes and brackets around sentence ends, contractions, capitals, markdown, line breaks.
const PIECES: &[&str] = &[
    "the",
    "cat",
    "sat",
    "Mr.",
    "Dr.",
    "U.S.",
    "e.g.",
    "etc.",
    "No.",
    "St.",
    "Inc.",
    "Jan.",
    "vs.",
    "J.",
    "R.",
    "A.",
    "a.m.",
    "3.5",
    "1,000",
    "12.",
    "2024.",
    ".",
    "!",
    "?",
    "...",
    "..",
    ",",
    ";",
    ":",
    "--",
    "-",
    "\"",
    "'",
    "“",
    "”",
    "‘",
    "’",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "«",
    "»",
    "don't",
    "I'm",
    "CAN'T",
    "cannot",
    "Gonna",
    "'tis",
    "NASA",
    "OK",
    "I",
    "USA's",
    "WON'T",
    "He",
    "She",
    "However",
    "The",
    "In",
    "But",
    "This",
    "\n",
    "\n\n",
    "*",
    "**",
    "- ",
    "1.",
    "2)",
    "#",
    "$5",
    "50%",
    "&",
    "@user",
    "http://x.org/a.b",
    "ok!",
    "Why?",
    "yes.",
    "No!",
    "end.\"",
    "(see p. 4.)",
    "—",
    "–",
    "Ph.D.",
    "i.e.",
    "U.K.",
    "3.",
    "!!!",
    "?!",
    "A",
    "B.C.",
    "x\ty",
    "Ünïcödé",
    "ÉCOLE.",
];

/// `n` texts drawn from [`PIECES`] by a fixed linear congruential generator.
pub fn fuzz_texts(n: usize) -> Vec<String> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % m
    };
    (0..n)
        .map(|_| {
            let len = 3 + next(40);
            let mut t = String::new();
            for _ in 0..len {
                t.push_str(PIECES[next(PIECES.len())]);
                if next(4) != 0 {
                    t.push(' ');
                }
            }
            t
        })
        .collect()
}
