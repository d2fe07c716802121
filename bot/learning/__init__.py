"""The learning loop: not-understood messages grouped for review, agents' labels, the export to NLU data."""
