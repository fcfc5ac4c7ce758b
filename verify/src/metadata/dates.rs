//! Timestamps from EXIF (`YYYY:MM:DD HH:MM:SS`, local time) and XMP (ISO 8601), comparable.

use std::fmt;

/// Slack when one stamp has a time zone and the other does not: local time can be up to 14 h
/// from UTC.
pub const UNKNOWN_ZONE_SLACK_S: i64 = 14 * 3600;

/// A wall-clock time, with the UTC offset when the file recorded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Seconds since 1970-01-01 00:00:00 of the wall-clock reading, as if it were UTC.
    pub local: i64,
    /// Minutes east of UTC, when known.
    pub offset_min: Option<i32>,
}

impl Stamp {
    /// Seconds since the epoch in UTC (the wall clock when the zone is unknown).
    pub fn utc(&self) -> i64 {
        self.local - i64::from(self.offset_min.unwrap_or(0)) * 60
    }

    /// `self - other` in seconds, and the slack to allow for unknown zones.
    pub fn minus(&self, other: &Stamp) -> (i64, i64) {
        let slack = if self.offset_min.is_some() == other.offset_min.is_some() {
            0
        } else {
            UNKNOWN_ZONE_SLACK_S
        };
        (self.utc() - other.utc(), slack)
    }

    /// Build from calendar parts; `None` when a part is out of range.
    pub fn from_parts(
        year: i64,
        month: u32,
        day: u32,
        hms: (u32, u32, u32),
        offset_min: Option<i32>,
    ) -> Option<Stamp> {
        let (h, m, s) = hms;
        if !(1800..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || h > 23
            || m > 59
            || s > 60
            || offset_min.is_some_and(|o| o.abs() > 18 * 60)
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(Stamp {
            local: days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s),
            offset_min,
        })
    }

    /// An EXIF date (`2008:05:30 15:56:01`), with the zone from an `OffsetTime*` tag if given.
    pub fn from_exif(value: &[u8], offset: Option<&[u8]>) -> Option<Stamp> {
        let mut dt = exif::DateTime::from_ascii(value).ok()?;
        if let Some(o) = offset {
            // A malformed offset just leaves the zone unknown.
            let _ = dt.parse_offset(o);
        }
        Stamp::from_parts(
            i64::from(dt.year),
            u32::from(dt.month),
            u32::from(dt.day),
            (
                u32::from(dt.hour),
                u32::from(dt.minute),
                u32::from(dt.second),
            ),
            dt.offset.map(i32::from),
        )
    }

    /// An XMP date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, optionally `Thh:mm[:ss[.s+]]` and a zone
    /// (`Z` or `±hh:mm`).
    pub fn from_xmp(s: &str) -> Option<Stamp> {
        let s = s.trim();
        let (date, time) = match s.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        let mut parts = date.split('-');
        let year: i64 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
        let day: u32 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
        if parts.next().is_some() {
            return None;
        }
        let Some(time) = time else {
            return Stamp::from_parts(year, month, day, (0, 0, 0), None);
        };
        let (clock, zone) = if let Some(c) = time.strip_suffix('Z') {
            (c, Some(0))
        } else if let Some(i) = time.rfind(['+', '-']) {
            let (c, z) = time.split_at(i);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = z[1..].split_once(':').unwrap_or((&z[1..], "0"));
            let minutes = zh.parse::<i32>().ok()? * 60 + zm.parse::<i32>().ok()?;
            (c, Some(sign * minutes))
        } else {
            (time, None)
        };
        let mut hms = clock.split(':');
        let h: u32 = hms.next()?.parse().ok()?;
        let m: u32 = hms.next()?.parse().ok()?;
        let sec: u32 = match hms.next() {
            Some(x) => x.split('.').next()?.parse().ok()?,
            None => 0,
        };
        Stamp::from_parts(year, month, day, (h, m, sec), zone)
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.local.div_euclid(86_400);
        let secs = self.local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        if let Some(o) = self.offset_min {
            let sign = if o < 0 { '-' } else { '+' };
            write!(f, "{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60)?;
        }
        Ok(())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: the (year, month, day) of day `z` since 1970-01-01 (Howard
/// Hinnant's algorithm). The one copy in the project; dates elsewhere are formatted from it.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let cases: [(&str, Option<&str>); 7] = [
            ("2008-05-30T15:56:01", Some("2008-05-30 15:56:01")),
            (
                "2008-05-30T15:56:01+06:00",
                Some("2008-05-30 15:56:01+06:00"),
            ),
            ("2008-05-30T15:56:01.25Z", Some("2008-05-30 15:56:01+00:00")),
            ("2024-02-29T23:59", Some("2024-02-29 23:59:00")),
            ("2008-05-30", Some("2008-05-30 00:00:00")),
            ("2008-13-30", None),
            ("yesterday", None),
        ];
        for (input, want) in cases {
            let got = Stamp::from_xmp(input).map(|s| s.to_string());
            assert_eq!(got.as_deref(), want, "{input}");
        }
        let e = Stamp::from_exif(b"2008:05:30 15:56:01", Some(b"-05:00")).expect("valid");
        assert_eq!(e.to_string(), "2008-05-30 15:56:01-05:00");
        // 15:56:01 at UTC−5 is 20:56:01 UTC.
        assert_eq!(e.utc(), 1_212_180_961);
        assert!(Stamp::from_exif(b"0000:00:00 00:00:00", None).is_none());
        assert!(Stamp::from_exif(b"    :  :     :  :  ", None).is_none());
    }
}
