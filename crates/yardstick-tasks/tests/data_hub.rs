//! Dataset loading from a Hugging Face hub cache laid out on disk by the test (with Parquet files written
//! here by the `parquet` writer), from local `data_files`, and the errors. Needs no network and no shared
//! data.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::json;
use yardstick_tasks::data::{available_splits, load_split, DataError, DataOptions, DatasetSpec};

/// The values of one leaf column, with its definition/repetition levels when it has any.
enum Leaf {
    Str(Vec<String>, Option<Vec<i16>>, Option<Vec<i16>>),
    I64(Vec<i64>, Option<Vec<i16>>, Option<Vec<i16>>),
    I32(Vec<i32>, Option<Vec<i16>>, Option<Vec<i16>>),
}

fn write_parquet(path: &Path, schema: &str, leaves: Vec<Leaf>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(WriterProperties::builder().build());
    let mut w = SerializedFileWriter::new(fs::File::create(path).unwrap(), schema, props).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut leaves = leaves.into_iter();
    while let Some(mut col) = rg.next_column().unwrap() {
        match leaves.next().expect("a leaf per column") {
            Leaf::Str(v, d, r) => {
                let v: Vec<ByteArray> =
                    v.into_iter().map(|s| ByteArray::from(s.as_str())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&v, d.as_deref(), r.as_deref())
                    .unwrap();
            }
            Leaf::I64(v, d, r) => {
                col.typed::<Int64Type>()
                    .write_batch(&v, d.as_deref(), r.as_deref())
                    .unwrap();
            }
            Leaf::I32(v, d, r) => {
                col.typed::<Int32Type>()
                    .write_batch(&v, d.as_deref(), r.as_deref())
                    .unwrap();
            }
        }
        col.close().unwrap();
    }
    rg.close().unwrap();
    w.close().unwrap();
}

/// Levels of a required list<T> column (max def 1, max rep 1) for `rows`.
fn list_levels(rows: &[usize]) -> (Vec<i16>, Vec<i16>) {
    let (mut d, mut r) = (Vec::new(), Vec::new());
    for &n in rows {
        if n == 0 {
            d.push(0);
            r.push(0);
        }
        for i in 0..n {
            d.push(1);
            r.push(if i == 0 { 0 } else { 1 });
        }
    }
    (d, r)
}

const MMLU_SCHEMA: &str = "message schema {
  REQUIRED BYTE_ARRAY question (UTF8);
  REQUIRED BYTE_ARRAY subject (UTF8);
  REQUIRED group choices (LIST) { REPEATED group list { REQUIRED BYTE_ARRAY element (UTF8); } }
  REQUIRED INT64 answer;
}";

/// An MMLU-shaped parquet file with `n` rows named after `tag`.
fn mmlu_parquet(path: &Path, subject: &str, tag: &str, n: usize) {
    let q: Vec<String> = (0..n).map(|i| format!("{tag} question {i}?")).collect();
    let s: Vec<String> = (0..n).map(|_| subject.to_string()).collect();
    let c: Vec<String> = (0..n)
        .flat_map(|i| (0..4).map(move |k| format!("{tag}-{i}-{k}")))
        .collect();
    let (d, r) = list_levels(&vec![4; n]);
    let a: Vec<i64> = (0..n as i64).map(|i| i % 4).collect();
    write_parquet(
        path,
        MMLU_SCHEMA,
        vec![
            Leaf::Str(q, None, None),
            Leaf::Str(s, None, None),
            Leaf::Str(c, Some(d), Some(r)),
            Leaf::I64(a, None, None),
        ],
    );
}

/// A repository file: its path and what writes its content.
type RepoFile<'a> = (&'a str, &'a dyn Fn(&Path));

/// Put `files` (relative path → writer) into a fake hub cache the way `huggingface_hub` does: content in
/// `blobs/`, `snapshots/<sha>/<path>` symlinks to it, `refs/<ref>` holding the sha.
fn hub_repo(hub: &Path, repo: &str, git_ref: &str, sha: &str, files: &[RepoFile]) -> PathBuf {
    let repo_dir = hub.join(format!("datasets--{}", repo.replace('/', "--")));
    let snap = repo_dir.join("snapshots").join(sha);
    for (i, (rel, make)) in files.iter().enumerate() {
        let blob = repo_dir.join("blobs").join(format!("{sha}{i:04}"));
        fs::create_dir_all(blob.parent().unwrap()).unwrap();
        make(&blob);
        let link = snap.join(rel);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&blob, &link).unwrap();
        #[cfg(not(unix))]
        fs::copy(&blob, &link).unwrap();
    }
    let ref_file = repo_dir.join("refs").join(git_ref);
    fs::create_dir_all(ref_file.parent().unwrap()).unwrap();
    fs::write(ref_file, sha).unwrap();
    repo_dir
}

fn offline(hf_home: &Path) -> DataOptions {
    DataOptions {
        data_dir: None,
        hf_home: Some(hf_home.to_path_buf()),
        offline: true,
    }
}

const MMLU_CARD: &str = "---\nlanguage:\n- en\nconfigs:\n- config_name: abstract_algebra\n  data_files:\n  - split: test\n    path: abstract_algebra/test-*\n  - split: validation\n    path: abstract_algebra/validation-*\n  - split: dev\n    path: abstract_algebra/dev-*\n- config_name: anatomy\n  data_files:\n  - split: test\n    path: anatomy/test-*\n---\n# MMLU\n";

#[test]
fn hub_cache_card_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    hub_repo(
        &hub,
        "cais/mmlu",
        "main",
        "aaaa1111",
        &[
            ("README.md", &|p: &Path| fs::write(p, MMLU_CARD).unwrap()),
            (
                "abstract_algebra/test-00000-of-00001.parquet",
                &|p: &Path| mmlu_parquet(p, "abstract_algebra", "aa-test", 3),
            ),
            (
                "abstract_algebra/validation-00000-of-00001.parquet",
                &|p: &Path| mmlu_parquet(p, "abstract_algebra", "aa-val", 2),
            ),
            (
                "abstract_algebra/dev-00000-of-00001.parquet",
                &|p: &Path| mmlu_parquet(p, "abstract_algebra", "aa-dev", 5),
            ),
            ("anatomy/test-00000-of-00001.parquet", &|p: &Path| {
                mmlu_parquet(p, "anatomy", "an-test", 4)
            }),
        ],
    );
    let opts = offline(tmp.path());
    let spec = DatasetSpec::new("cais/mmlu").with_name("abstract_algebra");
    let test = load_split(&spec, "test", &opts).unwrap();
    assert_eq!(test.docs.len(), 3);
    assert_eq!(
        serde_json::to_string(&test.docs[1]).unwrap(),
        r#"{"question":"aa-test question 1?","subject":"abstract_algebra","choices":["aa-test-1-0","aa-test-1-1","aa-test-1-2","aa-test-1-3"],"answer":1}"#
    );
    assert!(
        test.source
            .contains("snapshots/aaaa1111/abstract_algebra/test-00000-of-00001.parquet"),
        "{}",
        test.source
    );
    assert_eq!(test.content_hash.len(), 64);
    assert_eq!(load_split(&spec, "dev", &opts).unwrap().docs.len(), 5);
    assert_eq!(
        available_splits(&spec, &opts).unwrap(),
        ["test", "validation", "dev"]
    );
    let anatomy = DatasetSpec::new("cais/mmlu").with_name("anatomy");
    assert_eq!(
        load_split(&anatomy, "test", &opts).unwrap().docs[0]["subject"],
        "anatomy"
    );
    // a split the card does not declare
    let err = load_split(&anatomy, "dev", &opts).unwrap_err();
    assert!(matches!(err, DataError::SplitNotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("has no split 'dev' (available: test)"),
        "{err}"
    );
    // a config the card does not declare: listed in the error
    let err = load_split(
        &DatasetSpec::new("cais/mmlu").with_name("astronomy"),
        "test",
        &opts,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("declares configs [abstract_algebra, anatomy], not 'astronomy'"),
        "{msg}"
    );
}

#[test]
fn hub_cache_parquet_export_and_push_to_hub_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    // Only the parquet-converter branch is cached (what the dataset viewer's export gives).
    hub_repo(
        &hub,
        "someone/converted",
        "convert/parquet",
        "bbbb2222",
        &[
            ("default/test/0000.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "t0", 2)
            }),
            ("default/test/0001.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "t1", 1)
            }),
            ("other/train/0000.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "o", 1)
            }),
        ],
    );
    let opts = offline(tmp.path());
    let docs = load_split(&DatasetSpec::new("someone/converted"), "test", &opts)
        .unwrap()
        .docs;
    let qs: Vec<&str> = docs
        .iter()
        .map(|d| d["question"].as_str().unwrap())
        .collect();
    assert_eq!(qs, ["t0 question 0?", "t0 question 1?", "t1 question 0?"]);
    assert_eq!(
        available_splits(
            &DatasetSpec::new("someone/converted").with_name("other"),
            &opts
        )
        .unwrap(),
        ["train"]
    );

    // push_to_hub layout without a card: data/{split}-NNNNN-of-NNNNN.parquet, train/validation/test order.
    hub_repo(
        &hub,
        "someone/pushed",
        "main",
        "cccc3333",
        &[
            ("data/test-00000-of-00001.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "te", 1)
            }),
            ("data/train-00000-of-00002.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "tr0", 1)
            }),
            ("data/train-00001-of-00002.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "tr1", 1)
            }),
            ("data/validation-00000-of-00001.parquet", &|p: &Path| {
                mmlu_parquet(p, "s", "va", 1)
            }),
        ],
    );
    let pushed = DatasetSpec::new("someone/pushed");
    assert_eq!(
        available_splits(&pushed, &opts).unwrap(),
        ["train", "validation", "test"]
    );
    assert_eq!(load_split(&pushed, "train", &opts).unwrap().docs.len(), 2);
    // revision pinned by commit sha
    let pinned = DatasetSpec {
        revision: Some("cccc3333".into()),
        ..pushed.clone()
    };
    assert_eq!(load_split(&pinned, "test", &opts).unwrap().docs.len(), 1);
}

#[test]
fn parquet_struct_and_nullable_columns_keep_types_and_order() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    // truthful_qa multiple_choice shape: question, mc1_targets {choices: [str], labels: [int32]}, plus a
    // nullable int column.
    let schema = "message schema {
      REQUIRED BYTE_ARRAY question (UTF8);
      REQUIRED group mc1_targets {
        REQUIRED group choices (LIST) { REPEATED group list { REQUIRED BYTE_ARRAY element (UTF8); } }
        REQUIRED group labels (LIST) { REPEATED group list { REQUIRED INT32 element; } }
      }
      OPTIONAL INT64 count;
    }";
    hub_repo(
        &hub,
        "someone/tqa",
        "main",
        "dddd4444",
        &[("data/validation-00000-of-00001.parquet", &|p: &Path| {
            let (d, r) = list_levels(&[3, 2]);
            write_parquet(
                p,
                schema,
                vec![
                    Leaf::Str(vec!["q1".into(), "q2".into()], None, None),
                    Leaf::Str(
                        vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()],
                        Some(d.clone()),
                        Some(r.clone()),
                    ),
                    Leaf::I32(vec![1, 0, 0, 0, 1], Some(d), Some(r)),
                    Leaf::I64(vec![7], Some(vec![1, 0]), None),
                ],
            )
        })],
    );
    let docs = load_split(
        &DatasetSpec::new("someone/tqa"),
        "validation",
        &offline(tmp.path()),
    )
    .unwrap()
    .docs;
    assert_eq!(
        serde_json::to_string(&docs).unwrap(),
        r#"[{"question":"q1","mc1_targets":{"choices":["a","b","c"],"labels":[1,0,0]},"count":7},{"question":"q2","mc1_targets":{"choices":["d","e"],"labels":[0,1]},"count":null}]"#
    );
}

#[test]
fn missing_dataset_offline_says_where_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("benchmarks");
    fs::create_dir_all(&data_dir).unwrap();
    let opts = DataOptions {
        data_dir: Some(data_dir.clone()),
        hf_home: Some(tmp.path().join("hf")),
        offline: true,
    };
    let err = load_split(
        &DatasetSpec::new("cais/mmlu").with_name("abstract_algebra"),
        "test",
        &opts,
    )
    .unwrap_err();
    let DataError::NotFound { looked_in, .. } = &err else {
        panic!("{err}")
    };
    let msg = err.to_string();
    let hub = tmp.path().join("hf").join("hub");
    assert!(
        msg.starts_with(
            "dataset cais/mmlu (config 'abstract_algebra'), split 'test', not found; looked for:"
        ),
        "{msg}"
    );
    assert!(
        looked_in
            .iter()
            .any(|p| p.ends_with("benchmarks/mmlu/test/abstract_algebra_test.csv")),
        "{looked_in:?}"
    );
    assert!(
        looked_in
            .iter()
            .any(|p| *p == hub.join("datasets--cais--mmlu").display().to_string()),
        "{looked_in:?}"
    );
    assert!(
        msg.contains(&format!("It is not in the HF cache at {}", hub.display())),
        "{msg}"
    );
    assert!(msg.contains("set HF_HOME (or HF_HUB_CACHE)"), "{msg}");
    assert!(
        msg.contains(
            "--data-dir DIR holding the original release files (expected under DIR/mmlu/)"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("run online (unset HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)"),
        "{msg}"
    );

    // A dataset with no release layout: the repo-copy locations are listed.
    // (allenai/ai2_arc has a release layout since the second data batch; HellaSwag's files were not obtained.)
    let err = load_split(&DatasetSpec::new("Rowan/hellaswag"), "validation", &opts).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&data_dir.join("Rowan/hellaswag").display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains(&hub.join("datasets--Rowan--hellaswag").display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains("a copy of the dataset repository (DIR/<org>/<name>/)"),
        "{msg}"
    );
}

#[test]
fn local_data_files_json_jsonl_csv_parquet_text() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("tasks/mytask");
    fs::create_dir_all(base.join("data")).unwrap();
    fs::write(
        base.join("data/test.jsonl"),
        "{\"q\":\"a\",\"n\":1}\n{\"q\":\"b\",\"n\":2.5,\"extra\":[1]}\n",
    )
    .unwrap();
    fs::write(base.join("data/dev.json"), "[{\"q\":\"x\",\"n\":3}]").unwrap();
    fs::write(
        base.join("data/train.csv"),
        "q,n,f\n\"a, quoted\",1,0.5\n\"multi\nline\",2,\n",
    )
    .unwrap();
    fs::write(base.join("data/lines.txt"), "one\n\ntwo\n").unwrap();
    mmlu_parquet(&base.join("data/shard-0.parquet"), "s", "p0", 1);
    mmlu_parquet(&base.join("data/shard-1.parquet"), "s", "p1", 2);
    let opts = DataOptions {
        offline: true,
        hf_home: Some(tmp.path().join("nohf")),
        ..Default::default()
    };
    let spec = |path: &str, files: serde_json::Value| DatasetSpec {
        path: path.into(),
        data_files: Some(files),
        base_dir: Some(base.clone()),
        ..Default::default()
    };

    let s = spec(
        "json",
        json!({"test": "data/test.jsonl", "dev": ["data/dev.json"]}),
    );
    assert_eq!(available_splits(&s, &opts).unwrap(), ["test", "dev"]);
    let test = load_split(&s, "test", &opts).unwrap();
    assert_eq!(
        serde_json::to_string(&test.docs).unwrap(),
        r#"[{"q":"a","n":1.0,"extra":null},{"q":"b","n":2.5,"extra":[1]}]"#
    );
    assert_eq!(
        serde_json::to_string(&load_split(&s, "dev", &opts).unwrap().docs).unwrap(),
        r#"[{"q":"x","n":3}]"#
    );

    let csv = load_split(
        &spec("csv", json!({"train": "data/train.csv"})),
        "train",
        &opts,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&csv.docs).unwrap(),
        r#"[{"q":"a, quoted","n":1,"f":0.5},{"q":"multi\nline","n":2,"f":null}]"#
    );

    // a glob, files in sorted order; a plain string means split "train"
    let pq = load_split(
        &spec("parquet", json!("data/shard-*.parquet")),
        "train",
        &opts,
    )
    .unwrap();
    assert_eq!(pq.docs.len(), 3);
    assert_eq!(pq.docs[0]["question"], "p0 question 0?");
    assert_eq!(pq.docs[2]["question"], "p1 question 1?");

    let txt = load_split(
        &spec("text", json!({"train": "data/lines.txt"})),
        "train",
        &opts,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&txt.docs).unwrap(),
        r#"[{"text":"one"},{"text":""},{"text":"two"}]"#
    );

    // missing file: error names the resolved path and points at the YAML directory
    let err = load_split(
        &spec("json", json!({"test": "data/nope.jsonl"})),
        "test",
        &opts,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&base.join("data/nope.jsonl").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("Check dataset_kwargs.data_files"), "{msg}");

    // one split's file present, the other's missing: the missing path is named
    let err = load_split(
        &spec(
            "json",
            json!({"test": "data/test.jsonl", "dev": "data/gone.json"}),
        ),
        "dev",
        &opts,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&base.join("data/gone.json").display().to_string()),
        "{err}"
    );

    // bad JSON: file:line:column
    fs::write(base.join("data/bad.jsonl"), "{\"q\":\"a\"}\n{\"q\": ?}\n").unwrap();
    let err = load_split(
        &spec("json", json!({"test": "data/bad.jsonl"})),
        "test",
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:7: expected value",
            base.join("data/bad.jsonl").display()
        )
    );

    // malformed CSV: file:line
    fs::write(base.join("data/bad.csv"), "a,b\n1,2\n\"open,3\n").unwrap();
    let err = load_split(
        &spec("csv", json!({"train": "data/bad.csv"})),
        "train",
        &opts,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}:3: quoted field",
            base.join("data/bad.csv").display()
        )),
        "{err}"
    );
    fs::write(base.join("data/wide.csv"), "a,b\n1,2\n1,2,3\n").unwrap();
    let err = load_split(
        &spec("csv", json!({"train": "data/wide.csv"})),
        "train",
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: expected 2 fields (the header's), saw 3",
            base.join("data/wide.csv").display()
        )
    );
}

#[test]
fn local_dataset_directory_and_data_dir_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let dd = tmp.path().join("dd");
    // a repository copy under --data-dir/<org>/<name>, with split keywords in file names
    fs::create_dir_all(dd.join("org/name")).unwrap();
    fs::write(dd.join("org/name/my_test.jsonl"), "{\"x\":1}\n").unwrap();
    fs::write(dd.join("org/name/my_train.jsonl"), "{\"x\":2}\n{\"x\":3}\n").unwrap();
    let opts = DataOptions {
        data_dir: Some(dd.clone()),
        hf_home: Some(tmp.path().join("nohf")),
        offline: true,
    };
    let spec = DatasetSpec::new("org/name");
    assert_eq!(available_splits(&spec, &opts).unwrap(), ["train", "test"]);
    assert_eq!(load_split(&spec, "train", &opts).unwrap().docs.len(), 2);
    // the same directory named directly by dataset_path (absolute)
    let direct = DatasetSpec::new(dd.join("org/name").display().to_string());
    assert_eq!(load_split(&direct, "test", &opts).unwrap().docs[0]["x"], 1);
}

#[test]
fn release_layout_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dd = tmp.path().join("dd");
    fs::create_dir_all(dd.join("mmlu/test")).unwrap();
    fs::write(
        dd.join("mmlu/test/toy_test.csv"),
        "q1,a,b,c,d,A\n\"q2\",a,b,c,D\n",
    )
    .unwrap();
    fs::write(dd.join("mmlu/test/toy2_test.csv"), "q1,a,b,c,d,E\n").unwrap();
    let opts = DataOptions {
        data_dir: Some(dd.clone()),
        hf_home: Some(tmp.path().join("nohf")),
        offline: true,
    };
    let err = load_split(
        &DatasetSpec::new("cais/mmlu").with_name("toy"),
        "test",
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: expected 6 fields (question,A,B,C,D,answer), found 5",
            dd.join("mmlu/test/toy_test.csv").display()
        )
    );
    let err = load_split(
        &DatasetSpec::new("cais/mmlu").with_name("toy2"),
        "test",
        &opts,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("toy2_test.csv:1: answer must be one of A, B, C, D, found \"E\""),
        "{err}"
    );
    let err = load_split(
        &DatasetSpec::new("cais/mmlu").with_name("nosuch"),
        "test",
        &opts,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("cais/mmlu has no config 'nosuch'"),
        "{err}"
    );
    let err = load_split(&DatasetSpec::new("cais/mmlu"), "test", &opts).unwrap_err();
    assert!(
        err.to_string().contains("needs a config (dataset_name)"),
        "{err}"
    );
}
