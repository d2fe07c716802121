"""Custom Rasa NLU components and their framework-free rules."""
