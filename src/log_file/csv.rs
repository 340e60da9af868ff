//! The explorer's summary columns as CSV (RFC 4180), safe to open in a spreadsheet: a cell that
//! a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) gets a leading `'`, so it stays text.

use crate::store::stored_log::StoredEvent;

/// The header row.
pub const CSV_HEADER: &str =
    "position,shipment_id,version,event_type,actor,recorded_at,summary\r\n";

/// One event's summary row, with its line ending.
pub fn csv_row(e: &StoredEvent) -> String {
    let actor = e
        .metadata
        .get("actor")
        .and_then(|a| a.as_str())
        .unwrap_or_default();
    let cells = [
        e.seq.to_string(),
        e.stream_id.to_string(),
        e.version.to_string(),
        e.event_type.clone(),
        actor.to_string(),
        crate::db::time_text(e.recorded_at),
        // The explorer's summary line (times in UTC); blank for an event it cannot read.
        crate::domain::ShipmentEvent::from_json(&e.event_type, &e.data)
            .map(|event| event.summary())
            .unwrap_or_default(),
    ];
    let mut row = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    row.push_str("\r\n");
    row
}

/// A cell as text: formula starts defused, then quoted if it holds a separator, a quote or a
/// line break.
pub fn cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_stay_text_and_separators_are_quoted() {
        let cases = [
            ("ana", "ana"),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("a,b", "\"a,b\""),
            ("line\nbreak", "\"line\nbreak\""),
            ("", ""),
        ];
        for (value, expected) in cases {
            assert_eq!(cell(value), expected, "{value:?}");
        }
    }
}
