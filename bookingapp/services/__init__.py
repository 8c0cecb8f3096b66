"""Use cases: queries and transactions, one verb-first function each, called alike by the
pages, the API, the CLI and the background work. Imports core, models and extensions."""
