"""Key management: the start-up key check, rotation and status (`flask keys ...`)."""
