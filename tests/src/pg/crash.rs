//! Taking the server away and back on demand, for the tests of what clients do meanwhile (the
//! runner's crash safety, the service's health check). Every database of this process's cluster
//! goes through it, so a test binary that calls these must hold no other test that could run
//! meanwhile.

use super::Cluster;
use super::server::{server_user, start_server, stop_server};

impl Cluster {
    /// Stops the server the way a crash does (`pg_ctl stop -m immediate`: every backend killed,
    /// no checkpoint).
    ///
    /// # Panics
    ///
    /// If the server's OS user cannot be determined.
    pub fn stop_immediately(&self) {
        let user = server_user().unwrap_or_else(|e| panic!("e2e::pg: {e}"));
        stop_server(&self.bin_dir, &self.data_dir, user.as_ref(), true);
    }

    /// Starts the stopped server again (running crash recovery if it crashed) and returns once
    /// it accepts connections.
    ///
    /// # Panics
    ///
    /// If it does not start (the message carries the server log's tail).
    pub fn start_again(&self) {
        let user = server_user().unwrap_or_else(|e| panic!("e2e::pg: {e}"));
        let log_file = self.data_dir.join("server.log");
        start_server(
            &self.bin_dir,
            user.as_ref(),
            &self.data_dir,
            &log_file,
            &self.options,
        )
        .and_then(|()| self.wait_ready(&log_file))
        .unwrap_or_else(|e| panic!("e2e::pg: cannot start the server again: {e}"));
    }

    /// [`Cluster::stop_immediately`], then [`Cluster::start_again`].
    pub fn crash_and_restart(&self) {
        self.stop_immediately();
        self.start_again();
    }
}
