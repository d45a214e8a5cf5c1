//! A server crash on demand, for the runner's crash-safety tests.

use super::{Cluster, server_user, start_server, stop_server};

impl Cluster {
    /// Stops the server the way a crash does (`pg_ctl stop -m immediate`: every backend killed,
    /// no checkpoint) and starts it again, which runs crash recovery; returns once it accepts
    /// connections. Every database of this process's cluster goes through it, so a test binary
    /// that calls this must hold no other test that could run meanwhile.
    ///
    /// # Panics
    ///
    /// If the server cannot be started again (the message carries the server log's tail).
    pub fn crash_and_restart(&self) {
        let user = server_user().unwrap_or_else(|e| panic!("e2e::pg: {e}"));
        stop_server(&self.bin_dir, &self.data_dir, user.as_ref(), true);
        let log_file = self.data_dir.join("server.log");
        start_server(
            &self.bin_dir,
            user.as_ref(),
            &self.data_dir,
            &log_file,
            &self.options,
        )
        .and_then(|()| self.wait_ready(&log_file))
        .unwrap_or_else(|e| panic!("e2e::pg: cannot start the server again after a crash: {e}"));
    }
}
