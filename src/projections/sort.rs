//! The orders the dispatch board can be read in: shared, so the page builds its column
//! headers' links from the same names the server parses.

use crate::text_enum::text_enum;

text_enum! {
    /// A column the board can be ordered by.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum SortColumn {
        #[default]
        PlannedPickup = "pickup",
        Origin = "origin",
        Destination = "destination",
        Status = "status",
    }
}

impl SortColumn {
    /// The board table's column.
    pub fn column(&self) -> &'static str {
        match self {
            SortColumn::PlannedPickup => "scheduled_at",
            SortColumn::Origin => "origin",
            SortColumn::Destination => "destination",
            SortColumn::Status => "status",
        }
    }
}

/// The board's order: one column, either way, then the shipment id (so the order is total and
/// a cursor names exactly one place in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardSort {
    pub column: SortColumn,
    pub descending: bool,
}

impl Default for BoardSort {
    /// Newest planned pickup first.
    fn default() -> Self {
        Self {
            column: SortColumn::PlannedPickup,
            descending: true,
        }
    }
}

impl BoardSort {
    /// `origin`, `-origin`; empty is the default.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        if input.is_empty() {
            return Some(Self::default());
        }
        let (descending, name) = match input.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, input),
        };
        SortColumn::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .map(|column| Self { column, descending })
    }

    /// What `parse` reads back.
    pub fn as_param(&self) -> String {
        format!(
            "{}{}",
            if self.descending { "-" } else { "" },
            self.column.as_str()
        )
    }
}
