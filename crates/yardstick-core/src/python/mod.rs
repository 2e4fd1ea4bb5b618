//! Python-compatibility primitives that several crates need bit for bit, in one place:
//!
//! - [`random`] — CPython's `random.Random` (MT19937; `sample` for few-shot selection, `choices`
//!   for the bootstrap of standard errors);
//! - [`text`] — Python `str` semantics (`isspace`, `strip`, `split`, `isprintable`, `repr(str)` …);
//! - [`float`] — `repr(float)`;
//! - [`json`] — `json.dumps(…, ensure_ascii=False)` with and without `indent`, and lm-eval's
//!   `doc_hash`;
//! - [`value`] — `str()` / `repr()` of JSON values (lists, dicts, `True`, `None`, float `repr`) and
//!   `ast.literal_eval` back to JSON (for Jinja output and `doc_to_choice` round trips);
//! - [`py_index`] — `seq[i]` with Python's negative indices.
//!
//! Everything here is pure (no IO).

pub mod float;
pub mod json;
pub mod random;
pub mod text;
pub mod value;

pub use float::py_float_repr;
pub use json::PyJson;
pub use random::PyRandom;

/// Python `seq[i]`: negative indices count from the end; `None` where Python raises `IndexError`.
pub fn py_index<T>(seq: &[T], i: i64) -> Option<&T> {
    let n = seq.len() as i64;
    let k = if i < 0 { n + i } else { i };
    if k < 0 || k >= n {
        None
    } else {
        seq.get(k as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::py_index;

    #[test]
    fn negative_indices_count_from_the_end() {
        let xs = [10, 20, 30];
        assert_eq!(py_index(&xs, 0), Some(&10));
        assert_eq!(py_index(&xs, 2), Some(&30));
        assert_eq!(py_index(&xs, -1), Some(&30));
        assert_eq!(py_index(&xs, -3), Some(&10));
        assert_eq!(py_index(&xs, 3), None);
        assert_eq!(py_index(&xs, -4), None);
        assert_eq!(py_index::<i32>(&[], 0), None);
        assert_eq!(py_index::<i32>(&[], -1), None);
    }
}
