"""One module per ``sid`` subcommand (see :mod:`sid.cli`)."""
