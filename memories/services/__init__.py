"""Every write to memories, knowledge, lessons and identity goes through these services.

Each validates, writes and logs exactly one audit entry with its actor and reason.
"""
