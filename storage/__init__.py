"""Storage adapters: SQLAlchemy repositories, migrations and the read-model cache."""
