"""Market structure: trading calendar and hours, feeds."""
