//! Waiting for SIGTERM or SIGINT (Ctrl-C).

use std::future::Future;

/// Starts watching SIGTERM and SIGINT now, and returns a future that resolves on the
/// first of them.
///
/// The handlers are installed when this function is called, not when the future is
/// first polled: call it before announcing readiness (printing the address, telling
/// systemd), so that a SIGTERM sent right after readiness stops the server cleanly
/// (final checkpoint, drained batches) instead of killing it with the default action.
/// Must be called inside a tokio runtime.
pub fn signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(
                        "cannot listen for SIGTERM and SIGINT ({e}); only Ctrl-C stops the server"
                    );
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
