"""The tick store: every tick the engine sees, one directory per IST trading day.

Why two formats. A live segment is an Arrow IPC *stream*, appended one record batch per
flush and fsynced: each flush is whole on disk before the next begins, so a SIGKILL
loses at most the ticks since the last flush and the reader stops cleanly at a torn
tail. Parquet cannot be appended to and is unreadable without its footer, so it is only
the *sealed* form: on rotation, clean shutdown or recovery at the next start a segment is
rewritten as zstd Parquet (about a fifth of the stream's size, column statistics for
skipping) through a temporary file, fsync and an atomic rename. Both load straight into
Arrow columns, so replays and backtests never parse text per row.
"""
