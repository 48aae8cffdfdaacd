//! cargo xtask: project automation (ci, bench).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("usage: cargo xtask bench protocol")
}
