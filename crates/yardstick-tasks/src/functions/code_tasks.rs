//! The functions of lm-eval 0.4.13's `humaneval/utils.py` and `mbpp/utils.py` that are data: MBPP's
//! few-shot exemplars. (Their filters and metrics are implemented by the scoring engine: see
//! [`crate::native_filters::NativeFilterKind`] and [`super::MetricFn`].)

use yardstick_core::Doc;

/// `mbpp/utils.py::list_fewshot_samples()`: problems 2, 3 and 4 of MBPP's prompt split, as written there
/// (Windows line ends and trailing spaces included), each with `is_fewshot: true`.
pub fn mbpp_fewshot_samples() -> Vec<Doc> {
    let docs: Vec<Doc> = serde_json::from_str(MBPP_FEWSHOT).unwrap_or_default();
    docs
}

const MBPP_FEWSHOT: &str = r#"[
 {
  "task_id": 2,
  "text": "Write a function to find the similar elements from the given two tuple lists.",
  "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n  return (res) ",
  "test_list": [
   "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
   "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)",
   "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"
  ],
  "is_fewshot": true
 },
 {
  "task_id": 3,
  "text": "Write a python function to identify non-prime numbers.",
  "code": "import math\r\ndef is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) + 1):\r\n        if n % i == 0:\r\n            result = True\r\n    return result",
  "test_list": [
   "assert is_not_prime(2) == False",
   "assert is_not_prime(10) == True",
   "assert is_not_prime(35) == True"
  ],
  "is_fewshot": true
 },
 {
  "task_id": 4,
  "text": "Write a function to find the largest integers from a given list of numbers using heap queue algorithm.",
  "code": "import heapq as hq\r\ndef heap_queue_largest(nums,n):\r\n  largest_nums = hq.nlargest(n, nums)\r\n  return largest_nums",
  "test_list": [
   "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65] ",
   "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75] ",
   "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]"
  ],
  "is_fewshot": true
 }
]"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_exemplars_with_their_tests() {
        let docs = mbpp_fewshot_samples();
        assert_eq!(docs.len(), 3);
        let ids: Vec<i64> = docs
            .iter()
            .map(|d| d["task_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [2, 3, 4]);
        for d in &docs {
            assert_eq!(d["test_list"].as_array().unwrap().len(), 3);
            assert_eq!(d["is_fewshot"], serde_json::Value::Bool(true));
            assert!(d["code"].as_str().unwrap().contains("\r\n"));
        }
    }
}
