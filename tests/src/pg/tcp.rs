//! Throwaway clusters that listen on TCP (127.0.0.1, a free port), for the connection-security
//! tests: [`tls_cluster()`] serves TLS with a certificate for `localhost` from a CA made at start
//! and accepts TCP connections only over TLS (`hostssl`); [`plain_tcp_cluster()`] has no TLS.
//!
//! Each is started at most once per test process, beside (not instead of) the Unix-socket
//! cluster of [`super::cluster()`], and stopped and removed at exit the same way. Both keep a
//! private Unix socket too, which the harness uses for its own work (creating and dropping
//! databases, as superuser with `trust`); TCP connections log in as `postgres` with
//! [`TCP_PASSWORD`] (`scram-sha-256`).

use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, chown};
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use super::server::{
    bin_dir, check_traversable, cluster_dirs, init_data_dir, make_private_dir, server_user,
    start_server, sweep_stale_dirs,
};
use super::{Cluster, Endpoint, SUPERUSER, ServerUser, TestDb, shell_quote};

/// Prefix of these clusters' directories under the temp dir (the pid follows it). Distinct from
/// the Unix-socket cluster's, so neither start sweeps the other's live directories.
const DIR_PREFIX: &str = "e2e-pgtcp-";
/// The password of the `postgres` role for TCP logins.
pub const TCP_PASSWORD: &str = "tcp-secret-e2e";
/// The host name the server certificate is made for (and nothing else: not `127.0.0.1`).
pub const CERT_HOST: &str = "localhost";

/// A throwaway cluster listening on `127.0.0.1`; see the module documentation.
#[derive(Debug)]
pub struct TcpCluster {
    cluster: Cluster,
    /// The CA certificate (PEM) that signed the server certificate, and one of a CA that
    /// signed nothing; `None` without TLS.
    ca_certs: Option<(PathBuf, PathBuf)>,
}

/// The cluster with TLS on (`ssl = on`, a certificate for [`CERT_HOST`] signed by
/// [`TcpCluster::ca_cert`]) whose `pg_hba.conf` admits TCP connections only over TLS:
///
/// ```text
/// local    all all                trust
/// hostssl  all all 127.0.0.1/32   scram-sha-256
/// ```
///
/// # Panics
///
/// If it cannot be started; the message says why and what to do.
pub fn tls_cluster() -> &'static TcpCluster {
    static CLUSTER: OnceLock<Result<TcpCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| TcpCluster::start(true)) {
        Ok(cluster) => cluster,
        Err(msg) => {
            panic!("e2e::pg: could not start a throwaway PostgreSQL cluster with TLS: {msg}")
        }
    }
}

/// The cluster without TLS (`ssl = off`), admitting TCP connections with `host` lines.
///
/// # Panics
///
/// If it cannot be started; the message says why and what to do.
pub fn plain_tcp_cluster() -> &'static TcpCluster {
    static CLUSTER: OnceLock<Result<TcpCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| TcpCluster::start(false)) {
        Ok(cluster) => cluster,
        Err(msg) => {
            panic!("e2e::pg: could not start a throwaway PostgreSQL cluster on TCP: {msg}")
        }
    }
}

impl TcpCluster {
    /// The cluster as [`Cluster`]: Unix-socket access as superuser, [`Cluster::create_database`].
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The TCP port (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.cluster.port()
    }

    /// The PEM file of the CA that signed the server's certificate.
    ///
    /// # Panics
    ///
    /// On the cluster without TLS.
    pub fn ca_cert(&self) -> &Path {
        &self.tls_files().0
    }

    /// The PEM file of a CA that signed nothing: one the server's certificate does not chain to.
    ///
    /// # Panics
    ///
    /// On the cluster without TLS.
    pub fn unrelated_ca_cert(&self) -> &Path {
        &self.tls_files().1
    }

    fn tls_files(&self) -> &(PathBuf, PathBuf) {
        self.ca_certs
            .as_ref()
            .expect("e2e::pg: the plain TCP cluster has no CA certificates")
    }

    /// `postgresql://postgres:<TCP_PASSWORD>@<host>:<port>/<db>?<params>`: a TCP URL for `db`
    /// (which must belong to this cluster). `host` is what TLS checks the certificate against;
    /// give `hostaddr=127.0.0.1` in `params` to connect to `localhost` without a name lookup.
    pub fn url(&self, host: &str, db: &TestDb, params: &str) -> String {
        let mut url = format!(
            "postgresql://{SUPERUSER}:{TCP_PASSWORD}@{host}:{}/{}",
            self.port(),
            db.name()
        );
        if !params.is_empty() {
            url.push('?');
            url.push_str(params);
        }
        url
    }

    /// The URL every `verify-full` test uses: `localhost` (the certificate's name) reached at
    /// `hostaddr=127.0.0.1` without a name lookup, `sslmode=verify-full`, `sslrootcert=ca`, then
    /// `extra` (more `key=value` pairs joined by `&`, or empty).
    pub fn verify_full_url(&self, db: &TestDb, ca: &Path, extra: &str) -> String {
        let mut params = format!(
            "hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
            ca.display()
        );
        if !extra.is_empty() {
            params.push('&');
            params.push_str(extra);
        }
        self.url(CERT_HOST, db, &params)
    }

    fn start(ssl: bool) -> Result<TcpCluster, String> {
        let bin_dir = bin_dir()?;
        let user = server_user()?;
        let tmp = std::env::temp_dir();
        // Once per process, before either TCP cluster exists: directories of this prefix with
        // our pid can only be leftovers of an earlier process that had it.
        static SWEEP: Once = Once::new();
        SWEEP.call_once(|| sweep_stale_dirs(&tmp, DIR_PREFIX, &bin_dir, user.as_ref()));

        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let kind = if ssl { "tls" } else { "plain" };
        let base_dir = tmp.join(format!(
            "{DIR_PREFIX}{}-{kind}-{nanos:08x}",
            std::process::id()
        ));
        make_private_dir(&base_dir, user.as_ref())?;
        if let Some(user) = &user {
            check_traversable(&base_dir, user)?;
        }
        let (data_dir, socket_dir) = cluster_dirs(&base_dir, &bin_dir, user.as_ref())?;

        init_data_dir(&bin_dir, user.as_ref(), &data_dir)?;

        let mut ssl_options = String::new();
        let ca_certs = if ssl {
            let ca_cert = base_dir.join("ca.crt");
            let unrelated = base_dir.join("unrelated-ca.crt");
            write_certificates(&data_dir, &ca_cert, &unrelated, user.as_ref())?;
            ssl_options =
                " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".to_owned();
            Some((ca_cert, unrelated))
        } else {
            None
        };
        let tcp_line = if ssl { "hostssl" } else { "host" };
        let hba = format!(
            "# written by e2e::pg::tcp\nlocal all all trust\n{tcp_line} all all 127.0.0.1/32 scram-sha-256\n"
        );
        fs::write(data_dir.join("pg_hba.conf"), hba)
            .map_err(|e| format!("cannot write pg_hba.conf in {}: {e}", data_dir.display()))?;

        let log_file = data_dir.join("server.log");
        // A free port can be taken by someone else between our probe and the server's bind;
        // try a few.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let endpoint = Endpoint {
                socket_dir: socket_dir.clone(),
                port,
            };
            endpoint.check_socket_path()?;
            let options = format!(
                "-k {} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=50 \
                 -c shared_buffers=32MB{ssl_options}",
                shell_quote(&socket_dir.to_string_lossy())
            );
            match start_server(&bin_dir, user.as_ref(), &data_dir, &log_file, &options) {
                Ok(()) => {
                    let cluster =
                        Cluster::started(bin_dir, data_dir, endpoint, options, &log_file)?;
                    cluster
                        .connect_admin()
                        .batch_execute(&format!("ALTER ROLE {SUPERUSER} PASSWORD '{TCP_PASSWORD}'"))
                        .map_err(|e| format!("cannot set the TCP login password: {e}"))?;
                    return Ok(TcpCluster { cluster, ca_certs });
                }
                Err(e) if e.contains("could not bind") || e.contains("already in use") => {
                    last_error = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free TCP port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free TCP port on 127.0.0.1: {e}"))
}

/// A fresh CA, and a certificate for [`CERT_HOST`] signed by it: `server.crt` and `server.key`
/// (mode 0600, owned by the server user, as PostgreSQL demands) in `data_dir`, and the CA's
/// certificate at `ca_cert` for the clients; and the certificate of another CA at `unrelated`.
fn write_certificates(
    data_dir: &Path,
    ca_cert: &Path,
    unrelated: &Path,
    user: Option<&ServerUser>,
) -> Result<(), String> {
    let fail = |e: rcgen::Error| format!("cannot make the test certificates: {e}");
    let ca = new_ca("e2e test CA").map_err(fail)?;
    let mut params = CertificateParams::new(vec![CERT_HOST.to_owned()]).map_err(fail)?;
    params
        .distinguished_name
        .push(DnType::CommonName, CERT_HOST);
    let key = KeyPair::generate().map_err(fail)?;
    let cert = params.signed_by(&key, &ca).map_err(fail)?;
    write_file(&data_dir.join("server.crt"), &cert.pem(), 0o600, user)?;
    write_file(
        &data_dir.join("server.key"),
        &key.serialize_pem(),
        0o600,
        user,
    )?;
    write_file(ca_cert, &ca.pem(), 0o644, None)?;
    let other = new_ca("e2e unrelated CA").map_err(fail)?;
    write_file(unrelated, &other.pem(), 0o644, None)
}

fn new_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

/// Creates `path` (which must not exist) with `mode`, owned by `user` if given.
fn write_file(
    path: &Path,
    contents: &str,
    mode: u32,
    user: Option<&ServerUser>,
) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(fail)?;
    file.write_all(contents.as_bytes()).map_err(fail)?;
    if let Some(user) = user {
        chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
            format!(
                "cannot chown {} to the {SUPERUSER} user: {e}",
                path.display()
            )
        })?;
    }
    Ok(())
}
