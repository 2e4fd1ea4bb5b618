//! Parquet files (the format of the Hugging Face hub and of its `refs/convert/parquet` branch) read with
//! the `parquet` crate's row API and mapped to JSON values the way `datasets` hands them to lm-eval:
//! integer columns stay integers (ClassLabel columns are int64), floats are floats (a float32 becomes the
//! same double Python sees), `Sequence`/list columns are arrays, struct columns are objects with their
//! fields in schema order, nulls are null. Dates, timestamps and decimals become the strings Python's
//! `str()` prints for them (lm-eval's JSON fallback); binary columns become their UTF-8 text (lossy).

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Map, Number, Value};
use yardstick_core::Doc;

use super::error::DataError;

fn field_to_value(f: Field) -> Value {
    match f {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(b),
        Field::Byte(n) => Value::Number(n.into()),
        Field::Short(n) => Value::Number(n.into()),
        Field::Int(n) => Value::Number(n.into()),
        Field::Long(n) => Value::Number(n.into()),
        Field::UByte(n) => Value::Number(n.into()),
        Field::UShort(n) => Value::Number(n.into()),
        Field::UInt(n) => Value::Number(n.into()),
        Field::ULong(n) => Value::Number(n.into()),
        Field::Float16(n) => Number::from_f64(f64::from(n))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Field::Float(n) => Number::from_f64(f64::from(n))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Field::Double(n) => Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Field::Str(s) => Value::String(s),
        Field::Bytes(b) => Value::String(String::from_utf8_lossy(b.data()).into_owned()),
        Field::Group(row) => Value::Object(
            row.into_columns()
                .into_iter()
                .map(|(k, v)| (k, field_to_value(v)))
                .collect(),
        ),
        Field::ListInternal(list) => Value::Array(
            list.elements()
                .iter()
                .cloned()
                .map(field_to_value)
                .collect(),
        ),
        other @ (Field::Decimal(_)
        | Field::Date(_)
        | Field::TimestampMillis(_)
        | Field::TimestampMicros(_)
        | Field::MapInternal(_)) => other.to_json_value(),
    }
}

/// Read every row of a Parquet file, in file order.
pub(crate) fn parquet_to_docs(path: &Path) -> Result<Vec<Doc>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let perr = |e: parquet::errors::ParquetError| DataError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = SerializedFileReader::new(file).map_err(perr)?;
    let n = usize::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    let mut docs = Vec::with_capacity(n);
    for row in reader.get_row_iter(None).map_err(perr)? {
        let row = row.map_err(perr)?;
        let doc: Map<String, Value> = row
            .into_columns()
            .into_iter()
            .map(|(k, v)| (k, field_to_value(v)))
            .collect();
        docs.push(doc);
    }
    Ok(docs)
}
