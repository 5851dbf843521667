"""Lambda handlers: thin wrappers that parse, call the core in `shared`, and deliver."""
