//! The `Retry-After` header: delta-seconds or an HTTP-date, read without panicking on any value.

use std::time::{Duration, SystemTime};

/// Parse a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in any of the three
/// forms §5.6.7 asks recipients to accept (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`). A date in the past means "now".
///
/// Never panics: a value too large for a `Duration` (`1e30`, 30 digits) is `Duration::MAX` (callers cap
/// it), a negative number is zero, NaN and anything else unreadable are `None` (the caller's own backoff).
/// Decimal seconds (`1.5`) are not in the RFC but some servers send them; they are accepted.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // delta-seconds; more digits than a u64 holds is "very long"
        return Some(
            v.parse::<u64>()
                .map(Duration::from_secs)
                .unwrap_or(Duration::MAX),
        );
    }
    if v.bytes()
        .all(|b| b.is_ascii_digit() || b".+-eE".contains(&b))
        || v.eq_ignore_ascii_case("nan")
        || v.trim_start_matches(['+', '-']).eq_ignore_ascii_case("inf")
        || v.trim_start_matches(['+', '-'])
            .eq_ignore_ascii_case("infinity")
    {
        let secs = v.parse::<f64>().ok()?;
        if secs.is_nan() {
            return None;
        }
        if secs <= 0.0 {
            return Some(Duration::ZERO);
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = parse_http_date(v)?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP-date (RFC 9110 §5.6.7) in any of its three forms, as a time; `None` when it is not one.
/// Years outside 1..=9999 are refused, so the arithmetic cannot overflow.
fn parse_http_date(v: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [wd, d, m, y, t, "GMT"] if wd.ends_with(',') => (*d, *m, y.parse::<i64>().ok()?, *t),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [wd, dmy, t, "GMT"] if wd.ends_with(',') => {
            let mut it = dmy.split('-');
            let (d, m, y) = (it.next()?, it.next()?, it.next()?);
            if it.next().is_some() {
                return None;
            }
            let y: i64 = y.parse().ok()?;
            // two-digit years: RFC 9110 says a year that looks more than 50 years ahead is in the past;
            // with no clock here, 70–99 are 19xx and 00–69 are 20xx
            let y = match (y, dmy.rsplit('-').next().map(str::len)) {
                (y, Some(2)) if y >= 70 => 1900 + y,
                (y, Some(2)) => 2000 + y,
                (y, _) => y,
            };
            (d, m, y, *t)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_wd, m, d, t, y] => (*d, *m, y.parse::<i64>().ok()?, *t),
        _ => return None,
    };
    if !(1..=9999).contains(&year) {
        return None;
    }
    let day: i64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let hms: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    if hms.len() != 3
        || !(0..=23).contains(&hms[0])
        || !(0..=59).contains(&hms[1])
        || !(0..=60).contains(&hms[2])
        || !(1..=31).contains(&day)
    {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm); all terms are small for years 1..=9999
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    match u64::try_from(secs) {
        Ok(secs) => SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)),
        Err(_) => Some(SystemTime::UNIX_EPOCH),
    }
}
