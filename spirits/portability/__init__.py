"""A spirit as one portable JSON document: export (streamed), validation, import (one transaction).

- `format`: the format's name and version, its sections in order and each section's fields;
- `export`: `export_chunks(spirit=...)`, a generator of the document's text, reading rows in
  chunks through server-side cursors inside one snapshot, so memory stays flat;
- `validation`: `validate_document(doc)`, every problem of a document collected by path;
- `importer`: `spirit_import(document=..., team=..., actor=...)`, a new spirit from a document,
  every id remapped, in one transaction.

The API (spirits.api.portability), the commands (exportspirit, importspirit) and the admin's
"Export as JSON" action call these. The format is described in docs/portability.md.
"""
