"""The `m3` command line."""
