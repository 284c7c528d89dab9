//! Health check of a farm's XML brokers with a real NFuse request (`RequestServerFarmData`, which
//! needs no credentials): a broker whose port accepts connections but whose XML service is
//! stopped, or which answers for another farm's IIS, fails it; a plain TCP check would not see
//! that.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use pingora::lb::health_check::HealthCheck;
use pingora::lb::Backend;
use pingora::{Error, ErrorType, Result};

use super::client::{request_header, target};
use crate::backend::exchange::{HttpClient, Replay};
use crate::backend::trust::Trust;
use crate::config::Farm;
use crate::protocol::nfuse::{self, Request, Response};

/// The check of one farm's brokers.
pub struct NfuseHealthCheck {
    farm: Arc<Farm>,
    trust: Option<Trust>,
    http: HttpClient,
    body: Bytes,
}

impl NfuseHealthCheck {
    pub fn new(farm: Arc<Farm>, trust: Option<Trust>) -> Result<NfuseHealthCheck> {
        let body = Request::ServerFarmData
            .to_xml()
            .map_err(|e| Error::explain(ErrorType::InternalError, e.to_string()))?;
        Ok(NfuseHealthCheck {
            farm,
            trust,
            http: HttpClient::default(),
            body: Bytes::from(body),
        })
    }
}

#[async_trait]
impl HealthCheck for NfuseHealthCheck {
    async fn check(&self, backend: &Backend) -> Result<()> {
        let fail = |why: String| Error::explain(ErrorType::Custom("nfuse health check"), why);
        let addr = *backend
            .addr
            .as_inet()
            .ok_or_else(|| fail("not an inet address".into()))?;
        let header = request_header(self.body.len()).map_err(|e| fail(e.to_string()))?;
        let ex = self
            .http
            .exchange(
                &target(&self.farm, self.trust.as_ref()),
                addr,
                &header,
                &self.body,
                // A probe that met a connection the broker had just closed is not a failure.
                Replay::IfStale,
            )
            .await
            .map_err(|e| fail(format!("{e:?}")))?;
        if ex.header.status.as_u16() != 200 {
            return Err(fail(format!("HTTP {}", ex.header.status.as_u16())));
        }
        match nfuse::parse_response(&ex.body, nfuse::RequestKind::ServerFarmData) {
            Ok(Response::FarmName(_)) => Ok(()),
            Ok(_) => Err(fail("unexpected answer".into())),
            Err(e) => Err(fail(e.to_string())),
        }
    }

    async fn health_status_change(&self, backend: &Backend, healthy: bool) {
        tracing::warn!(farm = %self.farm.name, broker = ?backend.addr, healthy, "XML broker health changed");
    }

    fn health_threshold(&self, _success: bool) -> usize {
        1
    }
}
