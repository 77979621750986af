"""The `gatepass` command line (Typer + Rich)."""
