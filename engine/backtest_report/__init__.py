"""What a trader reads after a backtest: round trips, the equity curve and its drawdown,
and the figures over them (win rate, profit factor, Sharpe and Sortino on daily returns).

Pure functions over the run's fills, marks and daily P&L; money stays Decimal. The run
(``engine.backtest``) collects the inputs, the console and the CLI render the result.
"""
