//! The pure shipment model, shared by the server and the browser. No I/O here.

mod shipment;
mod values;

pub use shipment::*;
pub use values::*;
