"""The path-integration task: random walks in a box and the supervised target codes of their positions."""
