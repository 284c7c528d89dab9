//! Simulators: real HTTP servers with state that stand in for the servers behind the gateway,
//! used by `sessiongate demo` and the integration tests.
//!
//! - [`storefront`]: a Citrix StoreFront 3.x store (Sessions Service, endpoints, a CitrixAuth
//!   protected resource, a redirect), with test controls and fault injection.
//! - [`farm`]: a legacy XenApp/XenDesktop farm's XML service (NFuse protocol), with the same
//!   kind of controls.

pub mod farm;
pub mod storefront;
