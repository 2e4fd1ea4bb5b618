# Oracle for tests/ifeval_oracle.rs: lm-eval 0.4.13's own IFEval checkers on the cases the Rust test sends.
#
# stdin: {"data": path of google/IFEval input_data.jsonl, "nltk_data": a directory holding
#         tokenizers/punkt_tab/english, "letter": the letter Yardstick checks for an invalid
#         `letter` kwarg, "rows": [extra rows], "cases": [{"row": index, "response": str}]}
# stdout: {"cases": [{"strict": [bool], "loose": [bool], "lb_strict": [bool], "lb_loose": [bool]
#          (the same from lm-eval's leaderboard/ifeval copy), "sentences": int, "words": int,
#          "capital_words": int, "lang": str | null}]}
#
# Two sources of randomness in lm-eval are pinned so that an answer exists to compare with:
# langdetect runs with DetectorFactory.seed = 0 (lm-eval leaves it unseeded), and the random letter
# that LetterFrequencyChecker draws for a kwarg like "!" is replaced by the same fixed letter Yardstick
# uses.
import json
import random
import string
import sys

req = json.load(sys.stdin)

import nltk  # noqa: E402

nltk.data.path.insert(0, req["nltk_data"])

import langdetect  # noqa: E402
from langdetect import DetectorFactory  # noqa: E402

DetectorFactory.seed = 0

from lm_eval.tasks.ifeval import instructions, instructions_util, utils  # noqa: E402
# The Open LLM Leaderboard's copy (task leaderboard_ifeval), scored on the same cases.
from lm_eval.tasks.leaderboard.ifeval import instructions as lb_instructions  # noqa: E402
from lm_eval.tasks.leaderboard.ifeval import utils as lb_utils  # noqa: E402


class _FixedLetter:
    def __getattr__(self, name):
        return getattr(random, name)

    def choice(self, seq):
        if list(seq) == list(string.ascii_letters):
            return req["letter"]
        return random.choice(seq)


instructions.random = _FixedLetter()
lb_instructions.random = _FixedLetter()

rows = [json.loads(line) for line in open(req["data"], encoding="utf-8") if line.strip()]
rows += req.get("rows", [])

out = []
for case in req["cases"]:
    row = rows[case["row"]]
    inp = utils.InputExample(
        key=row["key"],
        instruction_id_list=row["instruction_id_list"],
        prompt=row["prompt"],
        kwargs=row["kwargs"],
    )
    response = case["response"]
    strict = utils.test_instruction_following_strict(inp, response)
    loose = utils.test_instruction_following_loose(inp, response)
    lb_strict = lb_utils.test_instruction_following_strict(inp, response)
    lb_loose = lb_utils.test_instruction_following_loose(inp, response)
    try:
        lang = langdetect.detect(response)
    except langdetect.LangDetectException:
        lang = None
    out.append(
        {
            "strict": strict.follow_instruction_list,
            "loose": loose.follow_instruction_list,
            "lb_strict": lb_strict.follow_instruction_list,
            "lb_loose": lb_loose.follow_instruction_list,
            "sentences": instructions_util.count_sentences(response),
            "words": instructions_util.count_words(response),
            "capital_words": sum(1 for w in nltk.word_tokenize(response) if w.isupper()),
            "lang": lang,
        }
    )
json.dump({"cases": out}, sys.stdout)
