//! The compact ledger's second step (`ledger_0005_shared_prefixes`): what a task's questions share is stored
//! once.
//!
//! - **Contexts as deltas.** A few-shot task's questions share their few-shot prefix (a 5-shot MMLU context
//!   is ~650 tokens, of which ~550 are the same five examples for every question of a subject). A context
//!   whose first tokens equal those of a context stored whole is stored as `base` (that context's address),
//!   `shared` (how many of its tokens come first) and `tokens` (the rest). Its address stays the sha256 of
//!   its whole token list, so a context stored whole in one store and as a delta in another is the same row:
//!   the encoding columns are volatile for `store copy`. Bases are chosen among the contexts this process
//!   stored whole (committed), so a row only ever refers to rows that existed before it: no cycles. Reading
//!   follows the chain (one step for rows written here; more after copies between stores).
//! - **Sample records against a dictionary.** A task's sample records repeat its prompt template, few-shot
//!   examples and field names. Each task's records (one `put_scores` call) are compressed with zstd against
//!   the first record of the call as a raw-content dictionary, stored once in `dicts` under its address.
//!   Record format 2 is `[2][16-byte dictionary address][zstd frame]`.
//!
//! Existing stores are converted when first opened (one transaction), on either backend.

use crate::codec::{content_hash, pack_text, pack_tokens, unpack_text, unpack_tokens, CodecError};
use crate::db::{Db, DbError, DbResult, Val};
use crate::{vals, Migration};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

pub(crate) const MIGRATION: Migration = Migration {
    name: "ledger_0005_shared_prefixes",
    sql: r#"
ALTER TABLE contexts ADD COLUMN base BLOB;      -- contexts.hash of the context whose first tokens come first
ALTER TABLE contexts ADD COLUMN shared INTEGER; -- how many of base's tokens come before `tokens`
CREATE TABLE dicts (
    hash BLOB PRIMARY KEY,             -- first 16 bytes of sha256(text)
    text BLOB NOT NULL                 -- zstd: a raw-content dictionary that sample records are compressed with
);
"#,
    pg: crate::PgSchema::Translate,
    convert: Some(convert),
};

/// Format byte of a text compressed against a stored dictionary.
const ZSTD_DICT_TEXT: u8 = 2;
/// zstd level (as `codec`).
const LEVEL: i32 = 3;
/// Shortest shared prefix worth a delta: below it the base's address (16 bytes) costs about what it saves.
const MIN_SHARED: usize = 24;
/// Contexts kept as candidate bases (a run interleaves a few tasks at a time).
const BASES: usize = 16;
/// Longest chain followed when reading a context (rows written by one store have one step; copies between
/// stores can add a few).
const MAX_CHAIN: usize = 64;

/// Contexts stored whole, most recent first: the candidates a new context is stored as a delta on.
#[derive(Default)]
pub(crate) struct Bases(VecDeque<Base>);

/// A context stored whole: its address and tokens.
pub(crate) type Base = (Vec<u8>, Arc<[u32]>);

/// A stored context row: tokens, base, shared.
type ContextColumns = (Vec<u8>, Option<Vec<u8>>, Option<i64>);

impl Bases {
    /// The candidate sharing the longest prefix with `tokens`, if it shares at least [`MIN_SHARED`].
    fn best(&self, tokens: &[u32]) -> Option<(&[u8], usize)> {
        self.0
            .iter()
            .map(|(hash, base)| (hash.as_slice(), common_prefix(base, tokens)))
            .filter(|&(_, n)| n >= MIN_SHARED)
            .max_by_key(|&(_, n)| n)
    }

    pub(crate) fn add(&mut self, hash: Vec<u8>, tokens: Arc<[u32]>) {
        if self.0.iter().any(|(h, _)| *h == hash) {
            return;
        }
        self.0.push_front((hash, tokens));
        self.0.truncate(BASES);
    }

    pub(crate) fn extend(&mut self, new: Vec<Base>) {
        for (hash, tokens) in new {
            self.add(hash, tokens);
        }
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A context row to insert: `[hash, tokens, base, shared]`.
pub(crate) struct ContextRow {
    pub values: Vec<Val>,
    /// Stored whole (a candidate base once committed).
    pub whole: bool,
}

/// How a context is stored: as a delta on the best candidate of any of `bases`, or whole.
pub(crate) fn context_row(hash: &[u8], tokens: &[u32], bases: &[&Bases]) -> ContextRow {
    let best = bases
        .iter()
        .filter_map(|b| b.best(tokens))
        .max_by_key(|&(_, n)| n);
    match best {
        // a context equal to a base's prefix (or to the base) still needs a row of its own
        Some((base, shared)) => ContextRow {
            values: vals![
                hash.to_vec(),
                pack_tokens(&tokens[shared..]),
                base.to_vec(),
                shared as i64
            ]
            .to_vec(),
            whole: false,
        },
        None => ContextRow {
            values: vals![
                hash.to_vec(),
                pack_tokens(tokens),
                Option::<Vec<u8>>::None,
                Option::<i64>::None
            ]
            .to_vec(),
            whole: true,
        },
    }
}

/// A stored context's tokens, whole (following its chain of bases).
pub(crate) fn read_context(conn: &Db, hash: &[u8]) -> Result<Vec<u32>, CodecError> {
    // (suffix, shared) from the context asked for down to the whole one
    let mut steps: Vec<(Vec<u32>, usize)> = Vec::new();
    let mut at = hash.to_vec();
    loop {
        let missing = || CodecError::Missing("contexts".into(), hex::encode(&at));
        let row = conn
            .query_opt(
                "SELECT tokens, base, shared FROM contexts WHERE hash = ?1",
                vals![at.clone()],
            )
            .map_err(|_| missing())?
            .ok_or_else(missing)?;
        let read = || -> DbResult<ContextColumns> { Ok((row.get(0)?, row.get(1)?, row.get(2)?)) };
        let (tokens, base, shared) = read().map_err(|_| missing())?;
        let tokens = unpack_tokens(&tokens)?;
        match (base, shared) {
            (Some(base), Some(shared)) => {
                if steps.len() >= MAX_CHAIN {
                    return Err(CodecError::Chain(hex::encode(hash)));
                }
                steps.push((tokens, usize::try_from(shared).unwrap_or(usize::MAX)));
                at = base;
            }
            _ => {
                let mut whole = tokens;
                for (suffix, shared) in steps.into_iter().rev() {
                    if shared > whole.len() {
                        return Err(CodecError::Chain(hex::encode(hash)));
                    }
                    whole.truncate(shared);
                    whole.extend(suffix);
                }
                return Ok(whole);
            }
        }
    }
}

/// A dictionary that a task's sample records are compressed against (loaded into zstd once, for all of
/// them).
pub(crate) struct Dict {
    pub hash: Vec<u8>,
    text: String,
    compressor: Option<zstd::bulk::Compressor<'static>>,
}

impl Dict {
    pub(crate) fn new(text: String) -> Dict {
        Dict {
            hash: content_hash(text.as_bytes()),
            compressor: zstd::bulk::Compressor::with_dictionary(LEVEL, text.as_bytes()).ok(),
            text,
        }
    }

    /// The `dicts` row: `[hash, text]`.
    pub(crate) fn row(&self) -> Vec<Val> {
        vals![self.hash.clone(), pack_text(&self.text)].to_vec()
    }

    /// `text` compressed against this dictionary (format 2).
    pub(crate) fn pack(&mut self, text: &str) -> Vec<u8> {
        let frame = self
            .compressor
            .as_mut()
            .map(|c| c.compress(text.as_bytes()));
        match frame {
            Some(Ok(frame)) => {
                let mut out = Vec::with_capacity(1 + self.hash.len() + frame.len());
                out.push(ZSTD_DICT_TEXT);
                out.extend_from_slice(&self.hash);
                out.extend_from_slice(&frame);
                out
            }
            // (zstd refusing the dictionary or the text would be its own bug: fall back to the plain format)
            _ => pack_text(text),
        }
    }
}

/// Dictionaries read so far, loaded into zstd (a store's records of one task share one).
#[derive(Default)]
pub(crate) struct Dicts(HashMap<Vec<u8>, Arc<zstd::dict::DecoderDictionary<'static>>>);

impl Dicts {
    fn get(
        &mut self,
        conn: &Db,
        hash: &[u8],
    ) -> Result<Arc<zstd::dict::DecoderDictionary<'static>>, CodecError> {
        if let Some(d) = self.0.get(hash) {
            return Ok(d.clone());
        }
        let missing = || CodecError::Missing("dicts".into(), hex::encode(hash));
        let stored: Vec<u8> = conn
            .query_opt("SELECT text FROM dicts WHERE hash = ?1", vals![hash])
            .map_err(|_| missing())?
            .ok_or_else(missing)?
            .get(0)
            .map_err(|_| missing())?;
        let d = Arc::new(zstd::dict::DecoderDictionary::copy(
            unpack_text(&stored)?.as_bytes(),
        ));
        self.0.insert(hash.to_vec(), d.clone());
        Ok(d)
    }

    /// A stored text in any format (format 2 reads its dictionary from `dicts`).
    pub(crate) fn unpack(&mut self, conn: &Db, bytes: &[u8]) -> Result<String, CodecError> {
        match bytes.split_first() {
            Some((&ZSTD_DICT_TEXT, rest)) => {
                let n = crate::codec::CONTENT_HASH_BYTES;
                if rest.len() < n {
                    return Err(CodecError::Empty);
                }
                let (hash, frame) = rest.split_at(n);
                let dict = self.get(conn, hash)?;
                let mut decoder =
                    zstd::stream::read::Decoder::with_prepared_dictionary(frame, &dict)?;
                let mut out = Vec::with_capacity(frame.len() * 8);
                std::io::Read::read_to_end(&mut decoder, &mut out)?;
                Ok(String::from_utf8(out)?)
            }
            _ => unpack_text(bytes),
        }
    }
}

fn convert_err(e: impl std::fmt::Display) -> DbError {
    DbError::Other(format!("converting to shared prefixes: {e}"))
}

/// Store every whole context that shares a prefix with another as a delta, and every task's sample records
/// against a dictionary (the rows written before this layout).
fn convert(db: &Db) -> DbResult<()> {
    // Contexts in token order: those sharing a prefix are neighbours, and the first of each run of
    // neighbours stays whole as the others' base.
    let rows = db.query("SELECT hash, tokens FROM contexts", &[])?;
    let mut contexts: Vec<(Vec<u8>, Vec<u32>)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let tokens: Vec<u8> = r.get(1)?;
        contexts.push((r.get(0)?, unpack_tokens(&tokens).map_err(convert_err)?));
    }
    drop(rows);
    contexts.sort_by(|a, b| a.1.cmp(&b.1));
    // (the one candidate: the last context kept whole)
    let mut base = Bases::default();
    for (hash, tokens) in &contexts {
        let row = context_row(hash, tokens, &[&base]);
        if row.whole {
            base = Bases::default();
            base.add(hash.clone(), Arc::from(tokens.as_slice()));
        } else {
            let v = row.values;
            db.execute(
                "UPDATE contexts SET tokens = ?2, base = ?3, shared = ?4 WHERE hash = ?1",
                &[v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()],
            )?;
        }
    }
    drop(contexts);

    // Sample records, a (run, task) at a time, against the task's first record in document order.
    let keys = db.query("SELECT DISTINCT run_id, task FROM samples", &[])?;
    for k in &keys {
        let (run_id, task): (String, String) = (k.get(0)?, k.get(1)?);
        let rows = db.query(
            "SELECT doc_id, filter, record FROM samples WHERE run_id = ?1 AND task = ?2 \
             ORDER BY doc_id, filter",
            vals![run_id.clone(), task.clone()],
        )?;
        let mut dicts = Dicts::default();
        let mut dict: Option<Dict> = None;
        for r in &rows {
            let record: Vec<u8> = r.get(2)?;
            let text = dicts.unpack(db, &record).map_err(convert_err)?;
            let d = dict.get_or_insert_with(|| Dict::new(text.clone()));
            db.execute(
                "UPDATE samples SET record = ?5 WHERE run_id = ?1 AND task = ?2 AND doc_id = ?3 AND filter = ?4",
                vals![
                    run_id.clone(),
                    task.clone(),
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    d.pack(&text)
                ],
            )?;
        }
        if let Some(d) = dict {
            db.execute(
                "INSERT INTO dicts (hash, text) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                &d.row(),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE contexts (hash BLOB PRIMARY KEY, tokens BLOB NOT NULL)")
            .unwrap();
        db.batch(MIGRATION.sql).unwrap();
        db
    }

    fn insert(db: &Db, row: &ContextRow) {
        db.execute(
            "INSERT INTO contexts (hash, tokens, base, shared) VALUES (?1, ?2, ?3, ?4)",
            &row.values,
        )
        .unwrap();
    }

    #[test]
    fn a_context_sharing_a_prefix_is_stored_as_a_delta_and_read_back_whole() {
        let db = db();
        let shots: Vec<u32> = (0..600).map(|i| i * 37 % 50_000).collect();
        let q1: Vec<u32> = shots.iter().copied().chain([7, 8, 9]).collect();
        let q2: Vec<u32> = shots.iter().copied().chain([10, 11]).collect();
        let other: Vec<u32> = (0..30).collect();
        let mut bases = Bases::default();
        let h1 = content_hash(&pack_tokens(&q1));
        let r1 = context_row(&h1, &q1, &[&bases]);
        assert!(r1.whole, "nothing to share with yet");
        insert(&db, &r1);
        bases.add(h1.clone(), Arc::from(q1.as_slice()));
        let h2 = content_hash(&pack_tokens(&q2));
        let r2 = context_row(&h2, &q2, &[&bases]);
        assert!(!r2.whole);
        assert_eq!(r2.values[3], Val::Int(600));
        insert(&db, &r2);
        let ho = content_hash(&pack_tokens(&other));
        let ro = context_row(&ho, &other, &[&bases]);
        assert!(ro.whole, "no prefix of {MIN_SHARED} tokens shared");
        insert(&db, &ro);
        // a context that is a prefix of its base
        let prefix = &q1[..100];
        let hp = content_hash(&pack_tokens(prefix));
        let rp = context_row(&hp, prefix, &[&bases]);
        insert(&db, &rp);
        assert_eq!(read_context(&db, &h1).unwrap(), q1);
        assert_eq!(read_context(&db, &h2).unwrap(), q2);
        assert_eq!(read_context(&db, &ho).unwrap(), other);
        assert_eq!(read_context(&db, &hp).unwrap(), prefix);
        // a chain of two (as a copy between stores can leave)
        let q3: Vec<u32> = q2.iter().copied().chain([12]).collect();
        let h3 = content_hash(&pack_tokens(&q3));
        let mut only_q2 = Bases::default();
        only_q2.add(h2.clone(), Arc::from(q2.as_slice()));
        let r3 = context_row(&h3, &q3, &[&only_q2]);
        assert_eq!(r3.values[3], Val::Int(q2.len() as i64));
        insert(&db, &r3);
        assert_eq!(read_context(&db, &h3).unwrap(), q3);
        // a base that is not there is named
        let err = read_context(&db, &[9; 16]).unwrap_err();
        assert!(err.to_string().contains("contexts"), "{err}");
    }

    #[test]
    fn records_compressed_against_a_dictionary_round_trip_and_shrink() {
        let db = db();
        let shots = "The following are multiple choice questions (with answers) about anatomy.\n\n"
            .repeat(30);
        let record = |i: usize| {
            serde_json::json!({"doc_id": i, "arguments": [[shots.clone(), format!(" answer {i}")]],
                               "resps": [[[-1.5 - i as f64, false]]]})
            .to_string()
        };
        let mut dict = Dict::new(record(0));
        db.execute(
            "INSERT INTO dicts (hash, text) VALUES (?1, ?2)",
            &dict.row(),
        )
        .unwrap();
        let mut dicts = Dicts::default();
        for i in 0..5 {
            let packed = dict.pack(&record(i));
            let plain = pack_text(&record(i));
            assert!(
                packed.len() < plain.len(),
                "{} vs {}",
                packed.len(),
                plain.len()
            );
            assert_eq!(dicts.unpack(&db, &packed).unwrap(), record(i));
            assert_eq!(dicts.unpack(&db, &plain).unwrap(), record(i));
        }
        let mut gone = dict.pack(&record(1));
        gone[1] ^= 0xff;
        let err = Dicts::default().unpack(&db, &gone).unwrap_err();
        assert!(err.to_string().contains("dicts"), "{err}");
    }
}
