# Memories, knowledge, lessons and identity arrive with the memories issue.
