"""Zerodha Kite Connect: session and token, instruments sync, live feed, live execution."""
