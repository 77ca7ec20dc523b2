//! Development automation: `cargo xtask load` measures the whole service provider under load; `cargo xtask cycle`
//! measures the provisioning engine's cycles into it; `cargo xtask admin` measures the admin API; `cargo xtask portal` measures the portal's pages.

mod admin;
mod cycle;
mod database;
mod events;
mod load;
mod portal;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start `roster serve` on a fresh database, seed users over HTTP and measure throughput and memory.
    Load(load::LoadArgs),
    /// Generate a directory, provision it into a `roster serve` with `roster sync`, and time the cycles.
    Cycle(cycle::CycleArgs),
    /// Measure the admin API: user pages, lookups and job status over a large directory.
    Admin(admin::AdminArgs),
    /// Measure the portal: every page's server time over a large directory and its provisioning logs.
    Portal(portal::PortalArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Load(args) => runtime.block_on(load::run(args)),
        Command::Cycle(args) => runtime.block_on(cycle::run(args)),
        Command::Admin(args) => runtime.block_on(admin::run(args)),
        Command::Portal(args) => runtime.block_on(portal::run(args)),
    }
}
