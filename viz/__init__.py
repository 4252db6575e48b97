"""Pictures of what happens inside a network (filled in by later work)."""
