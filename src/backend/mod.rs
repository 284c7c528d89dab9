//! Backends: the I/O side of talking to the servers behind a store.

pub mod exchange;
pub mod farm;
pub mod storefront;
