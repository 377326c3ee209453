"""Papers: the store, sources, merging across them, signals and ranking."""
