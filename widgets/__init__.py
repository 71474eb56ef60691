"""One Textual widget per console panel; they read the engine read model, nothing else."""
