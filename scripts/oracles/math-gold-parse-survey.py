#!/usr/bin/env python3
"""Which normalised MATH test gold answers sympy parse_latex accepts (for math_answer::equiv oracle_survey).
Usage: PY=python-with-sympy+antlr4==4.11; put lm-eval minerva_math/utils.py as minerva_utils.py in /tmp/mathdev; writes /tmp/mathdev/gold_parse.jsonl."""
import json, sys, types
sys.modules['datasets'] = types.ModuleType('datasets'); sys.modules['datasets'].Dataset = object
sys.path.insert(0, '/tmp/mathdev')
import minerva_utils as U
from sympy.parsing.latex import parse_latex
out = open('/tmp/mathdev/gold_parse.jsonl', 'w')
for l in open('/work/shared/data/benchmarks/math/test.jsonl'):
    d = json.loads(l)
    a = U.normalize_final_answer(U.remove_boxed(U.last_boxed_only_string(d['solution'])))
    try:
        e = parse_latex(a); r = {'a': a, 'ok': True, 'srepr': __import__('sympy').srepr(e)}
    except Exception as ex:
        r = {'a': a, 'ok': False, 'err': type(ex).__name__}
    out.write(json.dumps(r) + '\n')
