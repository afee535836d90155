"""The memory map: a spirit's memories and knowledge as points in two dimensions.

`projection` turns embeddings into 2D coordinates (PCA, numpy); `points` reads the spirit's
items, their embeddings and the relations between them (merges, supersedes, contradictions) in
a fixed number of bounded queries, and shapes what the admin's map page draws
(memories.admin.console.memory_map).
"""
