//! Reading a store's log out a page at a time, oldest first: memory holds one page, whatever
//! the log's length. The CLI writes the pages to standard output, the console streams them as
//! a download.

use crate::store::explorer::LogQuery;
use crate::store::stored_log::{StoredEvent, StoredLogPage};
use crate::store::{EventStore, StoreError};
use futures::Stream;

/// Events per page read.
pub const EXPORT_PAGE_SIZE: i64 = 1000;

/// The events that pass `filter`, page after page in log order, until none is left.
pub fn export_pages(
    store: EventStore,
    filter: LogQuery,
) -> impl Stream<Item = Result<Vec<StoredEvent>, StoreError>> + Send + 'static {
    futures::stream::try_unfold(Some(0_i64), move |after| {
        let (store, filter) = (store.clone(), filter.clone());
        async move {
            let Some(after_seq) = after else {
                return Ok(None);
            };
            let page = StoredLogPage {
                filter,
                after_seq,
                limit: EXPORT_PAGE_SIZE,
            };
            let events = store.read_stored(&page).await?;
            if events.is_empty() {
                return Ok(None);
            }
            let next = (events.len() as i64 == EXPORT_PAGE_SIZE)
                .then(|| events.last().map(|e| e.seq))
                .flatten();
            Ok(Some((events, next)))
        }
    })
}
