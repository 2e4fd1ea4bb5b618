#!/usr/bin/env python3
"""Generate a deterministic tiny llama-architecture GGUF with a small SentencePiece-style vocabulary.

The shipped test model (llama-2-tiny-random.gguf) carries Llama-2's 32,000-token vocabulary, so every echoed
prompt position costs a 32,000-wide logit row. This model has ~2,048 tokens, so prompt log-probabilities are
cheap, while ordinary English and Chinese text (MMLU, CMMLU prompts) still tokenizes losslessly into a
realistic number of tokens.

  python scripts/make-tiny-gguf.py [-o PATH | --out-dir DIR] [--print-path] [--dry-run] [--force]

Run it with the peers venv python (needs the `gguf` package and numpy): scripts/setup-peers does.
Default output: ~/.cache/yardstick/models/tiny-small-vocab-<hash>.gguf, where <hash> covers this script's
code (not this docstring), the parameters and the corpus files, so a change makes a new file and an unchanged
rerun is a no-op.

Tokenizer (tokenizer.ggml.model = "llama", i.e. SentencePiece BPE as llama.cpp's SPM tokenizer runs it):
  ids 0,1,2          <unk> (UNKNOWN), <s> (CONTROL, BOS), </s> (CONTROL, EOS)
  ids 3..258         <0x00>..<0xFF> (BYTE): byte fallback, so any UTF-8 text round-trips
  ids 259..1488      1,230 merged pieces learned by BPE, in merge order; score = -(merge rank)
  ids 1489..2047     559 single characters: ASCII printable (space as U+2581 '▁'), up to 64 frequent other
                     letters/symbols and the 400 most frequent CJK characters; scores below every merged piece
  add_space_prefix = true, add_bos = true, add_eos = false; "\n" has no piece (it is <0x0A>, as in Llama-2).
The BPE is learned with SentencePiece conventions (spaces become '▁' and start a piece; no piece spans a '▁'
inside it) from a fixed corpus: MMLU dev+val rows (word counts weighted x6) and CMMLU dev+test rows, rendered
like lm-eval's prompts, read from the shared data (YARDSTICK_SHARED_DATA, default <repo>/../shared/data).
Pair-count ties are broken by the pair's text, so the output is byte-for-byte deterministic. Token counts
relative to Llama-2's 32k vocabulary: ~1.36x on English MMLU text, ~0.97x on CMMLU text. 5-shot prompts
(lm-eval format): mmlu_abstract_algebra ~390 tokens (Llama-2 ~375); mean over the 57 MMLU subjects 910
(Llama-2 693); the longest, high_school_european_history, ~4,440 (hence context_length 8192: serve it with
--ctx 8192); cmmlu_agronomy ~410 (Llama-2 ~500).
Because every merged piece is the concatenation of two earlier pieces and scores fall with merge rank,
llama.cpp's SPM (merge the highest-scoring adjacent pair, leftmost on ties) and a Hugging Face BPE with
byte_fallback whose merges are derived from the scores (as transformers' LlamaConverter does; normalizer
Prepend('▁') + Replace(' ', '▁'), no pre-tokenizer) tokenize identically: checked on every MMLU and CMMLU test
prompt (39,674 texts). An HF export should set split_special_tokens=True, or the literal text "<s>" would be
read as BOS where llama.cpp (parse_special=false) reads it as text.

Model: llama, 2 blocks, n_embd 32, 4 heads (2 KV heads, head dim 8), FFN 64, context 8192, RMS eps 1e-5,
rope base 10000, untied output, all F32, weights from numpy's PCG64 with seed 1234; the output matrix is
scaled so that logits have std ~4 (median top-1/top-2 gap ~0.8), which keeps most argmax decisions away from
float noise (a few positions still have near-ties, as any model does).
"""
import argparse
import collections
import csv
import glob
import hashlib
import os
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent

PARAMS = dict(
    vocab_size=2048, n_embd=32, n_layer=2, n_head=4, n_head_kv=2, n_ff=64, ctx=8192,
    rms_eps=1e-5, rope_base=10000.0, seed=1234, max_cjk_chars=400, min_char_count=3, en_weight=6,
    # Like a real model, rank answer letters high after "Answer:" so that a multiple-choice question's choices
    # are all in the top-k log-probabilities (what lets a harness score a question from one request): every
    # token embedding shares a component along one direction c, and the output rows of the letter tokens
    # lean towards c. The rest of each logit stays random, so which letter wins still varies by question.
    letter_pieces="ABCDEFGHIJ", letter_bias=6.0, shared_embedding=3.0,
)


def shared_data_dir() -> Path:
    if os.environ.get("YARDSTICK_SHARED_DATA"):
        return Path(os.environ["YARDSTICK_SHARED_DATA"])
    if os.environ.get("YARDSTICK_SHARED"):
        return Path(os.environ["YARDSTICK_SHARED"]) / "data"
    return REPO.parent / "shared" / "data"


def corpus_files(data: Path):
    b = data / "benchmarks"
    mmlu = sorted(glob.glob(str(b / "mmlu/dev/*.csv"))) + sorted(glob.glob(str(b / "mmlu/val/*.csv")))
    cmmlu = sorted(glob.glob(str(b / "cmmlu/dev/*.csv"))) + sorted(glob.glob(str(b / "cmmlu/test/*.csv")))
    if len(mmlu) < 100 or len(cmmlu) < 100:
        sys.exit(f"make-tiny-gguf: MMLU/CMMLU CSVs not found under {b} (found {len(mmlu)} + {len(cmmlu)} files); "
                 "set YARDSTICK_SHARED_DATA to the shared data folder")
    return mmlu, cmmlu


def corpus_texts(mmlu, cmmlu):
    """Rows rendered like lm-eval's MMLU/CMMLU prompts (one text per row; the task header once per file, so
    that it does not dominate the merges; CMMLU rows without their answer letter)."""
    en, zh = [], []
    texts = en
    for f in mmlu:
        subject = Path(f).stem.rsplit("_", 1)[0].replace("_", " ")
        texts.append(f"The following are multiple choice questions (with answers) about {subject}.")
        with open(f, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                q, a, b, c, d, ans = row
                texts.append(f"{q.strip()}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer: {ans}")
    texts = zh
    for f in cmmlu:
        texts.append("以下是关于单项选择题，请直接给出正确答案的选项。")
        with open(f, encoding="utf-8", newline="") as fh:
            r = csv.reader(fh)
            next(r)
            for row in r:
                _, q, a, b, c, d, ans = row
                texts.append(f"{q.strip()}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\n答案：")
    return en, zh


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x3000 <= o <= 0x303F


def choose_chars(texts, p):
    counts = collections.Counter(ch for t in texts for ch in t.replace(" ", "\u2581"))
    chars = {chr(c) for c in range(0x21, 0x7F)} | {"\u2581"}
    other = sorted(((k, v) for k, v in counts.items()
                    if k not in chars and not is_cjk(k) and k.isprintable() and v >= p["min_char_count"]),
                   key=lambda kv: (-kv[1], kv[0]))
    chars |= {k for k, _ in other[:64]}
    cjk = sorted(((k, v) for k, v in counts.items() if is_cjk(k)), key=lambda kv: (-kv[1], kv[0]))
    chars |= {k for k, _ in cjk[: p["max_cjk_chars"]]}
    # order: by frequency (desc), then code point: stable and Llama-like (frequent first)
    return sorted(chars, key=lambda ch: (-counts.get(ch, 0), ch))


def words_of(texts, charset, weight=1):
    """SentencePiece view: ' ' -> '▁' prefixing each word; characters without a piece (newline, rare chars)
    are barriers (they become byte tokens), so no learned piece contains them."""
    wc = collections.Counter()
    for t in texts:
        s = "\u2581" + t.replace(" ", "\u2581")
        cur = []
        for ch in s:
            if ch not in charset:
                if cur: wc["".join(cur)] += weight
                cur = []
            elif ch == "\u2581" and cur:
                wc["".join(cur)] += weight
                cur = [ch]
            else:
                cur.append(ch)
        if cur: wc["".join(cur)] += weight
    return wc


def learn_bpe(word_counts, n_merges):
    """Plain BPE with incremental pair counts. Ties: highest count, then smallest (left, right) text."""
    words = [list(w) for w in word_counts]
    freqs = [word_counts[w] for w in word_counts]
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_counts[(a, b)] += f
            where[(a, b)].add(i)
    merges = []
    import heapq
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        c = pair_counts.get(pair, 0)
        if c <= 0 or -negc != c:
            continue  # stale heap entry
        if c < 2:
            break
        a, b = pair
        new = a + b
        merges.append((a, b))
        changed = collections.Counter()
        for i in sorted(where.pop(pair, ())):
            w, f = words[i], freqs[i]
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= f
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new); j += 2
                else:
                    out.append(w[j]); j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += f
                where[(x, y)].add(i)
        for p2, d in changed.items():
            if d == 0:
                continue
            pair_counts[p2] += d
            if pair_counts[p2] > 0:
                heapq.heappush(heap, (-pair_counts[p2], p2))
        pair_counts.pop(pair, None)
    return merges


def build_vocab(p, data):
    mmlu, cmmlu = corpus_files(data)
    en, zh = corpus_texts(mmlu, cmmlu)
    chars = choose_chars(en + zh, p)
    specials = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3)]
    bytes_ = [(f"<0x{i:02X}>", 0.0, 6) for i in range(256)]
    n_merged = p["vocab_size"] - len(specials) - len(bytes_) - len(chars)
    if n_merged < 64:
        sys.exit(f"make-tiny-gguf: vocab_size {p['vocab_size']} leaves only {n_merged} merged pieces")
    charset = set(chars)
    words = words_of(en, charset, p["en_weight"]) + words_of(zh, charset)
    merges = learn_bpe(words, n_merged + 256)  # extra in case of duplicate strings
    merged, seen = [], set(chars)
    for a, b in merges:
        s = a + b
        if s in seen:
            continue
        seen.add(s)
        merged.append(s)
        if len(merged) == n_merged:
            break
    if len(merged) < n_merged:
        sys.exit(f"make-tiny-gguf: the corpus gave only {len(merged)} merges, {n_merged} wanted")
    toks = list(specials) + bytes_
    toks += [(s, -float(i), 1) for i, s in enumerate(merged)]
    toks += [(ch, -float(n_merged + i), 1) for i, ch in enumerate(chars)]
    assert len(toks) == p["vocab_size"] and len({t for t, _, _ in toks}) == len(toks)
    return toks, mmlu + cmmlu


def content_hash(p, files):
    h = hashlib.sha256()
    h.update(SCRIPT.read_text(encoding="utf-8").split('"' * 3, 2)[2].encode())  # the code, not the docstring
    h.update(repr(sorted(p.items())).encode())
    for f in files:
        h.update(Path(f).name.encode()); h.update(Path(f).read_bytes())
    return h.hexdigest()[:12]


def write_gguf(path: Path, p, toks):
    import numpy as np
    import gguf

    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    V, E, L, H, HKV, F = p["vocab_size"], p["n_embd"], p["n_layer"], p["n_head"], p["n_head_kv"], p["n_ff"]
    D = E // H

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float64) * std).astype(np.float32)

    tmp = path.with_name(path.name + ".tmp")
    w = gguf.GGUFWriter(str(tmp), "llama")
    w.add_name("yardstick tiny small-vocab random llama")
    w.add_description("Deterministic random-weight test model generated by yardstick scripts/make-tiny-gguf.py")
    w.add_context_length(p["ctx"])
    w.add_embedding_length(E)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(HKV)
    w.add_rope_dimension_count(D)
    w.add_rope_freq_base(p["rope_base"])
    w.add_layer_norm_rms_eps(p["rms_eps"])
    w.add_vocab_size(V)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list([t for t, _, _ in toks])
    w.add_token_scores([s for _, s, _ in toks])
    w.add_token_types([ty for _, _, ty in toks])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)

    # the shared direction (a fixed unit vector) and the letter tokens (" A".." J")
    c = np.zeros(E, np.float32); c[0] = 1.0
    ids = {t: i for i, (t, _, _) in enumerate(toks)}
    letters = [ids["\u2581" + ch] for ch in p["letter_pieces"] if "\u2581" + ch in ids]
    emb = normal((V, E), 1.0) + np.float32(p["shared_embedding"]) * c
    w.add_tensor("token_embd.weight", emb.astype(np.float32))
    for i in range(L):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(E, np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", normal((H * D, E), E ** -0.5))
        w.add_tensor(f"blk.{i}.attn_k.weight", normal((HKV * D, E), E ** -0.5))
        w.add_tensor(f"blk.{i}.attn_v.weight", normal((HKV * D, E), E ** -0.5))
        w.add_tensor(f"blk.{i}.attn_output.weight", normal((E, H * D), (H * D) ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(E, np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", normal((F, E), E ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_up.weight", normal((F, E), E ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_down.weight", normal((E, F), F ** -0.5))
    w.add_tensor("output_norm.weight", np.ones(E, np.float32))
    out_w = normal((V, E), 4.0 * E ** -0.5)
    out_w[letters, 0] = np.float32(p["letter_bias"])  # equal lean along c: the context decides between letters
    w.add_tensor("output.weight", out_w.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", help="output file (default: OUT_DIR/tiny-small-vocab-<hash>.gguf)")
    ap.add_argument("--out-dir", default=os.path.join(os.environ.get("YARDSTICK_CACHE", os.path.expanduser("~/.cache/yardstick")), "models"))
    ap.add_argument("--print-path", action="store_true", help="print only the output path on stdout")
    ap.add_argument("--dry-run", action="store_true", help="compute and print the path, write nothing")
    ap.add_argument("--force", action="store_true", help="rewrite even if the file exists")
    args = ap.parse_args()
    p = dict(PARAMS)
    data = shared_data_dir()
    mmlu, cmmlu = corpus_files(data)
    h = content_hash(p, mmlu + cmmlu)
    out = Path(args.output) if args.output else Path(args.out_dir) / f"tiny-small-vocab-{h}.gguf"
    say = (lambda *a: print(*a, file=sys.stderr)) if args.print_path else print
    if args.dry_run:
        print(out); return
    if out.exists() and not args.force:
        say(f"exists: {out}")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        toks, _ = build_vocab(p, data)
        write_gguf(out, p, toks)
        n_merged = sum(1 for t, s, ty in toks if ty == 1 and s > -1e9 and len(t) > 1)
        say(f"wrote {out} ({out.stat().st_size} bytes): vocab {len(toks)} ({n_merged} multi-char pieces), "
            f"n_embd {p['n_embd']}, {p['n_layer']} layers, ctx {p['ctx']}, seed {p['seed']}")
    print(out) if args.print_path else None


if __name__ == "__main__":
    main()
