//! How bad an advisory is: a CVSS base score and a qualitative rating.
//!
//! OSV records carry CVSS vectors (`severity[]`, at the record or the package level) and often a
//! database's own text rating (`database_specific.severity: HIGH`, from GitHub and PyPA). The
//! newest CVSS version present wins (v4, then v3, then v2) because it is what the publishing
//! database shows; a vector that does not parse is reported and the next candidate is tried,
//! down to the text rating. Scores are computed by the RustSec `cvss` crate.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::model::{Affected, OsvRecord, SeverityScore};

/// Why a severity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeverityError {
    /// The CVSS vector does not parse.
    #[error("Invalid CVSS vector `{vector}`")]
    InvalidVector {
        /// The vector as written.
        vector: String,
        /// The parser's reason.
        #[source]
        source: cvss::Error,
    },
    /// A CVSS v3 vector lacks a base metric, so no base score can be computed.
    #[error("CVSS vector `{vector}` lacks the base metric {metric}")]
    MissingBaseMetric {
        /// The vector as written.
        vector: String,
        /// The first missing metric (`AV`, `AC`, ...).
        metric: &'static str,
    },
    /// A rating name that is not one of none, low, medium (moderate), high, critical.
    #[error("Unknown severity rating `{0}`")]
    UnknownRating(String),
}

/// The qualitative rating scale of CVSS v3 and v4, ordered from least to most severe so that a
/// threshold such as `--fail-on high` is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rating {
    /// Score 0.0.
    None,
    /// Score 0.1 to 3.9.
    Low,
    /// Score 4.0 to 6.9 (GitHub says "moderate").
    Medium,
    /// Score 7.0 to 8.9.
    High,
    /// Score 9.0 to 10.0.
    Critical,
}

impl Rating {
    /// Every rating, least severe first.
    pub const ALL: [Rating; 5] = [
        Rating::None,
        Rating::Low,
        Rating::Medium,
        Rating::High,
        Rating::Critical,
    ];

    /// The lowercase name (`none`, `low`, `medium`, `high`, `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::None => "none",
            Rating::Low => "low",
            Rating::Medium => "medium",
            Rating::High => "high",
            Rating::Critical => "critical",
        }
    }

    /// The rating a CVSS v3/v4 base score falls in.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Rating::Critical,
            s if s >= 7.0 => Rating::High,
            s if s >= 4.0 => Rating::Medium,
            s if s > 0.0 => Rating::Low,
            _ => Rating::None,
        }
    }

    fn from_cvss(severity: cvss::Severity) -> Self {
        match severity {
            cvss::Severity::None => Rating::None,
            cvss::Severity::Low => Rating::Low,
            cvss::Severity::Medium => Rating::Medium,
            cvss::Severity::High => Rating::High,
            cvss::Severity::Critical => Rating::Critical,
        }
    }
}

impl FromStr for Rating {
    type Err = SeverityError;

    /// Case-insensitive; also takes GitHub's `moderate` and Ubuntu's priorities (`negligible`
    /// is low).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Rating::None),
            "low" | "negligible" => Ok(Rating::Low),
            "medium" | "moderate" => Ok(Rating::Medium),
            "high" => Ok(Rating::High),
            "critical" => Ok(Rating::Critical),
            _ => Err(SeverityError::UnknownRating(s.to_owned())),
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Rating {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The severity repin shows and compares: a score when a CVSS vector gave one, always a rating.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Severity {
    /// The CVSS base score (0.0 to 10.0), when computed from a vector.
    pub score: Option<f64>,
    /// The rating, from the score or from the database's text.
    pub rating: Rating,
    /// The CVSS vector the score was computed from.
    pub vector: Option<String>,
}

impl Severity {
    /// Score a CVSS vector (`CVSS:3.1/...`, `CVSS:4.0/...`, or a v2 vector without prefix).
    pub fn from_cvss(vector: &str) -> Result<Self, SeverityError> {
        let vector = vector.trim();
        let parsed =
            cvss::Cvss::from_str(vector).map_err(|source| SeverityError::InvalidVector {
                vector: vector.to_owned(),
                source,
            })?;
        // v2 and v4 vectors are checked for their mandatory metrics when parsed; v3 vectors are
        // not, and would score missing metrics as zero.
        if let cvss::Cvss::CvssV30(v3) | cvss::Cvss::CvssV31(v3) = &parsed {
            let present = [
                ("AV", v3.av.is_some()),
                ("AC", v3.ac.is_some()),
                ("PR", v3.pr.is_some()),
                ("UI", v3.ui.is_some()),
                ("S", v3.s.is_some()),
                ("C", v3.c.is_some()),
                ("I", v3.i.is_some()),
                ("A", v3.a.is_some()),
            ];
            if let Some((metric, _)) = present.iter().find(|(_, here)| !here) {
                return Err(SeverityError::MissingBaseMetric {
                    vector: vector.to_owned(),
                    metric,
                });
            }
        }
        Ok(Severity {
            score: Some(parsed.score()),
            rating: Rating::from_cvss(parsed.severity()),
            vector: Some(vector.to_owned()),
        })
    }

    /// A severity known only by its rating text (`HIGH`, `moderate`).
    pub fn from_rating_text(text: &str) -> Result<Self, SeverityError> {
        Ok(Severity {
            score: None,
            rating: text.parse()?,
            vector: None,
        })
    }

    /// The severity of `record` for one of its packages (`affected` entries of that package):
    /// CVSS v4, v3, v2 vectors at the record level then the package level, then the
    /// `database_specific.severity` text, then other text scores (Ubuntu priorities). `None`
    /// when nothing usable is there. Every score that could not be used is returned as an
    /// error, even when a later candidate succeeded.
    pub fn of_record<'a>(
        record: &OsvRecord,
        affected: impl IntoIterator<Item = &'a Affected> + Clone,
    ) -> (Option<Severity>, Vec<SeverityError>) {
        let scores: Vec<&SeverityScore> = record
            .severity
            .iter()
            .chain(affected.clone().into_iter().flat_map(|a| &a.severity))
            .collect();
        let mut errors = Vec::new();
        let mut found = None;
        for kind in ["CVSS_V4", "CVSS_V3", "CVSS_V2"] {
            for score in scores.iter().filter(|s| s.kind.eq_ignore_ascii_case(kind)) {
                match Severity::from_cvss(&score.score) {
                    Ok(severity) if found.is_none() => found = Some(severity),
                    Ok(_) => {}
                    Err(err) => errors.push(err),
                }
            }
        }
        let texts = std::iter::once(record.database_severity())
            .chain(affected.into_iter().map(|a| {
                a.database_specific
                    .as_ref()
                    .and_then(|d| d.get("severity"))
                    .and_then(|s| s.as_str())
            }))
            .flatten()
            .chain(
                scores
                    .iter()
                    .filter(|s| !s.kind.to_ascii_uppercase().starts_with("CVSS_"))
                    .map(|s| s.score.as_str()),
            );
        for text in texts {
            match Severity::from_rating_text(text) {
                Ok(severity) if found.is_none() => found = Some(severity),
                Ok(_) => {}
                Err(err) => errors.push(err),
            }
        }
        (found, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_v3_vectors_score_and_rate() {
        // werkzeug PYSEC-2023-221 (network DoS): 7.5 High.
        let s = Severity::from_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H").unwrap();
        assert_eq!(s.score, Some(7.5));
        assert_eq!(s.rating, Rating::High);
        assert_eq!(
            s.vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
        );
        // aiohttp's withdrawn PYSEC-2022-43059 (local DoS): 5.5 Medium.
        let s = Severity::from_cvss("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H").unwrap();
        assert_eq!((s.score, s.rating), (Some(5.5), Rating::Medium));
        // Scope change, all high: 10.0 Critical.
        let s = Severity::from_cvss("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert_eq!((s.score, s.rating), (Some(10.0), Rating::Critical));
        let s = Severity::from_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N").unwrap();
        assert_eq!((s.score, s.rating), (Some(0.0), Rating::None));
    }

    #[test]
    fn cvss_v4_and_v2_vectors_score_and_rate() {
        // The example from the FIRST CVSS v4.0 calculator: all base metrics high, 9.3 Critical.
        let s =
            Severity::from_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .unwrap();
        assert_eq!((s.score, s.rating), (Some(9.3), Rating::Critical));
        let s =
            Severity::from_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N")
                .unwrap();
        assert_eq!(s.rating, Rating::Medium, "{s:?}");
        // CVSS v2 has no prefix; AV:N/AC:L/Au:N/C:P/I:P/A:P is the classic 7.5.
        let s = Severity::from_cvss("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!((s.score, s.rating), (Some(7.5), Rating::High));
    }

    #[test]
    fn malformed_vectors_are_errors_not_crashes() {
        for bad in [
            "",
            "CVSS",
            "CVSS:3.1",
            "CVSS:3.1/",
            "CVSS:3.1/AV:N/AC:L", // v3 base metrics missing
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", // bad value
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", // duplicate
            "CVSS:4.0/AV:N/AC:L", // v4 base metrics missing
            "CVSS:5.0/AV:N",
            "NOT:1.0/AV:N",
            "AV:N/AC:L",
            "garbage",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/////",
        ] {
            assert!(Severity::from_cvss(bad).is_err(), "{bad:?} was accepted");
        }
        let err = Severity::from_cvss("CVSS:3.1/AV:N/AC:L").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CVSS vector `CVSS:3.1/AV:N/AC:L` lacks the base metric PR"
        );
    }

    #[test]
    fn ratings_are_ordered_and_parse_database_texts() {
        assert!(Rating::None < Rating::Low);
        assert!(Rating::Low < Rating::Medium);
        assert!(Rating::Medium < Rating::High);
        assert!(Rating::High < Rating::Critical);
        for (text, rating) in [
            ("HIGH", Rating::High),
            ("MODERATE", Rating::Medium),
            ("medium", Rating::Medium),
            ("Low", Rating::Low),
            ("negligible", Rating::Low),
            ("CRITICAL", Rating::Critical),
            ("none", Rating::None),
        ] {
            assert_eq!(text.parse::<Rating>().unwrap(), rating, "{text}");
        }
        assert_eq!(
            "severe".parse::<Rating>().unwrap_err().to_string(),
            "Unknown severity rating `severe`"
        );
        for rating in Rating::ALL {
            assert_eq!(rating.as_str().parse::<Rating>().unwrap(), rating);
        }
        assert_eq!(Rating::from_score(8.9), Rating::High);
        assert_eq!(Rating::from_score(9.0), Rating::Critical);
        assert_eq!(Rating::from_score(0.1), Rating::Low);
    }

    fn record(yaml: &str) -> OsvRecord {
        OsvRecord::from_yaml(yaml).unwrap()
    }

    #[test]
    fn record_severity_prefers_the_newest_cvss_then_database_text() {
        let r = record(
            "id: X-1\nseverity:\n- type: CVSS_V3\n  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\n- type: CVSS_V4\n  score: CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\ndatabase_specific:\n  severity: LOW\n",
        );
        let (s, errors) = Severity::of_record(&r, &r.affected);
        assert!(errors.is_empty());
        assert_eq!(s.unwrap().rating, Rating::Critical);

        // A malformed v4 vector falls back to v3, and is reported.
        let r = record(
            "id: X-1\nseverity:\n- type: CVSS_V4\n  score: CVSS:4.0/AV:N\n- type: CVSS_V3\n  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\n",
        );
        let (s, errors) = Severity::of_record(&r, &r.affected);
        assert_eq!(s.unwrap().score, Some(7.5));
        assert_eq!(errors.len(), 1);

        // Only a database text: a rating with no score.
        let r = record("id: X-1\ndatabase_specific:\n  severity: MODERATE\n");
        let (s, errors) = Severity::of_record(&r, &r.affected);
        assert_eq!(
            s,
            Some(Severity {
                score: None,
                rating: Rating::Medium,
                vector: None
            })
        );
        assert!(errors.is_empty());

        // A package-level score counts; a bad text is reported; nothing at all is None.
        let r = record(
            "id: X-1\naffected:\n- package: {ecosystem: PyPI, name: x}\n  severity:\n  - type: Ubuntu\n    score: high\n  database_specific:\n    severity: dreadful\n",
        );
        let (s, errors) = Severity::of_record(&r, &r.affected);
        assert_eq!(s.unwrap().rating, Rating::High);
        assert_eq!(errors, [SeverityError::UnknownRating("dreadful".into())]);
        let r = record("id: X-1\n");
        assert_eq!(Severity::of_record(&r, &r.affected), (None, Vec::new()));
    }
}
