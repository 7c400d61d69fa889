#![recursion_limit = "256"]

use std::process::ExitCode;

use relais::config::{self, Config};
use relais::startup::Application;
use relais::telemetry;

/// jemalloc instead of the system allocator: a page render makes many small, short-lived
/// allocations on every worker thread, and glibc's malloc took about a third of the profile
/// samples under load (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts: two arenas, one per core of the small machines
/// Relais targets, instead of four per core. On two cores, loads of the benchmark's settings
/// page gave the same throughput and memory either way (about 24 MB idle), so this only bounds
/// the arenas on larger machines.
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: JemallocOptions = JemallocOptions(c"narenas:2".as_ptr());

/// The `const char *` that jemalloc reads.
#[repr(transparent)]
struct JemallocOptions(*const std::ffi::c_char);

// SAFETY: the pointer refers to a string literal, which is never written.
unsafe impl Sync for JemallocOptions {}

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.first().map(String::as_str) {
        None => {}
        Some("--help" | "-h") => {
            print!("{}", config::help_text());
            return ExitCode::SUCCESS;
        }
        Some("keys") => return relais::keys::command::run(&arguments[1..]).await,
        Some(other) => {
            eprintln!("relais: unknown argument {other:?}; run `relais --help` for usage");
            return ExitCode::from(2);
        }
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("relais: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);

    let application = match Application::build(config).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "start-up failed");
            eprintln!("relais: {error:#}");
            return ExitCode::FAILURE;
        }
    };

    tracing::info!(address = %application.address(), "started");
    println!(
        "Relais is running at {}",
        application.public_url().as_str().trim_end_matches('/')
    );

    if let Err(error) = application.run_until_stopped(shutdown_signal()).await {
        tracing::error!(%error, "the server stopped on an error");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};

    let mut terminate = signal(SignalKind::terminate()).expect("installing a SIGTERM handler cannot fail");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("stopping");
}
