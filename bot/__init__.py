"""ICP filing support assistant: filing core, NLU components and channels."""
