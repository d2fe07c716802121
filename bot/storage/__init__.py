"""Infrastructure of the databases: engines and session factories, the schema by migrations."""
