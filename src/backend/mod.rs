//! Backends: the I/O side of talking to the servers behind a store, and the work the gateway
//! does on their answers (StoreFront answers rewritten, farm answers merged into Store API
//! documents).

pub mod exchange;
pub mod farm;
pub mod pool;
pub mod storefront;
pub mod trust;

pub use pool::Pool;
