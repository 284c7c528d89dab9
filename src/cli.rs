//! The command line: `-c FILE` runs the gateway, `-t -c FILE` checks a configuration, `demo` runs
//! the embedded default in front of a simulated StoreFront store, `token` mints an HS256 test token
//! for a legacy-farm store that verifies JWTs.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pingora::server::configuration::Opt;

use crate::{config, demo, identity, server};

/// A gateway for the Citrix StoreFront Sessions Service.
#[derive(Debug, Parser)]
#[command(name = "sessiongate", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (YAML).
    #[arg(short = 'c', long = "conf", value_name = "FILE")]
    pub conf: Option<String>,
    /// Check the configuration and exit: 0 when valid, 1 with every problem listed otherwise.
    #[arg(short = 't', long = "test")]
    pub test: bool,
    /// Take over the listening sockets of a running instance (zero-downtime upgrade: start the
    /// new process with -u, then send SIGQUIT to the old one).
    #[arg(short = 'u', long = "upgrade")]
    pub upgrade: bool,
    /// Run in the background.
    #[arg(short = 'd', long = "daemon")]
    pub daemon: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway on its embedded default in front of a simulated StoreFront store, and
    /// print commands to try.
    Demo(DemoArgs),
    /// Print an HS256 CitrixAuth token for a user, signed with a shared secret file (for tests and
    /// demos of a store whose identity source is an HS256 JWT).
    Token(TokenArgs),
}

/// What the minted token says.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// HS256 secret file (at least 32 bytes; trailing whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub key: std::path::PathBuf,
    /// User name, e.g. 'CORP\alice' (the `sub` claim).
    #[arg(long)]
    pub user: String,
    /// Audience (the `aud` claim).
    #[arg(long)]
    pub audience: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
    /// Group SID (`S-1-...`); repeat for several.
    #[arg(long = "sid", value_name = "SID")]
    pub sids: Vec<String>,
}

/// Addresses of the demo.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Client-facing listener of the gateway.
    #[arg(long, default_value = demo::DEFAULT_LISTEN)]
    pub listen: String,
    /// Admin listener (/metrics, /healthz, /readyz, /canary).
    #[arg(long, default_value = demo::DEFAULT_ADMIN_LISTEN)]
    pub admin_listen: String,
    /// Listener of the simulated StoreFront server.
    #[arg(long, default_value = demo::DEFAULT_STOREFRONT_LISTEN)]
    pub storefront_listen: String,
    /// Listener of the second simulated StoreFront server, the canary of the demo store.
    #[arg(long, default_value = demo::DEFAULT_CANARY_LISTEN)]
    pub canary_listen: String,
    /// Listener of the first simulated legacy farm (XA65, pre-XenDesktop 7).
    #[arg(long, default_value = demo::DEFAULT_FARM1_LISTEN)]
    pub farm1_listen: String,
    /// Listener of the second simulated legacy farm (XD7).
    #[arg(long, default_value = demo::DEFAULT_FARM2_LISTEN)]
    pub farm2_listen: String,
    /// Listener of the XML relay in front of the first farm.
    #[arg(long, default_value = demo::DEFAULT_RELAY_LISTEN)]
    pub relay_listen: String,
}

impl From<DemoArgs> for demo::Addresses {
    fn from(a: DemoArgs) -> demo::Addresses {
        demo::Addresses {
            listen: a.listen,
            admin_listen: a.admin_listen,
            storefront_listen: a.storefront_listen,
            canary_listen: a.canary_listen,
            farm1_listen: a.farm1_listen,
            farm2_listen: a.farm2_listen,
            relay_listen: a.relay_listen,
        }
    }
}

fn token(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    // The same name rules as the verifier's, with any domain allowed for names that carry none.
    if identity::map_user(&args.user, Some("D")).is_none() {
        anyhow::bail!(
            "--user '{}' is not a usable user name (DOMAIN\\user, user@suffix or user)",
            args.user
        );
    }
    if let Some(bad) = args.sids.iter().find(|s| !identity::check_sid(s)) {
        anyhow::bail!("--sid {bad:?} is not a SID (S-1-...)");
    }
    let secret = identity::read_secret(&args.key)?;
    let token = identity::mint_hs256(
        &secret,
        &args.user,
        args.audience.as_deref(),
        std::time::Duration::from_secs(args.ttl),
        &args.sids,
    )?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Demo(args)) => {
            demo::run(&args.into())?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Token(args)) => return token(&args),
        None => {}
    }
    let Some(path) = cli.conf else {
        anyhow::bail!(
            "no configuration given: run `sessiongate -c FILE`, or `sessiongate demo` to try it"
        );
    };
    if cli.test {
        return Ok(match check(&path) {
            Ok(c) => {
                println!(
                    "sessiongate: {path}: configuration is valid ({} store(s))",
                    c.stores.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sessiongate: {e}");
                ExitCode::FAILURE
            }
        });
    }
    let (config, hash) = server::reload::read(std::path::Path::new(&path))?;
    if !cli.upgrade {
        // An upgrade takes the ports over from the running process, which still holds them.
        server::ports::check(&config)?;
    }
    server::ports::exit_on_lost_listener();
    let opt = Opt {
        upgrade: cli.upgrade,
        daemon: cli.daemon,
        ..Default::default()
    };
    let source = server::Source {
        path: path.clone().into(),
        hash,
    };
    let server = server::build_from(&config, Some(opt), Some(source)).map_err(
        |server::ServerError::Config(issues)| config::ConfigError::Invalid {
            origin: path.clone(),
            issues,
        },
    )?;
    tracing::info!(
        stores = config.stores.len(),
        hash = %hash.short(),
        "sessiongate starting"
    );
    server.run_forever()
}

/// `-t`: the file's own rules, then everything wiring needs from the outside world (names
/// resolved, key files read, verifiers built), each problem with its key.
fn check(path: &str) -> Result<config::Config, config::ConfigError> {
    let config = config::load(path)?;
    let mut issues = server::prepare(&config).err().unwrap_or_default();
    issues.extend(server::admin_access(&config).err().unwrap_or_default());
    if !issues.is_empty() {
        return Err(config::ConfigError::Invalid {
            origin: path.to_string(),
            issues,
        });
    }
    Ok(config)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    crate::logging::init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sessiongate: {e:#}");
            ExitCode::FAILURE
        }
    }
}
