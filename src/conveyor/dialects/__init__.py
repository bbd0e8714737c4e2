"""Wire-compatible dialects: thin routers that map other job APIs onto `core` services.

Each dialect has its own status mapping table and error shape; none touches
SQL, and nothing in `core` knows they exist. `create_app` mounts them all.
"""
