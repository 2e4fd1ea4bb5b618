use yardstick_sandbox::{Sandbox, SandboxConfig, SandboxError};

/// A real sandbox (bubblewrap), or None after saying why the test skips (CI installs bubblewrap, so there
/// the test fails instead).
pub async fn sandbox(workers: usize) -> Option<Sandbox> {
    let config = SandboxConfig {
        workers,
        ..SandboxConfig::default()
    };
    match Sandbox::new(config).await {
        Ok(s) => Some(s),
        Err(e @ SandboxError::Unavailable { .. }) => {
            yardstick_testkit::skip_or_fail(&format!("no sandbox here: {e}"));
            None
        }
        Err(e) => panic!("sandbox set-up failed: {e}"),
    }
}
