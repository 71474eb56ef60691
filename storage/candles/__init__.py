"""Kite candle history on disk, beside the tick store: one Parquet file per series.

A series is one instrument at one interval (continuous futures data apart):
``<root>/<interval>/<EXCHANGE>/<TRADINGSYMBOL>[+continuous].parquet``, with the chunks
fetched completely recorded next to it (``.chunks.json``) so a fetch can resume. Both are
replaced atomically (temporary file, fsync, rename), the data first: a crash between the
two only makes the next run fetch that chunk again, and its days are replaced, never
doubled. Prices are int64 in 1/10,000 rupee as in the tick store.
"""
