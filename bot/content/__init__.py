"""What the assistant says: the knowledge base (data/knowledge/*.yml) loaded and rendered."""
