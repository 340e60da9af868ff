//! What a board query asks for, parsed from the form and the link: filters, search, sort,
//! page or cursor, each bad field named.

use super::super::sort::{BoardSort, SortColumn};
use super::super::BoardRow;
use crate::db::{parse_time, time_text};
use crate::domain::{FieldError, ShipmentId, ShipmentStatus};

pub const BOARD_PAGE_SIZE: i64 = 50;
/// Longer searches are cut to this many characters.
const SEARCH_MAX_CHARS: usize = 120;

/// A board query as it arrives from a form or a link: text, to be parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBoardQuery {
    pub status: String,
    pub search: String,
    pub page: String,
    pub after: String,
    pub before: String,
    /// `origin`, `-origin` (descending), …; empty for the default, newest planned pickup first.
    pub sort: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardQuery {
    pub status: Option<ShipmentStatus>,
    /// Matches origin, destination or shipment id, case-insensitively.
    pub search: Option<String>,
    /// 1-based. Without a cursor it picks the rows by offset; with one it is only the number
    /// shown to the reader.
    pub page: i64,
    /// Where the page starts, relative to a row of the page next to it: pages reached by
    /// "next" and "previous" cost the same however deep they are.
    pub cursor: Option<Cursor>,
    pub sort: BoardSort,
}

impl BoardQuery {
    /// Parses every field, reporting each bad one by its own name.
    pub fn parse(raw: &RawBoardQuery) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = match raw.status.trim() {
            "" | "all" => None,
            s => ShipmentStatus::parse(s).or_else(|| {
                errors.push(FieldError::new("status", format!("{s:?} is not a status")));
                None
            }),
        };
        let page = match raw.page.trim() {
            "" => 1,
            p => p
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new("page", "must be a page number"));
                    1
                }),
        };
        let search: String = raw.search.trim().chars().take(SEARCH_MAX_CHARS).collect();
        let sort = BoardSort::parse(&raw.sort).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "sort",
                "is not a column the board sorts by",
            ));
            BoardSort::default()
        });
        let mut cursor_of = |field: &str, key: &str, make: fn(CursorKey) -> Cursor| {
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            let parsed = CursorKey::parse_for(sort.column, key).map(make);
            if parsed.is_none() {
                errors.push(FieldError::new(field, "is not a board position"));
            }
            parsed
        };
        let after = cursor_of("after", &raw.after, Cursor::After);
        let before = cursor_of("before", &raw.before, Cursor::Before);
        let cursor = match (after, before) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("before", "give after or before, not both"));
                None
            }
            (after, before) => after.or(before),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            status,
            search: Some(search).filter(|s| !s.is_empty()),
            page,
            cursor,
            sort,
        })
    }
}

/// A position in the board's order: the sort column's value and the shipment id, in the form
/// the table stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorKey {
    pub(super) value: String,
    pub(super) id: String,
}

impl CursorKey {
    /// `value|id` for an order by `column` (the value may itself hold `|`; the id never does).
    pub fn parse_for(column: SortColumn, key: &str) -> Option<Self> {
        let (value, id) = key.rsplit_once('|')?;
        let value = match column {
            SortColumn::PlannedPickup => time_text(parse_time(value).ok()?),
            SortColumn::Status => ShipmentStatus::parse(value)?.as_str().to_string(),
            SortColumn::Origin | SortColumn::Destination => value.to_string(),
        };
        Some(Self {
            value,
            id: ShipmentId::parse(id).ok()?.to_string(),
        })
    }

    /// The key of a row in an order by `column`.
    pub fn of_sorted(row: &BoardRow, column: SortColumn) -> String {
        let s = &row.shipment;
        let value = match column {
            SortColumn::PlannedPickup => time_text(s.scheduled_at),
            SortColumn::Origin => s.origin.clone(),
            SortColumn::Destination => s.destination.clone(),
            SortColumn::Status => s.status.as_str().to_string(),
        };
        format!("{value}|{}", s.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The rows after this one.
    After(CursorKey),
    /// The rows before this one.
    Before(CursorKey),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: &str, page: &str, after: &str, before: &str) -> RawBoardQuery {
        RawBoardQuery {
            status: status.into(),
            page: page.into(),
            after: after.into(),
            before: before.into(),
            ..RawBoardQuery::default()
        }
    }

    #[test]
    fn sorts_parse_both_ways_and_cursors_follow_the_sort_column() {
        let cases: [(&str, Option<(SortColumn, bool)>); 6] = [
            ("", Some((SortColumn::PlannedPickup, true))),
            ("origin", Some((SortColumn::Origin, false))),
            ("-destination", Some((SortColumn::Destination, true))),
            ("status", Some((SortColumn::Status, false))),
            ("pickup", Some((SortColumn::PlannedPickup, false))),
            ("weight", None),
        ];
        for (input, want) in cases {
            let got = BoardSort::parse(input).map(|s| (s.column, s.descending));
            assert_eq!(got, want, "{input:?}");
            if let Some(sort) = BoardSort::parse(input).filter(|_| !input.is_empty()) {
                assert_eq!(sort.as_param(), input);
            }
        }
        let id = "4f9e1c1e-3a55-4c43-9b7f-7f0d8f6b1a11";
        let key = CursorKey::parse_for(SortColumn::Origin, &format!("A|B {id}|{id}")).unwrap();
        assert_eq!(
            (key.value.as_str(), key.id.as_str()),
            ("A|B {id}".replace("{id}", id).as_str(), id)
        );
        assert!(CursorKey::parse_for(SortColumn::Status, &format!("Lost|{id}")).is_none());
        assert!(CursorKey::parse_for(SortColumn::Origin, "Rotterdam|not-an-id").is_none());
        let mut query = raw("", "", "", "");
        query.sort = "sideways".into();
        assert_eq!(BoardQuery::parse(&query).unwrap_err()[0].field, "sort");
    }

    #[test]
    fn board_queries_parse_and_name_the_bad_field() {
        let key = "2026-12-01T08:00:00Z|4f9e1c1e-3a55-4c43-9b7f-7f0d8f6b1a11";
        let ok = BoardQuery::parse(&raw("InTransit", "3", key, "")).unwrap();
        assert_eq!(ok.status, Some(ShipmentStatus::InTransit));
        assert_eq!(ok.page, 3);
        assert!(matches!(ok.cursor, Some(Cursor::After(_))));
        let fields = |r: RawBoardQuery| -> Vec<String> {
            BoardQuery::parse(&r)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(raw("Lost", "", "", "")), ["status"]);
        assert_eq!(fields(raw("", "0", "", "")), ["page"]);
        assert_eq!(fields(raw("", "", "", "nope")), ["before"]);
        assert_eq!(fields(raw("", "", "nope", "")), ["after"]);
        assert_eq!(fields(raw("", "", key, key)), ["before"]);
        assert_eq!(fields(raw("x", "y", "", "")), ["status", "page"]);
    }
}
