//! Country names as sources write them → ISO 3166-1 alpha-2 codes, and date parsing shared by importers and
//! queries.

use chrono::NaiveDate;

/// (code, English short name, other spellings seen in sources).
const COUNTRIES: &[(&str, &str, &[&str])] = &[
    (
        "US",
        "United States",
        &[
            "united states of america",
            "usa",
            "u.s.",
            "u.s.a.",
            "america",
        ],
    ),
    (
        "CN",
        "China",
        &[
            "people's republic of china",
            "prc",
            "mainland china",
            "中国",
        ],
    ),
    ("HK", "Hong Kong", &["hong kong sar", "hong kong, china"]),
    (
        "TW",
        "Taiwan",
        &["taiwan, province of china", "republic of china"],
    ),
    (
        "GB",
        "United Kingdom",
        &[
            "united kingdom of great britain and northern ireland",
            "uk",
            "great britain",
            "england",
        ],
    ),
    ("FR", "France", &[]),
    ("DE", "Germany", &[]),
    ("CA", "Canada", &[]),
    ("AE", "United Arab Emirates", &["uae"]),
    (
        "KR",
        "South Korea",
        &[
            "korea (republic of)",
            "republic of korea",
            "korea, republic of",
            "korea",
        ],
    ),
    ("JP", "Japan", &[]),
    ("IL", "Israel", &[]),
    ("SG", "Singapore", &[]),
    ("IN", "India", &[]),
    ("CH", "Switzerland", &[]),
    ("NL", "Netherlands", &["the netherlands"]),
    ("ES", "Spain", &[]),
    ("PL", "Poland", &[]),
    ("SE", "Sweden", &[]),
    ("FI", "Finland", &[]),
    ("IT", "Italy", &[]),
    ("RU", "Russia", &["russian federation"]),
    ("SA", "Saudi Arabia", &[]),
    ("AU", "Australia", &[]),
    ("BR", "Brazil", &[]),
    ("VN", "Vietnam", &["viet nam"]),
    ("TH", "Thailand", &[]),
    ("ID", "Indonesia", &[]),
    ("TR", "Turkey", &["türkiye"]),
    ("QA", "Qatar", &[]),
    ("NO", "Norway", &[]),
    ("DK", "Denmark", &[]),
    ("BE", "Belgium", &[]),
    ("AT", "Austria", &[]),
    ("IE", "Ireland", &[]),
    ("LU", "Luxembourg", &[]),
    ("PT", "Portugal", &[]),
    ("CZ", "Czechia", &["czech republic"]),
    ("UA", "Ukraine", &[]),
];

/// ISO code for a country name or code (case-insensitive), if known.
pub fn country_code(name: &str) -> Option<&'static str> {
    let n = name.trim();
    if n.is_empty() {
        return None;
    }
    let lower = n.to_lowercase();
    COUNTRIES.iter().find_map(|(code, english, others)| {
        (code.eq_ignore_ascii_case(n)
            || english.to_lowercase() == lower
            || others.iter().any(|o| *o == lower))
        .then_some(*code)
    })
}

/// English name of an ISO code.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, n, _)| *n)
}

/// All known codes (for error messages).
pub fn known_codes() -> Vec<&'static str> {
    COUNTRIES.iter().map(|(c, _, _)| *c).collect()
}

/// A country cell that may list several countries separated by commas ("United States of America,China"):
/// the codes of those recognised, in order, and the parts that were not recognised.
pub fn country_list(cell: &str) -> (Vec<&'static str>, Vec<String>) {
    let mut codes = Vec::new();
    let mut unknown = Vec::new();
    // "Korea (Republic of)" contains no comma, but "Korea, Republic of" does: try the whole cell first.
    if let Some(c) = country_code(cell) {
        return (vec![c], unknown);
    }
    for part in cell.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match country_code(part) {
            Some(c) if !codes.contains(&c) => codes.push(c),
            Some(_) => {}
            None => unknown.push(part.to_string()),
        }
    }
    (codes, unknown)
}

/// Parse a date as sources write it: `YYYY-MM-DD`, `YYYY/MM/DD`, an RFC 3339 timestamp (date part), or a
/// month `YYYY-MM` (taken as its first day). Returns None for anything else.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() >= 10 {
        let head = &t[..10];
        let sep_ok = t.len() == 10 || matches!(t.as_bytes()[10], b'T' | b' ' | b't');
        if sep_ok {
            if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
                return Some(d);
            }
            if let Ok(d) = NaiveDate::parse_from_str(head, "%Y/%m/%d") {
                return Some(d);
            }
        }
    }
    parse_month(t).map(|(d, _)| d)
}

/// A date or a period for comparisons: `YYYY` (a year), `YYYY-MM` (a month) or a day. Returns the first and
/// last day of the period.
pub fn parse_period(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let t = text.trim();
    if t.len() == 4 && t.chars().all(|c| c.is_ascii_digit()) {
        let y: i32 = t.parse().ok()?;
        return Some((
            NaiveDate::from_ymd_opt(y, 1, 1)?,
            NaiveDate::from_ymd_opt(y, 12, 31)?,
        ));
    }
    if let Some(p) = parse_month(t) {
        return Some(p);
    }
    if t.len() == 10 {
        let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
        return Some((d, d));
    }
    None
}

fn parse_month(t: &str) -> Option<(NaiveDate, NaiveDate)> {
    if t.len() != 7 || !matches!(t.as_bytes()[4], b'-' | b'/') {
        return None;
    }
    let y: i32 = t[..4].parse().ok()?;
    let m: u32 = t[5..].parse().ok()?;
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    Some((first, next.pred_opt()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_codes() {
        assert_eq!(country_code("United States of America"), Some("US"));
        assert_eq!(country_code("china"), Some("CN"));
        assert_eq!(country_code("CN"), Some("CN"));
        assert_eq!(country_code("Korea (Republic of)"), Some("KR"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(
            country_list("United States of America,China").0,
            vec!["US", "CN"]
        );
        assert_eq!(country_list("Hong Kong,China").0, vec!["HK", "CN"]);
        let (codes, unknown) = country_list("China,Atlantis");
        assert_eq!((codes, unknown), (vec!["CN"], vec!["Atlantis".to_string()]));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-05-13"),
            NaiveDate::from_ymd_opt(2024, 5, 13)
        );
        assert_eq!(
            parse_date("2024-05-13T12:22:44Z"),
            NaiveDate::from_ymd_opt(2024, 5, 13)
        );
        assert_eq!(
            parse_date("2024/05/13"),
            NaiveDate::from_ymd_opt(2024, 5, 13)
        );
        assert_eq!(parse_date("2024-05"), NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2024-05-131"), None);
        let (a, b) = parse_period("2024-02").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2024-02-01".into(), "2024-02-29".into())
        );
        let (a, b) = parse_period("2023").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2023-01-01".into(), "2023-12-31".into())
        );
        assert!(parse_period("2023-1").is_none());
    }
}
