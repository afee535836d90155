"""The Dreamer: curation of a spirit's memories while it is idle.

- `decay`: how far each memory has faded (age and use), its tier and its status (pure rules);
- `consolidate`: near-duplicate clusters by embedding similarity and their merged text;
- `run`: a dream session — queue it, run it (one transaction, every change a DreamAction);
- `rollback`: undo a session exactly, or refuse when its memories changed since.
"""
