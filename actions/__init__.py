"""Custom actions: read the tracker, ask the filing core, render knowledge-base text."""
from bot.privacy import install_log_masking

# The action server has configured its logging by the time it imports this package.
install_log_masking()
