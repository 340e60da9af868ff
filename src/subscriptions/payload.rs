//! The JSON document a delivery posts. It is written once, when the delivery enters the outbox,
//! so every retry sends the same bytes.

use super::TEST_EVENT_TYPE;
use crate::domain::Shipment;
use crate::store::RecordedEvent;
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

/// Larger documents drop the event data (flagged `data_truncated`) rather than fail.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn event_document(
    delivery_id: Uuid,
    subscription: &str,
    event: &RecordedEvent,
    shipment: Option<&Shipment>,
) -> String {
    let mut document = json!({
        "delivery_id": delivery_id,
        "subscription": subscription,
        "test": false,
        "event": {
            "id": event.id,
            "type": event.event_type,
            "stream_id": event.stream_id,
            "version": event.version,
            "position": event.position.seq,
            "recorded_at": event.recorded_at,
            "actor": event.metadata.actor,
            "data": event.data,
        },
        "shipment": shipment,
    });
    let body = document.to_string();
    if body.len() <= MAX_BODY_BYTES {
        return body;
    }
    document["event"]["data"] = Value::Null;
    document["event"]["data_truncated"] = Value::Bool(true);
    document.to_string()
}

/// What "Send test event" delivers: the same shape, marked as a test, with no shipment.
pub fn test_document(delivery_id: Uuid, subscription: &str, actor: &str) -> String {
    json!({
        "delivery_id": delivery_id,
        "subscription": subscription,
        "test": true,
        "event": {
            "id": Uuid::new_v4(),
            "type": TEST_EVENT_TYPE,
            "stream_id": Uuid::nil(),
            "version": 0,
            "position": 0,
            "recorded_at": Utc::now(),
            "actor": actor,
            "data": { "message": "A test delivery from freightdesk" },
        },
        "shipment": null,
    })
    .to_string()
}
