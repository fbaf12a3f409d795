"""The keytrail command line: one module per command, composed in :mod:`keytrail.cli.main`."""
