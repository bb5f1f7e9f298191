"""kfx tests (a regular package: IPython ships a top-level `tests` package on sys.path)."""
