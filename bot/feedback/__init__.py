"""How users rate the help they got (satisfaction): reading a rating from what they typed."""
