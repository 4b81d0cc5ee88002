"""Reference solutions: the trusted oracle of every hidden test."""
