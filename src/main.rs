//! Parses the command line, sets up telemetry, and runs the chosen subcommand.

use std::process::ExitCode;

use clap::Parser;
use neighborhood_text::config::{
    AdminCommand, AdminCreate, Cli, Command, EmulatorSettings, Settings,
};
use neighborhood_text::startup::{App, EmulatorApp};
use neighborhood_text::{api, telemetry};

/// mimalloc rather than glibc's allocator: under load glibc's malloc and free took a fifth of the
/// service's CPU on the webhook paths (perf, BENCHMARKS.md). Built without transparent huge
/// pages (`no_thp`): with them its arenas made the idle process 10 MB bigger.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before anything touches TLS: redis-rs takes the process default provider.
    if rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("warning: a rustls crypto provider was already installed");
    }
    let cli = Cli::parse();
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(cli.settings)))
    {
        Command::Openapi => {
            print!("{}", api::spec_json());
            ExitCode::SUCCESS
        }
        Command::Serve(settings) => serve(*settings),
        Command::TwilioEmulator(settings) => run_emulator(*settings),
        Command::Admin(AdminCommand::Create(args)) => create_admin(*args),
    }
}

fn create_admin(args: AdminCreate) -> ExitCode {
    let phone = match neighborhood_text::domain::phone::Phone::parse(&args.phone) {
        Ok(phone) => phone,
        Err(error) => {
            eprintln!("error: --phone: {error}");
            return ExitCode::from(2);
        }
    };
    if args.name.trim().is_empty() {
        eprintln!("error: --name must not be empty");
        return ExitCode::from(2);
    }
    run(async move {
        let endpoint = args
            .redis_reach
            .endpoint(&args.redis_url)
            .map_err(anyhow::Error::msg)?;
        let store = neighborhood_text::store::Store::connect(
            &endpoint,
            &args.key_prefix(),
            std::time::Duration::from_secs(5),
        )?;
        store.ping().await.map_err(|error| {
            anyhow::anyhow!(
                "Redis at {} is unreachable: {error}",
                args.redis_url.redacted()
            )
        })?;
        let outcome = neighborhood_text::admin::create_platform_admin(
            &store,
            phone.clone(),
            args.name.trim(),
        )
        .await?;
        if outcome.created {
            println!("Platform admin {phone} ({}) created.", args.name.trim());
        } else {
            println!("{phone} is already a platform admin; it is unchanged.");
        }
        println!("New platform API token (shown once; store it now):");
        println!("{}", outcome.secret);
        println!(
            "Use it as `Authorization: Bearer <token>`, or sign in at the admin app with a code texted to {phone}."
        );
        anyhow::Ok(())
    })
}

fn run_emulator(settings: EmulatorSettings) -> ExitCode {
    telemetry::init_logging(&settings.log, settings.log_format.is_json());
    run(async {
        let app = EmulatorApp::build(settings).await?;
        app.run_until_stopped(shutdown_signal()).await?;
        anyhow::Ok(())
    })
}

/// Runs `main_task` on a fresh runtime and turns its outcome into the exit code.
fn run(main_task: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "could not start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    run_on(&runtime, main_task)
}

/// Runs `main_task` on `runtime` and turns its outcome into the exit code.
fn run_on(
    runtime: &tokio::runtime::Runtime,
    main_task: impl std::future::Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    match runtime.block_on(main_task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> ExitCode {
    // Cross-field checks before anything starts, worded like clap's own errors.
    if let Err(error) = settings.twilio_mode() {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let traces = telemetry::init(
        &settings.log,
        settings.log_format.is_json(),
        settings
            .otlp_endpoint
            .as_ref()
            .map(|endpoint| (endpoint, runtime.handle().clone())),
    );
    let exit = run_on(&runtime, async {
        let app = App::build(settings).await?;
        app.run_until_stopped(shutdown_signal()).await?;
        anyhow::Ok(())
    });
    // The last spans (the shutdown's own) go out while the runtime still runs their requests.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    exit
}

/// Resolves on Ctrl-C or SIGTERM (what Fly, Docker and systemd send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received; finishing in-flight requests"),
    }
}
