//! Local JWT verification with exactly one configured algorithm.
//!
//! `jsonwebtoken` refuses a header whose `alg` is not the configured one (so `none`, and an
//! HS256 token signed with an RSA public key's bytes, are refused) and a key of another family.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::claims::Mapping;
use super::{read_key_file, read_secret, Identity, IdentityError, JwtAlgorithm, JwtConfig};
use super::{SetupError, MAX_LEEWAY};

pub(crate) struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    mapping: Mapping,
}

fn public_key(config: &JwtConfig) -> Result<DecodingKey, SetupError> {
    let path = &config.key_file;
    if config.algorithm == JwtAlgorithm::Hs256 {
        return Ok(DecodingKey::from_secret(&read_secret(path)?));
    }
    let pem = read_key_file(path)?;
    // A private key would parse but verify nothing; say so instead of refusing every token.
    if pem.windows(11).any(|w| w == b"PRIVATE KEY") {
        return Err(SetupError::PrivateKey { path: path.clone() });
    }
    let (key, what) = match config.algorithm {
        JwtAlgorithm::Rs256 => (DecodingKey::from_rsa_pem(&pem), "RSA"),
        JwtAlgorithm::Es256 | JwtAlgorithm::Hs256 => (DecodingKey::from_ec_pem(&pem), "EC"),
    };
    key.map_err(|_| SetupError::BadKey {
        path: path.clone(),
        what,
    })
}

impl JwtVerifier {
    pub(crate) fn new(config: &JwtConfig, mapping: Mapping) -> Result<JwtVerifier, SetupError> {
        if config.leeway > MAX_LEEWAY {
            return Err(SetupError::Leeway);
        }
        let algorithm = match config.algorithm {
            JwtAlgorithm::Hs256 => Algorithm::HS256,
            JwtAlgorithm::Rs256 => Algorithm::RS256,
            JwtAlgorithm::Es256 => Algorithm::ES256,
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if config.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&config.audience);
            required.push("aud");
        }
        if let Some(iss) = &config.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(JwtVerifier {
            key: public_key(config)?,
            validation,
            mapping,
        })
    }

    pub(crate) fn verify(&self, token: &str) -> Result<Identity, IdentityError> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => IdentityError::Expired,
            _ => IdentityError::Invalid,
        })?;
        self.mapping.identity(&data.claims)
    }
}
