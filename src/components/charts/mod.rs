//! Charts an operator reads at a glance, drawn as SVG by the server and redrawn by the browser
//! when new data arrives: a sparkline per version for lag and rate over the last hour, and the
//! daily counts as a bar chart. No chart dependency: the geometry is a few pure functions
//! (`geometry.rs`, tested there). Every chart says in words what it shows, for screen readers (and
//! the bar chart also as a table). The charts only draw: the pages fetch their data and pass it in.

mod daily;
mod geometry;
mod sparkline;

pub use daily::DailyChart;
pub use sparkline::VersionCharts;
