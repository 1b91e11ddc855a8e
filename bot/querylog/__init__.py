"""The query log: what people asked, kept private and turned into content gaps.

``writer.QueryLog`` receives records from the pipeline without blocking it; the rest are
maintainers' reports over the same SQLite file (plain SQL, readable by sqlite3 or
datasette).
"""
