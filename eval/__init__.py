"""`make eval`: a graded relevance set and the runner that scores each engine on it."""
