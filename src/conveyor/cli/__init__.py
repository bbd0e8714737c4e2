"""The `conveyor` command line (Typer + Rich); `conveyor.cli.main:main` is the console script."""
