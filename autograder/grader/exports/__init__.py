"""Exports to other platforms: a Gradescope autograder zip and a Canvas gradebook CSV."""
