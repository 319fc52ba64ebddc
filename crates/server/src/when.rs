//! Times as members read them: in English in UTC, in Japanese in Japan time (the sheet, the
//! password-changed notice, the reset mail's expiry).

use anyhow::Context;
use time::{OffsetDateTime, UtcOffset};
use unipos_protocol::Language;

/// Japan has no daylight saving time: always UTC+9.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+9 is a valid offset"),
};

pub fn date_time(ms: i64, offset: UtcOffset) -> anyhow::Result<OffsetDateTime> {
    Ok(OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .with_context(|| format!("{ms} ms is not a time that can be shown"))?
        .to_offset(offset))
}

/// "2 December 2026, 07:49 UTC" / "2026年12月2日 16:49（日本時間）", to the minute (rounded down).
pub fn when(ms: i64, language: Language) -> anyhow::Result<String> {
    Ok(match language {
        Language::En => {
            let t = date_time(ms, UtcOffset::UTC)?;
            format!(
                "{} {} {}, {:02}:{:02} UTC",
                t.day(),
                t.month(),
                t.year(),
                t.hour(),
                t.minute()
            )
        }
        Language::Ja => {
            let t = date_time(ms, JST)?;
            format!(
                "{}年{}月{}日 {:02}:{:02}（日本時間）",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02T07:49:30Z.
    const MADE_MS: i64 = 1_796_197_770_000;

    #[test]
    fn times_are_utc_in_english_and_japan_time_in_japanese() {
        assert_eq!(
            when(MADE_MS, Language::En).unwrap(),
            "2 December 2026, 07:49 UTC"
        );
        assert_eq!(
            when(MADE_MS, Language::Ja).unwrap(),
            "2026年12月2日 16:49（日本時間）"
        );
        // 20:30 UTC is already the next day in Japan.
        let evening = 1_796_243_400_000; // 2026-12-02T20:30:00Z
        assert_eq!(
            when(evening, Language::Ja).unwrap(),
            "2026年12月3日 05:30（日本時間）"
        );
    }
}
