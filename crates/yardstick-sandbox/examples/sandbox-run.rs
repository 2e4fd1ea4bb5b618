//! Run a Python file in the sandbox and print the execution record as JSON:
//! `cargo run -p yardstick-sandbox --example sandbox-run -- FILE [REPEATS] [WALL_SECONDS]`.

use std::time::Duration;

use yardstick_sandbox::{Limits, Program, Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: sandbox-run FILE [REPEATS] [WALL_SECONDS]")?;
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let wall: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let source = std::fs::read_to_string(&file)?;
    let sandbox = Sandbox::new(SandboxConfig::default()).await?;
    eprintln!("{}", sandbox.isolation().describe());
    let limits = Limits {
        wall: Duration::from_secs(wall),
        ..Limits::default()
    };
    for _ in 0..repeats {
        let e = sandbox
            .run(&Program::python(source.clone()), &limits)
            .await?;
        println!("{}", serde_json::to_string(&e)?);
    }
    Ok(())
}
