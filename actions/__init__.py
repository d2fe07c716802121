"""Custom actions: read the tracker, ask the filing core, render knowledge-base text."""
